"""ECSS PUS-C TM secondary headers and CCSDS time packets."""

from hypothesis import given, settings
from hypothesis import strategies as st

from heradecode.ccsds.mission import PusTmLayout
from heradecode.ccsds.pus import build_pus_tm, parse_pus_tm, parse_time_packet, pec_ok
from heradecode.ccsds.spacepacket import build_packet

# A real housekeeping packet (APID 260, PUS 3/25) from the 16:25 UTC low-rate file, first 40 octets.
REAL_HK_HEAD = bytes.fromhex("0904ddcc00782003195dcc00000000832b80bf5d005002642602510c3a0f0f0ef20251025b0f0e00")
# A real time packet (APID 0) from the same file: rate octet 03, CUC P-field 2F, 4+3 octets of time.
REAL_TIME = bytes.fromhex("0000ddf60008032f0000832bb96fa8")


def test_real_housekeeping_header():
    h = parse_pus_tm(REAL_HK_HEAD)
    assert (h.pus_version, h.service, h.subtype) == (2, 3, 25)
    assert h.message_counter == 0x5DCC and h.destination_id == 0
    assert h.obt_coarse == 0x832B and h.obt_fine == 0x80BF
    assert abs(h.obt_s - (0x832B + 0x80BF / 65536)) < 1e-9
    assert h.header_length == 13


def test_real_time_packet():
    t = parse_time_packet(REAL_TIME)
    assert t.rate_exponent == 3 and t.pfield == 0x2F
    assert t.obt_coarse == 0x832B and t.obt_fine == 0xB96FA8
    assert abs(t.obt_s - (0x832B + 0xB96FA8 / 2**24)) < 1e-9


def test_not_pus_when_no_secondary_header_or_other_version():
    assert parse_pus_tm(REAL_TIME) is None
    pkt = bytearray(build_pus_tm(260, 3, 25, b"xyz"))
    pkt[6] = 0x10  # PUS version 1
    assert parse_pus_tm(bytes(pkt)) is None
    assert parse_pus_tm(build_packet(260, b"\x20\x03", secondary_header_flag=True)) is None  # too short


def test_layout_with_pfield():
    layout = PusTmLayout(has_pfield=True)
    raw = build_packet(100, bytes([0x20, 17, 2, 0, 1, 0, 2, 0x2E, 0, 0, 1, 0, 0x40, 0x00]) + b"data",
                       secondary_header_flag=True)
    h = parse_pus_tm(raw, layout)
    assert (h.service, h.subtype, h.message_counter, h.destination_id) == (17, 2, 1, 2)
    assert h.obt_coarse == 256 and abs(h.obt_s - 256.25) < 1e-12  # P-field 0x2E: 4 coarse, 2 fine octets


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 2046), st.integers(0, 255), st.integers(0, 255), st.binary(max_size=300),
       st.integers(0, 65535), st.integers(0, 65535), st.floats(0, 2**32 - 1, allow_nan=False))
def test_build_parse_round_trip(apid, service, subtype, data, counter, dest, obt):
    raw = build_pus_tm(apid, service, subtype, data, message_counter=counter, destination_id=dest, obt_s=obt)
    h = parse_pus_tm(raw)
    assert (h.service, h.subtype, h.message_counter, h.destination_id) == (service, subtype, counter, dest)
    assert abs(h.obt_s - obt) <= 1 / 65536 + 1e-6 * (obt > 2**31)
    assert pec_ok(raw)
    assert not pec_ok(raw[:-1] + bytes([raw[-1] ^ 1]))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64))
def test_arbitrary_bytes_never_raise(raw):
    parse_pus_tm(raw)
    parse_time_packet(raw)
    pec_ok(raw)
