"""Certified, correctly rounded reference values of SymPy expressions.

The yardstick against which generated NumPy code is measured.  Every value
returned by :func:`reference_values` is *certified*: the expression is
evaluated with ball arithmetic (python-flint ``arb``) at the exact binary
value of each input, and the working precision is doubled until both ends of
the resulting ball round to the same value of the target dtype.  If that does
not happen within ``max_prec`` bits, :class:`ReferenceEvaluationError` is
raised -- a reference value is never guessed.

Public API
----------
reference_values(expr, x, xs, dtype, *, max_prec=16384, cache=True)
round_exact_to_dtype(man, exp, dtype)
ulp_distance(got, ref, dtype)
compile_arb(expr, x)
ReferenceEvaluationError, UnsupportedExpressionError

Semantics worth knowing
-----------------------
* NaN inputs give NaN.  **Infinite inputs give NaN** as well: the reference
  does not compute limits; callers that care about f(+-inf) must handle it.
* Out-of-domain points whose invalidity is certain (sqrt/log/fractional power
  of a certainly negative number, a Piecewise with no true branch,
  Heaviside(0, nan)) give NaN.
* Exact singular points (division by an exact zero, log(0), removable 0/0
  singularities such as d/dx sinc at 0) raise ReferenceEvaluationError.
* A ball straddling 0 whose ends both round to zero gives +0.0.
* ``exp`` of arguments above ~2**62 cannot be represented by arb (the ball
  becomes infinite), so such points raise ReferenceEvaluationError even when
  the final value (e.g. log(1+exp(1e300))) would be finite.
* Compiled evaluators keep per-call state and change ``flint.ctx.prec``
  temporarily (restored afterwards): not thread-safe.
"""
from __future__ import annotations

import hashlib
import math
import os
import tempfile
from fractions import Fraction
from pathlib import Path
from typing import Callable

import numpy as np
import sympy
from flint import arb, arf, ctx, fmpq
from sympy.codegen import cfunctions as _cf

__all__ = [
    "ReferenceEvaluationError",
    "UnsupportedExpressionError",
    "reference_values",
    "round_exact_to_dtype",
    "ulp_distance",
    "compile_arb",
    "CompiledArb",
]

_CACHE_VERSION = "symact-reference-v1"


class ReferenceEvaluationError(ValueError):
    """A reference value could not be certified (or the expression is unsupported)."""


class UnsupportedExpressionError(ReferenceEvaluationError, NotImplementedError):
    """The expression contains a node outside the supported allow-list."""


# ----------------------------------------------------------------------------
# internal control-flow signals
class _NeedPrec(Exception):
    """Undecidable at the current precision: retry with more bits."""


class _CertainNaN(Exception):
    """The value is certainly undefined (NaN) at this point."""


class _Singular(Exception):
    """Exact singular point (e.g. division by an exact zero)."""


# ----------------------------------------------------------------------------
# rounding of exact binary numbers
_FORMATS = {
    np.dtype(np.float16): (11, -14, 15),
    np.dtype(np.float32): (24, -126, 127),
    np.dtype(np.float64): (53, -1022, 1023),
}


def _fmt(dtype):
    dt = np.dtype(dtype)
    try:
        return dt, _FORMATS[dt]
    except KeyError:
        raise TypeError(f"unsupported dtype {dt!r}; expected float16, float32 or float64") from None


def _round_exact(man: int, exp: int, p: int, emin: int, emax: int) -> float:
    """man*2**exp rounded (nearest-even, subnormals, overflow) as a Python float."""
    if man == 0:
        return 0.0
    neg = man < 0
    m = -man if neg else man
    bl = m.bit_length()
    e_top = exp + bl - 1  # 2**e_top <= |v| < 2**(e_top+1)
    if e_top > emax + 1:
        return -math.inf if neg else math.inf
    if e_top < emin - p:  # |v| < 2**(emin-p) = half the smallest subnormal
        return -0.0 if neg else 0.0
    q = max(e_top, emin) - (p - 1)  # quantum (exponent of the last place)
    shift = q - exp
    if shift <= 0:
        n = m << (-shift)
    else:
        n = m >> shift
        rem = m & ((1 << shift) - 1)
        half = 1 << (shift - 1)
        if rem > half or (rem == half and (n & 1)):
            n += 1
    if n and n.bit_length() + q > emax + 1:
        return -math.inf if neg else math.inf
    v = math.ldexp(float(n), q)  # exact: n <= 2**p, result representable
    return -v if neg else v


