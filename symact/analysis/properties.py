"""The properties of one activation, computed from its piecewise normal form.

Every symbolic step runs under a per-call cap inside a total budget (``Budget``); when a step fails
or runs out of time the property is computed numerically (mpmath) and its provenance says so.
Conventions chosen here (the design leaves them open):

- ``max_abs_derivative.at``: the point where sup|f'| is attained, when it is attained at isolated
  points (the one of smallest |x|, the positive one on a tie). ``null`` when sup|f'| is attained on a
  whole interval (relu: f' = 1 on (0, oo)) or only approached (a limit at +-oo or at a kink).
- ``kinks``: breakpoints where the one-sided limits of f' differ (also where f itself jumps).
- ``zero_centered``: f(0) = 0 and the range contains values of both signs (lower < 0 < upper).
- ``identity_near_origin``: f(0) = 0 and f is differentiable at 0 with f'(0) = 1 (both one-sided limits).
- ``active_region``: the smallest interval containing {x : |f'(x)| >= sup|f'| / 2}.
- ``saturation`` onset: the smallest interval containing {x : |f'(x)| >= sup|f'| / 100}, its end on that side.
- ``collapse.piecewise_linear``: every piece is affine (jumps allowed, so binary_step counts).
- ``cost``: over the common-subexpression-eliminated elementary form of the implementation: ``operations``
  counts + - * / pow sqrt, comparisons/selections and function calls; ``transcendental`` counts calls of
  exp, log, the trigonometric/hyperbolic functions and their inverses, erf/erfc (sqrt and abs are not).
"""
from __future__ import annotations

import math

import mpmath
import sympy as sp

from ..activation import Activation, X
from ..functions import rewrite_elementary
from ..pieces import Piece, derivative_pieces, pieces_to_piecewise, to_pieces
from ._tools import DPS, WINDOW, Budget, Num, NumericPieces, failed, quantity, roots, scan_roots, to_mpf, weakest

x = X
TOTAL_BUDGET = 5.0
MAX_ORDER = 4
_TRANSCENDENTAL = (sp.exp, sp.log, sp.sin, sp.cos, sp.tan, sp.sinh, sp.cosh, sp.tanh, sp.asin, sp.acos, sp.atan,
                   sp.asinh, sp.acosh, sp.atanh, sp.erf, sp.erfc, sp.LambertW)


def _close(a, b) -> bool:
    if mpmath.isinf(a) or mpmath.isinf(b):
        return a == b
    return abs(a - b) <= mpmath.mpf(10) ** (-DPS + 8) * (1 + abs(a) + abs(b))


