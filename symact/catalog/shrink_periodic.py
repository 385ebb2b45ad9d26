"""Shrinkage functions, bumps and periodic activations."""
from __future__ import annotations

import sympy as sp

from ..activation import Activation
from ..functions import (expneghalfsq, expnegsq, fclip, mask, pos_zero, sin_affine, sin_affine_lean, sin_affine_wide,
                         sinc_grad, x_minus_tanh)
from ._forms import BIG, PW, R, X, Y, Param, clip, nonnegative, positive

x, y = X, Y
lambd = sp.Symbol("lambd", real=True)
omega = sp.Symbol("omega_0", real=True)
a = sp.Symbol("a", real=True)
guard = fclip(x, -BIG, BIG)
# min(2^60/a, 2^127): beyond 2^60/a, sin(ax)^2/a <= 1/a is below x's rounding; 2^127 is finite in float32
# (a bound of 2^100 cut x + sin(ax)^2/a for a < 2^-40: a = 1e-30, x = -6.8e30). A 1/a of its own: f's /a
# stays a division
_snake_bound = BIG / sp.Max(a, R(1, 2**67))
_snake_u = sp.UnevaluatedExpr(sin_affine(x, a, 0) / a)

ACTIVATIONS = [
    Activation(
        "hardshrink", PW((x, x < -lambd), (0, x <= lambd), (x, True)),
        params=(Param("lambd", R(1, 2), nonnegative),), family="shrink",
        description="Hard shrinkage: x where |x| > lambd, else 0.",
        citation="Donoho & Johnstone (1994); torch.nn.Hardshrink",
        forward=x * mask(sp.Abs(x) > lambd),  # x*0 keeps the sign of -0.0 (an odd function)
        grad=PW((0, sp.Abs(x) <= lambd), (1, True)),
        grad_from_output=PW((0, sp.Eq(y, 0)), (1, True)),
    ),
    Activation(
        "softshrink", PW((x + lambd, x < -lambd), (0, x <= lambd), (x - lambd, True)),
        params=(Param("lambd", R(1, 2), nonnegative),), family="shrink",
        description="Soft shrinkage: x - lambd*sign(x) where |x| > lambd, else 0.",
        citation="Donoho (1995); torch.nn.Softshrink",
        # x - clip(x): exact, 0 on [-lambd, lambd]; clip(x) + 0.0 is +0.0 at x = -0.0, so that
        # -0.0 - (+0.0) keeps the sign of -0.0 (an odd function) -- np.copysign would cost 4 passes
        forward=x - pos_zero(clip(x, -lambd, lambd)),
        grad=PW((0, sp.Abs(x) <= lambd), (1, True)),
        grad_from_output=PW((0, sp.Eq(y, 0)), (1, True)),
    ),
    Activation(
        "tanhshrink", x - sp.tanh(x), family="shrink",
        description="Tanh shrinkage: x - tanh(x).",
        citation="torch.nn.Tanhshrink",
        forward=x_minus_tanh(x),
        grad=sp.tanh(x) ** 2,
    ),
    Activation(
        "gaussian", sp.exp(-x**2), family="bump",
        description="Gaussian bump: exp(-x^2).",
        citation="radial basis function networks; Broomhead & Lowe (1988)",
        forward=expnegsq(x),
        # -2x e^(-x^2/2) e^(-x^2/2): the first product is normal wherever the result is
        grad=sp.UnevaluatedExpr(-2 * guard * expneghalfsq(x)) * expneghalfsq(x),
    ),
    Activation(
        "sinc", PW((1, sp.Eq(x, 0)), (sp.sin(x) / x, True)), family="periodic",
        description="Sinc: sin(x)/x, 1 at 0.",
        citation="common in signal processing; used in e.g. Sitzmann et al. comparisons",
        forward=sp.sinc(x),
        grad=sinc_grad(x),
        root_patches=("grad",),  # (x cos x - sin x)/x**2 cancels at the zeros of sinc' (tan x = x)
        patch_window=(-21, 21),  # beyond, float64 derivatives near a zero: _sinc_grad_far (see _sinc_grad)
        patch_float32=False,  # float32: _sinc_grad_single, libm's float64 sine and cosine where the difference cancels
    ),
    Activation(
        "sinusoid", sp.sin(x), family="periodic", aliases=("sin",),
        description="Sine: sin(x), periodic and unbounded in its input.",
        citation="Parascandolo, Huttunen & Virtanen, Taming the waves (2016)",
    ),
    Activation(
        "siren_sine", sp.sin(omega * x), params=(Param("omega_0", sp.Integer(30), positive),), family="periodic",
        description="SIREN sine: sin(omega_0 x) (omega_0 = 30 for the first layer).",
        citation="Sitzmann et al., Implicit neural representations with periodic activation functions (2020)",
        # float32: the lean sine (float32 SIMD sin of the float64-reduced argument, within 1 ULP)
        forward=sin_affine_lean(x, omega, 0),
        grad=omega * sin_affine_lean(x, omega, sp.pi / 2),
        grad_params=(("omega_0", x * sin_affine_lean(x, omega, sp.pi / 2)),),
    ),
    Activation(
        "snake", x + sp.sin(a * x) ** 2 / a, params=(Param("a", sp.Integer(1), positive),), family="periodic",
        description="Snake: x + sin(a x)^2/a, monotone with a periodic ripple.",
        citation="Liu, Ziyin et al., Neural networks fail to learn periodic functions and how to fix it (2020)",
        # tail guard at 2^60/a (at most 2^127, finite in float32): beyond it sin(ax)^2/a <= 1/a is below
        # x's rounding, and x = +-inf gives +-inf, not inf + NaN
        # the forward's sum cancels (by up to 2.5x): for float32 input its sine, square and quotient in
        # float64 (the polynomial unrounded), one rounding at the end; the derivative's square does not cancel
        forward=x + sin_affine_wide(fclip(x, -_snake_bound, _snake_bound), a, 0) ** 2 / a,
        grad=2 * sin_affine_lean(x, a, sp.pi / 4) ** 2,
        # 2u(x cos(ax) - u/2), u = sin(ax)/a (|u| <= |x|): finite factors, the product overflowing only where
        # the result does (a < 1); x sin(2ax)/a - u^2 was inf - inf where both overflow (a < 1e-19 in float32),
        # and sin(ax)^2/a^2 is subnormal for small a*x where the result is not
        # float32 in float64: sin(ax) is subnormal in float32 where u is not (a = 1e-30, x = 1e-16), and
        # near the zeros of d/da (tan(ax) = 2ax) float64's rounding errors are far below float32's ULP
        wide_float32=("grad_params",),
        # (+ 0.0: an even function of x, +0.0 at x = -0.0, where the odd factors give -0.0)
        grad_params=(("a", pos_zero(2 * sp.UnevaluatedExpr(_snake_u * sp.UnevaluatedExpr(x * sin_affine(x, a, sp.pi / 2)
                                                                                        - _snake_u / 2)))),),
        overflow_ok="df/da ~ x sin(2ax)/a exceeds the largest float for large |x| when a < 1: +-inf is then the correctly rounded value",
    ),
]
