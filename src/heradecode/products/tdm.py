"""CCSDS Tracking Data Message (TDM, CCSDS 503.0-B-2) writer for the carrier Doppler, in KVN and XML.

One message holds one segment per integration interval.  Participants and path:

* one-way: ``PARTICIPANT_1`` = receiving station, ``PARTICIPANT_2`` = spacecraft,
  ``PATH = 2,1``; observable ``RECEIVE_FREQ_1``;
* two-way: ``PARTICIPANT_1`` = station, ``PARTICIPANT_2`` = spacecraft, ``PATH = 1,2,1``;
  ``TRANSMIT_FREQ_1`` and ``RECEIVE_FREQ_1``;
* three-way: ``PARTICIPANT_1`` = transmitting station, ``PARTICIPANT_2`` = spacecraft,
  ``PARTICIPANT_3`` = receiving station, ``PATH = 1,2,3``; ``TRANSMIT_FREQ_1`` (the uplink,
  constant over the pass) and ``RECEIVE_FREQ_3``.

Two- and three-way segments carry ``TURNAROUND_NUMERATOR``/``DENOMINATOR`` (880/749 for
X up / X down, or the ratio of the Doppler request).  Every segment has ``MODE = SEQUENTIAL``,
``TIME_SYSTEM = UTC``, ``TIMETAG_REF = RECEIVE``, ``INTEGRATION_INTERVAL`` (s),
``INTEGRATION_REF = MIDDLE`` and ``FREQ_OFFSET`` = the nominal downlink frequency (Hz): the
received frequency is ``FREQ_OFFSET + RECEIVE_FREQ_n``, i.e. the values are the Doppler
(received minus nominal, Hz) of :mod:`heradecode.products.radio_science`, tagged at the
interval midpoints.  The carrier C/N0 of each point goes in ``PC_N0`` (dB-Hz).  Only points
with no quality flag are written (the others stay in ``doppler_<T>s.csv``); a COMMENT says
how many were left out.  Station names are the catalogue's (:mod:`heradecode.ephem.stations`).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timezone
from fractions import Fraction
from pathlib import Path

import numpy as np

from heradecode.ephem.doppler import X_BAND_TURNAROUND
from heradecode.ephem.stations import get_station
from heradecode.errors import UserError
from heradecode.products.radio_science import DopplerObservable

FORMATS = ("kvn", "xml")
TDM_VERSION = "2.0"
SCHEMA_LOCATION = "https://sanaregistry.org/r/ndmxml_unqualified/ndmxml-4.0.0-master-4.0.xsd"


@dataclass(frozen=True)
class TdmLink:
    """Who took part in the measurement: mode, stations (catalogue names), spacecraft, uplink."""

    mode: str  #: 'one-way', 'two-way' or 'three-way'
    receiver: str  #: receiving station (catalogue name or alias)
    spacecraft: str = "HERA"
    transmitter: str | None = None  #: transmitting station (two-/three-way)
    uplink_hz: float | None = None  #: uplink frequency (Hz); None: downlink / turnaround
    turnaround: float = X_BAND_TURNAROUND
    band: str = "X"

    def resolved(self) -> "TdmLink":
        """The link with catalogue station names and a checked mode."""
        mode = self.mode.lower().replace("_", "-")
        if mode not in ("one-way", "two-way", "three-way"):
            raise UserError(f"unknown Doppler mode {self.mode!r}: use one-way, two-way or three-way")
        rx = get_station(self.receiver).name
        tx = get_station(self.transmitter).name if self.transmitter else None
        if mode == "three-way" and tx is None:
            raise UserError("a three-way TDM needs the transmitting station (--tx)")
        if mode == "two-way":
            tx = tx or rx
            if tx != rx:
                raise UserError(f"two-way Doppler is transmitted and received by one station, not {tx} and {rx}")
        if mode == "one-way":
            tx = None
        return TdmLink(mode, rx, self.spacecraft, tx, self.uplink_hz, self.turnaround, self.band)


def turnaround_fraction(ratio: float) -> tuple[int, int]:
    """Numerator and denominator of a turnaround ratio (880/749 for X/X)."""
    fr = Fraction(float(ratio)).limit_denominator(10000)
    return fr.numerator, fr.denominator


def format_epoch(unix_time: float) -> str:
    """UTC epoch as ``YYYY-MM-DDThh:mm:ss.ffffff``."""
    whole = math.floor(unix_time)
    micro = int(round((unix_time - whole) * 1e6))
    if micro == 1_000_000:
        whole, micro = whole + 1, 0
    return datetime.fromtimestamp(whole, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S") + f".{micro:06d}"


@dataclass(frozen=True)
class TdmSegment:
    """Metadata (ordered key/value pairs) and observations (epoch, keyword, value) of one segment."""

    comments: tuple[str, ...]
    metadata: tuple[tuple[str, str], ...]
    observations: tuple[tuple[str, str, str], ...]


@dataclass(frozen=True)
class TdmMessage:
    """A whole TDM: header and segments."""

    creation_date: str
    originator: str
    comments: tuple[str, ...]
    segments: tuple[TdmSegment, ...]


def _num(x: float) -> str:
    return repr(float(x))


def build_tdm(observables: list[DopplerObservable], link: TdmLink, *, originator: str = "HERADECODE",
              creation_unix_s: float | None = None, comments: tuple[str, ...] = ()) -> TdmMessage:
    """A TDM with one segment per observable (integration interval); flagged points are left out."""
    link = link.resolved()
    if link.mode == "one-way":
        participants = [link.receiver, link.spacecraft]
        path, rx_n = "2,1", 1
    elif link.mode == "two-way":
        participants = [link.receiver, link.spacecraft]
        path, rx_n = "1,2,1", 1
    else:
        participants = [link.transmitter, link.spacecraft, link.receiver]
        path, rx_n = "1,2,3", 3
    segments = []
    for obs in observables:
        good = obs.good & np.isfinite(obs.doppler_hz)
        t = obs.unix_time[good]
        if t.size == 0:
            continue
        meta: list[tuple[str, str]] = [("TIME_SYSTEM", "UTC"), ("START_TIME", format_epoch(t[0])),
                                       ("STOP_TIME", format_epoch(t[-1]))]
        meta += [(f"PARTICIPANT_{i}", p) for i, p in enumerate(participants, start=1)]
        meta += [("MODE", "SEQUENTIAL"), ("PATH", path)]
        if link.mode != "one-way":
            meta.append(("TRANSMIT_BAND", link.band))
        meta.append(("RECEIVE_BAND", link.band))
        if link.mode != "one-way":
            num, den = turnaround_fraction(link.turnaround)
            meta += [("TURNAROUND_NUMERATOR", str(num)), ("TURNAROUND_DENOMINATOR", str(den))]
        meta += [("TIMETAG_REF", "RECEIVE"), ("INTEGRATION_INTERVAL", _num(obs.interval_s)),
                 ("INTEGRATION_REF", "MIDDLE"), ("FREQ_OFFSET", _num(obs.downlink_hz)), ("DATA_QUALITY", "RAW")]
        rows: list[tuple[str, str, str]] = []
        if link.mode != "one-way":
            up = link.uplink_hz if link.uplink_hz is not None else obs.downlink_hz / link.turnaround
            rows.append((format_epoch(t[0]), "TRANSMIT_FREQ_1", _num(up)))
        for tt, f, c in zip(t, obs.doppler_hz[good], obs.cn0_dbhz[good]):
            ep = format_epoch(tt)
            rows.append((ep, f"RECEIVE_FREQ_{rx_n}", f"{f:.6f}"))
            if np.isfinite(c):
                rows.append((ep, "PC_N0", f"{c:.2f}"))
        left_out = int(obs.unix_time.size - t.size)
        seg_comments = (f"phase-based Doppler (received minus FREQ_OFFSET, Hz), {obs.interval_s:g} s intervals; "
                        f"{left_out} flagged point(s) left out",)
        if link.mode != "one-way":
            seg_comments += ("TRANSMIT_FREQ_1: uplink frequency, constant over the pass",)
        segments.append(TdmSegment(seg_comments, tuple(meta), tuple(rows)))
    if not segments:
        raise UserError("no good Doppler point to write in the TDM: every point is flagged, none was tracked, or the "
                        "recording is shorter than the integration interval (try --interval-s 1)")
    created = format_epoch(creation_unix_s if creation_unix_s is not None else datetime.now(timezone.utc).timestamp())
    return TdmMessage(created, originator, tuple(comments), tuple(segments))


def to_kvn(msg: TdmMessage) -> str:
    """The message in KVN (keyword = value) notation."""
    out = [f"CCSDS_TDM_VERS = {TDM_VERSION}"]
    out += [f"COMMENT {c}" for c in msg.comments]
    out += [f"CREATION_DATE = {msg.creation_date}", f"ORIGINATOR = {msg.originator}", ""]
    for seg in msg.segments:
        out.append("META_START")
        out += [f"COMMENT {c}" for c in seg.comments]
        out += [f"{k:<22} = {v}" for k, v in seg.metadata]
        out += ["META_STOP", "", "DATA_START"]
        out += [f"{k:<16} = {ep} {v}" for ep, k, v in seg.observations]
        out += ["DATA_STOP", ""]
    return "\n".join(out)


def to_xml(msg: TdmMessage) -> str:
    """The message in NDM/XML 4.0 (the 503.0-B-2 TDM schema, no namespace)."""
    xsi = "http://www.w3.org/2001/XMLSchema-instance"
    ET.register_namespace("xsi", xsi)
    root = ET.Element("tdm", {"id": "CCSDS_TDM_VERS", "version": TDM_VERSION,
                              f"{{{xsi}}}noNamespaceSchemaLocation": SCHEMA_LOCATION})
    head = ET.SubElement(root, "header")
    for c in msg.comments:
        ET.SubElement(head, "COMMENT").text = c
    ET.SubElement(head, "CREATION_DATE").text = msg.creation_date
    ET.SubElement(head, "ORIGINATOR").text = msg.originator
    body = ET.SubElement(root, "body")
    for seg in msg.segments:
        s = ET.SubElement(body, "segment")
        meta = ET.SubElement(s, "metadata")
        for c in seg.comments:
            ET.SubElement(meta, "COMMENT").text = c
        for k, v in seg.metadata:
            ET.SubElement(meta, k).text = v
        data = ET.SubElement(s, "data")
        for ep, k, v in seg.observations:
            o = ET.SubElement(data, "observation")
            ET.SubElement(o, "EPOCH").text = ep
            ET.SubElement(o, k).text = v
    ET.indent(root, space="  ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_tdm(path: str | Path, msg: TdmMessage, fmt: str = "kvn") -> Path:
    """Write the message as ``fmt`` ('kvn' or 'xml'); returns the path."""
    if fmt not in FORMATS:
        raise UserError(f"TDM format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    path = Path(path)
    path.write_text(to_kvn(msg) if fmt == "kvn" else to_xml(msg), encoding="ascii")
    return path
