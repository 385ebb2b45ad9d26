"""Verify a hand-written implementation of an activation (and its derivative) against the definition.

``verify(fn, "softplus")`` runs ``fn`` on a battery of inputs per dtype (+-0, subnormals, the smallest
normal, +-1, the largest finite, +-inf, NaN, log-spaced magnitudes over the whole exponent range on
both signs, a dense grid on [-20, 20], random points, every breakpoint with its float neighbours and the
dtype's exp overflow / underflow points with theirs; float16: every value) and measures it in ULPs
against certified, correctly rounded reference values of the *definition* (symact.battery.reference_for).
Infinite inputs are compared with the limits of the definition, NaN must propagate. It also checks the
output dtype, shapes (0-d, empty, 2-D, non-contiguous), that the input is not modified, floating-point
warnings, and that parameters the function accepts are actually used.

The result is a VerifyReport: ``.passed``, ``.checks`` (name, passed, detail), ``.worst`` (per function
and dtype: rows x, got, expected, ulp), ``.grade``, ``.text()`` and ``.to_json()``.
"""
from __future__ import annotations

import functools
import importlib
import importlib.util
import inspect
import json
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, NamedTuple

import numpy as np
import sympy as sp

from .activation import X, Activation, ParameterError
from .battery import breakpoints_of, neighbours, reference_for
from .reference import ulp_distance

__all__ = ["verify", "VerifyReport", "Check", "WorstRow", "TargetError", "load_target", "verify_inputs",
           "DEFAULT_DTYPES", "ALL_DTYPES", "grade_for"]

DEFAULT_DTYPES = ("float64", "float32")
ALL_DTYPES = ("float64", "float32", "float16")
N_WORST = 5


class TargetError(ValueError):
    """A TARGET (module:function or file.py:function) that cannot be loaded: bad input."""


class Check(NamedTuple):
    name: str
    passed: bool
    detail: str
    warning: bool = False  # passed, but with something to report (e.g. a floating-point warning)


class WorstRow(NamedTuple):
    x: float
    got: float
    expected: float
    ulp: float


# ------------------------------------------------------------------------------------------------
# the report
# ------------------------------------------------------------------------------------------------
def grade_for(max_ulp_seen: float | None, passed: bool) -> str:
    if not passed:
        return "F"
    if max_ulp_seen is None:
        return "A"
    if max_ulp_seen <= 1:
        return "A"
    if max_ulp_seen <= 4:
        return "B"
    if max_ulp_seen <= 16:
        return "C"
    return "D"


def _num(v: float):
    """A JSON-safe number: finite floats as floats, inf/nan as strings."""
    v = float(v)
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    return v


def _fmt(v: float, dtype: str | None = None) -> str:
    if dtype is not None:
        try:
            return str(np.dtype(dtype).type(v))
        except (TypeError, ValueError, OverflowError):
            pass
    return repr(float(v))


def _fmt_ulp(u: float) -> str:
    if math.isinf(u):
        return "inf"
    return f"{u:.3g}" if u >= 1e4 else f"{u:g}"


