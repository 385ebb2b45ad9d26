"""NumPy printer with an allow-list: SymPy expression -> lines of NumPy code.

Anything the printer does not know raises ``PrintError``; it never falls back to a generic
string (which could print ``math.erf`` on arrays, or evaluate a branch that overflows).
Rules that keep the generated code stable and dtype-preserving:

- numbers are printed as Python floats (NumPy keeps the input dtype for them); constant
  subexpressions such as sqrt(2/pi) are folded to one correctly rounded float;
- a product with negative powers is printed as successive divisions, and b**-2 as 1/b/b, so no
  intermediate product overflows; b**2 is ``np.square(b)``;
- Piecewise becomes nested ``_where`` (np.where, branch-free: a bit-mask blend); its branches must be safe to evaluate everywhere
  (the catalog's stable forms guard them with ``fclip``); NaN fails every comparison, so when the
  last branch does not depend on the input a NaN guard keeps NaN in, NaN out;
- common subexpressions are hoisted with ``sympy.cse`` into temporaries t0, t1, ...
"""
from __future__ import annotations

from dataclasses import dataclass, field

import mpmath
import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p
from sympy.core.relational import Relational
from sympy.logic.boolalg import And, BooleanFalse, BooleanTrue, Not, Or, to_nnf

from ..functions import Kernel, copysign, fclip, hypot, mask, pos_zero, sin_affine_lean, sin_affine_wide

__all__ = ["PrintError", "PrintedFunction", "print_condition", "print_function", "print_functions", "float_literal"]


class PrintError(ValueError):
    """The expression uses something the NumPy printer does not allow."""


_UFUNCS = {
    sp.exp: "np.exp",
    sp.log: "np.log",
    log1p: "np.log1p",
    expm1: "np.expm1",
    sp.Abs: "np.abs",
    sp.sign: "np.sign",
    sp.tanh: "np.tanh",
    sp.sinh: "np.sinh",
    sp.cosh: "np.cosh",
    sp.atan: "np.arctan",
    sp.asinh: "np.arcsinh",
}
_SCIPY = {sp.erf: "_erf", sp.erfc: "_erfc"}
_KERNEL_FUNCS = {sp.sin: "_sin", sp.cos: "_cos", sp.sinc: "_sinc"}
_REL = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "==", "!=": "!="}


def float_literal(value: sp.Expr) -> str:
    """The correctly rounded double of an exact constant, as a Python literal."""
    if value in (sp.oo, -sp.oo):
        return "np.inf" if value == sp.oo else "-np.inf"
    with mpmath.workdps(60):
        n = sp.N(value, 60)
    v = float(n) if n.is_real else float("nan")  # sqrt(-exp(x)) prints I*...: no NumPy float
    if v != v or v in (float("inf"), float("-inf")):
        raise PrintError(f"constant {value} is not a finite real number")
    text = repr(v)
    if "e" not in text and "." not in text and "inf" not in text:
        text += ".0"
    return text


def _split_constant(value: sp.Expr) -> tuple[str, str] | None:
    """(hi, lo) literals with hi + lo = value to ~106 bits, or None when value is a double."""
    with mpmath.workdps(80):
        exact = sp.N(value, 60)
        hi = float(exact)
        lo = float(sp.N(value - sp.Rational(*hi.as_integer_ratio()), 30))
    if lo == 0.0:
        return None
    return repr(hi), repr(lo)


@dataclass
class PrintedFunction:
    lines: list[str]
    result: str
    scipy: set[str] = field(default_factory=set)
    kernels: set[str] = field(default_factory=set)


