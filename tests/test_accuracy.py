"""Generated code against certified references, in ULPs (float64 and float32).

For every activation: forward, derivative, derivative from the output and parameter derivatives,
on the battery of symact.battery (+-0, subnormals, log-spaced magnitudes up to the largest float,
a dense grid on [-40, 40], random points, kinks and their float neighbours). References are
certified ball-arithmetic values of the *definition*, correctly rounded to the dtype. Results below
the smallest normal are compared with an absolute tolerance of two smallest normals.
Parameters are taken in the input's dtype (the generated code rounds them to it), so the
reference uses the parameter values as the dtype represents them.
"""
from __future__ import annotations

import importlib

import numpy as np
import pytest

from symact.battery import battery, reference_for
from symact.catalog import CATALOG
from symact.reference import ulp_distance

LIMIT = 64  # no activation above this in any function (the numerics issue tightens it)

# Measured maxima (ULP) on this battery: forward64, grad64, forward32, grad32, the larger of the
# machines this has run on (NumPy's SIMD loops and libm differ between AVX-512 and AVX2 machines: elu
# and celu's expm1 by 1 ULP, tanh's exp by 1 ULP in its derivative).
# A change that makes any of them worse fails here; improve the code, then lower the number.
# silu, swish and mish forwards in float32 are computed in float32 with NumPy's SIMD exp (within 2
# ULP): 2-3 ULP, for a 3-4x faster forward than computing them in float64 (0 ULP); since stop 27 silu's and
# swish's derivatives too (3 ULP here, 4-5 on a dense grid of [-100, 30]; were 0, for 0.57x the time at 10^5
# and 0.72x at 10^7), and with them the fused functions' forwards (3); mish's derivative stays in float64
# (its one-exponential form overflows float32 beyond x = 22: 1e9 ULP there); tanhshrink's in
# float64 from np.tanh (0 ULP; was 1 with float32's tanh where |x| >= 1.6); gaussian's in float32 with float64's exp where that is
# NumPy's AVX-512 loop (0 ULP), elsewhere from NumPy's float32 SIMD exp of the rounded -x**2, corrected by its
# rounding error (2 ULP forward, 4 in the derivative, a product of two such factors), for a 1.5x faster
# kernel there than float64's libm exp; the bounds are the second's.
# siren_sine's float64 derivative, omega_0 cos(omega_0 x): cos within 1 ULP (libm sin of the reduced argument plus
# its correction, two roundings), times omega_0 one more: 2 ULP at x = -2.6e229 (the arguments beyond 2**26
# were computed in np.longdouble, exact only for omega_0 of at most 11 bits and only where long double is wider
# than double; now reduced exactly in integers for any omega_0).
# siren_sine and snake's derivative in float32 take the lean sine (NumPy's float32 SIMD sin of the argument
# reduced in float64: within 1 ULP of the correctly rounded sine, for a 4x faster kernel than libm's float64
# sin): times omega_0 or squared, 2 and 3 ULP (were 1 and 2); the forwards keep 1 (siren_sine, lean) and
# snake's 1 from a float64 polynomial (its sum cancels).
BOUNDS = {
    "arctan": (0, 2, 1, 2), "bent_identity": (2, 1, 2, 1), "binary_step": (0, 0, 0, 0), "celu": (1, 1, 1, 2),
    "elu": (1, 1, 1, 2), "gaussian": (1, 3, 2, 4), "gelu": (3, 3, 0, 0), "gelu_tanh": (2, 3, 0, 0),
    "hardshrink": (0, 0, 0, 0), "hardsigmoid": (1, 0, 1, 0), "hardswish": (2, 1, 2, 1), "hardtanh": (0, 0, 0, 0),
    "identity": (0, 0, 0, 0), "isrlu": (2, 3, 2, 4), "isru": (2, 3, 2, 4), "leaky_relu": (0, 0, 0, 0),
    "log_sigmoid": (1, 2, 2, 2), "mish": (3, 4, 3, 0), "prelu": (0, 0, 0, 0), "relu": (0, 0, 0, 0),
    "relu6": (0, 0, 0, 0), "rrelu": (0, 0, 0, 0), "selu": (1, 1, 2, 2), "sigmoid": (2, 3, 2, 3),
    "silu": (2, 3, 3, 3), "sinc": (1, 2, 2, 0), "sinusoid": (1, 0, 1, 1), "siren_sine": (1, 2, 1, 2),
    "snake": (2, 3, 1, 3), "softplus": (1, 2, 2, 2), "softshrink": (0, 0, 0, 0), "softsign": (1, 2, 1, 2),
    "sparse_plus": (2, 0, 1, 0), "sparse_sigmoid": (0, 0, 0, 0), "sqnl": (1, 0, 1, 0), "squareplus": (2, 3, 1, 3),
    "swish": (2, 3, 3, 3), "tanh": (1, 3, 1, 3), "tanhshrink": (2, 2, 0, 2), "threshold": (0, 0, 0, 0),
}
SECONDARY_LIMIT = 64  # grad_from_output (as a function of y) and parameter derivatives
MAX_UNCERTIFIED = 4  # battery points whose reference cannot be certified (excluded, counted)


