"""Open-loop Doppler: the carrier frequency estimated block by block from a decimated recording, without a loop.

An independent check of the closed-loop (PLL phase) observable, the way an open-loop
radio-science receiver works: the recording is mixed down by a carrier *model* (a Doppler
profile: the decode's prediction, or a smooth fit of its 1 s carrier points) with
:class:`~heradecode.dsp.nco.Nco`, low-pass filtered and decimated to about ``rate_hz``
(:class:`~heradecode.dsp.decimate.Decimator`, delay compensated), leaving the carrier within
a few hertz of 0 Hz and the bi-phase-L data (which has no power near the carrier) filtered
out.  On UTC-aligned blocks of ``block_s``:

1. coarse frequency: the peak of the zero-padded (8x), Hann-windowed power spectrum summed
   over the polarization channels;
2. the channels are combined coherently (maximal ratio, weights from each channel's mean
   carrier phasor after removing the coarse frequency);
3. fine frequency: a weighted least-squares fit of the unwrapped phase of 16 sub-block sums.

The open-loop Doppler of a block is the model averaged over the block plus the estimate.
Memory stays flat: decimated samples are kept only until their block is complete.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from heradecode.dsp.decimate import Decimator
from heradecode.dsp.nco import Nco
from heradecode.errors import UserError
from heradecode.io.dopplerfile import DopplerProfile
from heradecode.io.recording import Recording


@dataclass(frozen=True)
class OpenLoopDoppler:
    """Open-loop Doppler per block: midpoint UTC UNIX time, Doppler (Hz, received minus nominal), peak SNR (dB)."""

    block_s: float
    unix_time: np.ndarray
    doppler_hz: np.ndarray
    peak_snr_db: np.ndarray


def block_frequency_hz(z: np.ndarray, samp_rate: float, zero_pad: int = 8,
                       max_hz: float | None = None) -> tuple[float, float]:
    """Carrier frequency (Hz) of one block of channels (c, n) near 0 Hz, and its spectral peak SNR (dB)."""
    z = np.atleast_2d(np.asarray(z, dtype=np.complex128))
    n = z.shape[1]
    if n < 32:
        raise UserError("an open-loop block needs at least 32 samples")
    nfft = zero_pad * n
    power = np.sum(np.abs(np.fft.fft(z * np.hanning(n), nfft, axis=1)) ** 2, axis=0)
    freqs = np.fft.fftfreq(nfft, 1.0 / samp_rate)
    if max_hz is not None:
        power = np.where(np.abs(freqs) <= max_hz, power, 0.0)
    k = int(np.argmax(power))
    f0 = float(freqs[k])
    snr_db = float(10 * np.log10(power[k] / max(np.median(power[power > 0]), 1e-300)))
    t = np.arange(n) / samp_rate
    w = z * np.exp(-2j * np.pi * f0 * t)
    a = w.mean(axis=1)
    v = np.sum(np.conj(a)[:, None] * w, axis=0)  # maximal-ratio combination
    m = 16
    L = n // m
    sub = v[: m * L].reshape(m, L).sum(axis=1)
    tc = (np.arange(m) + 0.5) * L / samp_rate
    ph = np.unwrap(np.angle(sub))
    slope = np.polyfit(tc, ph, 1, w=np.abs(sub) + 1e-300)[0] / (2 * np.pi)
    return f0 + float(slope), snr_db


def open_loop_doppler(recording: Recording, model: DopplerProfile, downlink_hz: float, *, block_s: float = 1.0,
                      rate_hz: float = 1000.0, chunk_s: float = 0.5) -> OpenLoopDoppler:
    """Open-loop Doppler of a whole recording on UTC blocks of ``block_s`` (see the module docstring)."""
    fs = recording.samp_rate
    factor = max(1, int(fs // rate_hz))
    out_rate = fs / factor
    t0 = recording.sample_unix_time(0)
    # the model as the carrier's frequency in the recorded band (Hz from the centre)
    law = DopplerProfile(np.asarray(model.unix_time, float),
                         np.asarray(model.freq_hz, float) + downlink_hz - recording.center_freq_hz)
    nco = Nco(fs, doppler=law, start_unix_s=t0)
    dec = Decimator(fs, factor, passband_hz=0.2 * out_rate) if factor > 1 else None
    buf: list[np.ndarray] = []
    buf_first = 0  # index (decimated) of the first buffered sample
    n_out = 0
    times, freqs, snrs = [], [], []

    def flush_blocks(final: bool) -> None:
        nonlocal buf, buf_first
        if not buf:
            return
        y = np.concatenate(buf, axis=1)
        tt = t0 + (buf_first + np.arange(y.shape[1])) / out_rate
        k = np.floor(tt / block_s).astype(np.int64)
        keys = np.unique(k)
        last_complete = keys[-1] if final else keys[-1] - 1
        for key in keys[keys <= last_complete]:
            sel = k == key
            if sel.sum() >= 0.9 * block_s * out_rate:  # whole blocks only
                f, snr = block_frequency_hz(y[:, sel], out_rate, max_hz=0.4 * out_rate)
                tm = tt[sel]
                times.append(0.5 * (tm[0] + tm[-1]))
                freqs.append(float(np.mean(model.freq_at(tm))) + f)
                snrs.append(snr)
        keep = k > last_complete
        first_kept = int(np.argmax(keep)) if keep.any() else y.shape[1]
        buf = [y[:, first_kept:]] if keep.any() else []
        buf_first += first_kept

    chunk = max(int(chunk_s * fs) // factor * factor, factor)
    for pos in range(0, recording.num_samples, chunk):
        x = recording.read(pos, min(chunk, recording.num_samples - pos))
        y = nco.process(x)
        y = dec.process(y) if dec is not None else y
        if y.shape[-1]:
            buf.append(np.atleast_2d(y))
            n_out += y.shape[-1]
            flush_blocks(final=False)
    if dec is not None:
        y = dec.flush()
        if y.shape[-1]:
            buf.append(np.atleast_2d(y))
    flush_blocks(final=True)
    if not times:
        raise UserError(f"the recording is shorter than one open-loop block ({block_s:g} s)")
    return OpenLoopDoppler(float(block_s), np.array(times), np.array(freqs), np.array(snrs))


def smooth_model(unix_time: np.ndarray, doppler_hz: np.ndarray, locked: np.ndarray | None = None,
                 degree: int = 3) -> DopplerProfile:
    """A carrier model from closed-loop points: a polynomial fit (locked points), sampled every second.

    The degree is at most one per 30 s of data (a straight line for short recordings): a noisy
    fit's curvature would otherwise bias the block estimates (a phase-slope fit weighs the block
    ends more than a plain average does).
    """
    t = np.asarray(unix_time, float)
    f = np.asarray(doppler_hz, float)
    ok = np.isfinite(f) & (np.asarray(locked, bool) if locked is not None else True)
    if ok.sum() < 2:
        raise UserError("no locked carrier points to build an open-loop model from")
    span_s = float(np.ptp(t[ok]))
    deg = int(min(degree, ok.sum() - 1, max(1, span_s // 30)))
    x0, scale = t[ok].mean(), max(np.ptp(t[ok]) / 2, 1.0)
    fit = np.polynomial.Polynomial.fit((t[ok] - x0) / scale, f[ok], deg)
    grid = np.arange(math.floor(t.min()) - 2.0, math.ceil(t.max()) + 3.0, 1.0)
    return DopplerProfile(grid, fit((grid - x0) / scale))
