import math
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from symact.reference import (
    ReferenceEvaluationError,
    UnsupportedExpressionError,
    compile_arb,
    reference_values,
    round_exact_to_dtype,
    ulp_distance,
)

x = sp.Symbol("x", real=True)
GELU = x / 2 * (1 + sp.erf(x / sp.sqrt(2)))
SIGMOID = 1 / (1 + sp.exp(-x))
SOFTPLUS = sp.log(1 + sp.exp(x))


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMACT_CACHE", str(tmp_path / "cache"))


def ref(expr, pts, dtype=np.float64, **kw):
    kw.setdefault("cache", False)
    return reference_values(expr, x, np.asarray(pts, dtype=np.float64), dtype, **kw)


def mp_round(fn, v, dps=400):
    """Independent value: mpmath at high precision, rounded via exact Fraction."""
    with mpmath.workdps(dps):
        y = fn(mpmath.mpf(v))
        sign, m, e, _ = mpmath.mpf(y)._mpf_
        fr = Fraction((-1) ** sign * int(m)) * Fraction(2) ** int(e)
    return float(fr)  # Fraction.__float__ is correctly rounded (incl. subnormals)


# ---------------------------------------------------------------- round_exact
class TestRoundExact:
    def test_exact_small_integers(self):
        assert round_exact_to_dtype(3, 0, np.float64) == 3.0
        assert round_exact_to_dtype(-5, -1, np.float32) == np.float32(-2.5)
        r = round_exact_to_dtype(0, 5, np.float16)
        assert r == 0 and not np.signbit(r) and r.dtype == np.float16

    def test_ties_to_even_float64(self):
        # 1 + 2**-53 is a tie between 1 and 1+2**-52 -> even (1.0)
        assert round_exact_to_dtype(2**53 + 1, -53, np.float64) == 1.0
        # 1 + 3*2**-53 is a tie between 1+2**-52 and 1+2**-51 -> even (1+2**-51)
        assert round_exact_to_dtype(2**53 + 3, -53, np.float64) == 1.0 + 2.0**-51
        # slightly above the tie rounds up
        assert round_exact_to_dtype(2**54 + 3, -54, np.float64) == 1.0 + 2.0**-52

    def test_float32_one_third(self):
        big = 2**200
        man = big // 3
        assert round_exact_to_dtype(man, -200, np.float32) == np.float32(1) / np.float32(3)
        assert round_exact_to_dtype(man, -200, np.float64) == 1 / 3

    def test_subnormals_float64(self):
        tiny = 2.0**-1074
        assert round_exact_to_dtype(1, -1074, np.float64) == tiny
        # largest subnormal
        assert round_exact_to_dtype(2**52 - 1, -1074, np.float64) == np.nextafter(2.0**-1022, 0)
        # exactly half the smallest subnormal: tie -> 0 (even)
        r = round_exact_to_dtype(1, -1075, np.float64)
        assert r == 0.0
        # just above half -> smallest subnormal
        assert round_exact_to_dtype(2**60 + 1, -1075 - 60, np.float64) == tiny
        # 1.5 * tiny is a tie between tiny and 2*tiny -> 2*tiny (even)
        assert round_exact_to_dtype(3, -1075, np.float64) == 2 * tiny
        r = round_exact_to_dtype(-1, -2000, np.float64)
        assert r == 0.0 and np.signbit(r)

    def test_subnormals_float16(self):
        assert round_exact_to_dtype(1, -24, np.float16) == np.float16(2.0**-24)
        assert round_exact_to_dtype(1023, -24, np.float16) == np.nextafter(np.float16(2.0**-14), np.float16(0))
        assert round_exact_to_dtype(1, -25, np.float16) == 0

    def test_overflow_boundary_float16(self):
        assert round_exact_to_dtype(65519, 0, np.float16) == np.float16(65504)
        assert np.isposinf(round_exact_to_dtype(65520, 0, np.float16))
        assert np.isneginf(round_exact_to_dtype(-65520, 0, np.float16))
        assert round_exact_to_dtype(2 * 65520 - 1, -1, np.float16) == np.float16(65504)

    def test_overflow_boundary_float64(self):
        fmax = np.finfo(np.float64).max
        half_ulp_above = (2**54 - 1) * 2**970  # (2 - 2**-53) * 2**1023
        assert np.isposinf(round_exact_to_dtype(half_ulp_above, 0, np.float64))
        assert round_exact_to_dtype(half_ulp_above - 1, 0, np.float64) == fmax
        assert np.isposinf(round_exact_to_dtype(1, 10**6, np.float64))

    def test_float32_overflow(self):
        assert np.isposinf(round_exact_to_dtype(1, 128, np.float32))
        assert round_exact_to_dtype(2**24 - 1, 104, np.float32) == np.finfo(np.float32).max

    def test_huge_exponents_fast(self):
        assert round_exact_to_dtype(12345, -(10**30), np.float64) == 0.0
        assert np.isneginf(round_exact_to_dtype(-7, 10**30, np.float32))


