"""Mission profiles: every bundled file validates; a broken file gives one line naming the file and the key."""

import dataclasses
import tomllib
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heradecode.errors import UserError
from heradecode.missions import MissionProfile, bundled_missions, load_mission, profile_from_dict
from tests.missions.helpers import BUNDLED

HERA_TOML = (resources.files("heradecode.missions") / "hera.toml").read_text()


def test_six_profiles_are_bundled():
    assert tuple(bundled_missions()) == BUNDLED


@pytest.mark.parametrize("name", BUNDLED)
def test_every_bundled_profile_validates(name):
    p = load_mission(name)
    assert isinstance(p, MissionProfile) and p.source == f"{name}.toml"
    assert p.link.modes and all(m.symbol_rate_baud > 0 for m in p.link.modes)
    assert p.frames.type in ("TM", "AOS") and p.frame_length == 1115 and p.frame_length_no_fecf == 1113
    assert p.frames.version == {"TM": 0, "AOS": 1}[p.frames.type]
    if p.coding.scheme == "turbo":
        # the ASM length follows the code rate (CCSDS 131.0-B 9): 32 bits per 1/rate
        assert len(bytes.fromhex(p.coding.asm_hex)) * 8 == 32 * p.coding.turbo_inv_rate
        assert p.coding.turbo_k == 8 * p.frame_length  # frame + FECF fill the information block
    assert (p.packets.pus is None) == (p.packets.pus_version == 0)
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.name = "x"  # type: ignore[misc]


def test_hera_profile_holds_the_known_facts():
    p = load_mission("hera")
    assert (p.scid, p.downlink_freq_hz, p.time_apid) == (0xB5, 8435.75e6, 0)
    assert {m.name: m.symbol_rate_baud for m in p.link.modes} == {"low": 60237.5, "high": 322560.0}
    assert p.vc_name(1) == "real time" and p.vc_name(5) == "VC5"
    assert p.ephemeris.naif_id == -91
    assert load_mission("HERA") == p


def test_unknown_facts_are_none():
    juice = load_mission("juice")
    assert juice.scid is None and juice.downlink_freq_hz is None


def test_profile_file_by_path(tmp_path):
    path = tmp_path / "mine.toml"
    path.write_text(HERA_TOML.replace('name = "Hera"', 'name = "Hera copy"'))
    p = load_mission(path)
    assert p.name == "Hera copy" and p.source == str(path)
    assert load_mission(str(path)) == p


def _broken(tmp_path, old: str, new: str) -> str:
    assert old in HERA_TOML
    path = tmp_path / "broken.toml"
    path.write_text(HERA_TOML.replace(old, new, 1))
    with pytest.raises(UserError) as exc:
        load_mission(path)
    msg = str(exc.value)
    assert "\n" not in msg and str(path) in msg
    return msg


@pytest.mark.parametrize("old,new,key", [
    ("scid = 0xB5", 'scid = "B5"', "frames.scid"),
    ("scid = 0xB5", "scid = 0xB5F", "frames.scid"),
    ("scid = 0xB5\n", "", None),  # scid is optional: no error
    ('type = "TM"', 'type = "XX"', "frames.type"),
    ("length_octets = 1115", "length_octets = 8", "frames.length_octets"),
    ("length_octets = 1115", "length_octets = 1113", "frames.length_octets"),
    ("symbol_rate_baud = 60237.5", "symbol_rate_baud = -1.0", "link.modes[0].symbol_rate_baud"),
    ('modulation = "pcm/pm/bi-phase-l"', 'modulation = "fsk"', "link.modes[0].modulation"),
    ("turbo_inv_rate = 4", "turbo_inv_rate = 5", "coding.turbo_inv_rate"),
    ("turbo_inv_rate = 4\n", "", "coding.turbo_inv_rate"),
    ('asm_hex = "034776C7272895B0FCB88938D8D76A4F"', 'asm_hex = "XYZ"', "coding.asm_hex"),
    ("pus_version = 2", "pus_version = 0", "packets.pus"),
    ("idle_vcid = 7", "idle_vcid = 9", "frames.idle_vcid"),
    ('1 = "real time"', '12 = "real time"', "frames.vc_names.12"),
    ("fecf = true", "fecf = true\nfcs = true", "frames.fcs"),
    ("naif_id = -91", 'naif_id = "-91"', "ephemeris.naif_id"),
    ("[packets.pus]\n", "[packets.time]\ncoarse_octets = 4\n[packets.pus]\n", "packets.time"),
])
def test_schema_errors_name_file_and_key(tmp_path, old, new, key):
    if key is None:
        path = tmp_path / "ok.toml"
        path.write_text(HERA_TOML.replace(old, new, 1))
        assert load_mission(path).scid is None
        return
    assert f": {key}:" in _broken(tmp_path, old, new)


def test_not_toml_and_missing_files(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("name = \n")
    with pytest.raises(UserError, match="not valid TOML"):
        load_mission(bad)
    with pytest.raises(UserError, match="no such mission profile file"):
        load_mission(tmp_path / "none.toml")
    with pytest.raises(UserError, match="unknown mission 'voyager'"):
        load_mission("voyager")


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["name", "link", "coding", "frames", "packets", "ephemeris"]),
       st.one_of(st.integers(), st.text(max_size=5), st.booleans(), st.lists(st.integers(), max_size=2),
                 st.dictionaries(st.text(max_size=4), st.integers(), max_size=2)))
def test_any_replaced_table_is_accepted_or_one_user_error(table, value):
    data = tomllib.loads(HERA_TOML)
    data[table] = value
    try:
        p = profile_from_dict(data, "fuzz.toml")
    except UserError as exc:
        assert str(exc).startswith("mission profile fuzz.toml: ") and "\n" not in str(exc)
    else:
        assert isinstance(p, MissionProfile)


def test_with_frames_keeps_the_rest():
    hera = load_mission("hera")
    p = hera.with_frames(scid=0x42, length_octets=500)
    assert (p.scid, p.frame_length, p.frame_length_no_fecf) == (0x42, 500, 498)
    assert p.link == hera.link and p.packets == hera.packets