@dataclass
class VerifyReport:
    target: str
    activation: str
    params: dict[str, str]
    dtypes: tuple[str, ...]
    max_ulp: float
    max_ulp_grad: float
    strict: bool = False
    checks: list[Check] = field(default_factory=list)
    worst: dict[str, list[WorstRow]] = field(default_factory=dict)  # "forward float64" -> rows
    max_ulps: dict[str, float] = field(default_factory=dict)  # "forward float64" -> worst ULP
    excluded: dict[str, int] = field(default_factory=dict)  # uncertified reference points, excluded
    conventions: list[str] = field(default_factory=list)  # derivative at kinks
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def add(self, name: str, passed: bool, detail: str, warning: bool = False) -> None:
        self.checks.append(Check(name, bool(passed), detail, bool(warning)))

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failures(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    @property
    def max_ulp_seen(self) -> float | None:
        vals = [v for v in self.max_ulps.values() if math.isfinite(v)]
        return max(vals) if vals else None

    @property
    def grade(self) -> str:
        return grade_for(self.max_ulp_seen, self.passed)

    @property
    def grade_text(self) -> str:
        g = self.grade
        if g == "F":
            n = len(self.failures)
            return f"F: {n} of {len(self.checks)} checks failed"
        m = self.max_ulp_seen
        return f"{g}: max {_fmt_ulp(m) if m is not None else 0} ULP"

    def as_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "activation": self.activation,
            "params": dict(self.params),
            "dtypes": list(self.dtypes),
            "limits": {"forward_ulp": _num(self.max_ulp), "grad_ulp": _num(self.max_ulp_grad)},
            "strict": self.strict,
            "passed": self.passed,
            "grade": self.grade,
            "grade_text": self.grade_text,
            "checks": [{"name": c.name, "passed": c.passed, "warning": c.warning, "detail": c.detail}
                       for c in self.checks],
            "max_ulp": {k: _num(v) for k, v in self.max_ulps.items()},
            "worst": {k: [{"x": _num(r.x), "got": _num(r.got), "expected": _num(r.expected), "ulp": _num(r.ulp)}
                          for r in rows] for k, rows in self.worst.items()},
            "excluded_uncertified": dict(self.excluded),
            "conventions": list(self.conventions),
            "notes": list(self.notes),
            "seconds": round(self.seconds, 3),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.as_dict(), indent=indent)

    def text(self) -> str:
        params = ", ".join(f"{k}={v}" for k, v in self.params.items())
        lines = [f"verify {self.target} against {self.activation}" + (f" ({params})" if params else "")
                 + f" [{', '.join(self.dtypes)}; limits {_fmt_ulp(self.max_ulp)} ULP forward, "
                 f"{_fmt_ulp(self.max_ulp_grad)} ULP derivative{'; strict' if self.strict else ''}]"]
        lines.append(f"grade {self.grade_text}  ->  {'PASS' if self.passed else 'FAIL'}")
        for c in self.checks:
            status = "ok  " if c.passed and not c.warning else ("warn" if c.passed else "FAIL")
            lines.append(f"  {status} {c.name}: {c.detail}")
        for conv in self.conventions:
            lines.append(f"  note: {conv}")
        for note in self.notes:
            lines.append(f"  note: {note}")
        for key, rows in self.worst.items():
            if not rows:
                continue
            dt = key.split()[-1]
            lines.append(f"worst points, {key}:")
            lines.append(f"    {'x':>26} {'got':>26} {'expected':>26} {'ULP':>10}")
            for r in rows:
                lines.append(f"    {_fmt(r.x, dt):>26} {_fmt(r.got, dt):>26} {_fmt(r.expected, dt):>26} "
                             f"{_fmt_ulp(r.ulp):>10}")
        lines.append(f"({self.seconds:.1f} s)")
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.text()


# ------------------------------------------------------------------------------------------------
# loading a TARGET
# ------------------------------------------------------------------------------------------------
def load_target(spec: str) -> Callable:
    """`package.module:function` or `path/to/file.py:function` -> the callable; TargetError otherwise."""
    if not isinstance(spec, str) or ":" not in spec:
        raise TargetError(f"target {spec!r} must be package.module:function or path/to/file.py:function")
    where, _, attr = spec.rpartition(":")
    if not where or not attr:
        raise TargetError(f"target {spec!r} must be package.module:function or path/to/file.py:function")
    is_file = where.endswith(".py") or "/" in where or os.sep in where
    try:
        if is_file:
            path = Path(where)
            if not path.is_file():
                raise TargetError(f"no such file: {where}")
            mod_name = f"_symact_verify_{abs(hash(str(path.resolve()))):x}_{path.stem}"
            mspec = importlib.util.spec_from_file_location(mod_name, path)
            if mspec is None or mspec.loader is None:
                raise TargetError(f"cannot load {where} as a Python module")
            module = importlib.util.module_from_spec(mspec)
            sys.modules[mod_name] = module
            try:
                mspec.loader.exec_module(module)
            except BaseException:
                sys.modules.pop(mod_name, None)
                raise
        else:
            cwd = os.getcwd()
            added = cwd not in sys.path and "" not in sys.path
            if added:
                sys.path.insert(0, cwd)
            try:
                module = importlib.import_module(where)
            finally:
                if added:
                    try:
                        sys.path.remove(cwd)
                    except ValueError:
                        pass
    except TargetError:
        raise
    except ModuleNotFoundError as exc:
        raise TargetError(f"cannot import {where}: {exc}") from None
    except SyntaxError as exc:
        raise TargetError(f"cannot import {where}: syntax error at line {exc.lineno}: {exc.msg}") from None
    except Exception as exc:  # noqa: BLE001 - the user's module raised while importing
        raise TargetError(f"cannot import {where}: {type(exc).__name__}: {exc}") from None
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise TargetError(f"{where} has no function {attr!r}") from None
    if not callable(obj):
        raise TargetError(f"{where}:{attr} is not callable ({type(obj).__name__})")
    return obj


# ------------------------------------------------------------------------------------------------
# inputs
# ------------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=256)
def _breakpoints(act: Activation) -> tuple[float, ...]:
    return tuple(breakpoints_of(act))


