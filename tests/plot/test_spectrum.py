"""Waterfall + averaged PSD of a recording: right content, bounded reads, readable PNG."""

from __future__ import annotations

import numpy as np
import pytest

from tests.plot.helpers import CENTER_HZ, assert_png_ok, write_profile
from heradecode.errors import UserError
from heradecode.io import open_recording
from heradecode.io.dopplerfile import read_doppler_profile
from heradecode.plot import compute_spectrum, plot_spectrum
from heradecode.plot.spectrum import BIPHASE_PEAK


def test_psd_shows_carrier_and_biphase_sidebands(recording):
    rec = open_recording(recording.meta)
    spec = compute_spectrum(rec, fft_size=1024)
    assert spec.psd_db.shape == (2, 1024) and spec.channel_names == ("X", "Y")
    assert abs(spec.peak_offset_hz() - recording.carrier_hz) <= spec.bin_hz
    f = spec.freq_hz

    def level(offset_hz: float, ch: int = 0) -> float:
        k = np.abs(f - offset_hz) <= 2 * spec.bin_hz
        return float(np.mean(spec.psd_db[ch, k]))

    side = BIPHASE_PEAK * recording.symbol_rate
    floor = level(recording.carrier_hz + 4.9 * recording.symbol_rate)
    # the data sidebands stand above the noise; the bi-phase-L spectrum has a null at the carrier ± 2 Rs
    for sign in (-1, 1):
        assert level(recording.carrier_hz + sign * side) > floor + 6.0
        null = level(recording.carrier_hz + sign * 2.0 * recording.symbol_rate)
        assert level(recording.carrier_hz + sign * side) > null + 6.0
    # X holds cos²30° of the power, Y sin²30°: about 4.8 dB more carrier in X
    peak = int(np.argmax(spec.psd_db[0]))
    assert 3.5 < spec.psd_db[0, peak] - spec.psd_db[1, peak] < 6.0


def test_reads_are_bounded_and_spread_over_the_span(recording, monkeypatch):
    rec = open_recording(recording.meta)
    calls = []
    real_read = rec.read

    def counting_read(start, count):
        calls.append((int(start), int(count)))
        return real_read(start, count)

    monkeypatch.setattr(rec, "read", counting_read)
    budget = 1 << 14
    spec = compute_spectrum(rec, fft_size=512, max_samples=budget)
    read = sum(c for _, c in calls)
    assert read == spec.samples_read <= budget < rec.num_samples / 4
    starts = [s for s, _ in calls]
    assert min(starts) < rec.num_samples * 0.05 and max(s + c for s, c in calls) > rec.num_samples * 0.95
    assert spec.waterfall_db.shape[1] >= 16  # still a usable waterfall
    assert spec.row_time[0] < spec.row_time[-1]


def test_span_selection_and_zoom(recording):
    rec = open_recording(recording.meta)
    spec = compute_spectrum(rec, start_s=0.1, duration_s=0.2, zoom_hz=2000.0)
    assert spec.start_time == rec.sample_time(round(0.1 * rec.samp_rate))
    assert spec.end_time == rec.sample_time(round(0.3 * rec.samp_rate))
    # zoom centred on the strongest line (the carrier), finer bins than the default 4096-point FFT
    centre_err = rec.samp_rate / 4096  # the carrier is first located on a coarse 4096-point spectrum
    assert spec.freq_hz[0] >= recording.carrier_hz - 2000.0 - centre_err - spec.bin_hz
    assert spec.freq_hz[-1] <= recording.carrier_hz + 2000.0 + centre_err + spec.bin_hz
    assert spec.freq_hz[-1] - spec.freq_hz[0] > 3900.0
    assert spec.num_ffts >= 8
    assert abs(spec.peak_offset_hz() - recording.carrier_hz) <= spec.bin_hz


@pytest.mark.parametrize("kwargs, match", [
    (dict(start_s=5.0), "past the end"),
    (dict(duration_s=-1.0), "positive"),
    (dict(zoom_hz=1e3, zoom_center_hz=5e6), "outside"),
])
def test_bad_spans_are_user_errors(recording, kwargs, match):
    rec = open_recording(recording.meta)
    with pytest.raises(UserError, match=match):
        compute_spectrum(rec, **kwargs)


def test_plot_spectrum_png(recording, tmp_path):
    rec = open_recording(recording.meta)
    png = tmp_path / "spectrum.png"
    fig = plot_spectrum(rec, carrier_offset_hz=recording.carrier_hz, symbol_rate=recording.symbol_rate, path=png)
    assert_png_ok(png, fig)
    texts = [fig._suptitle.get_text()] + [ax.get_xlabel() for ax in fig.axes] + [ax.get_ylabel() for ax in fig.axes]
    assert any("(kHz)" in s for s in texts) and any("dBFS/Hz" in s or "dB/Hz" in s for s in texts)
    assert any(s.startswith("time (UTC) on 2024-10-07") for s in texts)
    psd_ax = [ax for ax in fig.axes if ax.get_xlabel().startswith("frequency offset")][0]
    labels = [t.get_text() for t in psd_ax.get_legend().get_texts()]
    assert any("polarization X" in s for s in labels) and any("polarization Y" in s for s in labels)
    assert any("expected carrier" in s for s in labels) and any("bi-phase-L" in s for s in labels)


def test_plot_spectrum_with_doppler_profile_zoomed(recording, tmp_path):
    rec = open_recording(recording.meta)
    t0 = float(rec.sample_unix_time(0))
    # profile relative to a nominal downlink 1 kHz above the centre: expected offset = carrier
    prof = read_doppler_profile(write_profile(tmp_path / "p.txt", np.array([t0 - 1, t0 + 2]),
                                              np.array([recording.carrier_hz - 1000.0] * 2)))
    fig = plot_spectrum(rec, doppler_profile=prof, downlink_hz=CENTER_HZ + 1000.0, zoom_hz=3000.0)
    psd_ax = [ax for ax in fig.axes if ax.get_xlabel().startswith("frequency offset")][0]
    lo, hi = psd_ax.get_xlim()
    assert lo < recording.carrier_hz / 1e3 < hi and hi - lo < 7.0  # kHz axis around the carrier
    labels = [t.get_text() for t in psd_ax.get_legend().get_texts()]
    assert "expected carrier (Doppler profile, mean) +12.000 kHz" in labels
    track = [ln for ln in fig.axes[0].get_lines() if ln.get_label() == "expected carrier (Doppler profile)"][0]
    assert np.allclose(track.get_xdata(), recording.carrier_hz / 1e3)


def test_profile_not_covering_the_span_is_not_drawn(recording, tmp_path):
    rec = open_recording(recording.meta)
    t0 = float(rec.sample_unix_time(0))
    prof = read_doppler_profile(write_profile(tmp_path / "p.txt", np.array([t0 + 100, t0 + 200]), np.zeros(2)))
    with pytest.warns(UserWarning, match="does not cover"):
        fig = plot_spectrum(rec, doppler_profile=prof, fft_size=256)
    labels = [ln.get_label() for ax in fig.axes for ln in ax.get_lines()]
    assert not any("expected carrier" in s for s in labels)
