"""Station catalogue, forgiving names, user-defined stations and geodetic conversions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from heradecode.errors import UserError
from heradecode.ephem.stations import (STATIONS, Station, geodetic_to_itrf, get_station, itrf_to_geodetic,
                                       list_stations)

REQUIRED = ["DSS-14", "DSS-24", "DSS-25", "DSS-26", "DSS-34", "DSS-35", "DSS-36", "DSS-43", "DSS-53", "DSS-54",
            "DSS-55", "DSS-56", "DSS-63", "DSS-65", "New Norcia", "Cebreros", "Malargüe", "ATA"]


def test_catalogue_has_the_required_stations_with_sources():
    names = {s.name for s in list_stations()}
    assert set(REQUIRED) <= names
    for s in list_stations():
        assert s.source and s.source != "user-defined"
        assert 6_355e3 < np.linalg.norm(s.itrf_m) < 6_380e3


@pytest.mark.parametrize("text,expected", [
    ("DSS-24", "DSS-24"), ("dss24", "DSS-24"), ("DSS 24", "DSS-24"), ("dss_024", "DSS-24"),
    ("ATA", "ATA"), ("ata", "ATA"), ("Hat Creek", "ATA"), ("hat-creek", "ATA"), ("HCRO", "ATA"),
    ("Allen Telescope Array", "ATA"), ("new norcia", "New Norcia"), ("NNO", "New Norcia"),
    ("DSA-2", "Cebreros"), ("cebreros", "Cebreros"), ("Malargue", "Malargüe"), ("MALARGÜE", "Malargüe"),
    ("mlg", "Malargüe"), ("DSS-65", "DSS-65"),
])
def test_forgiving_names(text, expected):
    assert get_station(text).name == expected


def test_unknown_station_lists_close_matches():
    with pytest.raises(UserError) as err:
        get_station("DSS-99")
    msg = str(err.value)
    assert "unknown station 'DSS-99'" in msg and "DSS-" in msg.split("did you mean")[1]
    with pytest.raises(UserError, match="did you mean ATA"):
        get_station("Hat Crek")
    with pytest.raises(UserError, match="unknown station"):
        get_station("Jodrell Bank")


def test_ata_dss24_baseline_is_729_km():
    ata = get_station("ATA").position_itrf_m()
    dss24 = get_station("DSS-24").position_itrf_m(1728318240.0)
    assert np.linalg.norm(ata - dss24) == pytest.approx(729.0e3, abs=1e3)


def test_dsn_plate_motion_is_applied_from_2003():
    s = get_station("DSS-43")
    p2003 = s.position_itrf_m()
    p2024 = s.position_itrf_m(1728318240.0)  # 2024-10-07
    years = (1728318240.0 - 1041379200.0) / (365.25 * 86400)
    np.testing.assert_allclose(p2024 - p2003, years * np.array([-0.0335, -0.0041, 0.0392]), atol=1e-9)


def test_published_geodetic_coordinates():
    lat, lon, h = get_station("ATA").geodetic()
    assert lat == pytest.approx(40 + 49 / 60 + 2.75 / 3600, abs=1e-9)
    assert lon == pytest.approx(-(121 + 28 / 60 + 14.65 / 3600), abs=1e-9)
    assert h == pytest.approx(1019.222, abs=1e-6)
    lat, lon, _ = get_station("Malargüe").geodetic()
    assert (lat, lon) == pytest.approx((-35.7760086, -69.3981934), abs=1e-9)
    # DSS-14 (Goldstone 70 m): 810-005 gives 35.426 N, 243.111 E
    lat, lon, h = get_station("DSS-14").geodetic()
    assert lat == pytest.approx(35.4259, abs=1e-3) and lon % 360 == pytest.approx(243.1105, abs=1e-3)
    assert 950 < h < 1050


def test_user_defined_stations():
    s = get_station("geodetic:40.8174,-121.4707,1019")
    assert s.source.startswith("user-defined")
    np.testing.assert_allclose(s.itrf_m, geodetic_to_itrf(40.8174, -121.4707, 1019.0))
    x = get_station("itrf:-2524000,-4123000,4147000")
    assert x.itrf_m == (-2524000.0, -4123000.0, 4147000.0)
    assert get_station("40.8174, -121.4707, 1019").itrf_m == s.itrf_m
    assert Station.from_dict(s.to_dict()) == s
    assert Station.from_dict(STATIONS["DSS-24"].to_dict()) is STATIONS["DSS-24"]
    with pytest.raises(UserError, match="not on the Earth's surface"):
        get_station("itrf:2524,4123,4147")  # kilometres by mistake
    with pytest.raises(UserError, match="three numbers"):
        get_station("geodetic:40.8,-121.4")
    with pytest.raises(UserError, match="latitude"):
        Station.from_geodetic("x", 95.0, 0.0, 0.0)


@settings(max_examples=200, deadline=None)
@given(lat=st.floats(-89.9, 89.9), lon=st.floats(-180.0, 180.0), h=st.floats(-500.0, 9000.0))
def test_geodetic_round_trip(lat, lon, h):
    lat2, lon2, h2 = itrf_to_geodetic(geodetic_to_itrf(lat, lon, h))
    assert lat2 == pytest.approx(lat, abs=1e-9)
    assert (lon2 - lon + 180.0) % 360.0 - 180.0 == pytest.approx(0.0, abs=1e-9)
    assert h2 == pytest.approx(h, abs=1e-6)
