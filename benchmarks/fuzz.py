#!/usr/bin/env python3
"""Fuzz campaign: mutated inputs through every parser and decoder that reads outside data.

Usage: python benchmarks/fuzz.py [--inputs N] [--targets frames,packets,sigmf,doppler,soft] [--seed S]
                                 [--no-memory] [--hang-s S]

Per target it prints the inputs run, crashes (an exception other than the one the layer documents
for bad input), hangs (an input that takes longer than ``--hang-s``) and wrong results (an output
that breaks a rule the layer promises: see each target's docstring), with the first few examples.
Then peak memory (max RSS of a child process) against input length for ``heradecode frames``,
``heradecode turbo-decode`` and ``heradecode decode``.

Targets (each input is seeded from ``--seed`` and its number, so a failure is reproducible):

* ``frames``: 8 consecutive real launch-day frames, mutated (bit flips, header fields, truncation,
  repeats, drops, reordering), through ``parse_frame`` and ``TelemetryProcessor``;
* ``packets``: random PUS-C packets framed with ``PacketFramer``, with corrupted octets, through the
  packet layer; intact runs must come out exactly;
* ``sigmf``: mutated SigMF metadata (types, ranges, versions, extensions, captures, annotations) with
  a small data file, through ``open_recording``;
* ``doppler``: mutated ``unix_time hz`` files through ``read_doppler_profile``;
* ``soft``: soft-symbol streams of two real CADUs with noise gaps, mutated (NaN, inf, huge values,
  int8 clipping, inversion, random chunking, corruption inside one codeblock), through
  ``FrameSync`` and the turbo decoder.
"""

from __future__ import annotations

import argparse
import copy
import json
import math
import os
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
import traceback
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from heradecode.ccsds.framer import PacketFramer
from heradecode.ccsds.pus import pec_ok
from heradecode.ccsds.spacepacket import build_packet
from heradecode.ccsds.tmframe import FrameError, parse_frame
from heradecode.errors import UserError
from heradecode.fec.asm import FrameSync
from heradecode.fec.crc import crc16
from heradecode.fec.randomizer import derandomize_llr
from heradecode.fec.turbo import TurboDecoder
from heradecode.io import open_recording
from heradecode.io.dopplerfile import read_doppler_profile
from heradecode.products.telemetry import TelemetryProcessor
from heradecode.sim.cadu import cadu_bits

REPO = Path(__file__).resolve().parents[1]
HERA = REPO / "recordings" / "hera"
LOW = HERA / "hera_low_rate_frames_2024_10_07_16_25_23.u8"
HIGH = HERA / "hera_high_rate_frames_2024_10_07_17_06_31.u8"
SIM = REPO / "recordings" / "sim"
FRAME_LEN = 1113


class Hang(Exception):
    pass


class Wrong(Exception):
    """An output that breaks a promised rule."""


@dataclass
class Tally:
    inputs: int = 0
    crashes: int = 0
    hangs: int = 0
    wrong: int = 0
    accepted: int = 0  # inputs the layer took as valid (the rest were refused or counted as bad)
    examples: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def note(self, kind: str, i: int, text: str) -> None:
        if len(self.examples) < 5:
            self.examples.append(f"{kind} at input {i}: {text}")


def _alarm(signum, frame):
    raise Hang()


def run_target(name: str, one: Callable[[random.Random, int], bool], n: int, seed: int, hang_s: float,
               first: int = 0) -> Tally:
    """Run ``one(rng, i)`` for first <= i < first + n; it returns True when the layer accepted the input."""
    tally = Tally()
    signal.signal(signal.SIGALRM, _alarm)
    t0 = time.perf_counter()
    last = t0
    for i in range(first, first + n):
        rng = random.Random(f"{seed}:{name}:{i}")
        signal.setitimer(signal.ITIMER_REAL, hang_s)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                tally.accepted += bool(one(rng, i))
        except Hang:
            tally.hangs += 1
            tally.note("hang", i, f"> {hang_s} s")
        except Wrong as exc:
            tally.wrong += 1
            tally.note("wrong result", i, str(exc))
        except Exception as exc:  # noqa: BLE001 - that is what we count
            tally.crashes += 1
            tb = traceback.extract_tb(exc.__traceback__)[-1]
            tally.note("crash", i, f"{type(exc).__name__}: {exc} ({Path(tb.filename).name}:{tb.lineno})")
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        tally.inputs += 1
        now = time.perf_counter()
        if now - last > 10:
            last = now
            print(f"  {name}: {i + 1 - first}/{n} inputs, {now - t0:.0f} s", file=sys.stderr, flush=True)
    tally.seconds = time.perf_counter() - t0
    return tally


