"""The blocks in sequence, as the receiver chains them: ci16 dual-pol 6.144 Msps -> soft symbols."""

import numpy as np
import pytest

from tests.dsp.dsp_synth import align_symbols, amplitude_for_esn0, esn0_from_ber, pm_signal
from tests.helpers import HERA_DOPPLER
from heradecode.dsp.acquisition import acquire_carrier
from heradecode.dsp.biphase import BiphaseDemodulator, Symbols
from heradecode.dsp.decimate import Decimator, mode_decimation
from heradecode.dsp.nco import Nco
from heradecode.dsp.pll import CarrierPll
from heradecode.dsp.polcombine import PolCombiner
from heradecode.io.dopplerfile import read_doppler_profile

FS = 6.144e6


@pytest.mark.parametrize("rs,seconds", [(60237.5, 1.2), (322560.0, 0.6)])
def test_recording_to_soft_symbols(rs, seconds):
    rng = np.random.default_rng(int(rs))
    prof = read_doppler_profile(HERA_DOPPLER)
    t0 = prof.start + 2.0  # launch day: -52 Hz/s
    n = int(FS * seconds)
    t = np.arange(n) / FS
    m, esn0, ppm, off = 1.1, 1.0, 50.0, 0.3
    # true carrier = Doppler profile + 1.5 kHz ephemeris error + 2 Hz/s drift
    f = prof.freq_at(t0 + t) + 1500.0 + 2.0 * t
    phase = 2 * np.pi * np.cumsum(f) / FS
    s, bits = pm_signal(rng, n, FS, rs, mod_index=m, sym_offset=off, clock_ppm=ppm)
    sig = amplitude_for_esn0(esn0, FS, rs, m, noise_power=2.0) * s * np.exp(1j * phase)
    del s, phase
    theta = 1.2  # mostly Y
    raw = np.empty((2, n, 2), np.int16)
    for ch, g in enumerate((np.cos(theta), np.sin(theta) * np.exp(-2.1j))):
        v = (g * sig + (rng.standard_normal(n) + 1j * rng.standard_normal(n))) * 30.0  # noise power 2 per channel
        raw[ch, :, 0] = np.round(v.real)
        raw[ch, :, 1] = np.round(v.imag)
    del sig, v

    factor, passband = mode_decimation(rs)
    fs = FS / factor
    dec = Decimator(FS, factor, passband_hz=passband)
    nco = Nco(fs, doppler=prof, start_unix_s=t0)  # after decimation: cheaper, same result
    chunk = int(0.1 * FS)
    y = nco.process(dec.process(raw[:, :chunk]))
    acq = acquire_carrier(y, fs)
    assert acq.detected and acq.freq_hz == pytest.approx(1500.0, abs=5.0)
    pc = PolCombiner(fs, acq.freq_hz, prior=acq)
    pll = CarrierPll(fs, acq.freq_hz, amplitude=np.sqrt(10 ** (acq.cn0_dbhz / 10) / fs), start_unix_s=t0)
    bp = BiphaseDemodulator(fs, rs)
    out = []
    for a in range(0, n, chunk):
        if a:
            y = nco.process(dec.process(raw[:, a : a + chunk]))
        z = pc.process(y)
        c = pll.process(z)
        if pll.locked:
            pc.set_carrier_hz(pll.freq_hz)
        out.append(bp.process(c))
    sym = Symbols.concatenate(out)
    track = pll.pop_track()
    assert track["locked"][track["sample"] > 0.2 * fs].all()
    assert abs(pc.weights[1]) > 2 * abs(pc.weights[0])
    assert bp.clock_offset_ppm == pytest.approx(ppm, abs=5.0)
    k, frac = align_symbols(sym.sample * factor, FS, rs, off, ppm)
    sel = (np.arange(k.size) > k.size // 3) & (k < bits.size)
    ber = np.mean((sym.llr[sel] < 0) != (bits[k[sel]] == 1))
    # decimation band-limiting (~0.2-0.3 dB for unfiltered chips) plus tracking losses
    assert esn0_from_ber(ber) > esn0 - 0.6, ber
    assert np.std(frac[sel]) < 0.01
