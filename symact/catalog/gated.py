"""Smooth gates: x times a sigmoid-like gate (GELU, SiLU/Swish, Mish, hard-swish)."""
from __future__ import annotations

import sympy as sp

from ..activation import Activation
from ..functions import (GELU_TANH_K, exp_mul, fclip, gelu_tanh_slope, gelu_tanh_xgate, ndtr, ndtr_tail, npdf,
                         npdf_tail)
from ._forms import BIG, PW, R, X, Param, clip, sigmoid_stable

x = X
beta = sp.Symbol("beta", real=True)
guard = fclip(x, -BIG, BIG)  # tail guard: the gate's limit times x
# swish's tail guard in x: 2^60/|beta| (t = beta*x beyond 2^60, the gate exactly 0 or 1 there), at most
# 2^120 (finite in float32; |beta| < 2^-60 wrong beyond it). A guard at 2^60 in x clipped x*sigmoid(beta x)
# for |beta| < 2^-4 (beta = 1e-30: x = -1e31 gives -1e31*sigmoid(-10), not -2^60*sigmoid(-10))
_beta_bound = BIG / sp.Max(sp.Abs(beta), R(1, 2**60))
bguard = fclip(x, -_beta_bound, _beta_bound)


def _swish_fast_grad(t: sp.Expr, scale: sp.Expr, e: sp.Expr | None = None, g: sp.Expr = guard) -> sp.Expr:
    """d/dx x*sigmoid(t), t = scale*x, with one exponential E = e^-t: s + t*E*s**2 = (1 + E*(1 + t))*s**2,
    s = 1/(1 + E).

    E*s = 1 - s without the cancellation; E overflows for t < -709 (float32: -88), outside the region.
    As one quotient: the sum s + t*E*s**2 cancelled beyond the zero's Taylor patch (9 ULP at x = -1.62),
    1 + E*(1 + t) only near that zero. e: E when the caller computes it otherwise.
    """
    e = sp.exp(-t) if e is None else e
    d = 1 + e  # 1/d twice (d**2 would overflow first), d computed once
    return (1 + e * (1 + scale * g)) / d / sp.UnevaluatedExpr(d)  # tail guard g: x*E is not inf*0 at x = inf


def _sigmoid_slope(t: sp.Expr, e: sp.Expr | None = None) -> sp.Expr:
    """sigmoid'(t) = sigmoid(t)*sigmoid(-t) = e/(1 + e)**2 with e = e^-|t| <= 1 (never an overflow)."""
    e = sp.exp(-sp.Abs(t)) if e is None else e
    return e / (1 + e) ** 2


def _swish_grad(t: sp.Expr, scale: sp.Expr, e: sp.Expr | None = None, g: sp.Expr = guard) -> sp.Expr:
    """d/dx x*sigmoid(t) with t = scale*x: sigmoid(t) + t*sigmoid(t)*sigmoid(-t) (e: e^-|t|, see above)."""
    return sigmoid_stable(t, e) + scale * g * _sigmoid_slope(t, e)


# silu/swish where t = beta*x < -64 (the tail): with s = e^-|t| 2^64 (exp_mul's scale k = 64, normal down to
# |t| = 752), sigmoid(t) = s/(2^64 + s) and sigmoid(-t) = 2^64/(2^64 + s). e^-|t| itself is subnormal below
# t = -708.4 while x e^-|t| (f) and t e^-|t| (f') are normal down to about -714.6 (x^2 e^-|t|, d/dbeta:
# further): computed from e^-|t| they lost up to 130 ULP there. Elsewhere e^-|t| = s/2^64, exactly
# where it is normal: one exponential for both pieces.
_TWO64 = sp.Integer(2) ** 64

# swish: e^-|beta x| and e^(-beta x) from the exact product (e^-fl(beta x) is off by |beta x|/2 ULP;
# exact at beta = 1); x clipped to +-2^127 in d/dbeta: beta*x is not 0*inf when beta = 0 (a branch
# computed anyway), and e^(-|beta| 2^127) is still 0 for |beta| > 5e-36
_x127 = fclip(x, -2**127, 2**127)
_silu_s = exp_mul(sp.Abs(x), -1, 64)
_swish_s = exp_mul(sp.Abs(x), -sp.Abs(beta), 64)
_swish_s_clipped = exp_mul(sp.Abs(_x127), -sp.Abs(beta), 64)
_swish_e = _swish_s / _TWO64
_swish_e_clipped = _swish_s_clipped / _TWO64


def _swish_tail(t: sp.Expr, s: sp.Expr, g: sp.Expr = guard) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """(f, f', df/dbeta) of x*sigmoid(t), t = beta*x < 0, from s = e^t 2^64 (see above); df/dbeta for t > 0 too.

    Unevaluated products: each multiplies s by the large factor first (s/(2^64 + s) is e^t again).
    """
    u = sp.UnevaluatedExpr
    return (u(g * s) / (_TWO64 + s), u(s * (1 + t * _TWO64 / (_TWO64 + s))) / (_TWO64 + s),
            u(g**2 * s) * (_TWO64 / (_TWO64 + s) ** 2))


