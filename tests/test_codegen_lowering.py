"""The in-place lowering pass, fast forms with their fix-up, and the kernels they brought."""
from __future__ import annotations

from pathlib import Path

import mpmath
import numpy as np
import pytest
import sympy as sp

from symact.activation import X, Activation, Param, UnprovenFormError
from symact.codegen import kernels
from symact.codegen.inplace import LoweringError, lower
from symact.codegen.printer import print_functions
from symact.codegen.render import render_module
from symact.reference import ulp_distance

a = sp.Symbol("a", real=True)
EXPRS = [
    [sp.exp(-X) / (1 + sp.exp(-X)) + X * sp.exp(-X) / (1 + sp.exp(-X)) ** 2],
    [X / (1 + sp.exp(-X)), 1 / (1 + sp.exp(-X)) + X * sp.exp(-X) / (1 + sp.exp(-X)) ** 2],  # shared work
    [sp.Piecewise((a * X, X <= 0), (X, True)), sp.Piecewise((1, X > 0), (a, True))],
    [sp.sqrt(X**2 + a) / (1 + sp.Abs(X)) - sp.Min(X, 0) ** 3, sp.tanh(X) ** 2],
    [sp.Max(X, a * X) * sp.exp(-X**2 / 2), X],  # a result that is the input itself
]


def _run(lines: list[str], results: list[str], x: np.ndarray, **scope):
    env = {"np": np, "x": x, "_where": kernels._where, "_nan_kept": kernels._nan_kept, "_mask_value": kernels._mask_value,
           "_clip": np.ndarray.clip,
           **scope}
    exec("\n".join(lines), env)  # noqa: S102 - the code under test, generated here
    return [eval(r, env) for r in results]


@pytest.mark.parametrize("exprs", EXPRS, ids=range(len(EXPRS)))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_lowered_code_computes_the_same_bits_and_never_writes_its_input(exprs, dtype):
    pf, results = print_functions(exprs, X, {X: "x", a: "a"})
    rng = np.random.default_rng(1)
    x = np.concatenate([rng.standard_normal(500) * 4, [0.0, -0.0, np.nan]]).astype(dtype)
    x.setflags(write=False)  # an out= on the input would raise
    with np.errstate(all="ignore"):
        want = _run(pf.lines, results, x, a=0.25)
        low = lower(pf.lines, results, {"x"}, {"a"})
        got = _run(low.lines, low.results, x, a=0.25)
    for g, w in zip(got, want):
        g, w = np.asarray(g), np.asarray(w)
        assert g.dtype == w.dtype and np.array_equal(g, w, equal_nan=True)
    arrays = [g for g in got if isinstance(g, np.ndarray)]
    assert len({id(g) for g in arrays}) == len(arrays)  # distinct results
    assert low.ops == len(low.lines)  # one operation per line


def test_results_written_into_given_outputs_or_allocated():
    exprs = EXPRS[1]
    pf, results = print_functions(exprs, X, {X: "x"})
    low = lower(pf.lines, results, {"x"}, dests=["o0", "o1"])
    x = np.linspace(-30, 30, 301)
    with np.errstate(all="ignore"):
        want = _run(pf.lines, results, x)
        o0, o1 = np.empty_like(x), np.empty(x.shape, np.float32)  # a narrower output rounds once
        got = _run(low.lines, low.results, x, o0=o0, o1=o1)
        assert got[0] is o0 and got[1] is o1
        assert np.array_equal(o0, want[0]) and np.array_equal(o1, want[1].astype(np.float32))
        fresh = _run(low.lines, low.results, x, o0=None, o1=None)  # one piece: allocated (or reused)
    assert fresh[0] is not fresh[1]
    assert np.array_equal(fresh[0], want[0]) and np.array_equal(fresh[1], want[1])


@pytest.mark.parametrize("exprs", EXPRS, ids=range(len(EXPRS)))
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_output_buffers_as_scratch_give_the_same_bits(exprs, dtype):
    """With scratch, earlier values live in the output buffers too: same results, given or allocated."""
    pf, results = print_functions(exprs, X, {X: "x", a: "a"})
    dests = [f"o{i}" for i in range(len(results))]
    plain = lower(pf.lines, results, {"x"}, {"a"}, dests=dests)
    low = lower(pf.lines, results, {"x"}, {"a"}, dests=dests, scratch=True)
    rng = np.random.default_rng(2)
    x = np.concatenate([rng.standard_normal(400) * 4, [0.0, -0.0, np.nan, np.inf]]).astype(dtype)
    x.setflags(write=False)
    with np.errstate(all="ignore"):
        want = _run(plain.lines, plain.results, x, a=0.25, **dict.fromkeys(dests))
        outs = {d: np.full_like(x, 7.0) for d in dests}
        given = _run(low.lines, low.results, x, a=0.25, **outs)
        fresh = _run(low.lines, low.results, x, a=0.25, **dict.fromkeys(dests))
    for got in (given, fresh):
        for g, w in zip(got, want):
            assert np.array_equal(np.asarray(g), np.asarray(w), equal_nan=True)
    assert low.peak_float <= plain.peak_float


