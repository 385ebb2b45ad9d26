"""S-shaped and bounded activations."""
from __future__ import annotations

import sympy as sp

from ..activation import Activation
from ..functions import expm1, fclip, log1p
from ._forms import BIG, ISRU_OVERFLOW, PW, R, X, Y, Param, clip, positive, sigmoid_neg_stable, sigmoid_stable

x, y = X, Y
_e = sp.exp(-sp.Abs(x))
_e2 = sp.exp(-2 * fclip(sp.Abs(x), 0, BIG))  # tail guard: -2|x| never overflows

_isru_u = 1 / fclip(sp.Abs(X), 1, sp.oo)  # 1/|x| beyond 1 (a branch guard)
_isru_w = sp.UnevaluatedExpr(1 / (sp.Symbol("alpha", real=True) + (1 / fclip(sp.Abs(x), 1, sp.oo)) ** 2))  # 1/s, s = alpha + 1/x^2
_isru_y = fclip(sp.Abs(y), 0, 1 / sp.sqrt(sp.Symbol("alpha", real=True)))  # |y| clamped to the range

ACTIVATIONS = [
    Activation(
        "sigmoid", 1 / (1 + sp.exp(-x)), family="sigmoidal", aliases=("logistic", "expit"),
        description="Logistic sigmoid: squashes the line into (0, 1).",
        citation="Verhulst (1845); Rumelhart, Hinton & Williams (1986)",
        forward=sigmoid_stable(x),
        grad=_e / (1 + _e) ** 2,
        # one exponential instead of two: e^-x is finite for x >= -80 in float32 and float64
        fast_forward=1 / (1 + sp.exp(-x)), fast_region=x >= -80,
        grad_from_output=fclip(y, 0, 1) * (1 - fclip(y, 0, 1)),  # y clamped to the range [0, 1]
    ),
    Activation(
        "tanh", sp.tanh(x), family="sigmoidal",
        description="Hyperbolic tangent: a zero-centred sigmoid with range (-1, 1).",
        citation="LeCun et al., Efficient BackProp (1998)",
        grad=4 * _e2 / (1 + _e2) ** 2,
        # 1 - y is exact near |y| = 1 (1 - y**2 would round y**2 first); y clamped to the range [-1, 1]
        grad_from_output=(1 - fclip(y, -1, 1)) * (1 + fclip(y, -1, 1)),
    ),
    Activation(
        "hardtanh", PW((sp.Symbol("min_val", real=True), x <= sp.Symbol("min_val", real=True)),
                       (sp.Symbol("max_val", real=True), x >= sp.Symbol("max_val", real=True)), (x, True)),
        params=(Param("min_val", sp.Integer(-1)), Param("max_val", sp.Integer(1))),
        constraint=sp.Symbol("min_val", real=True) < sp.Symbol("max_val", real=True),
        family="sigmoidal", description="Hard tanh: the identity clipped to [min_val, max_val].",
        citation="Collobert (2004)",
        forward=clip(x, sp.Symbol("min_val", real=True), sp.Symbol("max_val", real=True)),
        grad_from_output=PW((1, (y > sp.Symbol("min_val", real=True)) & (y < sp.Symbol("max_val", real=True))), (0, True)),
    ),
    Activation(
        "hardsigmoid", PW((0, x <= -3), (1, x >= 3), (x / 6 + R(1, 2), True)), family="sigmoidal",
        description="Hard sigmoid: relu6(x + 3)/6, a piecewise-linear sigmoid.",
        citation="Howard et al., Searching for MobileNetV3 (2019)",
        forward=clip(sp.UnevaluatedExpr(x + 3) / 6, 0, 1),  # x + 3 is exact near -3; x/6 + 1/2 would cancel
        grad_from_output=PW((R(1, 6), (y > 0) & (y < 1)), (0, True)),
    ),
    Activation(
        "sparse_sigmoid", PW((0, x <= -1), (1, x >= 1), ((x + 1) / 2, True)), family="sigmoidal",
        description="Sparse sigmoid: clip((x + 1)/2, 0, 1), exactly 0 or 1 outside [-1, 1].",
        citation="Martins & Astudillo, From softmax to sparsemax (2016); jax.nn.sparse_sigmoid",
        forward=clip(x / 2 + R(1, 2), 0, 1),
        grad_from_output=PW((R(1, 2), (y > 0) & (y < 1)), (0, True)),
    ),
    Activation(
        "log_sigmoid", -sp.log(1 + sp.exp(-x)), family="sigmoidal",
        description="Log-sigmoid: log(sigmoid(x)) = -softplus(-x).",
        citation="torch.nn.LogSigmoid",
        forward=sp.Min(x, 0) - log1p(_e),
        grad=sigmoid_neg_stable(x),
        # one exponential, no branch (as softplus): e^-x is finite and normal for |x| <= 80
        fast_forward=-log1p(sp.exp(-x)), fast_grad=1 / (1 + sp.exp(x)), fast_region=sp.Abs(x) <= 80,
        grad_from_output=-expm1(fclip(y, -sp.oo, 0)),
    ),
    Activation(
        "softsign", x / (1 + sp.Abs(x)), family="sigmoidal",
        description="Softsign: x/(1 + |x|), polynomial tails.",
        citation="Turian, Bergstra & Bengio (2009)",
        forward=fclip(x, -BIG, BIG) / (1 + sp.Abs(fclip(x, -BIG, BIG))),
        grad=(1 / (1 + sp.Abs(x))) ** 2,
        # without the guard (inf/inf at +-inf) where |x| <= 2^60: three passes over one buffer
        fast_forward=x / (1 + sp.Abs(x)), fast_region=sp.Abs(x) <= BIG,
        grad_from_output=(1 - sp.Abs(fclip(y, -1, 1))) ** 2,
    ),
    Activation(
        "arctan", sp.atan(x), family="sigmoidal",
        description="Arctangent: range (-pi/2, pi/2), slowly saturating.",
        citation="common in early neural network literature",
        grad=PW((1 / (1 + fclip(x, -1, 1) ** 2), sp.Abs(x) <= 1),
                ((1 / fclip(sp.Abs(x), 1, sp.oo)) ** 2 / (1 + (1 / fclip(sp.Abs(x), 1, sp.oo)) ** 2), True)),
        grad_from_output=sp.cos(y) ** 2,
        # 1/(1 + x^2) directly (three passes, within 1.5 ULP) where x^2 cannot overflow; beyond, the form above
        fast_grad=1 / (1 + x**2), fast_region=sp.Abs(x) <= 2**500, fast_region32=sp.Abs(x) <= 2**60,
    ),
    Activation(
        "isru", x / sp.sqrt(1 + sp.Symbol("alpha", real=True) * x**2),
        params=(Param("alpha", sp.Integer(1), positive),), family="sigmoidal",
        description="Inverse square root unit: x/sqrt(1 + alpha x^2), range (-1/sqrt(alpha), 1/sqrt(alpha)).",
        citation="Carlile et al., Improving deep learning by inverse square root linear units (2017)",
        forward=PW((fclip(x, -1, 1) / sp.sqrt(1 + sp.Symbol("alpha", real=True) * fclip(x, -1, 1) ** 2), sp.Abs(x) <= 1),
                   (sp.sign(x) / sp.sqrt(sp.Symbol("alpha", real=True) + (1 / fclip(sp.Abs(x), 1, sp.oo)) ** 2), True)),
        # beyond 1, (u/sqrt(alpha + u^2))^3 with u = 1/|x|: u^3 alone is subnormal (and alpha^(-3/2) may
        # overflow) where the result is not, for alpha < 1
        grad=PW(((1 + sp.Symbol("alpha", real=True) * fclip(x, -1, 1) ** 2) ** R(-3, 2), sp.Abs(x) <= 1),
                (sp.UnevaluatedExpr(_isru_u / sp.sqrt(sp.Symbol("alpha", real=True) + _isru_u ** 2)) ** 3, True)),
        # where alpha x^2 and its 3/2 power are finite (float32 included), the direct forms
        fast_forward=x / sp.sqrt(1 + sp.Symbol("alpha", real=True) * x**2),
        fast_grad=(1 + sp.Symbol("alpha", real=True) * x**2) ** R(-3, 2),
        # alpha <= 2^40 too: alpha x^2 <= 2^120 is finite in float32 (alpha = 1e30 gave x/inf = 0)
        fast_region=(sp.Abs(x) <= 2**40) & (sp.Symbol("alpha", real=True) <= 2**40),
        overflow_ok=ISRU_OVERFLOW,
        grad_from_output=(fclip(1 - sp.sqrt(sp.Symbol("alpha", real=True)) * _isru_y, 0, 1)
                          * (1 + sp.sqrt(sp.Symbol("alpha", real=True)) * _isru_y)) ** R(3, 2),
        grad_params=(("alpha", PW((-fclip(x, -1, 1) ** 3 / 2 * (1 + sp.Symbol("alpha", real=True) * fclip(x, -1, 1) ** 2) ** R(-3, 2),
                                   sp.Abs(x) <= 1),
                                  # (w/2) sqrt(w), w = 1/s, for s^(-3/2)/2, as isrlu's: s^(3/2) underflows to 0 for tiny alpha
                                  (-sp.sign(x) * sp.UnevaluatedExpr(_isru_w / 2) * sp.sqrt(_isru_w), True))),),
    ),
    Activation(
        "sqnl", PW((-1, x < -2), (x + x**2 / 4, x < 0), (x - x**2 / 4, x <= 2), (1, True)), family="sigmoidal",
        description="Square nonlinearity: a quadratic sigmoid reaching -1 and 1 at -2 and 2.",
        citation="Wuraola & Patel, SQNL (2018)",
        forward=clip(x, -2, 2) - clip(x, -2, 2) * sp.Abs(clip(x, -2, 2)) / 4,
        grad=1 - sp.Abs(clip(x, -2, 2)) / 2,
        grad_from_output=sp.sqrt(1 - sp.Abs(fclip(y, -1, 1))),
    ),
    Activation(
        "binary_step", PW((0, x < 0), (1, True)), family="sigmoidal", aliases=("heaviside", "step"),
        description="Binary step: 0 for x < 0, 1 for x >= 0 (the perceptron's threshold unit).",
        citation="Rosenblatt (1958)",
        forward=sp.Heaviside(x, 1),
        grad_from_output=sp.Integer(0),
    ),
]
