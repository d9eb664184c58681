"""The link side of a profile: receiver settings, refused links, and --mission on turbo-decode, decode, simulate."""

import json

import numpy as np
import pytest

from heradecode.cli import main
from heradecode.errors import UserError
from heradecode.fec.asm import asm_bits
from heradecode.fec.crc import append_fecf
from heradecode.fec.randomizer import randomize_bits
from heradecode.fec.turbo import encode
from heradecode.missions import load_mission, unsupported_link
from heradecode.receiver import SYMBOL_RATES, ReceiverConfig
from heradecode.sim.params import SimParams
from tests.missions.helpers import EUROPA_CLIPPER, FRAME_LENGTH

REFUSED = {"euclid": "convolutional+reed-solomon", "europa-clipper": "PCM/PM/NRZ", "psyche": "PCM/PM/NRZ",
           "lucy": "subcarrier"}


def test_hera_config_from_its_profile_equals_the_defaults():
    cfg = ReceiverConfig.from_mission(load_mission("hera"), "high")
    assert cfg == ReceiverConfig()
    assert cfg.rate_baud == 322560.0 and ReceiverConfig.from_mission(load_mission("hera"), "low").rate_baud == 60237.5
    assert SYMBOL_RATES == {"low": 60237.5, "high": 322560.0}
    auto = ReceiverConfig.from_mission(load_mission("hera"))
    assert dict(auto.modes) == SYMBOL_RATES and auto.mode in SYMBOL_RATES


def test_juice_takes_its_rate_and_unknown_frequency():
    cfg = ReceiverConfig.from_mission(load_mission("juice"))
    assert (cfg.mode, cfg.rate_baud, cfg.k, cfg.inv_rate) == ("high", 526310.6, 8920, 4)
    assert cfg.downlink_freq_hz is None
    with pytest.raises(UserError, match="mode must be one of high"):
        ReceiverConfig(**{**cfg.__dict__, "mode": "low"}).rate_baud


@pytest.mark.parametrize("name", sorted(REFUSED))
def test_unsupported_links_are_refused_in_one_line(name):
    with pytest.raises(UserError) as exc:
        ReceiverConfig.from_mission(load_mission(name))
    assert REFUSED[name] in str(exc.value) and "\n" not in str(exc.value)
    with pytest.raises(UserError):
        SimParams.preset(load_mission(name).link.modes[0].name, load_mission(name))
    assert unsupported_link(load_mission("hera")) is None


def test_unknown_mode_names_the_missions_modes():
    with pytest.raises(UserError, match="low, high"):
        ReceiverConfig.from_mission(load_mission("hera"), "medium")


