"""Sample user implementations for tests/test_verify.py: correct ones and the classic bugs.

Each buggy function is named after its bug; the test asserts that verify() fails it and names the problem.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.special

# ---------------------------------------------------------------------------------------------
# correct
# ---------------------------------------------------------------------------------------------
expit = scipy.special.expit
tanh = np.tanh


def softplus_logaddexp(x):
    return np.logaddexp(0, x)


def elu_expm1(x):
    return np.where(x > 0, x, np.expm1(np.minimum(x, 0)))


def relu_good(x):
    return np.maximum(x, 0)  # NaN propagates through np.maximum


def relu_grad_good(x):
    x = np.asarray(x)
    return np.where(np.isnan(x), x, (x > 0).astype(x.dtype))


def relu_grad_right(x):
    """relu' with the right-hand convention at 0 (1 at x = 0): accepted, reported as 'right'."""
    x = np.asarray(x)
    return np.where(np.isnan(x), x, (x >= 0).astype(x.dtype))


def sigmoid_grad_stable(x):
    s = scipy.special.expit(x)
    return s * scipy.special.expit(-x)


def leaky_relu_good(x, negative_slope=0.01):
    return np.where(x >= 0, x, negative_slope * x)


# ---------------------------------------------------------------------------------------------
# buggy
# ---------------------------------------------------------------------------------------------
def softplus_threshold(x):
    """PyTorch-style threshold: x above 20 (off by e^-x there)."""
    return np.where(x > 20, x, np.log1p(np.exp(np.minimum(x, 20))))


def softplus_naive(x):
    return np.log(1 + np.exp(x))


def gelu_tanh_as_exact(x):
    return 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3)))


def gelu_erf_naive(x):
    return 0.5 * x * (1 + scipy.special.erf(x / math.sqrt(2)))


def elu_exp_minus_one(x):
    return np.where(x > 0, x, np.exp(np.minimum(x, 0)) - 1)


def sigmoid_grad_naive(x):
    s = scipy.special.expit(x)
    return s * (1 - s)


def leaky_relu_wrong_slope(x, negative_slope=0.01):
    return np.where(x >= 0, x, 0.1 * x)


def leaky_relu_ignores_param(x, negative_slope=0.01):
    return np.where(x >= 0, x, 0.01 * x)


def relu_where_swallows_nan(x):
    return np.where(x > 0, x, 0.0)


def relu_upcast(x):
    return np.maximum(np.asarray(x, dtype=np.float64), 0.0)


def relu_in_place(x):
    np.maximum(x, 0, out=x)
    return x


def hardtanh_no_upper_clip(x):
    return np.maximum(x, -1.0)


def raises_always(x):
    raise RuntimeError("not implemented")


def sigmoid_naive(x):
    """Accurate enough everywhere, but exp(-x) overflows for x < -709: a warning (fails only when strict)."""
    return 1 / (1 + np.exp(-x))


def relu_grad_half(x):
    """relu' with 0.5 at the kink: between the one-sided derivatives, accepted."""
    x = np.asarray(x)
    return np.where(x > 0, 1.0, np.where(x == 0, 0.5, np.where(x < 0, 0.0, x))).astype(x.dtype)


def relu_grad_two_at_kink(x):
    x = np.asarray(x)
    return np.where(x > 0, 1.0, np.where(x == 0, 2.0, np.where(x < 0, 0.0, x))).astype(x.dtype)


def numpy_rejecting(x):
    """A 'framework' function that rejects NumPy arrays (like a torch-only function)."""
    if isinstance(x, np.ndarray):
        raise TypeError("expected a Tensor, got numpy.ndarray")
    return x


def relu_0d_breaks(x):
    """Works on arrays but turns 0-d input into shape (1,)."""
    return np.maximum(np.atleast_1d(x), 0)
