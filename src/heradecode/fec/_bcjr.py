"""numba kernels of the CCSDS turbo codec: constituent encoder, SISO BCJR, iterative decoder, CRC.

Trellis of both constituent encoders (CCSDS 131.0-B 6.3 h: G0 = 10011, G1 = 11011,
G2 = 10101, G3 = 11111, leftmost = current input): register (d1, d2, d3, d4), d1 the
newest, state number S = 8*d1 + 4*d2 + 2*d3 + d4.  With input u::

    a  = u ^ d3 ^ d4                  (feedback 1 + D^3 + D^4)
    p1 = a ^ d1 ^ d3 ^ d4             (1 + D + D^3 + D^4)
    p2 = a ^ d2 ^ d4                  (1 + D^2 + D^4)
    p3 = a ^ d1 ^ d2 ^ d3 ^ d4        (1 + D + D^2 + D^3 + D^4)
    S' = 8*a + (S >> 1)

so old states 2j and 2j+1 both go to new states j (a = 0) and j + 8 (a = 1): a radix-2
butterfly, and the two branches into a new state carry complementary bits.  Termination
feeds u = d3 ^ d4 (a = 0) for four steps.

Decoder layout ("sub-block parallel" BCJR): the N = k + 4 trellis steps of one
constituent code are cut into 16 overlapping windows that are decoded at once, one per
SIMD lane.  Each lane owns about N/16 steps and runs ``guard`` extra steps on each
side; the state metrics at a window's edges start from the values the neighbouring lane
computed there in the previous iteration (next-iteration initialisation), so after the
first iteration the segmentation costs practically nothing.  With one segment every lane
decodes the whole trellis (an exact, 16x slower reference).

Branch metric: gamma = -sum(bit * L) over the branch's bits (L = ln P(0)/P(1)), so only
the 16 combinations of (u, p1, p2, p3) per step are needed.  State metrics are
normalised to state 0 at every step.  Every sum over paths is a max* (the Jacobian
logarithm, :mod:`heradecode.fec._simd`), in the version the ``token`` argument selects at
compile time (``_simd.TOKENS``: max-log, linear-log-map or log-map).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from heradecode.fec._simd import NLANES, vadd, vload, vmx, vsplat, vstore, vsub

NL = NLANES
NSTATES = 16
NEG_BIG = np.float32(-1.0e30)
LLR_CLIP = np.float32(1.0e4)
_STEP = NSTATES * NL  # floats per trellis node in the alpha history
_INP = 4 * NL  # floats per step of a decoder input block: gs, q1, q2, q3


# --------------------------------------------------------------------------- encoder


@njit(cache=True, nogil=True)
def rsc_encode(bits, out_u, out_p1, out_p2, out_p3):
    """Run one terminated constituent encoder over bits (length k): fills the k + 4 outputs.

    out_u is the encoder input (the info bits, then the 4 termination bits d3 ^ d4).
    Returns the final state (0 after termination).
    """
    k = bits.shape[0]
    s = 0
    for i in range(k + 4):
        d1 = (s >> 3) & 1
        d2 = (s >> 2) & 1
        d3 = (s >> 1) & 1
        d4 = s & 1
        if i < k:
            u = bits[i] & 1
        else:
            u = d3 ^ d4
        a = u ^ d3 ^ d4
        out_u[i] = u
        out_p1[i] = a ^ d1 ^ d3 ^ d4
        out_p2[i] = a ^ d2 ^ d4
        out_p3[i] = a ^ d1 ^ d2 ^ d3 ^ d4
        s = (a << 3) | (s >> 1)
    return s


# --------------------------------------------------------------------------- CRC


@njit(cache=True, nogil=True)
def crc16_is_zero(data, table):
    """True when the CRC-16 (0x1021, init 0xFFFF) over data (FECF included) is zero."""
    crc = 0xFFFF
    for b in range(data.shape[0]):
        crc = ((crc << 8) & 0xFFFF) ^ table[((crc >> 8) ^ data[b]) & 0xFF]
    return crc == 0


# --------------------------------------------------------------------------- LLR scale


@njit(cache=True, nogil=True)
def llr_scale_estimate(x):
    """c = x / (consistent LLR), from the 2nd and 4th moments of x (inf when x looks like noise).

    For BPSK on AWGN the values are y = +-A + noise of variance s2, with M2 = A^2 + s2 and
    M4 = A^4 + 6 A^2 s2 + 3 s2^2, so A^2 = sqrt((3 M2^2 - M4) / 2); consistent LLRs are
    2 A y / s2, so c = s2 / (2 A).  Heavy tails (a fade inside the block, erasures) make
    3 M2^2 - M4 small or negative: c grows, to inf.  0 when the values carry no noise.
    """
    m2 = 0.0
    m4 = 0.0
    for i in range(x.shape[0]):
        v = np.float64(x[i]) * np.float64(x[i])
        m2 += v
        m4 += v * v
    n = max(x.shape[0], 1)
    m2 /= n
    m4 /= n
    d = (3.0 * m2 * m2 - m4) / 2.0
    if m2 <= 0.0 or d <= 0.0:
        return np.inf
    a2 = np.sqrt(d)
    s2 = m2 - a2
    if s2 <= 0.0:
        return 0.0
    return s2 / (2.0 * np.sqrt(a2))


# --------------------------------------------------------------------------- SISO


@njit(cache=True, nogil=True)
def maxstar_array(x, y, out, token):
    """out = max*(x, y) elementwise in the token's version (float32 arrays, length a multiple of 16)."""
    for i in range(0, x.shape[0] - NL + 1, NL):
        vstore(out, i, vmx(vload(x, i), vload(y, i), token))


