"""Rectifiers: ReLU and its family (piecewise-linear, exponential and smooth variants)."""
from __future__ import annotations

import sympy as sp

from ..activation import Activation
from ..functions import exp_div, exp_mul, exp_times, expm1, expm1_div, fclip, gammainc2, hypot, log1p, mask
from ._forms import BIG, ISRU_OVERFLOW, PW, R, X, Y, Param, clip, nonnegative, positive

x, y = X, Y
S = lambda name: sp.Symbol(name, real=True)  # noqa: E731
alpha, beta, b, a = S("alpha"), S("beta"), S("b"), S("negative_slope")
neg = fclip(x, -sp.oo, 0)  # branch guard for the x <= 0 pieces

_softplus_e = exp_mul(sp.Abs(x), -beta)  # e^(-|beta x|) for beta > 0
# |x| clipped to 2^60/beta in d/dbeta (|x| E is not inf*0 at x = +-inf), at most 2^120: at 2^60 it cut
# |x| E for beta < 1e-15 (beta = 1e-20: x = -3e22, beta |x| = 306, gave 2^60 E)
_softplus_bound = BIG / sp.Max(beta, R(1, 2**60))
_isrlu_v = -1 / fclip(x, -sp.oo, -1)  # -1/x below -1 (a branch guard)
_isrlu_w = sp.UnevaluatedExpr(1 / (alpha + (1 / fclip(x, -sp.oo, -1)) ** 2))  # d/dalpha: 1/s, s = alpha + 1/x^2
_isrlu_y = fclip(y, -1 / sp.sqrt(alpha), 0)  # y clamped to the negative part of the range
# squareplus derivative, branch x >= 0: tail guard (G/H -> 1, not inf/inf) at 2^60 max(1, sqrt(b)), where
# 1 - G/H ~ b/(4x^2) <= 2^-122 (at 2^60 alone: b = 1e30 gave 1 - 2e-7 for every x beyond it)
_sq_bound = BIG * sp.Max(1, sp.sqrt(b))
_sq_t = fclip(x, -_sq_bound, _sq_bound)


def _sq_g(t: sp.Expr) -> sp.Expr:
    """Squareplus: G = (hypot(t, sqrt(b)) + |t|)/2, halved term by term so it never overflows."""
    return hypot(t, sp.sqrt(b)) / 2 + sp.Abs(t) / 2


# squareplus where x^2 is finite: q + max(x, 0) with q = (b/2)/(sqrt(x^2 + b) + |x|), the smaller root's half
# ((sqrt(x^2 + b) - |x|)/2: for x >= 0, f = x + q; for x < 0, f = q), a sum of two non-negative terms
_sq_fast = b / 2 / sp.UnevaluatedExpr(sp.sqrt(x**2 + b) + sp.Abs(x)) + sp.Max(x, 0)


def _elu_forms(neg_part: sp.Expr, alpha: sp.Expr = sp.S.One, slope: sp.Expr = sp.S.One) -> dict:
    """ELU family: neg_part + slope*max(x, 0), neg_part = scale*expm1(min(x, 0)/alpha) (exactly 0 beyond 0).

    A sum instead of a select: an expm1 pass and two cheap ones (the hand-written form's passes), no
    mask. float32 input computed in float32 uses NumPy's float32 expm1, within 1.01 ULP for |u| >= 1/16
    but up to 2.4 ULP on [-1/16, -1/1000] where it is a SIMD loop (AVX-512; scaled by alpha, up to twice
    that in ULPs of the result): the elements with -alpha/16 < x < 0 get the form in float64. (An earlier
    fast form e^u - 1, with expm1 only near 0, paid off only where NumPy's expm1 is a scalar loop and its
    exp a SIMD one; with both SIMD its region test and fix-up cost more than the expm1.)
    """
    form = neg_part + slope * sp.Max(x, 0)
    return {"forward": form, "fast_forward": form, "fast_region": sp.true,
            "fast_region32": (x >= 0) | (x <= -alpha / 16)}