def round_exact_to_dtype(man: int, exp: int, dtype):
    """Exact value ``man * 2**exp`` correctly rounded (ties-to-even, subnormals,
    overflow to +-inf) to ``dtype``; returned as a NumPy scalar of that dtype.
    ``man == 0`` gives +0.0."""
    dt, (p, emin, emax) = _fmt(dtype)
    return dt.type(_round_exact(int(man), int(exp), p, emin, emax))


# ----------------------------------------------------------------------------
# compilation of SymPy expressions to arb closures
def _mpf_exact(f: sympy.Float) -> tuple[int, int]:
    sign, man, exp, _bc = f._mpf_
    if man == 0 and exp != 0:  # +-inf / nan are encoded with man == 0
        raise UnsupportedExpressionError(f"non-finite Float {f}")
    return (-int(man) if sign else int(man)), int(exp)


def _exact_fraction(num) -> Fraction:
    if isinstance(num, sympy.Float):
        m, e = _mpf_exact(num)
        return Fraction(m) * (Fraction(2) ** e)
    return Fraction(int(num.p), int(num.q))


def _to_fmpq(fr: Fraction) -> fmpq:
    return fmpq(fr.numerator, fr.denominator)


def _dyadic_arb(fr: Fraction):
    """Exact arb for a dyadic rational (denominator a power of two), else None."""
    d = fr.denominator
    if d & (d - 1):
        return None
    a = arb(arf((fr.numerator, -(d.bit_length() - 1)))) if fr.numerator else arb(0)
    return a if a.is_exact() else None


