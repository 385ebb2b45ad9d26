"""Proofs that a stable implementation form equals the definition.

``prove_equal(form, target, x)``: both expressions (numbers for all parameters) are split into the
piecewise normal form on a common refinement of their breakpoints. On every open interval the two
branches are shown equal symbolically (simplification, then a derivative-zero argument anchored at
one exact point); at every breakpoint their exact values are compared. An arbitrary-precision spot
check at many points backs each proof. Every symbolic call is time-boxed.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field

import sympy as sp

from .cache import digest, load_json, store_json
from .functions import rewrite_elementary
from .pieces import PiecesError, breakpoints, to_pieces
from .timebox import SymbolicTimeout, timebox

__all__ = ["ProofResult", "prove_equal", "spot_check"]

STEP_SECONDS = 8.0


@dataclass
class ProofResult:
    proven: bool
    methods: list[str] = field(default_factory=list)
    failure: str = ""

    def to_json(self) -> dict:
        return {"proven": self.proven, "methods": self.methods, "failure": self.failure}


def _is_zero(expr: sp.Expr) -> bool:
    """Is expr identically zero? Several simplification strategies, each time-boxed."""
    if expr == 0:
        return True
    strategies = (
        lambda e: sp.expand(e),
        lambda e: sp.cancel(sp.together(e)),
        lambda e: sp.simplify(e),
        lambda e: sp.simplify(sp.expand_log(e.rewrite(sp.exp), force=True)),
        lambda e: sp.simplify(sp.powsimp(sp.expand(e.rewrite(sp.exp)), force=True)),
        lambda e: sp.expand(e.rewrite(sp.erf)),
        lambda e: sp.simplify(e.replace(lambda a: isinstance(a, sp.Pow) and a.exp.is_Rational and not a.exp.is_Integer,
                                        lambda a: sp.Pow(sp.factor(a.base), a.exp))),
    )
    for strategy in strategies:
        try:
            with timebox(STEP_SECONDS):
                if strategy(expr) == 0:
                    return True
        except (SymbolicTimeout, NotImplementedError, TypeError, ValueError, RecursionError, ZeroDivisionError):
            continue
    return False


def _interval_substitutions(x: sp.Symbol, lo, hi) -> list[sp.Expr]:
    """Substitutions of x by a positive symbol t that sweep (lo, hi) (help log/Abs/sqrt simplify)."""
    t = sp.Symbol("t", positive=True)
    if lo != -sp.oo and hi != sp.oo:
        return [lo + t, hi - (hi - lo) / (1 + t)]
    if lo != -sp.oo:
        return [lo + t]
    if hi != sp.oo:
        return [hi - t]
    return []


def _equal_on_interval(f: sp.Expr, g: sp.Expr, x: sp.Symbol, lo, hi) -> str | None:
    """Method name if f == g on the open interval (lo, hi), else None."""
    diff = rewrite_elementary(f - g)
    if _is_zero(diff):
        return "simplify"
    subs = _interval_substitutions(x, lo, hi)
    for sub in subs:
        if _is_zero(diff.subs(x, sub)):
            return "simplify-on-interval"
    # derivative zero on the interval, and the difference vanishes at one exact interior point
    try:
        with timebox(STEP_SECONDS):
            d = sp.diff(diff, x)
    except (SymbolicTimeout, NotImplementedError, TypeError, ValueError):
        return None
    if _is_zero(d) or any(_is_zero(d.subs(x, sub)) for sub in subs):
        at = diff.subs(x, _representative(lo, hi))
        if _is_zero(at):
            return "derivative-zero+anchor"
    return None


def _representative(lo, hi) -> sp.Expr:
    """An exact point inside the open interval (lo, hi)."""
    if lo == -sp.oo and hi == sp.oo:
        return sp.Integer(0)
    if lo == -sp.oo:
        return hi - 1
    if hi == sp.oo:
        return lo + 1
    return (lo + hi) / 2


def _point_equal(f: sp.Expr, g: sp.Expr, x: sp.Symbol, p) -> bool:
    try:
        with timebox(STEP_SECONDS):
            fv, gv = rewrite_elementary(f).subs(x, p), rewrite_elementary(g).subs(x, p)
    except SymbolicTimeout:
        return False
    if fv.has(sp.nan, sp.zoo) or gv.has(sp.nan, sp.zoo):
        return False
    return _is_zero(fv - gv)


def _piece_at(pieces, point):
    for pc in pieces:
        if pc.contains(point):
            return pc.expr
    raise PiecesError(f"no piece contains {point}")


def _no_ite(expr: sp.Expr) -> sp.Expr:
    """ITE(a, b, c) -> (a & b) | (~a & c), for evaluators that know only And/Or/Not."""
    from sympy.logic.boolalg import ITE

    return expr.replace(lambda e: isinstance(e, ITE),
                        lambda e: sp.Or(sp.And(e.args[0], e.args[1]), sp.And(sp.Not(e.args[0]), e.args[2])))


def spot_check(f: sp.Expr, g: sp.Expr, x: sp.Symbol, samples: int = 40, seed: int = 0) -> str:
    """Empty string if f and g agree at random points of several scales, else a message.

    Both sides are evaluated in ball arithmetic, raising precision until each ball is accurate
    to 80 bits; a point where that fails (or a side cannot be evaluated) is skipped, but at least
    half of the points must be decided.
    """
    from .reference import ReferenceEvaluationError, compile_arb

    try:
        cf, cg = compile_arb(_no_ite(rewrite_elementary(f)), x), compile_arb(_no_ite(rewrite_elementary(g)), x)
    except (ReferenceEvaluationError, NotImplementedError) as exc:
        return f"cannot evaluate: {exc}"
    rng = random.Random(seed)
    pts = [sp.Rational(rng.randint(-4000, 4000), 100) for _ in range(samples // 2)]
    pts += [sp.Rational(rng.choice([-1, 1]) * rng.randint(1, 999), 10) * sp.Integer(10) ** rng.randint(-8, 3)
            for _ in range(samples - samples // 2)]
    decided = 0
    for p in pts:
        for prec in (128, 512, 2048):
            try:
                a, b = cf(p, prec), cg(p, prec)
            except (ReferenceEvaluationError, ZeroDivisionError, ValueError, ArithmeticError):
                break
            if not (a.is_finite() and b.is_finite()):
                continue
            if a.rel_accuracy_bits() < 80 or b.rel_accuracy_bits() < 80:
                if a.is_zero() and b.is_zero():
                    decided += 1
                    break
                continue
            decided += 1
            scale = max(abs(a.mid()), abs(b.mid()))
            if abs(a.mid() - b.mid()) > scale * 2.0 ** -70:
                return f"at x={p}: {a.mid()} vs {b.mid()}"
            break
    if decided < len(pts) // 2:
        return f"only {decided} of {len(pts)} points could be evaluated"
    return ""


def prove_equal(form: sp.Expr, target: sp.Expr, x: sp.Symbol, use_cache: bool = True) -> ProofResult:
    """Prove form == target for every real x (all parameters must already be numbers)."""
    key = digest("prove_equal.v3", sp.srepr(form), sp.srepr(target), str(x))
    if use_cache:
        hit = load_json("proofs", key)
        if hit is not None:
            return ProofResult(hit["proven"], hit["methods"], hit["failure"])
    result = _prove(form, target, x)
    if use_cache and result.proven:
        store_json("proofs", key, result.to_json())
    return result


def _prove(form: sp.Expr, target: sp.Expr, x: sp.Symbol) -> ProofResult:
    form, target = rewrite_elementary(form), rewrite_elementary(target)
    try:
        with timebox(4 * STEP_SECONDS):
            fp, tp = to_pieces(form, x), to_pieces(target, x)
            pts = sorted(set(breakpoints(form, x)) | set(breakpoints(target, x)), key=float)
    except (PiecesError, SymbolicTimeout) as exc:
        return ProofResult(False, failure=f"cannot split into pieces: {exc}")
    edges = [-sp.oo] + pts + [sp.oo]
    methods: set[str] = set()
    for i in range(len(edges) - 1):
        lo, hi = edges[i], edges[i + 1]
        rep = _representative(lo, hi)
        f, g = _piece_at(fp, rep), _piece_at(tp, rep)
        method = _equal_on_interval(f, g, x, lo, hi)
        if method is None:
            return ProofResult(False, sorted(methods), f"could not prove {f} == {g} on ({lo}, {hi})")
        methods.add(method)
        if hi != sp.oo:
            f, g = _piece_at(fp, hi), _piece_at(tp, hi)
            if not _point_equal(f, g, x, hi):
                return ProofResult(False, sorted(methods), f"values differ at x = {hi}: {f} vs {g}")
            methods.add("exact-at-breakpoints")
    try:
        with timebox(4 * STEP_SECONDS):
            msg = spot_check(form, target, x)
    except SymbolicTimeout:
        msg = "timed out"
    if msg:
        return ProofResult(False, sorted(methods), f"spot check failed {msg}")
    methods.add("ball-arithmetic-spot-check")
    return ProofResult(True, sorted(methods))