# (t = beta*x tail-guarded in f': s = 0 there, and s*t is not 0*inf; d/dbeta's x^2 s is even in t: both tails)
_silu_tail = _swish_tail(guard, _silu_s)
_swish_tail_t = _swish_tail(beta * bguard, _swish_s, bguard)
_swish_tail_p = _swish_tail(beta * bguard, _swish_s_clipped, bguard)


# mish: tanh(softplus(x)) = n/(n + 2) with n = e^x (e^x + 2). Scaled by e^(-2 max(x, 0)), branch-free:
# with u = e^min(x, 0) and v = e^-max(x, 0) (both <= 1), tanh(softplus(x)) = u(u + 2v)/(u(u + 2v) + 2v^2)
# and f'(x) = tanh(softplus(x)) + 4x u v^2 (u + v)/(u(u + 2v) + 2v^2)^2.
_mish_u = sp.exp(sp.Min(x, 0))
_mish_v = sp.exp(-fclip(sp.Max(x, 0), 0, BIG))  # tail guard: v**2 never overflows
_mish_num = _mish_u * (_mish_u + 2 * _mish_v)
_mish_den = _mish_num + 2 * _mish_v**2
_mish_e = sp.exp(x)
# the tail x < -64: u = e^x is subnormal below -708.4 while f ~ x e^x is normal down to -714.6 (as silu's):
# there from s = u 2^64 (exp_mul's scale), with n = u(u + 2) = s(s + 2^65)/2^128 and v = 1:
# f = x s (s + 2^65)/(2^128 (n + 2)), f' = s ((s + 2^65)/(n + 2) + 4x (s + 2^64)/(n + 2)^2)/2^128
_mish_s = exp_mul(sp.Abs(x), -1, 64)
_mish_tn = _mish_s * (_mish_s + _TWO64 * 2) / _TWO64**2 + 2  # n + 2
_mish_tail = (sp.UnevaluatedExpr(guard * _mish_s * (_mish_s + 2 * _TWO64)) / (_TWO64**2 * _mish_tn),
              sp.UnevaluatedExpr(_mish_s * ((_mish_s + 2 * _TWO64) / _mish_tn + 4 * guard * (_mish_s + _TWO64) / _mish_tn**2))
              / _TWO64**2)
_mish_n = _mish_e * (_mish_e + 2)
# f' = n/(n + 2) + 4x e(1 + e)/(n + 2)^2 = e P/(n + 2)^2 with P = ((e + 4) e + 6 + 4x) e + 4(1 + x): the sum
# of two terms cancelled well beyond the zero's Taylor patch (10 ULP at x = -1.84, 9 at -0.87); P's terms
# cancel only near that zero
_mish_p = ((_mish_e + 4) * _mish_e + 6 + 4 * x) * _mish_e + 4 * (1 + x)

# GELU from the normal CDF and density (the fast forms on x >= -37; see its entry for the tail)
_gelu_forward = fclip(x, -BIG, sp.oo) * ndtr(x)
_gelu_grad = ndtr(x) + guard * npdf(x)

