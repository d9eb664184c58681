"""``heradecode frames --mission X`` on the real frames of four missions, against an independent parse.

The reference counts are computed here with plain struct-level code that
follows CCSDS 132.0-B (TM), 732.0-B (AOS) and 133.0-B (space packets)
directly, without any heradecode code: per-VC frame counts, VC counter gaps,
packets per APID, PUS service/subtype (Euclid) and the secondary-header times
(NASA missions).  Packet reassembly rules of the reference: a VC counter gap
drops the packet in progress; at a first header pointer the octets before it
must complete the packet in progress exactly (else a length mismatch), and
after a gap or a mismatch the stream restarts at the next pointer.
"""

import json
import struct
from collections import Counter

import pytest

from heradecode.cli import main
from tests.missions.helpers import EUCLID, EUROPA_CLIPPER, FRAME_LENGTH, LUCY, PSYCHE


def independent_parse(data: bytes, *, aos: bool, ocf: bool, pus_a: bool = False,
                      time_fmt: tuple[int, int] | None = None) -> dict:
    """Counts of a frame file, computed without the library."""
    frames_by_vc, gaps, scids, apids, pus = Counter(), Counter(), Counter(), Counter(), Counter()
    last_count: dict[int, int] = {}
    partial: dict[int, bytearray | None] = {}  # None: not synced on this VC
    mismatches = 0
    times: list[float] = []

    def packet_done(p: bytes) -> None:
        w0, _, _ = struct.unpack(">HHH", p[:6])
        apids[w0 & 0x7FF] += 1
        has_sec = (w0 >> 11) & 1
        if (w0 & 0x7FF) == 0x7FF or not has_sec:
            return
        if pus_a and (p[6] >> 4) & 7 == 1:
            pus[f"{p[7]}/{p[8]}"] += 1
        if time_fmt is not None:
            coarse_n, fine_n = time_fmt
            coarse = int.from_bytes(p[6:6 + coarse_n], "big")
            fine = int.from_bytes(p[6 + coarse_n:6 + coarse_n + fine_n], "big")
            times.append(coarse + fine / 2 ** (8 * fine_n))

    for off in range(0, len(data) - FRAME_LENGTH + 1, FRAME_LENGTH):
        f = data[off:off + FRAME_LENGTH]
        if aos:
            (h0,) = struct.unpack(">H", f[:2])
            scid, vc = (h0 >> 6) & 0xFF, h0 & 0x3F
            count, modulo = int.from_bytes(f[2:5], "big"), 1 << 24
            (fhp,) = struct.unpack(">H", f[6:8])
            zone = f[8:FRAME_LENGTH - (4 if ocf else 0)]
        else:
            h0, count, dfs = struct.unpack(">HxBH", f[:6])
            scid, vc, modulo = (h0 >> 4) & 0x3FF, (h0 >> 1) & 7, 256
            fhp = dfs
            zone = f[6:FRAME_LENGTH - (4 if h0 & 1 else 0)]
        fhp &= 0x7FF
        scids[scid] += 1
        frames_by_vc[vc] += 1
        if vc in last_count and count != (last_count[vc] + 1) % modulo:
            gaps[vc] += 1
            partial[vc] = None
        last_count[vc] = count
        if fhp == 0x7FE:
            continue
        buf = partial.get(vc)
        if fhp == 0x7FF:
            if buf:
                buf += zone
                if len(buf) >= 6:
                    need = 7 + struct.unpack(">H", buf[4:6])[0]
                    if len(buf) == need:
                        packet_done(bytes(buf))
                        partial[vc] = bytearray()
                    elif len(buf) > need:
                        mismatches += 1
                        partial[vc] = None
            else:
                partial[vc] = None
            continue
        if buf is not None:
            head = buf + zone[:fhp]
            if head:
                if len(head) >= 6 and len(head) == 7 + struct.unpack(">H", head[4:6])[0]:
                    packet_done(bytes(head))
                else:
                    mismatches += 1
        pos, rest = fhp, bytearray()
        while pos < len(zone):
            if len(zone) - pos < 6:
                rest = bytearray(zone[pos:])
                break
            need = 7 + struct.unpack(">H", zone[pos + 4:pos + 6])[0]
            if pos + need > len(zone):
                rest = bytearray(zone[pos:])
                break
            packet_done(zone[pos:pos + need])
            pos += need
        partial[vc] = rest
    return {"frames_by_vc": frames_by_vc, "gaps": gaps, "scids": scids, "apids": apids, "pus": pus,
            "mismatches": mismatches, "times": times}