@njit(inline="always")
def _gamma(inp, t, gc):
    """Write the 16 branch-metric combinations of step t: gc[c] for c = 8u + 4p1 + 2p2 + p3."""
    b = t * _INP
    gs = vload(inp, b)
    q1 = vload(inp, b + NL)
    q2 = vload(inp, b + 2 * NL)
    q3 = vload(inp, b + 3 * NL)
    q23 = vadd(q2, q3)
    q13 = vadd(q1, q3)
    q12 = vadd(q1, q2)
    q123 = vadd(q1, q23)
    vstore(gc, 1 * NL, q3)
    vstore(gc, 2 * NL, q2)
    vstore(gc, 3 * NL, q23)
    vstore(gc, 4 * NL, q1)
    vstore(gc, 5 * NL, q13)
    vstore(gc, 6 * NL, q12)
    vstore(gc, 7 * NL, q123)
    vstore(gc, 8 * NL, gs)
    vstore(gc, 9 * NL, vadd(gs, q3))
    vstore(gc, 10 * NL, vadd(gs, q2))
    vstore(gc, 11 * NL, vadd(gs, q23))
    vstore(gc, 12 * NL, vadd(gs, q1))
    vstore(gc, 13 * NL, vadd(gs, q13))
    vstore(gc, 14 * NL, vadd(gs, q12))
    vstore(gc, 15 * NL, vadd(gs, q123))


@njit(inline="always")
def _code(j, a):
    """Branch code 8u + 4p1 + 2p2 + p3 from old state 2j (d4 = 0) to new state 8a + j."""
    d1 = (j >> 2) & 1
    d2 = (j >> 1) & 1
    d3 = j & 1
    u = a ^ d3
    p1 = a ^ d1 ^ d3
    p2 = a ^ d2
    p3 = a ^ d1 ^ d2 ^ d3
    return (u << 3) | (p1 << 2) | (p2 << 1) | p3


