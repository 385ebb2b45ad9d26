"""symact collapse: linear collapse of small dense networks (symact/collapse.py, symact/cli_collapse.py)."""
from __future__ import annotations

import json
import random
from fractions import Fraction

import mpmath
import pytest
import sympy as sp

import symact.cli as cli
from symact import cli_collapse
from symact.catalog import get
from symact.collapse import CollapseError, collapse_network

EXPECTED_231 = "input1*(w1*w7 + w3*w8 + w5*w9) + input2*(w2*w7 + w4*w8 + w6*w9)"


@pytest.fixture
def main(monkeypatch):
    monkeypatch.setattr(cli, "_COMMAND_MODULES", [cli_collapse])
    return cli.main


def forward(layers, weights, inputs, biases=None, act=lambda z: z):
    """An independent forward pass with the documented numbering (w layer by layer, unit by unit)."""
    wi, bi = iter(weights), iter(biases or [])
    vals = list(inputs)
    for l, n_out in enumerate(layers[1:]):
        new = []
        for _ in range(n_out):
            z = sum(v * next(wi) for v in vals)
            if biases is not None:
                z += next(bi)
            new.append(act(z) if l < len(layers) - 2 else z)
        vals = new
    return vals


def test_231_formula_exact():
    res = collapse_network([2, 3, 1])
    i1, i2 = sp.symbols("input1 input2")
    w = sp.symbols("w1:10")
    expected = i1 * (w[0] * w[6] + w[2] * w[7] + w[4] * w[8]) + i2 * (w[1] * w[6] + w[3] * w[7] + w[5] * w[8])
    assert res.collapsed[0] == expected
    assert sp.expand(res.composed[0] - expected) == 0
    assert res.formula == EXPECTED_231
    assert sp.sympify(res.formula) == expected
    assert res.kind == "linear" and res.collapses
    assert res.W == sp.Matrix([[w[0] * w[6] + w[2] * w[7] + w[4] * w[8], w[1] * w[6] + w[3] * w[7] + w[5] * w[8]]])
    assert "Output = " + EXPECTED_231 in res.text()
    assert "W = W2 W1" in res.text()
    tex = res.latex()
    assert tex.startswith(r"\begin{align*}") and r"\end{align*}" in tex
    assert r"w_{7} \left(\mathrm{input}_{1} w_{1} + \mathrm{input}_{2} w_{2}\right)" in tex


@pytest.mark.parametrize("layers,bias", [([2, 3, 1], False), ([2, 3, 3, 1], False), ([3, 2, 4, 2], True), ([2, 3, 1], True)])
def test_collapsed_equals_composed_at_random_rationals(layers, bias):
    res = collapse_network(layers, bias=bias)
    rng = random.Random(7)
    syms = res.symbols
    for _ in range(3):
        inputs = [Fraction(rng.randint(-9, 9), rng.randint(1, 5)) for _ in syms.inputs]
        weights = [Fraction(rng.randint(-9, 9), rng.randint(1, 5)) for _ in syms.all_weights()]
        biases = [Fraction(rng.randint(-9, 9), rng.randint(1, 5)) for _ in syms.all_biases()] if bias else None
        want = forward(layers, weights, inputs, biases)
        sub = {s: sp.Rational(q.numerator, q.denominator)
               for s, q in zip(list(syms.inputs) + syms.all_weights() + syms.all_biases(),
                               inputs + weights + (biases or []))}
        for k, expr in enumerate(res.collapsed):
            got = expr.xreplace(sub)
            assert got == sp.Rational(want[k].numerator, want[k].denominator)
            assert res.composed[k].xreplace(sub) == got
        x = sp.Matrix([sub[s] for s in syms.inputs])
        Wx = res.W.xreplace(sub) * x + (res.b.xreplace(sub) if res.b is not None else sp.zeros(len(want), 1))
        assert list(Wx) == [sp.Rational(q.numerator, q.denominator) for q in want]