class Analyzer:
    def __init__(self, act: Activation, budget: float = TOTAL_BUDGET):
        self.act = act
        self.budget = Budget(budget)
        self.prov: dict[str, str] = {}
        self.pieces = act.pieces()
        self.d1 = derivative_pieces(self.pieces, x, 1)
        self.d2 = derivative_pieces(self.pieces, x, 2)
        self.f = NumericPieces(self.pieces)
        self.fp = NumericPieces(self.d1)
        self.breaks = [p.hi for p in self.pieces[:-1] if not p.is_point]
        self._simplified: dict = {}

    # --- helpers ------------------------------------------------------------------------------------
    def simplify(self, e: sp.Expr, cap: float = 2.0) -> sp.Expr:
        if e in self._simplified:
            return self._simplified[e]
        r = self.budget.run(lambda: sp.simplify(e), cap)
        r = e if failed(r) else r
        self._simplified[e] = r
        return r

    def is_zero(self, e: sp.Expr, samples=(-3.25, -0.75, 0.5, 1.375, 2.5)):
        """(True/False/None, provenance) for 'e == 0 identically in x'."""
        if e == 0:
            return True, "symbolic"
        f = sp.lambdify(x, e, modules="mpmath")
        with mpmath.workdps(DPS):
            for s in samples:
                try:
                    v = f(mpmath.mpf(s))
                except (ZeroDivisionError, ValueError, OverflowError):
                    continue
                if abs(v) > mpmath.mpf(10) ** (-DPS + 8):
                    return False, "certified"
        s = self.simplify(e)
        if s == 0:
            return True, "symbolic"
        return True, "numeric"

    def limit(self, expr: sp.Expr, point, direction: str = "+"):
        """(Num or None, provenance): None when the limit does not exist (AccumBounds)."""
        if point not in (sp.oo, -sp.oo):
            v = expr.subs(x, point)
            n = Num.of(v) if v.is_number and v.is_finite else None
            if n is not None:
                return n, "symbolic"
        res = self.budget.run(lambda: sp.limit(expr, x, point, direction), 2.5)
        if not failed(res):
            if isinstance(res, sp.AccumBounds):
                return None, "symbolic"
            n = Num.of(res)
            if n is not None and (n.exact is None or not n.exact.has(sp.Limit)):
                return n, "symbolic"
        return self._numeric_limit(expr, point, direction)

    def _numeric_limit(self, expr, point, direction):
        f = sp.lambdify(x, expr, modules="mpmath")
        with mpmath.workdps(DPS):
            if point in (sp.oo, -sp.oo):
                sgn = 1 if point == sp.oo else -1
                ts = [sgn * mpmath.mpf(10) ** k for k in (4, 8, 12)]
            else:
                s = 1 if direction == "+" else -1
                ts = [to_mpf(point) + s * mpmath.mpf(10) ** -k for k in (8, 12, 16)]
            try:
                vs = [mpmath.mpf(mpmath.re(f(t))) for t in ts]
            except (ZeroDivisionError, ValueError, OverflowError):
                return None, "unknown"
        if abs(vs[2] - vs[1]) < mpmath.mpf(10) ** -7 * (1 + abs(vs[1])):
            return Num(vs[2]), "numeric"
        if abs(vs[2]) > 1e6 * (1 + abs(vs[0])) and (vs[2] > 0) == (vs[1] > 0):
            return Num(mpmath.inf if vs[2] > 0 else -mpmath.inf, sp.oo if vs[2] > 0 else -sp.oo), "numeric"
        return None, "unknown"

    def value_at(self, pieces: list[Piece], point) -> Num:
        for p in pieces:
            if p.contains(point):
                v = p.expr.subs(x, point)
                n = Num.of(v)
                if n is not None:
                    return n
                n, _ = self.limit(p.expr, point, "+")
                return n
        raise ValueError(point)

    # --- basic ---------------------------------------------------------------------------------------
    def f0(self):
        self.f0_num = self.value_at(self.pieces, sp.Integer(0))
        self.prov["f0"] = "symbolic"
        return self.f0_num.q()

    def limits(self):
        out, provs = {}, []
        self.lim = {}
        for key, pt, piece in (("-oo", -sp.oo, self.pieces[0]), ("+oo", sp.oo, self.pieces[-1])):
            n, pv = self.limit(piece.expr, pt)
            self.lim[key] = n
            out[key] = n.q() if n is not None else None
            provs.append(pv)
        self.prov["limits"] = weakest(*provs)
        out2, provs = {}, []
        self.dlim = {}
        for key, pt, piece in (("-oo", -sp.oo, self.d1[0]), ("+oo", sp.oo, self.d1[-1])):
            n, pv = self.limit(piece.expr, pt)
            self.dlim[key] = n
            out2[key] = n.q() if n is not None else None
            provs.append(pv)
        self.prov["derivative_limits"] = weakest(*provs)
        return out, out2

    # --- extrema of a list of pieces --------------------------------------------------------------------
    def extrema(self, pieces: list[Piece], dpieces: list[Piece], ends: dict, absolute: bool):
        """Candidates (Num value, attained, at: Num|None, isolated) for the extremes of pieces (|.| if absolute)."""
        cands, provs = [], []
        fix = (lambda n: Num(abs(n.value), sp.Abs(n.exact) if n.exact is not None else None)) if absolute else (lambda n: n)
        for i, (p, dp) in enumerate(zip(pieces, dpieces)):
            if p.is_point:
                if absolute:
                    continue  # the derivative of a point piece is a convention, not an extremum
                n = Num.of(p.expr.subs(x, p.lo))
                cands.append((fix(n), True, Num.of(p.lo), True))
                continue
            if not p.expr.has(x):
                n = Num.of(p.expr)
                cands.append((fix(n), True, None, False))
                continue
            for side, pt, closed in (("lo", p.lo, p.lo_closed), ("hi", p.hi, p.hi_closed)):
                if pt in (sp.oo, -sp.oo):
                    n = ends.get("-oo" if pt == -sp.oo else "+oo", "missing")
                    if n == "missing":
                        n, pv = self.limit(p.expr, pt)
                        provs.append(pv)
                    if n is None:
                        continue  # no limit (oscillation): the critical points carry the extremes
                    cands.append((fix(n), False, None, False))
                elif closed:
                    n = Num.of(p.expr.subs(x, pt))
                    if n is None:
                        n, pv = self.limit(p.expr, pt, "+" if side == "lo" else "-")
                        provs.append(pv)
                    if n is not None:
                        cands.append((fix(n), True, Num.of(pt), True))
                else:
                    n, pv = self.limit(p.expr, pt, "+" if side == "lo" else "-")
                    provs.append(pv)
                    if n is not None:
                        cands.append((fix(n), False, None, False))
            rs, pv = roots(self.budget, dp.expr, p)
            provs.append(pv)
            for r in rs:
                if r.exact is not None:
                    v = Num.of(self.simplify(p.expr.subs(x, r.exact), 1.0))
                else:
                    v = Num(self.fp_or_f(pieces, i, r.value))
                if v is not None:
                    cands.append((fix(v), True, r, True))
        return cands, weakest(*provs) if provs else "symbolic"

    def fp_or_f(self, pieces, i, t):
        ev = self.f if pieces is self.pieces else self.fp
        return ev.eval_piece(i, t)

    def range(self):
        ends = {"-oo": self.lim["-oo"], "+oo": self.lim["+oo"]}
        cands, pv = self.extrema(self.pieces, self.d1, ends, absolute=False)
        if self.lim["-oo"] is None or self.lim["+oo"] is None:
            pv = weakest(pv, "numeric") if any(c[3] for c in cands) else "unknown"
        lo = min(c[0].value for c in cands)
        hi = max(c[0].value for c in cands)
        lo_c = [c for c in cands if _close(c[0].value, lo)]
        hi_c = [c for c in cands if _close(c[0].value, hi)]
        lower = _best(lo_c)
        upper = _best(hi_c)
        if mpmath.isinf(lo):
            pv_lo = "symbolic"
        else:
            pv_lo = pv
        if mpmath.isinf(hi):
            pv_hi = "symbolic"
        else:
            pv_hi = pv
        self.range_num = (lower, upper)
        self.prov["range"] = weakest(pv_lo, pv_hi)
        self.crit_prov = pv
        return {"lower": lower.q(), "upper": upper.q(), "lower_closed": any(c[1] for c in lo_c) and not mpmath.isinf(lo),
                "upper_closed": any(c[1] for c in hi_c) and not mpmath.isinf(hi)}

    def max_abs_derivative(self):
        ends = {k: (Num(abs(v.value), sp.Abs(v.exact) if v.exact is not None else None) if v is not None else None)
                for k, v in self.dlim.items()}
        cands, pv = self.extrema(self.d1, self.d2, ends, absolute=True)
        if not cands:
            self.prov["max_abs_derivative"] = "unknown"
            self.sup = None
            return {"value": None, "at": None}
        top = max(c[0].value for c in cands)
        best = [c for c in cands if _close(c[0].value, top)]
        value = _best(best)
        if value.exact is not None:
            value = Num(value.value, self.simplify(value.exact, 1.0))
        at = None
        if all(c[3] for c in best):
            pts = [c[2] for c in best if c[2] is not None]
            if pts:
                at = min(pts, key=lambda n: (abs(n.value), -n.value))
        if (self.dlim["-oo"] is None or self.dlim["+oo"] is None) and pv == "symbolic":
            pv = "numeric"  # an oscillating f': the scan window carries the sup
        self.sup = value
        self.prov["max_abs_derivative"] = pv
        return {"value": value.q(), "at": at.q() if at is not None else None}

    # --- smoothness -----------------------------------------------------------------------------------
    def continuity(self):
        self.kinks_list = []
        if not self.breaks:
            self.prov["continuity"] = "symbolic"
            self.prov["kinks"] = "symbolic"
            self.jumps = []
            return "Cinf", []
        provs = []
        order = None  # the highest k with f^(k) continuous everywhere
        same_expr_everywhere = True
        self.jumps = []  # (point, left Num, value Num, right Num)
        for b in self.breaks:
            left_p = next(p for p in reversed(self.pieces) if not p.is_point and p.hi == b)
            right_p = next(p for p in self.pieces if not p.is_point and p.lo == b)
            if left_p.expr != right_p.expr:
                same_expr_everywhere = False
            k_ok = -1
            for k in range(0, MAX_ORDER + 1):
                le, re_ = sp.diff(left_p.expr, x, k), sp.diff(right_p.expr, x, k)
                ln, p1 = self.limit(le, b, "-")
                rn, p2 = self.limit(re_, b, "+")
                provs += [p1, p2]
                if ln is None or rn is None:
                    provs.append("unknown")
                    break
                eq = _close(ln.value, rn.value)
                if k == 0:
                    val = self.value_at(self.pieces, b)
                    if not (eq and _close(val.value, ln.value)):
                        self.jumps.append((b, ln, val, rn))
                        eq = False
                if k == 1 and not eq:
                    self.kinks_list.append(Num.of(b))
                if k == 1 and eq is False and not self.kinks_list[-1:]:
                    pass
                if not eq:
                    break
                k_ok = k
            if k == 0 and k_ok < 0:
                # f jumps: still look at f' for the kink list
                ln, _ = self.limit(sp.diff(left_p.expr, x), b, "-")
                rn, _ = self.limit(sp.diff(right_p.expr, x), b, "+")
                if ln is not None and rn is not None and not _close(ln.value, rn.value):
                    self.kinks_list.append(Num.of(b))
            order = k_ok if order is None else min(order, k_ok)
        pv = weakest(*provs) if provs else "symbolic"
        pv = "symbolic" if pv == "certified" else pv
        self.prov["kinks"] = pv
        if order < 0:
            cls = "discontinuous"
        elif order == MAX_ORDER:
            cls = "Cinf" if same_expr_everywhere else f"C{MAX_ORDER}"
            if not same_expr_everywhere:
                pv = "unknown"  # at least C^MAX_ORDER: the class beyond is not decided
        else:
            cls = f"C{order}"
        self.prov["continuity"] = pv
        return cls, [k.q() for k in self.kinks_list]

    def monotonic(self):
        signs, provs = set(), []
        for i, (p, dp) in enumerate(zip(self.pieces, self.d1)):
            if p.is_point:
                continue
            if not dp.expr.has(x):
                c = to_mpf(dp.expr)
                signs.add(0 if c == 0 else (1 if c > 0 else -1))
                continue
            rs, pv = roots(self.budget, dp.expr, p)
            provs.append(pv)
            a, b = to_mpf(p.lo), to_mpf(p.hi)
            pts = [r.value for r in rs]
            edges = [a] + pts + [b]
            for j in range(len(edges) - 1):
                u, v = edges[j], edges[j + 1]
                if mpmath.isinf(u) and mpmath.isinf(v):
                    m = mpmath.mpf(0.3)
                elif mpmath.isinf(u):
                    m = v - 1
                elif mpmath.isinf(v):
                    m = u + 1
                else:
                    m = (u + v) / 2
                s = self.fp.eval_piece(i, m)
                signs.add(0 if s == 0 else (1 if s > 0 else -1))
            if pv == "numeric":
                # a numeric scan sees only the window: sample the tails too
                for t in (-1e3, -1e2, 1e2, 1e3):
                    if p.contains(t):
                        s = self.fp.eval_piece(i, t)
                        signs.add(0 if s == 0 else (1 if s > 0 else -1))
        for _b, ln, val, rn in getattr(self, "jumps", []):
            for u, v in ((ln, val), (val, rn)):
                if not _close(u.value, v.value):
                    signs.add(2 if v.value > u.value else -2)
        self.prov["monotonic"] = weakest(*provs) if provs else "symbolic"
        up = {s for s in signs if s > 0}
        down = {s for s in signs if s < 0}
        if up and down:
            return "none"
        if up:
            return "increasing" if 0 not in signs else "nondecreasing"
        if down:
            return "decreasing" if 0 not in signs else "nonincreasing"
        return "nondecreasing"

    # --- symmetry ---------------------------------------------------------------------------------------
    def _reflect_segments(self):
        pts = set()
        for p in self.pieces:
            for e in (p.lo, p.hi):
                if e not in (sp.oo, -sp.oo):
                    pts.add(e)
                    pts.add(-e)
        pts = sorted(pts, key=lambda e: float(e))
        edges = [-sp.oo] + pts + [sp.oo]
        segs = []
        for i in range(len(edges) - 1):
            a, b = edges[i], edges[i + 1]
            if a == -sp.oo and b == sp.oo:
                rep = sp.Rational(1, 3)
            else:
                rep = b - 1 if a == -sp.oo else (a + 1 if b == sp.oo else (a + b) / 2)
            segs.append(("open", rep))
            if b != sp.oo:
                segs.append(("point", b))
        return segs

    def _piece_at(self, t):
        for p in self.pieces:
            if p.contains(t):
                return p
        raise ValueError(t)

    def symmetry(self):
        """odd / even / none; also f(x) + f(-x) when it is a constant (for the Gaussian mean)."""
        self.sum_const = None
        segs = self._reflect_segments()
        results = {}
        for kind, sign in (("odd", 1), ("even", -1)):
            ok, provs = True, []
            consts = set()
            for typ, rep in segs:
                pa, pb = self._piece_at(rep), self._piece_at(-rep)
                if typ == "point":
                    e = pa.expr.subs(x, rep) + sign * pb.expr.subs(x, -rep)
                    z = sp.nsimplify(e) == 0 if e.is_number else False
                    zero, pv = (True, "symbolic") if z else self.is_zero(sp.sympify(e))
                    if kind == "odd" and e.is_number:
                        consts.add(sp.nsimplify(e))
                else:
                    e = pa.expr + sign * pb.expr.subs(x, -x)
                    zero, pv = self.is_zero(e)
                    if kind == "odd" and self.sum_const is None:
                        s = self.simplify(e)
                        consts.add(s if not s.has(x) else None)
                provs.append(pv)
                if not zero:
                    ok = False
                    provs = [pv]
                    break
            results[kind] = (ok, weakest(*provs))
        self.sum_const = self._constant_reflection_sum(segs)
        for kind in ("odd", "even"):
            if results[kind][0]:
                self.prov["symmetry"] = results[kind][1]
                return kind
        self.prov["symmetry"] = weakest(results["odd"][1], results["even"][1])
        if self.prov["symmetry"] == "certified":
            self.prov["symmetry"] = "symbolic"  # disproved at an exact point
        return "none"

    def _constant_reflection_sum(self, segs):
        """f(x) + f(-x) when it is one constant on EVERY segment and point (checked on all of them), else None."""
        consts = set()
        for typ, rep in segs:
            pa, pb = self._piece_at(rep), self._piece_at(-rep)
            if typ == "point":
                e = pa.expr.subs(x, rep) + pb.expr.subs(x, -rep)
            else:
                e = self.simplify(pa.expr + pb.expr.subs(x, -x))
            if not isinstance(e, sp.Expr) or e.has(x) or not e.is_number:
                return None
            consts.add(sp.nsimplify(e))
            if len(consts) > 1:
                return None
        return consts.pop() if len(consts) == 1 else None

    # --- saturation, active region ------------------------------------------------------------------------
    def superlevel_hull(self, c: Num):
        """(lower Num, upper Num, provenance): the hull of {x : |f'(x)| >= c}."""
        pts, provs = [], []
        for i, dp in enumerate(self.d1):
            if dp.is_point:
                continue
            if not dp.expr.has(x):
                if abs(to_mpf(dp.expr)) >= c.value:
                    pts.append((Num.of(dp.lo), Num.of(dp.hi)))
                continue
            edges = [Num.of(dp.lo)]
            for target in (dp.expr - c.exact if c.exact is not None else dp.expr - c.value,
                           dp.expr + c.exact if c.exact is not None else dp.expr + c.value):
                rs, pv = roots(self.budget, target, dp, cap=2.0)
                provs.append(pv)
                edges += rs
            edges.append(Num.of(dp.hi))
            edges.sort(key=lambda n: n.value)
            inside = []
            for j in range(len(edges) - 1):
                u, v = edges[j].value, edges[j + 1].value
                if mpmath.isinf(u) and mpmath.isinf(v):
                    m = mpmath.mpf(0.3)
                elif mpmath.isinf(u):
                    m = v - 1 if mpmath.isinf(v) is False and v > -WINDOW else v - 1
                elif mpmath.isinf(v):
                    m = u + 1
                else:
                    m = (u + v) / 2
                if abs(self.fp.eval_piece(i, m)) >= c.value:
                    inside.append((edges[j], edges[j + 1]))
            # roots that touch (|f'| == c at an isolated point) count as members too
            for n in edges[1:-1]:
                inside.append((n, n))
            if inside:
                pts.append((min((u for u, _ in inside), key=lambda n: n.value),
                            max((v for _, v in inside), key=lambda n: n.value)))
        if self.dlim["-oo"] is None or self.dlim["+oo"] is None:
            provs.append("numeric")
        if not pts:
            return None, None, weakest(*provs) if provs else "symbolic"
        lower = min((p[0] for p in pts), key=lambda n: n.value)
        upper = max((p[1] for p in pts), key=lambda n: n.value)
        if self.dlim["-oo"] is None:
            lower = Num(-mpmath.inf, -sp.oo)
        if self.dlim["+oo"] is None:
            upper = Num(mpmath.inf, sp.oo)
        return lower, upper, weakest(*provs) if provs else "symbolic"

    def _scaled_sup(self, k):
        s = self.sup
        return Num(s.value * k, sp.nsimplify(k) * s.exact if s.exact is not None else None)

    def active_region(self):
        if self.sup is None or self.sup.value == 0 or mpmath.isinf(self.sup.value):
            self.prov["active_region"] = "unknown" if self.sup is None or mpmath.isinf(self.sup.value) else "symbolic"
            return None
        lo, hi, pv = self.superlevel_hull(self._scaled_sup(0.5))
        self.prov["active_region"] = weakest(pv, self.prov["max_abs_derivative"])
        return {"lower": lo.q() if lo else None, "upper": hi.q() if hi else None}

    def saturation(self):
        out, provs = {}, [self.prov["limits"]]
        hull = None
        for side, key, piece, dpiece in (("left", "-oo", self.pieces[0], self.d1[0]),
                                          ("right", "+oo", self.pieces[-1], self.d1[-1])):
            lim = self.lim[key]
            entry = {"kind": "none", "limit": lim.q() if lim is not None else None, "threshold": None, "onset": None}
            if lim is not None and not mpmath.isinf(lim.value):
                if not piece.expr.has(x):
                    entry["kind"] = "hard"
                    t = piece.hi if side == "left" else piece.lo
                    entry["threshold"] = Num.of(t).q()
                else:
                    entry["kind"] = "soft"
                    if self.sup is not None and 0 < self.sup.value < mpmath.inf:
                        if hull is None:
                            hull = self.superlevel_hull(self._scaled_sup(0.01))
                            provs.append(hull[2])
                        end = hull[0] if side == "left" else hull[1]
                        if end is not None and not mpmath.isinf(end.value):
                            entry["onset"] = end.q()
                        else:
                            provs.append("unknown")
            out[side] = entry
        self.prov["saturation"] = weakest(*provs)
        return out

    # --- vanishing, collapse --------------------------------------------------------------------------------
    def vanishing(self):
        if self.sup is None:
            self.prov["vanishing"] = "unknown"
            return {"factor": None, "layers_to_1e-3": None}
        layers = None
        v = self.sup.value
        if v < 1:
            if v == 0:
                layers = 1
            else:
                with mpmath.workdps(DPS):
                    n = max(1, int(mpmath.floor(mpmath.log(mpmath.mpf("0.001")) / mpmath.log(v))))
                    while v ** n >= mpmath.mpf("0.001"):
                        n += 1
                    while n > 1 and v ** (n - 1) < mpmath.mpf("0.001"):
                        n -= 1
                layers = n
        self.prov["vanishing"] = self.prov["max_abs_derivative"]
        return {"factor": self.sup.q(), "layers_to_1e-3": layers}

    def _affine_of(self, pieces):
        """The affine expression a + b x equal to the pieces, or None (a pieces list with numbers only)."""
        lin = None
        for p in pieces:
            if p.is_point:
                continue
            e = sp.expand(p.expr)
            if not e.is_polynomial(x) or sp.degree(e, x) > 1:
                return None
            if lin is None:
                lin = e
            elif sp.expand(lin - e) != 0:
                return None
        for p in pieces:
            if p.is_point and sp.simplify(p.expr - lin.subs(x, p.lo)) != 0:
                return None
        return lin

    def collapse(self):
        provs = []
        affine = self._affine_of(self.pieces) is not None
        pwl = all(p.is_point or (sp.expand(p.expr).is_polynomial(x) and sp.degree(sp.expand(p.expr), x) <= 1)
                  for p in self.pieces)
        homog = pwl and all(b == 0 for b in self.breaks) and self.f0_num.value == 0 and all(
            p.is_point or sp.expand(p.expr).subs(x, 0) == 0 for p in self.pieces)
        degenerate, pv = self.degenerate_params()
        provs.append(pv)
        radius, pv2 = self.linear_regime_radius(affine)
        provs.append(pv2)
        self.prov["collapse"] = weakest(*provs)
        return {"affine": affine, "piecewise_linear": bool(pwl), "positively_homogeneous": bool(homog),
                "degenerate_params": degenerate, "linear_regime_radius": radius}

    def degenerate_params(self):
        act = self.act
        out, provs = [], []
        vals = act.param_values()
        for prm in act.params:
            others = {sp.Symbol(k, real=True): v for k, v in vals.items() if k != prm.name}
            expr_p = act.expr.subs(others)
            p = prm.symbol
            cands = [sp.Integer(0), sp.Integer(1), sp.Integer(-1), sp.oo, -sp.oo]
            # solve for the parameter that makes f affine at sample points: f(t) = f(0) + t (f(1) - f(0))
            try:
                f = lambda t: expr_p.subs(x, t)  # noqa: E731
                eqs = [f(t) - f(0) - t * (f(1) - f(0)) for t in (sp.Integer(-2), sp.Rational(1, 2), sp.Integer(3))]
                for eq in eqs[:2]:
                    sol = self.budget.run(lambda: sp.solveset(eq, p, sp.S.Reals), 1.5)
                    if not failed(sol) and isinstance(sol, sp.FiniteSet):
                        cands += [s for s in sol if s.is_number]
            except (TypeError, ValueError):
                pass
            seen = set()
            for v in cands:
                if v in seen or v == vals[prm.name]:
                    continue
                seen.add(v)
                res = self._try_degenerate(prm, p, expr_p, v)
                if res is not None:
                    out.append({"params": {prm.name: quantity(v)}, "result": str(res),
                                "limit": bool(v in (sp.oo, -sp.oo) or not prm.domain.contains(v) == sp.true)})
        return out, "symbolic"

    def _try_degenerate(self, prm, p, expr_p, v):
        finite = v not in (sp.oo, -sp.oo)
        in_domain = finite and prm.domain.contains(v) == sp.true
        closure = prm.domain.closure
        if not in_domain:
            if finite and not closure.contains(v) == sp.true:
                return None
            if not finite and not (closure.sup == sp.oo if v == sp.oo else closure.inf == -sp.oo):
                return None
        if self.act.constraint is not None and in_domain:
            try:
                self.act.with_params(**{prm.name: v})
            except ValueError:
                return None
        if in_domain:
            e = expr_p.subs(p, v)
        else:
            pw = expr_p.rewrite(sp.Piecewise)
            if any(p in c.free_symbols for c in pw.atoms(sp.core.relational.Relational)):
                return None

            def lim():
                return pw.replace(lambda a: isinstance(a, sp.Piecewise),
                                  lambda a: sp.Piecewise(*[(sp.limit(b, p, v, "+" if finite else "-") if finite
                                                            else sp.limit(b, p, v), c) for b, c in a.args]))
            e = self.budget.run(lambda: lim() if pw.has(sp.Piecewise) else sp.limit(pw, p, v), 2.0)
            if failed(e) or e.has(sp.Limit, sp.oo, -sp.oo, sp.zoo, sp.nan, sp.AccumBounds) or p in e.free_symbols:
                return None
        try:
            pieces = to_pieces(e, x)
        except ValueError:
            return None
        lin = self._affine_of(pieces)
        return lin

    def linear_regime_radius(self, affine: bool):
        """Largest r with |f - (f(0) + f'(0) x)| <= |f|/100 on [-r, r] (numeric)."""
        if self.f0_num is None or self.f0_num.value != 0:
            return None, "symbolic"
        if affine:
            return quantity(sp.oo), "symbolic"
        zero = sp.Integer(0)
        lp, rp = side_pieces(self.d1, zero)
        if lp is None or rp is None:
            return None, "unknown"
        ln, _ = self.limit(lp.expr, zero, "-")
        rn, _ = self.limit(rp.expr, zero, "+")
        if ln is None or rn is None or not _close(ln.value, rn.value):
            return None, "symbolic"  # f'(0) undefined (a kink at 0)
        slope = rn.value

        def bad(t):
            v = self.f(t)
            return abs(v - slope * t) > abs(v) / 100

        with mpmath.workdps(DPS):
            grid = [mpmath.mpf(10) ** (k / mpmath.mpf(100)) for k in range(-600, 301)]
            prev = mpmath.mpf(0)
            for t in grid:
                if bad(t) or bad(-t):
                    a, b = prev, t
                    for _ in range(60):
                        m = (a + b) / 2
                        if bad(m) or bad(-m):
                            b = m
                        else:
                            a = m
                    return quantity(None, a), "numeric"
                prev = t
        return None, "unknown"  # no violation found up to 1e3 though f is not affine

    # --- Gaussian input ---------------------------------------------------------------------------------------
    def normal_input(self):
        phi = sp.exp(-x**2 / 2) / sp.sqrt(2 * sp.pi)
        provs = []

        def expect(power):
            if power == 1 and self.symmetry_kind == "odd":
                return Num(mpmath.mpf(0), sp.Integer(0)), "symbolic"
            if power == 1 and self.sum_const is not None:
                return Num.of(self.sum_const / 2), "symbolic"
            total = sp.Integer(0)
            ok = True
            for p in self.pieces:
                if p.is_point:
                    continue
                e = p.expr ** power
                if e == 0:
                    continue
                r = self.budget.run(lambda: sp.integrate(e * phi, (x, p.lo, p.hi)), 3.0)
                if failed(r) or r.has(sp.Integral) or not r.is_number or r.has(sp.nan, sp.zoo):
                    ok = False
                    break
                total += r
            if ok:
                t = self.simplify(total, 1.0)
                n = Num.of(t)
                if n is not None:
                    return n, "symbolic"
            return Num(self._quad(power)), "numeric"

        mean, p1 = expect(1)
        second, p2 = expect(2)
        provs += [p1, p2]
        var_exact = None
        if mean.exact is not None and second.exact is not None:
            var_exact = self.simplify(second.exact - mean.exact**2, 1.0)
        variance = Num(second.value - mean.value**2, var_exact)
        gain = Num(1 / mpmath.sqrt(second.value), self.simplify(1 / sp.sqrt(second.exact), 1.0)
                   if second.exact is not None else None) if second.value > 0 else None
        sparsity = sp.Integer(0)
        for p in self.pieces:
            if not p.is_point and p.expr == 0:
                sparsity += (sp.erf(p.hi / sp.sqrt(2)) - sp.erf(p.lo / sp.sqrt(2))) / 2
        sparsity = self.simplify(sparsity, 1.0)
        self.prov["normal_input"] = weakest(*provs)
        return {"mean": mean.q(), "second_moment": second.q(), "variance": variance.q(),
                "gain": gain.q() if gain is not None else None, "sparsity": quantity(sparsity)}

    def _quad(self, power):
        with mpmath.workdps(20):
            total = mpmath.mpf(0)
            for i, p in enumerate(self.pieces):
                if p.is_point:
                    continue
                a, b = to_mpf(p.lo), to_mpf(p.hi)
                pts = [a] + [t for t in (mpmath.mpf(-8), mpmath.mpf(0), mpmath.mpf(8)) if a < t < b] + [b]
                total += mpmath.quad(lambda t: self.f.eval_piece(i, t) ** power * mpmath.npdf(t), pts)
            return total

    # --- text and cost ----------------------------------------------------------------------------------------
    def derivative_text(self):
        d = [Piece(self.simplify(p.expr, 1.0), p.lo, p.hi, p.lo_closed, p.hi_closed) for p in self.d1]
        return str(pieces_to_piecewise(d, x))

    def derivative_from_output(self):
        g = self.act.grad_from_output
        if g is None:
            return None
        return str(rewrite_elementary(g.subs(self.act.substitution())))

    def cost(self):
        act = self.act
        form = act.forward if act.forward is not None else act.expr
        e = rewrite_elementary(form.subs(act.substitution()))
        repl, red = sp.cse(e)
        ops = trans = 0
        for node_root in [r for _, r in repl] + list(red):
            for node in sp.preorder_traversal(node_root):
                if isinstance(node, (sp.Add, sp.Mul)):
                    ops += len(node.args) - 1
                elif isinstance(node, sp.Pow):
                    ops += 1
                elif isinstance(node, (sp.Max, sp.Min)):
                    ops += len(node.args) - 1
                elif isinstance(node, sp.Piecewise):
                    ops += 2 * (len(node.args) - 1)
                elif isinstance(node, sp.Function):
                    ops += 1
                    if isinstance(node, _TRANSCENDENTAL):
                        trans += 1
        self.prov["cost"] = "symbolic"
        return {"operations": ops, "transcendental": trans}


