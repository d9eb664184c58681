"""The receiver: from a dual-polarization IQ recording to decoded, CRC-checked TM frames.

Stages, each an object with state carried across chunks (usable alone on numpy arrays):

0. :func:`find_carrier`: a wide search of the raw recording for the residual carrier
   (:class:`~heradecode.dsp.acquisition.WideCarrierSearch` on a bounded stretch of
   ``search_span_s``): with a Doppler profile (or a given carrier offset), ±100 kHz around
   the prediction, preferring the line closest to it; without, the whole recorded band (a
   blind search: an unknown LO offset and Doppler).  The frequency and drift rate found
   correct the prediction (or replace it) for everything below, so that the decimation is
   centred on the carrier; a fix far from the prediction is reported in one warning line;
1. :class:`~heradecode.dsp.decimate.Decimator` to a rate that suits the mode (after an
   optional coarse frequency shift when the carrier sits far from the centre);
2. :class:`~heradecode.dsp.nco.Nco` removing the carrier model (the Doppler profile and the
   expected carrier offset, corrected by the fix), phase-continuously;
3. :class:`~heradecode.dsp.demod.PcmPmDemodulator`: FFT search for the residual carrier,
   maximal-ratio combining of X and Y, residual-carrier PLL (re-acquires after fades),
   Manchester matched filter, timing, LLRs;
7. :class:`~heradecode.fec.asm.FrameSync`: soft 128-bit ASM search, both polarities;
8. :class:`~heradecode.ccsds.codeblock.CodeblockDecoder`: derandomization, turbo decoding, CRC-16,
   Es/N0 and the frame identity read by the mission's frame parser.

:class:`Receiver` runs them over a :class:`~heradecode.io.Recording` (or a span of it)
and yields :class:`DecodedCodeblock` records as codeblocks are decoded.  The receiver is
an edge module: it assembles the layers ``io`` → ``dsp`` → ``fec`` → ``ccsds``.
"""

from __future__ import annotations

import hashlib
import logging
import math
import multiprocessing
import os
import warnings
from collections import OrderedDict
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace

import numpy as np

from heradecode.ccsds.codeblock import CodeblockDecoder
from heradecode.ccsds.mission import HERA, MissionProfile
from heradecode.dsp.acquisition import CarrierAcquisition, WideAcquisition, WideCarrierSearch
from heradecode.dsp.decimate import manchester_loss_db
from heradecode.dsp.demod import LOOKBACK_S, DemodOutput, PcmPmDemodulator
from heradecode.dsp.frontend import FALLBACK_WINDOW_HZ, DecimationPlan, FrontEnd, plan_decimation
from heradecode.dsp.nco import Nco
from heradecode.dsp.pll import CarrierPll
from heradecode.errors import UserError
from heradecode.fec.asm import Codeblock, FrameSync
from heradecode.fec.confirm import DecodeConfirm
from heradecode.fec.turbo import DEFAULT_INV_RATE, DEFAULT_K
from heradecode.fec.turbocode import TurboCode
from heradecode.io.dopplerfile import DopplerProfile
from heradecode.io.recording import Recording
from heradecode.missions import unsupported_link, usable_modes
from heradecode.products.decodelog import CARRIER_DTYPE, DECODE_COUNTERS, DecodedCodeblock, DecodeHeader

#: Hera's symbol rates (baud) per mode, from its mission profile; other missions: ReceiverConfig.from_mission.
SYMBOL_RATES: dict[str, float] = {m.name: m.symbol_rate_baud for m in HERA.link.modes}



