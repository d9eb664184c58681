"""Carrier track and Doppler residual plots."""

from __future__ import annotations

import re

import numpy as np
import pytest

from tests.plot.helpers import assert_png_ok, write_carrier_csv_text
from heradecode.products.carrier import CarrierObservable, compute_residuals, read_carrier_csv
from heradecode.errors import UserError
from heradecode.io.dopplerfile import DopplerProfile
from heradecode.plot import plot_carrier_track, plot_residuals


def _legend_texts(fig) -> list[str]:
    return [t.get_text() for ax in fig.axes if ax.get_legend() for t in ax.get_legend().get_texts()]


def test_carrier_track_alone(tmp_path):
    write_carrier_csv_text(tmp_path / "carrier.csv")
    carrier = read_carrier_csv(tmp_path / "carrier.csv")
    fig = plot_carrier_track(carrier)
    assert len(fig.axes) == 3  # frequency, C/N0, lock
    ylabels = " ".join(ax.get_ylabel() for ax in fig.axes)
    assert "(kHz)" in ylabels and "C/N0 (dB-Hz)" in ylabels
    assert fig.axes[-1].get_xlabel() == "time (UTC) on 2024-10-07"
    assert "locked 110/120 points" in fig._suptitle.get_text()


def test_carrier_track_against_profile_shows_the_offset(tmp_path):
    t, predicted = write_carrier_csv_text(tmp_path / "carrier.csv", offset_hz=5.0)
    carrier = read_carrier_csv(tmp_path / "carrier.csv")
    png = tmp_path / "carrier.png"
    fig = plot_carrier_track(carrier, doppler_profile=DopplerProfile(t, predicted), path=png)
    assert_png_ok(png, fig)
    assert len(fig.axes) == 4
    texts = _legend_texts(fig)
    assert "Doppler used (profile)" in texts
    resid = [s for s in texts if s.startswith("observed − Doppler used")][0]
    mean = float(re.search(r"mean ([+-][0-9.]+) Hz", resid).group(1))
    rms = float(re.search(r"rms ([0-9.]+) Hz", resid).group(1))
    assert mean == pytest.approx(5.0, abs=0.2) and rms == pytest.approx(5.0, abs=0.2)
    # the unlocked excursions (±hundreds of Hz) do not squash the locked residuals
    lo, hi = fig.axes[1].get_ylim()
    assert hi - lo < 20.0


def test_profile_not_covering_the_track_leaves_gaps(tmp_path):
    t, predicted = write_carrier_csv_text(tmp_path / "carrier.csv")
    carrier = read_carrier_csv(tmp_path / "carrier.csv")
    fig = plot_carrier_track(carrier, doppler_profile=DopplerProfile(t[:60], predicted[:60]))
    resid = [s for s in _legend_texts(fig) if s.startswith("observed − ")][0]
    assert "nan" not in resid


def test_empty_carrier_is_a_user_error():
    empty = CarrierObservable(np.array([]), np.array([]), np.array([]), np.array([], dtype=bool))
    with pytest.raises(UserError):
        plot_carrier_track(empty)


def test_plot_residuals(tmp_path):
    t, predicted = write_carrier_csv_text(tmp_path / "carrier.csv", offset_hz=-3.0)
    carrier = read_carrier_csv(tmp_path / "carrier.csv")
    res = compute_residuals(carrier, DopplerProfile(t, predicted))
    png = tmp_path / "res.png"
    fig = plot_residuals(res, title="test residuals", path=png)
    assert_png_ok(png, fig)
    mean = float(re.search(r"mean ([+-][0-9.]+) Hz", fig.axes[1].get_title()).group(1))
    assert mean == pytest.approx(-3.0, abs=0.15)
