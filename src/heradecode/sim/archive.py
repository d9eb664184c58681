"""The small simulated recordings archived in ``recordings/sim`` for regression tests.

Each archived recording ``<name>`` consists of

* the SigMF recording (``<name>.sigmf-meta/-data``, or an ``<name>_0x``/``_0y`` pair and
  ``<name>.sigmf-collection``), ci8 at a reduced sample rate;
* ``<name>.truth.json``: every parameter, so the recording can be regenerated;
* ``<name>.frames.u8``: the real Hera frames sent, in order (the simulator's frame source);
* ``<name>.golden.txt``: the frames a correct decoder must return, one line each.

Re-archiving is deliberate: ``python -m heradecode.sim.archive`` rewrites the files
from :data:`ARCHIVE_SPECS`; ``python -m heradecode.sim.archive --check`` regenerates
each recording from its sidecar in a temporary folder and reports any difference
(the regression test does the same).
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from heradecode.fec.crc import crc16
from heradecode.io.dopplerfile import read_doppler_profile
from heradecode.sim.params import MODES, SimParams
from heradecode.sim.simulator import output_paths, read_truth, simulate, simulated_frames

REPO = Path(__file__).resolve().parents[3]
ARCHIVE_DIR = REPO / "recordings" / "sim"
HERA_DIR = REPO / "recordings" / "hera"
FRAME_LENGTH = 1113


@dataclass(frozen=True)
class ArchiveSpec:
    """How one archived recording is made: the real frames it carries and its simulation parameters."""

    name: str
    frames_file: str  # in recordings/hera
    first_frame: int
    num_frames: int
    params: dict[str, Any]


ARCHIVE_SPECS: tuple[ArchiveSpec, ...] = (
    ArchiveSpec(
        name="hera_low_sim",
        frames_file="hera_low_rate_frames_2024_10_07_16_24_20.u8",
        first_frame=4,  # frames 4..8 include an idle frame on VC 7
        num_frames=5,
        params=dict(
            mode="low", **MODES["low"], samp_rate=384_000.0,
            start_time="2024-10-07T16:24:20Z", carrier_offset_hz=1500.0, clock_offset_ppm=15.0,
            pol_angle_deg=35.0, pol_rotation_deg_s=2.0, pol_phase_deg=25.0, ebn0_db=5.0,
            datatype="ci8", layout="interleaved", seed=2024_10_07_1,
        ),
    ),
    ArchiveSpec(
        name="hera_high_sim",
        frames_file="hera_high_rate_frames_2024_10_07_17_06_31.u8",
        first_frame=0,
        num_frames=8,
        params=dict(
            mode="high", **MODES["high"], samp_rate=1_536_000.0,
            start_time="2024-10-07T17:06:31Z", carrier_offset_hz=-20_000.0, clock_offset_ppm=-20.0,
            pol_angle_deg=70.0, pol_rotation_deg_s=-3.0, pol_phase_deg=-40.0, ebn0_db=5.0,
            fades=[(0.4, 0.0), (0.5, -2.0), (0.7, -2.0), (0.8, 0.0)],
            datatype="ci8", layout="pair", seed=2024_10_07_2,
        ),
    ),
)


def frame_sha256(frame: np.ndarray) -> str:
    """SHA-256 (hex) of a frame's octets."""
    return hashlib.sha256(np.asarray(frame, dtype=np.uint8).tobytes()).hexdigest()


def write_golden(path: Path, frames: np.ndarray, name: str) -> None:
    """``index crc16 sha256`` per frame a decoder must return, in order."""
    lines = [
        f"# {name}: frames a correct decoder must return, in order ({len(frames)} frames of {frames.shape[1]} "
        "octets, FECF stripped)",
        "# index crc16(frame) sha256(frame)",
    ]
    for i, fr in enumerate(frames):
        lines.append(f"{i} {crc16(fr.tobytes()):04X} {frame_sha256(fr)}")
    path.write_text("\n".join(lines) + "\n", encoding="ascii")


def read_golden(path: Path) -> list[tuple[int, int, str]]:
    """(index, crc16, sha256) rows of a golden list."""
    rows = []
    for line in Path(path).read_text(encoding="ascii").splitlines():
        if line.strip() and not line.startswith("#"):
            i, c, h = line.split()
            rows.append((int(i), int(c, 16), h))
    return rows


def build(spec: ArchiveSpec, out_dir: Path) -> Path:
    """Write one archived recording (frames, recording, sidecar, golden list) into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    src = np.fromfile(HERA_DIR / spec.frames_file, dtype=np.uint8).reshape(-1, FRAME_LENGTH)
    frames = src[spec.first_frame:spec.first_frame + spec.num_frames]
    frames_path = out_dir / f"{spec.name}.frames.u8"
    frames.tofile(frames_path)
    prof = read_doppler_profile(HERA_DIR / "hera_doppler.txt")
    params = SimParams(
        **spec.params,
        frames_path=str(frames_path),
        num_frames=spec.num_frames,
        doppler=[(float(t), float(f)) for t, f in zip(prof.unix_time, prof.freq_hz)],
    )
    truth = simulate(params, out_dir / spec.name)
    sent = simulated_frames(truth.params)
    if truth.num_codeblocks != spec.num_frames or not np.array_equal(sent, frames):
        raise RuntimeError(f"{spec.name}: the recording does not carry the {spec.num_frames} frames asked for")
    write_golden(out_dir / f"{spec.name}.golden.txt", frames, spec.name)
    return Path(truth.truth_path)  # type: ignore[arg-type]


def regenerate(truth_path: Path, out_dir: Path) -> list[tuple[Path, Path]]:
    """Regenerate an archived recording from its sidecar into ``out_dir``; (archived, new) data file pairs."""
    truth = read_truth(truth_path)
    new = simulate(truth.params, out_dir / Path(truth_path).name.replace(".truth.json", ""))
    _, old_data, _, _ = output_paths(Path(truth_path).with_name(Path(truth_path).name.replace(".truth.json", "")),
                                     truth.params.layout)
    return list(zip(old_data, (out_dir / Path(p).name for p in new.data_paths)))


def _same(a: Path, b: Path) -> bool:
    return a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes()


def main(argv: list[str] | None = None) -> int:
    """Re-archive (default) or check (--check) the archived recordings."""
    ap = argparse.ArgumentParser(prog="python -m heradecode.sim.archive", description=__doc__.split("\n\n")[0])
    ap.add_argument("--check", action="store_true", help="regenerate in a temporary folder and compare")
    ap.add_argument("--dir", type=Path, default=ARCHIVE_DIR, help=f"archive folder (default {ARCHIVE_DIR})")
    args = ap.parse_args(argv)
    if args.check:
        bad = 0
        with tempfile.TemporaryDirectory() as tmp:
            for spec in ARCHIVE_SPECS:
                for old, new in regenerate(args.dir / f"{spec.name}.truth.json", Path(tmp)):
                    ok = _same(old, new)
                    bad += not ok
                    print(f"{'same' if ok else 'DIFFERENT'}: {old.name}")
        return 1 if bad else 0
    for spec in ARCHIVE_SPECS:
        path = build(spec, args.dir)
        print(f"archived {spec.name}: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