class _Printer:
    def __init__(self, var: sp.Symbol, names: dict[sp.Symbol, str], dependent: set[sp.Symbol] | None = None):
        self.var = var
        self.dependent = dependent if dependent is not None else {var}
        self.names = names
        self.scipy: set[str] = set()
        self.kernels: set[str] = set()
        self._scalar = False  # inside a parameter-only subexpression

    # -- helpers -----------------------------------------------------------------------------
    def _is_const(self, e: sp.Basic) -> bool:
        return not e.free_symbols

    def _paren(self, e: sp.Basic) -> str:
        text = self.p(e)
        if isinstance(e, (sp.Add, sp.Mul)) or (isinstance(e, sp.Number) and e < 0) or text.startswith("-"):
            return f"({text})"
        if isinstance(e, sp.Pow) and not text.startswith("np."):
            return f"({text})"
        return text

    def nan_kept(self, text: str) -> str:
        """text (free of the input: a scalar) as an array of the input's shape that is NaN where it is."""
        self.kernels.add("_nan_kept")
        return f"_nan_kept({self.names[self.var]}, {text})"

    # -- dispatch ----------------------------------------------------------------------------
    def p(self, e: sp.Basic) -> str:
        if (not self._scalar and isinstance(e, sp.Expr) and not isinstance(e, sp.Symbol) and e.free_symbols
                and not e.free_symbols & self.dependent):
            # parameters only: a NumPy scalar here would be float64 and upcast float32 input
            self._scalar = True
            try:
                return f"float({self.p(e)})"
            finally:
                self._scalar = False
        if isinstance(e, sp.Symbol):
            if e in self.names:
                return self.names[e]
            raise PrintError(f"unknown symbol {e}")
        if self._is_const(e) and isinstance(e, sp.Expr):
            return float_literal(e)
        if isinstance(e, sp.UnevaluatedExpr):
            return f"({self.p(e.args[0])})"
        if isinstance(e, sp.Add):
            return self._add(e)
        if isinstance(e, sp.Mul):
            return self._mul(e)
        if isinstance(e, sp.Pow):
            return self._pow(e)
        if isinstance(e, sp.Piecewise):
            return self._piecewise(e)
        if isinstance(e, fclip):
            return self._fclip(e)
        if isinstance(e, Kernel):
            return self._kernel(e)
        if isinstance(e, mask):
            return f"({self.p(e.args[0])})"
        if isinstance(e, pos_zero):
            return f"({self.p(e.args[0])} + 0.0)"
        if isinstance(e, copysign):
            return f"np.copysign({self.p(e.args[0])}, {self.p(e.args[1])})"
        if isinstance(e, hypot):
            self.kernels.add("_hypot")
            return f"_hypot({self.p(e.args[0])}, {self.p(e.args[1])})"
        if isinstance(e, sp.Min) and len(e.args) == 2 and not self._scalar:
            inner = [a for a in e.args if isinstance(a, sp.Max) and len(a.args) == 2]
            hi = [a for a in e.args if not a.free_symbols & self.dependent]
            if inner and hi:
                lo = [a for a in inner[0].args if not a.free_symbols & self.dependent]
                arg = [a for a in inner[0].args if a.free_symbols & self.dependent]
                if lo and arg:  # min(max(a, lo), hi) in one pass (NumPy's clip is exactly that)
                    return f"np.clip({self.p(arg[0])}, {self.p(lo[0])}, {self.p(hi[0])})"
        if isinstance(e, (sp.Max, sp.Min)):
            is_max = isinstance(e, sp.Max)
            fn = "np.maximum" if is_max else "np.minimum"
            args = sorted(e.args, key=lambda a: (self._is_const(a), sp.default_sort_key(a)))
            text = self.p(args[0])
            for a in args[1:]:
                if a.free_symbols & self.dependent or not args[0].free_symbols & self.dependent:
                    text = f"{fn}({text}, {self.p(a)})"
                else:
                    text = self._one_sided_clip(text, self.p(a), is_max)
            return text
        if isinstance(e, sp.Heaviside):
            h0 = e.args[1] if len(e.args) > 1 else sp.Rational(1, 2)
            self.kernels.add("_heaviside")
            return f"_heaviside({self.p(e.args[0])}, {float_literal(h0)})"
        for fn, name in _UFUNCS.items():
            if isinstance(e, fn):
                return f"{name}({self.p(e.args[0])})"
        for fn, name in _SCIPY.items():
            if isinstance(e, fn):
                self.scipy.add(name)
                return f"{name}({self.p(e.args[0])})"
        for fn, name in _KERNEL_FUNCS.items():
            if isinstance(e, fn):
                self.kernels.add(name)
                return f"{name}({self.p(e.args[0])})"
        if isinstance(e, Relational):
            return f"({self.p(e.lhs)} {_REL[e.rel_op]} {self.p(e.rhs)})"
        if isinstance(e, And):
            return " & ".join(f"({self.p(a)})" if isinstance(a, (And, Or)) else self.p(a) for a in e.args)
        if isinstance(e, Or):
            return " | ".join(f"({self.p(a)})" if isinstance(a, (And, Or)) else self.p(a) for a in e.args)
        if isinstance(e, Not):
            return f"~({self.p(e.args[0])})"
        raise PrintError(f"the NumPy printer does not allow {type(e).__name__} ({e})")

    def _add(self, e: sp.Add) -> str:
        terms = sorted(e.args, key=lambda a: (self._is_const(a), sp.default_sort_key(a)))
        if len(terms) == 2 and self._is_const(terms[1]) and not self._is_const(terms[0]) and not self._scalar:
            split = _split_constant(terms[1])
            if split is not None:  # v + c as (v + c_hi) + c_lo: keeps the digits when v ~ -c
                return f"{self._paren(terms[0])} + {split[0]} + {split[1]}"
        out = self.p(terms[0])
        for t in terms[1:]:
            coeff, rest = t.as_coeff_Mul()
            if coeff.is_Number and coeff < 0:
                out += f" - {self._paren(-t) if not isinstance(-t, sp.Add) else '(' + self.p(-t) + ')'}"
            else:
                out += f" + {self.p(t)}"
        return out

    def _mul(self, e: sp.Mul) -> str:
        factors = sp.Mul.make_args(e)
        coeff = sp.Mul(*[f for f in factors if self._is_const(f)])  # folded: one rounding, not one per factor
        num, den = [], []
        for f in factors:
            if self._is_const(f):
                continue
            if isinstance(f, sp.Pow) and f.exp.is_Number and f.exp < 0:
                if f.exp == -1:
                    den.append(self._paren(f.base))
                elif f.exp.is_Integer:
                    den.extend([self._paren(f.base)] * int(-f.exp))
                else:
                    den.append(self._paren(sp.Pow(f.base, -f.exp)))
            else:
                num.append(f)
        num = sorted(num, key=lambda a: sp.default_sort_key(a))
        parts = [self._paren(f) for f in num]
        sign = ""
        if coeff == -1:
            sign = "-"
        elif coeff != 1:
            lit = float_literal(coeff)
            parts.insert(0, f"({lit})" if lit.startswith("-") else lit)
        text = " * ".join(parts) if parts else "1.0"
        for d in den:
            text += f" / {d}"
        if sign:
            text = f"-({text})" if (len(parts) > 1 or den) else f"-{text}"
        return text

    def _pow(self, e: sp.Pow) -> str:
        b, k = e.base, e.exp
        if k == sp.Rational(1, 2):
            return f"np.sqrt({self.p(b)})"
        if k == -sp.Rational(1, 2):
            return f"1.0 / np.sqrt({self.p(b)})"
        if k == 2:
            return f"np.square({self.p(b)})"
        if k == 3:
            return f"np.square({self.p(b)}) * {self._paren(b)}"
        if k == sp.Rational(3, 2):
            return f"{self._paren(b)} * np.sqrt({self.p(b)})"
        if k == -sp.Rational(3, 2):
            return f"1.0 / np.sqrt({self.p(b)}) / {self._paren(b)}"
        if k.is_Integer and k < 0:
            return "1.0" + "".join(f" / {self._paren(b)}" for _ in range(int(-k)))
        if k.is_Integer and k > 0:
            return f"np.power({self.p(b)}, {int(k)})"
        if b == sp.E:
            return f"np.exp({self.p(k)})"
        return f"np.power({self.p(b)}, {self.p(k)})"

    def _fclip(self, e: fclip) -> str:
        arg, lo, hi = e.args
        text = self.p(arg)
        if lo != -sp.oo and hi != sp.oo:
            return f"np.clip({text}, {self.p(lo)}, {self.p(hi)})"
        if lo != -sp.oo:
            return self._one_sided_clip(text, self.p(lo), True)
        if hi != sp.oo:
            return self._one_sided_clip(text, self.p(hi), False)
        return text

    def _one_sided_clip(self, array: str, bound: str, lower: bool) -> str:
        """max(array, bound) or min(array, bound) for a scalar bound, as a one-sided np.clip.

        NumPy's maximum/minimum with a scalar operand take a scalar loop (~0.7 ns/element here, 2-4x
        np.clip's vector loop). The same values, NaN kept; at a tie of zeros (array -0.0, bound 0.0)
        clip keeps the array's zero where maximum returned the bound's.
        """
        if self._scalar:
            return f"{'np.maximum' if lower else 'np.minimum'}({array}, {bound})"
        return f"np.clip({array}, {bound}, np.inf)" if lower else f"np.clip({array}, -np.inf, {bound})"

    def _kernel(self, e: Kernel) -> str:
        self.kernels.add(e.kernel)
        if e.kernel == "_sin_affine":
            arg, a, b = e.args
            if b.free_symbols:
                raise PrintError("sin_affine needs an exact constant phase")
            with mpmath.workdps(80):
                hi = float(sp.N(b, 60))
                lo = float(sp.N(b - sp.Rational(*hi.as_integer_ratio()), 30)) if b != 0 else 0.0
            lean = ", lean=True" if isinstance(e, sin_affine_lean) else ", wide=True" if isinstance(e, sin_affine_wide) else ""
            return f"_sin_affine({self.p(arg)}, {self.p(a)}, {hi!r}, {lo!r}{lean})"
        return f"{e.kernel}({', '.join(self.p(a) for a in e.args)})"

    def _piecewise(self, e: sp.Piecewise) -> str:
        args = list(e.args)
        if args[-1][1] != sp.true:
            raise PrintError("Piecewise without a final True branch")
        last_expr = args[-1][0]
        values = [args[0][0], last_expr]
        if (len(args) == 2 and not self._scalar and args[0][1].free_symbols & self.dependent
                and isinstance(args[0][1], (Relational, And, Or)) and values[0] != values[1]
                and all(not v.free_symbols & self.dependent and (v.free_symbols or (isinstance(v, sp.Number) and v.is_finite))
                        for v in values)):
            # two input-free values on a condition of x: one cast or blend of the mask (_mask_value); 0 in
            # the first branch: the condition negated, which only NaN would tell apart (NaN is NaN in both)
            flip = values[0] == 0
            cond = to_nnf(Not(args[0][1])) if flip else args[0][1]
            if isinstance(cond, (Relational, And, Or)) and not cond.atoms(Not):
                value, other = (values[1], values[0]) if flip else tuple(values)
                self.kernels.add("_mask_value")
                tail = "" if other == 0 else f", {self.p(other)}"
                return f"_mask_value({self.p(cond)}, {self.names[self.var]}, {self.p(value)}{tail})"
        self.kernels.add("_where")  # branch-free np.where
        text = self.p(last_expr)
        if not last_expr.free_symbols & self.dependent:
            text = self.nan_kept(text)
        for expr, cond in reversed(args[:-1]):
            if isinstance(cond, BooleanFalse):
                continue
            if isinstance(cond, BooleanTrue):
                text = self.p(expr)
                continue
            branch = self.p(expr)
            if not (cond.free_symbols | expr.free_symbols) & self.dependent:
                # a condition on parameters alone also holds at x = NaN, which must stay NaN
                branch = self.nan_kept(branch)
            text = f"_where({self.p(cond)}, {branch}, {text})"
        return text


