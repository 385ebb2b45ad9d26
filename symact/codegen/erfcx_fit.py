"""Polynomial fits of the scaled complementary error function, for the normal-CDF kernel.

erfcx(a) = exp(a**2) * erfc(a) on [1/2, 29] (the tail of Phi(x) = erfc(-x/sqrt 2)/2 for |x| up to 40):
SciPy's erfcx is off by up to 6 ULP there, which GELU's forward and derivative inherit. Here the range
is cut into 43 intervals (width 1/4 below 4, 1/2 below 8, 1 up to 29); on each, erfcx(c + h) is a
near-minimax polynomial in h (mpmath.chebyfit at 40 digits, relative error < 3e-20), with the constant
term kept as two doubles. The interval of a is floor(min(4a - 2, 2a + 6, a + 14)).

``table()`` recomputes the coefficients; ``symact.codegen.kernels._erfcx_table`` holds them and
tests/test_generate.py checks the two agree, so the kernel cannot drift from its derivation.
"""
from __future__ import annotations

import mpmath

__all__ = ["EDGES", "DEGREE", "table"]

#: number of coefficients after the constant term
DEGREE = 12


def _edges() -> list[mpmath.mpf]:
    q, h = mpmath.mpf(1) / 4, mpmath.mpf(1) / 2
    return ([mpmath.mpf(1) / 2 + i * q for i in range(15)] + [4 + i * h for i in range(1, 9)]
            + [mpmath.mpf(8 + i) for i in range(1, 22)])


EDGES = _edges()


def table() -> list[tuple[float, ...]]:
    """Per interval: (centre, c0_hi, c0_lo, c1, ..., c_DEGREE) of erfcx(centre + h)."""
    rows = []
    with mpmath.workdps(40):
        def f(a):
            return mpmath.exp(a * a) * mpmath.erfc(a)

        for lo, hi in zip(EDGES, EDGES[1:]):
            c, r = (lo + hi) / 2, (hi - lo) / 2
            poly, _ = mpmath.chebyfit(lambda h: f(c + h), [-r, r], DEGREE + 1, error=True)
            coeffs = list(reversed(poly))  # chebyfit lists the highest power first
            c0_hi = float(coeffs[0])
            c0_lo = float(coeffs[0] - mpmath.mpf(c0_hi))
            rows.append((float(c), c0_hi, c0_lo) + tuple(float(v) for v in coeffs[1:]))
    return rows
