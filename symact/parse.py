"""Safe parsing of user-defined activations.

The grammar is an allow-list over Python's expression syntax, read with ``ast.parse`` (which only
builds a tree; nothing is evaluated) and translated node by node into SymPy constructors. Strings
are never passed to ``eval`` or ``sympify``.

    expr      := number | x | PARAM | pi | e | expr (+ - * / **) expr | -expr | +expr | (expr)
               | FUNC(expr, ...) | piecewise((expr, cond), ..., (expr, True)) | where(cond, expr, expr)
    cond      := expr (< <= > >= == !=) expr [(< ...) expr] | cond and cond | cond or cond | not cond
               | True
    FUNC      := exp log log1p expm1 sqrt abs sign max min tanh sinh cosh sin cos tan atan arctan asinh
                 erf erfc sigmoid softplus relu heaviside sinc

Numbers are exact: ``0.044715`` is the rational 44715/10**6, not the nearest double. Limits:
``MAX_LENGTH`` characters and ``MAX_DEPTH`` levels of nesting. Errors are ``ExpressionError``
with the column of the offending token.
"""
from __future__ import annotations

import ast
from fractions import Fraction

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from .activation import X, Activation, Param, exact

__all__ = ["ExpressionError", "parse_expression", "activation_from_expression", "FUNCTIONS", "MAX_LENGTH", "MAX_DEPTH"]

MAX_LENGTH = 2000
MAX_DEPTH = 40


class ExpressionError(ValueError):
    """An expression outside the grammar; `column` (0-based) points at the offending token."""

    def __init__(self, message: str, source: str = "", column: int | None = None):
        super().__init__(message)
        self.message, self.source, self.column = message, source, column

    def __str__(self) -> str:
        where = f" (column {self.column + 1})" if self.column is not None else ""
        return f"{self.message}{where}"

    def caret(self) -> str:
        """The expression with a caret under the offending position."""
        if self.column is None or not self.source:
            return ""
        return f"  {self.source}\n  {' ' * self.column}^"


def _sigmoid(a):
    return 1 / (1 + sp.exp(-a))


def _softplus(a):
    return sp.log(1 + sp.exp(a))


def _relu(a):
    return sp.Max(a, 0)


def _heaviside(a, h0=sp.Rational(1, 2)):
    return sp.Heaviside(a, h0)


#: name -> (SymPy builder, minimum arity, maximum arity or None)
FUNCTIONS = {
    "exp": (sp.exp, 1, 1), "log": (sp.log, 1, 1), "log1p": (log1p, 1, 1), "expm1": (expm1, 1, 1),
    "sqrt": (sp.sqrt, 1, 1), "abs": (sp.Abs, 1, 1), "sign": (sp.sign, 1, 1),
    "max": (sp.Max, 2, None), "min": (sp.Min, 2, None),
    "tanh": (sp.tanh, 1, 1), "sinh": (sp.sinh, 1, 1), "cosh": (sp.cosh, 1, 1),
    "sin": (sp.sin, 1, 1), "cos": (sp.cos, 1, 1), "tan": (sp.tan, 1, 1),
    "atan": (sp.atan, 1, 1), "arctan": (sp.atan, 1, 1), "asinh": (sp.asinh, 1, 1),
    "erf": (sp.erf, 1, 1), "erfc": (sp.erfc, 1, 1),
    "sigmoid": (_sigmoid, 1, 1), "softplus": (_softplus, 1, 1), "relu": (_relu, 1, 1),
    "heaviside": (_heaviside, 1, 2), "sinc": (sp.sinc, 1, 1),
}
_CONSTANTS = {"pi": sp.pi, "e": sp.E}
_BINOPS = {ast.Add: sp.Add, ast.Sub: lambda a, b: a - b, ast.Mult: sp.Mul, ast.Div: lambda a, b: a / b,
           ast.Pow: sp.Pow}
