"""CCSDS turbo codes (CCSDS 131.0-B section 6): encoder and iterative decoder.

Information blocks of k = 1784, 3568, 7136 or 8920 bits, nominal rates 1/2, 1/3, 1/4,
1/6 (``inv_rate`` 2, 3, 4, 6); a codeblock has (k + 4) * inv_rate symbols.  Two 16-state
recursive constituent encoders (a: natural order, b: through the CCSDS permutation), each
terminated with 4 extra steps.  Per trellis step the codeblock carries

=========  ==========================================
inv_rate   symbols per step
=========  ==========================================
2          0a, 1a (even steps) / 0a, 1b (odd steps)
3          0a, 1a, 1b
4          0a, 2a, 3a, 1b
6          0a, 1a, 2a, 3a, 1b, 3b
=========  ==========================================

where 0a is the systematic bit (with encoder a's 4 termination bits at the end) and
``xa``/``xb`` the parity of generator G_x of encoder a/b.

Soft-value convention (project-wide): **L = ln P(bit = 0) / P(bit = 1)**, positive
means bit 0; for BPSK (0 -> +1) on AWGN, L = 2 y / sigma^2.  Zero means erasure.

Decoding
--------
Iterative, with two SISO BCJR decoders in float32 SIMD kernels (:mod:`heradecode.fec._bcjr`).
Their sums over trellis paths are Jacobian logarithms max*(x, y) = max(x, y) + ln(1 + e^-|x-y|),
computed in one of three ways (``algorithm``, see :mod:`heradecode.fec._simd`):

``"linear-log-map"`` (default)
    the correction replaced by the line max(0, 0.62154 - 0.23901 |x - y|) (error <= 0.072),
    at 2/3 of max-log's speed.  The line alone (calibrated LLRs, extrinsic scale 1,
    llr_margin 1) loses the same frames as log-MAP: 39 against 38 of 3000 at 0.05 dB.
``"max-log"``
    no correction (max-log-MAP): 0.16 dB worse; blind to the scale of the LLRs.
``"log-map"``
    the exact correction (to float32 accuracy): the reference, 5 times slower.

The extrinsic values passed between the two decoders are multiplied by ``extrinsic_scale``
(DEFAULT_SCALE: 0.85 linear log-MAP, 0.7 max-log, 1 log-MAP), which damps their
overconfidence.

LLR scale.  Max-log decisions do not change when every LLR is multiplied by a constant c;
log-MAP's do, because the correction is in absolute units: decoding c * L is log-MAP at
the temperature 1/c.  LLRs too small (c < 1) blur the metrics and lose fast (log-MAP at
0.1 dB: FER 1e-3 at c = 1, 0.9 at c = 0.7); LLRs too large drift towards max-log without
its extrinsic scaling (FER 0.1 at c = 1.4).  The default decoder therefore guards itself
with ``llr_margin`` m (DEFAULT_LLR_MARGIN: 1.1 for linear log-MAP; 1, LLRs used as given,
otherwise):

* it estimates c per codeblock from the 2nd and 4th moments of the LLRs
  (:func:`heradecode.fec._bcjr.llr_scale_estimate`; BPSK on AWGN: +-4.5 % near threshold),
  and when c < 1 divides the LLRs by it: LLRs that look too small are brought up to
  calibration, never down, because a fade or erasures inside a codeblock fatten the tails
  and read as a large c, and shrinking a well-calibrated block there would hurt;
* it then multiplies them by m, so that an estimate a little high leaves the decoder on
  the benign, slightly overconfident side, which the extrinsic scale 0.85 absorbs.

The gain applied is reported in :attr:`TurboResult.llr_gain`.  On calibrated LLRs this
guard costs about 0.01 dB, and it buys: LLRs 0.7x (or 0.5x) too small decode as calibrated
ones, 1.4x too large lose 0.06 dB (log-MAP on the LLRs as given loses 0.27 and 0.16 dB).

Decoding stops early when the CRC-16 FECF over the decoded block checks after two
consecutive half-iterations with identical decisions (one CRC-16 pass alone would let
about 1e-4 of the frames out with undetected errors near threshold), and, optionally,
when the hard decisions stop changing from one iteration to the next.

Measured on BPSK/AWGN, k = 8920, rate 1/4, 10 iterations (benchmarks/turbo_fer.py, >= 100
frame errors or 5000 frames per point): FER 1e-2 at 0.048 dB Eb/N0 with log-MAP (1e-3 at
0.10 dB; the CCSDS green book quotes 0.07 dB and 3e-3), 0.060 dB with the default, 0.206 dB
with max-log; LLRs x0.7 / x1.4: default 0.064 / 0.116 dB, log-MAP 0.315 / 0.203 dB.  Speed
on one core of a shared 2-core Xeon (benchmarks/turbo_throughput.py, best of 9, information
bits): 10 fixed iterations, default 5.0 Mb/s, max-log 7.5, log-MAP 1.0; with early stopping
at 0.3 dB (5-5.6 iterations) 8.5, 10.8 and 2.3 Mb/s.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

from typing import Literal, get_args

import numpy as np

from heradecode.errors import UserError
from heradecode.fec import _bcjr, _simd
from heradecode.fec.crc import _TABLE as _CRC_TABLE
from heradecode.fec.interleaver import K_VALUES, check_k, inverse_permutation, permutation
from heradecode.missions import DEFAULT_MISSION, load_mission

_DEFAULT_CODING = load_mission(DEFAULT_MISSION).coding
DEFAULT_K: int = int(_DEFAULT_CODING.turbo_k)  # type: ignore[arg-type]
"""Information block length of the default mission's (Hera's) turbo code, from its profile."""
DEFAULT_INV_RATE: int = int(_DEFAULT_CODING.turbo_inv_rate)  # type: ignore[arg-type]
"""Inverse rate of the default mission's (Hera's) turbo code, from its profile."""

INV_RATES: tuple[int, ...] = (2, 3, 4, 6)
"""Supported inverse code rates (1/2, 1/3, 1/4, 1/6)."""

Algorithm = Literal["linear-log-map", "max-log", "log-map"]
"""A turbo SISO algorithm (see the module docstring)."""
ALGORITHMS: tuple[Algorithm, ...] = get_args(Algorithm)
"""SISO algorithms (the max* versions of heradecode.fec._simd), the default first."""
DEFAULT_ALGORITHM: Algorithm = "linear-log-map"
"""The decoder's default: linear log-MAP, 0.01 dB from log-MAP at about 2/3 of max-log's speed."""
DEFAULT_SCALE = {"linear-log-map": 0.85, "max-log": 0.7, "log-map": 1.0}
"""Default extrinsic scale per algorithm."""
DEFAULT_LLR_MARGIN = {"linear-log-map": 1.1, "max-log": 1.0, "log-map": 1.0}
"""Default LLR margin per algorithm (1: LLRs used as given)."""
MAX_LLR_BOOST = 1000.0
"""Largest factor by which LLRs that look too small are raised to calibration."""

# Streams of the turbo encoder, in this order: 0a, 1a, 2a, 3a, 1b, 2b, 3b.
STREAM_NAMES: tuple[str, ...] = ("0a", "1a", "2a", "3a", "1b", "2b", "3b")
_COLUMNS = {3: (0, 1, 4), 4: (0, 2, 3, 4), 6: (0, 1, 2, 3, 4, 6)}

__all__ = [
    "ALGORITHMS",
    "Algorithm",
    "DEFAULT_ALGORITHM",
    "DEFAULT_INV_RATE",
    "DEFAULT_K",
    "DEFAULT_LLR_MARGIN",
    "DEFAULT_SCALE",
    "INV_RATES",
    "K_VALUES",
    "TurboDecoder",
    "TurboResult",
    "TurboStreams",
    "check_inv_rate",
    "codeblock_length",
    "decode",
    "decode_batch",
    "encode",
    "encode_streams",
    "multiplex",
    "demultiplex",
]


def check_inv_rate(inv_rate: int) -> int:
    """Return inv_rate as int, or raise UserError unless it is 2, 3, 4 or 6."""
    try:
        r = int(inv_rate)
    except (TypeError, ValueError):
        raise UserError(f"turbo inverse rate must be one of {INV_RATES}, got {inv_rate!r}") from None
    if r != inv_rate or r not in INV_RATES:
        raise UserError(f"turbo inverse rate must be one of {INV_RATES} (rate 1/2, 1/3, 1/4, 1/6), got {inv_rate!r}")
    return r


def codeblock_length(k: int = DEFAULT_K, inv_rate: int = DEFAULT_INV_RATE) -> int:
    """Symbols in one turbo codeblock: (k + 4) * inv_rate."""
    return (check_k(k) + 4) * check_inv_rate(inv_rate)


# --------------------------------------------------------------------------- encoder


@dataclass(frozen=True)
class TurboStreams:
    """All outputs of the two constituent encoders for one information block (uint8, k + 4 each)."""

    streams: np.ndarray
    """(7, k + 4) uint8: rows 0a, 1a, 2a, 3a, 1b, 2b, 3b (see STREAM_NAMES)."""
    input_b: np.ndarray
    """(k + 4) uint8: encoder b's input, the permuted information bits then its 4 termination bits."""
    final_state_a: int
    final_state_b: int

    def stream(self, name: str) -> np.ndarray:
        """One output stream by its CCSDS name ('0a', '1a', ..., '3b')."""
        return self.streams[STREAM_NAMES.index(name)]


