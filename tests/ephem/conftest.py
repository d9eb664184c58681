"""Fixtures for the ephemeris tests: synthetic trajectories written to SPK files."""

from __future__ import annotations

import numpy as np
import pytest

from . import ephem_synthetic as syn
from .ephem_synthetic import START_UNIX, UNIX_TO_ET


@pytest.fixture(autouse=True)
def _astropy_offline():
    """No IERS downloads (there is no network); astropy's bundled IERS tables cover 2024."""
    from astropy.utils import iers

    with iers.conf.set_temp("auto_download", False):
        yield


def _et(unix: float) -> float:
    return unix + UNIX_TO_ET


@pytest.fixture(scope="session")
def outbound_spk(tmp_path_factory):
    """Hera-like escape hyperbola, receding, 2024-10-07 15:30 .. 19:00 UTC."""
    path = tmp_path_factory.mktemp("spk") / "synthetic_outbound.bsp"
    return syn.write_spk(path, _et(START_UNIX - 3300), _et(START_UNIX + 9300))


@pytest.fixture(scope="session")
def inbound_spk(tmp_path_factory):
    """The same conic flown backwards: approaching the Earth."""
    path = tmp_path_factory.mktemp("spk") / "synthetic_inbound.bsp"
    return syn.write_spk(path, _et(START_UNIX - 3300), _et(START_UNIX + 3300), direction=-1.0,
                         et_perigee=_et(START_UNIX + 9000))


@pytest.fixture(scope="session")
def shifted_spk(tmp_path_factory):
    """The outbound conic with perigee 20 s later: an 'ephemeris error' for residual tests."""
    path = tmp_path_factory.mktemp("spk") / "synthetic_shifted.bsp"
    return syn.write_spk(path, _et(START_UNIX - 3300), _et(START_UNIX + 9300), et_perigee=syn.ET_PERIGEE + 20.0)


@pytest.fixture(scope="session")
def distant_spk(tmp_path_factory):
    """A target 0.02 au from the Earth on a straight line at 4 km/s (NAIF ID -91)."""
    import spiceypy

    path = tmp_path_factory.mktemp("spk") / "synthetic_distant.bsp"
    et0, et1 = _et(START_UNIX - 3600), _et(START_UNIX + 3600)
    epochs = np.linspace(et0, et1, 121)
    p0 = np.array([-1.2e9, 2.6e9, 0.9e9])
    vel = np.array([2.0e3, -3.0e3, 1.5e3])
    states = np.hstack([p0 + np.outer(epochs - et0, vel), np.tile(vel, (epochs.size, 1))]) / 1e3
    handle = spiceypy.spkopn(str(path), "distant", 0)
    spiceypy.spkw13(handle, syn.NAIF_ID, 399, "J2000", float(et0), float(et1), "straight line", 3,
                    epochs.size, states.tolist(), epochs.tolist())
    spiceypy.spkcls(handle)
    return path
