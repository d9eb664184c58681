"""Doppler result type, carrier observable, residuals and the request JSON."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from .ephem_synthetic import START_UNIX
from heradecode.errors import UserError
from heradecode.products.carrier import CarrierObservable, compute_residuals, read_carrier_csv, write_carrier_csv
from heradecode.ephem.predict import DopplerRequest, parse_turnaround, predict
from heradecode.ephem.stations import get_station
from heradecode.io.dopplerfile import read_doppler_profile


def test_prediction_to_profile_round_trips_through_the_file(outbound_spk, tmp_path):
    t = START_UNIX + np.arange(0.0, 120.0, 1.0)
    pred = predict(DopplerRequest(rx="ATA", tx="DSS-24", kernels=(str(outbound_spk),)), t)
    prof = pred.to_profile()
    prof.write(tmp_path / "d.txt")
    back = read_doppler_profile(tmp_path / "d.txt")
    np.testing.assert_allclose(back.unix_time, t, atol=1e-6)
    np.testing.assert_allclose(back.freq_hz, pred.freq_hz, atol=1e-8)
    np.testing.assert_allclose(pred.received_hz - pred.freq_hz, 8435.75e6)
    assert pred.freq_at(t[10] + 0.5) == pytest.approx(0.5 * (pred.freq_hz[10] + pred.freq_hz[11]))


def test_residuals_recover_an_injected_drift():
    rng = np.random.default_rng(7)
    t = START_UNIX + np.arange(600.0)
    predicted = -250e3 + 7.0 * (t - t[0])
    injected = 120.0 + 0.35 * (t - t[0]) / 60.0
    observed = predicted + injected + rng.normal(0, 0.05, t.size)
    locked = np.ones(t.size, bool)
    locked[100:130] = False
    observed[100:130] = rng.normal(0, 3e3, 30)  # garbage while unlocked
    carrier = CarrierObservable(t, observed, np.full(t.size, 45.0), locked)
    res = compute_residuals(carrier, predicted)
    assert res.n_locked == 570
    np.testing.assert_allclose(res.residual_hz[locked], injected[locked], atol=0.3)
    assert res.rms_hz() == pytest.approx(np.sqrt(np.mean(injected[locked] ** 2)), rel=1e-3)
    assert res.rms_hz(locked_only=False) > 100 * res.rms_hz()
    assert res.std_hz() == pytest.approx(np.std(injected[locked]), abs=0.01)


def test_carrier_csv_round_trip_and_bad_rows(tmp_path):
    t = START_UNIX + np.arange(5.0)
    c = CarrierObservable(t, np.array([1.5, -2.25, 3.0, 4.0, 5.0]), np.array([40, 41, 42, 43, 44.5]),
                          np.array([1, 1, 0, 1, 1], bool))
    write_carrier_csv(tmp_path / "carrier.csv", c)
    with open(tmp_path / "carrier.csv", "a") as fh:
        fh.write("not,a,row,1\n\n")
    back = read_carrier_csv(tmp_path / "carrier.csv")
    np.testing.assert_allclose(back.unix_time, t)
    np.testing.assert_allclose(back.doppler_hz, c.doppler_hz)
    np.testing.assert_array_equal(back.locked, c.locked)
    (tmp_path / "bad.csv").write_text("unix_time,freq,cn0_dbhz,locked\n1,2,3,1\n")
    with pytest.raises(UserError, match="missing doppler_hz"):
        read_carrier_csv(tmp_path / "bad.csv")
    with pytest.raises(UserError, match="carrier file not found"):
        read_carrier_csv(tmp_path / "nope.csv")


def test_residuals_need_a_covering_prediction(outbound_spk):
    t = START_UNIX + np.arange(0.0, 10.0)
    pred = predict(DopplerRequest(rx="ATA", kernels=(str(outbound_spk),)), t)
    carrier = CarrierObservable(t + 100.0, np.zeros(10), np.zeros(10), np.ones(10, bool))
    with pytest.raises(UserError, match="does not cover"):
        compute_residuals(carrier, pred)


@settings(max_examples=50, deadline=None)
@given(rx=st.sampled_from(["ATA", "DSS-24", "New Norcia", "geodetic:12.5,-3.25,100"]),
       tx=st.sampled_from([None, "DSS-14", "Cebreros", "itrf:4849339.634,-360427.6637,4114750.733"]),
       mode=st.sampled_from([None, "one-way"]),
       downlink=st.floats(2e9, 33e9), up=st.one_of(st.none(), st.floats(2e9, 33e9)),
       backend=st.sampled_from(["spice", "horizons"]), rel=st.booleans())
def test_request_json_round_trip(rx, tx, mode, downlink, up, backend, rel):
    req = DopplerRequest(rx=rx, tx=tx, mode=mode, downlink_hz=downlink, uplink_hz=up, backend=backend,
                         relativistic=rel, kernels=("a.bsp", "b.tm"))
    back = DopplerRequest.from_dict(req.to_dict())
    assert back.stations() == req.stations()
    for name in ("mode", "downlink_hz", "uplink_hz", "backend", "relativistic", "kernels", "turnaround"):
        assert getattr(back, name) == getattr(req, name)


def test_request_validation():
    with pytest.raises(UserError, match="unknown ephemeris backend"):
        DopplerRequest(rx="ATA", backend="oracle").validated()
    with pytest.raises(UserError, match="unknown Doppler mode"):
        DopplerRequest(rx="ATA", mode="four-way").validated()
    with pytest.raises(UserError, match="receiving station"):
        DopplerRequest.from_dict({"tx": "DSS-24"})
    assert parse_turnaround("880/749") == pytest.approx(1.1748998664886516)
    assert parse_turnaround("240/221") == pytest.approx(240 / 221)
    with pytest.raises(UserError, match="turnaround"):
        parse_turnaround("880/0")
    assert get_station(DopplerRequest(rx="hat creek").stations()[0]).name == "ATA"


def test_mode_errors(outbound_spk):
    kern = (str(outbound_spk),)
    with pytest.raises(UserError, match="three-way Doppler needs a transmitting station"):
        predict(DopplerRequest(rx="ATA", mode="three-way", kernels=kern), [START_UNIX])
    with pytest.raises(UserError, match="two-way Doppler needs the transmitter to be the receiver"):
        predict(DopplerRequest(rx="ATA", tx="DSS-24", mode="two-way", kernels=kern), [START_UNIX])
