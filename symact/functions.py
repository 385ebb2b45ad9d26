"""SymPy functions that stable implementation forms may use beyond SymPy's own.

Each one is mathematically an ordinary elementary expression (``rewrite_elementary``) so that
proofs see through it; the code printer maps it to a NumPy kernel.

- ``log1p``, ``expm1``: from sympy.codegen.cfunctions (log(1 + x), exp(x) - 1).
- ``hypot(a, b)``: sqrt(a**2 + b**2) without overflow.
- ``fclip(x, lo, hi)``: a numerical guard. Mathematically it is x itself; the generated code clamps
  x into [lo, hi]. Two uses: (a) a branch guard inside a Piecewise branch whose own interval lies
  within [lo, hi], where it is exactly the identity and keeps the branch (evaluated everywhere by
  np.where) from overflowing elsewhere; (b) a tail guard, only where every float beyond the bound
  rounds to the same result as the bound itself (so x*exp(-x**2) never meets inf*0). The tail tests
  of the generated code check (b) at log-spaced magnitudes up to the largest float.
- ``Kernel`` subclasses: special functions with an accurate NumPy kernel of the same name
  (symact/codegen/kernels.py); ``elementary`` gives their meaning for proofs and references.
"""
from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

__all__ = ["log1p", "expm1", "hypot", "mask", "pos_zero", "copysign", "fclip", "Kernel", "ndtr", "npdf", "ndtr_tail", "npdf_tail", "expnegsq", "expneghalfsq", "gelu_tanh_gate",
           "gelu_tanh_xgate", "gelu_tanh_slope", "x_minus_tanh", "sinc_grad", "sin_affine", "sin_affine_lean", "sin_affine_wide", "exp_mul", "exp_div", "expm1_div", "exp_times", "gammainc2",
           "rewrite_elementary"]


class fclip(sp.Function):
    """fclip(x, lo, hi) = x mathematically; clamped to [lo, hi] numerically."""

    nargs = 3

    @classmethod
    def eval(cls, arg, lo, hi):
        if arg.is_number and lo.is_number and hi.is_number:
            return arg

    def fdiff(self, argindex=1):
        if argindex == 1:
            return sp.Integer(1)
        return sp.Integer(0)

    def _eval_rewrite_as_elementary(self, arg, lo, hi, **kwargs):
        return arg

    def _eval_evalf(self, prec):
        return self.args[0].evalf(prec)


class mask(sp.Function):
    """mask(c) = 1 where the condition c holds, else 0 (NaN fails every comparison: 0).

    Printed as the boolean array itself, for products x*mask(c) (NumPy multiplies a float array by a
    boolean one in the float's dtype; x*0 keeps the sign of x, and NaN*0 is NaN).
    """

    nargs = 1

    @classmethod
    def eval(cls, cond):
        if cond is sp.true:
            return sp.Integer(1)
        if cond is sp.false:
            return sp.Integer(0)

    def _eval_evalf(self, prec):
        return sp.Piecewise((1, self.args[0]), (0, True)).evalf(prec)


class pos_zero(sp.Function):
    """pos_zero(a) = a; numerically a + 0.0, which turns -0.0 into +0.0 and changes nothing else."""

    nargs = 1

    def fdiff(self, argindex=1):
        return sp.Integer(1)

    def _eval_evalf(self, prec):
        return self.args[0].evalf(prec)


class hypot(sp.Function):
    """hypot(a, b) = sqrt(a**2 + b**2)."""

    nargs = 2

    def fdiff(self, argindex=1):
        return self.args[argindex - 1] / self

    def _eval_evalf(self, prec):
        return sp.sqrt(self.args[0] ** 2 + self.args[1] ** 2).evalf(prec)


class copysign(sp.Function):
    """copysign(a, b) = |a| with the sign of b (IEEE: the sign of a zero b counts too).

    Mathematically |a|*sign(b); used only where a = 0 whenever b = 0, so the two agree.
    """

    nargs = 2

    def _eval_evalf(self, prec):
        return (sp.Abs(self.args[0]) * sp.sign(self.args[1])).evalf(prec)


