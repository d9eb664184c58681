"""CCSDS turbo encoder and decoder (CCSDS 131.0-B section 6)."""

import itertools

import inspect
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heradecode.errors import UserError
from heradecode.fec import _bcjr, _simd, turbo
from heradecode.fec.crc import append_fecf
from heradecode.fec.interleaver import K_VALUES

RATES = (2, 3, 4, 6)
CASES = list(itertools.product(K_VALUES, RATES))


# ----------------------------------------------------------------- independent references


def _ref_permutation(k):
    """CCSDS 131.0-B 6.3 g, transcribed on its own (0-based)."""
    k2 = k // 8
    primes = (31, 37, 43, 47, 53, 59, 61, 67)
    out = []
    for s in range(1, k + 1):
        m = (s - 1) % 2
        i = (s - 1) // (2 * k2)
        j = (s - 1) // 2 - i * k2
        t = (19 * i + 1) % 4
        q = t % 8 + 1
        c = (primes[q - 1] * j + 21 * m) % k2
        out.append(2 * (t + 4 * c + 1) - m - 1)
    return np.array(out)


def _ref_rsc(bits):
    """A plain shift-register model of one constituent encoder of figure 6-2.

    G0 = 10011 (feedback taps D^3, D^4), G1 = 11011, G2 = 10101, G3 = 11111; the leftmost
    coefficient applies to the register input.  Returns (input incl. tail, 1x, 2x, 3x, register).
    """
    g = {1: (1, 1, 0, 1, 1), 2: (1, 0, 1, 0, 1), 3: (1, 1, 1, 1, 1)}
    reg = [0, 0, 0, 0]  # D^1 .. D^4
    ins, par = [], {1: [], 2: [], 3: []}
    for n in range(len(bits) + 4):
        feedback = reg[2] ^ reg[3]
        u = int(bits[n]) if n < len(bits) else feedback  # termination: input = feedback
        w = u ^ feedback  # register input
        taps = [w] + reg
        for x in (1, 2, 3):
            par[x].append(sum(c * v for c, v in zip(g[x], taps)) % 2)
        ins.append(u)
        reg = [w] + reg[:3]
    return np.array(ins), np.array(par[1]), np.array(par[2]), np.array(par[3]), reg