def all_float16() -> np.ndarray:
    """Every float16 value (finite ones), sorted."""
    xs = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.float16)
    return np.unique(xs[np.isfinite(xs)])


def verify_inputs(act: Activation, dtype, seed: int = 20240605) -> np.ndarray:
    """Finite inputs for dtype (sorted, unique); infinities and NaN are added by the checks."""
    dt = np.dtype(dtype)
    if dt == np.float16:
        return all_float16()
    fi = np.finfo(dt)
    rng = np.random.default_rng(seed)
    vals: list[np.ndarray] = []
    vals.append(np.array([0.0, fi.smallest_subnormal, fi.smallest_normal - fi.smallest_subnormal,
                          fi.smallest_normal, 1.0, fi.max], dtype=dt))
    lo_exp = int(round(math.log2(float(fi.smallest_subnormal))))
    hi_exp = int(fi.maxexp) - 1
    exps = np.arange(lo_exp, hi_exp + 1)
    with np.errstate(over="ignore", under="ignore"):
        vals.append(np.ldexp(1.0, exps).astype(dt))
        vals.append(np.ldexp(1.0 + rng.random(exps.size), exps).astype(dt))
        mid = np.repeat(np.arange(-8, 12), 16)  # several points per binade where activations bend
        vals.append(np.ldexp(1.0 + rng.random(mid.size), mid).astype(dt))
    vals.append(np.arange(-20.0, 20.0 + 1e-9, 1.0 / 64).astype(dt))
    vals.append((rng.standard_normal(200) * 10).astype(dt))
    vals.append(rng.uniform(-60, 60, 200).astype(dt))
    vals.append(rng.uniform(-1000, 1000, 100).astype(dt))
    # exp overflow / underflow points (and those of exp(2x), exp(x/2)) with float neighbours
    cuts = []
    for c in (math.log(float(fi.max)), math.log(float(fi.smallest_normal)), math.log(float(fi.smallest_subnormal))):
        cuts += [c, c / 2, 2 * c]
    with np.errstate(over="ignore"):
        vals.extend(neighbours(np.array(cuts, dtype=dt), dt, 3))
    # where e^x (e^(2x)) turns subnormal while x e^x, x^2 e^x, c e^x are still normal
    for c in (math.log(float(fi.smallest_normal)), math.log(float(fi.smallest_normal)) / 2):
        vals.append(np.arange(c - 12.0, c + 4.0, 1.0 / 16).astype(dt))
    try:
        kinks = np.array(_breakpoints(act), dtype=dt)
    except Exception:  # noqa: BLE001 - a definition we cannot split has no known breakpoints
        kinks = np.array([], dtype=dt)
    vals.extend(neighbours(kinks, dt, 2))
    allv = np.concatenate(vals).astype(dt)
    allv = np.concatenate([allv, -allv])
    allv = allv[np.isfinite(allv)]
    return np.unique(allv)


# ------------------------------------------------------------------------------------------------
# calling the user's function
# ------------------------------------------------------------------------------------------------
def _torch():
    try:
        import torch  # noqa: F401
    except Exception:  # noqa: BLE001 - optional
        return None
    return torch


def _jax_numpy():
    try:
        import jax.numpy as jnp  # noqa: F401
    except Exception:  # noqa: BLE001 - optional
        return None
    return jnp


class Caller:
    """Calls fn(x, **kwargs) with NumPy arrays, or through torch / JAX when fn rejects NumPy input."""

    def __init__(self, fn: Callable, kwargs: dict[str, float] | None = None, mode: str = "numpy"):
        self.fn = fn
        self.kwargs = dict(kwargs or {})
        self.mode = mode

    def with_kwargs(self, kwargs: dict[str, float]) -> "Caller":
        return Caller(self.fn, kwargs, self.mode)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self.mode == "torch":
            torch = _torch()
            t = torch.from_numpy(x if x.strides and all(s > 0 for s in x.strides) or x.ndim == 0 else x.copy())
            out = self.fn(t, **self.kwargs)
            return out.detach().cpu().numpy() if hasattr(out, "detach") else np.asarray(out)
        if self.mode == "jax":
            jnp = _jax_numpy()
            return np.asarray(self.fn(jnp.asarray(x), **self.kwargs))
        return self.fn(x, **self.kwargs)

    def probe(self) -> str | None:
        """Choose the mode; None if fn works, else why it cannot be called at all."""
        x = np.array([-1.5, -0.25, 0.0, 0.75, 2.0])
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                with np.errstate(all="ignore"):
                    self.fn(x.copy(), **self.kwargs)
            return None
        except (TypeError, AttributeError) as exc:
            first = exc
        except Exception as exc:  # noqa: BLE001 - the user's code
            return f"raised {type(exc).__name__}: {exc}"
        for mode, available in (("torch", _torch() is not None), ("jax", _jax_numpy() is not None)):
            if not available:
                continue
            self.mode = mode
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    with np.errstate(all="ignore"):
                        self(x.copy())
                return None
            except Exception:  # noqa: BLE001
                continue
        self.mode = "numpy"
        return f"raised {type(first).__name__} on a NumPy array: {first}"