@njit(cache=True, nogil=True, fastmath=True)
def siso(inp, W, alpha, gc, beta_a, beta_b, ainit, binit, acap_node, bcap_node, bcap_flag, ext_lane, app_lane, token):
    """One SISO (BCJR) pass over W steps in all 16 lanes.

    inp: (W, 4, 16) gs = -(Lsys + La), q1..q3 = -Lparity.  ainit/binit: (16 states, 16 lanes)
    boundary metrics, updated in place for the next iteration.  ext_lane, app_lane: (W, 16)
    output extrinsic and a-posteriori LLRs of the input bit.  token: the max* version
    (``_simd.TOKENS``: float32 max-log, int32 linear log-MAP, float64 log-MAP).
    """
    # ---- forward recursion, alpha history kept for the backward pass
    for s in range(NSTATES):
        vstore(alpha, s * NL, vload(ainit, s * NL))
    gc[0:NL] = 0.0
    for t in range(W):
        _gamma(inp, t, gc)
        ab = t * _STEP
        an = ab + _STEP
        n0 = vsplat(np.float32(0.0))
        for j in range(8):
            x0 = vload(alpha, ab + 2 * j * NL)
            x1 = vload(alpha, ab + (2 * j + 1) * NL)
            for a in range(2):
                c0 = _code(j, a)
                m0 = vadd(x0, vload(gc, c0 * NL))
                m1 = vadd(x1, vload(gc, (c0 ^ 15) * NL))
                v = vmx(m0, m1, token)
                if j == 0 and a == 0:
                    n0 = v
                vstore(alpha, an + (a * 8 + j) * NL, vsub(v, n0))
    # boundary alphas for the next iteration (lane l starts where lane l-1 already passed)
    for l in range(1, NL):
        node = acap_node[l]
        if node >= 0:
            for s in range(NSTATES):
                ainit[s * NL + l] = alpha[node * _STEP + s * NL + l - 1]
    # ---- backward recursion with the extrinsic output
    beta = beta_a
    bnew = beta_b
    for s in range(NSTATES):
        vstore(beta, s * NL, vload(binit, s * NL))
    for t in range(W - 1, -1, -1):
        if bcap_flag[t + 1]:
            for l in range(NL - 1):
                if bcap_node[l] == t + 1:
                    for s in range(NSTATES):
                        binit[s * NL + l] = beta[s * NL + l + 1]
        _gamma(inp, t, gc)
        ab = t * _STEP
        mu0 = vsplat(NEG_BIG)
        mu1 = vsplat(NEG_BIG)
        n0 = vsplat(np.float32(0.0))
        for j in range(8):
            b0 = vload(beta, j * NL)
            b1 = vload(beta, (j + 8) * NL)
            al0 = vload(alpha, ab + 2 * j * NL)
            al1 = vload(alpha, ab + (2 * j + 1) * NL)
            c0 = _code(j, 0)
            c1 = _code(j, 1)
            q00 = vadd(vload(gc, c0 * NL), b0)  # 2j   -> j      (u = d3)
            q01 = vadd(vload(gc, c1 * NL), b1)  # 2j   -> j + 8  (u = 1 - d3)
            q10 = vadd(vload(gc, (c0 ^ 15) * NL), b0)  # 2j+1 -> j      (u = 1 - d3)
            q11 = vadd(vload(gc, (c1 ^ 15) * NL), b1)  # 2j+1 -> j + 8  (u = d3)
            v0 = vmx(q00, q01, token)
            v1 = vmx(q10, q11, token)
            if j == 0:
                n0 = v0
            vstore(bnew, 2 * j * NL, vsub(v0, n0))
            vstore(bnew, (2 * j + 1) * NL, vsub(v1, n0))
            e_same = vmx(vadd(al0, q00), vadd(al1, q11), token)  # u = d3
            e_diff = vmx(vadd(al0, q01), vadd(al1, q10), token)  # u = 1 - d3
            if (j & 1) == 0:
                mu0 = vmx(mu0, e_same, token)
                mu1 = vmx(mu1, e_diff, token)
            else:
                mu0 = vmx(mu0, e_diff, token)
                mu1 = vmx(mu1, e_same, token)
        # extrinsic = L_app - (Lsys + La) = (mu0 - mu1) + gs
        lapp = vsub(mu0, mu1)
        vstore(app_lane, t * NL, lapp)
        vstore(ext_lane, t * NL, vadd(lapp, vload(inp, t * _INP)))
        tmp = beta
        beta = bnew
        bnew = tmp
    if bcap_flag[0]:
        for l in range(NL - 1):
            if bcap_node[l] == 0:
                for s in range(NSTATES):
                    binit[s * NL + l] = beta[s * NL + l + 1]


# --------------------------------------------------------------------------- turbo iterations
#
# The two SISO decoders exchange extrinsic values directly in their lane layouts: lane
# index t*16 + l holds trellis step win[l] + t; every information bit is "owned" by one
# lane position (own_pos), and the a-priori maps point at the other decoder's owned
# position of the same information bit.  Each lane-layout array has one extra entry that
# stays 0, the a-priori of the tail steps.


@njit(cache=True, nogil=True)
def _reset_boundaries(ainit, binit, win, W, N):
    ainit[:] = 0.0
    binit[:] = 0.0
    for l in range(NL):
        if win[l] == 0:
            ainit[l] = 0.0
            for s in range(1, NSTATES):
                ainit[s * NL + l] = NEG_BIG
        if win[l] + W == N:
            binit[l] = 0.0
            for s in range(1, NSTATES):
                binit[s * NL + l] = NEG_BIG


@njit(cache=True, nogil=True, fastmath=True)
def _prepare_apriori(inp, chs, amap, ext_other, scale, W):
    """gs = -(Lsys + scale * extrinsic of the other decoder) for every lane and step."""
    for t in range(W):
        for l in range(NL):
            inp[t * _INP + l] = -(chs[t * NL + l] + scale * ext_other[amap[t * NL + l]])