# ---------------------------------------------------------------- reference
class TestReferenceValues:
    def test_exp_one(self):
        r = ref(sp.exp(x), [1.0])
        assert r.dtype == np.float64
        assert r[0] == 2.718281828459045 == np.exp(1.0)

    def test_exp_float32(self):
        r = ref(sp.exp(x), [1.0], np.float32)
        assert r.dtype == np.float32
        assert r[0] == np.float32(mp_round(mpmath.exp, 1.0))  # double rounding is fine here
        assert r[0] == np.float32(2.7182817)

    def test_log1p_tiny(self):
        assert ref(log1p(x), [1e-20])[0] == 1e-20
        assert ref(expm1(x), [1e-20])[0] == 1e-20

    def test_gelu_cancellation(self):
        r = ref(GELU, [-30.0, -5.0, 3.0])
        for got, v in zip(r, [-30.0, -5.0, 3.0]):
            want = mp_round(lambda t: t / 2 * mpmath.erfc(-t / mpmath.sqrt(2)), v)
            assert want != 0
            assert got == want
        assert r[0] < 0 and abs(r[0] / -1.4720141781444561e-196 - 1) < 1e-15

    def test_gelu_huge_negative_underflows(self):
        r = ref(GELU, [-1e300])
        assert r[0] == 0.0

    def test_softplus_extremes(self):
        r = ref(SOFTPLUS, [1000.0, -800.0, -740.0, 30.0])
        assert r[0] == 1000.0
        assert r[1] == 0.0
        want = mp_round(lambda t: mpmath.log(1 + mpmath.exp(t)), -740.0)
        assert 0 < want < 2.2250738585072014e-308  # subnormal
        assert r[2] == want
        assert r[3] == mp_round(lambda t: mpmath.log(1 + mpmath.exp(t)), 30.0)

    def test_sigmoid_subnormal(self):
        want = mp_round(lambda t: 1 / (1 + mpmath.exp(-t)), -740.0)
        assert 0 < want < 2.2250738585072014e-308
        assert ref(SIGMOID, [-740.0])[0] == want
        assert ref(SIGMOID, [-800.0])[0] == 0.0  # exp(-800) ~ 3.7e-348 < tiny/2

    def test_mish_huge_negative(self):
        r = ref(x * sp.tanh(sp.log(1 + sp.exp(x))), [-1e5, -10.0])
        assert r[0] == 0.0
        want = mp_round(lambda t: t * mpmath.tanh(mpmath.log(1 + mpmath.exp(t))), -10.0)
        assert r[1] == want

    def test_misc_points(self):
        assert ref(sp.exp(-(x**2)), [1e200])[0] == 0.0
        assert ref(sp.tanh(x), [1e-300])[0] == 1e-300
        assert ref(sp.sin(x), [1e300])[0] == mp_round(mpmath.sin, 1e300, dps=800)
        assert ref(sp.atan(x), [1e300])[0] == math.pi / 2

    def test_float16_and_float32_values(self):
        pts = [-3.0, -0.5, 0.25, 1.0, 7.0]
        for dt in (np.float16, np.float32):
            r = ref(sp.tanh(x), pts, dt)
            assert r.dtype == dt
            for got, v in zip(r, pts):
                with mpmath.workdps(100):
                    y = mpmath.tanh(mpmath.mpf(v))
                # independent rounding path: Fraction -> numpy via float64 is double
                # rounding, so compare in ulps instead of exactly
                assert ulp_distance(np.array([got]), np.array([float(y)], dtype=dt), dt)[0] <= 1
        assert ref(sp.exp(x), [12.0], np.float16)[0] == np.inf  # e^12 > 65520
        assert ref(sp.exp(x), [11.0], np.float16)[0] == np.float16(59874.14)

    def test_piecewise_relu(self):
        relu = sp.Piecewise((0, x < 0), (x, True))
        r = ref(relu, [-0.0, 1.5, -2.0, 0.0])
        assert list(r) == [0.0, 1.5, 0.0, 0.0]
        drelu = sp.diff(sp.Piecewise((0, x <= 0), (x, True)), x)
        assert list(ref(drelu, [-1.0, 0.0, 2.0])) == [0.0, 0.0, 1.0]

    def test_piecewise_conditions_exact(self):
        e = sp.Piecewise((1, sp.Abs(x) > sp.Rational(1, 2)), (2, x + 3 < 0), (3, sp.Eq(x, 0)), (4, True))
        assert list(ref(e, [0.75, -0.5, 0.5, 0.0, 0.25, -0.0])) == [1, 4, 4, 3, 4, 3]
        # boundary decided exactly even through a transcendental-free rational condition
        e2 = sp.Piecewise((sp.exp(x), sp.And(x > -1, sp.Not(x >= 1))), (0, sp.Or(x <= -1, sp.false)), (5, True))
        assert list(ref(e2, [-1.0, 1.0, 0.0])) == [0.0, 5.0, 1.0]
        # transcendental condition decided by arb
        e3 = sp.Piecewise((1, sp.exp(x) > 2), (0, True))
        assert list(ref(e3, [0.6931471805599453, 0.6931471805599454])) == [0.0, 1.0]

    def test_piecewise_no_branch_is_nan(self):
        e = sp.Piecewise((x, x > 0))
        r = ref(e, [1.0, -1.0])
        assert r[0] == 1.0 and np.isnan(r[1])

    def test_nan_and_inf_inputs(self):
        r = ref(sp.exp(x), [np.nan, np.inf, -np.inf, 0.0])
        assert np.isnan(r[:3]).all() and r[3] == 1.0

    def test_domain_nan_and_singularity(self):
        r = ref(sp.sqrt(x), [-1.0, 4.0, 0.0])
        assert np.isnan(r[0]) and r[1] == 2.0 and r[2] == 0.0
        assert np.isnan(ref(sp.log(x), [-2.0])[0])
        with pytest.raises(ReferenceEvaluationError, match="x=0.0"):
            ref(1 / x, [0.0])
        with pytest.raises(ReferenceEvaluationError):
            ref(sp.diff(sp.sinc(x), x), [0.0])

    def test_abs_sign_max_min_heaviside(self):
        pts = [-2.0, -0.0, 0.0, 3.0]
        assert list(ref(sp.Abs(x), pts)) == [2.0, 0.0, 0.0, 3.0]
        assert list(ref(sp.diff(sp.Abs(x), x), pts)) == [-1.0, 0.0, 0.0, 1.0]
        assert list(ref(sp.Max(x, 0) + sp.Min(x, -1), pts)) == [-2.0, -1.0, -1.0, 2.0]
        assert list(ref(sp.Heaviside(x), pts)) == [0.0, 0.5, 0.5, 1.0]
        assert list(ref(sp.Heaviside(x, 1), pts)) == [0.0, 1.0, 1.0, 1.0]

    def test_powers(self):
        assert ref(x ** sp.Rational(-3, 2), [4.0])[0] == 0.125
        assert ref(x**3, [-2.0])[0] == -8.0
        assert ref(x ** sp.Float(1.5), [4.0])[0] == 8.0
        assert ref(2**x, [0.5])[0] == math.sqrt(2)
        assert ref(sp.pi * x, [1.0])[0] == math.pi
        assert ref(sp.E + 0 * x, [1.0])[0] == math.e
        # exact algebraic result at a float32 rounding tie: sqrt((1+2**-24)**2) = 1+2**-24
        v = (1 + 2.0**-24) ** 2
        assert v == 1 + 2.0**-23 + 2.0**-48
        assert ref(sp.sqrt(x), [v], np.float32)[0] == np.float32(1.0)  # tie to even

    def test_more_functions(self):
        fns = [
            (sp.sinh, mpmath.sinh), (sp.cosh, mpmath.cosh), (sp.cos, mpmath.cos), (sp.tan, mpmath.tan),
            (sp.asinh, mpmath.asinh), (sp.erfc, mpmath.erfc), (sp.sinc, lambda t: mpmath.sinc(t)),
        ]
        for sf, mf in fns:
            for v in [-2.5, 0.3, 1.7]:
                assert ref(sf(x), [v])[0] == mp_round(mf, v), sf
        assert ref(sp.sinc(x), [0.0])[0] == 1.0

    def test_derivatives(self):
        d = sp.diff(sp.erf(x), x)
        assert ref(d, [1.0])[0] == mp_round(lambda t: 2 * mpmath.exp(-t * t) / mpmath.sqrt(mpmath.pi), 1.0)
        dg = sp.diff(GELU, x)
        want = mp_round(lambda t: (1 + mpmath.erf(t / mpmath.sqrt(2))) / 2
                        + t * mpmath.exp(-t * t / 2) / mpmath.sqrt(2 * mpmath.pi), -20.0)
        assert ref(dg, [-20.0])[0] == want
        y = sp.Symbol("y")  # not declared real: derivative of Abs contains re/im
        r = reference_values(sp.diff(sp.Abs(y), y), y, np.array([-3.0, 2.0]), np.float64, cache=False)
        assert list(r) == [-1.0, 1.0]

    def test_unsupported_nodes(self):
        with pytest.raises(UnsupportedExpressionError, match="gamma"):
            ref(sp.gamma(x), [1.0])
        with pytest.raises(NotImplementedError):
            ref(sp.gamma(x), [1.0])
        with pytest.raises(ReferenceEvaluationError, match="symbol"):
            ref(x + sp.Symbol("z"), [1.0])

    def test_uncertifiable_raises(self):
        # sin(x)**2 + cos(x)**2 == 1 holds exactly but cannot be decided by ball
        # arithmetic: the reference must raise rather than guess a branch.
        e = sp.Piecewise((1, sp.Eq(sp.sin(x) ** 2 + sp.cos(x) ** 2, 1, evaluate=False)), (0, True))
        with pytest.raises(ReferenceEvaluationError, match="x=0.5"):
            ref(e, [0.5], max_prec=256)

    def test_shape_preserved(self):
        xs = np.linspace(-1, 1, 6).reshape(2, 3)
        r = reference_values(sp.tanh(x), x, xs, np.float32, cache=False)
        assert r.shape == (2, 3) and r.dtype == np.float32
        assert np.array_equal(r, np.tanh(xs).astype(np.float32))  # tanh rounding agrees here

    def test_float32_inputs_exact(self):
        xs = np.array([0.1, 1e-3], dtype=np.float32)
        r = reference_values(x, x, xs, np.float64, cache=False)
        assert np.array_equal(r, xs.astype(np.float64))

    def test_bulk_against_mpmath(self):
        xs = np.linspace(-40, 40, 41)
        r = ref(GELU, xs)
        for got, v in zip(r, xs):
            want = mp_round(lambda t: t / 2 * mpmath.erfc(-t / mpmath.sqrt(2)), float(v))
            assert got == want


