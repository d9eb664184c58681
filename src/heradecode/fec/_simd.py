"""A 16-lane float32 SIMD vector for numba kernels (LLVM ``<16 x float>``), via numba intrinsics.

numba's auto-vectorizer gives up on the short, aliasing-prone loops of a trellis
recursion, so the turbo decoder spells its vector operations out.  A value of type
:data:`f32x16` lives in registers (one AVX-512 register, two AVX2 registers, ...);
:func:`vload`/:func:`vstore` move 16 consecutive float32 of a C-contiguous array
(flat element index, no bounds check: callers guarantee it).
"""

from __future__ import annotations

from llvmlite import ir
from numba import types
from numba.extending import intrinsic, models, register_model

NLANES = 16
_F32 = ir.FloatType()
_VEC = ir.VectorType(_F32, NLANES)
_FAST = ("fast",)


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


vadd = _binary(lambda b, x, y: b.fadd(x, y, flags=_FAST))
vsub = _binary(lambda b, x, y: b.fsub(x, y, flags=_FAST))
vmul = _binary(lambda b, x, y: b.fmul(x, y, flags=_FAST))
vmax = _binary(_max_ir)
vmin = _binary(_min_ir)

# max*(x, y) = max(x, y) + log(1 + exp(-|x - y|)); the correction is a degree-4 least-squares
# polynomial in z = min(|x - y|, 6), clamped at 0 (max abs error 0.0025 for all z >= 0).
_MAXSTAR_ZMAX = 6.0
_MAXSTAR_POLY = (0.69447, -0.51277, 0.15177, -0.02086, 0.0011)


def _splat_const(value: float) -> ir.Constant:
    return ir.Constant(_VEC, [float(value)] * NLANES)


def _maxstar_ir(builder, x, y):
    d = builder.fsub(x, y, flags=_FAST)
    nd = builder.fsub(_splat_const(0.0), d, flags=_FAST)
    z = _max_ir(builder, d, nd)
    z = _min_ir(builder, z, _splat_const(_MAXSTAR_ZMAX))
    c = _MAXSTAR_POLY
    p = _splat_const(c[4])
    for coef in (c[3], c[2], c[1], c[0]):
        p = builder.fadd(builder.fmul(p, z, flags=_FAST), _splat_const(coef), flags=_FAST)
    corr = _max_ir(builder, p, _splat_const(0.0))
    return builder.fadd(_max_ir(builder, x, y), corr, flags=_FAST)


vmaxstar = _binary(_maxstar_ir)


@intrinsic
def vmx(typingctx, a, b, token):
    """max (token of type float32) or max* (token of type float64): the algorithm is chosen at compile time."""
    if token not in (types.float32, types.float64):
        raise TypeError("vmx token must be float32 (max-log) or float64 (log-MAP)")
    logmap = token == types.float64
    sig = f32x16(f32x16, f32x16, token)

    def codegen(context, builder, sig, args):
        if logmap:
            return _maxstar_ir(builder, args[0], args[1])
        return _max_ir(builder, args[0], args[1])

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
