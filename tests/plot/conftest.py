"""Fixtures of the plot tests (helpers are in tests/plot/helpers.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.plot.helpers import (SyntheticRecording, decode_dict, soft_symbols, write_carrier_csv_text, write_profile,
                                write_sigmf_recording)


@pytest.fixture(scope="session")
def recording(tmp_path_factory) -> SyntheticRecording:
    """A 0.5-s synthetic SigMF recording."""
    return write_sigmf_recording(tmp_path_factory.mktemp("rec") / "synthetic")


@pytest.fixture
def decode_dir(tmp_path, recording) -> Path:
    """A decode directory: decode.json, carrier.csv, soft_symbols.npy, doppler.json + its profile."""
    d = tmp_path / "decode"
    d.mkdir()
    (d / "decode.json").write_text(json.dumps(decode_dict(), indent=1), encoding="utf-8")
    t, predicted = write_carrier_csv_text(d / "carrier.csv")
    write_profile(d / "profile.txt", t, predicted)
    (d / "doppler.json").write_text(json.dumps({"schema": "heradecode.doppler/1", "doppler_file": "profile.txt"}),
                                    encoding="utf-8")
    np.save(d / "soft_symbols.npy", soft_symbols())
    return d
