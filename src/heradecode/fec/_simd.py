"""A 16-lane float32 SIMD vector for numba kernels (LLVM ``<16 x float>``), via numba intrinsics.

numba's auto-vectorizer gives up on the short, aliasing-prone loops of a trellis
recursion, so the turbo decoder spells its vector operations out.  A value of type
:data:`f32x16` lives in registers (one AVX-512 register, two AVX2 registers, ...);
:func:`vload`/:func:`vstore` move 16 consecutive float32 of a C-contiguous array
(flat element index, no bounds check: callers guarantee it).

The max* operator of the BCJR recursions
-----------------------------------------
In the log domain the BCJR sums become the Jacobian logarithm

    max*(x, y) = ln(e^x + e^y) = max(x, y) + f(|x - y|),   f(z) = ln(1 + e^-z),

where the correction f falls from ln 2 = 0.693 at z = 0 to 4.5e-5 at z = 10.  :func:`vmx`
implements three versions, chosen at compile time by the type of a token argument
(:data:`TOKENS`):

``max-log`` (float32 token)
    f = 0: max-log-MAP.  One instruction; invariant to the scale of the LLRs.
``linear-log-map`` (int32 token)
    f(z) ~ max(0, A - B z) with A = 0.62154, B = 0.23901, the one-segment line of least
    maximum error (|error| <= 0.0717, reached at z = 0, at the tangency near z = 1.1 and at
    the knee z = A / B = 2.6), after Valenti and Sun's "linear log-MAP".  Five more
    instructions than max-log (subtract, absolute value, fused multiply-add, max, add).
``log-map`` (float64 token)
    f(z) to float32 accuracy (|error| < 3e-7): with m = round(z / ln 2) and
    r = m ln 2 - z in [-ln 2 / 2, ln 2 / 2], e = e^-z = 2^-m e^r (e^r by its Taylor polynomial
    of degree 7, 2^-m by writing the exponent bits; z is clamped at 24, where f < 4e-11);
    then f = ln(1 + e) for e in (0, 1] by a degree-10 polynomial e p(e) (Chebyshev fit of
    ln(1 + e) / e on [0, 1], |error| < 1e-7).  No division, no libm call: about 25
    instructions, the reference.

numba caches the kernels of :mod:`heradecode.fec._bcjr` without looking at this module:
after changing it, delete ``fec/__pycache__/_bcjr*.nb[ci]`` (touching ``_bcjr.py`` is not
enough), or the stale kernels keep running.
"""

from __future__ import annotations

import numpy as np
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, models, register_model

NLANES = 16
_F32 = ir.FloatType()
_VEC = ir.VectorType(_F32, NLANES)
_I32VEC = ir.VectorType(ir.IntType(32), NLANES)
_FAST = ("fast",)

TOKENS = {"max-log": np.float32(0.0), "linear-log-map": np.int32(0), "log-map": np.float64(0.0)}
"""Token passed to the kernels for each max* version (its numba type selects the code)."""
_KIND_OF_TOKEN = {types.float32: "max-log", types.int32: "linear-log-map", types.float64: "log-map"}

LINEAR_A = 0.62154
"""Linear log-MAP correction max(0, A - B z): value at z = 0 (nats)."""
LINEAR_B = 0.23901
"""Linear log-MAP correction max(0, A - B z): slope (nats per nat)."""
LINEAR_MAX_ERROR = 0.0717
"""Largest |max(0, A - B z) - ln(1 + e^-z)| over z >= 0 (nats)."""

_EXP_ZMAX = 24.0
_LN2 = 0.6931471805599453
# ln(1 + e) = e * sum(_LOG1P_POLY[i] e^i), e in [0, 1]: Chebyshev interpolation of ln(1 + e) / e
_LOG1P_POLY = (
    0.9999999946562914, -0.49999892648059197, 0.33329710498846205, -0.24951616262321308,
    0.19663274254874302, -0.1526966706849503, 0.10543623786425024, -0.05637361274792348,
    0.019542527219910615, -0.003176057009777516,
)  # fmt: skip


class F32x16Type(types.Type):
    """numba type of a 16 x float32 SIMD vector."""

    def __init__(self) -> None:
        super().__init__(name="F32x16")


f32x16 = F32x16Type()


@register_model(F32x16Type)
class _F32x16Model(models.PrimitiveModel):
    def __init__(self, dmm, fe_type):
        super().__init__(dmm, fe_type, _VEC)


def _vec_ptr(context, builder, arrty, arr, idx):
    ary = context.make_array(arrty)(context, builder, arr)
    ptr = builder.gep(ary.data, [idx], inbounds=True)
    return builder.bitcast(ptr, _VEC.as_pointer())


def _check_f32_array(arr) -> None:
    if not (isinstance(arr, types.Array) and arr.dtype == types.float32 and arr.layout == "C"):
        raise TypeError(f"expected a C-contiguous float32 array, got {arr}")


