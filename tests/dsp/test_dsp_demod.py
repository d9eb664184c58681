"""PcmPmDemodulator: acquisition, combining, PLL and bi-phase-L in one streaming object."""

import numpy as np
import pytest

from heradecode.dsp.demod import LLR_CLIP, PcmPmDemodulator
from tests.dsp.dsp_synth import align_symbols, amplitude_for_esn0, bpsk_ber, esn0_from_ber, noise, pm_signal

FS = 384_000.0
RS = 60237.5


def _signal(rng, n, f_hz, esn0_db, channels):
    s, bits = pm_signal(rng, n, FS, RS, mod_index=1.1, sym_offset=0.3)
    sig = amplitude_for_esn0(esn0_db, FS, RS, 1.1, noise_power=2.0 if channels == 2 else 1.0) * s
    sig = sig * np.exp(2j * np.pi * f_hz * np.arange(n) / FS)
    if channels == 1:
        return (sig + noise(rng, n))[None, :].astype(np.complex64), bits
    gains = (np.cos(0.6), np.sin(0.6) * np.exp(0.8j))
    return np.stack([g * sig + noise(rng, n) for g in gains]).astype(np.complex64), bits


@pytest.mark.parametrize("channels", [1, 2])
def test_demodulates_in_chunks_with_positions_and_track(channels):
    rng = np.random.default_rng(7 + channels)
    n = int(1.0 * FS)
    x, bits = _signal(rng, n, 2100.0, 2.0, channels)
    dm = PcmPmDemodulator(FS, RS, start_unix_s=1000.0)
    outs = [dm.process(x[:, a:a + 9973]) for a in range(0, n, 9973)] + [dm.finish()]
    assert dm.acquisition is not None and dm.acquisition.freq_hz == pytest.approx(2100.0, abs=10)
    assert (dm.combiner is not None) == (channels == 2) and dm.locked
    llr = np.concatenate([o.llr for o in outs])
    pos = np.concatenate([o.sample for o in outs])
    track = np.concatenate([o.track for o in outs])
    assert np.all(np.diff(pos) > 0) and np.abs(llr).max() <= LLR_CLIP
    k, frac = align_symbols(pos, FS, RS, 0.3)
    sel = (np.arange(k.size) > k.size // 3) & (k < bits.size)
    ber = np.mean((llr[sel] < 0) != (bits[k[sel]] == 1))
    assert esn0_from_ber(max(ber, 1e-6)) > 2.0 - 0.7
    # track rows count input samples and time from start_time; the PLL holds the carrier
    assert track["sample"].max() < n and np.all(np.diff(track["sample"]) > 0)
    assert track["time"][-1] == pytest.approx(1000.0 + track["sample"][-1] / FS, abs=1e-3)
    assert np.all(np.abs(track["freq_hz"][track["locked"]] - 2100.0) < 5.0)


def test_no_carrier_is_dropped_and_counted():
    rng = np.random.default_rng(3)
    dm = PcmPmDemodulator(FS, RS, acq_time_s=0.1)
    for _ in range(5):
        out = dm.process(noise(rng, (2, int(0.05 * FS))).astype(np.complex64))
        assert len(out) == 0
    assert dm.finish().llr.size == 0
    assert dm.pll is None and dm.acquisition_failures >= 2 and dm.n_samples >= int(0.2 * FS)


def test_bare_carrier_gives_erasures_not_symbols():
    rng = np.random.default_rng(4)
    n = int(0.6 * FS)
    x = (0.3 * np.exp(2j * np.pi * 800.0 * np.arange(n) / FS) + noise(rng, n)).astype(np.complex64)
    dm = PcmPmDemodulator(FS, RS)
    llr = np.concatenate([dm.process(x[a:a + 20000]).llr for a in range(0, n, 20000)])
    assert llr.size > 0 and np.count_nonzero(llr) < 0.05 * llr.size


def _dropout_signal(rng, esn0_db, jump_hz):
    """0.8 s of signal, 1.2 s of noise only, then 1.2 s of signal whose carrier came back ``jump_hz`` higher."""
    n = int(3.2 * FS)
    s, bits = pm_signal(rng, n, FS, RS, mod_index=1.1, sym_offset=0.3)
    t = np.arange(n) / FS
    a, b = int(0.8 * FS), int(2.0 * FS)
    f = np.where(t < 2.0, 1500.0, 1500.0 + jump_hz)
    sig = amplitude_for_esn0(esn0_db, FS, RS, 1.1, noise_power=2.0) * s * np.exp(2j * np.pi * np.cumsum(f) / FS)
    sig[a:b] = 0
    gains = (np.cos(0.6), np.sin(0.6) * np.exp(0.8j))
    return np.stack([g * sig + noise(rng, n) for g in gains]).astype(np.complex64), bits


def test_look_back_recovers_the_symbols_demodulated_before_re_lock():
    # After a drop-out the loop coasts on the old frequency and finds the carrier (40 Hz higher) only at its next
    # search: the symbols from the signal's return to the settled loop are demodulated again, backwards, from the
    # settled state, and come out as good as the rest; the stream stays one sequence (no symbol twice or missing).
    rng = np.random.default_rng(12)
    x, bits = _dropout_signal(rng, 2.0, 40.0)
    dm = PcmPmDemodulator(FS, RS)
    outs, held_max = [], 0
    for a in range(0, x.shape[1], 9600):  # 25 ms chunks
        outs.append(dm.process(x[:, a:a + 9600]))
        held_max = max(held_max, sum(len(h) for h in dm._held))
    outs.append(dm.finish())
    llr = np.concatenate([o.llr for o in outs])
    pos = np.concatenate([o.sample for o in outs])
    assert dm.n_lookbacks >= 2 and dm.n_lookback_failures == 0 and not dm._held
    assert np.all(np.diff(pos) > 0)
    assert held_max <= (dm.lookback_s + 0.05) * RS  # held symbols (and the ring) bounded by the look-back span
    k, frac = align_symbols(pos, FS, RS, 0.3)
    signal = (pos / FS < 0.79) | (pos / FS > 2.0)
    assert np.all(np.diff(k[signal & (pos / FS > 2.0)]) == 1)  # after the drop-out: every symbol once, in order
    assert np.abs(frac[signal & (pos / FS > 2.005)]).max() < 0.1
    ber_expected = bpsk_ber(2.0)
    for lo, hi in ((0.0, 0.1), (2.005, 2.25), (2.25, 3.1)):  # first lock, return to settled, settled
        w = (pos / FS >= lo) & (pos / FS < hi)
        err = (llr[w] <= 0) != (bits[k[w]] == 1)
        assert np.mean(err) < 1.6 * ber_expected + 0.005, (lo, hi, np.mean(err))


def _bpsk_errors(llr, pos, bits, lo_s, hi_s, ppm, fs=FS):
    k, _ = align_symbols(pos, fs, RS, 0.3, ppm)
    w = (pos / fs >= lo_s) & (pos / fs < hi_s) & (k >= 0) & (k < bits.size)
    return int(np.sum((llr[w] <= 0) != (bits[k[w]] == 1))), int(np.sum(w))


@pytest.mark.slow
def test_first_codeblock_after_acquisition_is_demodulated_with_the_settled_clock(monkeypatch):
    """With a 50 ppm clock offset the timing loop learns the clock over the first ~100k symbols; the look-back after
    the first lock must carry the settled timing back, so the stretch where the first codeblock of a recording lies
    (0.5-1.1 s) is as good as the signal seconds later (with the look-back at the usual settling: ~0.2 dB worse)."""
    import heradecode.dsp.demod as demod

    fs = 1.536e6  # the receiver's low-rate decimated rate (25.5 samples per symbol)

    def errors(cold_symbols):
        monkeypatch.setattr(demod, "COLD_SETTLE_SYMBOLS", cold_symbols)
        first = later = 0
        for seed in range(3):
            rng = np.random.default_rng(40 + seed)
            ppm = 50.0 if seed % 2 else -50.0
            n = int(3.2 * fs)
            s, bits = pm_signal(rng, n, fs, RS, mod_index=1.1, sym_offset=0.3, clock_ppm=ppm)
            sig = amplitude_for_esn0(-5.7, fs, RS, 1.1, noise_power=1.0) * s * np.exp(2j * np.pi * 700.0 * np.arange(n) / fs)
            x = (sig + noise(rng, n))[None, :].astype(np.complex64)
            dm = PcmPmDemodulator(fs, RS)
            outs = [dm.process(x[:, a:a + 76800]) for a in range(0, n, 76800)] + [dm.finish()]
            llr = np.concatenate([o.llr for o in outs])
            pos = np.concatenate([o.sample for o in outs])
            assert np.all(np.diff(pos) > 0) and dm.n_lookback_failures == 0
            first += _bpsk_errors(llr, pos, bits, 0.5, 1.1, ppm, fs)[0]
            later += _bpsk_errors(llr, pos, bits, 2.4, 3.0, ppm, fs)[0]
        return first, later

    first, later = errors(demod.COLD_SETTLE_SYMBOLS)
    assert first < 1.01 * later, (first, later)  # equal quality: ~25,500 errors each at BER 0.24 (+-0.6 %)
    first_warm_only, later_warm_only = errors(demod.SETTLE_SYMBOLS)  # no cold settling: look-back at the usual time
    assert first_warm_only > 1.02 * first, (first_warm_only, first)  # measured: 3 % more errors, about 0.2 dB


def test_time_reversed_demodulator_tracks_from_its_first_symbol():
    """The live demodulator's state, reversed, demodulates the reversed stream with no warm-up or pull-in."""
    from heradecode.dsp.biphase import BiphaseDemodulator

    rng = np.random.default_rng(8)
    ppm, n = -30.0, int(1.5 * FS)
    s, bits = pm_signal(rng, n, FS, RS, mod_index=1.1, sym_offset=0.3, clock_ppm=ppm)
    x = (amplitude_for_esn0(-3.0, FS, RS, 1.1) * s + noise(rng, n)).astype(np.complex64)
    live = BiphaseDemodulator(FS, RS)
    live.process(x)
    assert live.clock_offset_ppm == pytest.approx(ppm, abs=3.0)
    back = live.time_reversed(n)
    sym = back.process(np.conj(x[::-1]))  # the data sign flips cancel (see heradecode.dsp.demod)
    assert back.clock_offset_ppm == pytest.approx(ppm, abs=3.0)
    fwd_start = (n - 1) - (sym.sample + back.samples_per_symbol)  # forward start of each reversed symbol
    k, frac = align_symbols(fwd_start, FS, RS, 0.3, ppm)
    first = slice(0, 2000)  # a cold demodulator spends these in warm-up and pull-in
    assert np.abs(frac[first]).max() < 0.1
    err = np.mean((sym.llr[first] <= 0) != (bits[k[first]] == 1))
    assert err < 1.5 * bpsk_ber(-3.0) + 0.01, err
    assert np.all(np.diff(k) == -1)  # every symbol once, newest first