ACTIVATIONS = [
    Activation(
        "gelu", x / 2 * (1 + sp.erf(x / sp.sqrt(2))), family="gated", root_patches=("grad",), patch_radius="0.55",
        description="Gaussian error linear unit: x*Phi(x) with Phi the standard normal CDF (exact, erf).",
        citation="Hendrycks & Gimpel, Gaussian error linear units (2016)",
        # below x = -37 Phi and phi are below 2^-1000 (subnormal from -37.5) while x Phi and x phi are
        # still normal (down to -37.65 and -37.7): there from 2^64 Phi and 2^64 phi, scaled back last
        forward=PW((sp.UnevaluatedExpr(guard * ndtr_tail(x)) / _TWO64, x < -37), (_gelu_forward, True)),
        grad=PW((sp.UnevaluatedExpr(ndtr_tail(x) + guard * npdf_tail(x)) / _TWO64, x < -37), (_gelu_grad, True)),
        fast_forward=_gelu_forward, fast_grad=_gelu_grad, fast_region=x >= -37,
    ),
    Activation(
        "gelu_tanh", x / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (x + GELU_TANH_K * x**3))), family="gated", root_patches=("grad",), patch_radius="0.5",
        description="GELU, tanh approximation: x/2*(1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))).",
        citation="Hendrycks & Gimpel (2016); torch gelu(approximate='tanh')",
        forward=gelu_tanh_xgate(x),
        grad=gelu_tanh_slope(x),
    ),
    Activation(
        "silu", x / (1 + sp.exp(-x)), family="gated", root_patches=("grad",), aliases=("swish1",),
        description="Sigmoid linear unit: x*sigmoid(x).",
        citation="Elfwing, Uchibe & Doya (2018); Ramachandran et al. (2017)",
        forward=PW((_silu_tail[0], x < -64), (fclip(x, -BIG, sp.oo) * sigmoid_stable(x, _silu_s / _TWO64), True)),
        grad=PW((_silu_tail[1], x < -64), (_swish_grad(x, 1, _silu_s / _TWO64), True)),
        # one exponential instead of two: e^-x is finite for x >= -80 in float32 and float64
        fast_forward=x / (1 + sp.exp(-x)), fast_grad=_swish_fast_grad(x, 1), fast_region=x >= -80,
    ),
    Activation(
        "swish", x / (1 + sp.exp(-beta * x)), params=(Param("beta", sp.Integer(1)),), family="gated",
        wide_float32=("grad_params",),  # d/dbeta: e^-|beta x| subnormal in float32 where x^2 times it is not
        root_patches=("grad",), patch_scale=beta,  # f'(x) = silu'(beta x): SiLU's patches at any beta
        description="Swish: x*sigmoid(beta x); beta = 1 is SiLU, beta = 0 is x/2.",
        citation="Ramachandran, Zoph & Le, Searching for activation functions (2017)",
        # beta = 0 is x/2 (derivative 1/2, d/dbeta x^2/4): beta*x would be 0*inf = NaN at x = +-inf
        forward=PW((x / 2, sp.Eq(beta, 0)), (_swish_tail_t[0], beta * x < -64),
                   (PW((x, beta * x >= 0), (bguard, True)) * sigmoid_stable(beta * x, _swish_e), True)),
        grad=PW((R(1, 2), sp.Eq(beta, 0)), (_swish_tail_t[1], beta * x < -64),
                (_swish_grad(beta * x, beta, _swish_e, bguard), True)),
        grad_params=(("beta", PW((x**2 / 4, sp.Eq(beta, 0)), (_swish_tail_p[2], sp.Abs(beta * _x127) > 64),
                                 (bguard**2 * _sigmoid_slope(beta * x, _swish_e_clipped), True))),),
        fast_forward=x / (1 + exp_mul(x, -beta)), fast_grad=_swish_fast_grad(beta * x, beta, exp_mul(x, -beta), bguard),
        fast_region=(beta * x >= -80) & sp.Ne(beta, 0),  # beta = 0: beta*x is NaN at +-inf, so the stable forms
        overflow_ok="at beta = 0, df/dbeta = x^2/4 exceeds the largest float for |x| > 2 sqrt(max): +-inf is then the correctly rounded value",
    ),
    Activation(
        "mish", x * sp.tanh(sp.log(1 + sp.exp(x))), family="gated", wide_float32=("grad",), root_patches=("grad",),
        description="Mish: x*tanh(softplus(x)).",
        citation="Misra, Mish: a self regularized non-monotonic activation (2019)",
        forward=PW((_mish_tail[0], x < -64), (fclip(x, -BIG, sp.oo) * _mish_num / _mish_den, True)),
        grad=PW((_mish_tail[1], x < -64),
                (_mish_num / _mish_den + 4 * guard * _mish_u * _mish_v**2 * (_mish_u + _mish_v) / _mish_den**2, True)),
        # one exponential e = e^x: tanh(softplus(x)) = n/(n + 2), n = e(e + 2); f' = n/(n + 2) + 4x e(1 + e)/(n + 2)^2
        fast_forward=x * _mish_n / (_mish_n + 2), fast_grad=_mish_e * _mish_p / (_mish_n + 2) / sp.UnevaluatedExpr(_mish_n + 2),
        fast_region=sp.Abs(x) <= 40,
    ),
    Activation(
        "hardswish", PW((0, x < -3), (x * (x + 3) / 6, x <= 3), (x, True)), family="gated",
        description="Hard swish: x*relu6(x + 3)/6.",
        citation="Howard et al., Searching for MobileNetV3 (2019)",
        # x * (clip(x + 3, 0, 6) * fl(1/6)): beyond 3 the factor rounds to exactly 1, so f = x there
        forward=fclip(x, -BIG, sp.oo) * sp.UnevaluatedExpr(clip(x + 3, 0, 6) / 6),
        # without the guard (-inf*0 at -inf) where x >= -2^60: four passes over one buffer
        fast_forward=x * sp.UnevaluatedExpr(clip(x + 3, 0, 6) / 6), fast_region=x >= -BIG,
        grad=PW((0, x < -3), (1, x > 3), (sp.UnevaluatedExpr(2 * fclip(x, -3, 3) + 3) / 6, True)),  # exact near the root -3/2
    ),
]