def run_frames(capsys, mission: str, path) -> dict:
    assert main(["frames", "--mission", mission, str(path), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _str(counter: Counter) -> dict[str, int]:
    return {str(k): v for k, v in counter.items()}


CASES = [
    # mission, file, AOS, OCF in AOS frames, PUS-A, secondary-header time (coarse, fine octets)
    ("euclid", EUCLID, False, False, True, None),
    ("europa-clipper", EUROPA_CLIPPER, True, False, False, (4, 2)),
    ("psyche", PSYCHE, True, False, False, (4, 2)),
    ("lucy", LUCY, True, False, False, (4, 0)),
]


@pytest.mark.parametrize("mission,path,aos,ocf,pus_a,time_fmt", CASES, ids=[c[0] for c in CASES])
def test_counts_equal_an_independent_parse(capsys, mission, path, aos, ocf, pus_a, time_fmt):
    data = path.read_bytes()
    ref = independent_parse(data, aos=aos, ocf=ocf, pus_a=pus_a, time_fmt=time_fmt)
    d = run_frames(capsys, mission, path)
    assert d["mission"].lower().replace(" ", "-") == mission
    assert d["frames_total"] == len(data) // FRAME_LENGTH == d["frames_accepted"]
    assert d["spacecraft_ids"] == _str(ref["scids"]) and len(ref["scids"]) == 1
    assert d["frames_by_vc"] == _str(ref["frames_by_vc"])
    assert {k: v for k, v in d["vc_counter_gaps"].items() if v} == _str(ref["gaps"])
    assert d["packets_by_apid"] == _str(ref["apids"])
    assert d["pus_by_service"] == dict(ref["pus"])
    assert d["length_mismatches"] == ref["mismatches"]
    if time_fmt is not None:
        assert d["timed_packets"] == len(ref["times"]) > 0
        assert d["timed_first_s"] == pytest.approx(min(ref["times"]))
        assert d["timed_last_s"] == pytest.approx(max(ref["times"]))
    o = d["data_field_octets"]
    assert o["total"] == o["in_packets"] + o["idle"] + o["lost"] + o["skipped"] + o["partial_at_end"]


def test_consistent_streams_have_no_length_mismatch(capsys):
    # Euclid, Psyche and Lucy are consistent streams: every packet fits its pointers
    for mission, path in (("euclid", EUCLID), ("psyche", PSYCHE), ("lucy", LUCY)):
        d = run_frames(capsys, mission, path)
        assert d["length_mismatches"] == 0 and d["bad_packet_headers"] == 0, mission
        assert d["packets_total"] > 40


def test_euclid_is_pus_version_1(capsys):
    d = run_frames(capsys, "euclid", EUCLID)
    assert d["pus_by_service"]["3/25"] > 500  # housekeeping reports
    assert sum(d["pus_by_service"].values()) + d["time_packets"] + d["packets_by_apid"].get("15", 0) \
        == d["packets_total"]
    assert d["time_packets"] == d["packets_by_apid"]["0"] > 0
    # read as Hera (PUS-C) the same packets give no PUS header at all
    assert main(["frames", "--mission", "hera", "--scid", "any", str(EUCLID), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["pus_by_service"] == {}


def test_packet_times_fall_on_the_recording_dates(capsys):
    from datetime import datetime, timedelta

    # file names carry the recording start (UTC); Europa Clipper's file name has none: launch day
    for mission, path, epoch, day in (("lucy", LUCY, datetime(2000, 1, 1, 12), "2021-10-24"),
                                      ("psyche", PSYCHE, datetime(2000, 1, 1, 12), "2023-10-13"),
                                      ("europa-clipper", EUROPA_CLIPPER, datetime(2010, 1, 1), "2024-10-14")):
        d = run_frames(capsys, mission, path)
        first = epoch + timedelta(seconds=d["timed_first_s"])
        assert first.strftime("%Y-%m-%d") == day, mission


def test_text_summary_shows_vcs_apids_and_services(capsys):
    assert main(["frames", "--mission", "euclid", str(EUCLID)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Euclid telemetry: 400 frames read, 400 accepted")
    assert "680 (0x2A8): 400" in out and "idle" in out and "3/25" in out
    assert main(["frames", "--mission", "lucy", str(LUCY)]) == 0
    out = capsys.readouterr().out
    assert "49 (0x031): 500" in out and "packet times" in out and "2021-10-24" in out