@dataclass(frozen=True)
class ReceiverConfig:
    """Receiver settings; every field has a sensible default for Hera (other missions: :meth:`from_mission`)."""

    mode: str = "high"  #: a mode of ``modes`` (see :func:`detect_mode` for auto)
    symbol_rate: float | None = None  #: baud; overrides the mode's rate
    carrier_offset_hz: float | None = None  #: carrier offset (Hz) from the centre after Doppler removal
    #: nominal downlink frequency (Hz); None: not known, the carrier is expected at the centre frequency
    downlink_freq_hz: float | None = HERA.downlink_freq_hz
    #: wide carrier search (± Hz) around the prediction; None: ±100 kHz with a Doppler profile or a carrier
    #: offset, the whole recorded band without (blind)
    acq_window_hz: float | None = None
    track_window_hz: float = 5e3  #: demodulator's carrier search (± Hz) around the carrier found, and after fades
    search_span_s: float = 1.5  #: stretch the wide carrier search spans (s; every 3rd 50 ms segment is analysed)
    max_rate_hz_s: float = 60.0  #: drift rates the wide search tries (± Hz/s around the predicted rate)
    acq_time_s: float = 0.25  #: time averaged by the first carrier search (s)
    reacq_time_s: float = 0.1  #: after loss of lock: search this often, on this much signal (s)
    #: demodulator's look-back (s of signal demodulated again once the loops settle after an acquisition);
    #: None: the larger of 0.75 s and two codeblock periods; 0: off
    lookback_s: float | None = None
    pll_bandwidth_hz: float = 15.0  #: PLL noise bandwidth (Hz)
    pll_order: int = 3  #: PLL order (2 or 3)
    chunk_s: float = 0.1  #: input seconds per processing chunk
    k: int = DEFAULT_K  #: turbo information block length (bits), Hera's from its profile
    inv_rate: int = DEFAULT_INV_RATE  #: turbo code inverse rate, Hera's from its profile
    max_iterations: int = 10  #: turbo iterations at most
    algorithm: str = "linear-log-map"  #: turbo SISO algorithm
    decoder_threads: int | None = 1  #: threads for batch turbo decoding (None: all cores)
    #: the mission's modes the receiver can take: (name, symbol rate in baud); auto mode tries each
    modes: tuple[tuple[str, float], ...] = tuple(SYMBOL_RATES.items())

    @property
    def code(self) -> TurboCode:
        """The turbo code (k, inv_rate) of the link."""
        return TurboCode(self.k, self.inv_rate)

    @classmethod
    def from_mission(cls, profile: MissionProfile, mode: str = "auto", **overrides) -> "ReceiverConfig":
        """Settings for a mission's link (``mode``: one of its modes, or 'auto'); UserError for a link not supported.

        The symbol rates, turbo code and downlink frequency come from the profile;
        ``overrides`` set any other field.  With 'auto' the config holds every
        supported mode (:func:`detect_mode` picks one) and ``mode`` is the first.
        """
        why = unsupported_link(profile, None if mode == "auto" else mode)
        if why:
            raise UserError(why)
        usable = tuple((m.name, m.symbol_rate_baud) for m in usable_modes(profile))
        values = {"mode": usable[0][0] if mode == "auto" else mode, "modes": usable,
                  "k": profile.coding.turbo_k, "inv_rate": profile.coding.turbo_inv_rate,
                  "downlink_freq_hz": profile.downlink_freq_hz, **overrides}
        return cls(**values)

    @property
    def lookback_seconds(self) -> float:
        """The demodulator's look-back span (s): ``lookback_s``, by default max(0.75 s, two codeblock periods)."""
        if self.lookback_s is not None:
            return max(float(self.lookback_s), 0.0)
        period_s = ((self.k + 4) * self.inv_rate + 32 * self.inv_rate) / self.rate_baud
        return max(LOOKBACK_S, 2.0 * period_s)

    @property
    def rate_baud(self) -> float:
        """The symbol rate used (baud)."""
        if self.symbol_rate is not None:
            return float(self.symbol_rate)
        rates = dict(self.modes)
        if self.mode not in rates:
            raise UserError(f"mode must be one of {', '.join(rates)} (or auto), got {self.mode!r}")
        return rates[self.mode]


#: wide search window (± Hz) around a prediction (a Doppler profile or a given carrier offset) by default
WIDE_WINDOW_HZ = 100e3
#: a fix further than this from the prediction (Hz, or Hz/s in rate) is reported
FAR_OFFSET_HZ = 300.0
FAR_RATE_HZ_S = 3.0
DC_EXCLUDE_HZ = 200.0  #: the wide search masks ± this around the recording's centre (the receiver's DC spike)
SEARCH_STRIDE = 3  #: the wide search analyses every 3rd segment of its span (a third of the cost, same rate precision)

log = logging.getLogger("heradecode")


class CarrierOffsetWarning(UserWarning):
    """The carrier was found far from where the Doppler prediction put it."""