class Kernel(sp.Function):
    """A special function computed by the NumPy kernel ``kernel`` (see module docstring)."""

    kernel = ""

    @classmethod
    def elementary(cls, *args) -> sp.Expr:  # pragma: no cover - abstract
        raise NotImplementedError

    def fdiff(self, argindex=1):
        dummies = [sp.Dummy(f"a{i}") for i in range(len(self.args))]
        d = sp.diff(self.elementary(*dummies), dummies[argindex - 1])
        return d.subs(dict(zip(dummies, self.args)))

    def _eval_evalf(self, prec):
        return self.elementary(*self.args).evalf(prec)


class ndtr(Kernel):
    """Standard normal CDF: erfc(-x/sqrt(2))/2."""

    nargs, kernel = 1, "_ndtr"

    @classmethod
    def elementary(cls, x):
        return sp.erfc(-x / sp.sqrt(2)) / 2


class npdf(Kernel):
    """Standard normal density: exp(-x**2/2)/sqrt(2*pi)."""

    nargs, kernel = 1, "_npdf"

    @classmethod
    def elementary(cls, x):
        return sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)


class ndtr_tail(Kernel):
    """2**64 * Phi(x), for x < -37 (where Phi is below 2**-1000 but x*Phi may be normal)."""

    nargs, kernel = 1, "_ndtr_tail"

    @classmethod
    def elementary(cls, x):
        return 2**64 * sp.erfc(-x / sp.sqrt(2)) / 2


class npdf_tail(Kernel):
    """2**64 * exp(-x**2/2)/sqrt(2*pi), for x < -37 (see ndtr_tail)."""

    nargs, kernel = 1, "_npdf_tail"

    @classmethod
    def elementary(cls, x):
        return 2**64 * sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)


class expnegsq(Kernel):
    """exp(-x**2)."""

    nargs, kernel = 1, "_expnegsq"

    @classmethod
    def elementary(cls, x):
        return sp.exp(-x**2)


class expneghalfsq(Kernel):
    """exp(-x**2/2) (a product of two never underflows where exp(-x**2) alone would be subnormal)."""

    nargs, kernel = 1, "_expneghalfsq"

    @classmethod
    def elementary(cls, x):
        return sp.exp(-x**2 / 2)


GELU_TANH_K = sp.Rational("0.044715")


class gelu_tanh_gate(Kernel):
    """(1 + tanh(sqrt(2/pi)*(x + 0.044715*x**3)))/2."""

    nargs, kernel = 1, "_gelu_tanh_gate"

    @classmethod
    def elementary(cls, x):
        return (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (x + GELU_TANH_K * x**3))) / 2


class gelu_tanh_xgate(Kernel):
    """x*gelu_tanh_gate(x): the tanh-GELU, as one kernel (no factor subnormal where the product is not)."""

    nargs, kernel = 1, "_gelu_tanh_xgate"

    @classmethod
    def elementary(cls, x):
        return x * gelu_tanh_gate.elementary(x)


class gelu_tanh_slope(Kernel):
    """d/dx (x*gelu_tanh_gate(x)): the tanh-GELU's derivative, as one kernel (one double-double argument
    for both of its terms, and no factor subnormal where the result is not)."""

    nargs, kernel = 1, "_gelu_tanh_slope"

    @classmethod
    def elementary(cls, x):
        z = sp.Dummy("z")
        return sp.diff(z * gelu_tanh_gate.elementary(z), z).subs(z, x)


class x_minus_tanh(Kernel):
    """x - tanh(x), accurate near 0."""

    nargs, kernel = 1, "_x_minus_tanh"

    @classmethod
    def elementary(cls, x):
        return x - sp.tanh(x)