def autograd_of(fn: Callable) -> Callable:
    """The framework (torch) derivative of fn, as a NumPy function of x; requires torch."""
    torch = _torch()
    if torch is None:
        raise TargetError("--autograd requires torch, which is not installed")

    def grad(x, **kw):
        t = torch.from_numpy(np.array(x, copy=True)).requires_grad_(True)
        y = fn(t, **kw)
        (g,) = torch.autograd.grad(y.sum(), t, allow_unused=True)
        return (torch.zeros_like(t) if g is None else g).detach().numpy()

    grad.__name__ = f"autograd({getattr(fn, '__name__', 'fn')})"
    return grad


class _Outcome(NamedTuple):
    values: np.ndarray | None
    error: str | None  # an exception (not a warning) from the user's code
    warning: str | None  # a floating-point / Python warning under strict evaluation
    modified: bool


def _strict_call(caller: Caller, x: np.ndarray):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            return caller(x)


def _lenient_call(caller: Caller, x: np.ndarray):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with np.errstate(all="ignore"):
            return caller(x)


def _same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    return bool(np.array_equal(np.ascontiguousarray(a).view(np.uint8), np.ascontiguousarray(b).view(np.uint8)))


def _locate_warning(caller: Caller, x: np.ndarray) -> float | None:
    """An input that alone triggers the warning (bisection), or None."""
    def raises(sub):
        try:
            _strict_call(caller, sub.copy())
            return False
        except (FloatingPointError, Warning):
            return True
        except Exception:  # noqa: BLE001
            return False

    cur = x
    while cur.size > 1:
        h = cur.size // 2
        if raises(cur[:h]):
            cur = cur[:h]
        elif raises(cur[h:]):
            cur = cur[h:]
        else:
            return None
    return float(cur[0]) if cur.size == 1 and raises(cur) else None


def _run(caller: Caller, x: np.ndarray) -> _Outcome:
    pristine = x.copy()
    arg = x.copy()
    warning = None
    try:
        out = _strict_call(caller, arg)
    except (FloatingPointError, Warning) as exc:
        where = _locate_warning(caller, pristine)
        warning = f"{type(exc).__name__}: {exc}" + (f" (e.g. at x={_fmt(where, x.dtype.name)})" if where is not None else "")
        arg = pristine.copy()
        try:
            out = _lenient_call(caller, arg)
        except Exception as exc2:  # noqa: BLE001
            return _Outcome(None, f"raised {type(exc2).__name__}: {exc2}", warning, not _same_bits(arg, pristine))
    except Exception as exc:  # noqa: BLE001 - the user's code
        return _Outcome(None, f"raised {type(exc).__name__}: {exc}", None, not _same_bits(arg, pristine))
    modified = not _same_bits(arg, pristine)
    return _Outcome(np.asarray(out), None, warning, modified)


# ------------------------------------------------------------------------------------------------
# references
# ------------------------------------------------------------------------------------------------
def _in_dtype(act: Activation, dt: np.dtype) -> Activation:
    """The activation with its parameters as the dtype represents them (as the user's code sees them)."""
    if not act.params:
        return act
    vals = act.param_values()
    try:
        with np.errstate(all="ignore"):
            return act.with_params(**{k: float(dt.type(float(v))) for k, v in vals.items()})
    except (ParameterError, OverflowError, ValueError):
        return act


def _limit_key(act: Activation, which: str) -> str:
    from .cache import digest

    return digest("verify-limits-v1", act.definition_hash, which)


def _limit_value(expr: sp.Expr, side) -> tuple[str, float, float]:
    """('value', v, v) | ('bounds', lo, hi) | ('none', nan, nan) | ('unknown', nan, nan)."""
    from .timebox import SymbolicTimeout, timebox

    try:
        with timebox(10):
            lim = sp.limit(expr, X, side)
    except SymbolicTimeout:
        return ("unknown", math.nan, math.nan)
    except Exception:  # noqa: BLE001 - SymPy failures: undecided
        return ("unknown", math.nan, math.nan)
    if isinstance(lim, sp.AccumBounds):
        return ("bounds", float(lim.min), float(lim.max))
    if lim is sp.nan or lim.has(sp.Limit) or lim is sp.zoo:
        return ("unknown", math.nan, math.nan)
    try:
        v = float(lim)
    except (TypeError, ValueError):
        return ("unknown", math.nan, math.nan)
    return ("value", v, v)