@dataclass(frozen=True)
class CarrierFix:
    """Where the wide carrier search found the residual carrier in a recording (frequencies from its centre)."""

    sample: int  #: recording sample at the middle of the searched stretch
    unix_time: float  #: UNIX time (s) of that sample
    freq_hz: float  #: carrier frequency there (Hz from the recording's centre frequency)
    rate_hz_s: float  #: carrier drift rate (Hz/s)
    cn0_dbhz: float  #: carrier C/N0 seen by the search (dB-Hz, channels summed)
    downlink_offset_hz: float  #: nominal downlink minus centre frequency (Hz)
    predicted_hz: float | None  #: the prediction at ``unix_time`` (Hz from the centre); None: blind search
    predicted_rate_hz_s: float | None  #: the prediction's drift rate (Hz/s); None: blind search
    search: WideAcquisition = field(repr=False, compare=False)  #: the search result

    @property
    def blind(self) -> bool:
        """Whether there was no prediction (no Doppler profile, no carrier offset given)."""
        return self.predicted_hz is None

    @property
    def offset_error_hz(self) -> float:
        """Found minus predicted frequency (Hz); 0 for a blind search."""
        return 0.0 if self.predicted_hz is None else self.freq_hz - self.predicted_hz

    @property
    def rate_error_hz_s(self) -> float:
        """Found minus predicted drift rate (Hz/s); 0 for a blind search."""
        return 0.0 if self.predicted_rate_hz_s is None else self.rate_hz_s - self.predicted_rate_hz_s

    @property
    def far_from_prediction(self) -> bool:
        """Whether the fix is further from the prediction than :data:`FAR_OFFSET_HZ` or :data:`FAR_RATE_HZ_S`."""
        return (not self.blind and (abs(self.offset_error_hz) > FAR_OFFSET_HZ
                                    or abs(self.rate_error_hz_s) > FAR_RATE_HZ_S))

    def carrier_hz(self, unix_time: float | np.ndarray) -> float | np.ndarray:
        """The carrier extrapolated linearly from the fix (Hz from the centre)."""
        return self.freq_hz + self.rate_hz_s * (np.asarray(unix_time, dtype=np.float64) - self.unix_time)

    def describe(self) -> str:
        """One line: where the carrier was found, and how far from the prediction."""
        where = (f"carrier found at {self.freq_hz - self.downlink_offset_hz:+.0f} Hz from the nominal downlink, "
                 f"drifting {self.rate_hz_s:+.1f} Hz/s, C/N0 {self.cn0_dbhz:.1f} dB-Hz")
        if self.blind:
            return f"{where} (blind search of the whole band: no Doppler profile)"
        if self.far_from_prediction:
            return (f"carrier found {self.offset_error_hz:+.0f} Hz and {self.rate_error_hz_s:+.1f} Hz/s away from "
                    "the predicted carrier (ephemeris, Doppler file or receiver frequency off?); "
                    "decoding at the carrier found")
        return f"{where}, {self.offset_error_hz:+.0f} Hz and {self.rate_error_hz_s:+.1f} Hz/s from the prediction"


def carrier_model(fix: CarrierFix | None, doppler: DopplerProfile | None, offset_hz: float,
                  t0: float, t1: float) -> DopplerProfile | None:
    """The frequency law (Hz, on top of ``offset_hz``) the receiver removes over [t0, t1] (UNIX s).

    Without a fix: the Doppler profile as given.  With a fix: the Doppler profile plus the
    fix's frequency and rate errors (a linear correction), or, without a profile, the fix's
    carrier extrapolated linearly.
    """
    if fix is None:
        return doppler
    lo, hi = min(t0, fix.unix_time) - 2.0, max(t1, fix.unix_time) + 2.0
    if doppler is None:
        t = np.array([lo, hi])
        return DopplerProfile(t, fix.carrier_hz(t) - offset_hz)
    inside = doppler.unix_time[(doppler.unix_time > lo) & (doppler.unix_time < hi)]
    t = np.concatenate(([lo], inside, [hi]))
    df = fix.offset_error_hz + fix.rate_error_hz_s * (t - fix.unix_time)
    return DopplerProfile(t, doppler.freq_at(t) + df)


def _doppler_rate(doppler: DopplerProfile, t: float) -> float:
    return float(doppler.freq_at(t + 0.5) - doppler.freq_at(t - 0.5))