def _as_info_bits(info_bits) -> np.ndarray:
    bits = np.asarray(info_bits)
    if bits.ndim != 1:
        raise UserError(f"information bits must be a 1-D array, got shape {bits.shape}")
    check_k(bits.size)
    if bits.size and (bits.dtype.kind not in "biu" or bits.min() < 0 or bits.max() > 1):
        raise UserError("information bits must be integers 0 or 1")
    return np.ascontiguousarray(bits, dtype=np.uint8)


def encode_streams(info_bits: np.ndarray) -> TurboStreams:
    """Run both terminated constituent encoders on k information bits (uint8 0/1)."""
    bits = _as_info_bits(info_bits)
    k = bits.size
    n = k + 4
    out = np.zeros((7, n), dtype=np.uint8)
    ub = np.zeros(n, dtype=np.uint8)
    state_a = _bcjr.rsc_encode(bits, out[0], out[1], out[2], out[3])
    state_b = _bcjr.rsc_encode(np.ascontiguousarray(bits[permutation(k)]), ub, out[4], out[5], out[6])
    return TurboStreams(streams=out, input_b=ub, final_state_a=int(state_a), final_state_b=int(state_b))


def multiplex(streams: np.ndarray, inv_rate: int = DEFAULT_INV_RATE) -> np.ndarray:
    """Codeblock (1-D) from the (7, k + 4) encoder streams, in the standard's output order and puncturing."""
    r = check_inv_rate(inv_rate)
    n = streams.shape[1]
    if r == 2:
        cb = np.empty((n, 2), dtype=streams.dtype)
        cb[:, 0] = streams[0]
        cb[0::2, 1] = streams[1, 0::2]
        cb[1::2, 1] = streams[4, 1::2]
        return cb.reshape(-1)
    return np.ascontiguousarray(streams[list(_COLUMNS[r])].T).reshape(-1)


