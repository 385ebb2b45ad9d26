"""Linear collapse of a small dense network, composed symbolically.

A network with layer widths ``[n0, n1, ..., nL]`` has inputs ``input1..input{n0}``, weights
``w1, w2, ...`` numbered layer by layer and, inside a layer, unit by unit (the first unit of the
first layer is ``input1*w1 + input2*w2 + ...``), and with ``bias=True`` one bias ``b1, b2, ...``
per unit, layer by layer. The activation is applied to the hidden layers only, never to the output.

``collapse_network`` decides, from the activation's piecewise normal form, which of three cases holds:

* affine activation (identity, or every piece the same polynomial of degree <= 1 in x): the network
  *is* one linear (affine with biases) layer; the collapsed form is derived by expanding the
  composition, collecting by input, and proven by checking ``expand(composition - collapsed) == 0``
  and that the product ``W = W_L ... W_1`` (with the activation's slope between layers) has the same
  coefficients;
* piecewise-linear activation (every piece linear, pieces differ): affine on each region where every
  hidden unit stays inside one piece;
* anything else: a concrete rational point where the Hessian of the output with respect to the inputs
  is non-zero (exact expression when it stays small, and 50 significant digits).

Every SymPy call runs inside ``symact.timebox.timebox``.
"""
from __future__ import annotations

import contextlib
import functools
import random
import sys
from dataclasses import dataclass, field
from fractions import Fraction

import sympy as sp
from sympy.polys.constructor import construct_domain
from sympy.polys.rings import ring

from .activation import X, Activation
from .pieces import Piece, PiecesError, derivative_pieces, pieces_to_piecewise
from .timebox import SymbolicTimeout, timebox

__all__ = ["CollapseError", "CollapseResult", "collapse_network", "parse_layers", "network_symbols",
           "MAX_WIDTH", "MAX_WEIGHTS"]

MAX_WIDTH = 8
MAX_WEIGHTS = 200
#: seconds for each symbolic step
STEP_SECONDS = 20.0
#: significant digits of the witness values (computed with a margin of guard digits)
DIGITS = 50
_GUARD = 20
#: an expanded form with more terms is not printed in text / LaTeX (it is in the API and JSON)
EXPANDED_TERMS_SHOWN = 60


class CollapseError(ValueError):
    """Bad network description (layers) or activation."""


# --------------------------------------------------------------------------------------------
# network description
# --------------------------------------------------------------------------------------------
def parse_layers(text: str) -> list[int]:
    """'2,3,1' -> [2, 3, 1], validated; CollapseError with a one-line reason otherwise."""
    parts = [p.strip() for p in str(text).split(",")]
    out = []
    for p in parts:
        if not p or not (p.isdigit() or (p[0] == "+" and p[1:].isdigit())):
            raise CollapseError(f"--layers {text!r}: expected comma-separated positive integers such as 2,3,1")
        out.append(int(p))
    return validate_layers(out)


def validate_layers(layers) -> list[int]:
    try:
        items = list(layers)
    except TypeError:
        raise CollapseError(f"layers must be a list of positive integers, not {layers!r}") from None
    for n in items:
        if isinstance(n, bool) or not isinstance(n, int):
            raise CollapseError(f"layer sizes must be integers, not {n!r}")
        if n < 1:
            raise CollapseError(f"layer sizes must be positive, got {n}")
        if n > MAX_WIDTH:
            raise CollapseError(f"layer size {n} exceeds the maximum of {MAX_WIDTH}")
    if len(items) < 2:
        raise CollapseError(f"at least two layer sizes are needed (inputs and outputs), got {len(items)}")
    total = sum(a * b for a, b in zip(items, items[1:]))
    if total > MAX_WEIGHTS:
        raise CollapseError(f"the network has {total} weights; at most {MAX_WEIGHTS} are allowed")
    return items