_FIX_CACHE: "OrderedDict[tuple, CarrierFix | None]" = OrderedDict()
_FIX_CACHE_SIZE = 16


def clear_carrier_cache() -> None:
    """Forget the carrier fixes :func:`find_carrier` has cached."""
    _FIX_CACHE.clear()


def _fix_key(recording: Recording, config: ReceiverConfig, doppler: DopplerProfile | None,
             start: int, stop: int) -> tuple:
    files = []
    for p in recording.paths:
        try:
            st = os.stat(p)
            files.append((str(p), st.st_size, st.st_mtime_ns))
        except OSError:
            files.append((str(p), -1, -1))
    dop = None
    if doppler is not None:
        dop = hashlib.sha1(doppler.unix_time.tobytes() + doppler.freq_hz.tobytes()).hexdigest()
    return (tuple(files), recording.num_samples, recording.samp_rate, recording.center_freq_hz,
            recording.sample_unix_time(0), start, stop, config.downlink_freq_hz, config.carrier_offset_hz,
            config.acq_window_hz, config.search_span_s, config.max_rate_hz_s, config.symbol_rate, dop)


def find_carrier(recording: Recording, config: ReceiverConfig = ReceiverConfig(), *,
                 doppler: DopplerProfile | None = None, start_sample: int = 0, stop_sample: int | None = None,
                 warn: bool = True) -> CarrierFix | None:
    """Search the raw recording for the residual carrier: frequency and drift at a stretch of ``search_span_s``.

    With a prediction (a Doppler profile or ``config.carrier_offset_hz``) the search covers
    ``acq_window_hz`` (default ±100 kHz) around it and prefers the line closest to it; without
    one it covers the whole recorded band.  The stretch at ``start_sample`` is tried first,
    then those at 25, 50 and 75 % of [start_sample, stop_sample).  Returns None when no
    carrier is found.  Results are cached per recording and settings (the mode does not
    matter), so that mode detection and decoding search once; a fix far from the prediction
    gives one :class:`CarrierOffsetWarning` (``warn``), a blind fix one info line on the
    ``heradecode`` logger, when first found.
    """
    n_total = recording.num_samples
    start = max(0, min(int(start_sample), n_total))
    stop = n_total if stop_sample is None else max(start, min(int(stop_sample), n_total))
    key = _fix_key(recording, config, doppler, start, stop)
    if key in _FIX_CACHE:
        _FIX_CACHE.move_to_end(key)
        return _FIX_CACHE[key]
    fix = _search_recording(recording, config, doppler, start, stop)
    _FIX_CACHE[key] = fix
    while len(_FIX_CACHE) > _FIX_CACHE_SIZE:
        _FIX_CACHE.popitem(last=False)
    if fix is not None and warn:
        if fix.far_from_prediction:
            warnings.warn(fix.describe(), CarrierOffsetWarning, stacklevel=2)
        else:
            log.info(fix.describe())
    return fix


def expected_offset_hz(recording: Recording, config: ReceiverConfig) -> float:
    """Where the carrier lies (Hz from the centre frequency) before Doppler: ``config.carrier_offset_hz``, else
    the nominal downlink minus the centre frequency plus the receiver offset the recording states."""
    if config.carrier_offset_hz is not None:
        return float(config.carrier_offset_hz)
    return nominal_downlink_hz(recording, config) - recording.center_freq_hz + recording.receiver_offset_hz


def nominal_downlink_hz(recording: Recording, config: ReceiverConfig) -> float:
    """The nominal downlink frequency (Hz): the config's, or the recording's centre when the mission's is not known."""
    return recording.center_freq_hz if config.downlink_freq_hz is None else float(config.downlink_freq_hz)


def decode_header(recording: Recording, config: ReceiverConfig, stats: "ReceiverStats | None" = None, *,
                  mission: str = "hera", doppler_mode: str = "one-way") -> DecodeHeader:
    """The ``decode.json`` header of a decode of ``recording`` with ``config`` (``stats``: the receiver's counters)."""
    return DecodeHeader(recording=recording.paths[0].name, mission=mission, mode=config.mode,
                        symbol_rate_baud=config.rate_baud, samp_rate_hz=recording.samp_rate,
                        center_freq_hz=recording.center_freq_hz,
                        downlink_freq_hz=nominal_downlink_hz(recording, config),
                        start_time_utc=str(recording.start_time) + "Z", duration_s=recording.duration_s,
                        pll_bandwidth_hz=config.pll_bandwidth_hz, doppler_mode=doppler_mode,
                        counters={n: int(getattr(stats, n, 0)) for n in DECODE_COUNTERS})


