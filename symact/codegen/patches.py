"""Taylor patches at the zeros of a derivative, where its printed terms cancel.

Near a simple zero r of f' (GELU's at -0.7518, Mish's at -1.1924) f' = A + B with A ~ -B, so even
terms accurate to an ulp leave f' with few correct digits. Within |x - r| < radius the generated
code instead evaluates the Taylor polynomial of f' at r in d = (x - r_hi) - r_lo, which is exact to
the last bit near r (Sterbenz); the degree is chosen so that the truncation stays below 2**-60 of
the linear term. Coefficients are computed at 80 digits (mpmath) and rounded once. For float32 input
(rounded to float32 at the end) the generated code drops the leading terms that stay below 2**-40 of
the linear term (``degree_below``: gelu_tanh's derivative 27 -> 18 terms, sinc's 13-14 -> 10). With
MANY zeros or more (sinc's twelve) one pass over x finds the elements near any of them (the kernel
_taylor_patches), instead of one test of all x per zero. The patch is a numerical device, not a
rewriting of the mathematics: the accuracy tests measure it.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import sympy as sp

from ..activation import Activation, X
from ..cache import digest, load_json, store_json
from ..functions import rewrite_elementary
from ..timebox import timebox
from . import kernels

__all__ = ["Patch", "degree_below", "patch_lines", "patch_width", "root_patches"]



@dataclass(frozen=True)
class Patch:
    root: str  # 40 significant digits
    r_hi: float
    r_lo: float
    radius: float
    coeffs: tuple[float, ...]  # c_1 ... c_n (c_0 = 0 at the root)


def _callable(expr: sp.Expr):
    return sp.lambdify(X, rewrite_elementary(expr), modules="mpmath")


def root_patches(act: Activation, which: str = "grad") -> list[Patch]:
    """Patches for every sign change of f' (which='grad') on act.patch_window, at act's parameter values
    (with act.patch_scale: at the defaults, in t = scale*x)."""
    if act.patch_scale is not None:
        act = act.with_params(**{p.name: p.default for p in act.params})
    key = digest("patches.v2", act.definition_hash, which, sp.srepr(act.definition()))
    hit = load_json("patches", key)
    if hit is not None:
        return [Patch(p["root"], p["r_hi"], p["r_lo"], p["radius"], tuple(p["coeffs"])) for p in hit]
    patches = _compute(act, which)
    store_json("patches", key, [p.__dict__ | {"coeffs": list(p.coeffs)} for p in patches])
    return patches


def _compute(act: Activation, which: str) -> list[Patch]:
    target = act.derivative() if which == "grad" else act.definition()
    with timebox(60), mpmath.workdps(80):
        f = _callable(target)
        radius = mpmath.mpf(act.patch_radius)
        lo, hi = act.patch_window
        grid = [mpmath.mpf(i) / 50 for i in range(lo * 50, hi * 50 + 1)]
        vals = [f(v) for v in grid]
        patches = []
        for i in range(len(grid) - 1):
            if vals[i] * vals[i + 1] >= 0:
                continue
            r = mpmath.findroot(f, (grid[i], grid[i + 1]), solver="anderson")
            c = mpmath.taylor(f, r, 48)
            scale = abs(c[1]) * radius
            n = 2
            while n < 47 and abs(c[n + 1]) * radius ** (n + 1) + abs(c[n + 2]) * radius ** (n + 2) > scale * mpmath.mpf(2) ** -60:
                n += 1
            r_hi = float(r)
            r_lo = float(r - mpmath.mpf(r_hi))
            patches.append(Patch(mpmath.nstr(r, 40), r_hi, r_lo, float(radius), tuple(float(ci) for ci in c[1:n + 1])))
    return patches


def degree_below(p: Patch, bits: int) -> int:
    """The least degree n (at least 2, at most the patch's) whose two next terms together stay below
    2**-bits of the linear term on the patch: |c_n+1| r**(n+1) + |c_n+2| r**(n+2) <= 2**-bits |c_1| r
    (the criterion that chose the patch's own degree, at 2**-60)."""
    c, r = (0.0,) + p.coeffs + (0.0, 0.0), p.radius
    n = 2
    bound = 2.0 ** -bits * abs(c[1]) * r
    while n < len(p.coeffs) and abs(c[n + 1]) * r ** (n + 1) + abs(c[n + 2]) * r ** (n + 2) > bound:
        n += 1
    return min(n, len(p.coeffs))


#: from this many patches on, the generated code finds the elements near a zero in one pass
MANY = 3


def _rows(patches: list[Patch], indent: str, zero: str) -> list[str]:
    """One literal row per patch, after a comment naming its zero: (r_hi, r_lo, radius, n32, (c_n, ..., c_1))."""
    lines = []
    for p in patches:
        n32 = degree_below(p, 40)
        lines.append(f"{indent}        # Taylor patch at the zero {zero} = {p.root} (degree {len(p.coeffs)}, {n32} for "
                     f"float32, |{zero} - zero| < {p.radius})")
        coeffs = ", ".join(repr(c) for c in reversed(p.coeffs))
        lines.append(f"{indent}        ({p.r_hi!r}, {p.r_lo!r}, {p.radius!r}, {n32}, "
                     f"({coeffs}{',' if len(p.coeffs) == 1 else ''})),")
    return lines


def patch_width(patches: list[Patch]) -> float | None:
    """The cell width for the kernel _taylor_patches: a power of two at most a quarter of the least
    radius and of the least gap between two patches, or None where no width keeps rows apart."""
    spans = sorted((p.r_hi - p.radius, p.r_hi + p.radius) for p in patches)
    gaps = [b[0] - a[1] for a, b in zip(spans, spans[1:])]
    least = min(gaps + [p.radius for p in patches])
    if least <= 0:
        return None
    width = 2.0 ** math.floor(math.log2(least / 4))
    rows = [(p.r_hi, p.r_lo, p.radius) for p in patches]
    return width if kernels._patch_cells(rows, width, check=True) is not None else None


def patch_lines(patches: list[Patch], var: str, result: str, guard: str = "",
                fresh: bool = False, scale: str = "", late: bool = False, float64_only: bool = False
                ) -> tuple[list[str], str]:
    """Lines that compute `result`, then overwrite it near each root by the Taylor polynomial.

    guard: a condition (e.g. the parameters equal the values the patch was computed for); the patch
    lines are then indented under ``if guard:``. fresh: `result` names a buffer of this function's
    own, used nowhere else, which the patches may write. scale: a parameter s (see
    Activation.patch_scale): the polynomials in t = s*x, whose rounding error joins d (Dekker's product,
    kernel _two_prod_err; none for float32 input, whose product is exact in float64). late (block
    functions): each block only finds its elements near a zero and appends (polynomial, indices, d) to
    `late`, the template's _Late, which evaluates each polynomial on many blocks' elements at once
    instead of 2 x degree small NumPy calls per block (the same operations per element: the same bits).
    float64_only: float32 input is left unpatched (its kernel needs no patch: Activation.patch_float32).
    """
    if fresh:
        lines = [] if result == "r" else [f"r = {result}"]
    else:  # r is written in place below: copy when the result is a name (it may be used again)
        lines = [f"r = np.array({result})" if result.isidentifier() else f"r = {result}"]
    if not patches:
        return lines, "r"
    indent = ""
    if guard:
        lines.append(f"if {guard}:  # the zeros below were computed for these parameter values")
        indent = "    "
    if float64_only:
        lines.append(f"{indent}if {var}.dtype == np.float64:  # float32 input: the kernel keeps its digits at the zeros")
        indent += "    "
    lines.append(f"{indent}{var}64 = np.asarray({var}, np.float64)  # the patches work in float64")
    width = None if scale or len(patches) < MANY else patch_width(patches)
    if width is not None:  # many zeros (sinc's twelve): one pass finds the elements near any of them
        lines.append(f"{indent}r = _taylor_patches(r, {var}64, {var}.dtype == np.float32, {width!r}, (")
        lines.append(f"{indent}        # per zero: its two parts, the patch's radius, the degree for float32 input "
                     "(rounded to float32: fewer terms do)")
        lines.append(f"{indent}        # and the coefficients c_n ... c_1 of d**n ... d")
        lines.extend(_rows(patches, indent, var))
        lines.append(f"{indent}))")
        return lines, "r"
    t = f"{var}64"
    if scale:
        t = "t64"
        lines.append(f"{indent}t64 = np.multiply({scale}, {var}64)  # the zeros below are in t = {scale}*{var}")
    zero = f"{scale}*{var}" if scale else var
    lines.append(f"{indent}pd, pa, pm = np.empty_like({t}), np.empty_like({t}), np.empty({t}.shape, np.bool_)"
                 "  # the tests' buffers, shared")
    lines.append(f"{indent}single = {var}.dtype == np.float32  # rounded to float32: fewer terms do")
    # one row per zero: its two parts, the patch's radius, the degree for float32 input and the
    # coefficients c_n ... c_1 of d**n ... d
    lines.append(f"{indent}for zero_hi, zero_lo, radius, n32, poly in (")
    lines.extend(_rows(patches, indent, zero))
    lines.append(f"{indent}):")
    lines.append(f"{indent}    np.subtract({t}, zero_hi, out=pd)")
    lines.append(f"{indent}    pd -= zero_lo")
    lines.append(f"{indent}    near = np.flatnonzero(np.less(np.abs(pd, out=pa), radius, out=pm))")
    lines.append(f"{indent}    if near.size:")
    if scale:  # t - r_hi is exact near r (Sterbenz); Dekker's split needs |s|, |x| < 2**995
        lines.append(f"{indent}        ts = t64.take(near)")
        lines.append(f"{indent}        err = _two_prod_err({scale}, {var}64.take(near), ts) "
                     f"if 2.0**-900 < abs({scale}) < 2.0**900 else 0.0")
        lines.append(f"{indent}        d = ((ts - zero_hi) + err) - zero_lo")
    else:
        lines.append(f"{indent}        d = pd.take(near)")
    if late:
        lines.append(f"{indent}        late.append((poly[-n32:] if single else poly, near, d))  # evaluated by _Late")
        return lines, "r"
    # Horner's rule in place (the same operations in the same order as ((c_n d + c_n-1) d + ...) d, so
    # the same bits, without a fresh array per operation: on the few elements near a zero, each
    # operation's cost is mostly its call)
    lines.append(f"{indent}        if single:")
    lines.append(f"{indent}            poly = poly[-n32:]")
    lines.append(f"{indent}        acc = np.multiply(d, poly[0])")
    lines.append(f"{indent}        for coef in poly[1:]:")
    lines.append(f"{indent}            acc += coef")
    lines.append(f"{indent}            acc *= d")
    lines.append(f"{indent}        _put(r, near, acc)")
    return lines, "r"
