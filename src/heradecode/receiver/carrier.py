"""Where the carrier is: the wide search of the raw recording (:func:`find_carrier`), the carrier law it
implies, and the front end's frequency plan (:func:`plan_front_end`)."""

from __future__ import annotations

import hashlib
import logging
import os
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np

from heradecode.dsp.acquisition import WideAcquisition, WideCarrierSearch
from heradecode.dsp.frontend import FALLBACK_WINDOW_HZ, DecimationPlan, FrontEnd, plan_decimation
from heradecode.io.dopplerfile import DopplerProfile
from heradecode.io.recording import Recording
from heradecode.receiver.config import ReceiverConfig, check_symbol_rate, expected_offset_hz, nominal_downlink_hz


log = logging.getLogger("heradecode")


#: wide search window (± Hz) around a prediction (a Doppler profile or a given carrier offset) by default
WIDE_WINDOW_HZ = 100e3


#: a fix further than this from the prediction (Hz, or Hz/s in rate) is reported
FAR_OFFSET_HZ = 300.0


FAR_RATE_HZ_S = 3.0


DC_EXCLUDE_HZ = 200.0  #: the wide search masks ± this around the recording's centre (the receiver's DC spike)


SEARCH_STRIDE = 3  #: the wide search analyses every 3rd segment of its span (a third of the cost, same rate precision)


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
            config.acq_window_hz, config.search_span_s, config.max_rate_hz_s, config.symbol_rate_baud, dop)


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


def _search_recording(recording: Recording, config: ReceiverConfig, doppler: DopplerProfile | None,
                      start: int, stop: int) -> CarrierFix | None:
    fs = recording.samp_rate
    offset = expected_offset_hz(recording, config)
    predicted = doppler is not None or config.carrier_offset_hz is not None
    window = config.acq_window_hz
    if window is None and predicted:
        window = WIDE_WINDOW_HZ
    rates = sorted({*dict(config.modes).values(), *([config.symbol_rate_baud] if config.symbol_rate_baud else [])})
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
                        decimation=plan_decimation(fs, baud, f_exp, window, max_rate_out_sps=config.max_rate_out_sps),
                        expected_hz=(float(f_exp.min()), float(f_exp.max())))
