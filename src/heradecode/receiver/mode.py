"""Mode detection (which of the mission's symbol rates a recording carries) and a sample of soft symbols."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from heradecode.errors import UserError
from heradecode.io.dopplerfile import DopplerProfile
from heradecode.io.recording import Recording
from heradecode.receiver.config import ReceiverConfig
from heradecode.receiver.carrier import find_carrier
from heradecode.receiver.core import Receiver


class _Enough(Exception):
    pass


def soft_symbol_sample(recording: Recording, config: ReceiverConfig = ReceiverConfig(), *,
                       doppler: DopplerProfile | None = None, n_symbols: int = 50_000, warmup: int = 4096,
                       max_seconds: float = 30.0) -> np.ndarray:
    """``n_symbols`` soft symbols (LLRs) demodulated from the recording after the demodulator's ``warmup`` symbols.

    Only the first ``max_seconds`` of the recording are searched: fewer symbols come back when the
    signal is shorter or starts later.
    """
    total = n_symbols + warmup
    rx = Receiver(recording, config, doppler=doppler, keep_soft=total)

    def enough(r: Receiver) -> None:
        if r._soft_count >= total:
            raise _Enough

    try:
        for _ in rx.run(0, int(max_seconds * recording.samp_rate), on_chunk=enough):
            pass
    except _Enough:
        pass
    return rx.soft_symbols[warmup:]


def detect_mode(recording: Recording, config: ReceiverConfig = ReceiverConfig(), *,
                doppler: DopplerProfile | None = None, span_s: float = 1.5) -> str:
    """Which of the config's modes (the mission's symbol rates) the recording carries: the higher Es/N0 wins.

    The carrier is found as for decoding (:func:`find_carrier`: blind without a Doppler profile).
    """
    fs = recording.samp_rate
    n_span = int(span_s * fs)
    starts = sorted({0, *(int(f * recording.num_samples) for f in (0.25, 0.5, 0.75))})
    modes = dict(config.modes)
    hint = " or ".join(f"--mode {m}" for m in modes)
    if not any(fs >= 4 * baud for baud in modes.values()):
        raise UserError(f"no signal found to tell the mode from: the sample rate is too low for any of the "
                        f"mission's symbol rates; give {hint}")
    first = find_carrier(recording, config, doppler=doppler)
    for start in starts:
        scores = {}
        fix = first if start == 0 else (find_carrier(recording, config, doppler=doppler, start_sample=start,
                                                     warn=False) or first)
        for mode, baud in modes.items():
            if fs < 4 * baud:
                continue
            cfg = replace(config, mode=mode, symbol_rate_baud=None)
            rx = Receiver(recording, cfg, doppler=doppler, carrier_fix=fix)
            for _ in rx.run(start, start + n_span):
                pass
            if rx.pll is not None:
                scores[mode] = rx.demod.esn0_db
        if scores and max(scores.values()) > -10.0:
            return max(scores, key=scores.get)
    raise UserError(f"no signal found to tell the mode from (no carrier, or no data on it); give {hint}")