@functools.lru_cache(maxsize=256)
def _limits_cached(act: Activation, which: str) -> dict[str, tuple]:
    from .cache import load_json, store_json

    key = _limit_key(act, which)
    hit = load_json("verify", key)
    if isinstance(hit, dict) and set(hit) == {"-oo", "+oo"}:
        return {k: tuple(v) for k, v in hit.items()}
    pieces = act.pieces() if which == "forward" else act.derivative_pieces()
    out = {"-oo": _limit_value(pieces[0].expr, -sp.oo), "+oo": _limit_value(pieces[-1].expr, sp.oo)}
    if all(v[0] != "unknown" for v in out.values()):
        store_json("verify", key, {k: list(v) for k, v in out.items()})
    return out


@functools.lru_cache(maxsize=256)
def _kinks(act: Activation, dt: np.dtype) -> list[tuple[float, float, float]]:
    """(x, left derivative, right derivative) at breakpoints exactly representable in dt."""
    out = []
    try:
        pieces = [p for p in act.derivative_pieces() if not p.is_point]
    except Exception:  # noqa: BLE001
        return out
    for left, right in zip(pieces, pieces[1:]):
        b = left.hi
        if not b.is_finite or right.lo != b:
            continue
        bf = float(b)
        if float(dt.type(bf)) != bf or sp.Rational(*bf.as_integer_ratio()) != b:
            continue
        try:
            lv = float(sp.limit(left.expr, X, b, "-")) if left.expr.has(X) else float(left.expr)
            rv = float(sp.limit(right.expr, X, b, "+")) if right.expr.has(X) else float(right.expr)
        except Exception:  # noqa: BLE001
            continue
        out.append((bf, lv, rv))
    return out


# ------------------------------------------------------------------------------------------------
# comparisons
# ------------------------------------------------------------------------------------------------
def _ulps(got: np.ndarray, ref: np.ndarray, dt: np.dtype) -> np.ndarray:
    """ULP distances with the subnormal tolerance (|ref| below the smallest normal: 2 smallest normals abs)."""
    u = ulp_distance(got, ref, dt)
    tiny = float(np.finfo(dt).smallest_normal)
    with np.errstate(invalid="ignore", over="ignore"):
        g64, r64 = got.astype(np.float64), ref.astype(np.float64)
        sub = (np.abs(r64) < tiny) & (np.abs(g64 - r64) <= 2 * tiny)
    return np.where(sub, 0.0, u)


def _as_dtype(values: np.ndarray, dt: np.dtype) -> np.ndarray:
    with np.errstate(all="ignore"):
        try:
            return np.asarray(values).astype(dt)
        except (TypeError, ValueError):
            return np.full(np.shape(values), np.nan, dtype=dt)


def _describe_nan_prop(got_nan: np.ndarray, dt_name: str) -> str:
    return f"NaN input -> {_fmt(float(got_nan), dt_name)} (NaN must propagate)"


class _Spec(NamedTuple):
    which: str  # "forward" | "grad"
    label: str  # "forward" | "derivative"
    caller: Caller
    limit: float