def _frame_bits(rng, k):
    frame = append_fecf(rng.integers(0, 256, k // 8 - 2, dtype=np.uint8).tobytes())
    return np.unpackbits(np.frombuffer(frame, dtype=np.uint8))


def _bpsk_llr(codeblock, ebn0_db=None, rng=None, k=None):
    x = 1.0 - 2.0 * codeblock.astype(np.float64)
    if ebn0_db is None:
        return (4.0 * x).astype(np.float32)
    esn0 = 10 ** (ebn0_db / 10) * k / codeblock.size
    sigma = np.sqrt(1 / (2 * esn0))
    y = x + sigma * rng.standard_normal(x.size)
    return (2 * y / sigma**2).astype(np.float32)


@pytest.fixture(scope="module")
def warm():
    """Compile (or load) the numba kernels once for this module."""
    rng = np.random.default_rng(0)
    bits = _frame_bits(rng, 1784)
    cb = turbo.encode(bits, 3)
    for alg in turbo.ALGORITHMS:
        turbo.decode(_bpsk_llr(cb), k=1784, inv_rate=3, algorithm=alg)


# ----------------------------------------------------------------- encoder


@pytest.mark.parametrize("k, r", CASES)
def test_encoder_structure(k, r):
    rng = np.random.default_rng(k + r)
    bits = rng.integers(0, 2, k).astype(np.uint8)
    cb = turbo.encode(bits, r)
    n = k + 4
    assert cb.dtype == np.uint8 and cb.shape == ((k + 4) * r,)
    assert turbo.codeblock_length(k, r) == cb.size
    steps = cb.reshape(n, r)
    # systematic: the first symbol of every step is 0a, equal to the input
    assert np.array_equal(steps[:k, 0], bits)
    # parity streams equal the reference constituent encoders on the (interleaved) input
    ua, p1a, p2a, p3a, reg_a = _ref_rsc(bits)
    ub, p1b, p2b, p3b, reg_b = _ref_rsc(bits[_ref_permutation(k)])
    assert reg_a == [0, 0, 0, 0] and reg_b == [0, 0, 0, 0]
    assert np.array_equal(steps[:, 0], ua)  # 0a includes encoder a's 4 termination bits
    expected_columns = {
        3: [p1a, p1b],
        4: [p2a, p3a, p1b],
        6: [p1a, p2a, p3a, p1b, p3b],
    }
    if r == 2:
        assert np.array_equal(steps[0::2, 1], p1a[0::2])  # out 1a on even steps
        assert np.array_equal(steps[1::2, 1], p1b[1::2])  # out 1b on odd steps
    else:
        for col, ref in enumerate(expected_columns[r], start=1):
            assert np.array_equal(steps[:, col], ref)
    st = turbo.encode_streams(bits)
    assert st.final_state_a == 0 and st.final_state_b == 0
    assert np.array_equal(st.stream("1b"), p1b) and np.array_equal(st.stream("3b"), p3b)
    assert np.array_equal(st.input_b, ub)
    assert np.array_equal(turbo.multiplex(st.streams, r), cb)


def test_codeblock_known_answer_single_one():
    # Input: a single 1 in the first position (k = 8920).  By hand from figure 6-2, with
    # register input w_t = u_t + w_{t-3} + w_{t-4}: w = 1 0 0 1 1 0 1 0 ...
    #   1a = w_t + w_{t-1} + w_{t-3} + w_{t-4}        = 1 1 0 0 1 1 0 1
    #   2a = w_t + w_{t-2} + w_{t-4}                  = 1 0 1 1 0 1 0 1
    #   3a = w_t + w_{t-1} + w_{t-2} + w_{t-3} + w_{t-4} = 1 1 1 0 1 0 1 1
    # Encoder b sees the 1 only at s = pi^-1(1) (far into the block), so 1b = 3b = 0 at first.
    bits = np.zeros(8920, dtype=np.uint8)
    bits[0] = 1
    # rate 1/4: (0a, 2a, 3a, 1b) per step
    assert turbo.encode(bits, 4)[:32].tolist() == [
        1, 1, 1, 0,  0, 0, 1, 0,  0, 1, 1, 0,  0, 1, 0, 0,
        0, 0, 1, 0,  0, 1, 0, 0,  0, 0, 1, 0,  0, 1, 1, 0,
    ]  # fmt: skip
    # rate 1/3: (0a, 1a, 1b)
    assert turbo.encode(bits, 3)[:12].tolist() == [1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
    # rate 1/2: (0a, 1a) on even steps, (0a, 1b) on odd steps
    assert turbo.encode(bits, 2)[:12].tolist() == [1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]
    # rate 1/6: (0a, 1a, 2a, 3a, 1b, 3b)
    assert turbo.encode(bits, 6)[:12].tolist() == [1, 1, 1, 1, 0, 0, 0, 1, 0, 1, 0, 0]


@pytest.mark.parametrize("bad", [np.zeros(1000, np.uint8), np.zeros((2, 8920), np.uint8), np.full(8920, 2)])
def test_encoder_bad_input(bad):
    with pytest.raises(UserError):
        turbo.encode(bad)


def test_encoder_bad_rate():
    with pytest.raises(UserError, match="inverse rate"):
        turbo.encode(np.zeros(1784, np.uint8), 5)


# ----------------------------------------------------------------- decoder


@pytest.mark.parametrize("k, r", CASES)
def test_noiseless_roundtrip(warm, k, r):
    rng = np.random.default_rng(10 * k + r)
    bits = _frame_bits(rng, k)
    res = turbo.decode(_bpsk_llr(turbo.encode(bits, r)), k=k, inv_rate=r)
    assert isinstance(res, turbo.TurboResult)
    assert np.array_equal(res.bits, bits)
    assert res.crc_ok and res.converged and res.iterations == 1
    assert res.frame() == np.packbits(bits).tobytes()[:-2]
    assert res.frame(strip_fecf=False) == np.packbits(bits).tobytes()


@pytest.mark.parametrize("algorithm", turbo.ALGORITHMS)
@pytest.mark.parametrize("k, r", [(8920, 4), (1784, 2), (3568, 6)])
def test_noiseless_roundtrip_fixed_iterations(warm, k, r, algorithm):
    rng = np.random.default_rng(k)
    bits = _frame_bits(rng, k)
    res = turbo.decode(_bpsk_llr(turbo.encode(bits, r)), k=k, inv_rate=r, algorithm=algorithm, stop_on_crc=False,
                       max_iterations=3)
    assert np.array_equal(res.bits, bits) and res.crc_ok and res.iterations == 3


@pytest.mark.parametrize("algorithm", turbo.ALGORITHMS)
@pytest.mark.parametrize("k, r, ebn0_db", [(1784, 2, 2.5), (3568, 3, 1.5), (8920, 4, 1.0), (7136, 6, 1.0)])
def test_every_algorithm_corrects_channel_errors(warm, k, r, ebn0_db, algorithm):
    # every rate, 10 fixed iterations (no early stop): the decisions stay right to the end
    rng = np.random.default_rng(100 * r + k)
    bits = _frame_bits(rng, k)
    cb = turbo.encode(bits, r)
    llr = _bpsk_llr(cb, ebn0_db=ebn0_db, rng=rng, k=k)
    assert ((llr < 0) != (cb == 1)).sum() > cb.size // 20  # more than 5 % of the symbols arrive wrong
    res = turbo.decode(llr, k=k, inv_rate=r, algorithm=algorithm, stop_on_crc=False)
    assert np.array_equal(res.bits, bits) and res.crc_ok and res.iterations == 10


@pytest.mark.parametrize("r", RATES)
def test_flipped_symbols_are_corrected(warm, r):
    rng = np.random.default_rng(r)
    bits = _frame_bits(rng, 7136)
    llr = _bpsk_llr(turbo.encode(bits, r))
    flips = rng.choice(llr.size, 5, replace=False)
    flips[0] = 0  # the first systematic bit
    llr[flips] *= -1
    res = turbo.decode(llr, k=7136, inv_rate=r)
    assert np.array_equal(res.bits, bits) and res.crc_ok


@pytest.mark.parametrize("algorithm", turbo.ALGORITHMS)
def test_moderate_noise(warm, algorithm):
    rng = np.random.default_rng(2024)
    for _ in range(3):
        bits = _frame_bits(rng, 8920)
        llr = _bpsk_llr(turbo.encode(bits, 4), ebn0_db=1.5, rng=rng, k=8920)
        assert (llr < 0).sum() != (turbo.encode(bits, 4) == 1).sum()  # the channel made errors
        res = turbo.decode(llr, algorithm=algorithm)
        assert np.array_equal(res.bits, bits) and res.crc_ok and res.converged
        assert 1 <= res.iterations <= 10


def test_rate_half_short_block_in_noise(warm):
    rng = np.random.default_rng(7)
    bits = _frame_bits(rng, 1784)
    llr = _bpsk_llr(turbo.encode(bits, 2), ebn0_db=2.5, rng=rng, k=1784)
    res = turbo.decode(llr, k=1784, inv_rate=2)
    assert np.array_equal(res.bits, bits) and res.crc_ok


def test_segmentation_and_reference_agree(warm):
    rng = np.random.default_rng(99)
    bits = _frame_bits(rng, 1784)
    llr = _bpsk_llr(turbo.encode(bits, 4), ebn0_db=1.0, rng=rng, k=1784)
    for dec in (turbo.TurboDecoder(1784, 4, segments=1), turbo.TurboDecoder(1784, 4, segments=5, guard=8)):
        res = dec.decode(llr)
        assert np.array_equal(res.bits, bits) and res.crc_ok


def test_stop_on_stable(warm):
    rng = np.random.default_rng(5)
    bits = _frame_bits(rng, 1784)
    llr = _bpsk_llr(turbo.encode(bits, 4))
    res = turbo.decode(llr, k=1784, stop_on_crc=False, stop_on_stable=True)
    assert res.converged and res.crc_ok and res.iterations == 2 and np.array_equal(res.bits, bits)


def test_erasure_fails_crc(warm):
    res = turbo.decode(np.zeros(35696, np.float32))
    assert not res.crc_ok and not res.converged
    assert res.iterations == 10 and res.bits.shape == (8920,)


def test_wrong_codeword_reported_failed(warm):
    # a valid codeword whose information block has a wrong FECF decodes but fails CRC
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, 1784).astype(np.uint8)
    res = turbo.decode(_bpsk_llr(turbo.encode(bits, 4)), k=1784, max_iterations=2)
    assert np.array_equal(res.bits, bits) and not res.crc_ok and res.iterations == 2


def test_batch_matches_single(warm):
    rng = np.random.default_rng(3)
    frames = [_frame_bits(rng, 3568) for _ in range(5)]
    llrs = np.stack([_bpsk_llr(turbo.encode(b, 3), ebn0_db=1.5, rng=rng, k=3568) for b in frames])
    llrs[2] = 0.0
    batch = turbo.decode_batch(llrs, k=3568, inv_rate=3, workers=2)
    assert [r.crc_ok for r in batch] == [True, True, False, True, True]
    for row, res, bits in zip(llrs, batch, frames):
        single = turbo.decode(row, k=3568, inv_rate=3)
        assert np.array_equal(single.bits, res.bits) and single.iterations == res.iterations
    assert all(np.array_equal(res.bits, bits) for res, bits in zip(batch, frames) if res.crc_ok)
    assert turbo.decode_batch(llrs[:0], k=3568, inv_rate=3) == []


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: turbo.decode(np.zeros(1000, np.float32)), "35696 LLRs"),
        (lambda: turbo.decode(np.zeros((2, 35696), np.float32)), "35696 LLRs"),
        (lambda: turbo.decode(np.full(35696, np.nan, np.float32)), "NaN or infinite"),
        (lambda: turbo.decode(np.r_[np.zeros(35695), np.inf]), "NaN or infinite"),
        (lambda: turbo.decode(np.array(["a"] * 35696)), "real numbers"),
        (lambda: turbo.decode(np.zeros(35696), k=1000), "block length"),
        (lambda: turbo.decode(np.zeros(35696), inv_rate=5), "inverse rate"),
        (lambda: turbo.decode(np.zeros(35696), algorithm="viterbi"), "algorithm"),
        (lambda: turbo.decode(np.zeros(35696), max_iterations=0), "max_iterations"),
        (lambda: turbo.decode(np.zeros(35696), extrinsic_scale=1.5), "extrinsic scale"),
        (lambda: turbo.decode(np.zeros(35696), llr_margin=0.5), "llr_margin"),
        (lambda: turbo.decode(np.zeros(35696), llr_margin="x"), "llr_margin"),
        (lambda: turbo.decode_batch(np.zeros(35696)), "shape"),
        (lambda: turbo.decode_batch(np.zeros((1, 35696)), workers=0), "workers"),
    ],
)
def test_bad_input_is_a_clear_user_error(call, message):
    with pytest.raises(UserError, match=message):
        call()
    assert issubclass(UserError, ValueError)