def _module(name: str):
    return importlib.import_module(f"generated.{name}")


def _in_dtype(act, dt):
    """The activation with its parameters as the dtype represents them."""
    if not act.params:
        return act
    return act.with_params(**{p.name: float(dt.type(float(p.default))) for p in act.params})


def max_ulp(got: np.ndarray, ref: np.ndarray, xs: np.ndarray, dt: np.dtype) -> tuple[float, float, int]:
    """(worst ULP error, where, number of excluded uncertified points)."""
    uncertified = np.isnan(ref) & np.isfinite(xs)
    ref = np.where(uncertified, got, ref)
    u = ulp_distance(got, ref, dt)
    tiny = float(np.finfo(dt).smallest_normal)
    with np.errstate(invalid="ignore"):
        sub = (np.abs(ref.astype(np.float64)) < tiny) & (np.abs(got.astype(np.float64) - ref.astype(np.float64)) <= 2 * tiny)
    u = np.where(sub, 0.0, u)
    i = int(np.argmax(u))
    return float(u[i]), float(xs[i]), int(uncertified.sum())


def _check(act, which, fn, dt, bound, **kwargs):
    xs = battery(act, dt)
    ref_act = _in_dtype(act, dt)
    if which == "grad_from_output":
        with np.errstate(all="ignore"):
            xs = np.unique(getattr(_module(act.name), act.name)(xs))
        xs = xs[np.isfinite(xs)]
    ref = reference_for(ref_act, which, xs, dt, allow_uncertified=True)
    with np.errstate(all="raise"):
        got = fn(xs)
    if isinstance(got, dict):
        got = got[which.split(":", 1)[1]]
    assert got.dtype == dt
    worst, where, excluded = max_ulp(got, ref, xs, dt)
    assert excluded <= MAX_UNCERTIFIED, f"{excluded} reference points could not be certified"
    assert worst <= bound, f"{act.name} {which} {dt.name}: {worst:g} ULP at x={where!r} (bound {bound})"
    return worst


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", sorted(CATALOG))
def test_forward_and_grad_ulp(name, dtype):
    act, dt, mod = CATALOG[name], np.dtype(dtype), _module(name)
    f_bound, g_bound = BOUNDS[name][0:2] if dt == np.float64 else BOUNDS[name][2:4]
    assert max(f_bound, g_bound) <= LIMIT
    _check(act, "forward", getattr(mod, name), dt, f_bound)
    _check(act, "grad", getattr(mod, f"{name}_grad"), dt, g_bound)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", sorted(CATALOG))
