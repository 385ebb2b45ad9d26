"""The polynomial of x - tanh(x) near 0, for the tanhshrink kernel.

Below |x| = 0.8 the difference x - tanh(x) cancels (by up to 6x at 0.8, without bound towards 0), so the
kernel computes it as x**3 * P(x**2) there. P is the near-minimax polynomial (mpmath.chebyfit at 40 digits)
of (x - tanh x)/x**3 in z = x**2 on [0, 0.64], 14 coefficients, relative error 3e-17 (a tenth of a float64
ULP; Taylor's series needs 32 terms for the same, its radius pi**2/4 in z being close). All terms of
Horner's rule stay below a third, so its rounding stays near an ULP.

For float32 input the kernel uses a second fit, on [0, 1.6**2] with 12 coefficients (relative error
1.8e-9, a thirtieth of a float32 ULP; Horner's terms up to 0.39 against sums above 0.16, so its
rounding in float64 is far below float32's), evaluated in float64: below
|x| = 1.6 float32's own tanh would lose up to 2 bits in the difference, and float64's np.tanh is a scalar
libm call (~17 ns per element here).

``series()`` and ``series(NEAR32, TERMS32)`` recompute the coefficients;
``symact.codegen.kernels._x_minus_tanh`` holds them and tests/test_generate.py checks they agree.
"""
from __future__ import annotations

import mpmath

__all__ = ["NEAR", "NEAR32", "TERMS", "TERMS32", "series"]

#: |x| below this is computed from the polynomial
NEAR = 0.8
#: its number of coefficients
TERMS = 14
#: float32 input: |x| below this is computed from the second polynomial, with this many coefficients
NEAR32 = 1.6
TERMS32 = 12


def series(near: float = NEAR, terms: int = TERMS) -> tuple[float, ...]:
    """Coefficients c0, c1, ... of (x - tanh x)/x**3 ~ c0 + c1 z + ... (z = x**2, 0 <= z <= near**2), as doubles."""
    with mpmath.workdps(40):
        def g(z):
            if z == 0:
                return mpmath.mpf(1) / 3
            x = mpmath.sqrt(z)
            return (x - mpmath.tanh(x)) / x**3

        poly, _ = mpmath.chebyfit(g, [0, mpmath.mpf(near) ** 2], terms, error=True)
        return tuple(float(c) for c in reversed(poly))  # chebyfit gives the highest degree first
