"""Es/N0 of BPSK soft values (matched-filter outputs or LLRs), over a block such as one codeblock.

Model.  The soft values of a block are ``y_i = A s_i + n_i`` with equiprobable symbols
``s_i = +-1``, a fixed amplitude ``A`` and Gaussian noise of variance ``sigma^2``, all on one
fixed scale over the block (not a running one).  Real BPSK has ``Es = A^2`` and
``N0 / 2 = sigma^2``, so

    Es/N0 = A^2 / (2 sigma^2),        and the LLR of y_i is  L_i = 2 A y_i / sigma^2.

Calibrated LLRs are ``L = mu s + sqrt(2 mu) n'`` (n' of unit variance) with ``mu = 2 A^2 /
sigma^2 = 4 Es/N0``: their variance is twice their mean (the consistency condition).  Values
that are exactly 0 are erasures and are left out.  Three estimators:

Data-aided (decision-directed with the decoded bits).  With the symbols known,
``A = <y s>`` and ``sigma^2 = sum (y - A s)^2 / (N - 1)``; ``A^2`` is corrected for its
noise (``A^2 - sigma^2 / N``).  Independent of the scale; relative spread of Es/N0 about
``sqrt((2 + 1 / Es/N0) / N)``: 0.07 dB over a rate-1/4 CCSDS codeblock (35696 symbols) at
Eb/N0 = 0 dB (Es/N0 = -6 dB).

Calibrated LLRs.  When the soft values are LLRs already scaled by a good ``A`` and ``sigma``
(as the bi-phase demodulator's, whose scale comes from a long average of the signal power
and of a noise-only reference arm), ``<L^2> = mu^2 + 2 mu`` gives ``mu = sqrt(1 + <L^2>) - 1``
and ``Es/N0 = mu / 4``.  Its precision is that of the scale, not of the block alone.

Blind (unknown scale).  Maximum likelihood for the symmetric Gaussian mixture by
expectation-maximisation, ``A <- <y tanh(A y / sigma^2)>``, ``sigma^2 = <y^2> - A^2``,
started from the moments estimate ``A^4 = (3 M2^2 - M4) / 2`` (M2, M4 the 2nd and 4th
moments).  Independent of the scale but, with the symbols unknown, noisy at low Es/N0:
about +-0.2 dB (one standard deviation) over one codeblock at Eb/N0 = 0 dB.

:func:`esn0_from_llr` uses the calibrated estimate when the blind fit finds the scale
consistent (the blind ``2 A / sigma^2`` of LLRs, 1 when calibrated, within
``CALIBRATION_TOLERANCE``; its own spread is 4 % over a codeblock at Eb/N0 = 0 dB), and
the blind one otherwise (soft values of an unknown scale, e.g. from another program).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from heradecode.errors import UserError

__all__ = [
    "CALIBRATION_TOLERANCE",
    "SnrEstimate",
    "esn0_data_aided",
    "esn0_calibrated_llr",
    "esn0_blind",
    "esn0_from_llr",
    "calibrate_llr",
]

CALIBRATION_TOLERANCE = 0.2
"""LLRs whose blind scale 2 A / sigma^2 is within 1 +- this are taken as calibrated."""
MIN_SYMBOLS = 16
"""Fewer non-erased values than this give no estimate (Es/N0 reads as FLOOR_DB)."""
FLOOR_DB = -30.0
"""The Es/N0 (dB) reported when there is no signal to measure."""
_EM_ITERATIONS = 30


@dataclass(frozen=True)
class SnrEstimate:
    """Amplitude and noise of a block of soft values (the values' own units)."""

    amplitude: float  #: A, the signal amplitude (0 when none is seen)
    noise_var: float  #: sigma^2, the noise variance
    n_symbols: int  #: values used (erasures left out)
    method: str  #: 'data-aided', 'calibrated', 'blind' or 'none'

    @property
    def esn0(self) -> float:
        """Es/N0 as a ratio (A^2 / (2 sigma^2))."""
        if self.noise_var <= 0 or not math.isfinite(self.noise_var):
            return 0.0
        return self.amplitude**2 / (2.0 * self.noise_var)

    @property
    def esn0_db(self) -> float:
        """Es/N0 (dB), at least FLOOR_DB."""
        e = self.esn0
        return max(10.0 * math.log10(e), FLOOR_DB) if e > 0 else FLOOR_DB

    @property
    def llr_scale(self) -> float:
        """2 A / sigma^2: the factor that turns these soft values into calibrated LLRs (0 without a signal)."""
        if self.noise_var <= 0 or not math.isfinite(self.noise_var):
            return 0.0
        return 2.0 * self.amplitude / self.noise_var


_NONE = SnrEstimate(0.0, 1.0, 0, "none")


def _values(y: np.ndarray) -> np.ndarray:
    """The finite, non-erased values of a block as float64."""
    v = np.asarray(y, dtype=np.float64).reshape(-1)
    return v[np.isfinite(v) & (v != 0.0)]


def esn0_data_aided(y: np.ndarray, bits: np.ndarray) -> SnrEstimate:
    """Es/N0 of soft values with the bits sent known (0/1; bit 0 is the positive symbol, as everywhere)."""
    y = np.asarray(y, dtype=np.float64).reshape(-1)
    b = np.asarray(bits).reshape(-1)
    if b.size != y.size:
        raise UserError(f"{y.size} soft values but {b.size} bits")
    keep = np.isfinite(y) & (y != 0.0)
    y, s = y[keep], 1.0 - 2.0 * (b[keep] != 0)
    n = y.size
    if n < MIN_SYMBOLS:
        return _NONE
    a = float(np.dot(y, s)) / n
    r = y - a * s
    s2 = float(np.dot(r, r)) / (n - 1)
    if not s2 > 0:
        return SnrEstimate(abs(a), 1e-30, n, "data-aided")
    a2 = max(a * a - s2 / n, 0.0)
    return SnrEstimate(math.sqrt(a2), s2, n, "data-aided")


def esn0_calibrated_llr(llr: np.ndarray) -> SnrEstimate:
    """Es/N0 of LLRs that are already calibrated (L = 2 A y / sigma^2): mu = sqrt(1 + <L^2>) - 1, Es/N0 = mu / 4."""
    v = _values(llr)
    if v.size < MIN_SYMBOLS:
        return _NONE
    m2 = float(np.dot(v, v)) / v.size
    mu = math.sqrt(1.0 + m2) - 1.0
    # in LLR units: amplitude mu, noise variance 2 mu
    return SnrEstimate(mu, 2.0 * mu, int(v.size), "calibrated") if mu > 0 else _NONE


def esn0_blind(y: np.ndarray) -> SnrEstimate:
    """Es/N0 of soft values of an unknown scale: maximum-likelihood Gaussian-mixture fit (module docstring)."""
    v = _values(y)
    n = v.size
    if n < MIN_SYMBOLS:
        return _NONE
    y2 = v * v
    m2 = float(np.mean(y2))
    m4 = float(np.dot(y2, y2)) / n
    if not m2 > 0 or not math.isfinite(m4):
        return _NONE
    a4 = 0.5 * (3.0 * m2 * m2 - m4)
    a2 = math.sqrt(a4) if a4 > 0 else 0.0
    a2 = min(max(a2, 0.05 * m2), 0.95 * m2)  # a start inside the domain (moments alone can say "no signal")
    a = math.sqrt(a2)
    s2 = m2 - a2
    for _ in range(_EM_ITERATIONS):
        a_new = float(np.dot(v, np.tanh(v * (a / s2)))) / n
        a_new = min(max(a_new, 0.0), math.sqrt(0.999 * m2))
        s2 = m2 - a_new * a_new
        if abs(a_new - a) <= 1e-7 * (a + 1e-300):
            a = a_new
            break
        a = a_new
    return SnrEstimate(a, s2, n, "blind")


def esn0_from_llr(llr: np.ndarray, *, tolerance: float = CALIBRATION_TOLERANCE) -> SnrEstimate:
    """Es/N0 of a block of LLRs: the calibrated estimate when the scale looks calibrated, else the blind one."""
    blind = esn0_blind(llr)
    if blind.method == "none" or blind.amplitude <= 0:
        return blind
    if abs(blind.llr_scale - 1.0) <= tolerance:
        cal = esn0_calibrated_llr(llr)
        if cal.method != "none":
            return cal
    return blind


def calibrate_llr(y: np.ndarray, estimate: SnrEstimate) -> np.ndarray:
    """Soft values scaled to calibrated LLRs, 2 A y / sigma^2 with A and sigma^2 of ``estimate`` (float32)."""
    return (np.asarray(y, dtype=np.float32) * np.float32(estimate.llr_scale)).astype(np.float32, copy=False)