def test_fused_forward_and_grad_ulp(name, dtype):
    """<name>_forward_and_grad shares work between the two and keeps both bounds."""
    act, dt, mod = CATALOG[name], np.dtype(dtype), _module(name)
    f_bound, g_bound = BOUNDS[name][0:2] if dt == np.float64 else BOUNDS[name][2:4]
    fused = getattr(mod, f"{name}_forward_and_grad")
    _check(act, "forward", lambda v: fused(v)[0], dt, f_bound)
    _check(act, "grad", lambda v: fused(v)[1], dt, g_bound)


def test_bounds_cover_catalog():
    assert set(BOUNDS) == set(CATALOG)
    assert all(max(b) <= LIMIT for b in BOUNDS.values())


WITH_OUTPUT_GRAD = sorted(n for n, a in CATALOG.items() if a.grad_from_output is not None)
WITH_PARAMS = sorted((n, p.name) for n, a in CATALOG.items() for p in a.params)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", WITH_OUTPUT_GRAD)
def test_grad_from_output_as_function_of_y(name, dtype):
    """f'(y) printed from the proven y-form, measured against that form at the outputs y = f(x)."""
    act = CATALOG[name]
    _check(act, "grad_from_output", getattr(_module(name), f"{name}_grad_from_output"), np.dtype(dtype),
           SECONDARY_LIMIT)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name,param", WITH_PARAMS)
def test_param_derivatives(name, param, dtype):
    act = CATALOG[name]
    _check(act, f"param:{param}", getattr(_module(name), f"{name}_grad_params"), np.dtype(dtype), SECONDARY_LIMIT)


def test_ulp_measure_can_fail():
    """The yardstick itself: a naive softplus is caught (inf at 1000, 0 below -37)."""
    act = CATALOG["softplus"]
    dt = np.dtype(np.float64)
    xs = np.array([-40.0, -1.0, 0.5, 30.0, 1000.0])
    ref = reference_for(act, "forward", xs, dt)
    with np.errstate(all="ignore"):
        naive = np.log(1 + np.exp(xs))
    worst, where, _ = max_ulp(naive, ref, xs, dt)
    assert worst > 1e6


def test_gelu_tanh_derivative_where_its_gate_derivative_is_subnormal():
    """x in (-21.6, -20.6): sigmoid'(t) ~ e^-714 is subnormal while x*sigmoid'(t)*t' (~2e-307) is not (the
    battery's grids near log(tiny) do not reach it, t being cubic in x). Was 1069 ULP, a product of a
    subnormal factor; within the derivative goal now."""
    act, dt, mod = CATALOG["gelu_tanh"], np.dtype(np.float64), _module("gelu_tanh")
    xs = np.unique(np.concatenate([np.linspace(-21.6, -20.6, 800),
                                   np.random.default_rng(5).uniform(-21.6, -20.6, 800)]))
    ref = reference_for(act, "grad", xs, dt, allow_uncertified=True)
    with np.errstate(all="raise"):
        for got in (mod.gelu_tanh_grad(xs), mod.gelu_tanh_forward_and_grad(xs)[1]):
            worst, where, excluded = max_ulp(got, ref, xs, dt)
            assert excluded == 0 and worst <= PARAM_GOALS["grad"] // 2, (worst, where)


def _sinc_grad_zeros(ns, dt) -> np.ndarray:
    """Floats at and near (1 to 4096 ULP from) the zeros of sinc' (tan x = x) near (n + 1/2) pi, both signs."""
    import mpmath

    pts = []
    for n in ns:
        with mpmath.workdps(40 + len(str(n))):  # (n + 1/2) pi to 40 digits below the point
            z = dt.type(float(mpmath.findroot(lambda t: mpmath.sin(t) - t * mpmath.cos(t),
                                              (n + 0.5) * mpmath.pi - 1 / ((n + 0.5) * mpmath.pi))))
        for k in (0, 1, 2, 16, 4096):
            pts += [z + k * np.spacing(z), z - k * np.spacing(z)]
    xs = np.unique(np.array(pts, dtype=dt))
    return np.concatenate([-xs, xs])