def demultiplex(codeblock: np.ndarray, inv_rate: int = DEFAULT_INV_RATE) -> np.ndarray:
    """(7, k + 4) float32 streams from a soft codeblock; punctured / unused streams are 0."""
    r = check_inv_rate(inv_rate)
    cb = np.asarray(codeblock, dtype=np.float32).reshape(-1, r)
    n = cb.shape[0]
    out = np.zeros((7, n), dtype=np.float32)
    if r == 2:
        out[0] = cb[:, 0]
        out[1, 0::2] = cb[0::2, 1]
        out[4, 1::2] = cb[1::2, 1]
    else:
        out[list(_COLUMNS[r])] = cb.T
    return out


def encode(info_bits: np.ndarray, inv_rate: int = DEFAULT_INV_RATE) -> np.ndarray:
    """Turbo-encode k information bits (uint8 0/1, k in K_VALUES) to a codeblock of (k+4)*inv_rate bits."""
    r = check_inv_rate(inv_rate)
    return multiplex(encode_streams(info_bits).streams, r)


# --------------------------------------------------------------------------- decoder


@dataclass(frozen=True)
class TurboResult:
    """Outcome of decoding one codeblock."""

    bits: np.ndarray
    """k decoded information bits (uint8 0/1), FECF included."""
    iterations: int
    """Iterations used (an iteration stopped after its first half counts as one)."""
    crc_ok: bool
    """True when the CRC-16 FECF of the decoded block checks."""
    converged: bool
    """True when decoding stopped early on a criterion (CRC passed twice in a row, or decisions stable)."""
    llr_gain: float = 1.0
    """Factor the decoder applied to the LLRs (llr_margin, times the boost of LLRs that looked too small)."""

    def frame(self, strip_fecf: bool = True) -> bytes:
        """The decoded block as bytes (MSB first), without its 2-byte FECF unless strip_fecf=False."""
        data = np.packbits(self.bits).tobytes()
        return data[:-2] if strip_fecf else data