def test_scratch_saves_a_buffer():
    pf, results = print_functions([X * sp.exp(a * X)], X, {X: "x", a: "a"})
    low = lower(pf.lines, results, {"x"}, {"a"}, dests=["o0"], scratch=True)
    assert low.peak_float == 0 and "np.empty_like(x) if o0 is None else o0" in low.lines[0]
    assert lower(pf.lines, results, {"x"}, {"a"}, dests=["o0"]).peak_float == 1


def test_unknown_operations_are_refused():
    with pytest.raises(LoweringError):
        lower(["t0 = np.fft.fft(x)"], ["t0"], {"x"})
    with pytest.raises(LoweringError):
        lower(["t0 = x[::2]"], ["t0"], {"x"})


def test_a_wrong_fast_form_is_refused():
    bad = Activation("bad_fast", X / (1 + sp.exp(-X)), fast_forward=X / (1 + sp.exp(-X)) + sp.Rational(1, 10**20),
                     fast_region=X >= -80)
    with pytest.raises(UnprovenFormError):
        _ = bad.stable_forms
    no_region = Activation("no_region", X / (1 + sp.exp(-X)), fast_forward=X / (1 + sp.exp(-X)))
    with pytest.raises(UnprovenFormError):
        _ = no_region.stable_forms


def test_fast_form_fix_up_and_parameter_region(tmp_path):
    """Elements outside the region take the stable form; a region on parameters picks a form per call."""
    act = Activation("leaky2", sp.Piecewise((a * X, X <= 0), (X, True)), params=(Param("a", sp.Rational(1, 100)),),
                     fast_forward=sp.Max(X, a * X), fast_region=a <= 1)
    text = render_module(act)
    assert "if (a <= 1.0):" in text
    env: dict = {}
    exec(compile(text, "leaky2.py", "exec"), env)  # noqa: S102
    x = np.array([-3.0, -0.0, 0.0, 2.0, np.nan, -np.inf])
    for slope in (0.01, 3.0):  # 3 > 1: the stable form (max(x, 3x) would be wrong)
        got = env["leaky2"](x, a=slope)
        want = np.where(x <= 0, slope * x, x)
        assert np.array_equal(got, want, equal_nan=True)
    silu = render_module(__import__("symact.catalog", fromlist=["get"]).get("silu"))
    assert "far = _outside(lambda x: (x < -80.0), x, -80.0, None)" in silu  # with the interval for the quick test


def test_fix_up_across_the_region_tests_slices():
    """_outside tests the region in slices: elements outside it in any slice, in one piece or blocks."""
    from generated.silu import silu

    for dtype in (np.float64, np.float32):
        for n in (10**5, 3 * 10**5 + 7):  # one piece (tested in slices) and blocks
            x = np.linspace(-5, 5, n).astype(dtype)
            idx = np.arange(17, n, 9973)  # every slice gets some
            x[idx] = np.where(idx % 2, -np.inf, -90.0)  # the fast form: -inf/inf (NaN); float32 -90/inf (-0)
            got = silu(x)
            one = np.concatenate([silu(x[i:i + 1]) for i in idx])
            assert np.array_equal(got[idx], one) and not np.isnan(got).any()
            assert np.all(got[idx[idx % 2 == 0]] < 0)  # -90 e^-90, a normal number in float32 too


@pytest.mark.parametrize("name", ["silu", "swish", "mish", "gelu", "gelu_tanh"])
def test_patches_evaluated_after_the_blocks_give_each_elements_bits(name):
    """Blocks leave their Taylor patches' elements to _Late (evaluated in batches of 8192, and at the end):
    in blocks, in F order and in one piece, every element gets the bits it gets alone."""
    import importlib

    mod = importlib.import_module(f"generated.{name}")
    assert "late.append(" in Path(mod.__file__).read_text()  # the test is not vacuous
    zero = {"silu": -1.2784645427610737, "swish": -1.2784645427610737, "mish": -1.192431214515495,
            "gelu": -0.7517915, "gelu_tanh": -0.7524614220710163}[name]
    rng = np.random.default_rng(4)
    for dtype, dense in ((np.float64, True), (np.float32, True), (np.float64, False), (np.float32, False)):
        # dense: most elements near the zero (a batch per block); else 5 N(0, 1) (batches of several blocks)
        x = np.concatenate([zero + rng.uniform(-0.4, 0.4, 150001 if dense else 0), rng.standard_normal(450000) * 5,
                            [np.nan, -np.inf, np.inf, 0.0, -0.0]]).astype(dtype)
        rng.shuffle(x)
        idx = np.concatenate([rng.choice(x.size, 300, replace=False), [0, x.size - 1]])
        one = {k: np.concatenate([f(x[i:i + 1]) for i in idx]) for k, f in (
            ("grad", getattr(mod, f"{name}_grad")), ("fused", lambda v: getattr(mod, f"{name}_forward_and_grad")(v)[1]))}
        for layout in (x, np.asfortranarray(x[:300000].reshape(600, 500)), x[:3000]):
            kept = idx < layout.size  # x[p] is layout's element p in C order
            at = np.unravel_index(idx[kept], layout.shape)
            for k, got in (("grad", getattr(mod, f"{name}_grad")(layout)),
                           ("fused", getattr(mod, f"{name}_forward_and_grad")(layout)[1])):
                assert np.array_equal(got[at], one[k][kept], equal_nan=True), (name, dtype, k, layout.shape)