_FAR_ZEROS = [7, 8, 9, 12, 30, 100, 1000, 30000, 10**6, 10**7, 21361414, 10**9, 10**12, 10**15]


@pytest.mark.parametrize("dtype,ns", [(np.float64, range(1, 7)), (np.float64, _FAR_ZEROS),
                                      (np.float32, [1, 3, 6, 9, 30, 300, 3000])], ids=["f64-patched", "f64-far", "f32"])
def test_sinc_derivative_near_its_zeros(dtype, ns):
    """Where (x cos x - sin x)/x**2 cancels: float64 within the Taylor patches (|x| < 21) and beyond them
    (kernels._sinc_grad_far; the 21361414th zero lies near 2**26, where the argument reduction changes;
    it was 3e13 ULP at the float nearest the zero at -29.81), float32 at any zero (computed in float64).
    The forward-and-derivative's too."""
    dt = np.dtype(dtype)
    xs = _sinc_grad_zeros(ns, dt)
    ref = reference_for(CATALOG["sinc"], "grad", xs, dt, allow_uncertified=True)
    mod = _module("sinc")
    with np.errstate(all="raise"):
        for got in (mod.sinc_grad(xs), mod.sinc_forward_and_grad(xs)[1]):
            worst, where, excluded = max_ulp(got, ref, xs, dt)
            assert excluded == 0 and worst <= PARAM_GOALS["grad"], (worst, where)


def test_sinc_float32_derivative_from_one_reduction():
    """float32 sinc' from kernels._sinc_grad_single (sine and cosine polynomials after one reduction, libm
    where the difference cancels and beyond 2**25): at and near the zeros of sinc' out to 2e7 (past 2**25,
    where the reduction hands over), uniform on (-1e4, 1e4) and log-uniform to 3e38, both signs: 0 ULP, as
    with libm's sine and cosine throughout (without the libm fallback where the difference cancels: 1 ULP
    at x = -23.52)."""
    dt = np.dtype(np.float32)
    rng = np.random.default_rng(12)
    xs = np.concatenate([_sinc_grad_zeros(list(range(1, 25)) + [30, 300, 3000, 10**5, 10**6, 10**7, 2 * 10**7], dt),
                         rng.uniform(-1e4, 1e4, 20000).astype(dt),
                         (10 ** rng.uniform(0, 38.5, 5000) * rng.choice([-1, 1], 5000)).astype(dt)])
    xs = xs[np.isfinite(xs)]
    ref = reference_for(CATALOG["sinc"], "grad", xs, dt, allow_uncertified=True)
    mod = _module("sinc")
    with np.errstate(all="raise"):
        for got in (mod.sinc_grad(xs), mod.sinc_forward_and_grad(xs)[1]):
            worst, where, excluded = max_ulp(got, ref, xs, dt)
            assert excluded == 0 and worst == 0, (worst, where)


@pytest.mark.parametrize("where", ["small", "beyond"])
def test_sinc_derivative_at_random_floats(where):
    """float64 sinc' at random x: |x| < 3, where (cos x - sin(x)/x)/x cancels below |x| = 1.1 (the battery's
    points gave 8 ULP, random ones 14 at x = 0.53 before the series reached 1.1), and |x| in (21, 1e300)
    (uniform to 1e4, log-uniform beyond), both signs."""
    rng = np.random.default_rng(11)
    if where == "small":
        xs = np.concatenate([rng.uniform(-3, 3, 3000), rng.uniform(-1.2, 1.2, 1000)])
    else:
        xs = np.concatenate([rng.uniform(21, 1e4, 1500), 10 ** rng.uniform(4, 300, 500)])
        xs = np.concatenate([xs, -xs[:1000]])
    dt = np.dtype(np.float64)
    ref = reference_for(CATALOG["sinc"], "grad", xs, dt, allow_uncertified=True)
    with np.errstate(all="raise"):
        worst, where, excluded = max_ulp(_module("sinc").sinc_grad(xs), ref, xs, dt)
    assert excluded <= MAX_UNCERTIFIED and worst <= 3, (worst, where)


