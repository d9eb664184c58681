"""``heradecode tdm`` and ``decode --tdm`` on the archived recordings: TDM files read back by ccsds-ndm."""

import json

import numpy as np
import pytest

from heradecode.cli import main
from heradecode.products import radio_science as rs
from heradecode.products.tdm import format_epoch
from tests.helpers import SIM_DIR
from tests.products.helpers import check_against_schema, read_tdm

ARCHIVED = [("hera_low_sim", "hera_low_sim.sigmf-meta"), ("hera_high_sim", "hera_high_sim_0x.sigmf-meta")]


@pytest.fixture(scope="module", params=ARCHIVED, ids=[a[0] for a in ARCHIVED])
def decoded(request, tmp_path_factory):
    """An archived recording decoded with its true Doppler profile, received at ATA, with an XML TDM."""
    name, meta = request.param
    tmp = tmp_path_factory.mktemp(name)
    pts = np.array(json.loads((SIM_DIR / f"{name}.truth.json").read_text())["params"]["doppler"])
    dop = tmp / "doppler.txt"
    dop.write_text("".join(f"{t:.6f} {f:.6f}\n" for t, f in pts))
    out = tmp / "dec"
    assert main(["decode", str(SIM_DIR / meta), "--doppler", str(dop), "--out", str(out), "--quiet",
                 "--rx", "ATA", "--tdm", "xml"]) == 0
    return out


def _expected(out, interval):
    head = json.loads((out / "decode.json").read_text())
    obs = rs.doppler_observable(rs.read_phase_csv(out / "carrier_phase.csv"), interval, head["downlink_freq_hz"])
    return obs, head


def _values(tdm_obj, key):
    return [(o.epoch, float(getattr(o, key))) for seg in tdm_obj.body.segment for o in seg.data.observation
            if getattr(o, key) is not None]


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["kvn", "xml"])
def test_one_way_tdm_round_trips(decoded, fmt, capsys):
    path = decoded / f"one.{fmt}"
    assert main(["tdm", str(decoded), "--interval-s", "0.1", "1", "--format", fmt, "--out", str(path),
                 "--rx", "ATA"]) == 0
    assert "TDM (one-way" in capsys.readouterr().out
    back = read_tdm(path)
    if fmt == "xml":
        check_against_schema(path.read_text())
    segs = back.body.segment
    md = segs[0].metadata
    assert (md.participant_1, md.participant_2, md.path) == ("ATA", "HERA", "2,1")
    obs, head = _expected(decoded, 0.1)
    good = obs.good
    assert good.sum() >= 5
    got = _values(back, "receive_freq_1")[:good.sum()]
    assert [e for e, _ in got] == [format_epoch(t) for t in obs.unix_time[good]]
    assert np.allclose([v for _, v in got], obs.doppler_hz[good], atol=1.01e-6, rtol=0)
    assert float(md.freq_offset) == head["downlink_freq_hz"]
    assert float(md.integration_interval) == 0.1 and md.integration_ref.value == "MIDDLE"


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["kvn", "xml"])
def test_three_way_tdm_names_dss24_and_ata(decoded, fmt):
    path = decoded / f"three.{fmt}"
    assert main(["tdm", str(decoded), "--interval-s", "0.1", "--format", fmt, "--out", str(path),
                 "--rx", "ATA", "--tx", "DSS-24"]) == 0
    back = read_tdm(path)
    md = back.body.segment[0].metadata
    assert (md.participant_1, md.participant_2, md.participant_3, md.path) == ("DSS-24", "HERA", "ATA", "1,2,3")
    assert (int(md.turnaround_numerator), int(md.turnaround_denominator)) == (880, 749)
    assert len(_values(back, "transmit_freq_1")) == 1 and _values(back, "receive_freq_3")
    doc = json.loads((decoded / "radio_science.json").read_text())
    assert doc["mode"] == "three-way" and doc["count_factor"] == 2.0


@pytest.mark.slow
def test_decode_tdm_option_wrote_a_valid_tdm(decoded):
    path = decoded / "doppler_tdm.xml"
    check_against_schema(path.read_text())
    back = read_tdm(path)
    assert back.body.segment[0].metadata.participant_1 == "ATA"


def test_user_mistakes_give_one_line(tmp_path, capsys):
    assert main(["tdm", str(tmp_path / "missing")]) == 2
    assert "decode directory not found" in capsys.readouterr().err
    (tmp_path / "d").mkdir()
    assert main(["tdm", str(tmp_path / "d"), "--rx", "ATA"]) == 2
    err = capsys.readouterr().err
    assert "carrier phase file not found" in err and "Traceback" not in err
    assert main(["tdm", str(tmp_path / "d"), "--interval-s", "0"]) == 2
    assert "integration interval" in capsys.readouterr().err


@pytest.mark.slow
def test_open_loop_check_agrees_with_the_pll(decoded, capsys, request):
    name = request.node.callspec.params["decoded"][0]
    meta = dict(ARCHIVED)[name]
    assert main(["tdm", str(decoded), "--interval-s", "0.1", "--rx", "ATA", "--open-loop", str(SIM_DIR / meta),
                 "--out", str(decoded / "ol.kvn")]) == 0
    assert "open-loop check" in capsys.readouterr().out
    ol = json.loads((decoded / "radio_science.json").read_text())["open_loop"]
    assert ol["blocks"] >= 1
    if name == "hera_low_sim":  # 3 s: two good 1 s points (the 1 s high-rate recording has none whole)
        # thermal noise of each side ~8 mHz at 41 dB-Hz; the carrier drifts at -50 Hz/s
        assert ol["points_compared"] >= 2
        assert abs(ol["closed_minus_open_mean_hz"]) < 0.02 and ol["closed_minus_open_rms_hz"] < 0.03