def _check_function(report: VerifyReport, act: Activation, spec: _Spec, dt: np.dtype,
                    warnings_seen: list[str]) -> None:
    name = dt.name
    key = f"{spec.label} {name}"
    xs = verify_inputs(act, dt)
    ref_act = _in_dtype(act, dt)
    ref = reference_for(ref_act, spec.which, xs, dt, allow_uncertified=True)
    specials = np.array([np.inf, -np.inf, np.nan], dtype=dt)
    full = np.concatenate([xs, specials])
    res = _run(spec.caller, full)
    if res.warning:
        warnings_seen.append(f"{key}: {res.warning}")
    if res.modified:
        report.add(f"{spec.label} {name}: input not modified", False,
                   "the function wrote into its input array")
    if res.error is not None:
        report.add(f"{key}: runs", False, f"{res.error} (on a {name} array of {full.size} inputs)")
        return
    got_raw = res.values
    if got_raw.shape != full.shape:
        report.add(f"{key}: shape", False, f"input shape {full.shape} gave output shape {got_raw.shape}")
        return
    if got_raw.dtype != dt:
        report.add(f"{key}: dtype kept", False,
                   f"{name} input gave {got_raw.dtype} output" + (" (silently upcast)" if got_raw.dtype.kind == "f"
                                                                 and got_raw.dtype.itemsize > dt.itemsize else ""))
    got_all = _as_dtype(got_raw, dt)
    got, got_sp = got_all[: xs.size], got_all[xs.size:]

    # --- finite inputs, in ULPs -----------------------------------------------------------------
    uncertified = np.isnan(ref)
    n_unc = int(uncertified.sum())
    if n_unc:
        report.excluded[key] = n_unc
    u = _ulps(got, np.where(uncertified, got, ref), dt)
    u = np.where(uncertified, 0.0, u)
    kink_notes = []
    if spec.which == "grad":
        for bx, lv, rv in _kinks(ref_act, dt):
            idx = np.nonzero(xs == bx)[0]
            if idx.size == 0 or lv == rv:
                continue
            i = int(idx[0])
            g = float(got[i])
            lo, hi = min(lv, rv), max(lv, rv)
            ul = float(_ulps(got[i:i + 1], np.array([lv], dtype=dt), dt)[0])
            ur = float(_ulps(got[i:i + 1], np.array([rv], dtype=dt), dt)[0])
            if ul <= spec.limit and ul <= ur:
                conv, ok = "left", True
            elif ur <= spec.limit:
                conv, ok = "right", True
            elif lo <= g <= hi:
                conv, ok = "between", True
            else:
                conv, ok = "outside", False
            if ok:
                u[i] = min(ul, ur) if conv != "between" else 0.0
            ref_conv = "left" if float(ref[i]) == float(dt.type(lv)) else "right"
            what = {"left": "the left derivative", "right": "the right derivative",
                    "between": "between the one-sided derivatives",
                    "outside": "OUTSIDE the one-sided derivatives (fails)"}[conv]
            kink_notes.append(f"derivative at the kink x={_fmt(bx)} ({name}): {_fmt(g, name)}, {what} "
                              f"(left {_fmt(lv)}, right {_fmt(rv)}; symact and PyTorch use the {ref_conv})")
    for note in kink_notes:
        if note not in report.conventions:
            report.conventions.append(note)
    worst_order = np.argsort(-u, kind="stable")
    rows = [WorstRow(float(xs[i]), float(got[i]), float(ref[i]), float(u[i])) for i in worst_order[:N_WORST] if u[i] > 0]
    report.worst[key] = rows
    mx = float(u.max()) if u.size else 0.0
    report.max_ulps[key] = mx
    n_bad = int((u > spec.limit).sum())
    if n_bad:
        r = rows[0]
        detail = (f"{_fmt_ulp(mx)} ULP at x={_fmt(r.x, name)}: got {_fmt(r.got, name)}, expected "
                  f"{_fmt(r.expected, name)} (limit {_fmt_ulp(spec.limit)}; {n_bad} of {xs.size} inputs over)")
        hint = _hint(act, spec, xs, got, ref, u, dt)
        if hint:
            detail += f"; {hint}"
    else:
        detail = f"max {_fmt_ulp(mx)} ULP over {xs.size} inputs (limit {_fmt_ulp(spec.limit)})"
    if n_unc:
        detail += f"; {n_unc} uncertified reference points excluded"
    report.add(f"{key}: accuracy", n_bad == 0, detail)

    # --- +-inf: the limits of the definition ----------------------------------------------------
    lims = _limits_cached(ref_act, spec.which)
    problems, unknown = [], []
    for j, side in ((0, "+oo"), (1, "-oo")):
        kind, lo, hi = lims[side]
        g = float(got_sp[j])
        xin = "inf" if side == "+oo" else "-inf"
        if kind == "unknown":
            unknown.append(xin)
            continue
        if kind == "bounds":
            if not (math.isnan(g) or lo <= g <= hi):
                problems.append(f"f({xin}) = {_fmt(g, name)}, outside [{lo:g}, {hi:g}] (no limit)")
            continue
        exp_v = np.array([lo], dtype=np.float64).astype(dt)
        uu = float(_ulps(got_sp[j:j + 1], exp_v, dt)[0])
        if uu > spec.limit:
            problems.append(f"{xin} -> {_fmt(g, name)}, expected the limit {_fmt(float(exp_v[0]), name)}")
    detail = "; ".join(problems) if problems else "the limits of the definition"
    if unknown:
        detail += f" (limit at {', '.join(unknown)} not decided symbolically: not checked)"
    report.add(f"{key}: +-inf", not problems, detail)
    gn = float(got_sp[2])
    report.add(f"{key}: NaN", math.isnan(gn), "NaN propagates" if math.isnan(gn) else _describe_nan_prop(gn, name))


