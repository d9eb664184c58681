"""Waterfall and averaged power spectral density of a recording, both polarizations.

The spectrum is estimated from a bounded number of Hann-windowed FFT blocks
spread evenly over the requested span (Welch averaging without reading every
sample), so a ten-minute 6.144 Msps recording is summarised in seconds: each
waterfall row averages a few consecutive FFTs taken around its time, and the
PSD is the mean of all rows.  Levels are power spectral density in dB/Hz
relative to full scale (dBFS/Hz) for integer recordings.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np

from heradecode.ccsds.mission import HERA
from heradecode.errors import UserError
from heradecode.io.dopplerfile import DopplerProfile
from heradecode.io.recording import Recording
from heradecode.plot._style import datenum, finish, freq_scale, new_figure, span_text, utc_axis

BIPHASE_PEAK = 0.7420
"""Frequency of the bi-phase-L (Manchester) PSD maximum in units of the symbol rate (tan u = 2u, f = 2u/pi)."""


@dataclass(frozen=True)
class Spectrum:
    """A waterfall and averaged PSD of a span of a recording."""

    freq_hz: np.ndarray  # offset from the centre frequency (Hz), ascending
    psd_db: np.ndarray  # (channels, nfreq) averaged PSD, dB/Hz
    waterfall_db: np.ndarray  # (channels, rows, nfreq) PSD per row, dB/Hz
    row_time: np.ndarray  # datetime64[ns] centre of each row
    start_time: np.datetime64  # first sample of the span
    end_time: np.datetime64  # one past the last sample of the span
    center_freq_hz: float
    samp_rate: float  # samples/s
    fft_size: int
    num_ffts: int  # FFT blocks averaged in total (per channel)
    samples_read: int  # samples read per channel
    channel_names: tuple[str, ...]
    unit: str  # "dBFS/Hz" or "dB/Hz"

    @property
    def bin_hz(self) -> float:
        """FFT bin spacing (Hz); the Hann window's noise bandwidth is 1.5 bins."""
        return self.samp_rate / self.fft_size

    def peak_offset_hz(self) -> float:
        """Frequency offset (Hz) of the strongest bin of the channel-summed averaged PSD."""
        total = np.sum(10.0 ** (self.psd_db / 10.0), axis=0)
        return float(self.freq_hz[int(np.argmax(total))])


def _pow2_at_least(x: float) -> int:
    return 1 << max(0, int(np.ceil(np.log2(max(1.0, x)))))


def _span(recording: Recording, start_s: float, duration_s: float | None) -> tuple[int, int]:
    fs = recording.samp_rate
    if not np.isfinite(start_s) or start_s < 0:
        raise UserError(f"the start must be a non-negative number of seconds, got {start_s}")
    s0 = int(round(start_s * fs))
    if s0 >= recording.num_samples:
        raise UserError(f"start {start_s:g} s is past the end of the recording ({recording.duration_s:.3f} s)")
    if duration_s is None:
        s1 = recording.num_samples
    else:
        if not np.isfinite(duration_s) or duration_s <= 0:
            raise UserError(f"the duration must be a positive number of seconds, got {duration_s}")
        s1 = min(recording.num_samples, s0 + int(round(duration_s * fs)))
    return s0, s1