def test_exp_neg_half_sq_keeps_its_accuracy_without_expm1():
    x = np.concatenate([np.linspace(0, 27, 5001), -np.linspace(0, 27, 5001)])
    with mpmath.workdps(60):
        ref = np.array([float(mpmath.exp(-mpmath.mpf(float(v)) ** 2)) for v in x])
    got = kernels._exp_neg_half_sq(x, 1.0)
    normal = ref >= np.finfo(np.float64).smallest_normal
    assert ulp_distance(got[normal], ref[normal], np.dtype(np.float64)).max() <= 1


@pytest.mark.parametrize("simd", [False, True])
def test_exp_neg_half_sq_float32_both_ways(simd):
    """float32 x: float64's exp of the exact -scale*x**2 (where that exp is NumPy's AVX-512 loop) within
    one float32 of the correctly rounded value; NumPy's float32 exp corrected (elsewhere) within 3.
    Both are tested on every machine; _exp64_is_simd picks one (a bool, the same on every call)."""
    x = np.concatenate([np.linspace(0, 10, 4001), -np.linspace(0, 10, 4001), [9.6, 13.2, 40.0, 1e30]]).astype(np.float32)
    for scale in (1.0, 0.5):
        with mpmath.workdps(60):
            ref = np.array([float(mpmath.exp(-scale * mpmath.mpf(float(v)) ** 2)) for v in x])
        got = kernels._exp_neg_half_sq(x, scale, simd=simd).astype(np.float32)
        normal = ref >= np.finfo(np.float32).smallest_normal
        assert ulp_distance(got[normal], ref[normal], np.dtype(np.float32)).max() <= (3 if simd else 1)
        assert np.all(got[~normal] <= 2 * np.finfo(np.float32).smallest_normal)
    assert kernels._exp64_is_simd() in (True, False)
    assert kernels._exp64_is_simd() is kernels._exp64_is_simd()


def test_quiet_lines_are_only_those_without_underflow():
    from symact.codegen.render import _quiet
    assert _quiet(["b0 = _clip(x, 0.0, np.inf)", "b1 = np.greater(x, 0.0)", "b2 = _where(b1, x, 1.0)", "b2 += 1.0"])
    assert not _quiet(["b0 = np.multiply(x, 0.5)"])  # a subnormal product underflows
    assert not _quiet(["b0 = _clip(x, 0.0, 1.0)", "b0 *= 0.5"])
    assert not _quiet(["b0 = np.exp(x)"])
    assert not _quiet(["b0 = x.astype(np.float32)"])  # narrowing can underflow


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_functions_without_errstate_raise_no_underflow(dtype):
    # subnormal inputs and tiny parameters through the functions rendered without an errstate
    import generated
    tiny = np.finfo(dtype).smallest_subnormal
    x = np.array([tiny, -tiny, 0.0, -0.0, 1e-30, 3.0, np.inf, -np.inf, np.nan], dtype=dtype)
    with np.errstate(all="raise"):
        generated.leaky_relu_grad(x, negative_slope=1e-40)
        generated.hardtanh(x, min_val=-1e-40, max_val=1e-40)
        generated.threshold(x, threshold=1e-40, value=1e-40)
        generated.relu(x)


def _where_cases() -> list:
    """(dtype, operands, out) where the out buffer exists: a's or b's only when it is an array, a
    narrower one only for float64."""
    cases = []
    for dtype in (np.float64, np.float32):
        for operands in ("arrays", "scalar a", "scalar b", "scalars"):
            for out in ("none", "fresh", "a", "b", "narrower"):
                if out == "a" and "scalar a" in operands or out == "b" and "scalar b" in operands \
                        or out in ("a", "b") and operands == "scalars" or out == "narrower" and dtype != np.float64:
                    continue
                cases.append(pytest.param(dtype, operands, out, id=f"{np.dtype(dtype).name}-{operands}-{out}"))
    return cases


@pytest.mark.parametrize("dtype,operands,out", _where_cases())
def test_where_kernel_is_np_where_bit_for_bit(dtype, operands, out):
    """_where(c, a, b, out) against np.where, its out= a fresh buffer, a's, b's or a float32 one."""
    rng = np.random.default_rng(3)
    c = rng.random(1001) < 0.5
    a = rng.standard_normal(1001).astype(dtype)
    b = rng.standard_normal(1001).astype(dtype)
    a[::7], b[::11], b[::13] = np.nan, -0.0, np.inf
    a = 1.5 if operands in ("scalar a", "scalars") else a
    b = -0.0 if operands in ("scalar b", "scalars") else b
    want = np.where(c, a, b)
    given = {"none": None, "fresh": np.empty(c.shape, want.dtype), "a": a, "b": b,
             "narrower": np.empty(c.shape, np.float32)}[out]
    got = kernels._where(c, a, b, out=given)
    if given is not None:
        assert got is given
        want = want.astype(given.dtype)
    assert got.dtype == want.dtype and np.array_equal(got.view(np.uint8), want.view(np.uint8))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nan", [False, True])
