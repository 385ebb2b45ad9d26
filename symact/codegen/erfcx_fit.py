"""Polynomial fits of the scaled complementary error function, for the normal-CDF kernel.

erfcx(a) = exp(a**2) * erfc(a) on [1/2, 29] and erfc(a) on [0, 1/2] (Phi(x) = erfc(-x/sqrt 2)/2 for |x| up
to 40): SciPy's erfcx is off by up to 6 ULP there, which GELU's forward and derivative inherit, and its
erfc, near 1 ULP on [0, 1/2], is a second scalar pass over the elements there. Here the range is cut
into 112 intervals (width 1/16 below 2, 1/8 below 11/2, 1/4 below 11, 1/2 below 23, 1 up to 29: the
widest of these widths with relative error below 5e-18 at degree 8, found by trying them in turn); on
each, erfcx(c + h) (erfc(c + h) below 1/2) is a near-minimax polynomial in h of degree 8 (mpmath.chebyfit
at 40 digits, relative error < 4.5e-18, 0.04 ULP), with the constant term kept as two doubles. The kernel
finds the interval of a from round(16a - 1/2) through a lookup built from the centres (the edges are
dyadic).

``table()`` recomputes the coefficients; ``symact.codegen.kernels._erfcx_table`` holds them and
tests/test_generate.py checks the two agree, so the kernel cannot drift from its derivation.

For float32 results a single rational function is enough: ``rational()`` fits erfcx(a) ~ P(a)/Q(a)
(degrees 7 and 8, Q(0) = 1) on [0, 21/2] to a relative error of 1.8e-14 (2e-7 float32 ULP: results
correctly rounded but for the rare point that close to a rounding boundary; degrees 5 and 6 give
1.1e-10, and 38 of 10^5 random GELU values one ULP off), by linearized weighted least squares
iterated on the previous denominator (Sanathanan-Koerner) at 40 digits on 300 Chebyshev points. All coefficients come out positive, so Horner's rule in float64 keeps
that accuracy. ``symact.codegen.kernels._erfcx_single`` holds them, checked the same way.
"""
from __future__ import annotations

import mpmath

__all__ = ["DEGREE", "EDGES", "ERFC_TOP", "RATIONAL_TOP", "rational", "table"]

#: number of coefficients after the constant term (the kernel gathers DEGREE + 3 values per element:
#: degree 12 on 43 intervals of widths 1/4 to 1 took 1.34x the time on a block's 5600 elements, at
#: relative error 3e-20; both within 1 ULP, with 1 ULP at 0.98% / 0.52% of 6000 points)
DEGREE = 8
#: upper end of the float32 rational fit: beyond it (x < -14.8) Phi(x) < 1e-49, and x*Phi(x) is zero in
#: float32 too; the kernel holds the rational at its value there
RATIONAL_TOP = 10.5


def _edges() -> list[mpmath.mpf]:
    """0, then runs of equal widths: (width, upper end) = (1/16, 2), (1/8, 11/2), (1/4, 11), (1/2, 23), (1, 29)."""
    edges = [mpmath.mpf(0)]
    for width, top in ((mpmath.mpf(1) / 16, 2), (mpmath.mpf(1) / 8, mpmath.mpf(11) / 2), (mpmath.mpf(1) / 4, 11),
                       (mpmath.mpf(1) / 2, 23), (mpmath.mpf(1), 29)):
        while edges[-1] < top:
            edges.append(edges[-1] + width)
    return edges


EDGES = _edges()
#: the intervals below hold erfc(a) itself (relative error < 6.3e-19), whose normal-CDF caller then needs
#: no exp(-a**2): erfc as exp(-a**2)*erfcx(a) adds the exponential's rounding (up to 3 ULP in GELU near 0,
#: against 2 from a direct erfc)
ERFC_TOP = mpmath.mpf(1) / 2


def table() -> list[tuple[float, ...]]:
    """Per interval: (centre, c0_hi, c0_lo, c1, ..., c_DEGREE) of erfcx(centre + h), or of erfc(centre + h)
    on the intervals below ERFC_TOP."""
    rows = []
    with mpmath.workdps(40):
        def erfcx(a):
            return mpmath.exp(a * a) * mpmath.erfc(a)

        for lo, hi in zip(EDGES, EDGES[1:]):
            c, r = (lo + hi) / 2, (hi - lo) / 2
            f = mpmath.erfc if hi <= ERFC_TOP else erfcx
            poly, _ = mpmath.chebyfit(lambda h, f=f, c=c: f(c + h), [-r, r], DEGREE + 1, error=True)
            coeffs = list(reversed(poly))  # chebyfit lists the highest power first
            c0_hi = float(coeffs[0])
            c0_lo = float(coeffs[0] - mpmath.mpf(c0_hi))
            rows.append((float(c), c0_hi, c0_lo) + tuple(float(v) for v in coeffs[1:]))
    return rows


def rational(num: int = 7, den: int = 8, top: float = RATIONAL_TOP, points: int = 300,
             rounds: int = 12) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """(p_0..p_num, q_0..q_den), lowest power first, with erfcx(a) ~ P(a)/Q(a) on [0, top], q_0 = 1.

    Each round solves min sum ((P - f Q) / (f Q_prev))**2 over the points (relative error, weighted by
    the previous denominator) as a linear least-squares problem.
    """
    with mpmath.workdps(40):
        half = mpmath.mpf(top) / 2
        nodes = [half + half * mpmath.cos(mpmath.pi * (k + mpmath.mpf(1) / 2) / points) for k in range(points)]
        values = [mpmath.exp(a * a) * mpmath.erfc(a) for a in nodes]
        q_prev = [mpmath.mpf(1)] * points
        for _ in range(rounds):
            rows, rhs = [], []
            for a, f, qp in zip(nodes, values, q_prev):
                w = 1 / (f * qp)
                rows.append([w * a ** j for j in range(num + 1)] + [-w * f * a ** j for j in range(1, den + 1)])
                rhs.append(w * f)
            sol, _ = mpmath.qr_solve(mpmath.matrix(rows), mpmath.matrix(rhs))
            p = [sol[j] for j in range(num + 1)]
            q = [mpmath.mpf(1)] + [sol[num + j] for j in range(1, den + 1)]
            q_prev = [mpmath.polyval(q[::-1], a) for a in nodes]
        return tuple(float(v) for v in p), tuple(float(v) for v in q)
