"""Smooth gates: x times a sigmoid-like gate (GELU, SiLU/Swish, Mish, hard-swish)."""
from __future__ import annotations

import sympy as sp

from ..activation import Activation
from ..functions import GELU_TANH_K, fclip, gelu_tanh_gate, gelu_tanh_gate_grad, ndtr, npdf
from ._forms import BIG, PW, R, X, Param, sigmoid_stable

x = X
beta = sp.Symbol("beta", real=True)
guard = fclip(x, -BIG, BIG)  # tail guard: the gate's limit times x
_e = sp.exp(-fclip(sp.Abs(x), 0, BIG))  # tail guard: e**2 = exp(-2|x|) never overflows


def _swish_grad(t: sp.Expr, scale: sp.Expr) -> sp.Expr:
    """d/dx x*sigmoid(t) with t = scale*x: sigmoid(t) + t*sigmoid(t)*sigmoid(-t)."""
    e = sp.exp(-sp.Abs(t))
    return sigmoid_stable(t) + scale * guard * e / (1 + e) ** 2


# mish: tanh(softplus(x)) = n/(n + 2) with n = e^x (e^x + 2); written with e = exp(-|x|) <= 1
_mish_pos_den = 1 + 2 * _e + 2 * _e**2
_mish_neg_n = _e * (_e + 2)

ACTIVATIONS = [
    Activation(
        "gelu", x / 2 * (1 + sp.erf(x / sp.sqrt(2))), family="gated", wide_float32=("forward", "grad"), root_patches=("grad",),
        description="Gaussian error linear unit: x*Phi(x) with Phi the standard normal CDF (exact, erf).",
        citation="Hendrycks & Gimpel, Gaussian error linear units (2016)",
        forward=fclip(x, -BIG, sp.oo) * ndtr(x),
        grad=ndtr(x) + guard * npdf(x),
    ),
    Activation(
        "gelu_tanh", x / 2 * (1 + sp.tanh(sp.sqrt(2 / sp.pi) * (x + GELU_TANH_K * x**3))), family="gated", wide_float32=("forward", "grad"), root_patches=("grad",),
        description="GELU, tanh approximation: x/2*(1 + tanh(sqrt(2/pi)(x + 0.044715 x^3))).",
        citation="Hendrycks & Gimpel (2016); torch gelu(approximate='tanh')",
        forward=fclip(x, -BIG, sp.oo) * gelu_tanh_gate(x),
        grad=gelu_tanh_gate(x) + guard * gelu_tanh_gate_grad(x),
    ),
    Activation(
        "silu", x / (1 + sp.exp(-x)), family="gated", wide_float32=("forward", "grad"), root_patches=("grad",), aliases=("swish1",),
        description="Sigmoid linear unit: x*sigmoid(x).",
        citation="Elfwing, Uchibe & Doya (2018); Ramachandran et al. (2017)",
        forward=fclip(x, -BIG, sp.oo) * sigmoid_stable(x),
        grad=_swish_grad(x, 1),
    ),
    Activation(
        "swish", x / (1 + sp.exp(-beta * x)), params=(Param("beta", sp.Integer(1)),), family="gated", wide_float32=("forward", "grad"), root_patches=("grad",),
        description="Swish: x*sigmoid(beta x); beta = 1 is SiLU, beta = 0 is x/2.",
        citation="Ramachandran, Zoph & Le, Searching for activation functions (2017)",
        forward=PW((x, beta * x >= 0), (guard, True)) * sigmoid_stable(beta * x),
        grad=_swish_grad(beta * x, beta),
        grad_params=(("beta", guard**2 * sp.exp(-sp.Abs(beta * x)) / (1 + sp.exp(-sp.Abs(beta * x))) ** 2),),
    ),
    Activation(
        "mish", x * sp.tanh(sp.log(1 + sp.exp(x))), family="gated", wide_float32=("forward", "grad"), root_patches=("grad",),
        description="Mish: x*tanh(softplus(x)).",
        citation="Misra, Mish: a self regularized non-monotonic activation (2019)",
        forward=PW((x * (1 + 2 * _e) / _mish_pos_den, x >= 0),
                   (fclip(x, -BIG, 0) * _mish_neg_n / (_mish_neg_n + 2), True)),
        grad=PW(((1 + 2 * _e) / _mish_pos_den + 4 * guard * _e**2 * (1 + _e) / _mish_pos_den**2, x >= 0),
                (_mish_neg_n / (_mish_neg_n + 2) + 4 * guard * _e * (1 + _e) / (_mish_neg_n + 2) ** 2, True)),
    ),
    Activation(
        "hardswish", PW((0, x < -3), (x * (x + 3) / 6, x <= 3), (x, True)), family="gated",
        description="Hard swish: x*relu6(x + 3)/6.",
        citation="Howard et al., Searching for MobileNetV3 (2019)",
        forward=PW((0, x < -3), (fclip(x, -3, 3) * (fclip(x, -3, 3) + 3) / 6, x <= 3), (x, True)),
        grad=PW((0, x < -3), (1, x > 3), (sp.UnevaluatedExpr(2 * fclip(x, -3, 3) + 3) / 6, True)),  # exact near the root -3/2
    ),
]
