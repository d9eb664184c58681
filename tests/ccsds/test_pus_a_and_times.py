"""PUS version 1 (PUS-A) headers and non-PUS secondary-header times, by mission profile."""

import struct

from hypothesis import given
from hypothesis import strategies as st

from heradecode.ccsds.packettime import secondary_header_time_s
from heradecode.ccsds.pus import build_pus_tm, parse_pus_tm
from heradecode.ccsds.spacepacket import build_packet
from heradecode.missions import TimeFormat, load_mission

EUCLID = load_mission("euclid").pus_tm
HERA = load_mission("hera").pus_tm


@given(st.integers(0, 0x7FE), st.integers(0, 255), st.integers(0, 255), st.binary(min_size=1, max_size=60),
       st.integers(0, 255), st.integers(0, 2**32 - 1), st.integers(0, 0xFFFF))
def test_pus_a_header_fields(apid, service, subtype, data, dest, coarse, fine):
    # Euclid's PUS-A secondary header, written here with struct: version octet, service, subtype,
    # destination (1 octet), CUC 4 + 2 octets
    sec = struct.pack(">BBBBIH", 0x10, service, subtype, dest, coarse, fine)
    pkt = build_packet(apid, sec + data, secondary_header_flag=True)
    h = parse_pus_tm(pkt, EUCLID)
    assert (h.pus_version, h.service, h.subtype, h.destination_id) == (1, service, subtype, dest)
    assert (h.obt_coarse, h.obt_fine, h.header_length) == (coarse, fine, 10)
    assert h.obt_s == coarse + fine / 65536
    assert parse_pus_tm(pkt, HERA) is None  # not PUS-C


@given(st.integers(0, 255), st.integers(0, 255), st.binary(min_size=1, max_size=40))
def test_pus_versions_tell_each_other_apart(service, subtype, data):
    c = build_pus_tm(100, service, subtype, data, obt_s=12.5)
    assert parse_pus_tm(c, HERA).service == service and parse_pus_tm(c, EUCLID) is None
    a = build_pus_tm(100, service, subtype, data, obt_s=12.5, layout=EUCLID)
    h = parse_pus_tm(a, EUCLID)
    assert (h.pus_version, h.subtype, h.obt_s) == (1, subtype, 12.5)
    a_spare_bit = bytearray(a)
    a_spare_bit[6] |= 0x80  # PUS-A's first bit is spare: still version 1
    assert parse_pus_tm(bytes(a_spare_bit), EUCLID) is not None


@given(st.integers(1, 4), st.integers(0, 3), st.data())
def test_secondary_header_time(coarse_n, fine_n, data):
    fmt = TimeFormat(coarse_n, fine_n, "2000-01-01T12:00:00")
    coarse = data.draw(st.integers(0, 2 ** (8 * coarse_n) - 1))
    fine = data.draw(st.integers(0, 2 ** (8 * fine_n) - 1)) if fine_n else 0
    field = coarse.to_bytes(coarse_n, "big") + (fine.to_bytes(fine_n, "big") if fine_n else b"")
    pkt = build_packet(5, field + b"payload", secondary_header_flag=True)
    t = secondary_header_time_s(pkt, fmt)
    assert t == coarse + (fine / 2 ** (8 * fine_n) if fine_n else 0)
    assert fmt.utc(t).year >= 2000
    assert secondary_header_time_s(build_packet(5, field + b"x"), fmt) is None  # no secondary header flag
    assert secondary_header_time_s(pkt[:6 + coarse_n + fine_n - 1], fmt) is None  # too short


def test_lucy_epoch():
    fmt = load_mission("lucy").packets.time
    # 0x2907E7DA seconds after J2000: the Bochum recording of 2021-10-24 21:46 (leap seconds not applied)
    assert fmt.utc(0x2907E7DA).strftime("%Y-%m-%d %H:%M") == "2021-10-24 21:46"
