"""Building blocks shared by the catalog's definitions and stable forms."""
from __future__ import annotations

import sympy as sp

from ..activation import X, Y, Param
from ..functions import fclip, mask

__all__ = ["X", "Y", "Param", "BIG", "R", "PW", "sigmoid_stable", "sigmoid_neg_stable", "positive", "nonnegative",
           "tail", "clip", "ISRU_OVERFLOW"]

#: isru and isrlu: why an overflow is the right answer
ISRU_OVERFLOW = ("df/dalpha -> -sign(x) alpha^(-3/2)/2 as |x| grows, beyond the largest float for small alpha "
                 "(float32: alpha < 1.3e-26): +-inf is then the correctly rounded value")

#: tail-guard bound: beyond 2**60 every guarded expression has reached its floating-point limit
BIG = sp.Integer(2) ** 60
R = sp.Rational
PW = sp.Piecewise
positive = sp.Interval.open(0, sp.oo)
nonnegative = sp.Interval(0, sp.oo)


def sigmoid_stable(t: sp.Expr, e: sp.Expr | None = None) -> sp.Expr:
    """1/(1 + e^-t) = e^min(t, 0)/(1 + e^-|t|): never overflows, and branch-free (no np.where).

    e^min(t, 0) = max(e^-|t|, [t >= 0]) (1 for t >= 0, where e^-|t| <= 1): one exponential.
    e: e^-|t| when the caller computes it otherwise (from an exact product, say).
    """
    e = sp.exp(-sp.Abs(t)) if e is None else e
    return sp.Max(e, mask(t >= 0)) / (1 + e)


def sigmoid_neg_stable(t: sp.Expr) -> sp.Expr:
    """1/(1 + e^t) = sigmoid(-t) = e^-max(t, 0)/(1 + e^-|t|), e^-max(t, 0) = max(e^-|t|, [t <= 0])."""
    e = sp.exp(-sp.Abs(t))
    return sp.Max(e, mask(t <= 0)) / (1 + e)


def tail(x: sp.Expr = X, lo=-BIG, hi=BIG) -> sp.Expr:
    """Tail guard (see symact.functions.fclip)."""
    return fclip(x, lo, hi)


def clip(x: sp.Expr, lo, hi) -> sp.Expr:
    """The mathematical clamp min(max(x, lo), hi)."""
    return sp.Min(sp.Max(x, lo), hi)
