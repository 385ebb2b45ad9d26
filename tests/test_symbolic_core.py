"""Piecewise normal form, proofs of stable forms, the time box and the printer's allow-list."""
from __future__ import annotations

import time

import numpy as np
import pytest
import sympy as sp

from symact.activation import X, Activation, Param, ParameterError, UnprovenFormError
from symact.catalog import CATALOG, get
from symact.codegen.printer import PrintError, print_function
from symact.functions import expm1, fclip, log1p
from symact.pieces import pieces_to_piecewise, to_pieces
from symact.proof import prove_equal
from symact.timebox import SymbolicTimeout, timebox

x = X


def _summary(expr):
    return [(p.expr, p.lo, p.hi, p.lo_closed, p.hi_closed) for p in to_pieces(expr, x)]


def test_pieces_of_max_follow_the_kink_convention():
    # Max(0, x) rewrites with x <= 0 -> 0: the derivative at the kink is the left piece's (relu'(0) = 0)
    assert _summary(sp.Max(x, 0)) == [(0, -sp.oo, 0, False, True), (x, 0, sp.oo, False, False)]


def test_pieces_of_a_point_branch_and_a_jump():
    sinc = sp.Piecewise((1, sp.Eq(x, 0)), (sp.sin(x) / x, True))
    assert [(p.expr, p.lo, p.hi) for p in to_pieces(sinc, x)] == [(sp.sin(x) / x, -sp.oo, 0), (1, 0, 0),
                                                                  (sp.sin(x) / x, 0, sp.oo)]
    step = sp.Piecewise((0, x < 0), (1, True))
    assert _summary(step) == [(0, -sp.oo, 0, False, False), (1, 0, sp.oo, True, False)]


def test_pieces_of_abs_conditions_and_clip():
    hs = sp.Piecewise((0, sp.Abs(x) <= sp.Rational(1, 2)), (x, True))
    assert [(p.expr, p.lo, p.hi) for p in to_pieces(hs, x)] == [(x, -sp.oo, -sp.Rational(1, 2)),
                                                                (0, -sp.Rational(1, 2), sp.Rational(1, 2)),
                                                                (x, sp.Rational(1, 2), sp.oo)]
    clip = sp.Min(sp.Max(x, -1), 1)
    pcs = to_pieces(clip, x)
    assert [p.expr for p in pcs] == [-1, x, 1]
    back = pieces_to_piecewise(pcs, x)
    for v in (-3, -1, 0.5, 1, 7):
        assert back.subs(x, v) == clip.subs(x, v)


def test_derivative_at_kinks_matches_pytorch_conventions():
    def d_at(name, point):
        return get(name).derivative().subs(x, point)

    assert d_at("relu", 0) == 0
    assert d_at("leaky_relu", 0) == sp.Rational(1, 100)
    assert d_at("hardtanh", 1) == 0 and d_at("hardtanh", -1) == 0
    assert d_at("elu", 0) == 1  # alpha = 1
    assert d_at("hardswish", -3) == -sp.Rational(1, 2) and d_at("hardswish", 3) == sp.Rational(3, 2)
    assert d_at("hardsigmoid", 3) == 0 and d_at("relu6", 6) == 0
    assert d_at("hardshrink", sp.Rational(1, 2)) == 0 and d_at("threshold", sp.Rational(1, 10)) == 0


def test_catalog_definitions_match_design_table():
    """Spot values of the definitions, worked out by hand from DESIGN.md's table."""
    val = lambda n, v: sp.nsimplify(get(n).definition().subs(x, v))  # noqa: E731
    assert val("binary_step", 0) == 1 and val("binary_step", -sp.Rational(1, 10**9)) == 0
    assert val("hardsigmoid", 0) == sp.Rational(1, 2) and val("hardswish", 1) == sp.Rational(2, 3)
    assert val("rrelu", -48) == -11  # slope (1/8 + 1/3)/2 = 11/48
    assert val("threshold", sp.Rational(1, 10)) == 20 and val("threshold", 1) == 1
    assert val("softshrink", 2) == sp.Rational(3, 2) and val("hardshrink", sp.Rational(1, 2)) == 0
    assert val("sqnl", 1) == sp.Rational(3, 4) and val("sqnl", -3) == -1
    assert val("sparse_plus", 0) == sp.Rational(1, 4) and val("sparse_sigmoid", 0) == sp.Rational(1, 2)
    assert val("snake", 0) == 0 and val("sinc", 0) == 1 and val("isrlu", 2) == 2
    assert sp.simplify(get("selu").definition().subs(x, 1) - sp.Rational("1.0507009873554804934193349852946")) == 0
    assert len(CATALOG) >= 40


def test_correct_stable_forms_are_proven():
    r = prove_equal(sp.Max(x, 0) + log1p(sp.exp(-sp.Abs(x))), sp.log(1 + sp.exp(x)), x, use_cache=False)
    assert r.proven and "ball-arithmetic-spot-check" in r.methods
    r = prove_equal(sp.Piecewise((expm1(fclip(x, -sp.oo, 0)), x <= 0), (x, True)),
                    sp.Piecewise((sp.exp(x) - 1, x <= 0), (x, True)), x, use_cache=False)
    assert r.proven


@pytest.mark.parametrize("form,target", [
    (x + 1, x),
    (sp.Piecewise((0, x < 0), (x, True)), sp.Piecewise((0, x < 0), (x + sp.Rational(1, 10**12), True))),
    (sp.Heaviside(x, 1), sp.Piecewise((0, x <= 0), (1, True))),  # differs only at the kink
    (sp.log(1 + sp.exp(x)) + sp.exp(-x**2) / 10**20, sp.log(1 + sp.exp(x))),  # differs by 1e-20
])
def test_wrong_forms_are_refused(form, target):
    assert not prove_equal(form, target, x, use_cache=False).proven


