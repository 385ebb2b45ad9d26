"""Definition files: user activations in TOML, for every command (``symact --defs FILE ...``).

    [[activation]]
    name = "mish2"                       # lower-case identifier
    expression = "x*tanh(softplus(x))"   # the allow-list grammar of symact.parse
    description = "Mish, written by hand"
    citation = "Misra (2019)"
    forward = "..."                      # optional stable forms, proven equal before use
    grad = "..."

    [activation.params]
    beta = 1                             # a default; or a table:
    alpha = { default = "1/2", domain = "positive" }   # domain: real | positive | nonnegative

Errors name the file, the entry and the field.
"""
from __future__ import annotations

from pathlib import Path

import sympy as sp

from .activation import Activation, Param, ParameterError, exact
from .parse import ExpressionError, parse_expression

try:  # Python 3.11+
    import tomllib
except ModuleNotFoundError:  # pragma: no cover - Python 3.10
    import tomli as tomllib  # type: ignore[no-redef]

__all__ = ["DefinitionError", "load_definitions"]

_DOMAINS = {"real": sp.S.Reals, "positive": sp.Interval.open(0, sp.oo), "nonnegative": sp.Interval(0, sp.oo)}
_FIELDS = {"name", "expression", "description", "citation", "params", "forward", "grad"}


class DefinitionError(ValueError):
    """A definition file that cannot be used; the message names file, entry and field."""


def _fail(path: Path, entry: str, field: str, message: str):
    raise DefinitionError(f"{path}: activation {entry}: field '{field}': {message}")


def load_definitions(path: str | Path) -> list[Activation]:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DefinitionError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{path}: not valid TOML: {exc}") from None
    entries = data.get("activation")
    if not isinstance(entries, list) or not entries:
        raise DefinitionError(f"{path}: expected one or more [[activation]] tables")
    out: list[Activation] = []
    seen: set[str] = set()
    for k, entry in enumerate(entries):
        label = f"#{k + 1}"
        if not isinstance(entry, dict):
            raise DefinitionError(f"{path}: activation {label}: not a table")
        name = entry.get("name")
        if not isinstance(name, str) or not name.isidentifier() or name.lower() != name or name.startswith("_"):
            _fail(path, label, "name", "a lower-case identifier is required")
        label = repr(name)
        if name in seen:
            _fail(path, label, "name", "defined twice in this file")
        seen.add(name)
        unknown = sorted(set(entry) - _FIELDS)
        if unknown:
            _fail(path, label, unknown[0], f"unknown field (known: {', '.join(sorted(_FIELDS))})")
        params = _params(path, label, entry.get("params", {}))
        values = {p.name: p.default for p in params}
        exprs = {}
        for field in ("expression", "forward", "grad"):
            text = entry.get(field)
            if text is None:
                if field == "expression":
                    _fail(path, label, field, "required")
                continue
            if not isinstance(text, str):
                _fail(path, label, field, "must be a string")
            try:
                exprs[field], _ = parse_expression(text, values)
            except ExpressionError as exc:
                _fail(path, label, field, str(exc))
        for field in ("description", "citation"):
            if field in entry and not isinstance(entry[field], str):
                _fail(path, label, field, "must be a string")
        out.append(Activation(name, exprs["expression"], params=params, description=entry.get("description", "user-defined"),
                              citation=entry.get("citation", str(path)), family="user", forward=exprs.get("forward"),
                              grad=exprs.get("grad")))
    return out


def _params(path: Path, label: str, table) -> tuple[Param, ...]:
    if not isinstance(table, dict):
        _fail(path, label, "params", "must be a table of name = default")
    params = []
    for pname, spec in table.items():
        field = f"params.{pname}"
        domain = sp.S.Reals
        if isinstance(spec, dict):
            extra = sorted(set(spec) - {"default", "domain"})
            if extra:
                _fail(path, label, f"{field}.{extra[0]}", "unknown key (known: default, domain)")
            if "domain" in spec:
                if spec["domain"] not in _DOMAINS:
                    _fail(path, label, f"{field}.domain", f"one of {', '.join(_DOMAINS)}")
                domain = _DOMAINS[spec["domain"]]
            spec = spec.get("default")
        if isinstance(spec, bool) or not isinstance(spec, (int, float, str)):
            _fail(path, label, field, "a number (or a string such as '1/3') is required")
        try:
            default = exact(str(spec) if isinstance(spec, float) else spec)
            param = Param(pname, default, domain)
            param.check(default)
        except ParameterError as exc:
            _fail(path, label, field, str(exc))
        if not pname.isidentifier() or pname.startswith("_"):
            _fail(path, label, field, "not a valid parameter name")
        params.append(param)
    return tuple(params)