@dataclass(frozen=True)
class NetworkSymbols:
    inputs: tuple[sp.Symbol, ...]
    weights: tuple[tuple[tuple[sp.Symbol, ...], ...], ...]  # weights[l][j][i]: layer l, unit j, input i
    biases: tuple[tuple[sp.Symbol, ...], ...] | None  # biases[l][j]

    def all_weights(self) -> list[sp.Symbol]:
        return [w for layer in self.weights for unit in layer for w in unit]

    def all_biases(self) -> list[sp.Symbol]:
        return [b for layer in self.biases or () for b in layer]

    def matrix(self, l: int) -> sp.Matrix:
        return sp.Matrix([list(unit) for unit in self.weights[l]])


def network_symbols(layers: list[int], bias: bool = False) -> NetworkSymbols:
    """The symbols of a network (plain SymPy symbols, so ``sympify`` of a formula gives the same ones)."""
    inputs = tuple(sp.Symbol(f"input{i + 1}") for i in range(layers[0]))
    weights, biases, k, m = [], [], 0, 0
    for n_in, n_out in zip(layers, layers[1:]):
        layer = []
        for _ in range(n_out):
            layer.append(tuple(sp.Symbol(f"w{k + i + 1}") for i in range(n_in)))
            k += n_in
        weights.append(tuple(layer))
        biases.append(tuple(sp.Symbol(f"b{m + j + 1}") for j in range(n_out)))
        m += n_out
    return NetworkSymbols(inputs, tuple(weights), tuple(biases) if bias else None)


def _compose(syms: NetworkSymbols, act_fn) -> list[sp.Expr]:
    """The outputs of the network (unexpanded); act_fn(z) is applied to every hidden unit."""
    values: list[sp.Expr] = list(syms.inputs)
    last = len(syms.weights) - 1
    for l, layer in enumerate(syms.weights):
        new = []
        for j, unit in enumerate(layer):
            z = sp.Add(*[v * w for v, w in zip(values, unit)])
            if syms.biases is not None:
                z = z + syms.biases[l][j]
            new.append(act_fn(z) if l < last else z)
        values = new
    return values


# --------------------------------------------------------------------------------------------
# classification of the activation
# --------------------------------------------------------------------------------------------
def _linear_coeffs(expr: sp.Expr) -> tuple[sp.Expr, sp.Expr] | None:
    """(a, c) when expr == a*x + c exactly, else None."""
    expr = sp.expand(expr)
    if not expr.is_polynomial(X):
        return None
    poly = sp.Poly(expr, X)
    if poly.degree() > 1:
        return None
    return poly.coeff_monomial(X), poly.coeff_monomial(1)


@dataclass(frozen=True)
class _ActInfo:
    pieces: list[Piece] | None
    affine: tuple[sp.Expr, sp.Expr] | None  # (slope, intercept) when the activation is affine
    piecewise_linear: bool


def _classify(act: Activation | None) -> _ActInfo:
    if act is None:
        return _ActInfo(None, (sp.Integer(1), sp.Integer(0)), False)
    try:
        with timebox(STEP_SECONDS):
            pieces = act.pieces()
    except (PiecesError, SymbolicTimeout):
        # no normal form: treat the definition as one (smooth) piece
        pieces = [Piece(act.definition(), -sp.oo, sp.oo, False, False)]
    with timebox(STEP_SECONDS):
        coeffs = [_linear_coeffs(p.expr) for p in pieces]
    if all(c is not None for c in coeffs):
        if all(c == coeffs[0] for c in coeffs):
            return _ActInfo(pieces, coeffs[0], False)
        return _ActInfo(pieces, None, True)
    return _ActInfo(pieces, None, False)


# --------------------------------------------------------------------------------------------
# the result
# --------------------------------------------------------------------------------------------
def _small(expr: sp.Expr) -> bool:
    """Is an expanded form short enough to be worth printing?"""
    return len(sp.Add.make_args(expr)) <= EXPANDED_TERMS_SHOWN