def compute_spectrum(
    recording: Recording,
    *,
    start_s: float = 0.0,
    duration_s: float | None = None,
    fft_size: int | None = None,
    rows: int = 200,
    zoom_hz: float | None = None,
    zoom_center_hz: float | None = None,
    max_samples: int = 1 << 23,
) -> Spectrum:
    """Waterfall rows and averaged PSD (dB/Hz) of ``duration_s`` seconds from ``start_s``, reading ≤ max_samples.

    ``zoom_hz`` keeps only ±zoom_hz around ``zoom_center_hz`` (offset from the
    centre frequency, Hz; default: the strongest spectral line) and picks a finer
    FFT; ``fft_size`` overrides the automatic choice (4096, or finer when zooming).
    """
    fs = recording.samp_rate
    s0, s1 = _span(recording, start_s, duration_s)
    span = s1 - s0
    if zoom_hz is not None and (not np.isfinite(zoom_hz) or zoom_hz <= 0):
        raise UserError(f"the zoom half-width must be a positive number of Hz, got {zoom_hz}")
    if fft_size is None:
        if zoom_hz is not None:
            fft_size = _pow2_at_least(fs / (2.0 * zoom_hz / 400.0))
            fft_size = int(np.clip(fft_size, 1024, 1 << 18))
        else:
            fft_size = 4096
        while fft_size > 64 and span < 8 * fft_size:  # average at least 8 FFTs when the span allows
            fft_size //= 2
    fft_size = int(fft_size)
    if fft_size < 16:
        raise UserError(f"the FFT size must be at least 16, got {fft_size}")
    if fft_size > span:
        raise UserError(f"the span holds {span} samples, fewer than one FFT of {fft_size}")
    max_samples = max(int(max_samples), fft_size)

    freqs = np.fft.fftshift(np.fft.fftfreq(fft_size, 1.0 / fs))
    keep = slice(0, fft_size)
    if zoom_hz is not None:
        if zoom_center_hz is None:
            coarse = compute_spectrum(recording, start_s=start_s, duration_s=duration_s, rows=32,
                                      max_samples=min(max_samples, 1 << 21))
            zoom_center_hz = coarse.peak_offset_hz()
        lo = int(np.searchsorted(freqs, zoom_center_hz - zoom_hz, side="left"))
        hi = int(np.searchsorted(freqs, zoom_center_hz + zoom_hz, side="right"))
        if hi - lo < 2:
            raise UserError(f"the zoom ±{zoom_hz:g} Hz around {zoom_center_hz:+.1f} Hz lies outside the "
                            f"recorded band ±{fs / 2:g} Hz or is narrower than two bins")
        keep = slice(lo, hi)
    freqs = freqs[keep]

    # FFT budget: all the span holds, at most max_samples; rows average >= 8 FFTs when the span allows
    n_ffts = int(max(1, min(span // fft_size, max_samples // fft_size)))
    n_rows = int(max(1, min(rows, max(min(24, n_ffts), n_ffts // 8))))
    per_row = int(max(1, min(16, n_ffts // n_rows)))
    block = per_row * fft_size
    starts = np.linspace(s0, s1 - block, n_rows).astype(np.int64) if n_rows > 1 else np.array([s0])

    window = np.hanning(fft_size + 2)[1:-1].astype(np.float32)  # periodic-ish, no zero end points
    scale = 1.0 / (fs * float(np.sum(window.astype(np.float64) ** 2)))
    nch = recording.num_channels
    water = np.empty((nch, n_rows, freqs.size), dtype=np.float64)
    for r, st in enumerate(starts):
        x = recording.read(int(st), block).reshape(nch, per_row, fft_size)
        spec = np.fft.fft(x * window, axis=-1)
        p = (spec.real**2 + spec.imag**2).mean(axis=1) * scale
        water[:, r, :] = np.fft.fftshift(p, axes=-1)[:, keep]
    psd = water.mean(axis=1)
    tiny = 1e-30
    row_centre = starts + block // 2
    return Spectrum(
        freq_hz=freqs,
        psd_db=10.0 * np.log10(psd + tiny),
        waterfall_db=10.0 * np.log10(water + tiny).astype(np.float32),
        row_time=np.asarray(recording.sample_time(row_centre), dtype="datetime64[ns]"),
        start_time=recording.sample_time(s0),
        end_time=recording.sample_time(s1),
        center_freq_hz=recording.center_freq_hz,
        samp_rate=fs,
        fft_size=fft_size,
        num_ffts=n_rows * per_row,
        samples_read=n_rows * block,
        channel_names=tuple(recording.channel_names),
        unit="dBFS/Hz" if recording.sample_format.is_fixed_point else "dB/Hz",
    )


def _peak_pool(water_db: np.ndarray, max_cols: int) -> np.ndarray:
    """Max-pool the frequency axis to at most ``max_cols`` columns, so narrow lines survive display."""
    nf = water_db.shape[-1]
    if nf <= max_cols:
        return water_db
    factor = int(np.ceil(nf / max_cols))
    pad = (-nf) % factor
    if pad:
        edge = np.repeat(water_db[..., -1:], pad, axis=-1)
        water_db = np.concatenate([water_db, edge], axis=-1)
    return water_db.reshape(*water_db.shape[:-1], -1, factor).max(axis=-1)


def _recording_name(recording: Recording) -> str:
    name = Path(recording.paths[0]).name if recording.paths else "recording"
    for suffix in (".sigmf-data", ".sigmf-meta", ".sigmf"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    return name


def plot_spectrum(
    recording: Recording,
    *,
    start_s: float = 0.0,
    duration_s: float | None = None,
    fft_size: int | None = None,
    rows: int = 200,
    zoom_hz: float | None = None,
    carrier_offset_hz: float | None = None,
    doppler_profile: DopplerProfile | None = None,
    downlink_hz: float = HERA.downlink_freq_hz,
    symbol_rate: float | None = None,
    max_samples: int = 1 << 23,
    title: str | None = None,
    path: str | Path | None = None,
):
    """Waterfall per polarization and averaged PSD (dB/Hz vs offset in Hz) with the expected carrier marked.

    The expected carrier is ``carrier_offset_hz`` (offset from the centre
    frequency, Hz), or the ``doppler_profile`` (Hz from the nominal
    ``downlink_hz``) drawn as a track over the waterfall.  With ``symbol_rate``
    (baud) the bi-phase-L data-sideband maxima (carrier ± 0.742 × symbol rate)
    are marked.  ``zoom_hz`` shows ±zoom_hz around the carrier.  Returns the
    Figure; saves a PNG to ``path`` if given.
    """
    track_t = track_f = None
    if doppler_profile is not None:
        s0, s1 = _span(recording, start_s, duration_s)
        if not doppler_profile.covers(recording.sample_unix_time(s0), recording.sample_unix_time(s1)):
            warnings.warn("the Doppler profile does not cover the plotted span; expected carrier not drawn",
                          stacklevel=2)
            doppler_profile = None
    if doppler_profile is not None:
        t_unix = np.linspace(recording.sample_unix_time(s0), recording.sample_unix_time(s1), 200)
        track_f = np.asarray(doppler_profile.freq_at(t_unix)) + (downlink_hz - recording.center_freq_hz)
        track_t = recording.sample_time(np.linspace(s0, s1, 200).astype(np.int64))
        if carrier_offset_hz is None:
            carrier_offset_hz = float(np.mean(track_f))
    spec = compute_spectrum(recording, start_s=start_s, duration_s=duration_s, fft_size=fft_size, rows=rows,
                            zoom_hz=zoom_hz, zoom_center_hz=carrier_offset_hz, max_samples=max_samples)
    f = spec.freq_hz
    div, funit = freq_scale(float(f[-1] - f[0]))
    nch = len(spec.channel_names)

    fig = new_figure(12.0, 8.0)
    gs = fig.add_gridspec(2, nch, height_ratios=[1.5, 1.0])
    # colour scale: from the noise floor to the 99.5th percentile; narrow lines (the carrier) saturate
    pooled = _peak_pool(spec.waterfall_db, 1024 // nch)
    finite = pooled[np.isfinite(pooled)]
    if finite.size:
        vmin, vmax = float(np.percentile(finite, 1.0)), float(np.percentile(finite, 99.5))
        vmax = max(vmax, float(np.median(finite)) + 6.0)
    else:
        vmin, vmax = 0.0, 1.0
    cmap = matplotlib.colormaps["viridis"].with_extremes(over="white")
    t0n, t1n = datenum(spec.start_time), datenum(spec.end_time)
    if t1n <= t0n:
        t1n = t0n + 1e-9
    extent = (f[0] / div, f[-1] / div, float(t1n), float(t0n))  # earliest time at the top
    im = None
    wf_axes = []
    for ch in range(nch):
        ax = fig.add_subplot(gs[0, ch], sharey=wf_axes[0] if wf_axes else None)
        wf_axes.append(ax)
        im = ax.imshow(pooled[ch], aspect="auto", origin="upper", extent=extent, cmap=cmap,
                       vmin=vmin, vmax=vmax, interpolation="nearest")
        if track_t is not None:
            ax.plot(track_f / div, datenum(track_t), color="tab:red", lw=1.4, ls=(0, (3, 5)),
                    label="expected carrier (Doppler profile)")
        elif carrier_offset_hz is not None:
            ax.axvline(carrier_offset_hz / div, color="tab:red", lw=1.4, ls=(0, (3, 5)),
                       label="expected carrier")
        ax.set_xlim(f[0] / div, f[-1] / div)
        ax.set_ylim(float(t1n), float(t0n))
        utc_axis(ax, spec.start_time, spec.end_time, axis="y", label=(ch == 0))
        ax.set_xlabel(f"offset from {spec.center_freq_hz / 1e6:.6f} MHz ({funit})")
        ax.set_title(f"waterfall, polarization {spec.channel_names[ch]}", fontsize=10)
        if ch > 0:
            ax.tick_params(labelleft=False)
        if ch == 0 and (track_t is not None or carrier_offset_hz is not None):
            ax.legend(loc="lower left", fontsize=8, framealpha=0.6)
    cbar = fig.colorbar(im, ax=wf_axes, pad=0.01, fraction=0.04, extend="max")
    cbar.set_label(f"PSD ({spec.unit})")

    ax = fig.add_subplot(gs[1, :])
    colors = ("tab:blue", "tab:orange", "tab:green", "tab:purple")
    for ch in range(nch):
        ax.plot(f / div, spec.psd_db[ch], lw=0.8, alpha=0.85, color=colors[ch % len(colors)],
                label=f"polarization {spec.channel_names[ch]}")
    if carrier_offset_hz is not None:
        lbl = "expected carrier" + (" (Doppler profile, mean)" if track_t is not None else "")
        ax.axvline(carrier_offset_hz / div, color="k", lw=0.9, ls="--",
                   label=f"{lbl} {carrier_offset_hz / div:+.3f} {funit}")
        if symbol_rate:
            labelled = False
            for side in (-1, 1):
                fx = carrier_offset_hz + side * BIPHASE_PEAK * symbol_rate
                if f[0] <= fx <= f[-1]:
                    ax.axvline(fx / div, color="tab:red", lw=0.9, ls=":",
                               label=None if labelled else
                               f"bi-phase-L data sideband peaks (carrier ± 0.742 × {symbol_rate / 1e3:g} kBd)")
                    labelled = True
    ax.set_xlim(f[0] / div, f[-1] / div)
    ax.set_xlabel(f"frequency offset from {spec.center_freq_hz / 1e6:.6f} MHz ({funit})")
    ax.set_ylabel(f"PSD ({spec.unit})")
    ax.grid(True, alpha=0.3)
    lo = float(np.percentile(spec.psd_db, 1.0))
    hi = float(np.max(spec.psd_db))
    ax.set_ylim(lo - 3.0, hi + 0.08 * max(hi - lo, 10.0))
    ax.legend(loc="upper right", fontsize=8)
    ax.set_title(f"averaged PSD: {spec.num_ffts} Hann FFTs of {spec.fft_size} points, "
                 f"bin {spec.bin_hz:.4g} Hz", fontsize=10)
    fig.suptitle(title or (f"{_recording_name(recording)}: {span_text(spec.start_time, spec.end_time)}, "
                           f"{spec.samp_rate / 1e6:g} Msps"))
    return finish(fig, path)