def test_decode_and_simulate_refuse_before_reading(tmp_path, capsys):
    rec = tmp_path / "missing.sigmf-meta"  # never opened: the link is refused first
    assert main(["decode", str(rec), "--mission", "psyche"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Psyche" in err and "NRZ" in err
    assert main(["simulate", str(tmp_path / "x"), "--mission", "euclid"]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Euclid" in err
    assert not list(tmp_path.iterdir())


def test_simulate_preset_from_a_mission():
    p = SimParams.preset("high", load_mission("juice"), samp_rate=4e6)
    assert p.symbol_rate == 526310.6 and p.mod_index_rad == 1.1
    hera = SimParams.preset("low")
    assert hera.symbol_rate == 60237.5 and hera.center_freq_hz == 8435.75e6


def _soft_file(path, frames, inv_rate, seed):
    """GNU Radio convention soft symbols (positive = bit 1) of the frames' CADUs, Es/N0 -1 dB, with gaps."""
    rng = np.random.default_rng(seed)
    parts = []
    for frame in frames:
        parts.append(np.zeros(int(rng.integers(0, 3000))))
        bits = np.unpackbits(np.frombuffer(append_fecf(frame), dtype=np.uint8))
        cadu = np.concatenate([asm_bits(inv_rate), randomize_bits(encode(bits, inv_rate))])
        parts.append(2.0 * cadu - 1.0)
    parts.append(np.zeros(1000))
    clean = np.concatenate(parts)
    sigma = np.sqrt(1.0 / (2.0 * 10 ** (-1.0 / 10)))
    (clean + sigma * rng.standard_normal(clean.size)).astype(np.float32).tofile(path)
    return path


def test_turbo_decode_takes_code_and_frames_from_the_mission(tmp_path, capsys):
    # Europa Clipper: rate-1/6 turbo, 192-bit ASM, AOS frames; no --k, --rate or --scid given
    data = EUROPA_CLIPPER.read_bytes()
    frames = [data[i * FRAME_LENGTH:(i + 1) * FRAME_LENGTH] for i in range(3)]
    soft = _soft_file(tmp_path / "ec.f32", frames, 6, seed=6)
    out = tmp_path / "frames.u8"
    assert main(["turbo-decode", str(soft), "--mission", "europa-clipper", "--out", str(out), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert (d["mission"], d["k"], d["rate"], d["decoded"], d["failed"]) == ("Europa Clipper", 8920, "1/6", 3, 0)
    assert out.read_bytes() == b"".join(frames)
    t = d["telemetry"]
    assert t["frames_accepted"] == 3 and t["spacecraft_ids"] == {"159": 3} and set(t["frames_by_vc"]) == {"32"}
    # as Hera (rate 1/4) nothing is found in the same file
    assert main(["turbo-decode", str(soft), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["decoded"] == 0


def test_doppler_request_takes_spacecraft_frequency_and_station_from_the_mission():
    from argparse import Namespace

    from heradecode.cli.doppler import request_from_args

    hera = request_from_args(Namespace(mission="hera"))
    assert (hera.spacecraft, hera.downlink_hz, hera.rx) == ("HERA", 8435.75e6, "ATA")
    juice = request_from_args(Namespace(mission="juice", rx="DSS-63", downlink_mhz=8420.0))
    assert (juice.spacecraft, juice.downlink_hz) == ("-28", 8420e6)
    given = request_from_args(Namespace(mission="juice", rx="DSS-63", downlink_mhz=8420.0, spacecraft="-91"))
    assert given.spacecraft == "-91"
    with pytest.raises(UserError, match="JUICE's downlink frequency is not in its profile: give --downlink-mhz"):
        request_from_args(Namespace(mission="juice", rx="DSS-63"))


def test_frames_timeline_names_the_missions_vcs(tmp_path):
    from heradecode.plot import plot_frames_timeline, read_decode_log, write_plots

    cbs = [{"start_sample": 1000 * i, "unix_time": 1728320791.0 + i, "polarity": 1, "sync_score": 9.0,
            "ebn0_db": 3.0, "esn0_db": -4.0, "iterations": 2, "crc_ok": True, "scid": 0x9F, "vcid": 32,
            "vc_count": i, "suspect": False} for i in range(4)]
    header = {"recording": "ec", "mission": "europa-clipper", "mode": "low", "symbol_rate": 12000.0,
              "samp_rate": 96000.0, "start_time_utc": "2024-10-14T17:33:53Z"}
    (tmp_path / "decode.json").write_text(json.dumps({**header, "codeblocks": cbs}))
    log = read_decode_log(tmp_path)
    assert log.mission == "europa-clipper"
    title = plot_frames_timeline(log, mission=load_mission("europa-clipper"))._suptitle.get_text()
    assert "4 decoded" in title and "SCID" not in title
    as_hera = plot_frames_timeline(log)._suptitle.get_text()  # Hera's profile: another spacecraft
    assert "4 with SCID ≠ 181" in as_hera
    ticks = [t.get_text() for t in plot_frames_timeline(log, mission=load_mission("europa-clipper")).axes[0]
             .get_yticklabels()]
    assert ticks == ["CRC failed (0)", "VC32 telemetry (4)", "VC63 idle (0)"]
    assert write_plots(tmp_path / "plots", decode_dir=tmp_path, which=["frames"])  # the mission read from decode.json


def test_juice_simulated_and_decoded_from_its_profile(tmp_path, capsys):
    # 526.3 kbaud from the profile, for the simulator and the receiver (auto mode tries the profile's modes)
    base = tmp_path / "juice"
    assert main(["simulate", str(base), "--mission", "juice", "--samp-rate", "2.4e6", "--num-frames", "4",
                 "--ebn0", "6", "--seed", "3", "--carrier-offset", "20000"]) == 0
    assert json.loads(capsys.readouterr().out)["codeblocks"] == 4
    truth = json.loads((tmp_path / "juice.truth.json").read_text())
    assert truth["params"]["symbol_rate"] == 526310.6
    out = tmp_path / "out"
    assert main(["decode", str(base) + ".sigmf-meta", "--mission", "juice", "--out", str(out), "--quiet"]) == 0
    cap = capsys.readouterr()
    assert "detected high rate (526.311 kbaud)" in cap.err
    assert "JUICE telemetry: 4 frames read, 4 accepted" in cap.out
    header = json.loads((out / "decode.json").read_text())
    assert header["mission"] == "juice" and header["symbol_rate"] == 526310.6
    assert (out / "frames.u8").stat().st_size == 4 * 1113