# ---------------------------------------------------------------- cache
class TestCache:
    def test_cache_roundtrip_and_corruption(self, tmp_path):
        xs = np.linspace(-3, 3, 7)
        a = reference_values(SIGMOID, x, xs, np.float32)
        files = list((tmp_path / "cache" / "reference").glob("*.npy"))
        assert len(files) == 1
        b = reference_values(SIGMOID, x, xs, np.float32)
        assert a.dtype == b.dtype == np.float32 and np.array_equal(a, b)
        # a cached file is really used: tamper with a valid file
        np.save(files[0], np.full(7, 42.0, dtype=np.float32))
        assert (reference_values(SIGMOID, x, xs, np.float32) == 42.0).all()
        # corrupt file -> ignored and rewritten
        files[0].write_bytes(b"garbage")
        c = reference_values(SIGMOID, x, xs, np.float32)
        assert np.array_equal(a, c)
        assert np.array_equal(np.load(files[0]), a)
        # different dtype / points -> different key
        reference_values(SIGMOID, x, xs, np.float64)
        reference_values(SIGMOID, x, xs[:3], np.float32)
        assert len(list((tmp_path / "cache" / "reference").glob("*.npy"))) == 3
        assert not [p for p in (tmp_path / "cache" / "reference").iterdir() if p.suffix != ".npy"]

    def test_cache_disabled_writes_nothing(self, tmp_path):
        reference_values(SIGMOID, x, np.array([1.0]), np.float64, cache=False)
        assert not (tmp_path / "cache").exists()


