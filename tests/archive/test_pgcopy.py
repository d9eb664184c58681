"""The binary COPY encoder of packet rows, read back by a parser written from PostgreSQL's format description."""

from __future__ import annotations

import math
import struct

import numpy as np
import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from heradecode.archive.pgcopy import SIGNATURE, TRAILER, encode_packets


def _parse(stream: bytes) -> list[list]:
    assert stream.startswith(b"PGCOPY\n\xff\r\n\x00") and stream[11:19] == bytes(8) and stream.endswith(b"\xff\xff")
    pos, rows = 19, []
    while True:
        (n,) = struct.unpack_from(">h", stream, pos)
        pos += 2
        if n == -1:
            assert pos == len(stream)
            return rows
        fields = []
        for _ in range(n):
            (size,) = struct.unpack_from(">i", stream, pos)
            pos += 4
            if size < 0:
                fields.append(None)
            else:
                fields.append(stream[pos:pos + size])
                pos += size
        rows.append(fields)


_int = st.integers(-2**31, 2**31 - 1)
_row = st.tuples(st.integers(0, 10**6), st.one_of(st.none(), st.floats(allow_nan=False, allow_infinity=False)),
                 st.integers(0, 63), st.integers(0, 2047), st.sampled_from(["pus", "time", "idle", "x"]),
                 st.integers(0, 16383), st.one_of(st.none(), st.integers(0, 255)),
                 st.one_of(st.none(), st.integers(0, 255)), st.one_of(st.none(), st.floats(-1e12, 1e12)),
                 st.one_of(st.none(), st.booleans()), st.binary(max_size=40), st.booleans())


@settings(max_examples=60, deadline=None)
@given(st.lists(_row, max_size=30), _int)
def test_encoded_rows_read_back(rows, decode_id):
    unix = np.array([np.nan if r[1] is None else r[1] for r in rows], dtype=float)
    hexes = [r[10].hex().upper() if r[11] else r[10].hex() for r in rows]
    stream = encode_packets(
        decode_id, pa.array([r[0] for r in rows], pa.int64()), unix, pa.array([r[2] for r in rows], pa.int64()),
        pa.array([r[3] for r in rows], pa.int64()), pa.array([r[4] for r in rows], pa.string()),
        pa.array([r[5] for r in rows], pa.int64()), pa.array([len(r[10]) for r in rows], pa.int64()),
        pa.array([r[6] for r in rows], pa.int64()), pa.array([r[7] for r in rows], pa.int64()),
        pa.array([r[8] for r in rows], pa.float64()), pa.array([r[9] for r in rows], pa.bool_()),
        pa.array(hexes, pa.string()))
    assert stream[:len(SIGNATURE)] == SIGNATURE and stream[-2:] == TRAILER
    got = _parse(stream)
    assert len(got) == len(rows)

    def i4(b):
        return None if b is None else struct.unpack(">i", b)[0]

    def f8(b):
        return None if b is None else struct.unpack(">d", b)[0]

    for r, g in zip(rows, got):
        assert len(g) == 13
        assert i4(g[0]) == decode_id and i4(g[1]) == r[0] and f8(g[2]) == r[1]
        assert i4(g[3]) == r[2] and i4(g[4]) == r[3] and g[5] == r[4].encode()
        assert i4(g[6]) == r[5] and i4(g[7]) == len(r[10]) and i4(g[8]) == r[6] and i4(g[9]) == r[7]
        assert f8(g[10]) == r[8] and (g[11] is None if r[9] is None else g[11] == bytes([r[9]]))
        assert g[12] == r[10]


def test_a_sliced_arrow_batch_is_encoded_from_its_own_rows():
    hexes = pa.array(["00", "0a0b", "ff", "c0ffee"], pa.string()).slice(1, 2)
    kinds = pa.array(["a", "pus", "time", "b"], pa.string()).slice(1, 2)
    ints = pa.array([1, 2], pa.int64())
    stream = encode_packets(7, ints, np.array([1.5, math.nan]), ints, ints, kinds, ints, pa.array([2, 1]), ints,
                            pa.array([None, 3], pa.int64()), pa.array([None, 2.0]), pa.array([True, None]), hexes)
    rows = _parse(stream)
    assert [r[5] for r in rows] == [b"pus", b"time"] and [r[12] for r in rows] == [b"\x0a\x0b", b"\xff"]
    assert rows[1][2] is None and rows[0][9] is None and rows[0][10] is None and rows[1][11] is None