# SELU's constants from Klambauer et al. (2017), to the digits the paper gives
SELU_ALPHA = R("1.6732632423543772848170429916717")
SELU_SCALE = R("1.0507009873554804934193349852946")


def _slope_unit(name: str, slope: sp.Expr, params: tuple, description: str, citation: str, *, aliases=(),
                constraint=None, from_output=True) -> Activation:
    """x for x > 0, slope*x for x <= 0 (so f'(0) = slope, as PyTorch's backward)."""
    return Activation(
        name, PW((slope * x, x <= 0), (x, True)), params=params, family="rectifier", aliases=aliases,
        description=description, citation=citation, constraint=constraint,
        # slope 0 is relu: 0 for x <= 0, where slope*x would be 0*inf = NaN at x = -inf
        forward=PW((x, x > 0), (0, sp.Eq(slope, 0)), (slope * x, True)),
        grad=PW((1, x > 0), (slope, True)),
        # for 0 < slope <= 1 the larger of x and slope*x: two passes instead of a select (slope 0 would
        # make slope*x NaN at x = +-inf, and max keeps NaN)
        fast_forward=sp.Max(x, slope * x), fast_region=(slope > 0) & (slope <= 1),
        grad_from_output=PW((1, y > 0), (slope, True)) if from_output else None,
        grad_from_output_note="valid for a non-negative slope" if from_output else "",
    )


