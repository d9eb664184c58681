"""Generate a Hera-like dual-polarization SigMF recording with exact ground truth.

Chain (see :mod:`heradecode.sim.channel` for the signal model and
:mod:`heradecode.sim.cadu` for the coding): frames → FECF → turbo rate 1/4 →
randomizer → ASM → bi-phase-L → residual-carrier PM → Doppler, offsets, clock
error → dual linear polarization → white noise at a target Eb/N0 → fades →
quantized SigMF.

Eb/N0 is defined per information bit for an ideal coherent receiver that
combines X and Y by maximal-ratio combining:  Eb = P_data / R_b with
P_data = A²·sin²(m) the data power summed over both polarizations (A the
signal amplitude, fades excluded) and R_b = symbol_rate × 8920/35696 (the
ASM carries no information); N0 is the (equal) one-sided noise density of
each of X and Y, so each channel's complex noise has variance N0 × samp_rate.

Generation streams in chunks: memory does not grow with the recording length.
The output depends only on the parameters (not on the chunk size).
"""

from __future__ import annotations

import json
import math
import os
import warnings
from collections import OrderedDict
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from heradecode.ccsds.mission import HERA
from heradecode.dsp.decimate import Decimator
from heradecode.errors import UserError
from heradecode.fec.crc import crc16
from heradecode.io import sigmf_read
from heradecode.io import sigmf_write
from heradecode.io.recording import RECEIVER_OFFSET_KEY, format_utc, parse_utc, unix_seconds
from heradecode.sim.cadu import CADU_SYMBOLS, CODEBLOCK_SYMBOLS, INFO_BITS_PER_SYMBOL, TURBO_K, cadu_bits
from heradecode.sim.channel import doppler_at, doppler_integral, doppler_knots, synth_chunk
from heradecode.sim.params import SimParams
from heradecode.sim.tmgen import generate_frames

TRUTH_FORMAT = "heradecode-sim-truth"
TRUTH_VERSION = 1
TRUTH_EXT = ".truth.json"
DEFAULT_CHUNK = 1 << 18
_MARGIN = 64  # extra random symbols around the stream for chunk-edge look-ups
_FULL_SCALE = {"ci8": (128.0, -128.0, 127.0, np.int8), "ci16_le": (32768.0, -32768.0, 32767.0, np.dtype("<i2")),
               "cf32_le": (1.0, 0.0, 0.0, np.dtype("<f4"))}
CODEBLOCK_DTYPE = np.dtype(
    [
        ("index", np.int64),  # CADU number in the recording
        ("source_frame", np.int64),  # row of the frame in the frame source
        ("start_sample", np.int64),  # sample nearest to the first chip of the ASM
        ("num_samples", np.int64),  # samples until the next CADU starts
        ("sample_position", np.float64),  # exact (fractional) sample position of the ASM's first chip edge
        ("crc16", np.uint16),  # CRC-16 of the 1113 frame octets (= the FECF sent)
    ]
)


