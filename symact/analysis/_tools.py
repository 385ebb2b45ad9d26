"""Shared machinery of the analysis: a time budget for symbolic calls, exact/numeric quantities,
numeric evaluation of pieces (mpmath), root finding (solveset under a cap, else a sign-change scan)."""
from __future__ import annotations

import time
from dataclasses import dataclass

import mpmath
import numpy as np
import sympy as sp

from ..activation import X
from ..pieces import Piece
from ..timebox import SymbolicTimeout, timebox

#: half-width of the window scanned numerically when a symbolic answer is not available
WINDOW = 40.0
#: grid points of a numeric scan
GRID = 4000
DPS = 30

_FAIL = object()

RANK = {"symbolic": 0, "certified": 1, "numeric": 2, "unknown": 3}


def weakest(*provs: str) -> str:
    """The least trustworthy of several provenances."""
    return max(provs, key=lambda p: RANK[p]) if provs else "symbolic"


class Budget:
    """A total time allowance for the symbolic calls of one analysis; each call also has its own cap."""

    def __init__(self, total: float):
        self.deadline = time.monotonic() + total

    def remaining(self) -> float:
        return self.deadline - time.monotonic()

    def run(self, fn, cap: float):
        """fn() in a time box of min(cap, remaining); _FAIL on timeout, exhaustion or a SymPy failure."""
        seconds = min(cap, self.remaining())
        if seconds < 0.05:
            return _FAIL
        try:
            with timebox(seconds):
                return fn()
        except SymbolicTimeout:
            return _FAIL
        except (RecursionError, NotImplementedError, TypeError, ValueError, AttributeError, ZeroDivisionError,
                IndexError, KeyError, sp.PolynomialError):
            return _FAIL


def failed(value) -> bool:
    return value is _FAIL


# --- quantities -------------------------------------------------------------------------------------
def is_exact_number(e) -> bool:
    return isinstance(e, sp.Basic) and e.is_number and not e.has(sp.nan, sp.zoo, sp.AccumBounds, sp.Limit)


def to_mpf(e):
    """An mpf (or +-inf) from a SymPy number, an mpf or a float; None when not a real number."""
    if e is None:
        return None
    if isinstance(e, sp.Basic):
        if e == sp.oo:
            return mpmath.inf
        if e == -sp.oo:
            return -mpmath.inf
        if not is_exact_number(e):
            return None
        v = e.evalf(DPS)
        if not v.is_real:
            try:
                c = complex(v)
            except TypeError:
                return None
            if abs(c.imag) > 1e-25:
                return None
            return mpmath.mpf(c.real)
        return mpmath.mpf(str(v)) if v.is_Float or v.is_Integer or v.is_Rational else mpmath.mpf(float(v))
    return mpmath.mpf(e)


def quantity(exact=None, value=None) -> dict | None:
    """{"exact": sympy str or None, "value": float or None (None for infinities)}."""
    if exact is None and value is None:
        return None
    if exact is not None:
        exact = sp.nsimplify(exact) if isinstance(exact, float) else exact
        if exact in (sp.oo, -sp.oo):
            return {"exact": str(exact), "value": None}
        v = to_mpf(exact)
        return {"exact": str(exact), "value": float(v) if v is not None else None}
    v = mpmath.mpf(value)
    if mpmath.isinf(v):
        return {"exact": "oo" if v > 0 else "-oo", "value": None}
    return {"exact": None, "value": float(v)}


@dataclass
class Num:
    """A number known exactly (``exact``) or only numerically (``value``); ``value`` is always set."""

    value: object  # mpf, may be +-inf
    exact: sp.Expr | None = None

    @classmethod
    def of(cls, e):
        if isinstance(e, Num):
            return e
        if isinstance(e, sp.Basic):
            v = to_mpf(e)
            return None if v is None else cls(v, e)
        return cls(mpmath.mpf(e), None)

    def q(self) -> dict:
        return quantity(self.exact, None) if self.exact is not None else quantity(None, self.value)


# --- numeric evaluation ---------------------------------------------------------------------------------
class NumericPieces:
    """Evaluate a list of pieces with mpmath (the piece holding the point gives the value)."""

    def __init__(self, pieces: list[Piece]):
        self.pieces = pieces
        self.funcs = [sp.lambdify(X, p.expr, modules="mpmath") for p in pieces]
        self.bounds = [(to_mpf(p.lo), to_mpf(p.hi)) for p in pieces]

    def index(self, t) -> int:
        for i, (p, (lo, hi)) in enumerate(zip(self.pieces, self.bounds)):
            if lo < t < hi or (t == lo and p.lo_closed) or (t == hi and p.hi_closed):
                return i
        return len(self.pieces) - 1

    def __call__(self, t):
        t = mpmath.mpf(t)
        return self.eval_piece(self.index(t), t)

    def eval_piece(self, i: int, t):
        with mpmath.workdps(DPS):
            try:
                v = self.funcs[i](mpmath.mpf(t))
            except (ZeroDivisionError, ValueError, OverflowError):
                return mpmath.nan
            if isinstance(v, mpmath.mpc):
                v = v.real if abs(v.imag) < mpmath.mpf(10) ** (-DPS + 5) else mpmath.nan
            return mpmath.mpf(v)


