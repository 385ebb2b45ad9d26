"""Piecewise normal form: an expression in x as smooth pieces on intervals.

``to_pieces(expr, x)`` rewrites Max/Min/Abs/sign/Heaviside/Piecewise into pieces
[(expr_i, interval_i)] whose intervals partition the real line, ordered left to right, with no
Piecewise (or kink function) left inside a piece. It never differentiates Max/Min/Heaviside: the
value of a derivative at a breakpoint is the derivative of the piece that contains the point.
All parameters must already be numbers. Imports nothing of symact's.
"""
from __future__ import annotations

from dataclasses import dataclass

import sympy as sp
from sympy.logic.boolalg import BooleanFalse, BooleanTrue

__all__ = ["Piece", "to_pieces", "pieces_to_piecewise", "breakpoints", "derivative_pieces", "PiecesError"]

_KINKY = (sp.Max, sp.Min, sp.Abs, sp.sign, sp.Heaviside, sp.Piecewise)


class PiecesError(ValueError):
    """The expression could not be split into pieces."""


@dataclass(frozen=True)
class Piece:
    """expr on the interval from lo to hi (lo/hi may be -oo/oo; a single point when lo == hi)."""

    expr: sp.Expr
    lo: sp.Expr
    hi: sp.Expr
    lo_closed: bool
    hi_closed: bool

    @property
    def interval(self) -> sp.Set:
        return sp.Interval(self.lo, self.hi, not self.lo_closed, not self.hi_closed)

    @property
    def is_point(self) -> bool:
        return self.lo == self.hi

    def contains(self, point) -> bool:
        if point < self.lo or point > self.hi:
            return False
        if point == self.lo and not self.lo_closed:
            return False
        if point == self.hi and not self.hi_closed:
            return False
        return True

    def condition(self, x: sp.Symbol) -> sp.Basic:
        """The interval as a relational in x."""
        if self.is_point:
            return sp.Eq(x, self.lo)
        parts = []
        if self.lo != -sp.oo:
            parts.append(x >= self.lo if self.lo_closed else x > self.lo)
        if self.hi != sp.oo:
            parts.append(x <= self.hi if self.hi_closed else x < self.hi)
        return sp.And(*parts) if parts else sp.true


def _rewrite(expr: sp.Expr) -> sp.Expr:
    expr = expr.replace(lambda e: isinstance(e, sp.UnevaluatedExpr), lambda e: e.args[0])
    expr = expr.replace(lambda e: isinstance(e, sp.sinc), lambda e: sp.Piecewise((1, sp.Eq(e.args[0], 0)), (sp.sin(e.args[0]) / e.args[0], True)))
    return expr.rewrite(sp.Piecewise)


def breakpoints(expr: sp.Expr, x: sp.Symbol) -> list[sp.Expr]:
    """Sorted real points where a condition inside expr may change value."""
    expr = _rewrite(expr)
    points: set = set()
    for rel in expr.atoms(sp.core.relational.Relational):
        if x not in rel.free_symbols:
            continue
        if rel.free_symbols - {x}:
            raise PiecesError(f"condition {rel} has symbols other than {x}")
        try:
            s = rel.as_set()
        except (NotImplementedError, TypeError, ValueError) as exc:
            raise PiecesError(f"cannot solve condition {rel}: {exc}") from exc
        points.update(p for p in s.boundary if p.is_real and p.is_finite)
    return sorted(points, key=lambda p: float(p))


def _branch_at(expr: sp.Expr, x: sp.Symbol, point) -> sp.Expr:
    """The Piecewise-free branch of expr active at `point` (conditions decided exactly)."""
    rels = {rel: bool(rel.subs(x, point)) for rel in expr.atoms(sp.core.relational.Relational) if x in rel.free_symbols}
    out = expr.xreplace({r: (sp.true if v else sp.false) for r, v in rels.items()})
    # collapse Piecewise/ITE whose conditions are now constant
    while True:
        new = out.replace(lambda e: isinstance(e, sp.Piecewise), _first_true_branch)
        if new == out:
            break
        out = new
    if out.has(sp.Piecewise):
        raise PiecesError(f"undecided condition in {expr} at {point}")
    return out


