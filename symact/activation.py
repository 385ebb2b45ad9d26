"""The Activation type: a symbolic definition, its parameters and its proven stable forms."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace
from fractions import Fraction

import sympy as sp

from .cache import digest
from .pieces import Piece, derivative_pieces, pieces_to_piecewise, to_pieces
from .proof import ProofResult, prove_equal

__all__ = ["X", "Y", "Param", "Activation", "ParameterError", "UnprovenFormError", "StableForms"]

#: the input variable of every activation
X = sp.Symbol("x", real=True)
#: the output variable, for derivatives written in terms of the result
Y = sp.Symbol("y", real=True)


class ParameterError(ValueError):
    """A parameter name or value is not acceptable."""


class UnprovenFormError(ValueError):
    """A stable implementation form could not be proven equal to the definition."""


def exact(value) -> sp.Expr:
    """An exact SymPy number from an int, a decimal string, a Fraction, a float (its exact binary value) or a SymPy number."""
    if isinstance(value, sp.Basic):
        return value
    if isinstance(value, bool):
        raise ParameterError(f"not a number: {value!r}")
    if isinstance(value, int):
        return sp.Integer(value)
    if isinstance(value, Fraction):
        return sp.Rational(value.numerator, value.denominator)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ParameterError(f"not a finite number: {value!r}")
        return sp.Rational(*value.as_integer_ratio())
    if isinstance(value, str):
        try:
            return sp.Rational(Fraction(value.strip()))
        except (ValueError, ZeroDivisionError) as exc:
            raise ParameterError(f"not a number: {value!r}") from exc
    raise ParameterError(f"not a number: {value!r}")


@dataclass(frozen=True)
class Param:
    """A named parameter: exact default and the set of admissible values."""

    name: str
    default: sp.Expr
    domain: sp.Set = sp.S.Reals
    description: str = ""
    alt: sp.Expr | None = None  # a second admissible value, used to prove forms beyond the default

    @property
    def symbol(self) -> sp.Symbol:
        return sp.Symbol(self.name, real=True)

    def check(self, value: sp.Expr) -> sp.Expr:
        value = exact(value)
        if not self.domain.contains(value) == sp.true:
            raise ParameterError(f"parameter {self.name}={value} is outside its domain {domain_text(self.domain, self.name)}")
        return value

    def alternative(self) -> sp.Expr:
        if self.alt is not None:
            return self.alt
        candidate = self.default * 2 if self.default != 0 else sp.Integer(1)
        return candidate if self.domain.contains(candidate) == sp.true else self.default


def domain_text(s: sp.Set, name: str) -> str:
    """'alpha > 0', 'lambd >= 0', 'any real', ... for a parameter's domain."""
    if s == sp.S.Reals:
        return "any real"
    if isinstance(s, sp.Interval):
        parts = []
        if s.left != -sp.oo:
            parts.append(f"{name} {'>' if s.left_open else '>='} {s.left}")
        if s.right != sp.oo:
            parts.append(f"{name} {'<' if s.right_open else '<='} {s.right}")
        return " and ".join(parts)
    return str(s)


@dataclass(frozen=True)
class StableForms:
    """Implementation forms proven equal to the definition, with how they were proven."""

    forward: sp.Expr
    grad: sp.Expr
    grad_from_output: sp.Expr | None
    grad_params: dict[str, sp.Expr]
    proofs: dict[str, list[str]] = field(default_factory=dict)  # form name -> methods
    fast_forward: sp.Expr | None = None  # used where fast_region holds (Activation.fast_region)
    fast_grad: sp.Expr | None = None