# ----------------------------------------------------------------------------- frames
_REAL = [LOW.read_bytes(), HIGH.read_bytes()]


def _real_run(rng: random.Random, n: int = 8) -> list[bytes]:
    raw = rng.choice(_REAL)
    first = rng.randrange(len(raw) // FRAME_LEN - n)
    return [raw[(first + j) * FRAME_LEN:(first + j + 1) * FRAME_LEN] for j in range(n)]


def _packets_of(frames: list[bytes]) -> tuple[list[bytes], dict]:
    tp = TelemetryProcessor(keep_packets=True)
    out = []
    for f in frames:
        out += [p.packet.raw for p in tp.feed(f)]
    tp.finish()
    return out, tp.summary().to_dict()


def _is_subsequence(sub: list[bytes], seq: list[bytes]) -> bool:
    it = iter(seq)
    return all(any(x == y for y in it) for x in sub)


def _flip(buf: bytearray, rng: random.Random, n: int, lo: int = 0, hi: int | None = None) -> None:
    hi = len(buf) if hi is None else hi
    for _ in range(n):
        pos = rng.randrange(lo, hi)
        buf[pos] ^= 1 << rng.randrange(8)


def frames_one(rng: random.Random, i: int) -> bool:
    """Mutated runs of real frames.

    Rules: parse_frame raises FrameError or returns a frame; the processor never raises; exact
    repeats of frames already seen change nothing (no packet twice, no gap, counted as duplicates);
    a run with frames dropped yields a subsequence of the intact run's packets; every packet emitted
    has the length its header declares; every counter is non-negative.
    """
    frames = _real_run(rng)
    ref, ref_summary = _packets_of(frames)
    op = rng.choice(["flip", "header", "truncate", "repeat", "drop", "swap", "garbage", "fhp"])
    mutated = [bytearray(f) for f in frames]
    if op == "flip":
        for f in rng.sample(mutated, rng.randint(1, 3)):
            _flip(f, rng, rng.randint(1, 40))
    elif op == "header":
        for f in rng.sample(mutated, rng.randint(1, 3)):
            _flip(f, rng, rng.randint(1, 4), 0, 6)
    elif op == "fhp":
        f = rng.choice(mutated)
        fhp = rng.choice([0, 1, 0x7FE, 0x7FF, 1102, 1103, 2047, rng.randrange(2048)])
        f[4] = (f[4] & 0xF8) | (fhp >> 8)
        f[5] = fhp & 0xFF
    elif op == "truncate":
        j = rng.randrange(len(mutated))
        mutated[j] = mutated[j][: rng.randrange(FRAME_LEN)]
    elif op == "garbage":
        j = rng.randrange(len(mutated))
        mutated[j] = bytearray(rng.randbytes(FRAME_LEN))
    elif op == "swap":
        a, b = rng.sample(range(len(mutated)), 2)
        mutated[a], mutated[b] = mutated[b], mutated[a]
    seq = [bytes(f) for f in mutated]
    if op == "repeat":  # exact repeats, as when overlapping decodes are merged
        for _ in range(rng.randint(1, 4)):
            j = rng.randrange(len(seq))
            seq.insert(j + 1, seq[j])
    elif op == "drop":
        for _ in range(rng.randint(1, 3)):
            seq.pop(rng.randrange(len(seq)))
    tp = TelemetryProcessor(keep_packets=True)
    got = []
    for raw in seq:
        try:
            parse_frame(raw, has_fecf=False)
        except FrameError:
            pass
        if len(raw) == FRAME_LEN:
            got += [p.packet.raw for p in tp.feed(raw)]
    tp.finish()
    summary = tp.summary().to_dict()
    for p in got:
        if len(p) != 7 + int.from_bytes(p[4:6], "big"):
            raise Wrong(f"{op}: a packet of {len(p)} octets declares {7 + int.from_bytes(p[4:6], 'big')}")
    _non_negative(summary, op)
    if op == "repeat":
        if got != ref:
            raise Wrong(f"repeat: {len(got)} packets, intact run gives {len(ref)}")
        if summary.get("duplicate_frames", 0) != len(seq) - len(frames):
            raise Wrong(f"repeat: duplicate_frames {summary.get('duplicate_frames')} for {len(seq) - len(frames)}")
        for key in ("vc_counter_gaps", "mc_counter_gaps", "packets_lost"):
            if summary.get(key) != ref_summary.get(key):
                raise Wrong(f"repeat: {key} {summary.get(key)} where the intact run has {ref_summary.get(key)}")
    if op == "drop" and not _is_subsequence(got, ref):
        raise Wrong("drop: a packet not in the intact run")
    return op in ("repeat", "drop", "swap")


def _non_negative(d, where: str) -> None:
    if isinstance(d, dict):
        for v in d.values():
            _non_negative(v, where)
    elif isinstance(d, (list, tuple)):
        for v in d:
            _non_negative(v, where)
    elif isinstance(d, (int, float)) and not isinstance(d, bool) and d < 0:
        raise Wrong(f"{where}: a negative count in the summary")


# ----------------------------------------------------------------------------- packets
def _pus_packet(rng: random.Random, apid: int, count: int) -> bytes:
    n_data = rng.randint(0, 200)
    sec = bytes([0x20, rng.randint(1, 20), rng.randint(1, 30)]) + rng.randbytes(10)  # PUS-C, 13 octets
    body = sec + rng.randbytes(n_data)
    w0 = (1 << 11) | apid
    w1 = (3 << 14) | (count & 0x3FFF)
    head = w0.to_bytes(2, "big") + w1.to_bytes(2, "big") + (len(body) + 2 - 1).to_bytes(2, "big")
    return head + body + crc16(head + body).to_bytes(2, "big")


def packets_one(rng: random.Random, i: int) -> bool:
    """Random PUS packets framed on one VC; half the runs intact, half with corrupted octets.

    Rules: an intact run gives back exactly the packets framed, each with a good PEC; a corrupted run
    never raises, emits only packets of their declared length, and the packets of frames that were
    not touched and follow an untouched frame boundary are all found.
    """
    framer = PacketFramer(vcid=rng.choice([0, 1, 3]))
    sent = [_pus_packet(rng, rng.choice([100, 260, 300, 1000]), j) for j in range(rng.randint(1, 40))]
    if rng.random() < 0.2:  # a long packet spanning frames
        sent.append(build_packet(260, rng.randbytes(rng.randint(1200, 5000)), sequence_count=99))
    frames = list(framer.frames(sent)) + list(framer.flush())
    corrupt = rng.random() < 0.5
    if corrupt:
        frames = [bytearray(f) for f in frames]
        _flip(rng.choice(frames), rng, rng.randint(1, 30), 6, FRAME_LEN - 4)
        frames = [bytes(f) for f in frames]
    tp = TelemetryProcessor(keep_packets=True, vcids=None)
    got = []
    for f in frames:
        got += [p.packet.raw for p in tp.feed(f) if not p.packet.is_idle]
    tp.finish()
    _non_negative(tp.summary().to_dict(), "packets")
    if not corrupt:
        if got != sent:
            raise Wrong(f"intact: {len(got)} packets out, {len(sent)} in")
        if not all(pec_ok(p) for p in got if p[0] & 0x08):
            raise Wrong("intact: a PEC fails")
        return True
    for p in got:
        if len(p) != 7 + int.from_bytes(p[4:6], "big"):
            raise Wrong("corrupt: a packet longer or shorter than declared")
    return False


# ----------------------------------------------------------------------------- SigMF metadata
_BASE_META = json.loads((SIM / "hera_low_sim.sigmf-meta").read_text())
_BASE_META["annotations"] = _BASE_META["annotations"][:2]
_VALUES = [None, True, False, 0, -1, 1, 2, 3, 1e308, -1e308, float("nan"), float("inf"), 1e-300, 2**63, -(2**63),
           "", "x", "1.2.6", "9.9.9", "0.0.1", "1.0.0", "2024-10-07T16:24:20Z", "2024-13-45T99:99:99Z", 12345,
           [], {}, [1, 2], {"a": 1}, "ci16_le", "cf32_le", "rf32", "ci8", "ci64_le", "x" * 1000]
_KEYS = ["core:sample_rate", "core:datatype", "core:version", "core:num_channels", "core:offset", "core:dataset",
         "heradecode:sample_count", "core:extensions", "heradecode:carrier_offset_hz", "core:metadata_only"]
_CAP_KEYS = ["core:sample_start", "core:datetime", "core:frequency", "core:global_index", "core:header_bytes"]
_ANN_KEYS = ["core:sample_start", "core:sample_count", "core:freq_lower_edge", "core:label"]


def _value(rng: random.Random):
    """One of _VALUES, copied (a shared list must not end up inside itself)."""
    return copy.deepcopy(rng.choice(_VALUES))


def _mutate_meta(rng: random.Random) -> dict:
    meta = json.loads(json.dumps(_BASE_META))
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        if not all(isinstance(meta.get(k), t) for k, t in (("global", dict), ("captures", list),
                                                           ("annotations", list))):
            break  # the structure itself was mutated: enough
        if not all(isinstance(c, dict) for c in meta["captures"] + meta["annotations"]):
            break
        if op == 0:
            meta["global"][rng.choice(_KEYS)] = _value(rng)
        elif op == 1:
            meta["global"].pop(rng.choice(list(meta["global"]) or ["x"]), None)
        elif op == 2 and meta["captures"]:
            meta["captures"][rng.randrange(len(meta["captures"]))][rng.choice(_CAP_KEYS)] = _value(rng)
        elif op == 3:
            meta["captures"].append({"core:sample_start": rng.choice([0, 1, 100, 10**6, -5, 2**40]),
                                     "core:datetime": _value(rng)})
        elif op == 4 and meta["annotations"]:
            meta["annotations"][rng.randrange(len(meta["annotations"]))][rng.choice(_ANN_KEYS)] = _value(rng)
        elif op == 5:
            ext = {"name": rng.choice(["heradecode", "antenna", "spatial", "unknown_ext", "", 5]),
                   "version": rng.choice(["1.0.0", "9.9.9", "", None]), "optional": rng.choice([True, False, None])}
            meta["global"].setdefault("core:extensions", [])
            if isinstance(meta["global"]["core:extensions"], list):
                meta["global"]["core:extensions"].append(ext)
        elif op == 6:
            meta[rng.choice(["global", "captures", "annotations"])] = _value(rng)
        elif op == 7:
            meta.pop(rng.choice(["global", "captures", "annotations"]), None)
        else:
            meta["global"][f"x:{rng.randrange(5)}"] = _value(rng)
    return meta


def _json_text(meta, rng: random.Random) -> str:
    text = json.dumps(meta, allow_nan=True)
    if rng.random() < 0.1:  # a few byte-level mutations of the text too
        b = bytearray(text.encode())
        _flip(b, rng, rng.randint(1, 5))
        text = b.decode("utf-8", "replace")
    return text


_TMP = Path(tempfile.mkdtemp(prefix="heradecode-fuzz-"))
(_TMP / "r.sigmf-data").write_bytes(bytes(4 * 2 * 1000))


def sigmf_one(rng: random.Random, i: int) -> bool:
    """Mutated metadata beside a 1000-sample ci16 2-channel data file.

    Rules: open_recording returns a recording or raises UserError; an accepted recording has a finite
    positive sample rate at most 1e10 S/s, a start time after 1980, no more samples than the file
    holds, a SigMF 1.x core:version, and no unknown extension marked optional: false.
    """
    meta = _mutate_meta(rng)
    meta_path = _TMP / "r.sigmf-meta"
    text = _json_text(meta, rng)
    meta_path.write_text(text)
    try:
        rec = open_recording(meta_path, allow_truncated=True)
    except UserError:
        return False
    g = json.loads(text)["global"]  # as written (the text may have been mutated too)
    if not (math.isfinite(rec.samp_rate) and 0 < rec.samp_rate <= 1e10):
        raise Wrong(f"sample rate {rec.samp_rate!r} accepted")
    if rec.sample_unix_time(0) < 315532800:  # 1980-01-01
        raise Wrong(f"start time {rec.start_time} accepted")
    if rec.num_samples * rec.sample_format.sample_bytes * rec.num_channels > 8000:
        raise Wrong(f"{rec.num_samples} samples accepted from an 8000-byte file")
    version = str(g.get("core:version", "1.x"))  # missing: read as 1.x, as sigmf-python does
    if not version.startswith("1."):
        raise Wrong(f"core:version {version!r} accepted")
    for ext in g.get("core:extensions", []) or []:
        if isinstance(ext, dict) and ext.get("optional") is False and ext.get("name") not in ("heradecode", "antenna"):
            raise Wrong(f"required unknown extension {ext.get('name')!r} accepted")
    return True


# ----------------------------------------------------------------------------- Doppler files
def doppler_one(rng: random.Random, i: int) -> bool:
    """Generated ``unix_time hz`` files, half intact (with comments, blank lines, CRLF, a BOM), half mutated.

    Rules: an intact file reads back exactly the values written; any file gives a profile or UserError;
    an accepted profile has at least two points, finite values and strictly increasing times.
    """
    n = rng.randint(2, 50)
    t = 1728318260.0 + np.cumsum(np.array([rng.uniform(0.01, 60) for _ in range(n)]))
    f = np.array([rng.uniform(-3e5, 3e5) for _ in range(n)])
    lines = [f"{a!r} {b!r}" if rng.random() < 0.5 else f"{a:.6f}\t{b:.3f}" for a, b in zip(t, f)]
    exact = [(float(ln.split()[0]), float(ln.split()[1])) for ln in lines]
    if rng.random() < 0.3:
        lines.insert(rng.randrange(len(lines) + 1), "# comment")
    if rng.random() < 0.3:
        lines.insert(rng.randrange(len(lines) + 1), "")
    text = ("\r\n" if rng.random() < 0.2 else "\n").join(lines) + "\n"
    if rng.random() < 0.2:
        text = "\ufeff" + text
    intact = rng.random() < 0.5
    if not intact:
        ls = text.splitlines()
        for _ in range(rng.randint(1, 4)):
            if not ls:
                break
            op = rng.randrange(6)
            j = rng.randrange(len(ls))
            if op == 0:
                ls.pop(j)
            elif op == 1:
                ls.insert(j, rng.choice(["nan nan", "inf 0", "1 2 3", "x y", "1e400 0", "-1 5", "  ", "1,2"]))
            elif op == 2 and len(ls) > 1:
                k = rng.randrange(len(ls))
                ls[j], ls[k] = ls[k], ls[j]
            elif op == 3:
                ls[j] = ls[j][: rng.randrange(len(ls[j]) + 1)]
            elif op == 4:
                ls.insert(j, ls[j])
            else:
                b = bytearray(ls[j].encode())
                if b:
                    _flip(b, rng, 1)
                ls[j] = b.decode("latin-1")
        text = "\n".join(ls)
    path = _TMP / "d.txt"
    if rng.random() < 0.1:
        intact = False
        path.write_bytes(rng.randbytes(rng.randint(0, 200)))
    else:
        path.write_bytes(text.encode("utf-8", "surrogateescape"))
    try:
        prof = read_doppler_profile(path)
    except UserError:
        if intact:
            raise Wrong("an intact file refused") from None
        return False
    if prof.unix_time.size < 2 or not (np.all(np.isfinite(prof.unix_time)) and np.all(np.isfinite(prof.freq_hz))):
        raise Wrong("a profile with fewer than 2 points or non-finite values")
    if np.any(np.diff(prof.unix_time) <= 0):
        raise Wrong("times not strictly increasing")
    if intact and path.read_bytes() == text.encode("utf-8") and [
            (a, b) for a, b in zip(prof.unix_time, prof.freq_hz)] != exact:
        raise Wrong("an intact file read back different values")
    return True


# ----------------------------------------------------------------------------- soft symbols
_SOFT_FRAMES = [_REAL[0][j * FRAME_LEN:(j + 1) * FRAME_LEN] for j in range(16)]
_SOFT_CADUS = [1.0 - 2.0 * cadu_bits(np.frombuffer(fr, np.uint8)).astype(np.float32) for fr in _SOFT_FRAMES]  # LLR sign: bit 0 -> +1
_DECODER = TurboDecoder(8920, 4, max_iterations=10)
POWER_WINDOW = FrameSync(8920, 4).power_window


def soft_one(rng: random.Random, i: int) -> bool:
    """Two real CADUs at Es/N0 -1 dB in noise gaps (project LLR convention), mutated.

    Mutations: NaN, ±inf or huge values (1e6..1e38) in the gaps, in the marker or inside one codeblock;
    int8 clipping; inversion; random chunk sizes.  Rules: no exception; a CADU not touched by a
    mutation is found and decodes to its frame; no CRC-valid frame other than the two sent.  A CADU
    counts as touched when a mutation overlaps it or the ``power_window`` (2048) symbols before its
    marker, whose power normalises the marker statistic (FrameSync documents it: a loud stretch
    there, such as a burst saturated to the int8 range, lowers the statistic).
    """
    nrng = np.random.default_rng(rng.randrange(2**32))
    idx = rng.sample(range(len(_SOFT_CADUS)), 2)
    sigma = math.sqrt(1.0 / (2.0 * 10 ** (-1.0 / 10)))
    gaps = [rng.randint(0, 5000), rng.randint(0, 5000), rng.randint(0, 3000)]
    parts, spans, pos = [], [], 0
    for g, j in zip(gaps, idx):
        parts.append(np.zeros(g, np.float32))
        pos += g
        spans.append((pos, pos + _SOFT_CADUS[j].size))
        parts.append(_SOFT_CADUS[j])
        pos += _SOFT_CADUS[j].size
    parts.append(np.zeros(gaps[2], np.float32))
    y = (np.concatenate(parts) + sigma * nrng.standard_normal(pos + gaps[2])).astype(np.float32)
    touched = set()
    for _ in range(rng.randint(0, 3)):
        where = rng.choice(["gap", "gap", "cadu", "asm"])
        value = rng.choice([np.nan, np.inf, -np.inf, 1e6, 1e10, 1e20, 1e30, 3e38, -1e30])
        length = rng.choice([1, 1, 1, 5, 100, 2000])
        if where == "gap":
            free = [(0, spans[0][0]), (spans[0][1], spans[1][0]), (spans[1][1], y.size)]
            lo, hi = rng.choice(free)
            if hi - lo < 1:
                continue
            s = rng.randrange(lo, hi)
            e = min(hi, s + length)
        else:
            c = rng.randrange(2)
            lo = spans[c][0] if where == "asm" else spans[c][0] + 128
            s = rng.randrange(lo, lo + (128 if where == "asm" else 35696))
            e = min(spans[c][1], s + length)
        for c in range(2):  # the marker statistic is normalised by the power of the 2048 symbols before it
            if s < spans[c][1] and e > spans[c][0] - POWER_WINDOW:
                touched.add(c)
        y[s:e] = value
    if rng.random() < 0.1:
        y = np.clip(np.round(y * 20), -127, 127).astype(np.int8).astype(np.float32)  # an int8 file
    if rng.random() < 0.3:
        y = -y
    sync = FrameSync(8920, 4)
    found = []
    p = 0
    while p < y.size:
        step = rng.choice([1, 17, 1000, 40000, 1 << 20])
        found += sync.feed(y[p:p + step])
        p += step
    found += sync.flush()
    frames = set()
    if found:
        llrs = np.stack([derandomize_llr(_llr_scale(cb.soft)) for cb in found])
        for res in _DECODER.decode_batch(llrs):
            if res.crc_ok:
                frames.add(res.frame(strip_fecf=True))
    sent = {_SOFT_FRAMES[j] for j in idx}
    if frames - sent:
        raise Wrong("a CRC-valid frame that was not sent")
    for c in range(2):
        if c not in touched and _SOFT_FRAMES[idx[c]] not in frames:
            raise Wrong(f"untouched CADU {c} not decoded ({len(found)} codeblocks found)")
    return True


def _llr_scale(soft: np.ndarray) -> np.ndarray:
    from heradecode.cli.turbo_decode import llr_from_soft

    return llr_from_soft(soft)


TARGETS = {"frames": frames_one, "packets": packets_one, "sigmf": sigmf_one, "doppler": doppler_one,
           "soft": soft_one}


# ----------------------------------------------------------------------------- memory against input length
def _peak_rss_mb(argv: list[str]) -> tuple[float, int]:
    """Max RSS (MB) of one heradecode command run in a fresh child process, and its exit code."""
    code = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, r.returncode)")
    out = subprocess.run([sys.executable, "-c", code, sys.executable, "-m", "heradecode", *argv],
                         capture_output=True, text=True, check=True).stdout.split()
    return int(out[0]) / 1024.0, int(out[1])


