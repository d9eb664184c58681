"""HORIZONS path: replay of recorded responses, the on-disk cache, and HORIZONS errors.

As in astroquery's own tests, the request layer (``HorizonsClass._request``) is
monkeypatched to return stored response text.  The stored responses in
data/horizons/ are in HORIZONS' VECTORS text format and were built from the
synthetic trajectory by data/make_horizons_responses.py (there is no network here).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from astroquery.jplhorizons import HorizonsClass
from astroquery.utils.mocks import MockResponse

from . import ephem_synthetic as syn
from .ephem_synthetic import START_UNIX
from heradecode.errors import UserError
from heradecode.ephem.horizons import HorizonsEphemeris, parse_vectors
from heradecode.ephem.predict import DopplerRequest, predict

DURATION_S = 600.0  # the recorded window (make_horizons_responses.py)


@pytest.fixture
def replay(monkeypatch):
    """Serve the recorded responses; count the requests."""
    index = json.loads((syn.DATA_DIR / "index.json").read_text())
    calls = []

    def request(self, request_type, url, **kwargs):
        key = syn.horizons_request_key(kwargs["params"])
        calls.append(key)
        if key not in index:
            raise AssertionError(f"unexpected HORIZONS query {key}")
        return MockResponse(content=(syn.DATA_DIR / index[key]).read_bytes(), url=url)

    monkeypatch.setattr(HorizonsClass, "_request", request)
    return calls


@pytest.fixture
def no_network(monkeypatch):
    def request(self, *args, **kwargs):
        raise AssertionError("HORIZONS was queried over the network")

    monkeypatch.setattr(HorizonsClass, "_request", request)


def test_recorded_responses_parse_like_horizons_text():
    text = (syn.DATA_DIR / "vectors_02.txt").read_text()
    table = parse_vectors(text)
    assert table.center_name.startswith("Solar System Barycenter")
    assert table.tdb.size == 16
    # barycentric: about 1 au from the SSB, moving at ~30 km/s
    assert np.all(np.abs(np.linalg.norm(table.pos_m, axis=1) / 1.496e11 - 1) < 0.03)
    assert np.all(np.abs(np.linalg.norm(table.vel_m_s, axis=1) - 30e3) < 5e3)


def test_horizons_doppler_matches_spice(replay, tmp_path, outbound_spk):
    t = START_UNIX + np.arange(0.0, DURATION_S + 1, 5.0)
    hz = predict(DopplerRequest(rx="ATA", tx="DSS-24", backend="horizons", horizons_cache_dir=str(tmp_path)), t)
    sp = predict(DopplerRequest(rx="ATA", tx="DSS-24", kernels=(str(outbound_spk),)), t)
    assert hz.backend == "horizons" and hz.mode == "three-way"
    assert len(replay) == 5  # probe + geocentre + barycentre + two stations
    # cubic Hermite on a 1-minute grid vs SPICE on the same trajectory
    np.testing.assert_allclose(hz.freq_hz, sp.freq_hz, rtol=0, atol=0.01)
    np.testing.assert_allclose(hz.light_time_up_s, sp.light_time_up_s, rtol=0, atol=1e-8)


def test_cache_makes_the_second_run_offline(replay, tmp_path, monkeypatch):
    t = START_UNIX + np.arange(0.0, DURATION_S + 1, 30.0)
    req = DopplerRequest(rx="ATA", tx="DSS-24", backend="horizons", horizons_cache_dir=str(tmp_path))
    first = predict(req, t)
    assert len(replay) == 5 and len(list(tmp_path.glob("vectors_*.txt"))) == 5

    def fail(self, *args, **kwargs):
        raise AssertionError("network used on the second run")

    monkeypatch.setattr(HorizonsClass, "_request", fail)
    second = predict(req, t)
    np.testing.assert_array_equal(first.freq_hz, second.freq_hz)
    offline = predict(DopplerRequest(rx="ATA", tx="DSS-24", backend="horizons", horizons_cache_dir=str(tmp_path),
                                     offline=True), t)
    np.testing.assert_array_equal(first.freq_hz, offline.freq_hz)


def test_offline_without_cache_is_a_clear_error(no_network, tmp_path):
    with pytest.raises(UserError, match=r"not in the cache .* \(offline\)"):
        predict(DopplerRequest(rx="ATA", backend="horizons", horizons_cache_dir=str(tmp_path), offline=True),
                [START_UNIX])


def test_network_failure_is_a_clear_error(monkeypatch, tmp_path):
    import requests

    def down(self, *args, **kwargs):
        raise requests.exceptions.ConnectionError("no route to host")

    monkeypatch.setattr(HorizonsClass, "_request", down)
    with pytest.raises(UserError, match="cannot reach JPL HORIZONS"):
        predict(DopplerRequest(rx="ATA", backend="horizons", horizons_cache_dir=str(tmp_path)), [START_UNIX])
    assert not list(tmp_path.glob("*.txt"))


def test_horizons_error_text_is_reported_and_not_cached(monkeypatch, tmp_path):
    text = ("API VERSION: 1.2\nAPI SOURCE: NASA/JPL Horizons API\n\n"
            "No ephemeris for target \"Hera (spacecraft)\" prior to A.D. 2024-OCT-07 15:00:00.0000 TDB\n")

    def request(self, request_type, url, **kwargs):
        return MockResponse(content=text.encode(), url=url)

    monkeypatch.setattr(HorizonsClass, "_request", request)
    with pytest.raises(UserError, match="No ephemeris for target .* prior to A.D. 2024-OCT-07"):
        predict(DopplerRequest(rx="ATA", backend="horizons", horizons_cache_dir=str(tmp_path)), [START_UNIX - 9e4])
    assert not list(tmp_path.glob("*.txt"))


def test_hera_is_asked_for_by_its_spacecraft_id(replay, tmp_path):
    src = HorizonsEphemeris("Hera", cache_dir=tmp_path)
    assert src.target == "-91"  # not asteroid (103) Hera
    with pytest.raises(UserError, match="whole number of minutes"):
        HorizonsEphemeris("HERA", step_s=90.0)