@pytest.mark.parametrize("out", ["none", "fresh", "v", "narrower"])
def test_nan_kept_kernel_is_its_where_bit_for_bit(dtype, nan, out):
    """_nan_kept(v, c, out) against np.where(np.isnan(v), v, c) (NaN payloads kept), with and without a NaN
    in v (the fill alone, or the mask), its out= a fresh buffer, v's or a float32 one."""
    rng = np.random.default_rng(4)
    v = rng.standard_normal(1001).astype(dtype)
    v[::11], v[::13] = -0.0, -np.inf
    if nan:
        v[::7] = np.nan
        v[3] = -np.nan
    c = 0.1  # rounded to float32 for float32 v
    want = np.where(np.isnan(v), v, np.asarray(c, dtype))
    given = {"none": None, "fresh": np.empty(v.shape, dtype), "v": v, "narrower": np.empty(v.shape, np.float32)}[out]
    got = kernels._nan_kept(v, c, out=given)
    if given is not None:
        assert got is given
        want = want.astype(given.dtype)
    assert got.dtype == want.dtype and np.array_equal(got.view(np.uint8), want.view(np.uint8))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("nan", [False, True])
@pytest.mark.parametrize("out", ["none", "fresh", "narrower"])
@pytest.mark.parametrize("value,other", [(1.0, 0.0), (0.5, 0.0), (1 / 6, 0.0), (-2.5, 0.0), (1.0, 0.01),
                                         (1.0, -0.0), (-3.0, 1e-300), (1.0, 1.0)])
def test_mask_value_kernel_is_its_where_bit_for_bit(dtype, nan, out, value, other):
    """_mask_value(c, v, value, other, out) against _where(c, value, _nan_kept(v, other)) for c false at NaN
    (NaN payloads kept; +0.0 for a negative value with other = 0, -0.0 kept as other; values rounded to
    v's dtype, 1e-300 to 0 in float32), with and without a NaN in v, its out= none, a fresh buffer or a
    float32 one."""
    rng = np.random.default_rng(5)
    v = (rng.standard_normal(1001) * 3).astype(dtype)
    v[::11], v[::13] = -0.0, -np.inf
    if nan:
        v[::7] = np.nan
        v[3] = -np.nan
    c = (v > -1.0) & (v < 2.0)
    want = kernels._where(c, value, kernels._nan_kept(v, other))
    given = {"none": None, "fresh": np.empty(v.shape, dtype), "narrower": np.empty(v.shape, np.float32)}[out]
    got = kernels._mask_value(c, v, value, other, out=given)
    if given is not None:
        assert got is given
        want = want.astype(given.dtype)
    assert got.dtype == want.dtype and np.array_equal(got.view(np.uint8), want.view(np.uint8))


def test_piecewise_of_input_free_values_prints_as_a_mask_cast():
    """Piecewise((c, cond), (0, True)) and (0, cond), (c, True) (the condition negated) print as _mask_value,
    so do two nonzero values (a parameter among them); a value of x, or a condition on parameters alone,
    keeps _where."""
    from symact.codegen.printer import print_function
    names = {X: "x", a: "a"}
    one = print_function(sp.Piecewise((1, (X > a) & (X < 2)), (0, True)), X, names)
    assert "_mask_value(" in one.result + "".join(one.lines) and "_where(" not in one.result
    zero = print_function(sp.Piecewise((0, (X <= a) | (X >= 2)), (sp.Rational(1, 6), True)), X, names)
    text = zero.result + "".join(zero.lines)
    assert "_mask_value(" in text and "<=" not in text and ">=" not in text  # (x > a) & (x < 2)
    two = print_function(sp.Piecewise((a, X <= 0), (1, True)), X, names)
    assert "_mask_value(" in two.result + "".join(two.lines) and "_where(" not in two.result
    for other in (sp.Piecewise((X, X > a), (1, True)), sp.Piecewise((1, a > 0), (0, True))):
        printed = print_function(other, X, names)
        assert "_mask_value(" not in printed.result + "".join(printed.lines)


def test_inner_bounds_are_inside_the_region_and_rounded_inwards():
    from symact.codegen.render import _inner_bounds
    assert _inner_bounds(X >= -80) == "-80.0, None"
    assert _inner_bounds(sp.Abs(X) <= 40) == "-40.0, 40.0"
    assert _inner_bounds(X > 0) == "5e-324, None"  # open end: the next float
    third = sp.Rational(1, 3)
    lo, hi = (float(v) for v in _inner_bounds(sp.Abs(X) <= third).split(", "))
    assert sp.Rational(*hi.as_integer_ratio()) <= third and sp.Rational(*lo.as_integer_ratio()) >= -third
    assert _inner_bounds((X >= 0) | (X <= -1)) == ""  # two intervals
    assert _inner_bounds(a * X >= -80) == ""  # a parameter


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_outside_quick_test_agrees_with_the_full_test(dtype):
    from symact.codegen.render import render_module
    from symact.catalog import CATALOG
    env: dict = {}
    exec(render_module(CATALOG["silu"]), env)  # noqa: S102 - generated here
    outside = env["_outside"]
    test = lambda x: x < -80.0  # noqa: E731
    for vals in ([1.0, -79.0, 3.0], [1.0, -81.0], [np.nan, -90.0], [np.nan, 1.0], [-80.0], []):
        x = np.array(vals, dtype)
        assert np.array_equal(outside(test, x, -80.0, None), np.flatnonzero(test(x))), vals


