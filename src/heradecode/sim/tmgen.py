"""Synthetic Hera-like telemetry: PUS-C TM packets multiplexed into CCSDS TM transfer frames.

Frames follow CCSDS 132.0-B-3 as Hera's do: version 0, SCID 181, an OCF
(CLCW) and no secondary header, 1113 octets before the FECF.  Packets carry
Hera's PUS-C TM secondary header (CUC 4+2 time) and a CRC-16 packet error
control field; each virtual channel is a continuous packet stream split
across frames with per-VC counters and first header pointers.  Idle frames go
on VC 7 with FHP 0x7FE.  Packets and frames are built by
:mod:`heradecode.ccsds.pus` and :mod:`heradecode.ccsds.framer`.
"""

from __future__ import annotations

from collections import deque

import numpy as np

from heradecode.ccsds.framer import PacketFramer
from heradecode.ccsds.mission import HERA
from heradecode.ccsds.pus import build_pus_tm

SCID_HERA = HERA.scid
IDLE_VCID = 7

# (APID, service, subtype, data length range in octets, VC)
_PACKET_KINDS = (
    (260, 3, 25, (40, 480), 1),  # housekeeping reports
    (260, 5, 1, (12, 40), 1),  # informative event reports
    (264, 3, 25, (100, 900), 3),  # payload housekeeping on the high-rate VC
    (256, 1, 7, (4, 8), 1),  # TC execution completed
)


def generate_frames(
    num_frames: int,
    seed: int = 0,
    *,
    frame_length: int = 1113,
    scid: int = SCID_HERA,
    idle_fraction: float = 0.1,
    start_coarse_time: int = 36000,
) -> np.ndarray:
    """``num_frames`` TM frames (uint8, shape (n, frame_length), no FECF) carrying random PUS-C packets."""
    rng = np.random.default_rng(seed)
    mission = HERA.with_frames(scid=scid, length_octets=frame_length + 2)
    mc_counter = [0]  # one master channel: shared by every VC's framer
    vcs = sorted({k[4] for k in _PACKET_KINDS})
    framers = {vc: PacketFramer(vcid=vc, mission=mission, mc_counter=mc_counter) for vc in vcs + [IDLE_VCID]}
    ready: dict[int, deque] = {vc: deque() for vc in vcs}
    seq: dict[int, int] = {}
    msg_counter = 0
    obt_s = float(start_coarse_time)
    weights = np.array([4.0, 1.0, 3.0, 1.0])
    frames = np.empty((num_frames, frame_length), dtype=np.uint8)
    for i in range(num_frames):
        if rng.random() < idle_fraction:
            frames[i] = np.frombuffer(framers[IDLE_VCID].idle_frame(), np.uint8)
            continue
        vc = vcs[int(rng.integers(0, len(vcs)))]
        kinds = [k for k in _PACKET_KINDS if k[4] == vc]
        p = weights[[_PACKET_KINDS.index(k) for k in kinds]]
        # Packets are shorter than a frame, so each frame is emitted (and numbered) as it is needed.
        while not ready[vc]:
            apid, service, subtype, (lo, hi), _ = kinds[int(rng.choice(len(kinds), p=p / p.sum()))]
            data = rng.integers(0, 256, int(rng.integers(lo, hi + 1)), dtype=np.uint8).tobytes()
            s = seq.get(apid, 0)
            seq[apid] = (s + 1) & 0x3FFF
            pkt = build_pus_tm(apid, service, subtype, data, sequence_count=s, message_counter=msg_counter,
                               obt_s=obt_s, layout=mission.pus_tm)
            msg_counter = (msg_counter + 1) & 0xFFFF
            obt_s += float(rng.integers(1, 1 << 12)) / 65536.0
            ready[vc].extend(framers[vc].frames([pkt]))
        frames[i] = np.frombuffer(ready[vc].popleft(), np.uint8)
    return frames