ACTIVATIONS = [
    Activation(
        "identity", x, family="linear", aliases=("linear",),
        description="Identity: no nonlinearity (a stack of such layers collapses to one linear map).",
        citation="-", grad=sp.Integer(1), grad_from_output=sp.Integer(1),
    ),
    Activation(
        "relu", PW((0, x <= 0), (x, True)), family="rectifier",
        description="Rectified linear unit: max(0, x).",
        citation="Nair & Hinton (2010); Glorot, Bordes & Bengio (2011)",
        forward=sp.Max(x, 0), grad=sp.Heaviside(x, 0), grad_from_output=sp.Heaviside(y, 0),
    ),
    Activation(
        "relu6", PW((0, x <= 0), (6, x >= 6), (x, True)), family="rectifier",
        description="ReLU capped at 6: min(max(0, x), 6).",
        citation="Krizhevsky, Convolutional deep belief networks on CIFAR-10 (2010)",
        forward=clip(x, 0, 6), grad_from_output=PW((1, (y > 0) & (y < 6)), (0, True)),
    ),
    _slope_unit("leaky_relu", a, (Param("negative_slope", R(1, 100), nonnegative),),
                "Leaky ReLU: x for x > 0, negative_slope*x otherwise.",
                "Maas, Hannun & Ng (2013)"),
    _slope_unit("prelu", S("weight"), (Param("weight", R(1, 4)),),
                "Parametric ReLU: a leaky ReLU whose slope `weight` is learned.",
                "He et al., Delving deep into rectifiers (2015)", from_output=False),
    _slope_unit("rrelu", (S("lower") + S("upper")) / 2,
                (Param("lower", R(1, 8), nonnegative), Param("upper", R(1, 3), nonnegative)),
                "Randomized leaky ReLU in evaluation mode: slope (lower + upper)/2 (training samples it).",
                "Xu et al., Empirical evaluation of rectified activations (2015)",
                constraint=S("lower") <= S("upper")),
    Activation(
        "elu", PW((alpha * (sp.exp(x) - 1), x <= 0), (x, True)),
        params=(Param("alpha", sp.Integer(1), positive),), family="rectifier",
        description="Exponential linear unit: x for x > 0, alpha*(e^x - 1) otherwise.",
        citation="Clevert, Unterthiner & Hochreiter (2016)",
        **_elu_forms(alpha * expm1(sp.Min(x, 0))),
        grad=PW((1, x > 0), (exp_times(neg, alpha), True)),  # alpha e^x: e^x subnormal where it is not (alpha > 1)
        # y clamped to the range's negative part [-alpha, 0]: y + alpha overflowed for y, alpha near the largest float
        grad_from_output=PW((1, y > 0), (fclip(y, -alpha, 0) + alpha, True)),
        grad_params=(("alpha", PW((expm1(neg), x <= 0), (0, True))),),
    ),
    Activation(
        "selu", PW((SELU_SCALE * SELU_ALPHA * (sp.exp(x) - 1), x <= 0), (SELU_SCALE * x, True)),
        family="rectifier",
        description="Scaled ELU: scale*elu(x, alpha) with the self-normalising constants.",
        citation="Klambauer et al., Self-normalizing neural networks (2017)",
        **_elu_forms(SELU_SCALE * SELU_ALPHA * expm1(sp.Min(x, 0)), slope=SELU_SCALE),
        grad=PW((SELU_SCALE, x > 0), (SELU_SCALE * SELU_ALPHA * sp.exp(neg), True)),
        grad_from_output=PW((SELU_SCALE, y > 0), (y + SELU_SCALE * SELU_ALPHA, True)),
        wide_float32=("grad_from_output",),
        overflow_ok="scale*x exceeds the largest float for x > max/scale: +-inf is then the correctly rounded value",
    ),
    Activation(
        "celu", PW((alpha * (sp.exp(x / alpha) - 1), x <= 0), (x, True)),
        params=(Param("alpha", sp.Integer(1), positive),), family="rectifier",
        description="Continuously differentiable ELU: x for x > 0, alpha*(e^(x/alpha) - 1) otherwise.",
        citation="Barron, Continuously differentiable exponential linear units (2017)",
        # alpha*expm1(x/alpha) with the quotient's rounding error carried (x/alpha is subnormal for tiny x)
        **_elu_forms(expm1_div(sp.Min(x, 0), alpha), alpha),
        grad=PW((1, x > 0), (exp_div(neg, alpha), True)),  # e^(x/alpha) from the exact quotient
        # y clamped to the range's negative part [-alpha, 0]: y/alpha of a huge y overflowed for alpha < 1
        grad_from_output=PW((1, y > 0), (fclip(y, -alpha, 0) / alpha + 1, True)),
        # x clipped to -800 alpha: x/alpha would overflow for alpha < 1, and P(2, v) is 1 from v = 800 on
        grad_params=(("alpha", PW((-gammainc2(-fclip(x, -800 * alpha, 0) / alpha), x <= 0), (0, True))),),
        # float32 in float64: the clip bound -800 alpha is beyond float32's range for alpha > 4.2e35
        wide_float32=("grad_params",),
    ),
    Activation(
        "softplus", sp.log(1 + sp.exp(beta * x)) / beta,
        params=(Param("beta", sp.Integer(1), positive),), family="rectifier",
        wide_float32=("grad_params",),  # d/dbeta: e^-|beta x| underflows in float32 where it over beta^2 does not
        overflow_ok="df/dbeta = -log(2)/beta^2 at x = 0, beyond the largest float for beta < 6.2e-155: -inf is then the correctly rounded value",
        description="Softplus: log(1 + e^(beta x))/beta, a smooth ReLU (exact, no threshold cut).",
        citation="Dugas et al. (2001)",
        # max(x, 0) + log1p(E)/beta with E = e^(-beta |x|) from the exact product (beta > 0): max(beta x, 0)/beta
        # would overflow beyond max/beta, and e^(-fl(beta |x|)) is off by |beta x|/2 ULP (exact at beta = 1)
        forward=sp.Max(x, 0) + log1p(_softplus_e) / beta,
        grad=sp.Max(_softplus_e, mask(x >= 0)) / (1 + _softplus_e),
        # one exponential, no branch: e^(beta x) is finite and normal for |beta x| <= 80 in float32 and float64,
        # and log1p(e^t) = t + log1p(e^-t) loses nothing to the sum there (log1p's argument keeps its digits)
        fast_forward=log1p(exp_mul(x, beta)) / beta, fast_grad=1 / (1 + exp_mul(x, -beta)),
        fast_region=(x >= -80 / beta) & (x <= 80 / beta),  # beta > 0: |beta x| <= 80, an interval of x
        # y capped where beta y = 2^60 (e^-(beta y) is 0 long before): beta y overflowed for beta > 1.
        # (for beta < 2^-60 the cap is 2^120, finite in float32 too; the saturated 1 is then lost only where
        # beta < 2^-114.7, beta 2^120 < 40, and y > 2^120)
        grad_from_output=-expm1(-beta * fclip(y, 0, _softplus_bound)),
        # |x| E/(1 + E) as |x| s/(2^64 + s), s = E 2^64: E is subnormal below -708.4 where |x| E is not
        grad_params=(("beta", -(sp.UnevaluatedExpr(fclip(sp.Abs(x), 0, _softplus_bound) * exp_mul(sp.Abs(x), -beta, 64))
                                / (2**64 + exp_mul(sp.Abs(x), -beta, 64))
                                + log1p(_softplus_e) / beta) / sp.Max(beta, R(1, 2**1022))),),
    ),
    Activation(
        "squareplus", (x + sp.sqrt(x**2 + b)) / 2,
        params=(Param("b", sp.Integer(4), positive),), family="rectifier",
        description="Squareplus: (x + sqrt(x^2 + b))/2, an algebraic softplus.",
        citation="Barron, Squareplus (2021)",
        # with H = hypot(x, sqrt(b)) and G = H/2 + |x|/2 (no cancellation, no overflow), and (H - x)(H + x) = b:
        # f = G for x >= 0 and (b/4)/G for x < 0; f' = (1 + x/H)/2 = G/H, resp. (b/4)/H/G
        forward=PW((_sq_g(x), x >= 0), (b / 4 / _sq_g(x), True)),
        grad=PW((_sq_g(_sq_t) / hypot(_sq_t, sp.sqrt(b)), x >= 0), (b / 4 / hypot(x, sp.sqrt(b)) / _sq_g(x), True)),
        # 4y^2/(4y^2 + b), the same bits as y^2/(y^2 + b/4) but where b/4 underflows to 0 (0/0 at y = 0)
        grad_from_output=sp.UnevaluatedExpr(4 * fclip(y, 0, BIG) ** 2) / (4 * fclip(y, 0, BIG) ** 2 + b),
        grad_params=(("b", 1 / (4 * hypot(x, sp.sqrt(b)))),),
        # where x^2 is finite: sqrt for hypot, and _sq_fast for the select; f' = f/H
        fast_forward=_sq_fast, fast_grad=_sq_fast / sp.sqrt(x**2 + b),
        fast_region=sp.Abs(x) <= 2**500, fast_region32=sp.Abs(x) <= 2**60,
    ),
    Activation(
        "sparse_plus", PW((0, x <= -1), ((x + 1) ** 2 / 4, x < 1), (x, True)), family="rectifier",
        description="Sparse plus: 0 for x <= -1, (x + 1)^2/4 on (-1, 1), x for x >= 1.",
        citation="jax.nn.sparse_plus; Martins et al., Sparse continuous distributions (2020)",
        forward=PW((x, x >= 1), ((clip(x, -1, 1) + 1) ** 2 / 4, True)),
        # branch-free: the quadratic is exactly 1 beyond 1, and 1 + (x - 1) = x while x - 1 is exact
        fast_forward=(clip(x, -1, 1) + 1) ** 2 / 4 + sp.Max(x - 1, 0), fast_region=x <= 2**52,
        grad=(clip(x, -1, 1) + 1) / 2,
        grad_from_output=sp.sqrt(fclip(sp.Min(y, 1), 0, 1)),
    ),
    Activation(
        "isrlu", PW((x / sp.sqrt(1 + alpha * x**2), x < 0), (x, True)),
        params=(Param("alpha", sp.Integer(1), positive),), family="rectifier",
        description="Inverse square root linear unit: x for x >= 0, x/sqrt(1 + alpha x^2) otherwise.",
        citation="Carlile et al. (2017)",
        forward=PW((x, x >= 0), (fclip(x, -1, 0) / sp.sqrt(1 + alpha * fclip(x, -1, 0) ** 2), x >= -1),
                   (-1 / sp.sqrt(alpha + (1 / fclip(x, -sp.oo, -1)) ** 2), True)),
        grad=PW((1, x >= 0), ((1 + alpha * fclip(x, -1, 0) ** 2) ** R(-3, 2), x >= -1),
                # (v/sqrt(alpha + v^2))^3, v = -1/x: v^3 alone is subnormal where the result is not (alpha < 1)
                (sp.UnevaluatedExpr(_isrlu_v / sp.sqrt(alpha + _isrlu_v**2)) ** 3, True)),
        # where alpha x^2 and its 3/2 power are finite (float32 included), the direct forms (1 beyond 0)
        fast_forward=x / sp.sqrt(1 + alpha * sp.Min(x, 0) ** 2), fast_grad=(1 + alpha * sp.Min(x, 0) ** 2) ** R(-3, 2),
        fast_region=(x >= -2**40) & (alpha <= 2**40),  # alpha x^2 <= 2^120: finite in float32
        overflow_ok=ISRU_OVERFLOW,
        grad_from_output=PW((1, y >= 0), ((fclip(1 + sp.sqrt(alpha) * _isrlu_y, 0, 1)
                                           * (1 - sp.sqrt(alpha) * _isrlu_y)) ** R(3, 2), True)),
        grad_params=(("alpha", PW((0, x >= 0), (-fclip(x, -1, 0) ** 3 / 2 * (1 + alpha * fclip(x, -1, 0) ** 2) ** R(-3, 2), x >= -1),
                                  # (w/2) sqrt(w), w = 1/s, s = alpha + 1/x^2 >= alpha: s^(3/2) underflows to 0 for tiny
                                  # alpha (a division by zero), w is finite, the product overflows only where the result does
                                  (sp.UnevaluatedExpr(_isrlu_w / 2) * sp.sqrt(_isrlu_w), True))),),
    ),
    Activation(
        "threshold", PW((x, x > S("threshold")), (S("value"), True)),
        params=(Param("threshold", R(1, 10)), Param("value", sp.Integer(20))), family="rectifier",
        description="Threshold: x where x > threshold, else value.",
        citation="torch.nn.Threshold",
        forward=PW((S("value"), x <= S("threshold")), (x, True)),
    ),
    Activation(
        "bent_identity", (sp.sqrt(x**2 + 1) - 1) / 2 + x, family="rectifier",
        description="Bent identity: (sqrt(x^2 + 1) - 1)/2 + x, slope 1/2 on the left, 3/2 on the right.",
        citation="common; see e.g. Godfrey & Gashler (2015)",
        forward=x * (1 + fclip(x, -BIG, BIG) / (hypot(fclip(x, -BIG, BIG), 1) + 1) / 2),
        grad=1 + fclip(x, -BIG, BIG) / (2 * hypot(fclip(x, -BIG, BIG), 1)),
        # where x^2 is finite (float32 included), sqrt(x^2 + 1) directly instead of hypot
        # (x/(2s + 2) is x/2/(s + 1) exactly, and chains through one buffer)
        fast_forward=x * (1 + x / (2 * sp.sqrt(x**2 + 1) + 2)), fast_grad=1 + x / (2 * sp.sqrt(x**2 + 1)),
        fast_region=sp.Abs(x) <= 2**40,
        overflow_ok="f(x) ~ 3x/2 exceeds the largest float for x > 2*max/3: +inf is then the correctly rounded value",
    ),
]