def _search_recording(recording: Recording, config: ReceiverConfig, doppler: DopplerProfile | None,
                      start: int, stop: int) -> CarrierFix | None:
    fs = recording.samp_rate
    offset = expected_offset_hz(recording, config)
    predicted = doppler is not None or config.carrier_offset_hz is not None
    window = config.acq_window_hz
    if window is None and predicted:
        window = WIDE_WINDOW_HZ
    rates = sorted({*dict(config.modes).values(), *([config.symbol_rate] if config.symbol_rate else [])})
    n_span = int(round(min(config.search_span_s, (stop - start) / fs) * fs))
    if n_span < int(2 * fs / 20.0) + 2:
        return None  # less than two FFT segments: nothing to search
    room = stop - start - n_span
    starts = list(dict.fromkeys([start, *(start + int(f * room) for f in (0.25, 0.5, 0.75))]))
    chunk = max(1, int(0.1 * fs))
    read = recording.read_ci16 if recording.datatype == "ci16_le" else recording.read  # raw int16: faster
    for s0 in starts:
        t_mid = float(recording.sample_unix_time(s0)) + 0.5 * n_span / fs
        pred = offset + (float(doppler.freq_at(t_mid)) if doppler is not None else 0.0)
        pred_rate = _doppler_rate(doppler, t_mid) if doppler is not None else 0.0
        win = window
        if win is not None and abs(pred) - win >= 0.45 * fs:
            win = None  # the prediction puts the carrier outside the recorded band: search all of it
        search = WideCarrierSearch(fs, center_hz=pred if win is not None else 0.0, window_hz=win,
                                   span_s=n_span / fs, max_rate_hz_s=config.max_rate_hz_s,
                                   rate_center_hz_s=pred_rate, dc_exclude_hz=DC_EXCLUDE_HZ,
                                   prefer_hz=pred if predicted else None, symbol_rates=rates,
                                   stride=SEARCH_STRIDE)
        while not search.full:
            a, b = search.wanted()  # only the segments analysed are read
            n = min(b - a, chunk, stop - s0 - a)
            if n <= 0:
                break
            search.feed(read(s0 + a, n), at=a)
        if search.n_spectra < 2:
            continue
        res = search.result()
        if not res.detected:
            continue
        mid = s0 + int(round(res.center_sample))
        t_fix = float(recording.sample_unix_time(mid))
        pred = offset + (float(doppler.freq_at(t_fix)) if doppler is not None else 0.0)
        pred_rate = _doppler_rate(doppler, t_fix) if doppler is not None else 0.0
        return CarrierFix(sample=mid, unix_time=t_fix, freq_hz=res.freq_hz, rate_hz_s=res.rate_hz_s,
                          cn0_dbhz=res.cn0_dbhz,
                          downlink_offset_hz=nominal_downlink_hz(recording, config) - recording.center_freq_hz,
                          predicted_hz=pred if predicted else None,
                          predicted_rate_hz_s=pred_rate if predicted else None, search=res)
    return None


def check_symbol_rate(recording: Recording, config: ReceiverConfig) -> float:
    """The configured symbol rate (baud); UserError when the recording's sample rate cannot carry it."""
    baud = config.rate_baud
    fs = recording.samp_rate
    if fs < 4 * baud:
        raise UserError(f"a recording at {fs:.0f} samples/s cannot carry {baud / 1e3:g} kbaud "
                        f"bi-phase-L (4 samples per symbol at least); wrong --mode?")
    return baud