@contextlib.contextmanager
def _deep():
    """Room for SymPy's recursion on deeply nested compositions (up to 200 layers)."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 20000))
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


def _boxed(method):
    """Run a rendering method inside a time box (SymPy printing included)."""

    @functools.wraps(method)
    def wrapper(self, *args, **kwargs):
        with _deep(), timebox(STEP_SECONDS):
            return method(self, *args, **kwargs)

    return wrapper


@dataclass
class CollapseResult:
    layers: list[int]
    activation: Activation | None
    bias: bool
    collapses: bool
    kind: str  # "linear" | "affine" | "piecewise-affine" | "nonlinear"
    symbols: NetworkSymbols
    composed: list[sp.Expr]  # one unexpanded expression per output
    collapsed: list[sp.Expr] | None = None  # collected by input, per output
    expanded: list[sp.Expr] | None = None
    W: sp.Matrix | None = None  # collapsed weight matrix
    b: sp.Matrix | None = None  # collapsed bias vector (with bias, or an affine activation)
    slope: sp.Expr | None = None  # of an affine activation
    intercept: sp.Expr | None = None
    pieces: list[Piece] | None = None
    proof: list[str] = field(default_factory=list)
    witness: dict | None = None

    # --- names ---------------------------------------------------------------------------------
    @property
    def activation_name(self) -> str | None:
        return self.activation.name if self.activation is not None else None

    @property
    def definition_text(self) -> str | None:
        """'name(x) = definition' with the parameter values, or None without an activation."""
        if self.activation is None:
            return None
        return f"{self.activation.name}(x) = {self.activation.definition()}"

    @property
    def outputs(self) -> list[str]:
        n = self.layers[-1]
        return ["Output"] if n == 1 else [f"Output{k + 1}" for k in range(n)]

    @property
    def hidden_units(self) -> int:
        return sum(self.layers[1:-1])

    @property
    def formulas(self) -> list[str]:
        exprs = self.collapsed if self.collapsed is not None else self.composed
        if self.collapsed is not None:
            return [_collected_text(e, self.symbols.inputs) for e in exprs]
        return [str(e) for e in exprs]

    @property
    def formula(self) -> str:
        f = self.formulas
        if len(f) == 1:
            return f[0]
        return "; ".join(f"{name} = {text}" for name, text in zip(self.outputs, f))

    def _params_text(self) -> dict[str, str]:
        if self.activation is None:
            return {}
        return {k: str(v) for k, v in self.activation.param_values().items()}

    def _statement(self) -> str:
        n_w = len(self.symbols.all_weights())
        if self.kind in ("linear", "affine"):
            what = "one linear layer" if self.kind == "linear" else "one affine layer"
            return f"the network equals {what}: Output = W input" + (" + b" if self.kind == "affine" else "")
        if self.kind == "piecewise-affine":
            k = len(self.pieces or [])
            h = self.hidden_units
            return (f"{self.activation_name} has {k} pieces, each linear in x but not all the same, so the network "
                    f"is not one affine layer; within a region of input space where each of the {h} hidden units "
                    f"stays in one piece the network is affine (at most {k}^{h} = {k ** h} activation patterns)")
        if self.witness is not None:
            return (f"{self.activation_name} is not piecewise linear; the Hessian of the output with respect to the "
                    f"inputs is non-zero at the witness point, so the network is not affine in its inputs "
                    f"({n_w} weights)")
        return f"{self.activation_name} is not piecewise linear (no witness point found within the search budget)"

    # --- renderings -------------------------------------------------------------------------------
    @_boxed
    def to_json(self) -> dict:
        out = {
            "layers": list(self.layers),
            "activation": self.activation_name,
            "params": self._params_text(),
            "bias": self.bias,
            "collapses": self.collapses,
            "kind": self.kind,
            "formula": self.formula,
            "formulas": self.formulas,
            "composed": [str(e) for e in self.composed],
            "weights": None,
            "definition": self.definition_text,
            "pieces": len(self.pieces) if self.pieces is not None else None,
            "proof": list(self.proof),
            "statement": self._statement(),
            "witness": self.witness,
        }
        if self.collapses:
            out["weights"] = {"W": str(self.W)}
            if self.b is not None:
                out["weights"]["b"] = str(self.b)
        return out

    @_boxed
    def text(self) -> str:
        act = self.activation_name or "none (identity between layers)"
        params = self._params_text()
        if params:
            act += " (" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")"
        lines = [f"network {'-'.join(map(str, self.layers))}, activation on hidden layers: {act}, "
                 f"bias: {'yes' if self.bias else 'no'}", f"kind: {self.kind}"]
        if self.definition_text:
            lines.append(f"where {self.definition_text}")
        for k, name in enumerate(self.outputs):
            pad = " " * len(name)
            lines.append(f"{name} = {self.composed[k]}")
            if self.collapsed is not None:
                if _small(self.expanded[k]):
                    lines.append(f"{pad} = {self.expanded[k]}")
                lines.append(f"{pad} = {_collected_text(self.collapsed[k], self.symbols.inputs)}")
        if self.collapses:
            for k, name in enumerate(self.outputs):
                lines.append(f"collapsed: {name} = {_collected_text(self.collapsed[k], self.symbols.inputs)}")
            lines.append(f"W = {_product_text(self, latex=False)} = {self.W}")
            if self.b is not None:
                lines.append(f"b = {self.b}")
        lines.append(self._statement())
        for p in self.proof:
            lines.append(f"proof: {p}")
        if self.pieces is not None and self.kind == "piecewise-affine":
            for p in self.pieces:
                lines.append(f"  piece: {p.expr} on {p.interval}")
        if self.witness is not None:
            w = self.witness
            lines.append("witness: " + ", ".join(f"{k}={v}" for k, v in w["inputs"].items()))
            lines.append("  weights: " + ", ".join(f"{k}={v}" for k, v in w["weights"].items()))
            if w.get("biases"):
                lines.append("  biases: " + ", ".join(f"{k}={v}" for k, v in w["biases"].items()))
            e = w["entry"]
            lines.append(f"  d^2 {w['output']} / d {e['row']} d {e['col']} = {e['value']}"
                         + (f" = {w['exact']}" if w.get("exact") else ""))
            lines.append(f"  Hessian ({w['digits']} digits): {w['hessian']}")
        return "\n".join(lines)

    @_boxed
    def latex(self) -> str:
        names = _latex_names(self.symbols)

        def tex(e) -> str:
            return sp.latex(e, symbol_names=names)

        lines = [r"\begin{align*}"]
        rows = []
        for k, name in enumerate(self.outputs):
            head = r"\mathrm{" + name + "}"
            rows.append(f"{head} &= {tex(self.composed[k])}")
            if self.collapsed is not None:
                if _small(self.expanded[k]):
                    rows.append(rf"&= {tex(self.expanded[k])} && \text{{expand}}")
                rows.append(rf"&= {tex(self.collapsed[k])} && \text{{collect by input}}")
        if self.collapses:
            rows.append(rf"W &= {_product_text(self, latex=True)} = {tex(self.W)}")
            if self.b is not None:
                rows.append(rf"b &= {tex(self.b)}")
        if self.witness is not None:
            w = self.witness
            e = w["entry"]
            point = ", ".join(f"{tex(sp.Symbol(k))} = {tex(sp.Rational(v))}" for k, v in w["inputs"].items())
            wv = set(w["weights"].values()) | set((w.get("biases") or {}).values())
            if len(wv) == 1:
                params = rf"\text{{every weight{' and bias' if w.get('biases') else ''} }} = {tex(sp.Rational(wv.pop()))}"
            else:
                params = ", ".join(f"{tex(sp.Symbol(k))} = {tex(sp.Rational(v))}"
                                   for k, v in {**w["weights"], **(w.get("biases") or {})}.items())
            rows.append(rf"&\text{{witness: }} {point},\ {params}")
            value = w["exact"] if w.get("exact") else e["value"]
            val_tex = tex(sp.sympify(value)) if w.get("exact") else e["value"]
            rows.append(rf"\frac{{\partial^2 \mathrm{{{w['output']}}}}}{{\partial {tex(sp.Symbol(e['row']))}\,"
                        rf"\partial {tex(sp.Symbol(e['col']))}}} &= {val_tex} \approx {e['value'][:20]} \neq 0")
        lines.append(" \\\\\n".join(rows))
        lines.append(r"\end{align*}")
        lines.append("% " + self._statement())
        for p in self.proof:
            lines.append("% proof: " + p)
        return "\n".join(lines)


def _latex_names(syms: NetworkSymbols) -> dict:
    names = {s: r"\mathrm{input}_{%s}" % str(s)[5:] for s in syms.inputs}
    return names


def _product_text(res: CollapseResult, latex: bool) -> str:
    n = len(res.layers) - 1
    factors = []
    for l in range(n, 0, -1):
        factors.append(f"W_{{{l}}}" if latex else f"W{l}")
        if l > 1 and res.slope is not None and res.slope != 1:
            factors.append(f"({sp.latex(res.slope) if latex else res.slope})")
    return " ".join(factors)


def _collected_text(expr: sp.Expr, inputs) -> str:
    """input1*(...) + input2*(...) + constant, in input order."""
    terms, rest = [], []
    for t in sp.Add.make_args(expr):
        if t.free_symbols & set(inputs):
            terms.append(t)
        else:
            rest.append(t)
    order = {s: i for i, s in enumerate(inputs)}
    terms.sort(key=lambda t: min(order[s] for s in t.free_symbols & set(inputs)))
    parts = [str(t) for t in terms]
    if rest:
        parts.append(str(sp.Add(*rest)))
    if not parts:
        return "0"
    text = parts[0]
    for p in parts[1:]:
        text += f" - {p[1:]}" if p.startswith("-") else f" + {p}"
    return text


# --------------------------------------------------------------------------------------------
# the three cases
# --------------------------------------------------------------------------------------------
def _collapse_affine(res: CollapseResult, a: sp.Expr, c: sp.Expr) -> None:
    """Expand the composition in the polynomial ring over (inputs, weights, biases) and collect by input.

    Proofs: (1) the collapsed form, read back into the ring from its SymPy expression, equals the ring
    expansion of the composition; (2) the matrix product W = W_L a ... a W_1 (biases carried through)
    has exactly the collected coefficients.
    """
    syms = res.symbols
    res.slope, res.intercept = a, c
    n_in = len(syms.inputs)
    gens = list(syms.inputs) + syms.all_weights() + syms.all_biases()
    with timebox(STEP_SECONDS):
        domain, (ka, kc) = construct_domain([sp.sympify(a), sp.sympify(c)])
        R, *G = ring(gens, domain)
        g = dict(zip(gens, G))
        comp = _compose_ring(syms, g, ka, kc, R)
        res.expanded = [p.as_expr() for p in comp]
    with timebox(STEP_SECONDS):
        collapsed, rows, consts = [], [], []
        for p in comp:
            groups: list[dict] = [{} for _ in range(n_in + 1)]
            for monom, coeff in p.terms():
                idx = [i for i in range(n_in) if monom[i]]
                if len(idx) > 1 or any(monom[i] > 1 for i in idx):  # pragma: no cover - affine activation
                    raise RuntimeError("the expanded composition is not affine in the inputs")
                key = idx[0] if idx else n_in
                rest = tuple(0 if i == key else e for i, e in enumerate(monom))
                groups[key][rest] = coeff
            coeffs = [R.from_dict(grp).as_expr() if grp else sp.Integer(0) for grp in groups]
            rows.append(coeffs[:n_in])
            consts.append(coeffs[n_in])
            collapsed.append(sp.Add(*[s * k for s, k in zip(syms.inputs, coeffs[:n_in])]) + coeffs[n_in])
        res.collapsed = collapsed
        # proof 1: composition - collapsed form expands to the zero polynomial
        for p, coll in zip(comp, collapsed):
            if p - R.from_expr(coll) != R.zero:  # pragma: no cover
                raise RuntimeError("collapsed form does not equal the composition")
        res.proof.append("expand(composition - collapsed form) = 0 for every output: an identity of polynomials "
                         "in the inputs" + (", weights and biases" if res.bias else " and weights")
                         + " (expanded in SymPy's polynomial ring)")
    with timebox(STEP_SECONDS):
        # proof 2: the matrix product, slope a between layers, intercept c and biases carried through
        def mat(l):
            return [[g[w] for w in unit] for unit in syms.weights[l]]

        def matmul(A, B):
            return [[sum((A[i][k] * B[k][j] for k in range(len(B))), R.zero) for j in range(len(B[0]))]
                    for i in range(len(A))]

        W = mat(0)
        bvec = [g[b] if syms.biases is not None else R.zero for b in (syms.biases or [[None] * res.layers[1]])[0]]
        for l in range(1, len(res.layers) - 1):
            Wl = mat(l)
            W = matmul(Wl, [[x * ka for x in row] for row in W])
            bvec = [r[0] for r in matmul(Wl, [[x * ka + kc] for x in bvec])]
            if syms.biases is not None:
                bvec = [x + g[b] for x, b in zip(bvec, syms.biases[l])]
        for k, p in enumerate(comp):
            expect = {i: W[k][i] for i in range(n_in)}
            got = {i: R.from_expr(rows[k][i]) for i in range(n_in)}
            if expect != got or bvec[k] != R.from_expr(consts[k]):  # pragma: no cover
                raise RuntimeError("matrix product disagrees with the collected coefficients")
        has_b = any(x != 0 for x in consts)
        res.proof.append(f"W = {_product_text(res, latex=False)} has exactly the collected coefficients"
                         + (" and b the collected constant terms" if has_b else ""))
    res.W = sp.Matrix(rows)
    res.b = sp.Matrix(consts) if has_b else None
    res.collapses = True
    res.kind = "affine" if res.b is not None else "linear"


def _compose_ring(syms: NetworkSymbols, g: dict, a, c, R) -> list:
    """The outputs as polynomial-ring elements: a*z + c on hidden units, identity on the output layer."""
    values = [g[s] for s in syms.inputs]
    last = len(syms.weights) - 1
    for l, layer in enumerate(syms.weights):
        new = []
        for j, unit in enumerate(layer):
            z = R.zero
            for v, w in zip(values, unit):
                z += v * g[w]
            if syms.biases is not None:
                z += g[syms.biases[l][j]]
            new.append(z * a + c if l < last else z)
        values = new
    return values


def _sample_points(res: CollapseResult):
    """Candidate witness points: (inputs, weights, biases) as lists of Fractions."""
    syms = res.symbols
    n_in, n_w, n_b = len(syms.inputs), len(syms.all_weights()), len(syms.all_biases())
    one = Fraction(1)
    yield [Fraction(1, 2)] * n_in, [one] * n_w, [Fraction(0)] * n_b
    yield [Fraction(-1, 2)] * n_in, [one] * n_w, [Fraction(0)] * n_b
    yield [Fraction(1, 2)] * n_in, [Fraction(1, 2)] * n_w, [Fraction(0)] * n_b
    rng = random.Random(20240531)

    def r():
        return Fraction(rng.randint(-8, 8), 4)

    for _ in range(40):
        yield [r() for _ in range(n_in)], [r() for _ in range(n_w)], [r() for _ in range(n_b)]


def _propagate(res: CollapseResult, f, f1, f2, inputs, weights, biases, num: bool, prec: int = DIGITS + _GUARD):
    """Value, gradient and Hessian of every output at a point (forward-mode, second order).

    With num=True every quantity is a Float of DIGITS + guard digits; else exact SymPy numbers.
    Returns (outputs [(value, grad, hess)], pre-activations of the hidden units).
    """
    n = len(inputs)

    def number(q):
        v = sp.Rational(q.numerator, q.denominator)
        return sp.Float(v, prec) if num else v

    def ev(fn, z):
        v = fn.subs(X, z)
        return v.evalf(prec) if num else v

    zero = sp.Float(0, prec) if num else sp.Integer(0)
    vals = [number(q) for q in inputs]
    grads = [[sp.Integer(1) if i == k else zero for i in range(n)] for k in range(n)]
    hess = [[[zero] * n for _ in range(n)] for _ in range(n)]
    wi = iter(weights)
    bi = iter(biases)
    pre = []
    n_layers = len(res.layers) - 1
    for l in range(n_layers):
        new_v, new_g, new_h = [], [], []
        for _j in range(res.layers[l + 1]):
            w = [number(next(wi)) for _ in range(len(vals))]
            z = sp.Add(*[a * v for a, v in zip(w, vals)]) + (number(next(bi)) if res.bias else 0)
            gz = [sp.Add(*[a * g[i] for a, g in zip(w, grads)]) for i in range(n)]
            hz = [[sp.Add(*[a * h[r][c] for a, h in zip(w, hess)]) for c in range(n)] for r in range(n)]
            if l < n_layers - 1:
                pre.append(z)
                d0, d1, d2 = ev(f, z), ev(f1, z), ev(f2, z)
                new_v.append(d0)
                new_g.append([d1 * g for g in gz])
                new_h.append([[d2 * gz[r] * gz[c] + d1 * hz[r][c] for c in range(n)] for r in range(n)])
            else:
                new_v.append(z)
                new_g.append(gz)
                new_h.append(hz)
        vals, grads, hess = new_v, new_g, new_h
    return list(zip(vals, grads, hess)), pre


def _fmt(x, digits=DIGITS) -> str:
    return sp.Float(x, digits).__str__() if not isinstance(x, str) else x


def _find_witness(res: CollapseResult, pieces: list[Piece]) -> dict | None:
    f = pieces_to_piecewise(pieces, X)
    f1 = pieces_to_piecewise(derivative_pieces(pieces, X, 1), X)
    f2 = pieces_to_piecewise(derivative_pieces(pieces, X, 2), X)
    kinks = sorted({p.lo for p in pieces if p.lo.is_finite} | {p.hi for p in pieces if p.hi.is_finite},
                   key=lambda p: float(p))
    syms = res.symbols
    for inputs, weights, biases in _sample_points(res):
        with timebox(STEP_SECONDS):
            outs, pre = _propagate(res, f, f1, f2, inputs, weights, biases, num=True)
        # stay away from kinks: there a second derivative of the pieces is not the function's
        if any(abs(z - k) < 1e-6 for z in pre for k in kinks):
            continue
        best = None
        for o, (_v, _g, H) in enumerate(outs):
            for r in range(len(H)):
                for c in range(r, len(H)):
                    if H[r][c] != 0 and (best is None or abs(H[r][c]) > abs(best[3])):
                        best = (o, r, c, H[r][c])
        if best is None:
            continue
        o, r, c, value = best
        H = outs[o][2]
        # certify the value is not rounding noise: recompute with 40 more digits, demand DIGITS agreeing digits
        with timebox(STEP_SECONDS):
            again = _propagate(res, f, f1, f2, inputs, weights, biases, num=True, prec=DIGITS + _GUARD + 40)[0]
        value2 = again[o][2][r][c]
        if value2 == 0 or abs(value2 - value) > abs(value2) * sp.Float(10, 30) ** (-DIGITS):
            continue
        value = value2.evalf(DIGITS + _GUARD)
        exact = None
        try:
            with timebox(5.0):
                ex_outs, _ = _propagate(res, f, f1, f2, inputs, weights, biases, num=False)
                ex = ex_outs[o][2][r][c]
                text = str(ex)
                if len(text) <= 600:
                    check = ex.evalf(DIGITS)
                    if abs(check - value) <= abs(value) * sp.Float(10, 30) ** (-(DIGITS - 5)):
                        exact = text
                        value = check
        except (SymbolicTimeout, RecursionError, TypeError, ValueError):
            exact = None
        names = [str(s) for s in syms.inputs]
        witness = {
            "inputs": {str(s): str(q) for s, q in zip(syms.inputs, inputs)},
            "weights": {str(s): str(q) for s, q in zip(syms.all_weights(), weights)},
            "biases": {str(s): str(q) for s, q in zip(syms.all_biases(), biases)} if res.bias else None,
            "output": res.outputs[o],
            "hessian": [[_fmt(H[i][j]) for j in range(len(H))] for i in range(len(H))],
            "entry": {"row": names[r], "col": names[c], "value": _fmt(value)},
            "exact": exact,
            "digits": DIGITS,
            "method": "forward-mode second-order chain rule through the piecewise normal form, "
                      f"SymPy Floats with {DIGITS + _GUARD} and {DIGITS + _GUARD + 40} digits agreeing to {DIGITS}" + ("; exact value re-evaluated" if exact else ""),
        }
        return witness
    return None


def _named_function(name: str):
    """An unevaluated SymPy function printed as ``name(...)`` (``\\operatorname{name}`` in LaTeX)."""

    def _latex(self, printer, exp=None):
        arg = printer._print(self.args[0])
        head = r"\operatorname{%s}" % name.replace("_", r"\_")
        if exp is not None:
            head += "^{%s}" % exp
        return head + r"\left(%s\right)" % arg

    return type(name, (sp.Function,), {"_latex": _latex, "nargs": 1})


# --------------------------------------------------------------------------------------------
# the entry point
# --------------------------------------------------------------------------------------------
def collapse_network(layers=(2, 3, 1), activation: Activation | str | None = None, bias: bool = False) -> CollapseResult:
    """Compose the network symbolically and decide whether it collapses to one linear/affine layer.

    layers: widths from inputs to outputs (at least two, each 1..8, at most 200 weights).
    activation: an Activation, a catalog name, or None (identity between layers).
    """
    layers = validate_layers(layers)
    with _deep():
        return _collapse_network(layers, activation, bias)


def _collapse_network(layers: list[int], activation, bias: bool) -> CollapseResult:
    if isinstance(activation, str):
        from .catalog import UnknownActivationError, get

        if activation.strip().lower() == "none":
            activation = None
        else:
            try:
                activation = get(activation)
            except UnknownActivationError as exc:
                raise CollapseError(str(exc)) from None
    syms = network_symbols(layers, bias)
    info = _classify(activation)
    res = CollapseResult(layers=layers, activation=activation, bias=bool(bias), collapses=False, kind="nonlinear",
                         symbols=syms, composed=[], pieces=info.pieces)
    hidden = len(layers) > 2
    if info.affine is not None or not hidden:
        a, c = info.affine if info.affine is not None else (sp.Integer(1), sp.Integer(0))
        with timebox(STEP_SECONDS):
            res.composed = _compose(syms, lambda z: a * z + c)
        if info.affine is not None and activation is not None:
            res.proof.append(f"every piece of {activation.name}'s normal form is {sp.expand(a * X + c)} "
                             "(degree <= 1 in x)")
        elif not hidden:
            res.proof.append("no hidden layer: the activation is never applied")
        _collapse_affine(res, a, c)
        return res
    fn = _named_function(activation.name)
    with timebox(STEP_SECONDS):
        res.composed = _compose(syms, fn)
    if info.piecewise_linear:
        res.kind = "piecewise-affine"
        res.proof.append(f"the normal form of {activation.name} has {len(info.pieces)} pieces, each of degree <= 1 "
                         "in x, not all the same expression")
        return res
    res.kind = "nonlinear"
    res.witness = _find_witness(res, info.pieces)
    if res.witness is not None:
        res.proof.append("a non-zero Hessian entry of the output with respect to the inputs at a rational point "
                         "rules out any affine map")
    return res