class CompiledArb:
    """An expression compiled into arb closures.

    ``obj(point, prec)`` evaluates at an exact point (Python float, int,
    Fraction, sympy Rational or fmpq) with working precision ``prec`` and
    returns an arb ball.  May raise the internal signals ``_NeedPrec``,
    ``_CertainNaN`` and ``_Singular``; use :func:`reference_values` for
    certified rounding.
    """

    def __init__(self, expr: sympy.Expr, x: sympy.Symbol):
        self.expr = expr
        self.x = x
        self._prec = [0]
        # point state: [arb value at current prec, exact float or None, fmpq or None]
        self._pt = [None, None, None]
        self._fn = self._c(expr)

    # -- point handling ------------------------------------------------
    def _q(self):
        pt = self._pt
        q = pt[2]
        if q is None:
            q = pt[2] = fmpq(*pt[1].as_integer_ratio())
        return q

    def set_point(self, point, prec: int):
        ctx.prec = prec
        self._prec[0] = prec
        pt = self._pt
        if isinstance(point, float):
            pt[0] = arb(point)
            pt[1] = point
            pt[2] = None
        else:
            if isinstance(point, sympy.Basic):
                if not (point.is_Rational or point.is_Float):
                    raise TypeError(f"point must be an exact number, got {point!r}")
                q = _to_fmpq(_exact_fraction(point))
            elif isinstance(point, fmpq):
                q = point
            else:
                fr = Fraction(point)
                q = fmpq(fr.numerator, fr.denominator)
            pt[0] = arb(q)
            pt[1] = None
            pt[2] = q

    def _eval_float(self, xf: float, prec: int):
        # fast path used by reference_values
        ctx.prec = prec
        self._prec[0] = prec
        pt = self._pt
        pt[0] = arb(xf)
        pt[1] = xf
        pt[2] = None
        return self._fn()

    def __call__(self, point, prec: int):
        old = ctx.prec
        try:
            self.set_point(point, prec)
            return self._fn()
        finally:
            ctx.prec = old

    # -- compilation -----------------------------------------------------
    def _const_per_prec(self, make):
        cache = {}
        cell = self._prec

        def f():
            p = cell[0]
            v = cache.get(p)
            if v is None:
                v = cache[p] = make()
            return v

        return f

    def _number(self, e):
        if e is sympy.S.NaN:
            def f():
                raise _CertainNaN
            return f
        if not (e.is_Rational or e.is_Float):
            raise UnsupportedExpressionError(f"unsupported number {type(e).__name__}: {e}")
        fr = _exact_fraction(e)
        a = _dyadic_arb(fr)
        if a is not None:
            return lambda: a
        q = _to_fmpq(fr)
        return self._const_per_prec(lambda: arb(q))

    def _c(self, e) -> Callable:
        if e.is_Symbol:
            if e != self.x:
                raise UnsupportedExpressionError(f"free symbol {e} other than {self.x}")
            pt = self._pt
            return lambda: pt[0]
        if e.is_Number:
            return self._number(e)
        h = _HANDLERS.get(type(e))
        if h is None:
            raise UnsupportedExpressionError(f"unsupported node {type(e).__name__}: {e}")
        return h(self, e)

    # arithmetic
    def _add(self, e):
        fs = [self._c(a) for a in e.args]
        if len(fs) == 2:
            a, b = fs
            return lambda: a() + b()
        if len(fs) == 3:
            a, b, c = fs
            return lambda: a() + b() + c()

        def f():
            s = fs[0]()
            for g in fs[1:]:
                s = s + g()
            return s

        return f

    def _mul(self, e):
        num, den = [], []
        for a in e.args:
            if a.is_Pow and a.exp is sympy.S.NegativeOne:
                den.append(a.base)
            else:
                num.append(a)
        nf = [self._c(a) for a in num]
        df = [self._c(a) for a in den]

        def prod(fs):
            if not fs:
                return None
            if len(fs) == 1:
                return fs[0]
            if len(fs) == 2:
                a, b = fs
                return lambda: a() * b()

            def f():
                s = fs[0]()
                for g in fs[1:]:
                    s = s * g()
                return s

            return f

        N = prod(nf)
        D = prod(df)
        if D is None:
            return N
        if N is None:
            N0 = lambda: arb(1)
        else:
            N0 = N

        def f():
            d = D()
            if d.is_zero():
                raise _Singular("division by an exact zero")
            return N0() / d

        return f

    def _pow(self, e):
        b, ex = e.base, e.exp
        if b is sympy.S.Exp1:
            g = self._c(ex)
            return lambda: g().exp()
        B = self._c(b)
        if ex.is_Integer:
            n = int(ex)
            if n == 1:
                return B
            if n == 2:
                def f():
                    v = B()
                    return v * v
                return f
            if n > 0:
                return lambda: B() ** n

            def f():
                v = B()
                if v.is_zero():
                    raise _Singular("negative power of an exact zero")
                return v ** n

            return f
        if ex.is_Rational and ex.q <= 64:
            P, Q = int(ex.p), int(ex.q)

            def f():
                v = B()
                if v < 0:
                    raise _CertainNaN
                if v.is_zero():
                    if P > 0:
                        return arb(0)
                    raise _Singular("negative power of an exact zero")
                if Q == 2:
                    if P == 1:
                        return v.sqrt()
                    if P == -1:
                        return v.rsqrt()
                    r = v.sqrt()
                else:
                    r = v.root(Q)
                return r if P == 1 else r ** P

            return f
        # general exponent (Float, irrational constant, or an expression)
        EX = self._c(ex)
        const_sign = None
        if ex.is_number:
            const_sign = 1 if ex.is_positive else (-1 if ex.is_negative else None)

        def f():
            v = B()
            y = EX()
            if v > 0:
                return (y * v.log()).exp()
            if v.is_zero():
                if const_sign == 1 or y > 0:
                    return arb(0)
                if const_sign == -1 or y < 0:
                    raise _Singular("negative power of an exact zero")
                raise _NeedPrec
            if v < 0:
                if y.is_exact() and y.is_integer():
                    return v ** y.unique_fmpz()
                if not y.contains_integer():
                    raise _CertainNaN
            raise _NeedPrec

        return f

    # constants
    def _pi(self, e):
        return self._const_per_prec(arb.pi)

    def _e(self, e):
        return self._const_per_prec(arb.const_e)

    def _euler(self, e):
        return self._const_per_prec(arb.const_euler)

    def _catalan(self, e):
        return self._const_per_prec(arb.const_catalan)

    # elementary functions
    def _unary(self, method):
        def h(self_, e):
            if len(e.args) != 1:
                raise UnsupportedExpressionError(f"{type(e).__name__} with {len(e.args)} args")
            g = self_._c(e.args[0])
            m = method
            return lambda: m(g())
        return h

    def _positive_domain(self, e, method, shift=0):
        """log-like function defined for arg > -shift; singular at arg == -shift."""
        g = self._c(e.args[0])
        lim = arb(-shift)

        def f():
            v = g()
            if v > lim:
                return method(v)
            if v < lim:
                raise _CertainNaN
            if (v - lim).is_zero():
                raise _Singular(f"{type(e).__name__} at a boundary point")
            raise _NeedPrec

        return f

    def _log(self, e):
        if len(e.args) != 1:
            raise UnsupportedExpressionError("log with base argument")
        return self._positive_domain(e, arb.log)

    def _log1p(self, e):
        return self._positive_domain(e, arb.log1p, shift=1)

    def _log2(self, e):
        ln2 = self._const_per_prec(lambda: arb(2).log())
        return self._positive_domain(e, lambda v: v.log() / ln2())

    def _exp2(self, e):
        g = self._c(e.args[0])
        ln2 = self._const_per_prec(lambda: arb(2).log())

        def f():
            v = g()
            if v.is_exact() and v.is_integer():
                n = int(v.unique_fmpz())
                if abs(n) < (1 << 24):
                    return arb(arf((1, n)))
            return (v * ln2()).exp()

        return f

    def _sign_of(self, arg):
        """Closure returning -1/0/1 exactly, or raising _NeedPrec."""
        Q = self._cq(arg)
        G = self._c(arg)

        def s():
            if Q is not None:
                try:
                    v = Q()
                except ZeroDivisionError:
                    pass
                else:
                    return (v > 0) - (v < 0)
            v = G()
            if v > 0:
                return 1
            if v < 0:
                return -1
            if v.is_zero():
                return 0
            raise _NeedPrec

        return s

    def _sign(self, e):
        s = self._sign_of(e.args[0])
        vals = {1: arb(1), 0: arb(0), -1: arb(-1)}
        return lambda: vals[s()]

    def _heaviside(self, e):
        s = self._sign_of(e.args[0])
        h0 = e.args[1] if len(e.args) > 1 else sympy.S.Half
        H0 = self._c(h0)
        one, zero = arb(1), arb(0)

        def f():
            k = s()
            if k > 0:
                return one
            if k < 0:
                return zero
            return H0()

        return f

    def _dirac(self, e):
        if len(e.args) != 1:
            raise UnsupportedExpressionError("DiracDelta derivative")
        s = self._sign_of(e.args[0])
        zero = arb(0)

        def f():
            if s() == 0:
                raise _Singular("DiracDelta at 0")
            return zero

        return f

    def _abs(self, e):
        g = self._c(e.args[0])
        return lambda: abs(g())

    def _maxmin(self, e):
        fs = [self._c(a) for a in e.args]
        is_max = isinstance(e, sympy.Max)

        def f():
            r = fs[0]()
            for g in fs[1:]:
                r = r.max(g()) if is_max else r.min(g())
            return r

        return f

    def _identity(self, e):
        return self._c(e.args[0])

    def _zero_fn(self, e):
        self._c(e.args[0])  # validate
        z = arb(0)
        return lambda: z

    def _piecewise(self, e):
        branches = [(self._c(ex), self._cond(c)) for ex, c in e.args]

        def f():
            for val, cond in branches:
                if cond():
                    return val()
            raise _CertainNaN

        return f

    # conditions -------------------------------------------------------------
    def _cond(self, c) -> Callable[[], bool]:
        if c is sympy.S.true:
            return lambda: True
        if c is sympy.S.false:
            return lambda: False
        if isinstance(c, sympy.And):
            cs = [self._cond(a) for a in c.args]
            return self._junction(cs, is_and=True)
        if isinstance(c, sympy.Or):
            cs = [self._cond(a) for a in c.args]
            return self._junction(cs, is_and=False)
        if isinstance(c, sympy.Not):
            g = self._cond(c.args[0])
            return lambda: not g()
        rel = type(c)
        if rel not in _RELS:
            raise UnsupportedExpressionError(f"unsupported condition {type(c).__name__}: {c}")
        op = _RELS[rel]
        diff = c.lhs - c.rhs if not (c.rhs.is_Number and c.rhs.is_zero) else c.lhs
        s = self._sign_of(diff)
        return lambda: op(s())

    @staticmethod
    def _junction(cs, is_and):
        def f():
            undecided = False
            for g in cs:
                try:
                    v = g()
                except _NeedPrec:
                    undecided = True
                    continue
                if v != is_and:  # False in And / True in Or decides
                    return v
            if undecided:
                raise _NeedPrec
            return is_and

        return f

    # exact rational evaluation (for conditions / signs) -----------------------
    def _cq(self, e):
        """Compile to an exact fmpq closure, or None if not a rational function."""
        try:
            return self._cq_rec(e)
        except _NotRational:
            return None

    def _cq_rec(self, e):
        if e.is_Symbol:
            if e != self.x:
                raise _NotRational
            return self._q
        if e.is_Rational or e.is_Float:
            q = _to_fmpq(_exact_fraction(e))
            return lambda: q
        t = type(e)
        if t is sympy.Add or t is sympy.Mul:
            fs = [self._cq_rec(a) for a in e.args]
            is_add = t is sympy.Add

            def f():
                r = fs[0]()
                for g in fs[1:]:
                    r = r + g() if is_add else r * g()
                return r

            return f
        if t is sympy.Pow and e.exp.is_Integer:
            g = self._cq_rec(e.base)
            n = int(e.exp)
            return lambda: g() ** n
        if t is sympy.Abs:
            g = self._cq_rec(e.args[0])
            return lambda: abs(g())
        if t is sympy.sign:
            g = self._cq_rec(e.args[0])

            def f():
                v = g()
                return fmpq((v > 0) - (v < 0))

            return f
        if t is sympy.Max or t is sympy.Min:
            fs = [self._cq_rec(a) for a in e.args]
            pick = max if t is sympy.Max else min
            return lambda: pick(g() for g in fs)
        raise _NotRational