def test_convex_regions_are_single_chains_in_x():
    from symact.codegen.render import _convex
    b = sp.Symbol("b", real=True)
    assert _convex(a * X >= -80)
    assert _convex(sp.And(a * X + b < 3, X / a > -1))
    assert not _convex((X >= 0) | (X <= -a))  # two intervals
    assert not _convex(a * X + b * X >= 1)  # x twice: fl(a x) + fl(b x) need not be monotone
    assert not _convex(X**2 * a <= 1)
    assert not _convex(a / X >= 1)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_outside_convex_shortcut_agrees_with_the_full_test(dtype):
    from symact.codegen.render import render_module
    from symact.catalog import CATALOG
    env: dict = {}
    exec(render_module(CATALOG["swish"]), env)  # noqa: S102 - generated here
    outside = env["_outside"]
    rng = np.random.default_rng(7)
    specials = [np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-300, -1e300, 80.0, -80.0]
    for beta in (1.0, -1.0, 0.0, 1e-30, 1e30, np.inf, -np.inf):
        def test(x, beta=beta):
            return beta * x < -80.0
        for _ in range(200):
            x = (rng.standard_normal(rng.integers(0, 6)) * 10.0 ** rng.uniform(-2, 3)).astype(dtype)
            with np.errstate(all="ignore"):  # -1e300 becomes -inf in float32: a special too
                if rng.random() < 0.5:
                    x = np.append(x, rng.choice(specials, rng.integers(1, 3))).astype(dtype)
                assert np.array_equal(outside(test, x, convex=True), np.flatnonzero(test(x))), (beta, x)


# --------------------------------------------------------------------------------------------
# kernels for parameters: exp of a product or quotient, sin of a huge product
# --------------------------------------------------------------------------------------------
_EXP_KERNELS = {  # name: (kernel, its extra arguments, meaning)
    "_exp_mul": ("_exp_mul", (), lambda x, a: mpmath.exp(a * x)),
    "_exp_mul k=64": ("_exp_mul", (64,), lambda x, a: mpmath.exp(a * x) * mpmath.mpf(2) ** 64),
    "_exp_div": ("_exp_div", (), lambda x, a: mpmath.exp(x / a)),
    "_expm1_div": ("_expm1_div", (), lambda x, a: a * mpmath.expm1(x / a)),
    "_exp_times": ("_exp_times", (), lambda x, a: a * mpmath.exp(x)),
}


def _rounded(values, dtype):
    out = np.array([float(v) for v in values], np.float64)  # (float32: rounded twice, within the tolerance)
    with np.errstate(over="ignore", under="ignore"):
        return out.astype(dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32], ids=["f64", "f32"])
@pytest.mark.parametrize("name,a", [(n, a) for n in sorted(_EXP_KERNELS) for a in (1.0, 0.5, 0.3, -3.0, 1e-4, 1e4)
                                    if a > 0 or n != "_exp_times"])  # c*exp(x): a positive parameter
def test_exp_kernels_carry_the_rounding_of_the_scale(name, a, dtype):
    """exp(a x) (times 2^64), exp(x/a), a expm1(x/a), a exp(x) (x <= 0) within 2 ULP over their range, no warning,
    out= the same bits.

    (2: NumPy's float32 SIMD exp at a power of two, which keeps the plain product; float64's exp or expm1
    and the product by a, two roundings.)
    """
    dt = np.dtype(dtype)
    a_dt = float(dt.type(a))  # the kernels take the parameter in x's dtype
    hi = 88.0 if dt == np.float32 else 709.0
    lo = -103.0 if dt == np.float32 else -745.0
    t = np.concatenate([np.linspace(lo, hi, 997), np.random.default_rng(5).uniform(lo, hi, 500), [0.0, -1e-300]])
    kernel, extra, meaning = _EXP_KERNELS[name]
    if kernel == "_exp_times":  # for x <= 0 (elu's branch), down to where the result underflows
        t = np.minimum(t - np.log(a), 0.0)
    x = (t / a if kernel == "_exp_mul" else t if kernel == "_exp_times" else t * a).astype(dt)
    x = np.concatenate([x, np.array([np.inf, -np.inf, np.nan], dt)])
    fn = getattr(kernels, kernel)
    with np.errstate(all="raise"):
        got = fn(x, a, *extra)
        again = fn(x.copy(), a, *extra, out=np.empty_like(x))
        alias = x.copy()
        fn(alias, a, *extra, out=alias)
    assert got.dtype == dt
    for other in (again, alias):
        assert np.array_equal(other.view(np.uint8), got.view(np.uint8))
    with mpmath.workdps(60):
        ref = _rounded([meaning(mpmath.mpf(float(v)), mpmath.mpf(a_dt)) for v in x[:-3]], dt)
    finite = got[:-3]
    tiny = float(np.finfo(dt).smallest_normal)
    u = np.where(np.abs(ref.astype(np.float64)) < tiny, 0.0, ulp_distance(finite, ref, dt))
    assert u.max() <= 2, f"{name}(a={a}) {dt.name}: {u.max():g} ULP at x={x[int(np.argmax(u))]!r}"
    if name == "_exp_mul" and a == 0.3 and dt == np.float64:  # the yardsticks: exp of the rounded product,
        plain = np.exp(np.multiply(a, x[:-3]))
        assert ulp_distance(plain, ref, dt).max() > 100
    if name == "_exp_times" and a == 1e4 and dt == np.float64:  # ... c times a subnormal exp
        plain = a * np.exp(x[:-3])
        assert np.where(np.abs(ref) < tiny, 0.0, ulp_distance(plain, ref, dt)).max() > 100