@dataclass(frozen=True)
class Activation:
    """One activation function.

    expr: the definition, a SymPy expression in ``X`` and the parameters' symbols.
    forward / grad: optional stable forms of f and f' (proven before use).
    grad_from_output: optional f' written in ``Y`` = f(x) (proven by substitution).
    constraint: optional relation between parameters (e.g. min_val < max_val).
    """

    name: str
    expr: sp.Expr
    params: tuple[Param, ...] = ()
    description: str = ""
    citation: str = ""
    aliases: tuple[str, ...] = ()
    family: str = "other"
    forward: sp.Expr | None = None
    grad: sp.Expr | None = None
    grad_from_output: sp.Expr | None = None
    grad_from_output_note: str = ""
    constraint: sp.Basic | None = None
    grad_params: tuple[tuple[str, sp.Expr], ...] = ()  # stable forms of d f / d p (proven like the others)
    overflow_ok: str = ""  # why an overflow to +-inf in the result is the correctly rounded answer
    wide_float32: tuple[str, ...] = ()  # functions ("forward", "grad", ...) that compute float32 input in float64
    root_patches: tuple[str, ...] = ()  # functions given Taylor patches at their zeros (codegen/patches.py)
    patch_window: tuple[int, int] = (-10, 10)  # where those zeros are searched
    patch_radius: str = "0.3"  # |x - zero| below which the patch is used
    patch_float32: bool = True  # False: float32 input's kernel keeps its digits at the zeros, unpatched
    # a parameter s with f'(x) = f'(s*x) at the defaults (where s = 1), proven: the patches, computed at the
    # defaults, then hold at any parameters in t = s*x (swish: f'(x) = g(beta x), g = SiLU's derivative)
    patch_scale: sp.Symbol | None = None
    # Fast forms: equal to the definition (proven like the stable forms) and accurate in floating point
    # where `fast_region` holds (float32 input computed in float32: `fast_region32`, default the same),
    # but not beyond it (an overflow, a cancellation). The generated code evaluates them on the whole
    # input and the stable forms on the elements outside the region only.
    fast_forward: sp.Expr | None = None
    fast_grad: sp.Expr | None = None
    fast_region: sp.Basic | None = None
    fast_region32: sp.Basic | None = None
    values: tuple[tuple[str, sp.Expr], ...] = ()  # parameter values bound by `with_params`

    # --- parameters -------------------------------------------------------------------------
    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        known = ", ".join(self.param_names) or "none"
        raise ParameterError(f"{self.name} has no parameter {name!r} (parameters: {known})")

    def param_values(self) -> dict[str, sp.Expr]:
        """Current exact values: defaults overridden by `with_params`."""
        vals = {p.name: p.default for p in self.params}
        vals.update(dict(self.values))
        return vals

    def with_params(self, **values) -> "Activation":
        """A copy whose parameter values are replaced (checked against domains and constraint)."""
        new = dict(self.values)
        for name, value in values.items():
            new[name] = self.param(name).check(value)
        bound = replace(self, values=tuple(sorted(new.items())))
        bound._check_constraint(bound.param_values())
        return bound

    def _check_constraint(self, vals: dict[str, sp.Expr]) -> None:
        if self.constraint is None:
            return
        ok = self.constraint.subs({sp.Symbol(k, real=True): v for k, v in vals.items()})
        if ok != sp.true:
            raise ParameterError(f"{self.name}: parameters must satisfy {self.constraint}")

    def substitution(self, vals: dict[str, sp.Expr] | None = None) -> dict[sp.Symbol, sp.Expr]:
        vals = self.param_values() if vals is None else vals
        return {sp.Symbol(k, real=True): v for k, v in vals.items()}

    # --- symbolic views ---------------------------------------------------------------------
    def definition(self, vals: dict[str, sp.Expr] | None = None) -> sp.Expr:
        """The definition with parameters replaced by their (exact) values."""
        return self.expr.subs(self.substitution(vals))

    def pieces(self, vals: dict[str, sp.Expr] | None = None) -> list[Piece]:
        return to_pieces(self.definition(vals), X)

    def derivative_pieces(self, vals: dict[str, sp.Expr] | None = None, n: int = 1) -> list[Piece]:
        return derivative_pieces(self.pieces(vals), X, n)

    def derivative(self, vals: dict[str, sp.Expr] | None = None) -> sp.Expr:
        """f' with numeric parameters, from the piecewise normal form (kink value: the piece holding it)."""
        return pieces_to_piecewise(self.derivative_pieces(vals), X)

    def symbolic_derivative(self) -> sp.Expr:
        """f' with parameters kept as symbols: each Piecewise branch differentiated under its own condition."""
        return sp.diff(self.expr.rewrite(sp.Piecewise), X)

    def param_derivatives(self) -> dict[str, sp.Expr]:
        """d f / d p for every parameter p, branch by branch (symbolic parameters)."""
        base = self.expr.rewrite(sp.Piecewise)
        return {p.name: sp.diff(base, p.symbol) for p in self.params}

    def _repr_latex_(self) -> str:
        """Jupyter shows the worked derivation."""
        from .derivation import repr_latex

        return repr_latex(self)

    # --- identity ---------------------------------------------------------------------------
    @functools.cached_property
    def definition_hash(self) -> str:
        """sha256 of everything the generated code is made from."""
        parts = [self.name, sp.srepr(self.expr)]
        for p in self.params:
            parts += [p.name, sp.srepr(p.default), sp.srepr(p.domain)]
        for form in (self.forward, self.grad, self.grad_from_output, self.constraint):
            parts.append(sp.srepr(form) if form is not None else "-")
        for pname, form in self.grad_params:
            parts += [pname, sp.srepr(form)]
        if self.fast_forward is not None or self.fast_grad is not None:
            parts += ["fast"] + [sp.srepr(f) if f is not None else "-" for f in
                                 (self.fast_forward, self.fast_grad, self.fast_region, self.fast_region32)]
        parts.append(self.overflow_ok)
        parts.extend(f"{k}={v}" for k, v in self.values)
        parts.extend(self.wide_float32)
        parts.extend(f"patch:{w}" for w in self.root_patches)
        if self.root_patches:
            parts.append(f"patch-window:{self.patch_window}:{self.patch_radius}")
        if self.patch_scale is not None:
            parts.append(f"patch-scale:{self.patch_scale}")
        if not self.patch_float32:
            parts.append("patch-float64-only")
        return digest(*parts)

    # --- stable forms -----------------------------------------------------------------------
    def proof_values(self) -> list[dict[str, sp.Expr]]:
        """Parameter sets at which forms are proven: the current values and an alternative set."""
        first = self.param_values()
        sets = [first]
        if self.params:
            alt = {p.name: p.alternative() for p in self.params}
            try:
                self._check_constraint(alt)
                if alt != first:
                    sets.append(alt)
            except ParameterError:
                pass
        return sets

    def _prove_patch_scale(self, proofs: dict) -> None:
        """f'(x) = f'(s*x) at the defaults, s = patch_scale, at every proof value set (and s = 1 at the defaults)."""
        defaults = {p.name: p.default for p in self.params}
        s = self.patch_scale
        if s.subs(self.substitution(defaults)) != 1:
            raise UnprovenFormError(f"{self.name}: patch_scale {s} is not 1 at the default parameters")
        base = self.derivative(defaults)
        for vals in self.proof_values():
            scaled = base.subs(X, s.subs(self.substitution(vals)) * X)
            _record(proofs, "patch_scale", self, prove_equal(scaled, self.derivative(vals), X), vals)

    @functools.cached_property
    def stable_forms(self) -> StableForms:
        """Forward, derivative and output-derivative forms, each proven before use.

        Raises UnprovenFormError naming the form and the reason when a proof fails.
        """
        proofs: dict[str, list[str]] = {}
        forward = self.forward if self.forward is not None else self.expr
        grad = self.grad if self.grad is not None else self.symbolic_derivative()
        for vals in self.proof_values():
            sub = self.substitution(vals)
            target = self.definition(vals)
            if self.forward is not None:
                _record(proofs, "forward", self, prove_equal(self.forward.subs(sub), target, X), vals)
            if self.grad is not None:
                _record(proofs, "grad", self, prove_equal(self.grad.subs(sub), self.derivative(vals), X), vals)
            in_region = self.fast_region is None or X in self.fast_region.free_symbols \
                or bool(self.fast_region.subs(sub))  # a region on the parameters: proven where it holds
            if self.fast_forward is not None and in_region:
                _record(proofs, "fast_forward", self, prove_equal(self.fast_forward.subs(sub), target, X), vals)
            if self.fast_grad is not None and in_region:
                _record(proofs, "fast_grad", self, prove_equal(self.fast_grad.subs(sub), self.derivative(vals), X), vals)
            if self.grad_from_output is not None:
                composed = self.grad_from_output.subs(sub).subs(Y, target)
                _record(proofs, "grad_from_output", self, prove_equal(composed, self.derivative(vals), X), vals)
            symbolic = self.param_derivatives()
            for pname, form in self.grad_params:
                target = symbolic[pname].subs(sub)
                _record(proofs, f"grad_params[{pname}]", self, prove_equal(form.subs(sub), target, X), vals)
        if self.patch_scale is not None:
            self._prove_patch_scale(proofs)
        params = self.param_derivatives()
        params.update(dict(self.grad_params))
        if (self.fast_forward is not None or self.fast_grad is not None) and self.fast_region is None:
            raise UnprovenFormError(f"{self.name}: fast forms need the region where they are used (fast_region)")
        if (self.fast_forward is not None or self.fast_grad is not None) and not any(
                k.startswith("fast") for k in proofs):
            raise UnprovenFormError(f"{self.name}: the fast forms' region holds at none of the proof values")
        return StableForms(forward, grad, self.grad_from_output, params, proofs, self.fast_forward, self.fast_grad)


def _record(proofs: dict, what: str, act: Activation, result: ProofResult, vals: dict) -> None:
    if not result.proven:
        shown = ", ".join(f"{k}={v}" for k, v in vals.items())
        raise UnprovenFormError(f"{act.name}: the {what} form is not proven equal to the definition"
                                f"{' at ' + shown if shown else ''}: {result.failure}")
    proofs.setdefault(what, [])
    for m in result.methods:
        if m not in proofs[what]:
            proofs[what].append(m)