_CMPOPS = {ast.Lt: sp.StrictLessThan, ast.LtE: sp.LessThan, ast.Gt: sp.StrictGreaterThan,
           ast.GtE: sp.GreaterThan, ast.Eq: sp.Eq, ast.NotEq: sp.Ne}
_RESERVED = set(FUNCTIONS) | set(_CONSTANTS) | {"x", "piecewise", "where", "True", "False", "and", "or", "not"}


def _nesting(source: str) -> tuple[int, int]:
    depth = best = 0
    where = 0
    for i, ch in enumerate(source):
        if ch in "([":
            depth += 1
            if depth > best:
                best, where = depth, i
        elif ch in ")]":
            depth -= 1
    return best, where


class _Translator:
    def __init__(self, source: str, params: dict[str, sp.Symbol]):
        self.source = source
        self.params = params
        self.used: set[str] = set()

    def fail(self, node: ast.AST | None, message: str):
        col = getattr(node, "col_offset", None) if node is not None else None
        raise ExpressionError(message, self.source, col)

    # expressions --------------------------------------------------------------------------
    def expr(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                self.fail(node, f"not a number: {node.value!r}")
            text = ast.get_source_segment(self.source, node) or repr(node.value)
            try:
                value = Fraction(text.replace("_", ""))
            except (ValueError, ZeroDivisionError):
                self.fail(node, f"not a number: {text!r}")
            return sp.Rational(value.numerator, value.denominator)
        if isinstance(node, ast.Name):
            if node.id == "x":
                return X
            if node.id in _CONSTANTS:
                return _CONSTANTS[node.id]
            if node.id in self.params:
                self.used.add(node.id)
                return self.params[node.id]
            if node.id in FUNCTIONS or node.id in ("piecewise", "where"):
                self.fail(node, f"function {node.id!r} must be called")
            self.fail(node, f"unknown name {node.id!r} (declare parameters with -p {node.id}=VALUE)")
        if isinstance(node, ast.BinOp):
            op = _BINOPS.get(type(node.op))
            if op is None:
                self.fail(node, f"operator {type(node.op).__name__} is not allowed")
            left, right = self.expr(node.left), self.expr(node.right)
            if isinstance(node.op, ast.Div) and right == 0:
                self.fail(node.right, "division by zero")
            if isinstance(node.op, ast.Pow) and isinstance(right, sp.Number) and abs(right) > 1000:
                self.fail(node.right, "exponent too large (limit 1000)")
            return op(left, right)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return -self.expr(node.operand)
            if isinstance(node.op, ast.UAdd):
                return self.expr(node.operand)
            self.fail(node, f"operator {type(node.op).__name__} is not allowed here")
        if isinstance(node, ast.Call):
            return self.call(node)
        if isinstance(node, ast.Compare):
            self.fail(node, "a comparison is only allowed as a condition inside piecewise(...) or where(...)")
        self.fail(node, f"{type(node).__name__} is not allowed in an expression")

    def call(self, node: ast.Call) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            self.fail(node, "only the documented functions may be called (no attributes or methods)")
        if node.keywords:
            self.fail(node.keywords[0].value, "keyword arguments are not allowed")
        if any(isinstance(a, ast.Starred) for a in node.args):
            self.fail(node, "starred arguments are not allowed")
        name = node.func.id
        if name == "piecewise":
            return self.piecewise(node)
        if name == "where":
            if len(node.args) != 3:
                self.fail(node, "where(cond, a, b) takes 3 arguments")
            cond = self.cond(node.args[0])
            return sp.Piecewise((self.expr(node.args[1]), cond), (self.expr(node.args[2]), True))
        if name not in FUNCTIONS:
            self.fail(node.func, f"unknown function {name!r} (allowed: {', '.join(sorted(FUNCTIONS))})")
        fn, lo, hi = FUNCTIONS[name]
        n = len(node.args)
        if n < lo or (hi is not None and n > hi):
            want = f"{lo}" if lo == hi else (f"at least {lo}" if hi is None else f"{lo} to {hi}")
            self.fail(node, f"{name}() takes {want} argument{'s' if (hi or 2) > 1 else ''}, got {n}")
        return fn(*[self.expr(a) for a in node.args])

    def piecewise(self, node: ast.Call) -> sp.Expr:
        if not node.args:
            self.fail(node, "piecewise() needs (expr, cond) pairs")
        pairs = []
        for arg in node.args:
            if not isinstance(arg, ast.Tuple) or len(arg.elts) != 2:
                self.fail(arg, "piecewise() takes pairs (expr, cond)")
            pairs.append((self.expr(arg.elts[0]), self.cond(arg.elts[1])))
        if pairs[-1][1] != sp.true:
            self.fail(node.args[-1], "the last pair of piecewise() must be (expr, True)")
        return sp.Piecewise(*pairs)

    def cond(self, node: ast.AST):
        if isinstance(node, ast.Constant) and node.value is True:
            return sp.true
        if isinstance(node, ast.Compare):
            parts = []
            left = self.expr(node.left)
            for op, comp in zip(node.ops, node.comparators):
                rel = _CMPOPS.get(type(op))
                if rel is None:
                    self.fail(node, f"comparison {type(op).__name__} is not allowed")
                right = self.expr(comp)
                parts.append(rel(left, right))
                left = right
            return sp.And(*parts)
        if isinstance(node, ast.BoolOp):
            items = [self.cond(v) for v in node.values]
            return sp.And(*items) if isinstance(node.op, ast.And) else sp.Or(*items)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            return sp.Not(self.cond(node.operand))
        self.fail(node, "expected a condition such as x > 0")


def parse_expression(source: str, params: dict[str, object] | None = None) -> tuple[sp.Expr, set[str]]:
    """(SymPy expression in symact.X, parameter names used) for a user expression."""
    if not isinstance(source, str) or not source.strip():
        raise ExpressionError("empty expression")
    if len(source) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters", source[:60] + "...", None)
    if "\n" in source or "\r" in source:
        raise ExpressionError("the expression must be one line")
    depth, where = _nesting(source)
    if depth > MAX_DEPTH:
        raise ExpressionError(f"nesting deeper than {MAX_DEPTH} levels", source, where)
    symbols = {}
    for name in params or {}:
        if not name.isidentifier() or name in _RESERVED or name.startswith("_"):
            raise ExpressionError(f"{name!r} cannot be a parameter name")
        symbols[name] = sp.Symbol(name, real=True)
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        col = (exc.offset - 1) if exc.offset else None
        raise ExpressionError(f"syntax error: {exc.msg}", source.strip(), col) from None
    except (RecursionError, MemoryError, ValueError):
        raise ExpressionError("expression too complex to parse", source.strip()) from None
    translator = _Translator(source.strip(), symbols)
    try:
        expr = translator.expr(tree.body)
    except RecursionError:
        raise ExpressionError("expression too deeply nested", source.strip()) from None
    if not isinstance(expr, sp.Expr):
        raise ExpressionError("not an expression", source.strip(), 0)
    return expr, translator.used


def activation_from_expression(source: str, name: str | None = None, params: dict[str, object] | None = None) -> Activation:
    """An Activation for a user expression; `params` maps parameter names to default values."""
    name = name or "user"
    if not name.isidentifier() or name.startswith("_") or name.lower() != name:
        raise ExpressionError(f"--name {name!r} must be a lower-case Python identifier")
    params = dict(params or {})
    expr, used = parse_expression(source, params)
    unused = sorted(set(params) - used)
    if unused:
        raise ExpressionError(f"parameter {unused[0]!r} does not appear in the expression")
    if X not in expr.free_symbols:
        raise ExpressionError("the expression does not depend on x", source.strip(), 0)
    declared = tuple(Param(k, exact(v)) for k, v in params.items())
    return Activation(name, expr, params=declared, description=f"user-defined: {source.strip()}", citation="user",
                      family="user")