@pytest.fixture(scope="module")
def random_points():
    """Random floats the battery's grids miss: uniform on (-3, 3) and (-30, 30), 5 x standard normal, and
    log-uniform magnitudes from e^-40 to e^6.5, both signs (1000 of each)."""
    rng = np.random.default_rng(2026)
    n = 1000
    xs = np.concatenate([rng.uniform(-3, 3, n), rng.uniform(-30, 30, n), rng.standard_normal(n) * 5,
                         np.exp(rng.uniform(-40, 6.5, n)) * rng.choice([-1, 1], n)])
    return {dt: np.unique(xs.astype(dt)) for dt in (np.dtype(np.float64), np.dtype(np.float32))}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", sorted(CATALOG))
def test_random_points_meet_the_goals(name, dtype, random_points):
    """The goals (forward 4 ULP, derivative 8) at random points, the fused function's results too: the
    battery's points had held sinc' to 8 ULP where random ones found 14 (x = 0.53), mish' 7 where they
    found 10 (x = -1.84)."""
    act, dt, mod = CATALOG[name], np.dtype(dtype), _module(name)
    xs = random_points[dt]
    fused = getattr(mod, f"{name}_forward_and_grad")
    for which, k, fn in (("forward", 0, getattr(mod, name)), ("grad", 1, getattr(mod, f"{name}_grad"))):
        ref = reference_for(_in_dtype(act, dt), which, xs, dt, allow_uncertified=True)
        with np.errstate(all="raise"):
            for got in (fn(xs), fused(xs)[k]):
                worst, where, excluded = max_ulp(got, ref, xs, dt)
                assert excluded <= MAX_UNCERTIFIED
                assert worst <= PARAM_GOALS[which], f"{name} {which} {dt.name}: {worst:g} ULP at x={where!r}"


@pytest.fixture(scope="module")
def wide_grid():
    """Dense on [-800, 800] and log-spaced out to 1e5 on both sides: where results pass the smallest normal."""
    grid = np.concatenate([np.linspace(-800.0, 800.0, 400001), -np.geomspace(1e-3, 1e5, 100000),
                           np.geomspace(1e-3, 1e5, 100000)])
    return {dt: np.unique(grid.astype(dt)) for dt in (np.dtype(np.float64), np.dtype(np.float32))}


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name", sorted(CATALOG))
def test_results_just_above_the_smallest_normal(name, dtype, wide_grid):
    """Where a result is normal but below 2**40 smallest normals, a factor of it may be subnormal and
    lose digits (gelu's x*Phi(x) at x = -37.6: 39 ULP; gelu_tanh's at -21.2: 13). The battery's grids
    find these only where the exponent is linear in x; here every point of a dense grid whose result
    lies there (at most 400, chosen at random) is held to the goals."""
    act, dt, mod = CATALOG[name], np.dtype(dtype), _module(name)
    tiny = float(np.finfo(dt).smallest_normal)
    fused = getattr(mod, f"{name}_forward_and_grad")
    for which, fn in (("forward", getattr(mod, name)), ("grad", getattr(mod, f"{name}_grad")),
                      ("forward", lambda v: fused(v)[0]), ("grad", lambda v: fused(v)[1])):
        with np.errstate(all="raise"):
            y = np.abs(fn(wide_grid[dt]).astype(np.float64))
        xs = wide_grid[dt][(y >= tiny) & (y < tiny * 2.0**40)]
        if xs.size > 400:
            xs = np.sort(np.random.default_rng(8).choice(xs, 400, replace=False))
        if xs.size == 0:
            continue
        ref = reference_for(_in_dtype(act, dt), which, xs, dt, allow_uncertified=True)
        with np.errstate(all="raise"):
            worst, where, excluded = max_ulp(fn(xs), ref, xs, dt)
        assert excluded <= MAX_UNCERTIFIED
        assert worst <= PARAM_GOALS[which], f"{name} {which} {dt.name}: {worst:g} ULP at x={where!r}"


