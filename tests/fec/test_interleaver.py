"""CCSDS turbo interleaver (CCSDS 131.0-B 6.3 g)."""

import numpy as np
import pytest

from heradecode.errors import UserError
from heradecode.fec.interleaver import K_VALUES, inverse_permutation, permutation, pi_of_s


def _standard_formula(s: int, k: int) -> int:
    """The standard's algorithm transcribed literally (1-based s and pi(s))."""
    k1, k2 = 8, k // 8
    primes = [31, 37, 43, 47, 53, 59, 61, 67]  # p1 .. p8
    m = (s - 1) % 2
    i = (s - 1) // (2 * k2)
    j = (s - 1) // 2 - i * k2
    t = (19 * i + 1) % (k1 // 2)
    q = t % 8 + 1
    c = (primes[q - 1] * j + 21 * m) % k2
    return 2 * (t + c * (k1 // 2) + 1) - m


@pytest.mark.parametrize("k", K_VALUES)
def test_is_a_permutation_and_follows_the_formula(k):
    perm = permutation(k)
    assert perm.shape == (k,)
    assert np.array_equal(np.sort(perm), np.arange(k))
    expected = np.array([_standard_formula(s, k) - 1 for s in range(1, k + 1)])
    assert np.array_equal(perm, expected)
    assert all(pi_of_s(s, k) == expected[s - 1] + 1 for s in range(1, k + 1, 97))
    inv = inverse_permutation(k)
    assert np.array_equal(inv[perm], np.arange(k))


def test_hand_computed_indices():
    # k = 8920: k2 = 1115.
    #  s=1: m=0 i=0 j=0 t=(0+1)%4=1 q=2 (p2=37) c=0            -> pi = 2(1+0+1)-0   = 4
    #  s=2: m=1 i=0 j=0 t=1 q=2 c=(0+21)%1115=21               -> pi = 2(1+84+1)-1  = 171
    #  s=3: m=0 i=0 j=1 t=1 q=2 c=37                           -> pi = 2(1+148+1)   = 300
    #  s=5: m=0 i=0 j=2 t=1 q=2 c=74                           -> pi = 2(1+296+1)   = 596
    p = permutation(8920)
    assert [int(p[s - 1]) + 1 for s in (1, 2, 3, 5)] == [4, 171, 300, 596]
    # k = 1784: k2 = 223.
    #  s=447: m=0 i=446//446=1 j=223-223=0 t=(19+1)%4=0 q=1 (p1=31) c=0       -> pi = 2(0+0+1)-0  = 2
    #  s=448: m=1 i=1 j=0 t=0 q=1 c=21                                       -> pi = 2(0+84+1)-1 = 169
    #  s=894: m=1 i=893//446=2 j=446-446=0 t=(38+1)%4=3 q=4 (p4=47) c=21     -> pi = 2(3+84+1)-1 = 175
    p = permutation(1784)
    assert [int(p[s - 1]) + 1 for s in (447, 448, 894)] == [2, 169, 175]


@pytest.mark.parametrize("bad", [0, 1000, 8921, 8920.5, "8920", None])
def test_unsupported_k(bad):
    with pytest.raises(UserError, match="block length"):
        permutation(bad)


def test_read_only():
    with pytest.raises(ValueError):
        permutation(1784)[0] = 5
