"""Es/N0 estimation (issue #12 item 4): estimators on synthetic BPSK, and the per-codeblock figure of the
receiver on simulated recordings within +-0.3 dB of the simulator's truth from 0 to 5 dB Eb/N0."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heradecode.dsp.snr import (
    SnrEstimate,
    calibrate_llr,
    esn0_blind,
    esn0_calibrated_llr,
    esn0_data_aided,
    esn0_from_llr,
)
from heradecode.errors import UserError

N = 35696  # one rate-1/4 CCSDS codeblock
RATE_DB = 10 * math.log10(35696 / 8920)  # Eb/N0 - Es/N0


def _bpsk(rng, esn0_db, n=N, amplitude=1.0):
    """Soft values A s + n with Es/N0 = A^2 / (2 sigma^2), and the bits (0 -> +1)."""
    bits = rng.integers(0, 2, n).astype(np.uint8)
    sigma = amplitude / math.sqrt(2 * 10 ** (esn0_db / 10))
    return amplitude * (1.0 - 2.0 * bits) + sigma * rng.standard_normal(n), bits


def _llr(rng, esn0_db, n=N):
    y, bits = _bpsk(rng, esn0_db, n)
    e = 10 ** (esn0_db / 10)
    return y * 4 * e, bits  # 2 A / sigma^2 = 4 Es/N0 for A = 1


@pytest.mark.parametrize("ebn0_db", [0.0, 2.5, 5.0])
def test_data_aided_and_calibrated_within_0p2_db_over_a_codeblock(ebn0_db):
    rng = np.random.default_rng(int(10 * ebn0_db) + 1)
    esn0 = ebn0_db - RATE_DB
    for _ in range(5):
        llr, bits = _llr(rng, esn0)
        assert esn0_data_aided(llr * 0.01, bits).esn0_db == pytest.approx(esn0, abs=0.2)
        cal = esn0_from_llr(llr)
        assert cal.method == "calibrated"
        assert cal.esn0_db == pytest.approx(esn0, abs=0.2)
        # calibrated LLRs have variance twice their mean: amplitude mu, noise 2 mu
        assert cal.llr_scale == pytest.approx(1.0)


def test_blind_estimate_for_soft_values_of_unknown_scale():
    rng = np.random.default_rng(7)
    esn0 = 5.0 - RATE_DB
    errs = []
    for _ in range(6):
        llr, _ = _llr(rng, esn0)
        est = esn0_from_llr(llr * 37.0)  # not LLRs: far from calibrated
        assert est.method == "blind"
        errs.append(est.esn0_db - esn0)
    assert max(abs(e) for e in errs) < 0.4 and abs(np.mean(errs)) < 0.15


def test_erasures_and_non_finite_values_are_left_out():
    rng = np.random.default_rng(8)
    esn0 = 2.0 - RATE_DB
    llr, bits = _llr(rng, esn0)
    ref = esn0_calibrated_llr(llr).esn0_db
    holes = llr.copy()
    holes[rng.random(N) < 0.3] = 0.0
    holes[:5] = np.nan
    assert esn0_calibrated_llr(holes).esn0_db == pytest.approx(ref, abs=0.15)
    assert esn0_data_aided(holes, bits).esn0_db == pytest.approx(esn0, abs=0.2)
    assert esn0_from_llr(np.zeros(N)).method == "none" and esn0_from_llr(np.zeros(N)).esn0_db == -30.0
    with pytest.raises(UserError):
        esn0_data_aided(llr, bits[:-1])


@settings(max_examples=60, deadline=None)
@given(scale=st.floats(1e-3, 1e3), esn0_db=st.floats(-7.0, 3.0), seed=st.integers(0, 2**32 - 1))
def test_scale_free_estimators_ignore_the_scale(scale, esn0_db, seed):
    rng = np.random.default_rng(seed)
    y, bits = _bpsk(rng, esn0_db, n=4096)
    for f in (lambda v: esn0_blind(v), lambda v: esn0_data_aided(v, bits)):
        assert f(y * scale).esn0_db == pytest.approx(f(y).esn0_db, abs=1e-6)
    # scaled by its own data-aided estimate, the block becomes calibrated LLRs with the same Es/N0
    est = esn0_data_aided(y, bits)
    assert esn0_calibrated_llr(calibrate_llr(y * scale, SnrEstimate(est.amplitude * scale, est.noise_var * scale**2,
                                                                    est.n_symbols, est.method))).esn0_db \
        == pytest.approx(est.esn0_db, abs=0.5)


# ---------------------------------------------------------------- the receiver on simulated recordings


def _receiver_estimates(tmp_path, mode, fs, ebn0_db, frames, seed):
    """Per-codeblock Eb/N0 (dB) as the receiver reports it (decode.json's ``ebn0_db``), and the simulator's truth."""
    from heradecode.io import open_recording
    from heradecode.receiver import Receiver, ReceiverConfig
    from heradecode.sim import SimParams, simulate
    from tests.helpers import HIGH

    params = SimParams.preset(
        mode, samp_rate=fs, frames_path=str(HIGH), first_frame=40, num_frames=frames, lead_in_s=0.5, tail_s=0.05,
        ebn0_db=ebn0_db, carrier_offset_hz=700.0, clock_offset_ppm=-15.0, pol_angle_deg=35.0, pol_rotation_deg_s=2.0,
        pol_phase_deg=25.0, datatype="ci16_le", seed=seed,
    )
    truth = simulate(params, tmp_path / "rec")
    rx = Receiver(open_recording(tmp_path / "rec.sigmf-meta"), ReceiverConfig(mode=mode))
    got = [(cb.ebn0_db, cb.crc_ok) for cb in rx.run()]
    return got, truth.esn0_db + RATE_DB


@pytest.mark.slow
@pytest.mark.parametrize("mode, fs, ebn0_db, frames", [
    ("high", 6.144e6, 0.0, 4), ("high", 6.144e6, 1.5, 4), ("high", 6.144e6, 3.0, 4), ("high", 6.144e6, 5.0, 4),
    ("low", 1.536e6, 0.5, 2), ("low", 1.536e6, 4.0, 2),
])
def test_receiver_ebn0_within_0p3_db_of_the_truth(tmp_path, mode, fs, ebn0_db, frames):
    got, truth = _receiver_estimates(tmp_path, mode, fs, ebn0_db, frames, seed=int(10 * ebn0_db) + 3)
    assert len(got) >= frames - 1  # every codeblock but perhaps the first after acquisition is found
    errors = [e - truth for e, _ in got]
    assert max(abs(e) for e in errors) <= 0.3, errors
    if ebn0_db >= 1.5:
        assert all(ok for _, ok in got)
