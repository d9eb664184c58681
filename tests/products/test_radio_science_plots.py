"""The Allan deviation and multi-ephemeris residual plots draw what they are given."""

import numpy as np
import pytest

from heradecode.products.carrier import DopplerResiduals
from heradecode.errors import UserError
from heradecode.plot.allan import plot_allan_deviation
from heradecode.plot.ephemeris_residuals import plot_ephemeris_residuals
from tests.products.helpers import START_UNIX


def _png_ok(path):
    data = path.read_bytes()
    return data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_allan_plot_has_measured_thermal_and_budget(tmp_path):
    doc = {"cn0_dbhz": 40.0, "downlink_hz": 8435.75e6, "loop_bandwidth_hz": 15.0, "mode": "one-way",
           "allan": {"table": [{"tau_s": t, "adev": 1e-12 / t} for t in (1.0, 10.0, 60.0)]}}
    fig = plot_allan_deviation(doc, extra={"with noise": (np.array([1.0, 10.0]), np.array([2e-11, 1e-11]))},
                               path=tmp_path / "a.png")
    ax = fig.axes[0]
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert any("thermal limit" in s for s in labels) and any("Hera RSE budget" in s for s in labels)
    assert any("with noise" in s for s in labels)
    assert _png_ok(tmp_path / "a.png")
    with pytest.raises(UserError):
        plot_allan_deviation({"allan": {"table": []}})


def test_ephemeris_residual_plot_has_one_curve_per_ephemeris(tmp_path):
    t = START_UNIX + 60.0 * np.arange(5)
    res = {}
    for label, off in (("launch kernel", 1.0), ("post-launch", 0.0)):
        r = np.full(t.size, off) + 0.01 * np.arange(t.size)
        res[label] = DopplerResiduals(t, r, np.zeros(t.size), r, np.full(t.size, 40.0), np.ones(t.size, bool))
    fig = plot_ephemeris_residuals(res, path=tmp_path / "r.png")
    labels = [x.get_text() for x in fig.axes[0].get_legend().get_texts()]
    assert len(labels) == 2 and labels[0].startswith("launch kernel: mean +1.020")
    assert _png_ok(tmp_path / "r.png")
