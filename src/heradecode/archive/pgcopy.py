"""PostgreSQL binary ``COPY`` of packet rows, encoded from Arrow columns by a numba loop.

The binary ``COPY`` format (PostgreSQL documentation, "COPY ... Binary Format"): the signature
``PGCOPY\\n\\377\\r\\n\\0``, a 32-bit flags field and a 32-bit header-extension length (both 0);
then per row a 16-bit field count and per field a 32-bit length (-1 for NULL, then nothing)
followed by the value in network byte order: ``int4`` 4 octets, ``float8`` the 8 octets of the
IEEE 754 double, ``bool`` 1 octet, ``text``/``bytea`` the octets themselves; the trailer is a
16-bit -1.  The server reads this without parsing text, and the packet octets travel as octets
rather than twice as many hexadecimal digits: the packets' ``data_hex`` column of ``packets.csv``
is decoded in the same loop.

Row layout (the columns of :data:`heradecode.archive.ingest.PACKET_COLS`): decode_id, frame_index
(int4), unix_s (float8), vcid, apid (int4), kind (text), sequence_count, length, pus_service,
pus_subtype (int4), obt_s (float8), pec_ok (bool), data (bytea).
"""

from __future__ import annotations

import numpy as np
from numba import njit

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)  # signature, flags, header extension length
TRAILER = b"\xff\xff"
N_FIELDS = 13


@njit(cache=True)
def _put(out, pos, value, n_octets):
    """Write ``value`` big-endian in ``n_octets`` at ``pos``; return the next position."""
    for k in range(n_octets):
        out[pos + k] = (value >> (8 * (n_octets - 1 - k))) & 0xFF
    return pos + n_octets


@njit(cache=True)
def _int4(out, pos, value, ok):
    if not ok:
        return _put(out, pos, -1, 4)
    pos = _put(out, pos, 4, 4)
    return _put(out, pos, value, 4)


@njit(cache=True)
def _float8(out, pos, bits, ok):
    if not ok:
        return _put(out, pos, -1, 4)
    pos = _put(out, pos, 8, 4)
    return _put(out, pos, bits, 8)


@njit(cache=True)
def _nibble(c):
    if c >= 97:  # a-f
        return c - 87
    if c >= 65:  # A-F
        return c - 55
    return c - 48


@njit(cache=True)
def _encode(decode_id, ints, int_ok, floats, float_ok, pec, pec_ok, kind_off, kind_buf, hex_off, hex_buf, out):
    """The rows: ``ints`` (n, 8) frame_index, vcid, apid, sequence_count, length, pus_service, pus_subtype;
    ``floats`` (n, 2) unix_s and obt_s as int64 bit patterns.  Returns the octets written."""
    pos = 0
    for i in range(ints.shape[0]):
        pos = _put(out, pos, N_FIELDS, 2)
        pos = _int4(out, pos, decode_id, True)
        pos = _int4(out, pos, ints[i, 0], int_ok[i, 0])  # frame_index
        pos = _float8(out, pos, floats[i, 0], float_ok[i, 0])  # unix_s
        pos = _int4(out, pos, ints[i, 1], int_ok[i, 1])  # vcid
        pos = _int4(out, pos, ints[i, 2], int_ok[i, 2])  # apid
        a, b = kind_off[i], kind_off[i + 1]
        pos = _put(out, pos, b - a, 4)
        for k in range(a, b):
            out[pos] = kind_buf[k]
            pos += 1
        for j in range(3, 7):  # sequence_count, length, pus_service, pus_subtype
            pos = _int4(out, pos, ints[i, j], int_ok[i, j])
        pos = _float8(out, pos, floats[i, 1], float_ok[i, 1])  # obt_s
        if pec_ok[i]:
            pos = _put(out, pos, 1, 4)
            out[pos] = 1 if pec[i] else 0
            pos += 1
        else:
            pos = _put(out, pos, -1, 4)
        a, b = hex_off[i], hex_off[i + 1]
        pos = _put(out, pos, (b - a) // 2, 4)
        for k in range(a, b - 1, 2):
            out[pos] = (_nibble(hex_buf[k]) << 4) | _nibble(hex_buf[k + 1])
            pos += 1
    return pos


def _ints(a) -> tuple[np.ndarray, np.ndarray]:
    """An Arrow integer array as int64 values (nulls 0) and a valid mask."""
    return (np.asarray(a.fill_null(0).to_numpy(zero_copy_only=False), dtype=np.int64),
            ~np.asarray(a.is_null().to_numpy(zero_copy_only=False), dtype=bool))


def _strings(a) -> tuple[np.ndarray, np.ndarray]:
    """Offsets (n + 1) and octets of an Arrow string array without nulls."""
    _validity, offsets, data = a.buffers()
    off = np.frombuffer(offsets, dtype=np.int32)[a.offset:a.offset + len(a) + 1].astype(np.int64)
    buf = np.frombuffer(data, dtype=np.uint8) if data is not None else np.zeros(0, np.uint8)
    return off, buf


def encode_packets(decode_id: int, frame_index, unix_s: np.ndarray, vcid, apid, kind, sequence_count, length,
                   pus_service, pus_subtype, obt_s, pec_ok, data_hex) -> bytes:
    """A whole binary COPY stream (signature, rows, trailer) of packet rows.

    ``unix_s`` is a float numpy array (NaN: no time); the others are Arrow arrays: integers
    (pus_service and pus_subtype nullable), ``kind`` and ``data_hex`` strings without nulls
    (``data_hex`` even-length hexadecimal, checked by the caller), ``obt_s`` float and ``pec_ok``
    bool, both nullable.
    """
    import pyarrow as pa

    n = len(unix_s)
    cols = [_ints(c) for c in (frame_index, vcid, apid, sequence_count, length, pus_service, pus_subtype)]
    ints = np.ascontiguousarray(np.stack([v for v, _ in cols], axis=1))
    int_ok = np.ascontiguousarray(np.stack([ok for _, ok in cols], axis=1))
    obt = np.asarray(obt_s.fill_null(np.nan).to_numpy(zero_copy_only=False), dtype=np.float64)
    t = np.asarray(unix_s, dtype=np.float64)
    floats = np.ascontiguousarray(np.stack([t, obt], axis=1)).view(np.int64)
    float_ok = np.ascontiguousarray(np.stack([np.isfinite(t), ~np.asarray(
        obt_s.is_null().to_numpy(zero_copy_only=False), dtype=bool) & np.isfinite(obt)], axis=1))
    pec = np.asarray(pec_ok.fill_null(False).to_numpy(zero_copy_only=False), dtype=bool)
    pec_valid = ~np.asarray(pec_ok.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    kind_off, kind_buf = _strings(kind.cast(pa.string()))
    hex_off, hex_buf = _strings(data_hex.cast(pa.string()))
    size = n * (2 + N_FIELDS * 4 + 8 * 4 + 2 * 8 + 1) + int(kind_off[-1] - kind_off[0]) \
        + int(hex_off[-1] - hex_off[0]) // 2 if n else 0
    out = np.empty(len(SIGNATURE) + size + len(TRAILER), dtype=np.uint8)
    out[:len(SIGNATURE)] = np.frombuffer(SIGNATURE, np.uint8)
    end = len(SIGNATURE) + _encode(int(decode_id), ints, int_ok, floats, float_ok, pec, pec_valid, kind_off, kind_buf,
                                   hex_off, hex_buf, out[len(SIGNATURE):])
    out[end:end + len(TRAILER)] = np.frombuffer(TRAILER, np.uint8)
    return out[:end + len(TRAILER)].tobytes()
