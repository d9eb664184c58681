"""The shared front end: the decimation plan, the chain of stages, and the public pieces (phase alignment, LLR gate)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.dsp.dsp_synth import align_symbols, amplitude_for_esn0, noise, pm_signal
from heradecode.dsp.decimate import manchester_loss_db
from heradecode.dsp.demod import LLR_CLIP, MIN_ESN0_DB, gate_llr
from heradecode.dsp.frontend import FALLBACK_WINDOW_HZ, FrontEnd, plan_decimation
from heradecode.dsp.pll import carrier_phase_derotation

FS = 6.144e6


@settings(max_examples=60, deadline=None)
@given(st.floats(-2.5e6, 2.5e6), st.sampled_from([60237.5, 322560.0]), st.sampled_from([5e3, 25e3, 100e3]))
def test_plan_keeps_the_carrier_and_its_search_inside_the_passband(carrier_hz, baud, window_hz):
    plan = plan_decimation(FS, baud, carrier_hz, window_hz)
    margin = max(window_hz, FALLBACK_WINDOW_HZ)
    assert abs(carrier_hz - plan.pre_shift_hz) + margin <= plan.passband_hz
    assert plan.samp_rate == FS / plan.factor and plan.samp_rate >= 4 * baud
    if abs(carrier_hz) + margin + 5e3 <= 60e3:
        assert plan.pre_shift_hz == 0.0  # a carrier near the centre is not shifted
    else:
        assert abs(plan.pre_shift_hz - carrier_hz) <= 500.0
    assert plan.input_sample(10) == 10.0 * plan.factor
    np.testing.assert_allclose(plan.input_sample(np.arange(3)), np.arange(3) * plan.factor)


def test_plan_decimates_as_the_mode_needs():
    assert plan_decimation(FS, 322560.0, 0.0, 5e3).factor == 2  # the 3.2 Msps cap
    assert plan_decimation(FS, 60237.5, 0.0, 5e3).factor == 4
    low = plan_decimation(FS, 60237.5, 0.0, 5e3)
    assert manchester_loss_db(low.passband_hz, 60237.5) <= 0.15
    forced = plan_decimation(FS, 60237.5, 0.0, 5e3, factor=8)
    assert forced.factor == 8 and forced.passband_hz == pytest.approx(0.4 * FS / 8)
    one = plan_decimation(1.536e6, 322560.0, 0.0, 5e3)
    assert one.factor == 1 and one.passband_hz == 0.5 * 1.536e6


def test_carrier_phase_derotation_aligns_the_carrier():
    rng = np.random.default_rng(5)
    fs, f, phase = 768e3, 123.0, 2.2
    n = 40_000
    z = 0.5 * np.exp(1j * (2 * np.pi * f * np.arange(n) / fs + phase)) + noise(rng, n, 0.5)
    d = carrier_phase_derotation(z, f, fs)
    assert abs(d) == pytest.approx(1.0, abs=1e-6)
    assert np.angle(d) == pytest.approx(-phase, abs=0.05)
    assert carrier_phase_derotation(np.zeros(100, np.complex64), f, fs) == 1.0
    assert carrier_phase_derotation(np.zeros(0, np.complex64), f, fs) == 1.0


def test_gate_llr_clips_and_erases():
    llr = np.array([100.0, -100.0, 3.0, -2.0], np.float32)
    esn0 = np.array([0.0, 0.0, MIN_ESN0_DB, MIN_ESN0_DB - 1], np.float32)
    out = gate_llr(llr, esn0)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [LLR_CLIP, -LLR_CLIP, 0.0, 0.0])


def test_front_end_turns_raw_samples_into_symbols_in_chunks():
    """Raw 6.144 Msps dual-pol int16 with a carrier 80 kHz off: shifted, decimated, demodulated, any chunking."""
    rng = np.random.default_rng(11)
    baud, m, esn0, f0 = 322560.0, 1.1, 2.0, 80_000.0
    n = int(FS * 0.5)
    s, bits = pm_signal(rng, n, FS, baud, mod_index=m, sym_offset=0.3)
    sig = amplitude_for_esn0(esn0, FS, baud, m, noise_power=2.0) * s * np.exp(2j * np.pi * f0 * np.arange(n) / FS)
    raw = np.empty((2, n, 2), np.int16)
    for ch, g in enumerate((0.6, 0.8j)):
        v = (g * sig + noise(rng, n, 2.0)) * 30.0
        raw[ch, :, 0], raw[ch, :, 1] = np.round(v.real), np.round(v.imag)
    plan = plan_decimation(FS, baud, f0, 5e3)
    assert plan.pre_shift_hz == 80_000.0 and plan.factor == 2
    llrs = []
    for chunk in (n, 123_457):
        fe = FrontEnd(plan, baud, start_unix_s=0.0, offset_hz=f0, search_window_hz=5e3)
        assert not fe.takes_int16  # the coarse shift needs complex input
        x = raw[..., 0].astype(np.float32) + 1j * raw[..., 1].astype(np.float32)
        outs = [fe.process(x[:, a:a + chunk]) for a in range(0, n, chunk)] + [fe.flush()]
        llr = np.concatenate([o.llr for o in outs])
        pos = np.concatenate([o.sample for o in outs])
        assert fe.demod.acquisition is not None and abs(fe.demod.acquisition.freq_hz) < 20.0
        k, _ = align_symbols(plan.input_sample(pos), FS, baud, 0.3)
        ok = (k >= 0) & (k < bits.size) & (np.arange(k.size) > 20_000)
        ber = np.mean((llr[ok] < 0) != (bits[k[ok]] == 1))
        assert ber < 0.06, ber  # Es/N0 2 dB: BPSK 3.7e-2
        llrs.append(llr)
        assert fe.n_nonfinite == 0 and fe.n_blanked == 0
    assert abs(llrs[0].size - llrs[1].size) <= 2