def side_pieces(pieces, b):
    """The non-point pieces just left and just right of b."""
    left = next(p for p in pieces if not p.is_point and (p.hi == b or (p.lo < b < p.hi)))
    right = next(p for p in pieces if not p.is_point and (p.lo == b or (p.lo < b < p.hi)))
    return left, right


def _best(cands):
    """Prefer an exact candidate among equal values."""
    for c in cands:
        if c[0].exact is not None:
            return c[0]
    return cands[0][0]


#: wall-clock limits of one property group and of a whole analysis (numeric fallbacks included);
#: past the deadline every remaining group gets only a moment and is reported unknown if unfinished
GROUP_SECONDS = 15.0
DEADLINE_SECONDS = 60.0

_Q = {"exact": None, "value": None}
_FALLBACK = {
    "f0": lambda: dict(_Q),
    "limits": lambda: ({"-oo": dict(_Q), "+oo": dict(_Q)}, {"-oo": dict(_Q), "+oo": dict(_Q)}),
    "range": lambda: {"lower": dict(_Q), "upper": dict(_Q), "lower_closed": False, "upper_closed": False},
    "max_abs_derivative": lambda: {"value": dict(_Q), "at": None},
    "continuity": lambda: (None, []),
    "monotonic": lambda: None,
    "symmetry": lambda: None,
    "zero_centered": lambda: None,
    "identity_near_origin": lambda: None,
    "saturation": lambda: {side: {"kind": None, "limit": dict(_Q), "threshold": None, "onset": None}
                           for side in ("left", "right")},
    "active_region": lambda: {"lower": dict(_Q), "upper": dict(_Q)},
    "vanishing": lambda: {"factor": dict(_Q), "layers_to_1e-3": None},
    "collapse": lambda: {"affine": None, "piecewise_linear": None, "positively_homogeneous": None,
                         "degenerate_params": [], "linear_regime_radius": dict(_Q)},
    "normal_input": lambda: {k: dict(_Q) for k in ("mean", "second_moment", "variance", "gain", "sparsity")},
    "cost": lambda: {"operations": None, "transcendental": None},
}


