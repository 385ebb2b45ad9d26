"""The input battery used to test generated code, and certified reference values for it.

Inputs per dtype: +-0, subnormals, the smallest normal, +-1, the largest finite, log-spaced
magnitudes over the whole exponent range on both signs, a dense grid on [-40, 40], grids where e^x
and e^(2x) underflow, random points and every breakpoint of the activation (and of its derivative)
with float neighbours.
Infinities and NaN are left to the contract tests (they have limits, not values).
"""
from __future__ import annotations

import numpy as np
import sympy as sp

from .activation import X, Y, Activation
from .cache import digest, load_array, store_array
from .functions import rewrite_elementary
from .reference import ReferenceEvaluationError, reference_values

__all__ = ["battery", "breakpoints_of", "neighbours", "reference_for", "ReferenceEvaluationError"]


def breakpoints_of(act: Activation) -> list[float]:
    pts: set[float] = set()
    for pieces in (act.pieces(), act.derivative_pieces()):
        for pc in pieces:
            for b in (pc.lo, pc.hi):
                if b.is_finite:
                    pts.add(float(b))
    return sorted(pts)


def neighbours(vals: np.ndarray, dt, steps: int) -> list[np.ndarray]:
    """vals and their `steps` nearest floats of dtype dt on each side."""
    out = [vals]
    for direction in (np.inf, -np.inf):
        k = vals
        for _ in range(steps):
            k = np.nextafter(k, np.array(direction, dtype=dt))
            out.append(k)
    return out


def battery(act: Activation, dtype, n_random: int = 200, seed: int = 1234) -> np.ndarray:
    """Finite test inputs for act in dtype (sorted, unique)."""
    dt = np.dtype(dtype)
    fi = np.finfo(dt)
    vals: list[np.ndarray] = []
    tiny_sub = np.array(fi.smallest_subnormal, dtype=dt)
    specials = [0.0, fi.smallest_subnormal, fi.smallest_normal - fi.smallest_subnormal, fi.smallest_normal, 1.0, fi.max]
    vals.append(np.array(specials, dtype=dt))
    lo_exp = int(np.log2(float(tiny_sub)))
    hi_exp = int(fi.maxexp) - 1
    exps = np.arange(lo_exp, hi_exp + 1, 4 if dt == np.float64 else 1)
    rng = np.random.default_rng(seed)
    mags = np.ldexp(1.0 + rng.random(exps.size) * 0.999, exps)
    with np.errstate(over="ignore", under="ignore"):
        vals.append(mags.astype(dt))
        vals.append(np.ldexp(1.0, exps).astype(dt))
    vals.append(np.arange(-40.0, 40.0 + 1e-9, 0.125).astype(dt))
    vals.append((rng.standard_normal(n_random // 2) * 10).astype(dt))
    vals.append(rng.uniform(-40, 40, n_random - n_random // 2).astype(dt))
    # where e^x and e^(2x) turn subnormal while x e^x, x^2 e^x (e^(2x) ...) are still normal: a grid of
    # 1/16 on the 16 units below log(smallest normal) and half of it
    edge = float(np.log(fi.smallest_normal))
    for c in (edge, edge / 2):
        vals.append(np.arange(c - 12.0, c + 4.0, 1.0 / 16).astype(dt))
    vals.extend(neighbours(np.array(breakpoints_of(act), dtype=dt), dt, 2))
    allv = np.concatenate(vals).astype(dt)
    allv = np.concatenate([allv, -allv])
    allv = allv[np.isfinite(allv)]
    return np.unique(allv)


def _stable_elementary(act: Activation, which: str) -> sp.Expr | None:
    forms = act.stable_forms
    sub = act.substitution()
    form = {"forward": forms.forward, "grad": forms.grad}.get(which)
    if form is None:
        return None
    return rewrite_elementary(form.subs(sub))


def reference_for(act: Activation, which: str, xs: np.ndarray, dtype, allow_uncertified: bool = False) -> np.ndarray:
    """Certified reference of the definition ('forward'), its derivative ('grad'), the derivative as a
    function of y ('grad_from_output', xs are outputs y) or a parameter derivative ('param:<name>').

    Points the definition cannot be evaluated at in ball arithmetic (exp of a huge argument) are
    evaluated through the stable form, which was proven equal to the definition. A point neither
    can certify (a value within 2**-16000 of a rounding boundary) raises, or with
    allow_uncertified gives NaN for the caller to exclude and count.
    """
    sub = act.substitution()
    if which == "forward":
        expr, var = act.definition(), X
    elif which == "grad":
        expr, var = act.derivative(), X
    elif which == "grad_from_output":
        expr, var = act.stable_forms.grad_from_output.subs(sub), Y
        expr = rewrite_elementary(expr)
    elif which.startswith("param:"):
        pname = which.split(":", 1)[1]
        expr, var = act.param_derivatives()[pname].subs(sub), X
    else:
        raise ValueError(which)
    try:
        return reference_values(expr, var, xs, dtype)
    except ReferenceEvaluationError:
        pass
    # point by point, falling back to the proven stable form; cached as a whole (reference_values
    # caches only whole arrays it could certify)
    alt = _stable_elementary(act, which)
    key = digest("reference_for.v1", sp.srepr(expr), sp.srepr(alt), str(var), np.dtype(dtype).name,
                 str(np.shape(xs)), str(allow_uncertified), np.ascontiguousarray(xs, dtype=np.float64).tobytes().hex())
    hit = load_array("reference", key, np.shape(xs), dtype)
    if hit is not None:
        return hit
    out = np.empty(np.shape(xs), dtype=dtype)
    flat_in, flat_out = np.ravel(xs), out.ravel()
    for i, v in enumerate(flat_in):
        pt = np.array([v])
        try:
            flat_out[i] = reference_values(expr, var, pt, dtype, cache=False)[0]
        except ReferenceEvaluationError:
            try:
                if alt is None:
                    raise
                flat_out[i] = reference_values(alt, var, pt, dtype, cache=False)[0]
            except ReferenceEvaluationError:
                if not allow_uncertified:
                    raise
                flat_out[i] = np.nan
    result = flat_out.reshape(np.shape(xs))
    store_array("reference", key, result)
    return result