@intrinsic
def vload(typingctx, arr, idx):
    """16 consecutive float32 of arr starting at flat element index idx."""
    _check_f32_array(arr)
    sig = f32x16(arr, types.intp)

    def codegen(context, builder, sig, args):
        return builder.load(_vec_ptr(context, builder, sig.args[0], args[0], args[1]), align=4)

    return sig, codegen


@intrinsic
def vstore(typingctx, arr, idx, v):
    """Store v into arr at flat element indices idx .. idx+15."""
    _check_f32_array(arr)
    sig = types.void(arr, types.intp, f32x16)

    def codegen(context, builder, sig, args):
        builder.store(args[2], _vec_ptr(context, builder, sig.args[0], args[0], args[1]), align=4)
        return context.get_dummy_value()

    return sig, codegen


def _binary(op):
    @intrinsic
    def fn(typingctx, a, b):
        sig = f32x16(f32x16, f32x16)

        def codegen(context, builder, sig, args):
            return op(builder, args[0], args[1])

        return sig, codegen

    return fn


def _max_ir(builder, x, y):
    return builder.select(builder.fcmp_ordered(">", x, y), x, y)


def _min_ir(builder, x, y):
    return builder.select(builder.fcmp_ordered("<", x, y), x, y)


def _splat_const(value: float) -> ir.Constant:
    return ir.Constant(_VEC, [float(value)] * NLANES)


def _fabs_ir(builder, x):
    fn = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_VEC, [_VEC]), "llvm.fabs.v16f32")
    return builder.call(fn, [x])


def _horner_ir(builder, z, coefs):
    """coefs[0] + coefs[1] z + ... by Horner's rule (fused multiply-adds under fast math)."""
    p = _splat_const(coefs[-1])
    for c in coefs[-2::-1]:
        p = builder.fadd(builder.fmul(p, z, flags=_FAST), _splat_const(c), flags=_FAST)
    return p


def _corr_linear_ir(builder, z):
    """max(0, A - B z): the linear log-MAP correction."""
    t = builder.fadd(builder.fmul(z, _splat_const(-LINEAR_B), flags=_FAST), _splat_const(LINEAR_A), flags=_FAST)
    return _max_ir(builder, t, _splat_const(0.0))


def _corr_exact_ir(builder, z):
    """ln(1 + e^-z) for z >= 0 to float32 accuracy (see the module docstring)."""
    f = _FAST
    z = _min_ir(builder, z, _splat_const(_EXP_ZMAX))
    m = builder.fptosi(builder.fadd(builder.fmul(z, _splat_const(1.0 / _LN2), flags=f), _splat_const(0.5), flags=f),
                       _I32VEC)
    r = builder.fsub(builder.fmul(builder.sitofp(m, _VEC), _splat_const(_LN2), flags=f), z, flags=f)
    exp_r = _horner_ir(builder, r, (1.0, 1.0, 1 / 2, 1 / 6, 1 / 24, 1 / 120, 1 / 720, 1 / 5040))
    two_m = builder.bitcast(builder.shl(builder.sub(ir.Constant(_I32VEC, [127] * NLANES), m),
                                        ir.Constant(_I32VEC, [23] * NLANES)), _VEC)  # 2^-m, m in 0..35
    e = builder.fmul(exp_r, two_m, flags=f)
    return builder.fmul(_horner_ir(builder, e, _LOG1P_POLY), e, flags=f)


def _maxstar_ir(builder, x, y, kind):
    if kind == "max-log":
        return _max_ir(builder, x, y)
    z = _fabs_ir(builder, builder.fsub(x, y, flags=_FAST))
    corr = _corr_linear_ir(builder, z) if kind == "linear-log-map" else _corr_exact_ir(builder, z)
    return builder.fadd(_max_ir(builder, x, y), corr, flags=_FAST)


vadd = _binary(lambda b, x, y: b.fadd(x, y, flags=_FAST))
vsub = _binary(lambda b, x, y: b.fsub(x, y, flags=_FAST))
vmul = _binary(lambda b, x, y: b.fmul(x, y, flags=_FAST))
vmax = _binary(_max_ir)
vmin = _binary(_min_ir)


@intrinsic
def vmx(typingctx, a, b, token):
    """max*(a, b) in the version the token's type selects (TOKENS): the algorithm is fixed at compile time."""
    if token not in _KIND_OF_TOKEN:
        raise TypeError(f"vmx token must be one of the types {sorted(map(str, _KIND_OF_TOKEN))}, got {token}")
    kind = _KIND_OF_TOKEN[token]
    sig = f32x16(f32x16, f32x16, token)

    def codegen(context, builder, sig, args):
        return _maxstar_ir(builder, args[0], args[1], kind)

    return sig, codegen


@intrinsic
def vsplat(typingctx, x):
    """A vector with every lane equal to the float32 scalar x."""
    sig = f32x16(types.float32)

    def codegen(context, builder, sig, args):
        undef = ir.Constant(_VEC, ir.Undefined)
        v = builder.insert_element(undef, args[0], ir.Constant(ir.IntType(32), 0))
        mask = ir.Constant(ir.VectorType(ir.IntType(32), NLANES), [0] * NLANES)
        return builder.shuffle_vector(v, undef, mask)

    return sig, codegen
