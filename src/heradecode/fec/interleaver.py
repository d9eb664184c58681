"""CCSDS turbo-code interleaver (CCSDS 131.0-B, section 6.3 g): the permutation of encoder b's input.

The information block length is written k = k1*k2 with k1 = 8 and k2 = 223*{1, 2, 4, 5}
(k = 1784, 3568, 7136, 8920).  For s = 1..k the standard computes (integer division
written //, p_1..p_8 = 31, 37, 43, 47, 53, 59, 61, 67)::

    m = (s-1) mod 2
    i = (s-1) // (2*k2)
    j = (s-1) // 2 - i*k2
    t = (19*i + 1) mod (k1/2)
    q = t mod 8 + 1
    c = (p_q*j + 21*m) mod k2
    pi(s) = 2*(t + c*k1/2 + 1) - m

and the s-th bit read into encoder b is the pi(s)-th bit of the information block.
Here everything is 0-based: ``permutation(k)[s] == pi(s+1) - 1``, so
``bits_b = info_bits[permutation(k)]``.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from heradecode.errors import UserError

K_VALUES: tuple[int, ...] = (1784, 3568, 7136, 8920)
"""The CCSDS turbo information block lengths (bits)."""

K1 = 8
PRIMES: tuple[int, ...] = (31, 37, 43, 47, 53, 59, 61, 67)


def check_k(k: int) -> int:
    """Return k as int, or raise UserError unless it is a CCSDS turbo block length."""
    try:
        k_int = int(k)
    except (TypeError, ValueError):
        raise UserError(f"turbo information block length must be one of {K_VALUES}, got {k!r}") from None
    if k_int != k or k_int not in K_VALUES:
        raise UserError(f"turbo information block length must be one of {K_VALUES}, got {k!r}")
    return k_int


def pi_of_s(s: int, k: int) -> int:
    """The standard's permutation number pi(s), 1-based in and out, computed literally."""
    k2 = k // K1
    m = (s - 1) % 2
    i = (s - 1) // (2 * k2)
    j = (s - 1) // 2 - i * k2
    t = (19 * i + 1) % (K1 // 2)
    q = t % 8 + 1
    c = (PRIMES[q - 1] * j + 21 * m) % k2
    return 2 * (t + c * (K1 // 2) + 1) - m


@lru_cache(maxsize=None)
def _permutation(k: int) -> np.ndarray:
    k2 = k // K1
    s0 = np.arange(k, dtype=np.int64)  # s - 1
    m = s0 % 2
    i = s0 // (2 * k2)
    j = s0 // 2 - i * k2
    t = (19 * i + 1) % (K1 // 2)
    q = t % 8 + 1
    p = np.asarray(PRIMES, dtype=np.int64)[q - 1]
    c = (p * j + 21 * m) % k2
    perm = (2 * (t + c * (K1 // 2) + 1) - m - 1).astype(np.int32)
    perm.setflags(write=False)
    return perm


def permutation(k: int) -> np.ndarray:
    """0-based turbo permutation (int32, read-only): encoder b's s-th input is info bit perm[s]."""
    return _permutation(check_k(k))


@lru_cache(maxsize=None)
def _inverse(k: int) -> np.ndarray:
    perm = _permutation(k)
    inv = np.empty(k, dtype=np.int32)
    inv[perm] = np.arange(k, dtype=np.int32)
    inv.setflags(write=False)
    return inv


def inverse_permutation(k: int) -> np.ndarray:
    """Inverse of :func:`permutation` (int32, read-only): info bit n is encoder b's input inv[n]."""
    return _inverse(check_k(k))