def _geometry(n: int, segments: int, guard: int):
    nl = _bcjr.NL
    t_seg = -(-n // segments)
    w_len = min(n, t_seg + 2 * guard)
    win = np.zeros(nl, dtype=np.int64)
    lo = np.zeros(nl, dtype=np.int64)
    hi = np.zeros(nl, dtype=np.int64)
    for lane in range(nl):
        if lane < segments:
            g_lo = min(lane * t_seg, n)
            g_hi = min((lane + 1) * t_seg, n)
            w = min(max(lane * t_seg - guard, 0), n - w_len)
            win[lane] = w
            lo[lane] = g_lo - w
            hi[lane] = max(g_hi - w, g_lo - w)
    acap = np.full(nl, -1, dtype=np.int64)
    bcap = np.full(nl, -1, dtype=np.int64)
    for lane in range(1, min(segments, nl)):
        if win[lane] > 0:
            acap[lane] = win[lane] - win[lane - 1]
    for lane in range(0, min(segments, nl) - 1):
        if win[lane] + w_len < n:
            bcap[lane] = win[lane] + w_len - win[lane + 1]
    bflag = np.zeros(w_len + 1, dtype=np.uint8)
    for node in bcap:
        if node >= 0:
            bflag[node] = 1
    return w_len, win, lo, hi, acap, bcap, bflag


def _int_in_range(name: str, value, lo: int, hi: int) -> int:
    try:
        ok = int(value) == value and lo <= int(value) <= hi
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise UserError(f"{name} must be an integer in {lo}..{hi}, got {value!r}")
    return int(value)


class _Workspace:
    def __init__(self, k: int, w_len: int):
        nl = _bcjr.NL
        f32 = np.float32
        lane = w_len * nl
        self.inp_a = np.zeros(lane * 4, f32)
        self.inp_b = np.zeros(lane * 4, f32)
        self.chs_a = np.zeros(lane, f32)
        self.chs_b = np.zeros(lane, f32)
        self.alpha = np.zeros((w_len + 1) * 16 * nl, f32)
        self.gc = np.zeros(16 * nl, f32)
        self.beta_a = np.zeros(16 * nl, f32)
        self.beta_b = np.zeros(16 * nl, f32)
        self.ext_lane_a = np.zeros(lane + 1, f32)  # the extra entry stays 0: a-priori of the tail steps
        self.ext_lane_b = np.zeros(lane + 1, f32)
        self.app_lane = np.zeros(lane, f32)
        self.ainit_a = np.zeros(16 * nl, f32)
        self.binit_a = np.zeros(16 * nl, f32)
        self.ainit_b = np.zeros(16 * nl, f32)
        self.binit_b = np.zeros(16 * nl, f32)
        self.crc_data = np.zeros(k // 8, np.uint8)
        self.prev_data = np.zeros(k // 8, np.uint8)


class TurboDecoder:
    """Iterative CCSDS turbo decoder for one (k, inv_rate) and fixed options; reusable and thread-safe.

    algorithm, extrinsic_scale and llr_margin (None: the algorithm's default, DEFAULT_SCALE
    and DEFAULT_LLR_MARGIN) are described in the module docstring.  segments (1..16) and
    guard (steps) set the sub-block parallel decoding: 16 segments (default) use every SIMD
    lane for one codeblock; 1 segment is the exact full-trellis decoder (16x slower, for
    reference).  ``code`` (a :class:`heradecode.fec.turbocode.TurboCode`) gives k and inv_rate.
    """

    def __init__(
        self,
        k: int = DEFAULT_K,
        inv_rate: int = DEFAULT_INV_RATE,
        *,
        code=None,
        algorithm: Algorithm = DEFAULT_ALGORITHM,
        extrinsic_scale: float | None = None,
        max_iterations: int = 10,
        stop_on_crc: bool = True,
        stop_on_stable: bool = False,
        llr_margin: float | None = None,
        segments: int = _bcjr.NL,
        guard: int = 32,
    ) -> None:
        if code is not None:  # a heradecode.fec.turbocode.TurboCode
            k, inv_rate = code.k, code.inv_rate
        self.k = check_k(k)
        self.inv_rate = check_inv_rate(inv_rate)
        if algorithm not in ALGORITHMS:
            raise UserError(f"turbo decoding algorithm must be one of {ALGORITHMS}, got {algorithm!r}")
        self.algorithm = algorithm
        try:
            scale = DEFAULT_SCALE[algorithm] if extrinsic_scale is None else float(extrinsic_scale)
        except (TypeError, ValueError):
            scale = float("nan")
        if not (0.0 < scale <= 1.0):
            raise UserError(f"extrinsic scale must be in (0, 1], got {extrinsic_scale!r}")
        self.extrinsic_scale = scale
        try:
            margin = DEFAULT_LLR_MARGIN[algorithm] if llr_margin is None else float(llr_margin)
        except (TypeError, ValueError):
            margin = float("nan")
        if not (1.0 <= margin <= 100.0):
            raise UserError(f"llr_margin must be in [1, 100], got {llr_margin!r}")
        self.llr_margin = margin
        self.max_iterations = _int_in_range("max_iterations", max_iterations, 1, 100)
        self.stop_on_crc = bool(stop_on_crc)
        self.stop_on_stable = bool(stop_on_stable)
        self.segments = _int_in_range("segments", segments, 1, _bcjr.NL)
        self.guard = _int_in_range("guard", guard, 0, 10**6)
        self.n_steps = self.k + 4
        self.n_symbols = self.n_steps * self.inv_rate
        self._token = _simd.TOKENS[algorithm]
        geo = _geometry(self.n_steps, self.segments, self.guard)
        self._w_len, self._win, self._lo, self._hi, self._acap, self._bcap, self._bflag = geo
        nl = _bcjr.NL
        k, w_len = self.k, self._w_len
        perm = permutation(k).astype(np.int64)
        inv = inverse_permutation(k).astype(np.int64)
        steps = self._win[None, :] + np.arange(w_len)[:, None]  # (W, NL): trellis step of each lane position
        own_pos = np.full(self.n_steps, -1, dtype=np.int64)  # lane position that owns each step
        for lane in range(nl):
            t = np.arange(self._lo[lane], self._hi[lane])
            own_pos[self._win[lane] + t] = t * nl + lane
        assert (own_pos >= 0).all()
        zero = w_len * nl  # index of the always-zero entry of the lane-layout extrinsic arrays
        info = steps < k
        safe = np.where(info, steps, 0)
        self._gidx = np.ascontiguousarray(steps.reshape(-1), dtype=np.int64)
        self._sysmap_b = np.ascontiguousarray(np.where(info, perm[safe], k).reshape(-1), dtype=np.int64)
        self._amap_a = np.ascontiguousarray(np.where(info, own_pos[inv[safe]], zero).reshape(-1), dtype=np.int64)
        self._amap_b = np.ascontiguousarray(np.where(info, own_pos[perm[safe]], zero).reshape(-1), dtype=np.int64)
        self._bitpos_a = np.ascontiguousarray(own_pos[:k])
        self._bitpos_b = np.ascontiguousarray(own_pos[inv])
        self._local = threading.local()

    def _workspace(self) -> _Workspace:
        ws = getattr(self._local, "ws", None)
        if ws is None:
            ws = _Workspace(self.k, self._w_len)
            self._local.ws = ws
        return ws

    def _check_llr(self, llr) -> np.ndarray:
        arr = np.asarray(llr)
        if arr.dtype.kind not in "fiu":
            raise UserError(f"turbo decoder input must be real numbers (LLRs), got dtype {arr.dtype}")
        if arr.ndim != 1 or arr.size != self.n_symbols:
            raise UserError(
                f"turbo decoder input must be {self.n_symbols} LLRs (k={self.k}, rate 1/{self.inv_rate}), "
                f"got shape {arr.shape}"
            )
        arr = arr.astype(np.float32, copy=False)
        if not np.isfinite(arr).all():
            raise UserError("turbo decoder input contains NaN or infinite LLRs")
        return arr

    def decode(self, llr: np.ndarray) -> TurboResult:
        """Decode one codeblock of soft values (L = ln P(0)/P(1), length (k+4)*inv_rate)."""
        arr = self._check_llr(llr)
        return self._decode_checked(arr)

    def _llr_gain(self, llr: np.ndarray) -> float:
        """llr_margin * max(1, 1/c) for the estimated LLR scale c (1 for max-log or llr_margin 1)."""
        if self.llr_margin == 1.0 or self.algorithm == "max-log":
            return 1.0
        c = _bcjr.llr_scale_estimate(llr)
        boost = MAX_LLR_BOOST if c * MAX_LLR_BOOST <= 1.0 else max(1.0, 1.0 / c)
        return self.llr_margin * boost

    def _decode_checked(self, arr: np.ndarray) -> TurboResult:
        clipped = np.clip(arr, -_bcjr.LLR_CLIP, _bcjr.LLR_CLIP)
        gain = self._llr_gain(clipped)
        if gain != 1.0:
            clipped = np.clip(clipped * np.float32(gain), -_bcjr.LLR_CLIP, _bcjr.LLR_CLIP)
        streams = demultiplex(clipped, self.inv_rate)
        ws = self._workspace()
        data = np.zeros(self.k // 8, dtype=np.uint8)
        it, crc_ok, converged = _bcjr.decode_frame(
            streams,
            self.k,
            self._gidx,
            self._sysmap_b,
            self._amap_a,
            self._amap_b,
            self._bitpos_a,
            self._bitpos_b,
            self._win,
            self._acap,
            self._bcap,
            self._bflag,
            self._w_len,
            self.max_iterations,
            np.float32(self.extrinsic_scale),
            self.stop_on_crc,
            self.stop_on_stable,
            self._token,
            _CRC_TABLE,
            ws.inp_a,
            ws.inp_b,
            ws.chs_a,
            ws.chs_b,
            ws.alpha,
            ws.gc,
            ws.beta_a,
            ws.beta_b,
            ws.ext_lane_a,
            ws.ext_lane_b,
            ws.app_lane,
            ws.ainit_a,
            ws.binit_a,
            ws.ainit_b,
            ws.binit_b,
            data,
            ws.crc_data,
            ws.prev_data,
        )
        return TurboResult(bits=np.unpackbits(data), iterations=int(it), crc_ok=bool(crc_ok), converged=bool(converged),
                           llr_gain=gain)

    def decode_batch(self, llrs: np.ndarray, workers: int | None = None) -> list[TurboResult]:
        """Decode many codeblocks (2-D array, one per row) on `workers` threads (default: all cores)."""
        arr = np.asarray(llrs)
        if arr.ndim != 2 or arr.shape[1] != self.n_symbols:
            raise UserError(
                f"turbo decode_batch input must have shape (n, {self.n_symbols}) "
                f"(k={self.k}, rate 1/{self.inv_rate}), got {arr.shape}"
            )
        rows = [self._check_llr(row) for row in arr]
        n_workers = _n_workers(workers)
        if n_workers == 1 or len(rows) <= 1:
            return [self._decode_checked(row) for row in rows]
        return list(_executor(n_workers).map(self._decode_checked, rows))


def _n_workers(workers: int | None) -> int:
    if workers is None:
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1))
    if int(workers) < 1:
        raise UserError(f"workers must be >= 1, got {workers!r}")
    return int(workers)


_EXECUTORS: dict[int, ThreadPoolExecutor] = {}
_EXECUTOR_LOCK = threading.Lock()


def _executor(n_workers: int) -> ThreadPoolExecutor:
    with _EXECUTOR_LOCK:
        ex = _EXECUTORS.get(n_workers)
        if ex is None:
            ex = ThreadPoolExecutor(max_workers=n_workers, thread_name_prefix="turbo")
            _EXECUTORS[n_workers] = ex
        return ex


@lru_cache(maxsize=32)
def _cached_decoder(k, inv_rate, algorithm, extrinsic_scale, max_iterations, stop_on_crc, stop_on_stable,
                    llr_margin):
    return TurboDecoder(
        k,
        inv_rate,
        algorithm=algorithm,
        extrinsic_scale=extrinsic_scale,
        max_iterations=max_iterations,
        stop_on_crc=stop_on_crc,
        stop_on_stable=stop_on_stable,
        llr_margin=llr_margin,
    )


def _decoder(k, inv_rate, algorithm, extrinsic_scale, max_iterations, stop_on_crc, stop_on_stable,
             llr_margin) -> TurboDecoder:
    args = (k, inv_rate, algorithm, extrinsic_scale, max_iterations, stop_on_crc, stop_on_stable, llr_margin)
    try:
        return _cached_decoder(*args)
    except TypeError:  # unhashable argument: let the constructor report it
        return _cached_decoder.__wrapped__(*args)


def decode(
    llr: np.ndarray,
    k: int = DEFAULT_K,
    inv_rate: int = DEFAULT_INV_RATE,
    max_iterations: int = 10,
    algorithm: Algorithm = DEFAULT_ALGORITHM,
    extrinsic_scale: float | None = None,
    stop_on_crc: bool = True,
    stop_on_stable: bool = False,
    llr_margin: float | None = None,
) -> TurboResult:
    """Decode one turbo codeblock of LLRs (L = ln P(0)/P(1), positive = bit 0; length (k+4)*inv_rate).

    extrinsic_scale and llr_margin None mean the algorithm's defaults (DEFAULT_SCALE, DEFAULT_LLR_MARGIN).
    """
    dec = _decoder(k, inv_rate, algorithm, extrinsic_scale, max_iterations, stop_on_crc, stop_on_stable, llr_margin)
    return dec.decode(llr)


def decode_batch(
    llrs: np.ndarray,
    k: int = DEFAULT_K,
    inv_rate: int = DEFAULT_INV_RATE,
    max_iterations: int = 10,
    algorithm: Algorithm = DEFAULT_ALGORITHM,
    extrinsic_scale: float | None = None,
    stop_on_crc: bool = True,
    stop_on_stable: bool = False,
    workers: int | None = None,
    llr_margin: float | None = None,
) -> list[TurboResult]:
    """Decode many codeblocks (2-D, one per row) in parallel on all cores (or `workers` threads)."""
    dec = _decoder(k, inv_rate, algorithm, extrinsic_scale, max_iterations, stop_on_crc, stop_on_stable, llr_margin)
    return dec.decode_batch(llrs, workers=workers)