@pytest.mark.parametrize("a", [30.0, 1.0, 0.3, 1e-5, 7.123456789, 1e5])
def test_reduce_2pi_is_exact_to_2_to_the_minus_100(a):
    """_reduce_2pi(w, a): p + e = a*w modulo 2 pi, |p| <= pi, for w up to the largest float."""
    rng = np.random.default_rng(11)
    w = np.ldexp(1.0 + rng.random(300), rng.integers(20, 1024, 300)) * rng.choice([-1.0, 1.0], 300)
    w = np.concatenate([w, [np.finfo(np.float64).max, -(2.0**26)]])
    p, e = kernels._reduce_2pi(w, a)
    assert np.all(np.abs(p) <= np.pi + 1e-15)
    with mpmath.workprec(4000):
        two_pi = 2 * mpmath.pi
        for wi, pi_, ei in zip(w.tolist(), p.tolist(), e.tolist()):
            exact = mpmath.mpf(a) * mpmath.mpf(wi)
            r = exact - two_pi * mpmath.nint(exact / two_pi)
            assert abs(r - (mpmath.mpf(pi_) + mpmath.mpf(ei))) < mpmath.mpf(2) ** -100, (a, wi)
    p, e = kernels._reduce_2pi(np.array([np.inf, -np.inf, np.nan]), a)
    assert np.isnan(p).all()


_PHASES = {0.0: (0.0, 0.0), 0.25: (0.7853981633974483, 3.061616997868383e-17),
           0.5: (1.5707963267948966, 6.123233995736766e-17)}


@pytest.mark.parametrize("a", [30.0, 1.0, float(np.float32(0.3)), float(np.float32(1e-3)), float(np.float32(7.1234))])
@pytest.mark.parametrize("c", [0.0, 0.25, 0.5])
def test_sin_single_against_mpmath(a, c):
    """float32 sin(a x + c pi): the polynomial path correctly rounded but for near-ties, the lean path
    within 1 ULP of the correctly rounded value (and not always exact, or it would not be lean); each
    element the same alone and in an array with huge, infinite and NaN elements (the exact path's)."""
    rng = np.random.default_rng(17)
    xs = np.concatenate([rng.uniform(-2, 2, 1500), rng.uniform(-1e4, 1e4, 1500),
                         rng.integers(-10**6, 10**6, 1500) * np.pi / a,  # near the zeros of sin(a x)
                         np.exp(rng.uniform(-100, 14, 1500)) * rng.choice([-1, 1], 1500)]).astype(np.float32)
    xs = xs[np.abs(xs.astype(np.float64) * a) < 2.0**26]
    xs = np.concatenate([xs, np.float32([0.0, -0.0, 1e-45, -1e-45])])
    with mpmath.workprec(300):
        ref = np.array([float(mpmath.sin(mpmath.mpf(v) * mpmath.mpf(a) + c * mpmath.pi))
                        for v in xs.tolist()]).astype(np.float32)  # the double rounding is far below 1 ULP here
    with np.errstate(all="raise"):
        poly = kernels._sin_affine(xs, a, *_PHASES[c])
        lean = kernels._sin_affine(xs, a, *_PHASES[c], lean=True)
    d_poly, d_lean = ulp_distance(poly, ref, np.float32), ulp_distance(lean, ref, np.float32)
    assert (d_poly <= 1).all() and np.mean(d_poly > 0) < 1e-3
    assert (d_lean <= 1).all() and d_lean.max() == 1
    if c == 0.0:  # sin(a*(-0.0)) = -0.0
        assert np.signbit(poly[-3]) and np.signbit(lean[-3]) and not np.signbit(poly[-4])
    mixed = np.concatenate([xs, np.float32([np.inf, -np.inf, np.nan, 3e38, -3e38])])
    for lean_ in (False, True):
        with np.errstate(all="raise"):
            got = kernels._sin_affine(mixed, a, *_PHASES[c], lean=lean_)
        assert np.array_equal(got[:xs.size].view(np.int32), (lean if lean_ else poly).view(np.int32))
        assert np.isnan(got[xs.size:xs.size + 3]).all()
        exact = kernels._sin_affine_exact(mixed[-2:], a, *_PHASES[c])
        assert np.array_equal(got[-2:], exact)