def _hint(act, spec, xs, got, ref, u, dt) -> str:
    """A short diagnosis of where the errors are."""
    bad = u > spec.limit
    with np.errstate(all="ignore"):
        g64, r64 = got.astype(np.float64), ref.astype(np.float64)
    parts = []
    if np.any(bad & np.isinf(g64) & np.isfinite(r64)):
        i = int(np.nonzero(bad & np.isinf(g64) & np.isfinite(r64))[0][0])
        parts.append(f"overflows to {_fmt(g64[i])} at x={_fmt(xs[i], dt.name)} where the value is finite")
    z = bad & (g64 == 0) & (r64 != 0)
    if np.any(z):
        zx = xs[z].astype(np.float64)
        parts.append(f"returns 0 where the value is not (|x| from {np.min(np.abs(zx)):.3g} to {np.max(np.abs(zx)):.3g})")
    if np.all(np.isfinite(xs[bad])) and np.any(bad):
        bx = xs[bad].astype(np.float64)
        parts.append(f"wrong for x in [{bx.min():.6g}, {bx.max():.6g}]")
    return "; ".join(parts[:2])


def _check_shapes(report: VerifyReport, caller: Caller, label: str) -> None:
    base = np.array([-3.5, -1.0, -0.25, 0.0, 0.5, 2.0, 7.0, -0.0], dtype=np.float64)
    problems = []
    try:
        ref = np.asarray(_lenient_call(caller, base.copy()))
    except Exception as exc:  # noqa: BLE001
        report.add(f"{label}: shapes", False, f"raised {type(exc).__name__}: {exc} on a 1-D float64 array")
        return
    cases = [
        ("0-d", np.array(base[4]), ref[4:5].reshape(())),
        ("empty", np.empty(0), ref[:0]),
        ("2-D", base.reshape(2, 4), ref.reshape(2, 4) if ref.shape == base.shape else None),
        ("non-contiguous", base[::2], ref[::2] if ref.shape == base.shape else None),
        ("non-contiguous 2-D", base.reshape(2, 4).T, ref.reshape(2, 4).T if ref.shape == base.shape else None),
    ]
    for cname, x, expect in cases:
        pristine = x.copy()
        try:
            out = np.asarray(_lenient_call(caller, x))
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{cname} input raised {type(exc).__name__}: {exc}")
            continue
        if not _same_bits(np.ascontiguousarray(x), np.ascontiguousarray(pristine)):
            problems.append(f"{cname} input was modified")
        if out.shape != x.shape:
            problems.append(f"{cname} input of shape {x.shape} gave shape {out.shape}")
            continue
        if expect is not None and out.size and expect.shape == out.shape:
            same = (out == expect) | (np.isnan(out) & np.isnan(expect))
            if not np.all(same):
                problems.append(f"{cname} input gave values different from the same elements in a 1-D array")
    report.add(f"{label}: shapes", not problems,
               "; ".join(problems) if problems else "0-d, empty, 2-D and non-contiguous inputs keep their shape")


