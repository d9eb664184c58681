"""Soft-symbol histogram / constellation and the two-Gaussian Es/N0 fit."""

from __future__ import annotations

import numpy as np
import pytest

from tests.plot.helpers import assert_png_ok, soft_symbols
from heradecode.errors import UserError
from heradecode.plot import fit_bpsk, plot_soft_symbols


@pytest.mark.parametrize("esn0_db", [-1.0, 2.0, 6.0])
def test_fit_recovers_esn0(esn0_db):
    fit = fit_bpsk(soft_symbols(100_000, esn0_db, seed=int(esn0_db * 10) + 50))
    assert fit.esn0_db == pytest.approx(esn0_db, abs=0.25)
    assert fit.mean == pytest.approx(1.0, rel=0.05)


def test_fit_is_scale_free_so_llrs_give_the_same_esn0():
    s = soft_symbols(50_000, 3.0).astype(np.float64)
    sigma2 = 1.0 / (2 * 10 ** 0.3)
    llr = 2.0 * s / sigma2
    assert fit_bpsk(llr).esn0_db == pytest.approx(fit_bpsk(s).esn0_db, abs=1e-6)


def test_fit_rejects_complex_and_empty():
    with pytest.raises(UserError):
        fit_bpsk(np.array([1 + 1j, 2 - 1j]))
    with pytest.raises(UserError):
        fit_bpsk(np.array([np.nan]))


def test_real_soft_symbols_png(tmp_path):
    s = soft_symbols(80_000, 4.0)
    s[5] = np.nan  # non-finite values are ignored
    png = tmp_path / "soft.png"
    fig = plot_soft_symbols(s, esn0_db=3.9, path=png)
    assert_png_ok(png, fig)
    texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("Es/N0 ≈ 4.0" in t or "Es/N0 ≈ 3.9" in t for t in texts)
    assert any("receiver estimate: Es/N0 = 3.90 dB" in t for t in texts)
    assert fig.axes[1].get_xlabel() == "symbol index"


def test_complex_samples_give_an_iq_constellation():
    rng = np.random.default_rng(2)
    d = 1.0 - 2.0 * rng.integers(0, 2, 20_000)
    # PM residual carrier, carrier-corrected: cos(m) on I, data on Q
    z = np.cos(1.1) + 1j * np.sin(1.1) * d + 0.2 * (rng.standard_normal(d.size) + 1j * rng.standard_normal(d.size))
    fig = plot_soft_symbols(z.astype(np.complex64))
    assert fig.axes[1].get_xlabel() == "I (a.u.)" and fig.axes[1].get_ylabel() == "Q (a.u.)"
    # data projected on Q with the carrier removed: Es/N0 = sin²(m) / (2·0.2²)
    expected = 10 * np.log10(np.sin(1.1) ** 2 / (2 * 0.2**2))
    assert f"Es/N0 ≈ {expected:.1f}" in fig._suptitle.get_text()


def test_memory_mapped_soft_symbols_are_subsampled(tmp_path):
    path = tmp_path / "soft.npy"
    np.save(path, soft_symbols(600_000, 2.0))
    arr = np.load(path, mmap_mode="r")
    fig = plot_soft_symbols(arr, max_points=5_000)
    legend = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]
    assert any("5,000 of 600,000 shown" in t for t in legend)


def test_no_symbols_is_a_user_error():
    with pytest.raises(UserError):
        plot_soft_symbols(np.array([], dtype=np.float32))
