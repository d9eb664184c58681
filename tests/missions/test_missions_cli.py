"""``heradecode missions``, and a seventh mission added with one profile file and no code change."""

import json
import struct
import subprocess
import sys
from collections import Counter

import numpy as np

from heradecode.cli import main
from tests.missions.helpers import BUNDLED, LUCY, crc16_ccitt

SEVENTH = """
# A made-up mission: AOS frames with an insert zone and an OCF, PUS-C with its own layout.
name = "Testsat"
agency = "nobody"

[link]
polarization = "RHCP"
[[link.modes]]
name = "only"
symbol_rate_baud = 8000
modulation = "pcm/pm/nrz"

[coding]
scheme = "none"
randomizer = false
asm_hex = "1ACFFC1D"

[frames]
type = "AOS"
scid = 0x42
length_octets = 400
fecf = true
ocf = true
insert_zone_octets = 4
idle_vcid = 63
[frames.vc_names]
5 = "science"
63 = "idle"

[packets]
pus_version = 2
pec = true
[packets.pus]
message_counter_octets = 1
destination_id_octets = 1
cuc_coarse_octets = 4
cuc_fine_octets = 1
"""


def pus_packet(apid: int, service: int, subtype: int, payload: bytes) -> bytes:
    sec = bytes([0x20, service, subtype, 0, 0]) + struct.pack(">IB", 1000, 0)
    body = struct.pack(">HHH", 0x0800 | apid, 0xC000, len(sec) + len(payload) + 2 - 1) + sec + payload
    return body + struct.pack(">H", crc16_ccitt(body))


def seventh_mission_frames(n_frames: int, seed: int) -> tuple[bytes, Counter, Counter]:
    """AOS frames of Testsat (FECF removed, 398 octets) on VC 5 and idle VC 63; the APIDs and services packed."""
    rng = np.random.default_rng(seed)
    zone_len = 398 - 6 - 4 - 2 - 4  # header, insert zone, M_PDU header, OCF
    stream, starts, apids, services = b"", [], Counter(), Counter()
    while len(stream) < zone_len * (n_frames - 3):
        apid, service, subtype = int(rng.integers(1, 50)), int(rng.choice([3, 5, 17])), int(rng.integers(1, 30))
        starts.append(len(stream))
        payload = rng.integers(0, 256, int(rng.integers(1, 300)), np.uint8).tobytes()
        stream += pus_packet(apid, service, subtype, payload)
        apids[apid] += 1
        services[f"{service}/{subtype}"] += 1
    fill = -len(stream) % zone_len  # the last packet ends in the last frame: an idle packet fills the rest
    if fill >= 7:
        starts.append(len(stream))
        stream += struct.pack(">HHH", 0x7FF, 0xC000, fill - 7) + bytes(fill - 6)
        apids[0x7FF] += 1
    else:
        stream += bytes(fill)
    frames, count, idle_count = [], 0, 0
    for i in range(len(stream) // zone_len):
        chunk = stream[i * zone_len:(i + 1) * zone_len]
        inside = [s - i * zone_len for s in starts if i * zone_len <= s < (i + 1) * zone_len]
        fhp = inside[0] if inside else 0x7FF
        head = struct.pack(">H", (1 << 14) | (0x42 << 6) | 5) + count.to_bytes(3, "big") + b"\0"
        frames.append(head + b"IZ01" + struct.pack(">H", fhp) + chunk + b"\0\0\0\0")
        count += 1
        if i % 3 == 2:
            frames.append(struct.pack(">H", (1 << 14) | (0x42 << 6) | 63) + idle_count.to_bytes(3, "big") + b"\0"
                          + b"IZ01" + struct.pack(">H", 0x7FE) + bytes(zone_len) + b"\0\0\0\0")
            idle_count += 1
    return b"".join(frames), apids, services


def test_missions_lists_six_profiles(capsys):
    assert main(["missions"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split()[:3] == ["NAME", "SPACECRAFT", "FRAMES"]
    assert [ln.split()[0] for ln in lines[1:]] == list(BUNDLED)
    assert main(["missions", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {r["name"]: r["frames"] for r in rows} == {"euclid": "TM", "europa-clipper": "AOS", "hera": "TM",
                                                      "juice": "TM", "lucy": "AOS", "psyche": "AOS"}


def test_missions_shows_one(capsys, tmp_path):
    assert main(["missions", "psyche"]) == 0
    out = capsys.readouterr().out
    assert "Psyche (NASA)" in out and "AOS, SCID 0xFF" in out and "12000 baud" in out and "366660 baud" in out
    assert "25D5C0CE8990F6C9461BF79CDA2A3F31766F0936B9E40863" in out
    path = tmp_path / "testsat.toml"
    path.write_text(SEVENTH)
    assert main(["missions", str(path), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["name"] == "Testsat" and d["frames"]["insert_zone_octets"] == 4


def test_user_errors_are_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(SEVENTH.replace("scid = 0x42", "scid = 0x420"))
    for argv in (["missions", "voyager"], ["missions", str(tmp_path / "no.toml")],
                 ["frames", "--mission", "voyager", str(LUCY)], ["frames", "--mission", str(bad), str(LUCY)]):
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and "error" in err, err
    r = subprocess.run([sys.executable, "-m", "heradecode", "missions", str(bad)], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "frames.scid" in r.stderr and str(bad) in r.stderr


def test_a_seventh_mission_needs_only_a_profile_file(tmp_path, capsys):
    profile = tmp_path / "testsat.toml"
    profile.write_text(SEVENTH)
    data, apids, services = seventh_mission_frames(60, seed=13)
    frames_file = tmp_path / "testsat.u8"
    frames_file.write_bytes(data)
    assert main(["frames", "--mission", str(profile), str(frames_file), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    n = len(data) // 398
    assert d["mission"] == "Testsat" and d["frames_total"] == d["frames_accepted"] == n
    assert d["spacecraft_ids"] == {"66": n}
    assert sum(d["frames_by_vc"].values()) == n and set(d["frames_by_vc"]) == {"5", "63"}
    assert d["vc_counter_gaps"] == {"5": 0, "63": 0}
    assert d["packets_by_apid"] == {str(k): v for k, v in sorted(apids.items())}
    assert d["pus_by_service"] == dict(sorted(services.items(), key=lambda kv: tuple(map(int, kv[0].split("/")))))
    assert d["pec_failures"] == 0 and d["length_mismatches"] == 0
    # the insert zone comes from the profile: without it the same frames do not parse into these packets
    no_zone = tmp_path / "testsat_no_zone.toml"
    no_zone.write_text(SEVENTH.replace("insert_zone_octets = 4", "insert_zone_octets = 0"))
    assert main(["frames", "--mission", str(no_zone), str(frames_file), "--json"]) == 0
    wrong = json.loads(capsys.readouterr().out)
    assert wrong["frames_by_vc"] == d["frames_by_vc"] and wrong["packets_by_apid"] != d["packets_by_apid"]
    assert main(["frames", "--mission", str(profile), str(frames_file)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Testsat telemetry") and "science" in out