# --------------------------------------------------------------------------------------------
# parameters away from their defaults
# --------------------------------------------------------------------------------------------
#: each parameter alone at these values, where its domain and the constraint admit them (the negative
#: ones only for parameters on the whole line): mantissas of many bits, both sides of 1, and far from it.
#: Beyond 1e-4..1e4 (1e-30, 1e30) tail guards and subnormal intermediates fail in places: covered only
#: where EXTREME_CASES says
PARAM_VALUES = (1e-4, 0.01, 0.3, 3.0, 100.0, 1e4, -0.3, -3.0)
#: the goals there: forward, derivative (the issue's 4 and 8 ULP) and parameter derivatives
PARAM_GOALS = {"forward": 4, "grad": 8, "param": SECONDARY_LIMIT}
#: measured exceptions (ULP) on this battery, each with its reason; a change that makes one worse fails
PARAM_EXCEPTIONS = {
    # x + sin(ax)^2/a cancels by up to 2.5x (near x = -3.5 at a = 0.3): the quotient's rounding, which
    # a = 1 does not have (float32 input: sine, square and quotient in float64, rounded once, so within
    # 1 ULP; it was 6 at a = 0.01 and, at random points, 6 at a = 0.3 and 5 at a = 3)
    ("snake", "a", 0.3, "forward", "float64"): 7,
    # d/da = 2u(x cos(ax) - u/2), u = sin(ax)/a, cancels near its zeros (tan(ax) = 2ax): battery points
    # close to one (x = -36.5 at a = 0.3, -117.1 at a = 0.01) in float64 (float32 is computed in float64:
    # within 1 ULP; it was 1058 at a = 0.3 and 176 at a = 3 in float32, as x sin(2ax)/a - u^2, and 1254,
    # 64 and 73 at a = 0.3, 0.01 and 3 in float64)
    ("snake", "a", 0.3, "param:a", "float64"): 245, ("snake", "a", 0.01, "param:a", "float64"): 153,
}


def _param_cases() -> list:
    out = []
    for name in sorted(CATALOG):
        act = CATALOG[name]
        for p in act.params:
            for v in PARAM_VALUES:
                if v == float(p.default):
                    continue
                try:
                    act.with_params(**{p.name: v})
                except ValueError:  # outside the domain or the constraint
                    continue
                out.append(pytest.param(name, p.name, v, id=f"{name}-{p.name}={v:g}"))
    return out


PARAM_CASES = _param_cases()


def test_parameter_cases_are_not_vacuous():
    ids = {c.id for c in PARAM_CASES}
    for want in ("softplus-beta=3", "swish-beta=-0.3", "celu-alpha=0.01", "siren_sine-omega_0=0.3", "prelu-weight=-3",
                 "threshold-value=100", "isru-alpha=0.01"):
        assert want in ids, want
    assert {k[:3] for k in PARAM_EXCEPTIONS} <= {(c.values[0], c.values[1], c.values[2]) for c in PARAM_CASES}