# --------------------------------------------------------------------------------------------
# Taylor patches: the shorter polynomial for float32 input
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["gelu", "gelu_tanh", "mish", "silu", "sinc"])
def test_float32_patch_degree_keeps_the_polynomial_to_2_to_the_minus_36(name):
    """The terms dropped for float32 input change the patch by < 2**-36 relatively (float32's ULP: 2**-24)."""
    from symact.catalog import CATALOG
    from symact.codegen.patches import degree_below, root_patches

    patches = root_patches(CATALOG[name], "grad")
    assert patches
    for p in patches:
        n32 = degree_below(p, 40)
        assert 2 <= n32 <= len(p.coeffs)
        d = np.linspace(-p.radius, p.radius, 4001)
        d = d[d != 0]
        full = sum(c * d ** (k + 1) for k, c in enumerate(p.coeffs))
        short = sum(c * d ** (k + 1) for k, c in enumerate(p.coeffs[:n32]))
        assert np.max(np.abs(short - full) / np.abs(full)) < 2.0 ** -36, (name, p.root, n32)
    if name in ("gelu_tanh", "sinc"):
        assert any(degree_below(p, 40) < len(p.coeffs) - 3 for p in patches)


def _sinc_rows():
    from symact.catalog import CATALOG
    from symact.codegen.patches import degree_below, root_patches, patch_width

    patches = root_patches(CATALOG["sinc"], "grad")
    rows = tuple((p.r_hi, p.r_lo, p.radius, degree_below(p, 40), tuple(reversed(p.coeffs))) for p in patches)
    return rows, patch_width(patches)


def _row_by_row(r, x, single, rows):
    """The patches as one Horner loop per row (the generated code for few zeros)."""
    for zero_hi, zero_lo, radius, n32, poly in rows:
        d = (x - zero_hi) - zero_lo
        near = np.flatnonzero(np.abs(d) < radius)
        poly = poly[-n32:] if single else poly
        acc = d[near] * poly[0]
        for c in poly[1:]:
            acc = (acc + c) * d[near]
        r[near] = acc
    return r


def test_patch_cells_find_every_element_of_every_patch():
    """Every float of a patch (its ends' neighbours included) lies in a cell naming its row; no cell names two."""
    rows, width = _sinc_rows()
    assert width is not None and len(rows) == 12
    start, cells = kernels._patch_cells(rows, width)
    assert cells[0] == -1 and cells[-1] == -1
    for i, (hi, _, radius, _, _) in enumerate(rows):
        ends = np.array([hi - radius, hi + radius, hi])
        pts = np.concatenate([np.nextafter(ends, -np.inf), ends, np.nextafter(ends, np.inf),
                              np.linspace(hi - radius, hi + radius, 1001)])
        at = np.floor((pts - start) / width).astype(int) + 1
        assert (cells[at] == i).all(), (i, hi)
    # a patch between two others' cells: check=True refuses the width
    crowded = rows[:2] + ((rows[0][0] + 0.5 * (rows[1][0] - rows[0][0]), 0.0, 1.5, 2, (1.0, 0.0)),)
    assert kernels._patch_cells(crowded, width, check=True) is None


@pytest.mark.parametrize("single", [False, True])
def test_taylor_patches_kernel_gives_the_bits_of_one_loop_per_zero(single):
    """_taylor_patches (one pass for all zeros, one coefficient table) against a Horner loop per zero, bit
    for bit: at the patches' ends and their neighbours, at random, at huge, infinite and NaN elements."""
    rows, width = _sinc_rows()
    rng = np.random.default_rng(3)
    ends = np.array([[hi - radius, hi + radius] for hi, _, radius, _, _ in rows]).ravel()
    x = np.concatenate([ends, np.nextafter(ends, -np.inf), np.nextafter(ends, np.inf), rng.uniform(-25, 25, 20000),
                        [np.inf, -np.inf, np.nan, 1e300, -1e300, 2.0 ** 62, 0.0]])
    if single:
        with np.errstate(over="ignore"):
            x = x.astype(np.float32).astype(np.float64)
    base = rng.standard_normal(x.size)
    want = _row_by_row(base.copy(), x, single, rows)
    assert (want != base).sum() > 1000  # the patches changed something
    got = kernels._taylor_patches(base.copy(), x, single, width, rows)
    assert np.array_equal(got.view(np.int64), want.view(np.int64))


@pytest.mark.parametrize("value", [1.0, 0.25, -3.0, float("nan")])
def test_in_place_scaling_by_a_parameter_is_skipped_only_at_one(value):
    """v*a, a*v and v/a written over v: `if a != 1.0:` skips the pass at a = 1 (exact either way)."""
    low = lower(["t = np.exp(x)", "u = t * a", "w = a * np.tanh(u)", "r = w / a"], ["r"], {"x"}, {"a"})
    guarded = [line for line in low.lines if line.startswith("if a != 1.0: ")]
    assert len(guarded) == 3, low.lines
    x = np.linspace(-3.0, 3.0, 101)
    got = _run(low.lines, low.results, x, a=value)[0]
    want = value * np.tanh(np.exp(x) * value) / value
    np.testing.assert_array_equal(got, want)