def window(lo, hi, width: float = WINDOW):
    a = max(to_mpf(lo), mpmath.mpf(-width))
    b = min(to_mpf(hi), mpmath.mpf(width))
    return a, b


def scan_roots(fn, lo, hi, n: int = GRID, width: float = WINDOW, fn_np=None) -> list:
    """Sign changes of fn on the open interval (lo, hi) within [-width, width], refined in mpmath.

    The grid is evaluated with fn_np (NumPy, float64) when given; every bracket is re-checked with
    fn (mpmath) before refinement, so float64 noise in flat tails does not make roots."""
    a, b = window(lo, hi, width)
    if not a < b:
        return []
    eps = (b - a) * mpmath.mpf(10) ** -9
    ga, gb = float(a + eps), float(b - eps)
    grid = np.linspace(ga, gb, n)
    vals = None
    if fn_np is not None:
        try:
            with np.errstate(all="ignore"):
                vals = np.asarray(fn_np(grid), dtype=float) * np.ones_like(grid)
        except Exception:  # noqa: BLE001 - any NumPy failure: evaluate with mpmath instead
            vals = None
    with mpmath.workdps(DPS):
        if vals is None:
            vals = np.array([float(fn(mpmath.mpf(t))) for t in grid])
        else:
            bad = ~np.isfinite(vals)
            for i in np.flatnonzero(bad):
                vals[i] = float(fn(mpmath.mpf(grid[i])))
        out = []
        sg = np.sign(vals)
        brackets = list(np.flatnonzero(sg[:-1] * sg[1:] < 0))
        # an exact zero on the grid counts only between values of opposite signs (flat tails round to 0)
        zeros = np.flatnonzero(sg[1:-1] == 0) + 1
        brackets += [i - 1 for i in zeros if sg[i - 1] * sg[i + 1] < 0]
        for i in sorted(set(brackets)):
            j = i + 2 if sg[i + 1] == 0 else i + 1
            u, v = mpmath.mpf(grid[i]), mpmath.mpf(grid[j])
            fu, fv = fn(u), fn(v)
            if mpmath.isnan(fu) or mpmath.isnan(fv) or not fu * fv < 0:
                continue  # float64 noise: mpmath sees no sign change
            out.append(_refine(fn, u, v, fu))
        return out


def _refine(fn, a, b, fa):
    try:
        r = mpmath.findroot(fn, (a, b), solver="anderson", tol=mpmath.mpf(10) ** (-DPS + 4))
        if a <= r <= b:
            return r
    except (ValueError, ZeroDivisionError):
        pass
    return _bisect(fn, a, b, fa)


def _bisect(fn, a, b, fa):
    for _ in range(110):
        m = (a + b) / 2
        fm = fn(m)
        if fm == 0 or mpmath.isnan(fm):
            return m
        if (fm < 0) == (fa < 0):
            a, fa = m, fm
        else:
            b = m
    return (a + b) / 2


def roots(budget: Budget, g: sp.Expr, piece: Piece, cap: float = 3.0):
    """Zeros of g inside the open interval of piece: (list of Num, provenance).

    Exact when solveset returns a finite set within its cap; otherwise a numeric scan
    (which sees sign changes only, within the scan window)."""
    if piece.is_point:
        return [], "symbolic"
    if not g.has(X):
        return [], "symbolic"  # a constant: the caller handles a zero constant
    interval = sp.Interval.open(piece.lo, piece.hi)
    res = budget.run(lambda: sp.solveset(g, X, interval), cap)
    if not failed(res):
        if res is sp.S.EmptySet:
            return [], "symbolic"
        if isinstance(res, sp.FiniteSet) and all(is_exact_number(e) for e in res):
            out = [Num.of(e) for e in res]
            if all(o is not None for o in out):
                return sorted(out, key=lambda o: o.value), "symbolic"
    gf = sp.lambdify(X, g, modules="mpmath")

    def fn(t):
        try:
            v = gf(t)
        except (ZeroDivisionError, ValueError, OverflowError):
            return mpmath.nan
        if isinstance(v, mpmath.mpc):
            return v.real
        return mpmath.mpf(v)

    return [Num(r) for r in scan_roots(fn, piece.lo, piece.hi, fn_np=numpy_function(g))], "numeric"


def numpy_function(e: sp.Expr):
    """A float64 NumPy evaluator of e (SciPy for erf and friends), or None."""
    try:
        return sp.lambdify(X, e, modules=["scipy", "numpy"])
    except Exception:  # noqa: BLE001 - printing failures mean: use mpmath
        return None