# ----------------------------------------------------------------- max* versions and the default


def _maxstar(x, y, algorithm):
    out = np.empty_like(x)
    _bcjr.maxstar_array(x, y, out, _simd.TOKENS[algorithm])
    return out


def _maxstar_pairs():
    """float32 pairs over the differences that matter (0..30) and far beyond, plus -inf-like metrics."""
    rng = np.random.default_rng(12)
    d = np.concatenate([np.linspace(-30.0, 30.0, 16 * 600), rng.uniform(-2e3, 2e3, 16 * 50), np.zeros(16)])
    x = rng.uniform(-100.0, 100.0, d.size).astype(np.float32)
    y = (x + d).astype(np.float32)
    x[-8:] = _bcjr.NEG_BIG  # unreachable states
    y[-4:] = _bcjr.NEG_BIG
    return x, y


def test_maxstar_versions_against_the_jacobian_logarithm():
    x, y = _maxstar_pairs()
    ref = np.logaddexp(x.astype(np.float64), y.astype(np.float64))
    ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)  # the float32 result's own rounding
    exact = _maxstar(x, y, "log-map")
    assert np.all(np.abs(exact - ref) <= 3e-7 + ulp)
    linear = _maxstar(x, y, "linear-log-map")
    err = np.abs(linear - ref) - ulp
    assert err.max() <= _simd.LINEAR_MAX_ERROR
    assert err.max() > _simd.LINEAR_MAX_ERROR - 0.002  # the bound is the line's own, not slack
    # the line: ln 2 - 0.0716 at |x - y| = 0, nothing beyond the knee at 2.6
    z = np.abs(x.astype(np.float64) - y)
    assert np.all(np.abs(linear - np.maximum(x, y) - np.maximum(0.0, _simd.LINEAR_A - _simd.LINEAR_B * z))
                  <= 4 * ulp + 1e-6)
    maxlog = _maxstar(x, y, "max-log")
    assert np.array_equal(maxlog, np.maximum(x, y)) and np.all(ref - maxlog <= math.log(2) + ulp)
    assert all(np.isfinite(v).all() for v in (exact, linear, maxlog))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(-1e4, 1e4, width=32), st.floats(-1e4, 1e4, width=32)), min_size=16, max_size=16))