class _NotRational(Exception):
    pass


_RELS = {
    sympy.StrictLessThan: lambda s: s < 0,
    sympy.LessThan: lambda s: s <= 0,
    sympy.StrictGreaterThan: lambda s: s > 0,
    sympy.GreaterThan: lambda s: s >= 0,
    sympy.Equality: lambda s: s == 0,
    sympy.Unequality: lambda s: s != 0,
}

_C = CompiledArb
_HANDLERS = {
    sympy.Add: _C._add,
    sympy.Mul: _C._mul,
    sympy.Pow: _C._pow,
    type(sympy.pi): _C._pi,
    type(sympy.E): _C._e,
    type(sympy.EulerGamma): _C._euler,
    type(sympy.Catalan): _C._catalan,
    sympy.exp: _C._unary(None, arb.exp),
    sympy.log: _C._log,
    sympy.Abs: _C._abs,
    sympy.sign: _C._sign,
    sympy.Max: _C._maxmin,
    sympy.Min: _C._maxmin,
    sympy.Heaviside: _C._heaviside,
    sympy.DiracDelta: _C._dirac,
    sympy.Piecewise: _C._piecewise,
    sympy.tanh: _C._unary(None, arb.tanh),
    sympy.sinh: _C._unary(None, arb.sinh),
    sympy.cosh: _C._unary(None, arb.cosh),
    sympy.sin: _C._unary(None, arb.sin),
    sympy.cos: _C._unary(None, arb.cos),
    sympy.tan: _C._unary(None, arb.tan),
    sympy.atan: _C._unary(None, arb.atan),
    sympy.asinh: _C._unary(None, arb.asinh),
    sympy.erf: _C._unary(None, arb.erf),
    sympy.erfc: _C._unary(None, arb.erfc),
    sympy.sinc: _C._unary(None, arb.sinc),
    _cf.expm1: _C._unary(None, arb.expm1),
    _cf.log1p: _C._log1p,
    _cf.exp2: _C._exp2,
    _cf.log2: _C._log2,
    sympy.UnevaluatedExpr: _C._identity,
    sympy.re: _C._identity,
    sympy.im: _C._zero_fn,
}


