"""Streaming soft frame synchronizer (heradecode.fec.asm.FrameSync)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heradecode.errors import UserError
from heradecode.fec.asm import FrameSync, asm_bits

K, R = 1784, 4  # short codeblocks keep the streams small: 7152 symbols + 128-bit ASM
N_CB = (K + 4) * R
M = 32 * R


def _stream(rng, n_blocks, esn0_db, gaps=True, polarities=None, inv_rate=R, k=K):
    """Noisy soft symbols (LLR convention) with ASM + random codeblocks; returns (stream, truth)."""
    m = 32 * inv_rate
    n_cb = (k + 4) * inv_rate
    sigma = np.sqrt(1.0 / (2.0 * 10 ** (esn0_db / 10)))
    parts, truth, pos = [], [], 0
    for i in range(n_blocks):
        gap = int(rng.integers(0, 3000)) if gaps else 0
        parts.append(np.zeros(gap))
        pos += gap
        cb = rng.integers(0, 2, n_cb).astype(np.uint8)
        pol = polarities[i] if polarities is not None else 1
        sym = pol * (1.0 - 2.0 * np.concatenate([asm_bits(inv_rate), cb]))
        parts.append(sym)
        truth.append((pos, pol, cb))
        pos += sym.size
    parts.append(np.zeros(int(rng.integers(0, 2000))))
    clean = np.concatenate(parts)
    y = clean + sigma * rng.standard_normal(clean.size)
    return (2 * y / sigma**2).astype(np.float32), truth


def _run(fs, stream, chunks):
    out = []
    pos = 0
    for c in chunks:
        out.extend(fs.feed(stream[pos : pos + c]))
        pos += c
    out.extend(fs.feed(stream[pos:]))
    out.extend(fs.flush())
    return out


# Isolated markers (gaps around them) need |statistic| >= 6 sigma on their own; the statistic
# peaks near sqrt(ASM length) * A / sqrt(A^2 + sigma^2), so the short rate-1/2 marker needs a
# stronger signal than the others.
@pytest.mark.parametrize("inv_rate, k, esn0_db", [(4, 1784, -1.0), (2, 1784, 5.0), (3, 3568, 0.0), (6, 1784, -3.0)])
def test_markers_found_at_known_positions_both_polarities(inv_rate, k, esn0_db):
    rng = np.random.default_rng(inv_rate)
    pols = [1, -1, -1, 1, -1]
    stream, truth = _stream(rng, 5, esn0_db=esn0_db, polarities=pols, inv_rate=inv_rate, k=k)
    fs = FrameSync(k, inv_rate)
    found = _run(fs, stream, [5000] * 3)
    m = 32 * inv_rate
    assert [(c.asm_index, c.polarity) for c in found] == [(p, pol) for p, pol, _ in truth]
    for c, (p, pol, cb) in zip(found, truth):
        assert c.start == p + m and c.soft.dtype == np.float32 and c.soft.size == (k + 4) * inv_rate
        assert np.array_equal(c.soft, pol * stream[c.start : c.start + c.soft.size])
        # sign-corrected soft values agree with the sent bits far more often than not
        assert np.mean((c.soft < 0) == cb.astype(bool)) > 0.8
        assert np.sign(c.score) == pol and abs(c.score) >= fs.threshold
    assert fs.n_truncated == 0


def test_continuous_stream_at_turbo_threshold_is_tracked():
    # Es/N0 = -5.5 dB (Eb/N0 ~ 0.5 dB at rate 1/4): single markers peak near 6.8 sigma and some
    # stay under the 6-sigma threshold, but pair confirmation and tracking catch all of them.
    rng = np.random.default_rng(11)
    stream, truth = _stream(rng, 12, esn0_db=-5.5, gaps=False, polarities=[1] * 6 + [-1] * 6)
    fs = FrameSync(K, R)
    found = _run(fs, stream, [20000] * 4)
    assert [(c.asm_index, c.polarity) for c in found] == [(p, pol) for p, pol, _ in truth]
    assert {c.reason for c in found} <= {"strong", "pair", "tracked"}
    assert any(c.reason != "strong" for c in found)


def test_lost_marker_bridged_by_flywheel():
    rng = np.random.default_rng(5)
    stream, truth = _stream(rng, 4, esn0_db=0.0, gaps=False)
    stream[truth[2][0] : truth[2][0] + M] = 0.0  # marker of the third codeblock erased
    found = _run(FrameSync(K, R), stream, [])
    assert [c.asm_index for c in found] == [truth[0][0], truth[1][0], truth[3][0]]
    found = _run(FrameSync(K, R, flywheel=1), stream, [])
    assert [c.asm_index for c in found] == [p for p, _, _ in truth]
    assert found[2].reason == "flywheel"


def test_slipped_symbol_is_tracked():
    rng = np.random.default_rng(8)
    stream, truth = _stream(rng, 3, esn0_db=-4.0, gaps=False)
    cut = truth[1][0] + 5000  # one symbol lost inside the second codeblock
    stream = np.delete(stream, cut)
    found = _run(FrameSync(K, R), stream, [])
    assert [c.asm_index for c in found] == [truth[0][0], truth[1][0], truth[2][0] - 1]


def test_no_detections_in_long_pure_noise():
    rng = np.random.default_rng(12345)
    fs = FrameSync(K, R)
    found = []
    held, capacity = [], []
    for _ in range(40):
        found.extend(fs.feed((3.0 * rng.standard_normal(100_000)).astype(np.float32)))
        held.append(fs._total - fs._buf_start)
        capacity.append(fs._data.size)
    found.extend(fs.flush())
    assert found == [] and fs.n_markers == 0
    # memory stays bounded: one chunk plus about two codeblock periods, whatever the length
    assert max(held) <= 100_000 + 2 * fs.period + 3 * fs.power_window
    assert capacity[-1] == capacity[3]


def test_truncated_codeblock_at_end():
    rng = np.random.default_rng(2)
    stream, truth = _stream(rng, 2, esn0_db=0.0, gaps=False)
    cut = stream[: truth[1][0] + M + 100]
    fs = FrameSync(K, R)
    found = _run(fs, cut, [])
    assert [c.asm_index for c in found] == [truth[0][0]]
    assert fs.n_truncated == 1


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 12000), max_size=12), st.integers(0, 3))
def test_chunking_does_not_change_the_result(chunks, seed):
    rng = np.random.default_rng(seed)
    stream, truth = _stream(rng, 3, esn0_db=-2.0, polarities=[1, -1, 1])
    ref = _run(FrameSync(K, R), stream, [])
    got = _run(FrameSync(K, R), stream, chunks)
    assert [(c.asm_index, c.polarity, c.reason) for c in got] == [(c.asm_index, c.polarity, c.reason) for c in ref]
    assert [(c.asm_index, c.polarity) for c in ref] == [(p, pol) for p, pol, _ in truth]
    for a, b in zip(got, ref):
        assert np.array_equal(a.soft, b.soft)
        assert a.score == pytest.approx(b.score, rel=1e-4)


def test_bad_input():
    fs = FrameSync()
    with pytest.raises(UserError):
        list(fs.feed(np.zeros((2, 10), np.float32)))
    with pytest.raises(UserError):
        FrameSync(k=1000)
    with pytest.raises(UserError):
        FrameSync(inv_rate=5)
    list(fs.flush())
    with pytest.raises(UserError):
        list(fs.feed(np.zeros(10, np.float32)))
