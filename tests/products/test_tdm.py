"""The CCSDS TDM writer, read back with an independent reader (ccsds-ndm) and checked against its schema."""

import xml.etree.ElementTree as ET

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heradecode.errors import UserError
from heradecode.products.radio_science import CYCLE_SLIP, GOOD, DopplerObservable
from heradecode.products.tdm import TdmLink, build_tdm, format_epoch, to_kvn, to_xml, turnaround_fraction, write_tdm
from tests.products.helpers import START_UNIX, check_against_schema, read_tdm

F_DOWN = 8435.75e6


def observable(interval=1.0, n=12, seed=0, flagged=()):
    rng = np.random.default_rng(seed)
    t = np.floor(START_UNIX / interval) * interval + interval * (np.arange(n) + 0.5)
    f = -27000.0 + 2.0 * (t - START_UNIX) + 0.01 * rng.standard_normal(n)
    q = np.zeros(n, np.uint8)
    q[list(flagged)] = CYCLE_SLIP
    return DopplerObservable(interval, t, f, 38.0 + rng.random(n), q, F_DOWN)


def observations(tdm_obj, key):
    """(epoch, value) pairs of one keyword over every segment of a ccsds-ndm object."""
    out = []
    for seg in tdm_obj.body.segment:
        for o in seg.data.observation:
            v = getattr(o, key.lower())
            if v is not None:
                out.append((o.epoch, float(v)))
    return out


@pytest.mark.parametrize("fmt", ["kvn", "xml"])
def test_one_way_round_trip_through_the_independent_reader(tmp_path, fmt):
    obs = [observable(1.0, flagged=(3, 4)), observable(10.0, n=3)]
    msg = build_tdm(obs, TdmLink("one-way", "ata"), creation_unix_s=START_UNIX)
    back = read_tdm(write_tdm(tmp_path / f"a.{fmt}", msg, fmt))
    assert len(back.body.segment) == 2
    md = back.body.segment[0].metadata
    assert (md.participant_1, md.participant_2, md.path) == ("ATA", "HERA", "2,1")
    assert md.time_system.upper() == "UTC" and md.mode.value == "SEQUENTIAL"
    assert md.integration_ref.value == "MIDDLE" and float(md.integration_interval) == 1.0
    assert float(md.freq_offset) == F_DOWN and md.turnaround_numerator is None
    got = observations(back, "RECEIVE_FREQ_1")
    good = obs[0].quality == GOOD
    want_t = [format_epoch(t) for t in obs[0].unix_time[good]] + [format_epoch(t) for t in obs[1].unix_time]
    want_f = np.concatenate([obs[0].doppler_hz[good], obs[1].doppler_hz])
    assert [e for e, _ in got] == want_t  # flagged points left out, midpoint tags kept
    assert np.allclose([v for _, v in got], want_f, atol=1e-6, rtol=0)
    cn0 = observations(back, "PC_N0")
    assert np.allclose([v for _, v in cn0][:good.sum()], obs[0].cn0_dbhz[good], atol=0.006)
    if fmt == "xml":
        check_against_schema((tmp_path / "a.xml").read_text())


@pytest.mark.parametrize("fmt", ["kvn", "xml"])
def test_three_way_names_dss24_and_ata_on_the_right_legs(tmp_path, fmt):
    msg = build_tdm([observable(60.0, n=4)], TdmLink("three-way", "ATA", transmitter="dss24"),
                    creation_unix_s=START_UNIX)
    back = read_tdm(write_tdm(tmp_path / f"b.{fmt}", msg, fmt))
    md = back.body.segment[0].metadata
    # uplink leg from participant 1 (DSS-24) to the spacecraft, downlink leg to participant 3 (ATA)
    assert (md.participant_1, md.participant_2, md.participant_3, md.path) == ("DSS-24", "HERA", "ATA", "1,2,3")
    assert (int(md.turnaround_numerator), int(md.turnaround_denominator)) == (880, 749)
    assert md.transmit_band == "X" and md.receive_band == "X"
    up = observations(back, "TRANSMIT_FREQ_1")
    assert len(up) == 1 and up[0][1] == pytest.approx(F_DOWN * 749 / 880, abs=1e-3)
    assert len(observations(back, "RECEIVE_FREQ_3")) == 4 and not observations(back, "RECEIVE_FREQ_1")
    if fmt == "xml":
        check_against_schema((tmp_path / "b.xml").read_text())


def test_two_way_and_a_profile_turnaround():
    msg = build_tdm([observable()], TdmLink("two-way", "DSS-25", turnaround=240 / 221, uplink_hz=7.2e9))
    kvn = to_kvn(msg)
    assert "PATH                   = 1,2,1" in kvn and "TURNAROUND_NUMERATOR   = 240" in kvn
    assert "TURNAROUND_DENOMINATOR = 221" in kvn and "TRANSMIT_FREQ_1" in kvn and "RECEIVE_FREQ_1" in kvn


def test_the_schema_check_can_fail():
    xml = to_xml(build_tdm([observable()], TdmLink("one-way", "ATA")))
    check_against_schema(xml)
    root = ET.fromstring(xml)
    md = root.find("body/segment/metadata")
    mode, path = md.find("MODE"), md.find("PATH")
    md.remove(mode)
    md.insert(list(md).index(path) + 1, mode)  # PATH before MODE: out of the schema's order
    with pytest.raises(AssertionError, match="order"):
        check_against_schema(ET.tostring(root, encoding="unicode"))
    with pytest.raises(AssertionError, match="enumeration"):
        check_against_schema(xml.replace("<INTEGRATION_REF>MIDDLE", "<INTEGRATION_REF>CENTRE"))


@settings(max_examples=40, deadline=None)
@given(t=st.floats(0, 4e9), interval=st.sampled_from([1.0, 10.0, 60.0]))
def test_epochs_are_calendar_utc_to_the_microsecond(t, interval):
    text = format_epoch(t)
    back = np.datetime64(text, "us").astype(np.int64) / 1e6
    assert abs(back - t) <= 0.5e-6 + 1e-6 * abs(t) * 1e-9


def test_turnaround_fractions():
    assert turnaround_fraction(880 / 749) == (880, 749)
    assert turnaround_fraction(240 / 221) == (240, 221)


def test_user_mistakes_are_one_line_errors():
    with pytest.raises(UserError, match="transmitting"):
        build_tdm([observable()], TdmLink("three-way", "ATA"))
    with pytest.raises(UserError, match="unknown station"):
        build_tdm([observable()], TdmLink("one-way", "Nowhere"))
    with pytest.raises(UserError, match="no good Doppler point"):
        build_tdm([observable(flagged=range(12))], TdmLink("one-way", "ATA"))