def test_exact_maxstar_is_symmetric_and_bounded(pairs):
    x = np.array([p[0] for p in pairs], np.float32)
    y = np.array([p[1] for p in pairs], np.float32)
    exact = _maxstar(x, y, "log-map")
    assert np.array_equal(exact, _maxstar(y, x, "log-map"))
    assert np.all(exact >= np.maximum(x, y))
    ref = np.logaddexp(x.astype(np.float64), y.astype(np.float64))
    assert np.all(np.abs(exact - ref) <= 3e-7 + np.spacing(np.abs(ref).astype(np.float32)))


def test_default_algorithm_is_linear_log_map_everywhere():
    assert turbo.DEFAULT_ALGORITHM == "linear-log-map" == turbo.ALGORITHMS[0]
    dec = turbo.TurboDecoder()
    assert dec.algorithm == "linear-log-map" and dec.extrinsic_scale == 0.85 and dec.llr_margin == 1.1
    for fn in (turbo.decode, turbo.decode_batch):
        assert inspect.signature(fn).parameters["algorithm"].default == "linear-log-map"
    for alg in ("max-log", "log-map"):  # still selectable, and used as given
        assert turbo.TurboDecoder(algorithm=alg).llr_margin == 1.0


def test_llr_scale_estimate():
    rng = np.random.default_rng(21)
    n = turbo.codeblock_length(8920, 4)
    sigma = math.sqrt(1 / (2 * 10 ** (0.3 / 10) * 8920 / n))  # Eb/N0 0.3 dB
    llr = (rng.choice([-1.0, 1.0], n) + sigma * rng.standard_normal(n)) * 2 / sigma**2
    for c in (0.5, 1.0, 1.4):
        assert _bcjr.llr_scale_estimate((c * llr).astype(np.float32)) == pytest.approx(c, rel=0.1)
    faded = llr.copy()
    faded[: n // 2] *= 0.05  # half the block in a fade: heavy tails, never read as "too small"
    assert _bcjr.llr_scale_estimate(faded.astype(np.float32)) > 1.5
    assert _bcjr.llr_scale_estimate(np.zeros(n, np.float32)) == np.inf
    noise = [_bcjr.llr_scale_estimate(rng.standard_normal(n).astype(np.float32)) for _ in range(20)]
    assert min(noise) > 0.5  # noise alone: no estimate to speak of, and no large boost
    assert _bcjr.llr_scale_estimate(np.sign(llr).astype(np.float32)) == 0.0  # hard decisions


@pytest.fixture(scope="module")
def near_threshold():
    """200 codeblocks (k = 8920, rate 1/4) at Eb/N0 0.1 dB, where max-log fails ~17 % and log-MAP ~0.1 %."""
    rng = np.random.default_rng(2025)
    frames = [_frame_bits(rng, 8920) for _ in range(200)]
    llrs = np.stack([_bpsk_llr(turbo.encode(b, 4), ebn0_db=0.1, rng=rng, k=8920) for b in frames])
    return frames, llrs


def _failures(dec, frames, llrs, llr_scale=1.0):
    results = dec.decode_batch(llrs * np.float32(llr_scale), workers=1)
    return sum(not np.array_equal(res.bits, bits) for res, bits in zip(results, frames))


def test_default_beats_max_log_near_threshold(warm, near_threshold):
    maxlog = _failures(turbo.TurboDecoder(algorithm="max-log"), *near_threshold)
    default = _failures(turbo.TurboDecoder(), *near_threshold)
    assert maxlog >= 15  # measured: 28
    assert default <= 5 and default * 5 <= maxlog  # measured: 1


def test_default_is_robust_to_mis_scaled_llrs(warm, near_threshold):
    # LLRs 2x or 1.4x too small, or 1.4x too large (a poor Es/N0 estimate), on the same codeblocks: the
    # default stays far ahead of max-log (which ignores the scale); without its LLR margin
    # (llr_margin=1: the LLRs as given), LLRs 1.4x too small break it
    maxlog = _failures(turbo.TurboDecoder(algorithm="max-log"), *near_threshold)
    dec = turbo.TurboDecoder()
    for c in (0.5, 0.7, 1.4):
        assert _failures(dec, *near_threshold, llr_scale=c) * 3 <= maxlog  # measured: 1, 1, 3 against 28
    assert _failures(turbo.TurboDecoder(llr_margin=1.0), *near_threshold, llr_scale=0.7) >= 100  # measured: 200
    res = dec.decode(near_threshold[1][0] * np.float32(0.5))
    assert res.llr_gain == pytest.approx(2 * 1.1, rel=0.15)  # brought up to calibration, then the margin
