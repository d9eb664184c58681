"""The streaming receiver core: :class:`Receiver` runs the stages over a recording (or a span of it), chunk by
chunk, and yields decoded codeblocks; :class:`ReceiverStats` holds its figures."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits

from heradecode.ccsds.codeblock import CodeblockDecoder
from heradecode.ccsds.mission import HERA, MissionProfile
from heradecode.dsp.acquisition import CarrierAcquisition
from heradecode.dsp.decimate import manchester_loss_db
from heradecode.dsp.demod import DemodOutput, PcmPmDemodulator
from heradecode.dsp.nco import Nco
from heradecode.dsp.pll import CarrierPll
from heradecode.fec.asm import Codeblock, FrameSync
from heradecode.fec.confirm import DecodeConfirm
from heradecode.io.dopplerfile import DopplerProfile
from heradecode.io.recording import Recording
from heradecode.products.decodelog import CARRIER_DTYPE, DecodedCodeblock
from heradecode.receiver.config import ReceiverConfig, check_symbol_rate, nominal_downlink_hz
from heradecode.receiver.carrier import CarrierFix, FrontEndPlan, find_carrier, plan_front_end


class Receiver:
    """Runs the receiver stages over a recording; iterate :meth:`run` for decoded codeblocks.

    ``doppler`` is the Doppler profile to remove (Hz versus UNIX time); the carrier is
    expected at ``carrier_offset_hz`` from the centre frequency after Doppler removal,
    by default ``downlink_freq_hz - recording.center_freq_hz``.  ``carrier_fix`` is where
    the wide search found the carrier: by default :func:`find_carrier` runs at the start of
    the recording; ``None`` skips the wide search (the demodulator then searches
    ``acq_window_hz``, or ``track_window_hz``, around the prediction).
    """

    def __init__(self, recording: Recording, config: ReceiverConfig = ReceiverConfig(), *,
                 doppler: DopplerProfile | None = None, mission: MissionProfile = HERA, keep_soft: int = 0,
                 carrier_fix: "CarrierFix | None | str" = "search") -> None:
        self.recording = recording
        self.config = config
        self.mission = mission
        self.doppler = doppler
        self.symbol_rate_baud = check_symbol_rate(recording, config)
        if isinstance(carrier_fix, str):
            if carrier_fix != "search":
                raise ValueError(f"carrier_fix must be a CarrierFix, None or 'search', got {carrier_fix!r}")
            carrier_fix = find_carrier(recording, config, doppler=doppler)
        plan = plan_front_end(recording, config, doppler=doppler, carrier_fix=carrier_fix)
        self.plan: FrontEndPlan = plan  #: the front end's frequency plan and decimation
        self.carrier_fix: CarrierFix | None = carrier_fix  #: where the wide search found the carrier (None: not found)
        #: the front end's band-limiting loss (dB of bi-phase-L energy outside the band it keeps), added back to Es/N0
        self.band_loss_db = manchester_loss_db(plan.passband_hz, self.symbol_rate_baud)
        self.codeblock_symbols = config.code.codeblock_length
        #: derandomization, turbo decoding, CRC, Es/N0 (data-aided after a CRC pass) and frame identity
        self.codeblocks = CodeblockDecoder(config.code, mission, algorithm=config.algorithm,
                                           max_iterations=config.max_iterations, esn0_loss_db=self.band_loss_db,
                                           esn0_data_aided=True)
        self.decoder = self.codeblocks.decoder
        self.stats = ReceiverStats()
        self._track_rows: list[np.ndarray] = []
        self.keep_soft = int(keep_soft)  #: soft symbols (LLRs) to keep from the start of demodulation
        self._soft: list[np.ndarray] = []
        self._soft_count = 0
        self._start(0)  # the stages exist from here on: process() and rx.demod / rx.pll can be used alone

    # ------------------------------------------------------------------ stage set-up
    def _start(self, first_sample: int) -> None:
        """Create every stage for a stream starting at recording sample ``first_sample``."""
        cfg = self.config
        t0 = self.recording.sample_unix_time(first_sample)
        self._first_sample = first_sample
        self._t0 = t0
        self.front_end = self.plan.front_end(self.symbol_rate_baud, t0, acq_time_s=cfg.acq_time_s,
                                             reacq_time_s=cfg.reacq_time_s, pll_bandwidth_hz=cfg.pll_bandwidth_hz,
                                             pll_order=cfg.pll_order, lookback_s=cfg.lookback_seconds)
        self.framesync = FrameSync(code=cfg.code, confirm=self._confirm())
        self._sym_base = 0  # absolute index of _sym_pos[0]
        self._sym_pos = np.zeros(0)
        self._started_at = first_sample

    # the plan's figures, as attributes of the receiver (see FrontEndPlan)
    offset_hz = property(lambda self: self.plan.offset_hz, doc="Carrier before Doppler, Hz from the centre frequency.")
    carrier_model = property(lambda self: self.plan.carrier_model,
                             doc="The frequency law removed after decimation, on top of ``offset_hz``.")
    search_window_hz = property(lambda self: self.plan.search_window_hz, doc="The demodulator's carrier search, ± Hz.")
    pre_shift_hz = property(lambda self: self.plan.pre_shift_hz, doc="Coarse shift before the decimator (Hz).")
    factor = property(lambda self: self.plan.factor, doc="Decimation factor.")
    samp_rate = property(lambda self: self.plan.samp_rate, doc="Sample rate after decimation (samples/s).")

    @property
    def demod(self) -> PcmPmDemodulator:
        """The front end's demodulator (carrier search, combiner, PLL, bi-phase-L, look-back)."""
        return self.front_end.demod

    @property
    def nco(self) -> Nco | None:
        """The front end's carrier NCO (the Doppler law and offset removed after decimation)."""
        return self.front_end.nco

    # ------------------------------------------------------------------ processing
    def run(self, start_sample: int = 0, stop_sample: int | None = None, *,
            on_chunk: Callable[["Receiver"], None] | None = None) -> Iterator[DecodedCodeblock]:
        """Decode samples [start_sample, stop_sample) and yield codeblocks as they are decoded.

        ``on_chunk`` is called with the receiver after every chunk (progress display).
        """
        rec = self.recording
        stop = rec.num_samples if stop_sample is None else min(int(stop_sample), rec.num_samples)
        if int(start_sample) != self._started_at or self.stats.samples:
            self._start(int(start_sample))  # the stages built in __init__ start at sample 0 and are fresh
        chunk_len = max(int(self.config.chunk_s * rec.samp_rate) // self.factor * self.factor, self.factor)
        # ci16 goes to the decimator as raw int16 I/Q: it converts while filtering (no float copy of the input)
        raw = rec.datatype == "ci16_le" and self.front_end.takes_int16
        # BLAS on one thread: the vector products per codeblock are small, and OpenBLAS threads busy-wait after
        # each call, which took a second core from a one-worker decode and from the other worker of a parallel one
        with threadpool_limits(limits=1, user_api="blas"):
            for pos in range(int(start_sample), stop, chunk_len):
                n = min(chunk_len, stop - pos)
                yield from self.process(rec.read_ci16(pos, n) if raw else rec.read(pos, n))
                if on_chunk is not None:
                    on_chunk(self)
            yield from self.finish()

    def process(self, x: np.ndarray) -> list[DecodedCodeblock]:
        """Feed the next chunk of recording samples; return the codeblocks decoded.

        ``x`` is complex (channels, n) or, for the decimator's fast path, int16 I/Q (channels, n, 2).
        """
        self.stats.samples += x.shape[1]
        out = self._symbols(self.front_end.process(x))
        self._count_corruption()
        return out

    def _count_corruption(self) -> None:
        """Corrupt input counted by the stages (NaN/inf samples, blanked bursts, erased soft outliers)."""
        self.stats.nonfinite_samples = self.front_end.n_nonfinite
        self.stats.blanked_samples = self.front_end.n_blanked
        self.stats.soft_outliers = self.framesync.n_outliers + self.framesync.n_nonfinite
        self.stats.lookbacks, self.stats.lookback_failures = self.demod.n_lookbacks, self.demod.n_lookback_failures

    def finish(self) -> list[DecodedCodeblock]:
        """End of stream: flush the filters and the frame synchronizer."""
        out = self._symbols(self.front_end.flush())
        out += self._decode(self.framesync.flush())
        self.stats.truncated_codeblocks += self.framesync.n_truncated
        self._count_corruption()
        return out

    @property
    def pll(self) -> CarrierPll | None:
        """The carrier PLL (None until the carrier is acquired)."""
        return self.demod.pll

    @property
    def acquisition(self) -> CarrierAcquisition | None:
        """The first successful carrier search (None before)."""
        return self.demod.acquisition

    def _symbols(self, out: DemodOutput) -> list[DecodedCodeblock]:
        self.stats.acquisition_failures = self.demod.acquisition_failures
        if out.track.size:
            self._store_track(out.track)
        if len(out):
            self._append_positions(out.sample)
            if self._soft_count < self.keep_soft:
                self._soft.append(out.llr[:self.keep_soft - self._soft_count].copy())
                self._soft_count += self._soft[-1].size
        return self._decode(self.framesync.feed(out.llr))

    @property
    def soft_symbols(self) -> np.ndarray:
        """The first ``keep_soft`` soft symbols (float32 LLRs, positive = bit 0) demodulated so far."""
        return np.concatenate(self._soft) if self._soft else np.zeros(0, np.float32)

    # ------------------------------------------------------------------ bookkeeping
    def _append_positions(self, pos_dec: np.ndarray) -> None:
        # the synchronizer returns codeblocks up to two periods behind the newest symbol fed; a batch of
        # symbols (the demodulator's look-back releases up to lookback_s at once) is kept whole on top
        keep = 3 * (self.codeblock_symbols + 256) + pos_dec.size
        self._sym_pos = np.concatenate((self._sym_pos, pos_dec))
        if self._sym_pos.size > keep:
            drop = self._sym_pos.size - keep
            self._sym_pos = self._sym_pos[drop:]
            self._sym_base += drop

    def _symbol_sample(self, index: int) -> int:
        i = index - self._sym_base
        if not 0 <= i < self._sym_pos.size:
            return self._first_sample
        return self._first_sample + int(round(self.plan.decimation.input_sample(self._sym_pos[i])))

    def _store_track(self, track: np.ndarray) -> None:
        rows = np.empty(track.size, CARRIER_DTYPE)
        rows["sample"] = self._first_sample + track["sample"] * self.factor
        rows["unix_time"] = track["time"]
        # received carrier = centre + coarse shift + NCO frequency + PLL frequency; Doppler w.r.t. nominal
        removed = self.nco.freq_hz(track["sample"])
        rows["doppler_hz"] = (self.recording.center_freq_hz + self.pre_shift_hz + removed + track["freq_hz"]
                              - nominal_downlink_hz(self.recording, self.config))
        rows["phase_cycles"] = track["phase_cycles"]
        rows["carrier_phase_cycles"] = self._carrier_phase(track, rows["sample"])
        rows["locked"] = track["locked"]
        rows["cn0_dbhz"] = track["cn0_dbhz"]
        self._track_rows.append(rows)
        self.stats.cn0_dbhz = float(track["cn0_dbhz"][-1])
        self.stats.locked = bool(track["locked"][-1])

    def _carrier_phase(self, track: np.ndarray, rec_sample: np.ndarray) -> np.ndarray:
        """Received carrier phase minus the nominal downlink's (cycles, unwrapped) at the track rows.

        Sum of the loop's unwrapped phase, the Doppler NCO's phase (unwrapped here: its increment between
        rows is its wrapped difference plus the whole cycles its frequency integrates to) and the fixed
        centre/coarse-shift offsets (integrated from the recording's first sample).
        """
        n = track["sample"]
        wrapped = self.nco.phase_cycles(n)
        f_nco = self.nco.freq_hz(n)
        prev = getattr(self, "_nco_prev", None)
        if prev is None or prev[0] >= n[0]:
            prev = (int(n[0]), float(wrapped[0]), float(f_nco[0]), float(wrapped[0]))
        s_all = np.concatenate(([prev[0]], n))
        w_all = np.concatenate(([prev[1]], wrapped))
        f_all = np.concatenate(([prev[2]], f_nco))
        expected = 0.5 * (f_all[1:] + f_all[:-1]) * np.diff(s_all) / self.samp_rate
        dw = np.diff(w_all)
        unwrapped = prev[3] + np.cumsum(dw + np.round(expected - dw))
        self._nco_prev = (int(n[-1]), float(wrapped[-1]), float(f_nco[-1]), float(unwrapped[-1]))
        fixed_hz = self.recording.center_freq_hz + self.pre_shift_hz - nominal_downlink_hz(self.recording, self.config)
        return unwrapped + track["phase_cycles"] + fixed_hz * (rec_sample / self.recording.samp_rate)

    def pop_track(self) -> np.ndarray:
        """Carrier track rows (:data:`CARRIER_DTYPE`) produced since the last call."""
        if not self._track_rows:
            return np.zeros(0, CARRIER_DTYPE)
        out = np.concatenate(self._track_rows)
        self._track_rows = []
        return out

    # ------------------------------------------------------------------ decoding
    def _confirm(self) -> DecodeConfirm:
        """Decides weak marker candidates by decoding: CRC (double check) and the mission's TM version and SCID."""
        return self.codeblocks.confirm()

    def _decode(self, blocks: list[Codeblock]) -> list[DecodedCodeblock]:
        fs = self.framesync
        self.stats.sync_attempts, self.stats.sync_confirmed = fs.n_attempts, fs.n_confirmed
        if not blocks:
            return []
        # markers confirmed by decoding were decoded already (b.decoded)
        decoded = self.codeblocks.decode_batch([b.soft for b in blocks], [b.decoded for b in blocks],
                                               workers=self.config.decoder_threads)
        out = []
        for b, d in zip(blocks, decoded):
            start = self._symbol_sample(b.asm_index)
            cb = DecodedCodeblock(
                start_sample=start,
                unix_time=self.recording.sample_unix_time(start),
                polarity=b.polarity,
                sync_score=float(b.score),
                sync_reason=b.reason,
                esn0_db=d.esn0_db,
                ebn0_db=d.ebn0_db,
                iterations=d.iterations,
                crc_ok=d.crc_ok,
            )
            if d.crc_ok:
                cb = cb.with_identity(d.frame, d.identity)
                self.stats.frames_ok += 1
                self.stats.suspect += int(cb.suspect)
            else:
                self.stats.frames_failed += 1
            out.append(cb)
        return out


@dataclass
class ReceiverStats:
    """Live figures of a receiver or of a whole decode (progress display)."""

    samples: int = 0  #: recording samples processed
    samples_total: int = 0  #: samples of the recording (0 when unknown)
    frames_ok: int = 0
    frames_failed: int = 0
    suspect: int = 0
    truncated_codeblocks: int = 0
    acquisition_failures: int = 0
    nonfinite_samples: int = 0  #: input samples with a NaN/inf component, read as 0
    blanked_samples: int = 0  #: samples of full-scale bursts blanked (Doppler NCO, combiner, carrier loop)
    soft_outliers: int = 0  #: soft symbols erased before the marker search (non-finite or far outlying)
    sync_attempts: int = 0  #: weak marker candidates decided by decoding their codeblock
    sync_confirmed: int = 0  #: of them, kept (CRC and frame header checked)
    lookbacks: int = 0  #: look-backs run (the held stretch demodulated again after the first lock and re-acquisitions)
    lookback_failures: int = 0  #: of them, those whose backward demodulator never matched the live symbol grid
    cn0_dbhz: float = float("nan")
    locked: bool = False