def test_activation_refuses_unproven_form():
    bad = Activation("bad_softplus", sp.log(1 + sp.exp(x)), forward=sp.Max(x, 0))
    with pytest.raises(UnprovenFormError, match="bad_softplus: the forward form"):
        bad.stable_forms
    bad_grad = Activation("bad_tanh", sp.tanh(x), grad=1 - sp.tanh(x))
    with pytest.raises(UnprovenFormError, match="grad"):
        bad_grad.stable_forms


def test_parameters_are_checked():
    elu = get("elu")
    assert elu.with_params(alpha="0.5").param_values()["alpha"] == sp.Rational(1, 2)
    assert elu.with_params(alpha=0.1).param_values()["alpha"] == sp.Rational(*(0.1).as_integer_ratio())
    with pytest.raises(ParameterError, match="outside its domain"):
        elu.with_params(alpha=0)
    with pytest.raises(ParameterError, match="no parameter"):
        elu.with_params(beta=1)
    with pytest.raises(ParameterError, match="must satisfy"):
        get("rrelu").with_params(lower=1)
    with pytest.raises(ParameterError, match="not a number"):
        elu.with_params(alpha="1e")


def test_timebox_interrupts_a_long_symbolic_call():
    import threading

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("SIGALRM time boxes only limit the main thread")
    start = time.monotonic()
    with pytest.raises(SymbolicTimeout):
        with timebox(0.5):
            for k in range(10**6):  # bounded: never hangs the suite even if the box failed
                sp.expand((x + 1) ** 60 * (x - k) ** 40)
    assert time.monotonic() - start < 5


def test_timebox_expiry_is_not_swallowed_by_a_garbage_collector_callback():
    """An alarm during a gc callback (hypothesis registers one) must not become 'Exception ignored'."""
    import gc
    import sys
    import threading

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("SIGALRM time boxes only limit the main thread")
    finished, reported = [], []

    def slow_callback(phase, info):
        if phase == "start":
            end = time.monotonic() + 0.4
            while time.monotonic() < end:  # the box's deadline passes in here
                sum(range(100))
            finished.append(phase)

    old_hook = sys.unraisablehook
    sys.unraisablehook = reported.append
    gc.callbacks.append(slow_callback)
    try:
        with pytest.raises(SymbolicTimeout):
            with timebox(0.1):
                gc.collect()
                end = time.monotonic() + 5
                while time.monotonic() < end:  # the expiry is raised here, after the callback
                    sum(range(100))
    finally:
        gc.callbacks.remove(slow_callback)
        sys.unraisablehook = old_hook
    assert finished == ["start"]
    assert reported == []


def test_printer_allow_list_refuses_unknown_functions():
    with pytest.raises(PrintError, match="does not allow"):
        print_function(sp.gamma(x), x, {x: "x"})
    with pytest.raises(PrintError, match="unknown symbol"):
        print_function(x * sp.Symbol("q"), x, {x: "x"})


def _run(printed, **env):
    from symact.codegen import kernels

    ns = {"np": np, **{k: getattr(kernels, k) for k in printed.kernels}, **env}
    for line in printed.lines:
        exec(line, ns)
    return eval(printed.result, ns)


def test_printer_keeps_float32_and_folds_constants():
    beta = sp.Symbol("beta", real=True)
    pf = print_function(sp.sqrt(2 / sp.pi) * x + sp.exp(beta) * x, x, {x: "x", beta: "beta"})
    assert "0.7978845608028654" in pf.result  # sqrt(2/pi) folded to one correctly rounded double
    out = _run(pf, x=np.ones(3, np.float32), beta=0.5)
    assert out.dtype == np.float32


def test_printer_guards_nan_for_constant_branches():
    pf = print_function(sp.Piecewise((0, x < 0), (1, True)), x, {x: "x"})
    out = _run(pf, x=np.array([-1.0, 0.0, np.nan, np.inf], np.float32))
    assert out.dtype == np.float32
    assert out[0] == 0 and out[1] == 1 and np.isnan(out[2]) and out[3] == 1
    pf = print_function(sp.Integer(3), x, {x: "x"})
    out = _run(pf, x=np.array([np.nan, 2.0]))
    assert np.isnan(out[0]) and out[1] == 3


def test_param_only_subexpressions_stay_python_floats():
    b = sp.Symbol("b", real=True)
    pf = print_function(x / sp.sqrt(b) + sp.sqrt(b), x, {x: "x", b: "b"})
    assert "float(np.sqrt(b))" in "\n".join(pf.lines) + pf.result
    assert _run(pf, x=np.ones(2, np.float32), b=4.0).dtype == np.float32


def test_timebox_fires_again_after_a_swallowed_expiry():
    """An expiry lost in a finalizer (``Exception ignored in ...``) must not disarm the box."""
    import threading

    if threading.current_thread() is not threading.main_thread():
        pytest.skip("SIGALRM time boxes only limit the main thread")
    start = time.monotonic()
    swallowed = 0
    with pytest.raises(SymbolicTimeout):
        with timebox(0.2):
            while time.monotonic() - start < 5:
                try:
                    while time.monotonic() - start < 5:
                        pass
                except SymbolicTimeout:
                    swallowed += 1
                    if swallowed > 1:
                        raise
    assert swallowed == 2
    assert time.monotonic() - start < 2