def _accepts(fn: Callable) -> tuple[set[str], bool]:
    """(keyword names fn accepts, whether it takes **kwargs)."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return set(), False
    names, var_kw = set(), False
    for p in sig.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            var_kw = True
        elif p.kind in (p.KEYWORD_ONLY, p.POSITIONAL_OR_KEYWORD):
            names.add(p.name)
    return names, var_kw


def _check_params_used(report: VerifyReport, act: Activation, spec: _Spec, fn: Callable,
                       given: dict[str, float]) -> None:
    """For parameters fn accepts but that were not given: a second value must change the result correctly."""
    names, var_kw = _accepts(fn)
    if var_kw:
        return  # **kwargs: cannot tell which parameters it uses
    dt = np.dtype(np.float64)
    xs = np.unique(np.concatenate([np.arange(-8.0, 8.0 + 1e-9, 0.125), [-100.0, -30.0, 30.0, 100.0]]))
    for p in act.params:
        if p.name in given or p.name not in names:
            continue
        alt = p.alternative()
        if alt == act.param_values()[p.name]:
            continue
        try:
            alt_act = act.with_params(**{p.name: alt})
        except ParameterError:
            continue
        alt_f = float(alt)
        kw = dict(spec.caller.kwargs)
        kw[p.name] = alt_f
        caller = spec.caller.with_kwargs(kw)
        try:
            got = _as_dtype(np.asarray(_lenient_call(caller, xs.copy())), dt)
        except Exception as exc:  # noqa: BLE001
            report.add(f"{spec.label}: parameter {p.name}", False,
                       f"with {p.name}={alt_f:g}: raised {type(exc).__name__}: {exc}")
            continue
        if got.shape != xs.shape:
            continue  # reported by the main checks
        ref = reference_for(_in_dtype(alt_act, dt), spec.which, xs, dt, allow_uncertified=True)
        u = np.where(np.isnan(ref), 0.0, _ulps(got, ref, dt))
        i = int(np.argmax(u))
        ok = float(u[i]) <= spec.limit
        if ok:
            detail = f"with {p.name}={alt_f:g} (not the default): max {_fmt_ulp(float(u[i]))} ULP"
        else:
            detail = (f"with {p.name}={alt_f:g}: {_fmt_ulp(float(u[i]))} ULP at x={_fmt(xs[i])}: got "
                      f"{_fmt(got[i])}, expected {_fmt(ref[i])} -- the parameter is ignored or misused")
        report.add(f"{spec.label}: parameter {p.name}", ok, detail)


# ------------------------------------------------------------------------------------------------
# the API
# ------------------------------------------------------------------------------------------------
def _activation(name_or_activation, params: dict | None) -> Activation:
    if isinstance(name_or_activation, Activation):
        act = name_or_activation
    else:
        from .catalog import get

        act = get(str(name_or_activation))
    if params:
        act = act.with_params(**{k: (v if not isinstance(v, float) else repr(v)) for k, v in params.items()})
    return act


def _target_name(fn) -> str:
    if isinstance(fn, str):
        return fn
    mod = getattr(fn, "__module__", None)
    qual = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    return f"{mod}:{qual}" if mod else str(qual)


def verify(fn, name_or_activation, grad=None, params: dict | None = None,
           dtypes=DEFAULT_DTYPES, max_ulp: float = 16, max_ulp_grad: float = 32,
           strict: bool = False) -> VerifyReport:
    """Verify fn (and grad, the derivative, if given) against the activation's definition.

    fn / grad: callables of an array, or TARGET strings ('pkg.mod:func', 'file.py:func').
    params: parameter values ({name: value}) setting the reference; passed to fn and grad as keyword
    arguments when their signatures accept them. dtypes: names among float64, float32, float16 ('all').
    Floating-point warnings are reported; they fail only with strict=True.
    """
    t0 = time.monotonic()
    if isinstance(dtypes, str):
        dtypes = ALL_DTYPES if dtypes == "all" else (dtypes,)
    dtypes = tuple(np.dtype(d).name for d in dtypes)
    for d in dtypes:
        if d not in ALL_DTYPES:
            raise ValueError(f"unsupported dtype {d!r}: use float64, float32 or float16")
    act = _activation(name_or_activation, params)
    fn_name = _target_name(fn)
    if isinstance(fn, str):
        fn = load_target(fn)
    grad_name = None
    if grad is not None:
        grad_name = _target_name(grad)
        if isinstance(grad, str):
            grad = load_target(grad)
    given = {k: float(act.param_values()[k]) for k in (params or {})}
    shown = {k: str(act.param_values()[k]) for k in (params or {})}
    report = VerifyReport(target=fn_name + (f" (derivative {grad_name})" if grad_name else ""),
                          activation=act.name, params=shown, dtypes=dtypes, max_ulp=max_ulp,
                          max_ulp_grad=max_ulp_grad, strict=strict)

    specs: list[tuple[_Spec, Callable]] = []
    for which, label, f, limit in (("forward", "forward", fn, max_ulp), ("grad", "derivative", grad, max_ulp_grad)):
        if f is None:
            continue
        names, var_kw = _accepts(f)
        kw = {k: v for k, v in given.items() if var_kw or k in names}
        for k in given:
            if k not in kw:
                report.notes.append(f"{label} {_target_name(f)} does not accept {k}: called without it "
                                    f"(the reference uses {k}={shown[k]})")
        caller = Caller(f, kw)
        problem = caller.probe()
        if problem is not None:
            report.add(f"{label}: callable", False, f"{_target_name(f)} {problem}")
            continue
        if caller.mode != "numpy":
            report.notes.append(f"{label}: called through {caller.mode} (NumPy input was rejected)")
        specs.append((_Spec(which, label, caller, limit), f))

    warnings_seen: list[str] = []
    for spec, f in specs:
        for d in dtypes:
            _check_function(report, act, spec, np.dtype(d), warnings_seen)
        _check_shapes(report, spec.caller, spec.label)
        _check_params_used(report, act, spec, f, given)
    if specs:
        if warnings_seen:
            report.add("floating-point warnings", not strict,
                       "; ".join(warnings_seen) + ("" if strict else " (fails only with --strict)"), warning=True)
        else:
            report.add("floating-point warnings", True, "none under np.errstate(all='raise')")
    # input-modification summary (a failure was added per dtype if any)
    if specs and not any(c.name.endswith("input not modified") for c in report.checks):
        report.add("input not modified", True, "the input arrays are unchanged after every call")
    report.seconds = time.monotonic() - t0
    return report
