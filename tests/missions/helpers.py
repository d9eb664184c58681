"""Paths of the real mission frame files bundled in recordings/missions/ (see its README)."""

from pathlib import Path

MISSIONS_DIR = Path(__file__).resolve().parents[2] / "recordings" / "missions"
EUCLID = MISSIONS_DIR / "euclid_lowrate_frames_2023_07_02_06_58_19_first400.u8"
EUROPA_CLIPPER = MISSIONS_DIR / "europa_clipper_frames_1500_1899.u8"
LUCY = MISSIONS_DIR / "lucy_frames_bochum_2021_10_24_21_46_14_first500.u8"
PSYCHE = MISSIONS_DIR / "psyche_low_rate_frames_2023_10_13_15_51_16.u8"
FRAME_LENGTH = 1113  # the files hold frames without their FECF
BUNDLED = ("euclid", "europa-clipper", "hera", "juice", "lucy", "psyche")


def crc16_ccitt(data: bytes) -> int:
    """CRC-16, polynomial 0x1021, initial value 0xFFFF, bit by bit (independent of heradecode's)."""
    crc = 0xFFFF
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) & 0xFFFF if crc & 0x8000 else (crc << 1) & 0xFFFF
    return crc