@dataclass(frozen=True)
class FrontEndPlan:
    """Where the carrier is expected and how the front end shifts and decimates to reach it."""

    offset_hz: float  #: carrier before Doppler, Hz from the centre frequency (:func:`expected_offset_hz`)
    #: the Doppler law removed after decimation (corrected by the fix); not compared (arrays)
    carrier_model: DopplerProfile | None = field(compare=False)
    search_window_hz: float  #: the demodulator's carrier search (and re-acquisition), ± Hz
    decimation: DecimationPlan  #: coarse shift and decimation (:func:`heradecode.dsp.frontend.plan_decimation`)
    expected_hz: tuple[float, float]  #: lowest and highest expected carrier over the recording, Hz from the centre

    @property
    def pre_shift_hz(self) -> float:
        """Coarse shift before the decimator (0 when the carrier lies near the centre)."""
        return self.decimation.pre_shift_hz

    @property
    def factor(self) -> int:
        """Decimation factor."""
        return self.decimation.factor

    @property
    def samp_rate(self) -> float:
        """Sample rate after decimation (samples/s)."""
        return self.decimation.samp_rate

    @property
    def passband_hz(self) -> float:
        """Decimator passband, ± Hz (the output Nyquist band without decimation)."""
        return self.decimation.passband_hz

    def front_end(self, symbol_rate_baud: float, start_unix_s: float, **demod_options) -> FrontEnd:
        """The stages this plan describes, for a stream starting at ``start_unix_s``."""
        return FrontEnd(self.decimation, symbol_rate_baud, start_unix_s=start_unix_s, offset_hz=self.offset_hz,
                        carrier_model=self.carrier_model, search_window_hz=self.search_window_hz, **demod_options)


def plan_front_end(recording: Recording, config: ReceiverConfig = ReceiverConfig(), *,
                   doppler: DopplerProfile | None = None, carrier_fix: "CarrierFix | None" = None) -> FrontEndPlan:
    """The front end's plan: expected carrier, corrected Doppler law, coarse shift and decimation.

    The coarse shift and the decimation are :func:`heradecode.dsp.frontend.plan_decimation` of the
    carrier expected over the whole recording and the demodulator's search window.
    """
    fs = recording.samp_rate
    baud = check_symbol_rate(recording, config)
    offset = expected_offset_hz(recording, config)
    t0 = recording.sample_unix_time(0)
    model = carrier_model(carrier_fix, doppler, offset, t0, t0 + recording.duration_s)
    # The demodulator's own search (and re-acquisition after fades): narrow around the carrier found (a
    # receiver spur a few kHz away is not taken for it), as wide as asked around the prediction without a fix.
    if carrier_fix is not None:
        window = float(config.track_window_hz)
    else:
        window = float(config.acq_window_hz if config.acq_window_hz is not None else FALLBACK_WINDOW_HZ)
    # Where the carrier lies before any correction, over the whole recording (for the filter plan).
    span = np.linspace(t0, t0 + recording.duration_s, 64)
    f_exp = offset + (model.freq_at(span) if model is not None else np.zeros_like(span))
    return FrontEndPlan(offset_hz=float(offset), carrier_model=model, search_window_hz=window,
                        decimation=plan_decimation(fs, baud, f_exp, window),
                        expected_hz=(float(f_exp.min()), float(f_exp.max())))


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
        self.symbol_rate = check_symbol_rate(recording, config)
        if isinstance(carrier_fix, str):
            if carrier_fix != "search":
                raise ValueError(f"carrier_fix must be a CarrierFix, None or 'search', got {carrier_fix!r}")
            carrier_fix = find_carrier(recording, config, doppler=doppler)
        plan = plan_front_end(recording, config, doppler=doppler, carrier_fix=carrier_fix)
        self.plan: FrontEndPlan = plan  #: the front end's frequency plan and decimation
        self.carrier_fix: CarrierFix | None = carrier_fix  #: where the wide search found the carrier (None: not found)
        self.offset_hz = plan.offset_hz
        #: the frequency law removed after decimation, on top of ``offset_hz`` (Doppler profile corrected by the fix)
        self.carrier_model = plan.carrier_model
        self.search_window_hz = plan.search_window_hz
        self.pre_shift_hz = plan.pre_shift_hz
        self.factor = plan.factor
        self.samp_rate = plan.samp_rate
        #: the front end's band-limiting loss (dB of bi-phase-L energy outside the band it keeps), added back to Es/N0
        self.band_loss_db = manchester_loss_db(plan.passband_hz, self.symbol_rate)
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
        self.front_end = self.plan.front_end(self.symbol_rate, t0, acq_time_s=cfg.acq_time_s,
                                             reacq_time_s=cfg.reacq_time_s, pll_bandwidth_hz=cfg.pll_bandwidth_hz,
                                             pll_order=cfg.pll_order, lookback_s=cfg.lookback_seconds)
        self.framesync = FrameSync(code=cfg.code, confirm=self._confirm())
        self._sym_base = 0  # absolute index of _sym_pos[0]
        self._sym_pos = np.zeros(0)
        self._started_at = first_sample

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
        fixed_hz = self.recording.center_freq_hz + self.pre_shift_hz - self.config.downlink_freq_hz
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
    cn0_dbhz: float = float("nan")
    locked: bool = False


