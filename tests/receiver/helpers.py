"""Helpers of the receiver tests: the archived recordings and the Doppler profile each was simulated with."""

import json
from pathlib import Path

import numpy as np

from heradecode.io.dopplerfile import DopplerProfile
from tests.helpers import REPO

SIM = REPO / "recordings" / "sim"
ARCHIVED = [("hera_low_sim", "hera_low_sim.sigmf-meta", "low"),
            ("hera_high_sim", "hera_high_sim_0x.sigmf-meta", "high")]


def doppler_of(name: str, tmp_path: Path | None = None) -> DopplerProfile:
    """The Doppler profile the simulator applied (from the truth sidecar)."""
    pts = np.array(json.loads((SIM / f"{name}.truth.json").read_text())["params"]["doppler"])
    return DopplerProfile(pts[:, 0], pts[:, 1])
