"""Regenerate the recorded HORIZONS responses in tests/ephem/data/horizons/ (not a test).

The responses are built in HORIZONS' exact VECTORS text format from the synthetic
trajectory of ``ephem_synthetic`` (Earth and station states from the packaged NAIF
kernels), for exactly the queries that ``HorizonsEphemeris`` makes for the test window.
Run from the repository root:  .venv/bin/python tests/ephem/data/make_horizons_responses.py
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

import spiceypy  # noqa: E402
from astroquery.jplhorizons import HorizonsClass  # noqa: E402
from astroquery.utils.mocks import MockResponse  # noqa: E402

import ephem_synthetic as syn  # noqa: E402
from heradecode.ephem.horizons import HorizonsEphemeris  # noqa: E402
from heradecode.ephem.spice import generic_kernels  # noqa: E402
from heradecode.ephem.stations import get_station  # noqa: E402

# the window the tests query (keep in sync with test_ephem_horizons.py)
START_UNIX = 1728318240.0  # 2024-10-07T16:24:00 UTC
DURATION_S = 600.0
STATIONS = ("ATA", "DSS-24")


def main() -> None:
    out = syn.DATA_DIR
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.txt"):
        old.unlink()
    for k in generic_kernels():
        spiceypy.furnsh(k)
    index: dict[str, str] = {}

    def record(self, request_type, url, **kwargs):
        params = kwargs["params"]
        key = syn.horizons_request_key(params)
        text = syn.synth_horizons_vectors(params)
        name = f"vectors_{len(index):02d}.txt"
        (out / name).write_text(text, encoding="utf-8")
        index[key] = name
        return MockResponse(content=text.encode(), url=url)

    original = HorizonsClass._request
    HorizonsClass._request = record
    try:
        with tempfile.TemporaryDirectory() as cache:
            src = HorizonsEphemeris("HERA", step_s=60.0, cache_dir=cache)
            src.prepare(START_UNIX, START_UNIX + DURATION_S, [get_station(s) for s in STATIONS])
    finally:
        HorizonsClass._request = original
    (out / "index.json").write_text(json.dumps(index, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {len(index)} responses to {out}")


if __name__ == "__main__":
    main()