# ---------------------------------------------------------------- ulp distance
class TestUlpDistance:
    def test_nextafter_is_one(self):
        for dt in (np.float16, np.float32, np.float64):
            a = np.array([1.0, -3.5, 1e-3, 0.0], dtype=dt)
            b = np.nextafter(a, dt(np.inf))
            assert list(ulp_distance(b, a, dt)) == [1.0] * 4
            assert list(ulp_distance(a, b, dt)) == [1.0] * 4

    def test_across_zero(self):
        tiny = np.array([5e-324])
        assert ulp_distance(tiny, -tiny, np.float64)[0] == 2.0
        assert ulp_distance(np.array([0.0]), np.array([-0.0]), np.float64)[0] == 0.0
        t16 = np.array([2.0**-24], dtype=np.float16)
        assert ulp_distance(t16, -t16, np.float16)[0] == 2.0
        assert ulp_distance(np.array([-0.0]), tiny, np.float64)[0] == 1.0

    def test_large_and_inf(self):
        fmax = np.finfo(np.float64).max
        assert ulp_distance(np.array([np.inf]), np.array([fmax]), np.float64)[0] == 1.0
        d = ulp_distance(np.array([fmax]), np.array([-fmax]), np.float64)[0]
        assert d == 2.0 * 0x7FEFFFFFFFFFFFFF
        assert ulp_distance(np.array([2.0]), np.array([1.0]), np.float64)[0] == 2.0**52

    def test_nan_rules(self):
        got = np.array([np.nan, np.nan, 1.0, 1.0])
        want = np.array([np.nan, 1.0, np.nan, 1.0])
        assert list(ulp_distance(got, want, np.float64)) == [0.0, np.inf, np.inf, 0.0]

    def test_dtype_mismatch(self):
        got = np.array([1.0, 2.0], dtype=np.float64)
        ref32 = np.array([1.0, 2.0], dtype=np.float32)
        d = ulp_distance(got, ref32, np.float32)
        assert d.dtype == np.float64 and np.isinf(d).all()
        # ref of a different dtype is converted, got must match
        d2 = ulp_distance(got.astype(np.float32), got, np.float32)
        assert list(d2) == [0.0, 0.0]


def test_compile_arb_direct():
    from flint import fmpq
    f = compile_arb(sp.exp(x), x)
    y = f(fmpq(1, 3), 100)
    assert abs(float(y.mid()) - math.exp(1 / 3)) < 1e-15
    assert f(0.0, 64).is_exact()
