"""Synthetic Hera-like telemetry: PUS-C TM packets multiplexed into CCSDS TM transfer frames.

Frames follow CCSDS 132.0-B-3 as Hera's do: version 0, SCID 181, an OCF
(CLCW) and no secondary header, 1113 octets before the FECF.  Packets are
CCSDS space packets (133.0-B-2) carrying ECSS-E-ST-70-41C (PUS-C) TM
secondary headers and a CRC-16 packet error control field; each virtual
channel is a continuous packet stream split across frames, with per-VC frame
counters and first header pointers set as the standard says (0x7FF when no
packet starts in the frame).  Idle frames go on VC 7 with FHP 0x7FE.
"""

from __future__ import annotations

import numpy as np

from heradecode.fec.crc import crc16

SCID_HERA = 181
IDLE_VCID = 7
FHP_NONE = 0x7FF
FHP_IDLE = 0x7FE
PRIMARY_HEADER_LEN = 6
OCF_LEN = 4

# (APID, service, subtype, data length range in octets, VC)
_PACKET_KINDS = (
    (260, 3, 25, (40, 480), 1),  # housekeeping reports
    (260, 5, 1, (12, 40), 1),  # informative event reports
    (264, 3, 25, (100, 900), 3),  # payload housekeeping on the high-rate VC
    (256, 1, 7, (4, 8), 1),  # TC execution completed
)


def pus_tm_packet(
    apid: int, seq_count: int, service: int, subtype: int, msg_counter: int, cuc_time: tuple[int, int],
    data: bytes, destination: int = 0,
) -> bytes:
    """One space packet with a PUS-C TM secondary header (CUC 4+3 time) and CRC-16 error control."""
    coarse, fine = cuc_time
    sec_hdr = (
        bytes([0x20, service & 0xFF, subtype & 0xFF])  # PUS version 2, time reference status 0
        + (msg_counter & 0xFFFF).to_bytes(2, "big")
        + (destination & 0xFFFF).to_bytes(2, "big")
        + (coarse & 0xFFFFFFFF).to_bytes(4, "big")
        + (fine & 0xFFFFFF).to_bytes(3, "big")
    )
    body = sec_hdr + bytes(data)
    length = len(body) + 2 - 1  # packet data field length minus one, PEC included
    hdr = (
        ((0 << 13) | (0 << 12) | (1 << 11) | (apid & 0x7FF)).to_bytes(2, "big")  # version 0, TM, sec hdr
        + ((0b11 << 14) | (seq_count & 0x3FFF)).to_bytes(2, "big")  # unsegmented
        + length.to_bytes(2, "big")
    )
    pkt = hdr + body
    return pkt + crc16(pkt).to_bytes(2, "big")


def tm_frame(
    scid: int, vcid: int, mc_count: int, vc_count: int, fhp: int, data_field: bytes, clcw: int | None
) -> bytes:
    """One TM transfer frame without FECF: primary header, data field, optional OCF."""
    w0 = (0 << 14) | ((scid & 0x3FF) << 4) | ((vcid & 7) << 1) | (1 if clcw is not None else 0)
    status = (0 << 15) | (0 << 14) | (0 << 13) | (0b11 << 11) | (fhp & 0x7FF)
    frame = w0.to_bytes(2, "big") + bytes([mc_count & 0xFF, vc_count & 0xFF]) + status.to_bytes(2, "big")
    frame += data_field
    if clcw is not None:
        frame += (clcw & 0xFFFFFFFF).to_bytes(4, "big")
    return frame


def _clcw(vcid: int, report_value: int) -> int:
    # type 0, version 0, status 0, COP-1 in effect (1), VCID, flags clear, FARM-B counter 0, report value
    return (1 << 24) | ((vcid & 0x3F) << 18) | (report_value & 0xFF)


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
    data_len = frame_length - PRIMARY_HEADER_LEN - OCF_LEN
    vcs = sorted({k[4] for k in _PACKET_KINDS})
    streams: dict[int, bytearray] = {vc: bytearray() for vc in vcs}
    starts: dict[int, list[int]] = {vc: [] for vc in vcs}  # packet start offsets not yet framed
    consumed: dict[int, int] = {vc: 0 for vc in vcs}  # stream offset of streams[vc][0]
    seq: dict[int, int] = {}
    vc_count = {vc: 0 for vc in vcs + [IDLE_VCID]}
    msg_counter = 0
    t_fine = 0
    coarse = start_coarse_time
    frames = np.empty((num_frames, frame_length), dtype=np.uint8)

    def add_packet(kind: tuple) -> None:
        nonlocal msg_counter, coarse, t_fine
        apid, service, subtype, (lo, hi), vc = kind
        n = int(rng.integers(lo, hi + 1))
        data = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        s = seq.get(apid, 0)
        seq[apid] = (s + 1) & 0x3FFF
        pkt = pus_tm_packet(apid, s, service, subtype, msg_counter, (coarse, t_fine), data)
        msg_counter = (msg_counter + 1) & 0xFFFF
        t_fine += int(rng.integers(1, 1 << 20))
        coarse += t_fine >> 24
        t_fine &= 0xFFFFFF
        starts[vc].append(consumed[vc] + len(streams[vc]))
        streams[vc] += pkt

    weights = np.array([4.0, 1.0, 3.0, 1.0])
    weights /= weights.sum()
    for i in range(num_frames):
        if rng.random() < idle_fraction:
            idle = bytes([0x55]) * data_len
            frames[i] = np.frombuffer(
                tm_frame(scid, IDLE_VCID, i, vc_count[IDLE_VCID], FHP_IDLE, idle, _clcw(1, i)), np.uint8
            )
            vc_count[IDLE_VCID] = (vc_count[IDLE_VCID] + 1) & 0xFF
            continue
        vc = vcs[int(rng.integers(0, len(vcs)))]
        while len(streams[vc]) < data_len:
            kinds = [k for k in _PACKET_KINDS if k[4] == vc]
            p = weights[[_PACKET_KINDS.index(k) for k in kinds]]
            add_packet(kinds[int(rng.choice(len(kinds), p=p / p.sum()))])
        chunk = bytes(streams[vc][:data_len])
        base = consumed[vc]
        inside = [s - base for s in starts[vc] if base <= s < base + data_len]
        fhp = inside[0] if inside else FHP_NONE
        starts[vc] = [s for s in starts[vc] if s >= base + data_len]
        del streams[vc][:data_len]
        consumed[vc] += data_len
        frames[i] = np.frombuffer(tm_frame(scid, vc, i, vc_count[vc], fhp, chunk, _clcw(1, i)), np.uint8)
        vc_count[vc] = (vc_count[vc] + 1) & 0xFF
    return frames