#: far parameters that meet the same goals (tail guards scaled by the parameter: swish's 2^60/|beta|,
#: softplus' d/dbeta 2^60/beta, both fixed at 2^60 before, wrong for |beta| < 2^-4 and beta < 1e-15;
#: isru/isrlu's fast forms only for alpha <= 2^40, where alpha x^2 is finite in float32, and their
#: d/dalpha's overflow for tiny alpha the correctly rounded +-inf, without a warning; squareplus' tail
#: guard in f' at 2^60 max(1, sqrt(b)), was 2^60: 1.7e9 ULP at b = 1e30). Not claimed:
#: softplus' float32 forward for beta < 1e-5 (e^(-beta |x|) is subnormal in float32 where it over beta is
#: not), swish beyond |beta| = 2^995 (Dekker's product) and below 2^-60 (the guard's 2^120), snake
#: beyond 2^127 for a < 2^-67 (its guard; was 2^100 for a < 2^-40). (snake's float32 d/da, as
#: x sin(2ax)/a - (sin(ax)/a)^2 in float32 until stop 25, was inf - inf for a < 1e-19 and 397 ULP off
#: near its zeros at a = 1e10.)
EXTREME_CASES = [(n, p, v, d) for n, p, values, dtypes in [
    ("swish", "beta", (1e-30, 1e-20, 1e-10, 1e10, 1e20, 1e30, -1e-30, -1e30), ("float64", "float32")),
    ("softplus", "beta", (1e-30, 1e-20, 1e-10, 1e10, 1e20, 1e30), ("float64",)),
    ("softplus", "beta", (1e10, 1e20, 1e30), ("float32",)),
    ("squareplus", "b", (1e-30, 1e-20, 1e-10, 1e10, 1e20, 1e30), ("float64", "float32")),
    ("squareplus", "b", (1e-300, 1e300), ("float64",)),
    ("snake", "a", (1e-20, 1e-10, 1e10, 1e20, 1e30), ("float64",)),
    ("snake", "a", (1e-20, 1e-10, 1e10, 1e20, 1e30), ("float32",)),
    ("isru", "alpha", (1e-30, 1e-20, 1e-10, 1e10, 1e20, 1e30), ("float64", "float32")),
    ("isrlu", "alpha", (1e-30, 1e-20, 1e-10, 1e10, 1e20, 1e30), ("float64", "float32")),
] for v in values for d in dtypes]


@pytest.mark.parametrize("name,param,value,dtype", EXTREME_CASES, ids=[f"{n}-{p}={v:g}-{d}" for n, p, v, d in EXTREME_CASES])
def test_far_parameters(name, param, value, dtype):
    """The goals of test_parameters_away_from_defaults at the parameters of EXTREME_CASES."""
    test_parameters_away_from_defaults(name, param, value, np.dtype(dtype))


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name,param,value", PARAM_CASES)
def test_parameters_away_from_defaults(name, param, value, dtype):
    """Forward, derivative, fused pair and parameter derivatives at one parameter moved, no warning.

    The generated code takes the parameters in the input's dtype; the reference uses them as the dtype
    represents them. The battery's kinks are those at these parameters.
    """
    act, dt, mod = CATALOG[name], np.dtype(dtype), _module(name)
    values = {q.name: float(dt.type(float(q.default))) for q in act.params}
    values[param] = float(dt.type(value))
    ref_act = act.with_params(**values)
    kw = {param: value}
    xs = battery(ref_act, dt)
    fused = getattr(mod, f"{name}_forward_and_grad")
    checks = [("forward", lambda v: getattr(mod, name)(v, **kw)), ("forward", lambda v: fused(v, **kw)[0]),
              ("grad", lambda v: getattr(mod, f"{name}_grad")(v, **kw)), ("grad", lambda v: fused(v, **kw)[1])]
    checks += [(f"param:{q.name}", lambda v, q=q.name: getattr(mod, f"{name}_grad_params")(v, **kw)[q])
               for q in act.params]
    worst = {}
    for which, fn in checks:
        ref = reference_for(ref_act, which, xs, dt, allow_uncertified=True)
        with np.errstate(all="raise"):
            got = fn(xs)
        assert got.dtype == dt
        err, where, excluded = max_ulp(got, ref, xs, dt)
        assert excluded <= MAX_UNCERTIFIED, f"{excluded} reference points could not be certified"
        goal = PARAM_GOALS[which.split(":")[0]]
        bound = PARAM_EXCEPTIONS.get((name, param, value, which, dt.name), goal)
        assert err <= bound, f"{name}({param}={value}) {which} {dt.name}: {err:g} ULP at x={where!r} (bound {bound})"
        worst[which] = max(worst.get(which, 0.0), err)
    for key, bound in PARAM_EXCEPTIONS.items():  # an exception no longer needed is lowered, not kept
        if key[:3] == (name, param, value) and key[4] == dt.name:
            assert worst[key[3]] > PARAM_GOALS[key[3].split(":")[0]], f"{key}: now {worst[key[3]]:g} ULP, within the goal"