class sinc_grad(Kernel):
    """d/dx sin(x)/x (0 at x = 0)."""

    nargs, kernel = 1, "_sinc_grad"

    @classmethod
    def elementary(cls, x):
        return sp.Piecewise((0, sp.Eq(x, 0)), (sp.cos(x) / x - sp.sin(x) / x**2, True))


class sin_affine(Kernel):
    """sin(a*x + b) with the product and the constant b carried exactly (b an exact constant)."""

    nargs, kernel = 3, "_sin_affine"

    @classmethod
    def elementary(cls, x, a, b):
        return sp.sin(a * x + b)


class sin_affine_lean(sin_affine):
    """sin(a*x + b) as sin_affine, where a float32 result within 1 ULP is enough (not cancelled later).

    Float32 input with a float32 a and b = 0, pi/4 or pi/2 then takes NumPy's float32 SIMD sin of the
    argument reduced in float64 (within 1 ULP of the correctly rounded sine) instead of a float64
    polynomial of it (0.5 ULP).
    """


class sin_affine_wide(sin_affine):
    """sin(a*x + b) as sin_affine, where a later sum cancels: for float32 input, the float64 polynomial's
    value unrounded (float64), so that the sum is rounded once, to float32, at its end."""


class exp_mul(Kernel):
    """exp(a*x)*2**k (k = 0 when not given) with the product's rounding error carried (a a parameter).

    k, an integer, scales a result that would be subnormal back into the normal range.
    """

    nargs, kernel = (2, 3), "_exp_mul"

    @classmethod
    def elementary(cls, x, a, k=0):
        return sp.exp(a * x) * sp.Integer(2) ** k


class exp_div(Kernel):
    """exp(x/a) with the quotient's rounding error carried (a a parameter: exact for powers of two)."""

    nargs, kernel = 2, "_exp_div"

    @classmethod
    def elementary(cls, x, a):
        return sp.exp(x / a)


class expm1_div(Kernel):
    """a*(exp(x/a) - 1) with the quotient's rounding error carried (a a parameter)."""

    nargs, kernel = 2, "_expm1_div"

    @classmethod
    def elementary(cls, x, a):
        return a * (sp.exp(x / a) - 1)


class exp_times(Kernel):
    """c*exp(x) for a parameter c, normal wherever the result is (c > 1: exp(x) alone may be subnormal)."""

    nargs, kernel = 2, "_exp_times"

    @classmethod
    def elementary(cls, x, c):
        return c * sp.exp(x)


class gammainc2(Kernel):
    """1 - (1 + v)*exp(-v), accurate near 0."""

    nargs, kernel = 1, "_gammainc2"

    @classmethod
    def elementary(cls, v):
        return 1 - (1 + v) * sp.exp(-v)


def rewrite_elementary(expr: sp.Expr) -> sp.Expr:
    """Replace symact's and codegen's helper functions by their elementary meaning."""
    expr = expr.replace(lambda e: isinstance(e, sp.UnevaluatedExpr), lambda e: e.args[0])
    expr = expr.replace(lambda e: isinstance(e, Kernel), lambda e: e.elementary(*e.args))
    expr = expr.replace(lambda e: isinstance(e, hypot), lambda e: sp.sqrt(e.args[0] ** 2 + e.args[1] ** 2))
    expr = expr.replace(lambda e: isinstance(e, mask), lambda e: sp.Piecewise((1, e.args[0]), (0, True)))
    expr = expr.replace(lambda e: isinstance(e, pos_zero), lambda e: e.args[0])
    expr = expr.replace(lambda e: isinstance(e, copysign), lambda e: sp.Abs(e.args[0]) * sp.sign(e.args[1]))
    return expr.replace(
        lambda e: isinstance(e, fclip), lambda e: e.args[0]
    ).replace(
        lambda e: isinstance(e, log1p), lambda e: sp.log(1 + e.args[0])
    ).replace(
        lambda e: isinstance(e, expm1), lambda e: sp.exp(e.args[0]) - 1
    )