# --------------------------------------------------------------------------- truth
@dataclass
class SimTruth:
    """What a simulated recording contains: resolved parameters, levels, and every complete codeblock."""

    params: SimParams
    num_samples: int
    amplitude_fs: float
    """Signal amplitude A (full-scale units): |X|² + |Y|² = A² without fades."""
    noise_std_fs: float
    """Noise standard deviation of each real component of each channel (full-scale units); 0 if noiseless."""
    n0_fs2_per_hz: float
    """One-sided noise density N0 of each channel (full-scale² / Hz)."""
    info_bit_rate: float
    """R_b = symbol_rate × 8920/35696 (bit/s)."""
    esn0_db: float | None
    """Es/N0 per coded symbol (dB), data power only."""
    cn0_dbhz: float | None
    """Residual carrier power over N0 (dB-Hz), both polarizations combined."""
    lead_in_symbols: int
    tail_symbols: int
    clipped_components: int
    codeblocks: np.ndarray = field(repr=False)
    data_paths: tuple[str, ...] = ()
    meta_paths: tuple[str, ...] = ()
    truth_path: str | None = None

    @property
    def num_codeblocks(self) -> int:
        """Complete codeblocks in the recording."""
        return int(self.codeblocks.size)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict of the sidecar."""
        cb = self.codeblocks
        return {
            "format": TRUTH_FORMAT,
            "version": TRUTH_VERSION,
            "params": self.params.to_dict(),
            "derived": {
                "num_samples": self.num_samples,
                "amplitude_fs": self.amplitude_fs,
                "noise_std_fs": self.noise_std_fs,
                "n0_fs2_per_hz": self.n0_fs2_per_hz,
                "info_bit_rate": self.info_bit_rate,
                "esn0_db": self.esn0_db,
                "cn0_dbhz": self.cn0_dbhz,
                "lead_in_symbols": self.lead_in_symbols,
                "tail_symbols": self.tail_symbols,
                "clipped_components": self.clipped_components,
                "carrier_power_fraction": math.cos(self.params.mod_index_rad) ** 2,
                "start_time": format_utc(parse_utc(self.params.start_time)),
            },
            "files": {"data": list(self.data_paths), "meta": list(self.meta_paths)},
            "codeblock_columns": list(CODEBLOCK_DTYPE.names),
            "codeblocks": [
                [int(r["index"]), int(r["source_frame"]), int(r["start_sample"]), int(r["num_samples"]),
                 float(r["sample_position"]), int(r["crc16"])]
                for r in cb
            ],
        }


def read_truth(path: str | Path) -> SimTruth:
    """Load a ``.truth.json`` sidecar (or the one a simulated recording names); frames_path is made absolute."""
    path = Path(path)
    if not path.name.endswith(TRUTH_EXT):  # a recording: its metadata names the sidecar
        meta = sigmf_read.meta_path_of(path)
        try:
            name = json.loads(meta.read_text(encoding="utf-8"))["global"]["heradecode:truth"]
        except (OSError, ValueError, KeyError, TypeError):
            base = sigmf_read.strip_sigmf_ext(path)
            name = base.name + TRUTH_EXT
        path = path.with_name(str(name))
    try:
        d = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserError(f"truth sidecar not found: {path}") from None
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}: not valid JSON ({exc})") from None
    if d.get("format") != TRUTH_FORMAT:
        raise UserError(f"{path}: not a heradecode simulation truth file")
    params = SimParams.from_dict(d["params"])
    if params.frames_path and not Path(params.frames_path).is_absolute():
        params.frames_path = str((path.parent / params.frames_path).resolve())
    der = d["derived"]
    rows = [tuple(r) for r in d["codeblocks"]]
    cb = np.array(rows, dtype=CODEBLOCK_DTYPE) if rows else np.zeros(0, CODEBLOCK_DTYPE)
    base = path.parent
    return SimTruth(
        params=params,
        num_samples=int(der["num_samples"]),
        amplitude_fs=float(der["amplitude_fs"]),
        noise_std_fs=float(der["noise_std_fs"]),
        n0_fs2_per_hz=float(der["n0_fs2_per_hz"]),
        info_bit_rate=float(der["info_bit_rate"]),
        esn0_db=der["esn0_db"],
        cn0_dbhz=der["cn0_dbhz"],
        lead_in_symbols=int(der["lead_in_symbols"]),
        tail_symbols=int(der["tail_symbols"]),
        clipped_components=int(der["clipped_components"]),
        codeblocks=cb,
        data_paths=tuple(str(base / p) for p in d["files"]["data"]),
        meta_paths=tuple(str(base / p) for p in d["files"]["meta"]),
        truth_path=str(path),
    )


# --------------------------------------------------------------------------- plan
class _Plan:
    """Every quantity resolved from the parameters before any sample is made."""

    def __init__(self, params: SimParams, base_dir: Path | None = None) -> None:
        p = SimParams.from_dict(params.to_dict())  # private copy
        p.validate()
        seeds = np.random.SeedSequence(int(p.seed)).spawn(4)
        rng_phase = np.random.default_rng(seeds[0])
        self._rng_bits = np.random.default_rng(seeds[1])
        self.noise_seed = seeds[2]
        frame_seed = int(np.random.default_rng(seeds[3]).integers(0, 2**63))
        phase = float(rng_phase.uniform(0.0, 2.0 * math.pi))
        timing = float(rng_phase.uniform(0.0, 1.0))
        if p.carrier_phase_rad is None:
            p.carrier_phase_rad = phase
        if p.timing_offset_sym is None:
            p.timing_offset_sym = timing

        self.fs = float(p.samp_rate)
        self.rate = p.symbol_rate * (1.0 + p.clock_offset_ppm * 1e-6)
        self.inv_fc = 1.0 / p.downlink_freq_hz
        self.lead = int(round(p.lead_in_s * p.symbol_rate))
        self.u0 = p.timing_offset_sym - self.lead
        self.start_unix = unix_seconds(parse_utc(p.start_time))

        # frame source
        if p.frames_path:
            fp = Path(p.frames_path)
            if not fp.is_absolute() and base_dir is not None:
                fp = base_dir / fp
            if not fp.is_file():
                raise UserError(f"frame file not found: {fp}")
            raw = np.fromfile(fp, dtype=np.uint8)
            if raw.size == 0 or raw.size % p.frame_length:
                raise UserError(
                    f"{fp}: {raw.size} bytes is not a whole number of {p.frame_length}-byte frames"
                )
            rows = raw.reshape(-1, p.frame_length)
            if not 0 <= p.first_frame < rows.shape[0]:
                raise UserError(f"{fp} holds {rows.shape[0]} frames; first frame {p.first_frame} is out of range")
            self.frame_rows = rows
            self.frame_path: Path | None = fp
        else:
            self.frame_rows = None
            self.frame_path = None

        # rough span for slicing the Doppler profile
        if p.duration_s is not None:
            span = p.duration_s
        else:
            n_est = p.num_frames or (self.frame_rows.shape[0] - p.first_frame if self.frame_rows is not None else 10)
            span = (self.lead + n_est * CADU_SYMBOLS) / p.symbol_rate + p.tail_s
        if p.doppler is not None:
            p.doppler = _slice_profile(p.doppler, self.start_unix - 2.0, self.start_unix + span * 1.001 + 2.0)
            t0p, t1p = p.doppler[0][0], p.doppler[-1][0]
            if t0p > self.start_unix or t1p < self.start_unix + span:
                warnings.warn("the Doppler profile does not cover the whole recording; it is held constant "
                              "beyond its ends", stacklevel=3)
        self.kt, self.kf, self.kc = doppler_knots(p.doppler, self.start_unix)

        # length and codeblock count
        if p.duration_s is not None:
            self.num_samples = int(round(p.duration_s * self.fs))
            u_end = self.sym_pos((self.num_samples - 0.5) / self.fs)
            self.n_cadus = max(0, int(math.floor(u_end / CADU_SYMBOLS)) + 1)  # the last one is cut off
            if p.num_frames is not None:
                self.n_cadus = min(self.n_cadus, p.num_frames)
        else:
            if p.num_frames is not None:
                self.n_cadus = p.num_frames
            elif self.frame_rows is not None:
                self.n_cadus = self.frame_rows.shape[0] - p.first_frame
            else:
                self.n_cadus = 10
            tail = int(round(p.tail_s * p.symbol_rate))
            tau_end = self.tau_of_sym(self.n_cadus * CADU_SYMBOLS + tail)
            self.num_samples = int(math.ceil(tau_end * self.fs + 0.5))  # the last sample covers the end
        u_last = self.sym_pos((self.num_samples - 0.5) / self.fs)
        self.tail = max(0, int(math.ceil(u_last)) - self.n_cadus * CADU_SYMBOLS)  # random symbols sent after
        if self.frame_rows is None:
            self.frame_rows = generate_frames(max(self.n_cadus, 1), seed=frame_seed, frame_length=p.frame_length)
            self.row_of = lambda i: i
        else:
            n_rows = self.frame_rows.shape[0]
            self.row_of = lambda i: (p.first_frame + i) % n_rows

        # random symbols before and after the codeblocks
        self.lead_bits = self._rng_bits.integers(0, 2, self.lead + _MARGIN, dtype=np.uint8)
        self.tail_bits = self._rng_bits.integers(0, 2, self.tail + _MARGIN, dtype=np.uint8)
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()

        # levels
        m = p.mod_index_rad
        self.info_bit_rate = p.symbol_rate * INFO_BITS_PER_SYMBOL
        level = p.level
        if p.ebn0_db is None:
            k = 0.0
        else:
            k = self.fs * math.sin(m) ** 2 / (self.info_bit_rate * 10 ** (p.ebn0_db / 10))
        self.amp = level / math.sqrt(0.25 + 0.5 * k)
        self.noise_var = k * self.amp**2  # complex variance per channel
        self.noise_std = math.sqrt(self.noise_var / 2)
        self.n0 = self.noise_var / self.fs
        if p.fades:
            self.gt = np.array([t for t, _ in p.fades], dtype=np.float64)
            self.gg = np.array([0.0 if g == -math.inf else 10 ** (g / 20) for _, g in p.fades], dtype=np.float64)
        else:
            self.gt = np.zeros(1)
            self.gg = np.ones(1)
        self.params = p

    # -- timing helpers (the same closed forms the kernel uses)
    def sym_pos(self, tau: float) -> float:
        """Symbol position u(τ) (symbol 0 = first ASM symbol)."""
        return self.rate * (tau + doppler_integral(tau, self.kt, self.kf, self.kc) * self.inv_fc) + self.u0

    def tau_of_sym(self, u: float) -> float:
        """Time τ (s) at which the symbol position reaches u (Newton on the closed form)."""
        tau = (u - self.u0) / self.rate
        for _ in range(50):
            err = self.sym_pos(tau) - u
            deriv = self.rate * (1.0 + doppler_at(tau, self.kt, self.kf) * self.inv_fc)
            step = err / deriv
            tau -= step
            if abs(step) < 1e-15 * max(1.0, abs(tau)):
                break
        return tau

    # -- symbol stream
    def _cadu(self, i: int) -> np.ndarray:
        bits = self._cache.get(i)
        if bits is None:
            bits = cadu_bits(self.frame_rows[self.row_of(i)])
            self._cache[i] = bits
            while len(self._cache) > 4:
                self._cache.popitem(last=False)
        return bits

    def symbol_bits(self, j0: int, j1: int) -> np.ndarray:
        """Bits of symbols j0 .. j1-1 (lead-in and tail random, codeblocks in between)."""
        out = np.zeros(j1 - j0, dtype=np.uint8)
        end_cadus = self.n_cadus * CADU_SYMBOLS
        lead_start = -self.lead_bits.size
        # lead-in
        a, b = max(j0, lead_start), min(j1, 0)
        if a < b:
            out[a - j0:b - j0] = self.lead_bits[a - lead_start:b - lead_start]
        # codeblocks
        a, b = max(j0, 0), min(j1, end_cadus)
        j = a
        while j < b:
            i = j // CADU_SYMBOLS
            off = j - i * CADU_SYMBOLS
            n = min(CADU_SYMBOLS - off, b - j)
            out[j - j0:j - j0 + n] = self._cadu(i)[off:off + n]
            j += n
        # tail
        a, b = max(j0, end_cadus), min(j1, end_cadus + self.tail_bits.size)
        if a < b:
            out[a - j0:b - j0] = self.tail_bits[a - end_cadus:b - end_cadus]
        return out

    def codeblock_table(self) -> np.ndarray:
        """One row per complete CADU inside the recording."""
        rows = []
        last_edge = (self.num_samples - 0.5) / self.fs
        for i in range(self.n_cadus):
            t_a = self.tau_of_sym(i * CADU_SYMBOLS)
            t_b = self.tau_of_sym((i + 1) * CADU_SYMBOLS)
            if t_a < -0.5 / self.fs or t_b > last_edge:
                continue
            pa, pb = t_a * self.fs, t_b * self.fs
            s_a, s_b = int(round(pa)), int(round(pb))
            row = self.row_of(i)
            rows.append((i, row, s_a, s_b - s_a, pa, crc16(self.frame_rows[row].tobytes())))
        return np.array(rows, dtype=CODEBLOCK_DTYPE) if rows else np.zeros(0, CODEBLOCK_DTYPE)

    # -- samples
    def chunks(self, chunk_len: int = DEFAULT_CHUNK) -> Iterator[tuple[int, np.ndarray, int]]:
        """Yield (first sample, samples (n, 2, 2) in the output dtype, clipped count) chunk by chunk."""
        p = self.params
        scale, lo, hi, dtype = _FULL_SCALE[p.datatype]
        quantize = p.datatype != "cf32_le"
        noise_rng = np.random.default_rng(self.noise_seed)
        no_noise = np.zeros((0, 4), dtype=np.float32)
        theta0 = math.radians(p.pol_angle_deg)
        omega = math.radians(p.pol_rotation_deg_s)
        psi = math.radians(p.pol_phase_deg)
        starts = list(range(0, self.num_samples, chunk_len))

        def draw(n0: int) -> np.ndarray:
            n = min(chunk_len, self.num_samples - n0)
            return noise_rng.standard_normal(4 * n, dtype=np.float32).reshape(n, 4)

        band_limited = self._band_limited_signal(chunk_len, theta0, omega, psi) if p.oversample > 1 else None

        # noise for the next chunk is drawn in a helper thread while the kernel (nogil) runs;
        # draws stay in order, so the output does not depend on the threading.
        pool = ThreadPoolExecutor(max_workers=1) if self.noise_var > 0 else None
        pending = pool.submit(draw, starts[0]) if pool is not None and starts else None
        try:
            for idx, n0 in enumerate(starts):
                n = min(chunk_len, self.num_samples - n0)
                if pending is not None:
                    noise = pending.result()
                    pending = pool.submit(draw, starts[idx + 1]) if idx + 1 < len(starts) else None
                else:
                    noise = no_noise
                if p.oversample > 1:
                    out, clipped = self._finish(band_limited(n), noise, dtype, scale, lo, hi, quantize)
                else:
                    out, clipped = self._synth(n0, n, noise, dtype, scale, lo, hi, quantize, theta0, omega, psi)
                yield n0, out, clipped
        finally:
            if pool is not None:
                pool.shutdown(wait=True, cancel_futures=True)

    def _band_limited_signal(self, chunk_len: int, theta0: float, omega: float, psi: float):
        """``take(n)``: the next ``n`` noise-free signal samples (2, n) complex64, made at ``oversample`` x the
        rate (integrate and dump there) and decimated by the anti-aliasing filter (delay compensated: output
        sample m is the fine sample m x oversample, at time m / samp_rate)."""
        p = self.params
        L = p.oversample
        fs_fine = self.fs * L
        total = self.num_samples * L
        dec = Decimator(fs_fine, L, passband_hz=0.45 * self.fs, atten_db=60.0)
        state = {"pos": 0, "buf": np.zeros((2, 0), np.complex64)}

        def more() -> None:
            n0 = state["pos"]
            if n0 >= total:
                state["buf"] = np.concatenate((state["buf"], dec.flush()), axis=1)
                state["pos"] = total + 1
                return
            n = min(chunk_len * L, total - n0)
            j0 = int(math.floor(self.sym_pos((n0 - 0.5) / fs_fine))) - 2
            j1 = int(math.floor(self.sym_pos((n0 + n + 0.5) / fs_fine))) + 3
            fine = np.empty((n, 2, 2), dtype=np.float32)
            synth_chunk(n0, fs_fine, self.kt, self.kf, self.kc, p.carrier_offset_hz, p.carrier_phase_rad,
                        self.rate, self.inv_fc, self.u0, self.symbol_bits(j0, j1), j0, p.mod_index_rad, self.amp,
                        theta0, omega, math.cos(psi), math.sin(psi), self.gt, self.gg,
                        np.zeros((0, 4), np.float32), 0.0, 1.0, 0.0, 0.0, False, fine)
            out = dec.process(np.ascontiguousarray(fine.transpose(1, 0, 2)))
            state["buf"] = np.concatenate((state["buf"], out), axis=1)
            state["pos"] = n0 + n

        def take(n: int) -> np.ndarray:
            while state["buf"].shape[1] < n and state["pos"] <= total:
                more()
            head, state["buf"] = state["buf"][:, :n], state["buf"][:, n:]
            return head

        return take

    def _finish(self, signal: np.ndarray, noise: np.ndarray, dtype: Any, scale: float, lo: float, hi: float,
                quantize: bool) -> tuple[np.ndarray, int]:
        """Noise added to signal samples (2, n) complex, scaled and (for integer types) rounded and clipped:
        (n, 2, 2) of ``dtype`` and the number of clipped components."""
        v = np.stack((signal.real, signal.imag), axis=-1).transpose(1, 0, 2).astype(np.float64)  # (n, 2, 2)
        if noise.shape[0]:
            v += self.noise_std * noise.reshape(-1, 2, 2)
        v *= scale
        if not quantize:
            return v.astype(dtype), 0
        v = np.rint(v)
        clipped = int(np.count_nonzero((v > hi) | (v < lo)))
        return np.clip(v, lo, hi).astype(dtype), clipped

    def _synth(
        self, n0: int, n: int, noise: np.ndarray, dtype: Any, scale: float, lo: float, hi: float,
        quantize: bool, theta0: float, omega: float, psi: float,
    ) -> tuple[np.ndarray, int]:
        """Samples n0 .. n0+n-1 as (n, 2, 2) of ``dtype`` and the number of clipped components."""
        p = self.params
        j0 = int(math.floor(self.sym_pos((n0 - 0.5) / self.fs))) - 2
        j1 = int(math.floor(self.sym_pos((n0 + n + 0.5) / self.fs))) + 3
        bits = self.symbol_bits(j0, j1)
        out = np.empty((n, 2, 2), dtype=dtype)
        clipped = synth_chunk(
            n0, self.fs, self.kt, self.kf, self.kc, p.carrier_offset_hz, p.carrier_phase_rad,
            self.rate, self.inv_fc, self.u0, bits, j0, p.mod_index_rad, self.amp,
            theta0, omega, math.cos(psi), math.sin(psi), self.gt, self.gg,
            noise, self.noise_std, scale, lo, hi, quantize, out,
        )
        return out, int(clipped)


def _slice_profile(points: list[tuple[float, float]], t0: float, t1: float) -> list[tuple[float, float]]:
    """The points needed to reproduce the profile exactly over [t0, t1] (one knot beyond each end)."""
    ts = np.array([t for t, _ in points])
    i0 = max(0, int(np.searchsorted(ts, t0, side="right")) - 1)
    i1 = min(len(points), int(np.searchsorted(ts, t1, side="left")) + 1)
    out = list(points[i0:i1])
    if len(out) < 2:
        out = list(points[max(0, i0 - 1):i0 + 1]) if i0 > 0 else list(points[:2])
    return out


# --------------------------------------------------------------------------- output
def output_paths(out_path: str | Path, layout: str) -> tuple[Path, list[Path], list[Path], Path | None]:
    """(base, data files, meta files, collection) for an output name."""
    base = sigmf_read.strip_sigmf_ext(Path(out_path))
    if base.name.endswith(TRUTH_EXT):
        base = base.with_name(base.name[: -len(TRUTH_EXT)])
    if layout == "pair":
        stems = [base.with_name(base.name + "_0x"), base.with_name(base.name + "_0y")]
        coll = base.with_name(base.name + sigmf_read.COLLECTION_EXT)
    else:
        stems = [base]
        coll = None
    data = [s.with_name(s.name + sigmf_read.DATA_EXT) for s in stems]
    meta = [s.with_name(s.name + sigmf_read.META_EXT) for s in stems]
    return base, data, meta, coll


def iter_samples(params: SimParams, chunk_len: int = DEFAULT_CHUNK) -> Iterator[tuple[int, np.ndarray]]:
    """Yield (first sample, (n, 2, 2) samples in the output datatype) without writing anything."""
    plan = _Plan(params)
    for n0, out, _ in plan.chunks(chunk_len):
        yield n0, out


def plan_truth(params: SimParams, base_dir: str | Path | None = None) -> tuple[SimParams, np.ndarray, int]:
    """(resolved params, codeblock table, number of samples) without generating samples."""
    plan = _Plan(params, Path(base_dir) if base_dir else None)
    return plan.params, plan.codeblock_table(), plan.num_samples


def simulated_frames(params: SimParams, base_dir: str | Path | None = None) -> np.ndarray:
    """The frames (n, frame_length) sent in the complete codeblocks, in order."""
    plan = _Plan(params, Path(base_dir) if base_dir else None)
    table = plan.codeblock_table()
    return plan.frame_rows[table["source_frame"]] if table.size else np.zeros((0, plan.params.frame_length), np.uint8)


def simulate(
    params: SimParams,
    out_path: str | Path,
    *,
    chunk_len: int = DEFAULT_CHUNK,
    base_dir: str | Path | None = None,
    progress: bool = False,
) -> SimTruth:
    """Write the recording (SigMF data + metadata with one annotation per codeblock) and its truth sidecar.

    ``out_path`` is the base name (SigMF extensions are stripped); the pair layout
    writes ``<base>_0x`` / ``<base>_0y`` and ``<base>.sigmf-collection``; the sidecar
    is ``<base>.truth.json``.  Relative ``frames_path`` resolves against ``base_dir``
    (default: the current directory).
    """
    plan = _Plan(params, Path(base_dir) if base_dir else None)
    p = plan.params
    base, data_paths, meta_paths, coll = output_paths(out_path, p.layout)
    base.parent.mkdir(parents=True, exist_ok=True)
    table = plan.codeblock_table()

    clipped = 0
    handles = [open(d.with_name(d.name + ".part"), "wb") for d in data_paths]
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=plan.num_samples, unit="sa", unit_scale=True, desc="simulate")
    try:
        for _, out, c in plan.chunks(chunk_len):
            clipped += c
            if p.layout == "pair":
                handles[0].write(np.ascontiguousarray(out[:, 0, :]).tobytes())
                handles[1].write(np.ascontiguousarray(out[:, 1, :]).tobytes())
            else:
                handles[0].write(out.tobytes())
            if bar is not None:
                bar.update(out.shape[0])
    finally:
        for h in handles:
            h.close()
        if bar is not None:
            bar.close()
    for d in data_paths:
        os.replace(d.with_name(d.name + ".part"), d)

    total_components = plan.num_samples * 4
    if clipped > 1e-6 * total_components:
        warnings.warn(
            f"{clipped} of {total_components} sample components clipped; lower rms_level_fs", stacklevel=2
        )

    truth_path = base.with_name(base.name + TRUTH_EXT)
    annotations = [
        {
            "core:sample_start": int(r["start_sample"]),
            "core:sample_count": int(r["num_samples"]),
            "core:label": f"CADU {int(r['index'])}",
            "core:comment": f"frame {int(r['source_frame'])} CRC-16 {int(r['crc16']):04X}",
            "heradecode:frame_index": int(r["index"]),
            "heradecode:source_frame": int(r["source_frame"]),
            "heradecode:frame_crc16": int(r["crc16"]),
            "heradecode:sample_position": float(r["sample_position"]),
        }
        for r in table
    ]
    if p.ebn0_db is None:
        esn0 = cn0 = None
    else:
        data_power = plan.amp**2 * math.sin(p.mod_index_rad) ** 2
        esn0 = 10 * math.log10(data_power / p.symbol_rate / plan.n0)
        cn0 = 10 * math.log10(plan.amp**2 * math.cos(p.mod_index_rad) ** 2 / plan.n0)
    desc = (
        f"Simulated Hera-like {p.mode}-rate telemetry: {p.symbol_rate:g} baud bi-phase-L PM, m={p.mod_index_rad:g} rad, "
        f"Eb/N0 {p.ebn0_db if p.ebn0_db is not None else 'inf'} dB, seed {p.seed}"
    )
    for i, meta in enumerate(meta_paths):
        pol = "" if p.layout != "pair" else (" X polarization" if i == 0 else " Y polarization")
        sigmf_write.write_meta(
            meta,
            datatype=p.datatype,
            samp_rate=p.samp_rate,
            num_channels=2 if p.layout == "interleaved" else 1,
            center_freq_hz=p.center_freq_hz,
            start_time=p.start_time,
            num_samples=plan.num_samples,
            hw=p.hw,
            antenna=p.antenna + pol,
            description=desc,
            annotations=annotations,
            extra_global={"heradecode:truth": truth_path.name,
                          # the simulated receiver's frequency error, stated as a user states a known LO offset
                          RECEIVER_OFFSET_KEY: p.carrier_offset_hz + p.center_freq_hz - HERA.downlink_freq_hz},
        )
    if coll is not None:
        sigmf_write.write_collection(coll, meta_paths, description=desc)

    stored = SimParams.from_dict(p.to_dict())
    if stored.frames_path:
        fp = Path(plan.frame_path).resolve()  # type: ignore[arg-type]
        try:  # relative when the frames lie beside the recording (or below), so the pair can be moved
            stored.frames_path = str(fp.relative_to(truth_path.parent.resolve()))
        except ValueError:
            stored.frames_path = str(fp)
    truth = SimTruth(
        params=stored,
        num_samples=plan.num_samples,
        amplitude_fs=plan.amp,
        noise_std_fs=plan.noise_std,
        n0_fs2_per_hz=plan.n0,
        info_bit_rate=plan.info_bit_rate,
        esn0_db=esn0,
        cn0_dbhz=cn0,
        lead_in_symbols=plan.lead,
        tail_symbols=plan.tail,
        clipped_components=clipped,
        codeblocks=table,
        data_paths=tuple(d.name for d in data_paths),
        meta_paths=tuple(m.name for m in meta_paths),
        truth_path=str(truth_path),
    )
    truth_path.write_text(json.dumps(truth.to_dict(), indent=1) + "\n", encoding="utf-8")
    result = read_truth(truth_path)
    return result


__all__ = [
    "CODEBLOCK_DTYPE",
    "SimTruth",
    "TURBO_K",
    "CODEBLOCK_SYMBOLS",
    "iter_samples",
    "output_paths",
    "plan_truth",
    "read_truth",
    "simulate",
    "simulated_frames",
]