def _prepare(expr, x):
    expr = sympy.sympify(expr)
    if expr.has(sympy.re, sympy.im):
        # x is evaluated on the real line: re(x) = x, im(x) = 0.
        expr = expr.subs({sympy.re(x): x, sympy.im(x): 0}).doit()
    return expr


def compile_arb(expr: sympy.Expr, x: sympy.Symbol) -> CompiledArb:
    """Compile ``expr`` (in the single real symbol ``x``) into a callable
    ``(point, prec) -> arb``.  Raises UnsupportedExpressionError for nodes
    outside the allow-list."""
    return CompiledArb(_prepare(expr, x), x)


_COMPILED: dict = {}


def _compiled(expr, x) -> CompiledArb:
    key = (expr, x)
    c = _COMPILED.get(key)
    if c is None:
        if len(_COMPILED) > 512:
            _COMPILED.clear()
        c = _COMPILED[key] = compile_arb(expr, x)
    return c


# ----------------------------------------------------------------------------
# certified evaluation
def _precisions(p: int, max_prec: int):
    prec = max(64, p + 40)
    out = []
    while prec < max_prec:
        out.append(prec)
        prec *= 2
    out.append(max_prec)
    return out


def _round_fraction(fr: Fraction, p: int, emin: int, emax: int) -> float:
    """Correct rounding of an exact rational (a sticky bit stands for the division's remainder)."""
    if fr == 0:
        return 0.0
    sign = -1 if fr < 0 else 1
    n, d = abs(fr.numerator), fr.denominator
    e = n.bit_length() - d.bit_length() - p - 3
    q, r = divmod(n << -e, d) if e < 0 else divmod(n, d << e)
    man = (q << 1) | (1 if r else 0)
    return _round_exact(sign * man, e - 1, p, emin, emax)


