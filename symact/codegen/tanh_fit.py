"""The polynomial of x - tanh(x) near 0, for the tanhshrink kernel.

Below |x| = 0.8 the difference x - tanh(x) cancels (by up to 6x at 0.8, without bound towards 0), so the
kernel computes it as x**3 * P(x**2) there. P is the near-minimax polynomial (mpmath.chebyfit at 40 digits)
of (x - tanh x)/x**3 in z = x**2 on [0, 0.64], 14 coefficients, relative error 3e-17 (a tenth of a float64
ULP; Taylor's series needs 32 terms for the same, its radius pi**2/4 in z being close). All terms of
Horner's rule stay below a third, so its rounding stays near an ULP.

float32 input needs no fit: the kernel computes x - tanh(x) in float64 from np.tanh (NumPy's SIMD loop
where the CPU has AVX-512: 1.7 ns per element on a Zen 4, 6.2 there with AVX2 only, 17 on a Zen 1),
and its error, amplified by the cancellation, stays far below float32's down to |x| = 2**-10.

``series()`` recomputes the coefficients;
``symact.codegen.kernels._x_minus_tanh`` holds them and tests/test_generate.py checks they agree.
"""
from __future__ import annotations

import mpmath

__all__ = ["NEAR", "TERMS", "series"]

#: |x| below this is computed from the polynomial
NEAR = 0.8
#: its number of coefficients
TERMS = 14


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