def _first_true_branch(pw: sp.Piecewise) -> sp.Expr:
    for e, c in pw.args:
        c = sp.simplify_logic(c) if not isinstance(c, (BooleanTrue, BooleanFalse)) else c
        if c == sp.true:
            return e
        if c != sp.false:
            return pw
    return sp.nan


def to_pieces(expr: sp.Expr, x: sp.Symbol) -> list[Piece]:
    """Split expr into smooth pieces over the real line (see module docstring)."""
    expr = sp.sympify(expr)
    if expr.free_symbols - {x}:
        raise PiecesError(f"unbound symbols {sorted(map(str, expr.free_symbols - {x}))}; substitute parameters first")
    rewritten = _rewrite(expr)
    pts = breakpoints(rewritten, x)
    if not pts:
        return [Piece(_branch_at(rewritten, x, sp.Integer(0)), -sp.oo, sp.oo, False, False)]
    # regions left to right as [expr, a, b, left_closed, right_closed]
    regions: list[list] = []
    edges = [-sp.oo] + pts + [sp.oo]
    for i in range(len(edges) - 1):
        a, b = edges[i], edges[i + 1]
        rep = b - 1 if a == -sp.oo else (a + 1 if b == sp.oo else (a + b) / 2)
        regions.append([_branch_at(rewritten, x, rep), a, b, False, False])
        if b != sp.oo:
            regions.append([_branch_at(rewritten, x, b), b, b, True, True])
    # a breakpoint joins the neighbour with the same expression (left first); equal neighbours merge
    merged: list[list] = []
    for k, reg in enumerate(regions):
        e, a, b = reg[0], reg[1], reg[2]
        if a == b:
            left = merged[-1][0] if merged else None
            right = regions[k + 1][0] if k + 1 < len(regions) else None
            if left is not None and left == e:
                merged[-1][2], merged[-1][4] = b, True
                continue
            if right is not None and right == e:
                pass
            elif left is not None and _same(left, e, x, a):
                merged[-1][2], merged[-1][4] = b, True
                continue
            elif right is not None and _same(right, e, x, a):
                e = right
        elif merged and merged[-1][0] == e:
            merged[-1][2], merged[-1][4] = b, reg[4]
            continue
        merged.append([e, a, b, reg[3], reg[4]])
    return [Piece(e, a, b, lc, rc) for e, a, b, lc, rc in merged]


def _same(e1: sp.Expr, e2: sp.Expr, x: sp.Symbol, point) -> bool:
    """Do e1 and e2 take the same value at `point`?"""
    try:
        return sp.simplify(e1.subs(x, point) - e2.subs(x, point)) == 0
    except (TypeError, ValueError, ZeroDivisionError):
        return False


def pieces_to_piecewise(pieces: list[Piece], x: sp.Symbol) -> sp.Expr:
    """Back to one SymPy expression; conditions taken from the intervals, left to right."""
    if len(pieces) == 1:
        return pieces[0].expr
    args = []
    for p in pieces[:-1]:
        if p.is_point:
            cond = sp.Eq(x, p.lo)
        else:
            cond = (x <= p.hi) if p.hi_closed else (x < p.hi)
        args.append((p.expr, cond))
    args.append((pieces[-1].expr, True))
    return sp.Piecewise(*args, evaluate=False)


def derivative_pieces(pieces: list[Piece], x: sp.Symbol, n: int = 1) -> list[Piece]:
    """Differentiate each piece; the value at a breakpoint is that of the piece holding it."""
    return [Piece(sp.diff(p.expr, x, n), p.lo, p.hi, p.lo_closed, p.hi_closed) for p in pieces]