def _exact_rational_value(c: "CompiledArb", xf: float) -> Fraction | None:
    """The exact value of the expression at xf when it is rational (SymPy, time-limited), else None."""
    expr = getattr(c, "expr", None)
    var = getattr(c, "x", None)
    if expr is None or var is None:
        return None
    try:
        value = expr.subs(var, sympy.Rational(*float(xf).as_integer_ratio()))
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if isinstance(value, sympy.Rational):
        return Fraction(int(value.p), int(value.q))
    return None


def _certify_point(c: CompiledArb, xf: float, precs, fmt, ctx_msg) -> float:
    p, emin, emax = fmt
    last = "no finite enclosure"
    for prec in precs:
        try:
            y = c._eval_float(xf, prec)
        except _NeedPrec:
            last = "undecidable branch/sign"
            continue
        except _CertainNaN:
            return math.nan
        except _Singular as exc:
            raise ReferenceEvaluationError(
                f"{ctx_msg}: singular point x={xf!r}: {exc}") from None
        if not y.is_finite():
            last = "non-finite ball"
            continue
        if y.is_exact():
            m, e = y.man_exp()
            return _round_exact(int(m), int(e), p, emin, emax)
        m, e = y.lower().man_exp()
        lo = _round_exact(int(m), int(e), p, emin, emax)
        m, e = y.upper().man_exp()
        hi = _round_exact(int(m), int(e), p, emin, emax)
        if lo == hi:
            if lo == 0.0 and math.copysign(1.0, lo) != math.copysign(1.0, hi):
                return 0.0
            return lo
        last = f"ball {y} not decided"
    exact = _exact_rational_value(c, xf)
    if exact is not None:  # e.g. a tie: x/6 + 1/2 can be exactly halfway between two floats
        return _round_fraction(exact, p, emin, emax)
    raise ReferenceEvaluationError(
        f"{ctx_msg}: cannot certify value at x={xf!r} within {precs[-1]} bits ({last})")


def _cache_dir() -> Path:
    base = os.environ.get("SYMACT_CACHE")
    root = Path(base) if base else Path.home() / ".cache" / "symact"
    return root / "reference"


def _cache_key(expr, x, dt: np.dtype, xs64: np.ndarray) -> str:
    h = hashlib.sha256()
    for part in (_CACHE_VERSION, sympy.srepr(expr), str(x), dt.name, str(xs64.shape)):
        h.update(part.encode())
        h.update(b"\0")
    h.update(np.ascontiguousarray(xs64).tobytes())
    return h.hexdigest()


def _cache_load(path: Path, shape, dt):
    try:
        with open(path, "rb") as fh:
            arr = np.load(fh, allow_pickle=False)
    except Exception:
        return None
    if not isinstance(arr, np.ndarray) or arr.dtype != dt or arr.shape != tuple(shape):
        return None
    return arr