def _floats_between(lo: float, hi: float, dt: np.dtype, n: int) -> np.ndarray:
    """About n floats of dtype dt, evenly spaced in their bit patterns, on [lo, hi] with 0 < lo < hi."""
    kind = np.uint32 if dt == np.float32 else np.uint64
    a, b = np.array([lo, hi], dt).view(kind)
    return np.unique(np.linspace(int(a), int(b), n).astype(kind)).view(dt)


@pytest.mark.parametrize("name,params", [("elu", {}), ("elu", {"alpha": 1.9}), ("celu", {}), ("selu", {})],
                         ids=["elu", "elu-alpha=1.9", "celu", "selu"])
def test_elu_family_float32_near_zero(name, params):
    """float32 elu, celu, selu on [-1/8, -1e-4], where NumPy's float32 SIMD expm1 (AVX-512) is up to 2.35 ULP
    off and alpha up to doubles that in ULPs of the result: the generated code computes -alpha/16 < x < 0 in
    float64 (within 1.01 ULP below, times alpha). Here 1.5 ULP at alpha = 1 or selu's, 3 at alpha = 1.9."""
    dt = np.dtype(np.float32)
    act = CATALOG[name]
    values = {q.name: float(dt.type(float(params.get(q.name, q.default)))) for q in act.params}
    ref_act = act.with_params(**values) if values else act
    xs = -_floats_between(1e-4, 0.125, dt, 1500)
    ref = reference_for(ref_act, "forward", xs, dt, allow_uncertified=True)
    mod = _module(name)
    with np.errstate(all="raise"):
        for got in (getattr(mod, name)(xs, **params), getattr(mod, f"{name}_forward_and_grad")(xs, **params)[0]):
            worst, where, excluded = max_ulp(got, ref, xs, dt)
            assert excluded == 0 and worst <= (3 if params else 1.5), (worst, where)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name,beta", [("softplus", 1.0), ("softplus", 3.0), ("softplus", 0.3), ("log_sigmoid", None)])
def test_fast_region_edges(name, beta, dtype):
    """softplus and log_sigmoid on both sides of their fast forms' region |beta x| <= 80 (the stable forms
    beyond it): 200 floats on each side of +-80/beta, within the goals, no warning."""
    dt = np.dtype(dtype)
    act = CATALOG[name]
    kw = {} if beta is None else {"beta": beta}
    ref_act = act.with_params(beta=float(dt.type(beta))) if beta is not None else act
    edge = 80.0 / float(dt.type(beta)) if beta is not None else 80.0
    side = _floats_between(edge * (1 - 1e-5), edge * (1 + 1e-5), dt, 400)
    xs = np.concatenate([side, -side])
    mod = _module(name)
    for which, fn in (("forward", getattr(mod, name)), ("grad", getattr(mod, f"{name}_grad"))):
        ref = reference_for(ref_act, which, xs, dt, allow_uncertified=True)
        with np.errstate(all="raise"):
            got = fn(xs, **kw)
        worst, where, excluded = max_ulp(got, ref, xs, dt)
        assert excluded == 0 and worst <= PARAM_GOALS[which], (which, worst, where)
