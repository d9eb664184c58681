"""CRC-16 FECF (poly 0x1021, init 0xFFFF)."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from heradecode.fec.crc import append_fecf, crc16, crc16_many, crc16_reference, fecf_ok, fecf_ok_many


def test_check_value():
    # The catalogue check value of CRC-16/IBM-3740 ("CCITT-FALSE") for "123456789".
    assert crc16(b"123456789") == 0x29B1
    assert crc16_reference(b"123456789") == 0x29B1


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=1200))
def test_fast_path_equals_crccheck(data):
    assert crc16(data) == crc16_reference(data)


def test_many_equals_single():
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 256, size=(50, 1113), dtype=np.uint8)
    got = crc16_many(frames)
    assert [int(c) for c in got] == [crc16(bytes(f)) for f in frames]


def test_fecf_append_and_check():
    rng = np.random.default_rng(4)
    frames = [append_fecf(rng.bytes(1113)) for _ in range(20)]
    assert all(fecf_ok(f) for f in frames)
    arr = np.frombuffer(b"".join(frames), dtype=np.uint8).reshape(20, 1115).copy()
    arr[7, 300] ^= 0x80
    ok = fecf_ok_many(arr)
    assert ok.sum() == 19 and not ok[7]
    assert not fecf_ok(bytes(arr[7]))