def _cache_store(path: Path, arr: np.ndarray) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".npy")
        try:
            with os.fdopen(fd, "wb") as fh:
                np.save(fh, arr, allow_pickle=False)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    except OSError:
        pass  # caching is best effort


def reference_values(expr: sympy.Expr, x: sympy.Symbol, xs: np.ndarray, dtype, *,
                     max_prec: int = 16384, cache: bool = True) -> np.ndarray:
    """f(xs) correctly rounded (round-to-nearest-even, with subnormals, overflow
    to +-inf) to ``dtype`` (np.float16/float32/float64).

    ``xs``: any float array; values are taken exactly as the binary floats they
    are (float64 or narrower; wider values must be exactly representable in
    float64).  NaN input -> NaN output.  Infinite input -> NaN output: no
    limits are computed, callers must handle +-inf themselves.  Certainly
    undefined points (e.g. sqrt of a negative number) give NaN.

    Raises ReferenceEvaluationError (a ValueError) naming the point if a value
    cannot be certified within ``max_prec`` bits or the point is an exact
    singularity; UnsupportedExpressionError (also a ReferenceEvaluationError
    and a NotImplementedError) for unsupported expression nodes.
    """
    dt, fmt = _fmt(dtype)
    xs_in = np.asarray(xs)
    xs64 = xs_in.astype(np.float64)
    if xs_in.dtype != np.float64:
        same = (xs64 == xs_in) | np.isnan(xs64)
        if not np.all(same):
            raise ValueError("xs values must be exactly representable as float64")
    expr = sympy.sympify(expr)

    path = None
    if cache:
        path = _cache_dir() / (_cache_key(expr, x, dt, xs64) + ".npy")
        hit = _cache_load(path, xs64.shape, dt)
        if hit is not None:
            return hit

    c = _compiled(expr, x)
    precs = _precisions(fmt[0], max_prec)
    flat = xs64.ravel()
    out = np.empty(flat.shape, dtype=np.float64)
    msg = f"reference of {expr} at {dt.name}"
    old = ctx.prec
    try:
        for i, v in enumerate(flat.tolist()):
            if v != v or v in (math.inf, -math.inf):
                out[i] = math.nan
                continue
            out[i] = _certify_point(c, v, precs, fmt, msg)
    finally:
        ctx.prec = old
    res = out.astype(dt).reshape(xs64.shape)  # exact: values already in dt

    if path is not None:
        _cache_store(path, res)
    return res


# ----------------------------------------------------------------------------
# ULP distance
_UINT = {2: np.uint16, 4: np.uint32, 8: np.uint64}


def ulp_distance(got: np.ndarray, ref: np.ndarray, dtype) -> np.ndarray:
    """Elementwise distance in units in the last place of ``dtype``, as float64:
    the number of representable values between ``got`` and ``ref`` (via the
    monotone integer ordering of the bit patterns; +0 and -0 are the same
    point; +-inf is one step beyond the largest finite value).
    Both NaN -> 0; exactly one NaN -> inf.  ``got`` is never cast: if its
    dtype differs from ``dtype`` every element is inf (a dtype mismatch is a
    failure).  ``ref`` is converted to ``dtype``."""
    dt, _ = _fmt(dtype)
    got = np.asarray(got)
    ref = np.asarray(ref)
    shape = np.broadcast_shapes(got.shape, ref.shape)
    if got.dtype != dt:
        return np.full(shape, np.inf, dtype=np.float64)
    ref = ref.astype(dt)
    g, r = np.broadcast_arrays(got, ref)
    ut = _UINT[dt.itemsize]
    gb = np.ascontiguousarray(g).view(ut)
    rb = np.ascontiguousarray(r).view(ut)
    sign_bit = ut(1) << ut(8 * dt.itemsize - 1)
    mask = ~sign_bit
    gm, rm = gb & mask, rb & mask
    gs = (gb & sign_bit) != 0
    rs = (rb & sign_bit) != 0
    same = gs == rs
    absdiff = np.where(gm >= rm, gm - rm, rm - gm)
    d = np.where(same, absdiff, gm + rm).astype(np.float64)
    gn, rn = np.isnan(g), np.isnan(r)
    d = np.where(gn & rn, 0.0, d)
    d = np.where(gn ^ rn, np.inf, d)
    return d.reshape(shape)