def test_bias_gives_affine_with_bias_terms(main, capsys):
    assert main(["collapse", "--bias", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "affine" and out["collapses"] and out["bias"] is True
    assert out["formula"] == EXPECTED_231 + " + b1*w7 + b2*w8 + b3*w9 + b4"
    assert out["weights"]["W"] == "Matrix([[w1*w7 + w3*w8 + w5*w9, w2*w7 + w4*w8 + w6*w9]])"
    assert out["witness"] is None and out["activation"] is None


def test_json_shape_default(main, capsys):
    assert main(["collapse", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"layers", "activation", "bias", "collapses", "kind", "formula", "weights", "witness"} <= set(out)
    assert out["layers"] == [2, 3, 1] and out["kind"] == "linear" and out["formula"] == EXPECTED_231


def test_relu_is_piecewise_affine(main, capsys):
    assert main(["collapse", "--activation", "relu", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "piecewise-affine" and out["collapses"] is False
    assert out["pieces"] == 2 and out["activation"] == "relu"
    assert "relu(input1*w1 + input2*w2)" in out["formula"]
    assert main(["collapse", "--activation", "hardtanh"]) == 0
    text = capsys.readouterr().out
    assert "hardtanh has 3 pieces" in text and "affine" in text


def test_leaky_relu_slope_one_collapses(main, capsys):
    assert main(["collapse", "--activation", "leaky_relu", "-p", "negative_slope=1", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["collapses"] is True and out["kind"] == "linear" and out["formula"] == EXPECTED_231
    assert out["activation"] == "leaky_relu"
    assert collapse_network([2, 3, 1], get("leaky_relu")).kind == "piecewise-affine"


def test_sigmoid_witness_hessian_rechecked_by_finite_differences(main, capsys):
    assert main(["collapse", "--activation", "sigmoid", "--layers", "2,3,3,1", "--bias", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "nonlinear" and out["collapses"] is False
    w = out["witness"]
    layers = out["layers"]
    weights = [mpmath.mpf(Fraction(v).numerator) / Fraction(v).denominator for v in w["weights"].values()]
    biases = [mpmath.mpf(Fraction(v).numerator) / Fraction(v).denominator for v in w["biases"].values()]
    x0 = [mpmath.mpf(Fraction(v).numerator) / Fraction(v).denominator for v in w["inputs"].values()]
    names = list(w["inputs"])
    r, c = names.index(w["entry"]["row"]), names.index(w["entry"]["col"])
    with mpmath.workdps(60):
        def out_at(x):
            return forward(layers, weights, x, biases, act=lambda z: 1 / (1 + mpmath.exp(-z)))[0]

        h = mpmath.mpf("1e-12")
        for i in range(len(x0)):
            for j in range(len(x0)):
                def shifted(di, dj):
                    x = list(x0)
                    x[i] += di
                    x[j] += dj
                    return out_at(x)
                fd = (shifted(h, h) - shifted(h, -h) - shifted(-h, h) + shifted(-h, -h)) / (4 * h * h)
                claimed = mpmath.mpf(w["hessian"][i][j])
                assert abs(fd - claimed) < mpmath.mpf("1e-15") * max(1, abs(claimed))
        fd_entry = mpmath.mpf(w["hessian"][r][c])
        assert abs(fd_entry) > mpmath.mpf("1e-10")


def test_sigmoid_default_witness_exact():
    res = collapse_network([2, 3, 1], "sigmoid")
    w = res.witness
    assert res.kind == "nonlinear" and w["exact"] is not None
    exact = sp.sympify(w["exact"])
    assert abs(float(exact) - float(w["entry"]["value"])) < 1e-15
    s = sp.Symbol("s")
    sig = 1 / (1 + sp.exp(-s))
    # all weights 1, inputs 1/2: Output = 3 sigmoid(input1 + input2), d2/dx1^2 = 3 sigmoid''(1)
    assert sp.simplify(exact - 3 * sp.diff(sig, s, 2).subs(s, 1)) == 0


def test_no_hidden_layer_always_collapses():
    res = collapse_network([3, 2], "tanh", bias=True)
    assert res.collapses and res.kind == "affine"
    assert res.formula == "Output1 = input1*w1 + input2*w2 + input3*w3 + b1; Output2 = input1*w4 + input2*w5 + input3*w6 + b2"


@pytest.mark.parametrize("layers", ["3", "2,0,1", "2,-1", "2,x,1", "9,1", "8,8,8,8,8", "", "2,,1", "2.5,1"])
def test_bad_layers_exit_2_one_line(main, capsys, layers):
    assert main(["collapse", "--layers", layers]) == 2
    cap = capsys.readouterr()
    assert cap.out == ""
    assert cap.err.startswith("error:") and cap.err.count("\n") == 1


def test_bad_activation_and_params_exit_2(main, capsys):
    for argv in (["--activation", "nope"], ["-p", "a=1"], ["--activation", "relu", "-p", "zz=1"],
                 ["--activation", "leaky_relu", "-p", "negative_slope"], ["--format", "pdf"]):
        assert main(["collapse", *argv]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and err.count("\n") == 1


def test_api_rejects_bad_layers():
    for layers in ([2], [2, 0], [2, True], [2, 9], [1.5, 1]):
        with pytest.raises(CollapseError):
            collapse_network(layers)


def test_latex_format(main, capsys):
    assert main(["collapse", "--layers", "2,3,3,1", "--format", "latex"]) == 0
    tex = capsys.readouterr().out
    assert r"\begin{align*}" in tex and r"W &= W_{3} W_{2} W_{1}" in tex
    assert r"\text{collect by input}" in tex