# ---------------------------------------------------------------------- whole recordings


@dataclass(frozen=True)
class Segment:
    """A span of the recording decoded by one worker: run [run_start, run_stop), keep [start, stop)."""

    start: int
    stop: int
    run_start: int
    run_stop: int


def plan_segments(recording: Recording, config: ReceiverConfig, workers: int,
                  segment_s: float = 60.0) -> list[Segment]:
    """Split a recording into overlapping spans so that workers can decode them independently."""
    fs = recording.samp_rate
    n = recording.num_samples
    period_s = ((config.k + 4) * config.inv_rate + 32 * config.inv_rate) / config.rate_baud
    lead = int((config.acq_time_s + 0.2 + 2 * period_s) * fs)
    tail = int((period_s + 0.05) * fs)
    if workers <= 1 or n < 4 * lead:
        return [Segment(0, n, 0, n)]
    count = max(workers, math.ceil(n / (segment_s * fs)))
    count = min(count, max(1, n // (4 * lead)))
    edges = np.linspace(0, n, count + 1).astype(np.int64)
    return [Segment(int(a), int(b), int(max(0, a - lead)), int(min(n, b + tail))) for a, b in zip(edges, edges[1:])]


def decode_segment(recording: Recording, config: ReceiverConfig, seg: Segment, *,
                   doppler: DopplerProfile | None = None, mission: MissionProfile = HERA,
                   fix: "CarrierFix | None | str" = "search",
                   ) -> tuple[list[DecodedCodeblock], np.ndarray, "ReceiverStats"]:
    """Decode one segment alone: the codeblocks whose marker starts in it, its carrier track rows, the figures.

    ``fix`` is the carrier found at the start of the recording (used where none is found at the
    segment's start); ``"search"`` finds it here (cached per process by :func:`find_carrier`).
    """
    found = None
    if seg.run_start > 0:
        # the carrier where this segment starts (the first fix, extrapolated, if none is found there)
        found = find_carrier(recording, config, doppler=doppler, start_sample=seg.run_start,
                             stop_sample=seg.run_stop, warn=False)
    if found is None:
        found = find_carrier(recording, config, doppler=doppler, warn=False) if isinstance(fix, str) else fix
    fix = found
    rx = Receiver(recording, config, doppler=doppler, mission=mission, carrier_fix=fix)
    out = [cb for cb in rx.run(seg.run_start, seg.run_stop) if seg.start <= cb.start_sample < seg.stop]
    track = rx.pop_track()
    track = track[(track["sample"] >= seg.start) & (track["sample"] < seg.stop)]
    return out, track, rx.stats


def _decode_segment(args) -> tuple[list[DecodedCodeblock], np.ndarray, "ReceiverStats"]:
    recording, config, doppler, mission, seg, fix = args
    return decode_segment(recording, config, seg, doppler=doppler, mission=mission, fix=fix)


def decode_recording(recording: Recording, config: ReceiverConfig = ReceiverConfig(), *,
                     doppler: DopplerProfile | None = None, mission: MissionProfile = HERA, workers: int = 1,
                     on_progress: Callable[[ReceiverStats], None] | None = None,
                     ) -> Iterator[tuple[list[DecodedCodeblock], np.ndarray]]:
    """Decode a whole recording; yields (codeblocks, carrier track rows) in reception order.

    With ``workers`` > 1 the recording is cut into overlapping segments decoded in parallel
    processes; codeblocks are kept by the segment their marker starts in, so none is lost
    or repeated at the seams.  The carrier is searched for (:func:`find_carrier`) at the start of
    the recording and of every segment.
    """
    check_symbol_rate(recording, config)
    segments = plan_segments(recording, config, workers)
    fix = find_carrier(recording, config, doppler=doppler)
    if len(segments) == 1:
        rx = Receiver(recording, config, doppler=doppler, mission=mission, carrier_fix=fix)
        rx.stats.samples_total = recording.num_samples
        pending: list[DecodedCodeblock] = []
        tick = (lambda r: on_progress(r.stats)) if on_progress is not None else None
        for cb in rx.run(on_chunk=tick):
            pending.append(cb)
            if len(pending) >= 8:
                yield pending, rx.pop_track()
                pending = []
        if on_progress is not None:
            on_progress(rx.stats)  # the final figures, after the end-of-stream flush
        yield pending, rx.pop_track()
        return
    progress = ReceiverStats(samples_total=recording.num_samples)
    ctx = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=ctx) as pool:
        futures = [pool.submit(_decode_segment, (recording, config, doppler, mission, seg, fix)) for seg in segments]
        for seg, fut in zip(segments, futures):
            cbs, track, st = fut.result()
            progress.samples += seg.stop - seg.start
            # count the codeblocks kept: the worker's own stats include its overlap with the neighbours
            progress.frames_ok += sum(1 for c in cbs if c.crc_ok)
            progress.frames_failed += sum(1 for c in cbs if not c.crc_ok)
            progress.suspect += sum(1 for c in cbs if c.suspect)
            progress.cn0_dbhz, progress.locked = st.cn0_dbhz, st.locked
            for name in ("nonfinite_samples", "blanked_samples", "soft_outliers",  # overlaps counted twice
                         "sync_attempts", "sync_confirmed"):
                setattr(progress, name, getattr(progress, name) + getattr(st, name))
            if on_progress is not None:
                on_progress(progress)
            yield cbs, track


class _Enough(Exception):
    pass


def soft_symbol_sample(recording: Recording, config: ReceiverConfig = ReceiverConfig(), *,
                       doppler: DopplerProfile | None = None, n_symbols: int = 50_000, warmup: int = 4096,
                       max_seconds: float = 30.0) -> np.ndarray:
    """``n_symbols`` soft symbols (LLRs) demodulated from the recording after the demodulator's ``warmup`` symbols.

    Only the first ``max_seconds`` of the recording are searched: fewer symbols come back when the
    signal is shorter or starts later.
    """
    total = n_symbols + warmup
    rx = Receiver(recording, config, doppler=doppler, keep_soft=total)

    def enough(r: Receiver) -> None:
        if r._soft_count >= total:
            raise _Enough

    try:
        for _ in rx.run(0, int(max_seconds * recording.samp_rate), on_chunk=enough):
            pass
    except _Enough:
        pass
    return rx.soft_symbols[warmup:]


def detect_mode(recording: Recording, config: ReceiverConfig = ReceiverConfig(), *,
                doppler: DopplerProfile | None = None, span_s: float = 1.5) -> str:
    """Which of the config's modes (the mission's symbol rates) the recording carries: the higher Es/N0 wins.

    The carrier is found as for decoding (:func:`find_carrier`: blind without a Doppler profile).
    """
    fs = recording.samp_rate
    n_span = int(span_s * fs)
    starts = sorted({0, *(int(f * recording.num_samples) for f in (0.25, 0.5, 0.75))})
    modes = dict(config.modes)
    hint = " or ".join(f"--mode {m}" for m in modes)
    if not any(fs >= 4 * baud for baud in modes.values()):
        raise UserError(f"no signal found to tell the mode from: the sample rate is too low for any of the "
                        f"mission's symbol rates; give {hint}")
    first = find_carrier(recording, config, doppler=doppler)
    for start in starts:
        scores = {}
        fix = first if start == 0 else (find_carrier(recording, config, doppler=doppler, start_sample=start,
                                                     warn=False) or first)
        for mode, baud in modes.items():
            if fs < 4 * baud:
                continue
            cfg = replace(config, mode=mode, symbol_rate=None)
            rx = Receiver(recording, cfg, doppler=doppler, carrier_fix=fix)
            for _ in rx.run(start, start + n_span):
                pass
            if rx.pll is not None:
                scores[mode] = rx.demod.esn0_db
        if scores and max(scores.values()) > -10.0:
            return max(scores, key=scores.get)
    raise UserError(f"no signal found to tell the mode from (no carrier, or no data on it); give {hint}")