def print_condition(cond: sp.Basic, var: sp.Symbol, names: dict[sp.Symbol, str]) -> str:
    """A boolean condition as one NumPy (or, on parameters alone, Python) expression."""
    return _Printer(var, names).p(cond)


def print_function(expr: sp.Expr, var: sp.Symbol, names: dict[sp.Symbol, str], cse: bool = True) -> PrintedFunction:
    """Lines assigning temporaries and the final expression for expr (in var and named parameters).

    The result always depends on the input array: an input-free result r is printed as
    ``_nan_kept(v, r)`` so NaN propagates and the dtype and shape follow the input.
    """
    printed, results = print_functions([expr], var, names, cse)
    printed.result = results[0]
    return printed


def print_functions(exprs: list[sp.Expr], var: sp.Symbol, names: dict[sp.Symbol, str],
                    cse: bool = True) -> tuple[PrintedFunction, list[str]]:
    """Several expressions sharing their common subexpressions (for fused forward + derivative)."""
    names = dict(names)
    lines: list[str] = []
    dependent = {var}
    printer = _Printer(var, names, dependent)
    if cse:
        temps, reduced = sp.cse(list(exprs), symbols=sp.numbered_symbols("t"), optimizations=None, list=True)
        inline: dict[sp.Symbol, sp.Expr] = {}
        for sym, sub in temps:
            sub = sub.xreplace(inline)
            if not sub.free_symbols:  # keep constants folded into one literal
                inline[sym] = sub
                continue
            names[sym] = str(sym)
            if sub.free_symbols & dependent:
                dependent.add(sym)
            lines.append(f"{sym} = {printer.p(sub)}")
        exprs = [r.xreplace(inline) for r in reduced]
    results = []
    for expr in exprs:
        result = printer.p(expr)
        if not expr.free_symbols & dependent:
            result = printer.nan_kept(result)
        results.append(result)
    return PrintedFunction(lines, "", printer.scipy, printer.kernels), results
