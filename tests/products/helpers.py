"""Shared helpers of the radio-science tests: small simulated recordings with a known Doppler, decoded."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from heradecode.io import open_recording
from heradecode.io.dopplerfile import DopplerProfile
from heradecode.products.radio_science import PhaseTrack
from heradecode.receiver import ReceiverConfig, decode_recording
from heradecode.sim import SimParams, simulate

START = "2024-10-07T16:40:00Z"
START_UNIX = float(np.datetime64(START.rstrip("Z"), "ns").astype(np.int64)) / 1e9
DOPPLER_HZ = -27000.0  #: Doppler at START (Hz)
RATE_HZ_S = 2.0  #: Doppler rate (Hz/s)


def true_doppler_hz(unix_time: np.ndarray) -> np.ndarray:
    """The simulated Doppler (Hz, received minus nominal) at UNIX times."""
    return DOPPLER_HZ + RATE_HZ_S * (np.asarray(unix_time) - START_UNIX)


def doppler_points(duration_s: float) -> list[tuple[float, float]]:
    """The simulated profile as (unix_time, Hz) points, linear, covering the recording with margin."""
    t = np.array([START_UNIX - 2.0, START_UNIX + duration_s + 2.0])
    return [(float(a), float(b)) for a, b in zip(t, true_doppler_hz(t))]


def simulate_low(path: Path, *, duration_s: float = 20.0, ebn0_db: float = 3.0, seed: int = 3,
                 fades=None, samp_rate: float = 256e3) -> SimParams:
    """A low-rate (60.2 kbaud) cf32 recording with a linear Doppler ramp, written at ``path``."""
    params = SimParams.preset("low", samp_rate=samp_rate, duration_s=duration_s, start_time=START,
                              ebn0_db=ebn0_db, doppler=doppler_points(duration_s), datatype="cf32_le",
                              seed=seed, fades=fades)
    simulate(params, path)
    return params


def decode_track(meta_path: Path, mode: str = "low", profile_error_hz: float = 3.0) -> PhaseTrack:
    """Decode a recording with the true Doppler profile shifted by ``profile_error_hz``; the phase track."""
    rec = open_recording(meta_path)
    pts = np.array(doppler_points(rec.duration_s + 5.0))
    prof = DopplerProfile(pts[:, 0], pts[:, 1] + profile_error_hz)
    rows = [tk for _, tk in decode_recording(rec, ReceiverConfig(mode=mode), doppler=prof)]
    return PhaseTrack.from_rows(np.concatenate(rows), start_unix_ns=start_unix_ns(rec), samp_rate=rec.samp_rate)


def start_unix_ns(rec) -> int:
    """A recording's start as integer UNIX nanoseconds."""
    return int((rec.start_time - np.datetime64(0, "ns")) // np.timedelta64(1, "ns"))


# ---------------------------------------------------------------------- TDM reading (independent reader)

def read_tdm(path: Path):
    """Read a TDM (KVN or XML) with ccsds-ndm, every value conversion warning an error."""
    import warnings

    from ccsds_ndm.ndm_io import NdmIo
    from xsdata.exceptions import ConverterWarning

    with warnings.catch_warnings():
        warnings.simplefilter("error", ConverterWarning)
        return NdmIo().from_path(path)


def check_against_schema(xml_text: str) -> None:
    """Check a TDM XML document against the 503.0-B-2 schema (NDM/XML 4.0.0, tdm 2.0) as ccsds-ndm ships it.

    ccsds-ndm ships the schema as its generated bindings (``ccsds_ndm.models.ndmxml4.ndmxml_4_0_0_tdm_2_0``):
    each element's name, type, enumeration, pattern and required flag, in the schema's sequence order.
    Checks: root and version, every element known, in sequence order, required ones present, patterns
    (epochs) matched, enumerations and numbers converted (strict parse).
    """
    import dataclasses
    import enum
    import re
    import xml.etree.ElementTree as ET

    from ccsds_ndm.models.ndmxml4 import ndmxml_4_0_0_tdm_2_0 as schema

    root = ET.fromstring(xml_text)
    assert root.tag == "tdm" and root.get("version") == "2.0" and root.get("id") == "CCSDS_TDM_VERS"

    def fields_of(cls):
        return [(f.metadata.get("name", f.name), f) for f in dataclasses.fields(cls)
                if f.metadata.get("type", "Element") == "Element"]

    def check(elem, cls, where):
        spec = fields_of(cls)
        order = [n for n, _ in spec]
        names = [c.tag for c in elem]
        unknown = [n for n in names if n not in order]
        assert not unknown, f"{where}: elements not in the schema: {unknown}"
        pos = [order.index(n) for n in names]
        assert pos == sorted(pos), f"{where}: elements out of the schema's sequence order: {names}"
        for n, f in spec:
            if f.metadata.get("required") and n not in names:
                raise AssertionError(f"{where}: required element {n} missing")
        for child in elem:
            f = dict(spec)[child.tag]
            pattern = f.metadata.get("pattern")
            text = (child.text or "").strip()
            if pattern:
                assert re.fullmatch(pattern, text), f"{where}/{child.tag}: {text!r} does not match {pattern}"
            tp = f.type if not isinstance(f.type, str) else eval(f.type, vars(schema))  # noqa: S307 - our bindings
            inner = [a for a in getattr(tp, "__args__", (tp,)) if a is not type(None)]
            base = inner[0] if inner else tp
            if isinstance(base, type) and issubclass(base, enum.Enum):
                assert text in {m.value for m in base}, f"{where}/{child.tag}: {text!r} not in the enumeration"
            elif base is float:
                float(text)
            elif dataclasses.is_dataclass(base) and child.tag not in ("EPOCH",):
                if len(child):
                    check(child, base, f"{where}/{child.tag}")

    check(root, schema.TdmType, "tdm")
