"""Helpers of the fec tests: soft-symbol streams with markers, real frames as soft-symbol files."""

import numpy as np

from heradecode.fec.asm import asm_bits
from heradecode.fec.crc import append_fecf
from heradecode.fec.randomizer import randomize_bits
from heradecode.fec.turbo import encode
from tests.helpers import LOW_1

K, R = 1784, 4  # short codeblocks keep the streams small: 7152 symbols + 128-bit ASM
FRAME_LEN = 1113


def soft_stream(rng, n_blocks, esn0_db, gaps=True, polarities=None, inv_rate=R, k=K):
    """Noisy soft symbols (LLR convention) with ASM + random codeblocks; returns (stream, truth)."""
    n_cb = (k + 4) * inv_rate
    sigma = np.sqrt(1.0 / (2.0 * 10 ** (esn0_db / 10)))
    parts, truth, pos = [], [], 0
    for i in range(n_blocks):
        gap = int(rng.integers(0, 3000)) if gaps else 0
        parts.append(np.zeros(gap))
        pos += gap
        cb = rng.integers(0, 2, n_cb).astype(np.uint8)
        pol = polarities[i] if polarities is not None else 1
        sym = pol * (1.0 - 2.0 * np.concatenate([asm_bits(inv_rate), cb]))
        parts.append(sym)
        truth.append((pos, pol, cb))
        pos += sym.size
    parts.append(np.zeros(int(rng.integers(0, 2000))))
    clean = np.concatenate(parts)
    y = clean + sigma * rng.standard_normal(clean.size)
    return (2 * y / sigma**2).astype(np.float32), truth


def run_framesync(fs, stream, chunks):
    """Feed ``stream`` to the synchronizer in chunks of the given lengths, then the rest; flush; all codeblocks."""
    out = []
    pos = 0
    for c in chunks:
        out.extend(fs.feed(stream[pos : pos + c]))
        pos += c
    out.extend(fs.feed(stream[pos:]))
    out.extend(fs.flush())
    return out


def real_frames(n):
    """The first ``n`` real launch-day low-rate frames (1113 octets)."""
    raw = LOW_1.read_bytes()
    return [raw[i * FRAME_LEN : (i + 1) * FRAME_LEN] for i in range(n)]


def soft_file(path, frames, *, esn0_db=-2.0, polarity=1, fmt="f32", seed=0, amplitude=1.0, return_starts=False):
    """Soft symbols in GNU Radio's convention (positive = bit 1) with noise and gaps between CADUs."""
    rng = np.random.default_rng(seed)
    sigma = amplitude * np.sqrt(1.0 / (2.0 * 10 ** (esn0_db / 10)))
    parts, starts, pos = [], [], 0
    for frame in frames:
        gap = int(rng.integers(0, 4000))
        parts.append(np.zeros(gap))
        starts.append(pos + gap)
        pos += gap + 128 + 35696
        bits = np.unpackbits(np.frombuffer(append_fecf(frame), dtype=np.uint8))
        cadu = np.concatenate([asm_bits(4), randomize_bits(encode(bits, 4))])
        parts.append(amplitude * (2.0 * cadu - 1.0))  # GNU Radio: bit 1 -> +1
    parts.append(np.zeros(1500))
    clean = polarity * np.concatenate(parts)
    y = clean + sigma * rng.standard_normal(clean.size)
    if fmt == "i8":
        y = np.clip(np.round(y), -127, 127).astype(np.int8)
    else:
        y = y.astype(np.float32)
    y.tofile(path)
    return (path, starts) if return_starts else path