def analyze_dict(act: Activation, budget: float = TOTAL_BUDGET) -> dict:
    """The JSON-ready property table of DESIGN.md's `show --json`.

    Every property group runs in a time box (GROUP_SECONDS, and all of them within DEADLINE_SECONDS);
    a group that runs out of time or fails is reported with null values and provenance "unknown".
    """
    import time

    from ..timebox import SymbolicTimeout, timebox

    start = time.monotonic()
    a = Analyzer(act, budget)
    d = a.act.definition()
    out: dict = {"name": act.name, "params": {k: str(v) for k, v in act.param_values().items()},
                 "formula": str(d), "latex": sp.latex(d)}

    def guarded(key: str, fn, provenance_keys=None):
        remaining = DEADLINE_SECONDS - (time.monotonic() - start)
        try:
            with timebox(max(min(GROUP_SECONDS, remaining), 0.5)):
                return fn()
        except (SymbolicTimeout, ArithmeticError, ValueError, TypeError, RecursionError, OverflowError,
                AttributeError, IndexError, KeyError, NotImplementedError):
            for k in provenance_keys or (key,):
                a.prov[k] = "unknown"
            return _FALLBACK[key]()

    out["derivative"] = a.derivative_text()
    out["derivative_from_output"] = a.derivative_from_output()
    out["f0"] = guarded("f0", a.f0)
    out["limits"], out["derivative_limits"] = guarded("limits", a.limits, ("limits", "derivative_limits"))
    out["range"] = guarded("range", a.range)
    out["max_abs_derivative"] = guarded("max_abs_derivative", a.max_abs_derivative)
    out["continuity"], out["kinks"] = guarded("continuity", a.continuity, ("continuity", "kinks"))
    out["monotonic"] = guarded("monotonic", a.monotonic)
    a.symmetry_kind = out["symmetry"] = guarded("symmetry", a.symmetry)

    def zero_centered():
        lower, upper = a.range_num
        a.prov["zero_centered"] = weakest(a.prov["f0"], a.prov["range"])
        return bool(a.f0_num.value == 0 and lower.value < 0 < upper.value)

    out["zero_centered"] = guarded("zero_centered", zero_centered)

    def identity_near_origin():
        zero = sp.Integer(0)
        lp, rp = side_pieces(a.d1, zero)
        ln, pl = a.limit(lp.expr, zero, "-")
        rn, pr = a.limit(rp.expr, zero, "+")
        a.prov["identity_near_origin"] = weakest(pl, pr)
        return bool(a.f0_num.value == 0 and not any(j[0] == 0 for j in a.jumps)
                    and ln is not None and rn is not None and ln.value == 1 and rn.value == 1)

    out["identity_near_origin"] = guarded("identity_near_origin", identity_near_origin)
    out["saturation"] = guarded("saturation", a.saturation)
    out["active_region"] = guarded("active_region", a.active_region)
    out["vanishing"] = guarded("vanishing", a.vanishing)
    out["collapse"] = guarded("collapse", a.collapse)
    out["normal_input"] = guarded("normal_input", a.normal_input)
    out["cost"] = guarded("cost", a.cost)
    for k in ("name", "params", "formula", "latex", "derivative", "derivative_from_output"):
        a.prov[k] = "symbolic"
    out["provenance"] = dict(sorted(a.prov.items()))
    return out


__all__ = ["Analyzer", "analyze_dict", "math"]