def memory_rows(tmp: Path) -> list[tuple[str, str, float, int]]:
    rows = []
    raw = HIGH.read_bytes()
    for reps in (1, 20):
        f = tmp / f"frames_{reps}.u8"
        f.write_bytes(raw * reps)
        mb, rc = _peak_rss_mb(["frames", str(f), "--json"])
        rows.append(("frames", f"{f.stat().st_size / 1e6:.1f} MB of frames", mb, rc))
    rng = np.random.default_rng(5)
    for n_cadu in (32, 256):
        parts = []
        for j in range(n_cadu):
            parts += [np.zeros(int(rng.integers(0, 3000)), np.float32), -_SOFT_CADUS[j % len(_SOFT_CADUS)]]
        y = np.concatenate(parts)
        y = (y + 0.8 * rng.standard_normal(y.size)).astype(np.float32)
        f = tmp / f"soft_{n_cadu}.f32"
        y.tofile(f)
        mb, rc = _peak_rss_mb(["turbo-decode", str(f), "--json"])
        rows.append(("turbo-decode", f"{y.size / 1e6:.1f} M soft symbols", mb, rc))
    meta = json.loads((SIM / "hera_low_sim.sigmf-meta").read_text())
    data = (SIM / "hera_low_sim.sigmf-data").read_bytes()
    for reps in (2, 16):
        m = json.loads(json.dumps(meta))
        m["global"]["heradecode:sample_count"] = m["global"]["heradecode:sample_count"] * reps
        m["annotations"] = []
        (tmp / f"rec_{reps}.sigmf-meta").write_text(json.dumps(m))
        (tmp / f"rec_{reps}.sigmf-data").write_bytes(data * reps)
        dur = reps * len(data) / 4 / meta["global"]["core:sample_rate"]
        mb, rc = _peak_rss_mb(["decode", str(tmp / f"rec_{reps}.sigmf-meta"), "--mode", "low", "--quiet",
                               "--doppler", str(HERA / "hera_doppler.txt"), "--out", str(tmp / f"out_{reps}")])
        rows.append(("decode", f"{dur:.0f} s of 384 ksps dual-pol ci8", mb, rc))
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--inputs", type=int, default=100_000, help="inputs per target (default 100000)")
    ap.add_argument("--targets", default=",".join(TARGETS), help="comma-separated targets")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--first", type=int, default=0, help="number of the first input (to split a campaign)")
    ap.add_argument("--hang-s", type=float, default=20.0, help="an input taking longer is a hang")
    ap.add_argument("--no-memory", action="store_true", help="skip the memory-against-length runs")
    args = ap.parse_args()
    names = [t.strip() for t in args.targets.split(",") if t.strip()]
    unknown = set(names) - set(TARGETS)
    if unknown:
        ap.error(f"unknown targets: {', '.join(sorted(unknown))}")
    print(f"fuzz campaign: {args.inputs} inputs per target (from input {args.first}), seed {args.seed}, "
          f"hang limit {args.hang_s} s")
    print(f"{'target':<10}{'inputs':>9}{'accepted':>10}{'crashes':>9}{'hangs':>7}{'wrong':>7}{'s':>8}")
    failed = 0
    for name in names:
        t = run_target(name, TARGETS[name], args.inputs, args.seed, args.hang_s, args.first)
        print(f"{name:<10}{t.inputs:>9}{t.accepted:>10}{t.crashes:>9}{t.hangs:>7}{t.wrong:>7}{t.seconds:>8.0f}",
              flush=True)
        for ex in t.examples:
            print(f"    {ex}")
        failed += t.crashes + t.hangs + t.wrong
    if not args.no_memory:
        with tempfile.TemporaryDirectory() as d:
            print("\npeak memory (max RSS of the child process) against input length")
            for cmd, size, mb, rc in memory_rows(Path(d)):
                print(f"  {cmd:<13} {size:<34} {mb:7.0f} MB  (exit {rc})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