@njit(cache=True, nogil=True)
def _pack_decisions(app_lane, bitpos, out):
    """Hard decisions of the k information bits (natural order), packed MSB first into out."""
    for b in range(out.shape[0]):
        v = 0
        for i in range(8):
            v = (v << 1) | (1 if app_lane[bitpos[8 * b + i]] < 0.0 else 0)
        out[b] = v


@njit(cache=True, nogil=True)
def _same(a, b):
    for i in range(a.shape[0]):
        if a[i] != b[i]:
            return False
    return True


@njit(cache=True, nogil=True)
def decode_frame(
    streams,
    k,
    gidx,
    sysmap_b,
    amap_a,
    amap_b,
    bitpos_a,
    bitpos_b,
    win,
    acap_node,
    bcap_node,
    bcap_flag,
    W,
    max_iter,
    scale,
    stop_on_crc,
    stop_on_stable,
    token,
    crc_table,
    inp_a,
    inp_b,
    chs_a,
    chs_b,
    alpha,
    gc,
    beta_a,
    beta_b,
    ext_lane_a,
    ext_lane_b,
    app_lane,
    ainit_a,
    binit_a,
    ainit_b,
    binit_b,
    data,
    crc_data,
    prev_data,
):
    """Iteratively decode one codeblock; returns (iterations, crc_ok, converged), the block packed in data.

    streams: (7, N) demultiplexed channel LLRs 0a, 1a, 2a, 3a, 1b, 2b, 3b (0 where not sent).
    gidx: (W*16) trellis step of each lane position; sysmap_b: the information bit decoder b
    sees there (perm, k for the tail); amap_a/amap_b: lane position of the other decoder's
    extrinsic for the same information bit (W*16 = the zero entry); bitpos_a/bitpos_b: lane
    position holding each information bit's a-posteriori LLR after decoder a / b.
    """
    N = k + 4
    # ---- channel values in lane layout
    for t in range(W):
        for l in range(NL):
            g = gidx[t * NL + l]
            ib = sysmap_b[t * NL + l]
            chs_a[t * NL + l] = streams[0, g]
            chs_b[t * NL + l] = streams[0, ib] if ib < k else np.float32(0.0)
            ba = t * _INP + l
            inp_a[ba + NL] = -streams[1, g]
            inp_a[ba + 2 * NL] = -streams[2, g]
            inp_a[ba + 3 * NL] = -streams[3, g]
            inp_b[ba + NL] = -streams[4, g]
            inp_b[ba + 2 * NL] = -streams[5, g]
            inp_b[ba + 3 * NL] = -streams[6, g]
    _reset_boundaries(ainit_a, binit_a, win, W, N)
    _reset_boundaries(ainit_b, binit_b, win, W, N)
    ext_lane_a[:] = 0.0
    ext_lane_b[:] = 0.0
    crc_ok = False
    converged = False
    confirmed_ok = False  # the previous half-iteration passed CRC (its decisions are in crc_data)
    it = 0
    while it < max_iter:
        it += 1
        for half in range(2):
            if half == 0:  # decoder a (natural order)
                _prepare_apriori(inp_a, chs_a, amap_a, ext_lane_b, scale, W)
                siso(inp_a, W, alpha, gc, beta_a, beta_b, ainit_a, binit_a, acap_node, bcap_node, bcap_flag,
                     ext_lane_a, app_lane, token)
                if not stop_on_crc:
                    continue
                _pack_decisions(app_lane, bitpos_a, data)
            else:  # decoder b (interleaved order)
                _prepare_apriori(inp_b, chs_b, amap_b, ext_lane_a, scale, W)
                siso(inp_b, W, alpha, gc, beta_a, beta_b, ainit_b, binit_b, acap_node, bcap_node, bcap_flag,
                     ext_lane_b, app_lane, token)
                _pack_decisions(app_lane, bitpos_b, data)
            if stop_on_crc:
                # Stop when the CRC passes twice in a row with the same decisions: a single
                # CRC-16 pass on a still-wrong decision vector (probability 2^-16 per check)
                # would otherwise let about 1e-4 of the frames out with undetected errors.
                ok = crc16_is_zero(data, crc_table)
                if ok and confirmed_ok and _same(data, crc_data):
                    crc_ok = True
                    converged = True
                    break
                if ok:
                    crc_data[:] = data
                confirmed_ok = ok
        if converged:
            break
        if stop_on_stable:
            if it > 1 and _same(data, prev_data):
                converged = True
                break
            prev_data[:] = data
    if not crc_ok:
        crc_ok = crc16_is_zero(data, crc_table)
    return it, crc_ok, converged