def test_paired_kernels_become_one_call_only_when_adjacent():
    from symact.catalog import get
    from symact.codegen.render import _paired

    assert _paired(["o0 = _gelu_tanh_xgate(x, out=o0)", "b0 = _gelu_tanh_slope(x)", "r = b0"]) == \
        ["o0, b0 = _gelu_tanh_pair(x, out=o0)", "r = b0"]
    assert _paired(["b1 = _gelu_tanh_xgate(x)", "b0 = _gelu_tanh_slope(x)"]) == ["b1, b0 = _gelu_tanh_pair(x)"]
    apart = ["o0 = _gelu_tanh_xgate(x, out=o0)", "b1 = np.abs(x)", "b0 = _gelu_tanh_slope(x)"]
    assert _paired(apart) == apart
    other_arg = ["o0 = _gelu_tanh_xgate(x, out=o0)", "b0 = _gelu_tanh_slope(xs)"]
    assert _paired(other_arg) == other_arg
    assert "_gelu_tanh_pair(x, out=o0)" in render_module(get("gelu_tanh"))


def test_param_rounding_is_numpys_and_keeps_the_sign_of_zero():
    # _param keeps its float32 roundings in a dict; 0.0 and -0.0 compare equal, so neither is kept
    import importlib
    m = importlib.import_module("generated.leaky_relu")  # the package's leaky_relu is the function
    x32 = np.zeros(3, np.float32)
    values = [0.0, -0.0, 0.0, 0.1, -0.1, 0.1, 1e-45, -8e-46, 1.17549433e-38, 3.4028234663852886e38, -3.4028234e38,
              1e-30, 1 / 3]
    for v in values + values:
        expected = float(np.float32(v))
        got = m._param(v, x32, "p")
        assert got == expected and np.copysign(1.0, got) == np.copysign(1.0, expected), (v, got, expected)
        assert m._param(v, x32.astype(np.float64), "p") == v
    m._ROUNDED.clear()


def test_param_not_finite_or_rounding_to_zero_is_a_value_error():
    # nan, +-inf, beyond float32's range or nonzero rounding to 0 there, for float32 and float16 input
    # (float64 work included); nan and +-inf otherwise; the message names the parameter
    import importlib
    m = importlib.import_module("generated.leaky_relu")
    x16, x32, x64 = (np.zeros(2, t) for t in (np.float16, np.float32, np.float64))
    for v in (float("nan"), float("inf"), -float("inf"), 3.5e38, -1e39, 1e300, 7e-46, -1e-300):
        for x in (x16, x32):
            with pytest.raises(ValueError, match=r"negative_slope=.* float32"):
                m.leaky_relu(x, negative_slope=v)
    for v in (float("nan"), float("inf"), -float("inf")):
        for x in (x64, 1.0, [1.0], np.int64(3)):
            with pytest.raises(ValueError, match=r"negative_slope=.* not a finite number"):
                m.leaky_relu(x, negative_slope=v)
    assert m.leaky_relu(x64 - 1, negative_slope=5e-324)[0] == -5e-324
    assert m.leaky_relu(x64 - 1, negative_slope=1e300)[0] == -1e300
    assert m.leaky_relu(x32 - 1, negative_slope=1e-45)[0] == -np.float32(1e-45)
    assert m.leaky_relu(x32 - 1, negative_slope=0.0)[0] == 0.0
    m._ROUNDED.clear()


def test_equal_dtypes_with_metadata_take_the_plain_dtypes_path():
    # _prepare's fast path tests dtype identity; an equal dtype carrying metadata must give the same bits
    import generated
    x = (np.random.default_rng(3).standard_normal(1000) * 5).astype(np.float32)
    meta = x.view(np.dtype(np.float32, metadata={"unit": "m"}))
    for name in ("snake", "gelu", "tanhshrink", "softplus", "mish_grad", "silu_forward_and_grad"):
        fn = getattr(generated, name)  # the last two: float32 blocks widened to float64 by _blocks
        a, b = fn(x), fn(meta)
        for p, q in zip(a if isinstance(a, tuple) else (a,), b if isinstance(b, tuple) else (b,)):
            assert q.dtype == np.float32 and p.tobytes() == q.tobytes(), name


def test_lowering_computes_a_repeated_operation_once():
    """The same operation on the same operands is emitted once (t = x*x + 1 below); two results that would be
    one value are still two buffers (lowered without sharing), and both give the unshared bits."""
    from symact.codegen.inplace import lower

    x = np.random.default_rng(5).standard_normal(257)
    low = lower([], ["np.sqrt(x*x + 1.0) / (x*x + 1.0)"], {"x"})
    assert low.ops == 4 and sum("np.multiply(x, x)" in line for line in low.lines) == 1
    (got,) = _run(low.lines, low.results, x)
    t = x * x + 1.0
    assert np.array_equal(got, np.sqrt(t) / t)
    two = lower([], ["x*x + 1.0", "x*x + 1.0"], {"x"})
    assert len(set(two.results)) == 2
    a, b = _run(two.lines, two.results, x)
    assert a is not b and np.array_equal(a, t) and np.array_equal(b, t)
