"""The allow-list expression parser: what it accepts, what it refuses, and that it never executes input."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import sympy as sp
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from symact.activation import X
from symact.parse import MAX_DEPTH, ExpressionError, activation_from_expression, parse_expression

x = X
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("source,expected", [
    ("x*tanh(softplus(x))", x * sp.tanh(sp.log(1 + sp.exp(x)))),
    ("x * sigmoid(x)", x / (1 + sp.exp(-x))),
    ("0.044715*x**3", sp.Rational(44715, 10**6) * x**3),  # exact decimal, not the nearest double
    ("max(x, 0)", sp.Max(x, 0)),
    ("-x + +1", 1 - x),
    ("piecewise((x, x > 0), (0.01*x, True))", sp.Piecewise((x, x > 0), (x / 100, True))),
    ("where(abs(x) <= 1/2, 0, x)", sp.Piecewise((0, sp.Abs(x) <= sp.Rational(1, 2)), (x, True))),
    ("piecewise((0, -1 < x < 1), (x, True))", sp.Piecewise((0, (x > -1) & (x < 1)), (x, True))),
    ("x/sqrt(1 + x**2)", x / sp.sqrt(1 + x**2)),
    ("erf(x/sqrt(2))*pi + e", sp.erf(x / sp.sqrt(2)) * sp.pi + sp.E),
])
def test_accepts_the_grammar(source, expected):
    expr, _ = parse_expression(source)
    assert sp.simplify(expr - expected) == 0


@pytest.mark.parametrize("source,needle,column", [
    ("__import__('os').system('echo pwned')", "only the documented functions", 0),
    ("x.real", "Attribute is not allowed", 0),
    ("(lambda: 1)()", "only the documented functions", 0),
    ("y + 1", "unknown name 'y'", 0),
    ("x + eval('1')", "unknown function 'eval'", 4),
    ("exp(x, 2)", "exp() takes 1 argument", 0),
    ("x > 0", "only allowed as a condition", 0),
    ("x[0]", "Subscript is not allowed", 0),
    ("x +", "syntax error", None),
    ("'x'", "not a number", 0),
    ("x ** 100000", "exponent too large", 5),
    ("piecewise((x, x > 0), (0, x < 0))", "last pair", 22),
    ("x if x > 0 else 0", "IfExp is not allowed", 0),
    ("[x]", "List is not allowed", 0),
    ("x @ x", "MatMult", 0),
    ("max(x, key=abs)", "keyword arguments", None),
])
def test_refuses_with_position(source, needle, column):
    with pytest.raises(ExpressionError) as info:
        parse_expression(source)
    assert needle in str(info.value)
    if column is not None:
        assert info.value.column == column
        assert info.value.caret().splitlines()[1].index("^") == column + 2


def test_limits_on_length_and_depth():
    with pytest.raises(ExpressionError, match="longer than"):
        parse_expression("x+" * 1500 + "x")
    with pytest.raises(ExpressionError, match="nesting deeper"):
        parse_expression("(" * (MAX_DEPTH + 1) + "x" + ")" * (MAX_DEPTH + 1))
    parse_expression("(" * MAX_DEPTH + "x" + ")" * MAX_DEPTH)


def test_parameters_are_declared_and_used():
    act = activation_from_expression("x*sigmoid(beta*x)", "myswish", {"beta": "3/2"})
    assert act.param_values() == {"beta": sp.Rational(3, 2)}
    assert act.name == "myswish"
    with pytest.raises(ExpressionError, match="does not appear"):
        activation_from_expression("x", "a", {"beta": "1"})
    with pytest.raises(ExpressionError, match="cannot be a parameter name"):
        activation_from_expression("x", "a", {"exp": "1"})
    with pytest.raises(ExpressionError, match="does not depend on x"):
        activation_from_expression("1 + 2", "a")
    with pytest.raises(ExpressionError, match="lower-case Python identifier"):
        activation_from_expression("x", "My Act")


def test_cli_refuses_malicious_expression_without_running_it(tmp_path):
    marker = tmp_path / "pwned"
    r = subprocess.run([sys.executable, "-m", "symact", "generate", "--expr",
                        f"__import__('os').system('touch {marker}')", "--out", str(tmp_path / "out")],
                       capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2
    assert r.stderr.startswith("error: --expr: only the documented functions")
    assert "Traceback" not in r.stderr
    assert not marker.exists() and not (tmp_path / "out").exists()


def test_cli_generates_a_user_activation(tmp_path):
    r = subprocess.run([sys.executable, "-m", "symact", "generate", "--expr", "x*tanh(softplus(x))", "--name", "mish2",
                        "--out", str(tmp_path)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "mish2.py").read_text()
    assert "def mish2(x):" in text and "def mish2_grad(x):" in text
    ns: dict = {}
    exec(compile(text, "mish2.py", "exec"), ns)
    import numpy as np

    got = ns["mish2"](np.array([0.5]))[0]
    assert abs(got - 0.5 * np.tanh(np.log1p(np.exp(0.5)))) < 1e-15


_atoms = st.sampled_from(["x", "1", "0.5", "pi", "e", "2", "beta"])
_funcs = st.sampled_from(["exp", "log", "tanh", "sqrt", "abs", "sin", "erf", "sigmoid", "softplus", "expm1"])


def _trees(depth: int):
    if depth == 0:
        return _atoms
    sub = _trees(depth - 1)
    return st.one_of(
        _atoms,
        st.builds(lambda f, a: f"{f}({a})", _funcs, sub),
        st.builds(lambda a, op, b: f"({a} {op} {b})", sub, st.sampled_from(["+", "-", "*", "/", "**"]), sub),
        st.builds(lambda a: f"-{a}", sub),
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=80))
def test_fuzz_random_strings_never_crash(source):
    try:
        parse_expression(source, {"beta": 1})
    except ExpressionError:
        pass


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_trees(4))
def test_fuzz_random_trees_parse_or_refuse_cleanly(source):
    try:
        expr, used = parse_expression(source, {"beta": 1})
    except ExpressionError:
        return
    assert isinstance(expr, sp.Expr)
    assert expr.free_symbols <= {x, sp.Symbol("beta", real=True)}
    assert used <= {"beta"}


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(min_size=1, max_size=40).filter(lambda s: not s.startswith("-") and "\x00" not in s), _trees(3)))
@example("sqrt(-exp(x))")  # complex everywhere: printed as I*..., once an internal error
def test_fuzz_cli_exits_cleanly(source):
    r = subprocess.run([sys.executable, "-m", "symact", "generate", "--expr", source, "--name", "fz", "--out",
                        "/nonexistent-dir/never-written", "--check"], capture_output=True, text=True, cwd=ROOT,
                       timeout=120)
    assert r.returncode in (0, 1, 2), r.stderr
    assert "Traceback" not in r.stderr
