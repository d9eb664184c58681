"""Fuzz tests of the soft-symbol path (issue #11): FrameSync and turbo-decode on hostile streams.

Streams are built by numpy from parameters that hypothesis draws (length, seed, share and kind
of corrupt values, chunking), so every example is reproducible from its seed.  Properties:
no exception, every emitted codeblock is finite and of the right size, corrupt values are
counted, memory stays bounded by the chunk size and the codeblock period (not the stream
length), and for clean streams with a few outliers the markers found do not depend on the
chunking and are the true ones.
"""

import json

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from heradecode.cli import main
from heradecode.fec.asm import CLIP_BLOCK, FrameSync, asm_bits
from heradecode.fec.crc import append_fecf
from heradecode.fec.randomizer import randomize_bits
from heradecode.fec.turbo import encode
from tests.fec.helpers import run_framesync, soft_stream

K, R = 1784, 4
SPECIALS = np.array([np.nan, np.inf, -np.inf, 1e10, -1e30, 3.4e38, -3.4e38, 1e-40, 0.0], np.float32)
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _hostile(seed: int, n: int, bad_share: float, scale: float) -> np.ndarray:
    """Gaussian soft values of `scale` with a share of NaN, inf, huge and denormal values."""
    rng = np.random.default_rng(seed)
    y = (scale * rng.standard_normal(n)).astype(np.float32)
    bad = rng.random(n) < bad_share
    y[bad] = rng.choice(SPECIALS, size=int(bad.sum()))
    return y


def _chunks(n: int, cuts: list[int]) -> list[int]:
    out, left = [], n
    for c in cuts:
        if left <= 0:
            break
        out.append(min(c, left))
        left -= c
    return out


def _check(fs: FrameSync, found, max_chunk: int) -> None:
    for cb in found:
        assert cb.soft.dtype == np.float32 and cb.soft.size == fs.codeblock_len
        assert np.all(np.isfinite(cb.soft))
        assert cb.polarity in (1, -1) and np.isfinite(cb.score)
    # memory: one chunk plus a few codeblock periods and clipping blocks, whatever the stream length
    assert fs._data.size <= 4 * (max_chunk + 3 * fs.period + 4 * CLIP_BLOCK + 4 * fs.power_window)


@FUZZ
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 60_000), bad_share=st.sampled_from([0.0, 1e-4, 0.01, 0.5, 1.0]),
       scale=st.sampled_from([0.0, 1e-30, 1.0, 50.0, 1e20]), cuts=st.lists(st.integers(1, 20_000), max_size=8))
def test_float_streams_never_raise_and_are_counted(seed, n, bad_share, scale, cuts):
    y = _hostile(seed, n, bad_share, scale)
    fs = FrameSync(K, R)
    found = run_framesync(fs, y, _chunks(n, cuts))
    _check(fs, found, max(cuts + [n - sum(_chunks(n, cuts)), 1]))
    assert fs.n_nonfinite == int(np.count_nonzero(~np.isfinite(y)))


@FUZZ
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 60_000), dtype=st.sampled_from(["i1", "u1", "i2", "f8"]),
       cuts=st.lists(st.integers(1, 20_000), max_size=8))
def test_integer_and_double_streams(seed, n, dtype, cuts):
    rng = np.random.default_rng(seed)
    if dtype == "f8":
        y = rng.standard_normal(n) * 10.0 ** rng.integers(-300, 300, n)  # beyond float32 either way
    else:
        info = np.iinfo(dtype)
        y = rng.integers(info.min, info.max, n, endpoint=True).astype(dtype)
    fs = FrameSync(K, R)
    found = run_framesync(fs, y, _chunks(n, cuts))
    _check(fs, found, max(cuts + [n, 1]))
    if dtype != "f8":
        assert fs.n_nonfinite == 0


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n_out=st.integers(1, 6), cuts=st.lists(st.integers(1, 15_000), max_size=10),
       value=st.sampled_from([1e6, 1e10, -1e30, 3.4e38, np.nan, np.inf]))
def test_outliers_do_not_change_the_markers_or_depend_on_chunking(seed, n_out, cuts, value):
    rng = np.random.default_rng(seed)
    stream, truth = soft_stream(rng, 4, esn0_db=-1.0, polarities=[1, -1, 1, 1])
    where = rng.integers(0, stream.size, n_out)
    stream[where] = value
    ref = run_framesync(FrameSync(K, R), stream, [])
    got = run_framesync(FrameSync(K, R), stream, cuts)
    assert [(c.asm_index, c.polarity) for c in ref] == [(p, pol) for p, pol, _ in truth]
    assert [(c.asm_index, c.polarity, c.reason) for c in got] == [(c.asm_index, c.polarity, c.reason) for c in ref]
    for a, b in zip(got, ref):
        assert np.array_equal(a.soft, b.soft) and np.all(np.isfinite(a.soft))


def _cadu_stream(rng, n_blocks: int, esn0_db: float = 0.0) -> np.ndarray:
    """GNU Radio convention (positive = bit 1) soft symbols of k=1784 CADUs of random frames with a valid FECF."""
    sigma = np.sqrt(1.0 / (2.0 * 10 ** (esn0_db / 10)))
    parts = [np.zeros(int(rng.integers(0, 3000)))]
    for _ in range(n_blocks):
        frame = append_fecf(rng.integers(0, 256, K // 8 - 2, dtype=np.uint8).tobytes())
        bits = np.unpackbits(np.frombuffer(frame, dtype=np.uint8))
        parts.append(2.0 * np.concatenate([asm_bits(R), randomize_bits(encode(bits, R))]) - 1.0)
    y = np.concatenate(parts)
    return (y + sigma * rng.standard_normal(y.size)).astype(np.float32)


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), mode=st.sampled_from(["garbage-f32", "garbage-i8", "cadus+outliers"]))
def test_turbo_decode_cli_on_hostile_files(tmp_path_factory, seed, mode):
    rng = np.random.default_rng(seed)
    path = tmp_path_factory.mktemp("fuzz") / "soft.bin"
    fmt = "i8" if mode == "garbage-i8" else "f32"
    if mode.startswith("garbage"):
        path.write_bytes(rng.integers(0, 256, int(rng.integers(0, 200_000)), dtype=np.uint8).tobytes())
    else:
        y = _cadu_stream(rng, 3)
        y[rng.integers(0, y.size, 5)] = rng.choice(SPECIALS[:7], 5)
        y.tofile(path)
    assert main(["turbo-decode", str(path), "--k", str(K), "--format", fmt, "--json"]) == 0


def test_turbo_decode_cli_decodes_codeblocks_between_outliers(tmp_path, capsys):
    rng = np.random.default_rng(3)
    y = _cadu_stream(rng, 3)
    y[:: 9001] = 1e30  # one huge value every ~9000 symbols, in every codeblock and marker region
    path = tmp_path / "soft.f32"
    y.tofile(path)
    assert main(["turbo-decode", str(path), "--k", str(K), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["codeblocks_found"] == 3 and d["decoded"] == 3


def test_memory_stays_flat_on_a_long_hostile_stream():
    fs = FrameSync(K, R)
    capacity = []
    for i in range(40):
        fs.feed(_hostile(i, 100_000, 0.01, 3.0))
        capacity.append(fs._data.size)
        assert fs._total - fs._buf_start <= 100_000 + 3 * fs.period + 4 * CLIP_BLOCK + 4 * fs.power_window
    fs.flush()
    assert capacity[-1] == capacity[3]
    assert fs.n_nonfinite > 0 and fs.n_outliers > 0
