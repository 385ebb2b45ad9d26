"""Template rendering: Activation -> generated NumPy module text; atomic writing and drift checks."""
from __future__ import annotations

import difflib
import inspect
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
import sympy as sp

from ..activation import X, Y, Activation
from ..cache import atomic_write_text, digest
from . import kernels
from .patches import patch_lines, root_patches
from .inplace import Lowered, lower
from .printer import PrintedFunction, float_literal, print_function, print_functions

__all__ = ["templates_dir", "render_module", "render_init", "render_catalog", "write_files", "check_files", "Drift"]


def templates_dir() -> Path:
    """The packaged templates (wheel) or, in a source checkout, the repository's templates/."""
    packaged = Path(__file__).resolve().parent.parent / "_templates"
    if packaged.is_dir():
        return packaged
    repo = Path(__file__).resolve().parents[2] / "templates"
    if repo.is_dir():
        return repo
    raise FileNotFoundError("symact templates not found (neither packaged nor in a source checkout)")


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def _kernel_sources(names: set[str]) -> list[str]:
    ordered: list[str] = []
    for name in sorted(names):
        for dep in kernels.KERNEL_DEPS.get(name, ()):
            if dep not in ordered:
                ordered.append(dep)
    for name in sorted(names):
        if name not in ordered:
            ordered.append(name)
    return [inspect.getsource(getattr(kernels, n)).rstrip() for n in ordered]


def _latex(expr: sp.Expr) -> str:
    return sp.latex(expr).replace("\n", " ")


@dataclass
class _Fn:
    name: str
    arg: str
    summary: str
    math: str
    note: str
    lines: list[str]
    result: str = ""
    results: list[tuple[str, str]] | None = None
    wide: bool = False
    is_tuple: bool = False
    blocked: bool = False
    whole_bytes: int = 0  # inputs up to this size are computed in one piece
    block_bytes: int = 0  # block size (bytes of input)
    low: Lowered | None = None  # the in-place code before Taylor patches (what decides blocking)

    @property
    def outputs(self) -> list[str]:
        return [self.result] if self.results is None else [v for _, v in self.results]

    @property
    def is_dict(self) -> bool:
        return self.results is not None and not self.is_tuple


def _names(act: Activation) -> dict[sp.Symbol, str]:
    names = {X: "x", Y: "y"}
    names.update({p.symbol: p.name for p in act.params})
    return names


def _collect(printed: list[PrintedFunction]) -> tuple[set[str], set[str]]:
    scipy_names: set[str] = set()
    kernel_names: set[str] = set()
    for pf in printed:
        scipy_names |= pf.scipy
        kernel_names |= pf.kernels
    for k in kernel_names:
        scipy_names |= set(kernels.KERNEL_SCIPY.get(k, ()))
    return scipy_names, kernel_names


def _lowered(lines: list[str], results: list[str], arg: str, act: Activation) -> Lowered:
    """The printed lines in place (symact.codegen.inplace): one operation per line, buffers reused."""
    return lower(lines, results, {arg}, set(act.param_names))


def module_context(act: Activation) -> dict:
    forms = act.stable_forms
    names = _names(act)
    name = act.name
    fns: list[_Fn] = []
    printed: list[PrintedFunction] = []
    params = set(act.param_names)

    fwd = print_function(forms.forward, X, names)
    printed.append(fwd)
    low = _lowered(fwd.lines, [fwd.result], "x", act)
    fns.append(_Fn(name, "x", f"{act.description}", f"f(x) = {_latex(act.expr)}", "", low.lines, low.results[0],
                   low=low))

    grad = print_function(forms.grad, X, names)
    printed.append(grad)
    guard = " and ".join(f"{p.name} == {float_literal(act.param_values()[p.name])}" for p in act.params)
    low = _lowered(grad.lines, [grad.result], "x", act)
    g_lines, g_res = list(low.lines), low.results[0]
    if "grad" in act.root_patches:
        extra, g_res = patch_lines(root_patches(act, "grad"), "x", g_res, guard, fresh=g_res.startswith("b"))
        g_lines.extend(extra)
    deriv = act.symbolic_derivative()
    fns.append(_Fn(f"{name}_grad", "x", f"Derivative of {name} with respect to x.",
                   f"f'(x) = {_latex(deriv)}", "At a kink the value is that of the piece holding the point.",
                   g_lines, g_res, wide="grad" in act.wide_float32, low=low))
    fns[0].wide = "forward" in act.wide_float32

    both, (f_res, g_res) = print_functions([forms.forward, forms.grad], X, names)
    printed.append(both)
    low = _lowered(both.lines, [f_res, g_res], "x", act)
    both_lines, (f_res, g_res) = list(low.lines), low.results
    if "grad" in act.root_patches:
        extra, g_res = patch_lines(root_patches(act, "grad"), "x", g_res, guard,
                                   fresh=g_res.startswith("b") and g_res != f_res)
        both_lines.extend(extra)
    fused = _Fn(f"{name}_forward_and_grad", "x", f"({name}(x), {name}_grad(x)) computed together, sharing their work.",
                f"f(x) = {_latex(act.expr)}, \\quad f'(x)", "For a backward pass that needs both.",
                both_lines, results=[("0", f_res), ("1", g_res)],
                wide="grad" in act.wide_float32 or "forward" in act.wide_float32, low=low)
    fused.is_tuple = True

    if forms.grad_from_output is not None:
        gfo = print_function(forms.grad_from_output, Y, names)
        printed.append(gfo)
        note = ("Only as accurate as y: where y has rounded to its limit this cannot recover f'(x);"
                " prefer the x form in saturated regions.")
        if act.grad_from_output_note:
            note = f"Valid for {act.grad_from_output_note.removeprefix('valid for ')}. " + note
        low = _lowered(gfo.lines, [gfo.result], "y", act)
        fns.append(_Fn(f"{name}_grad_from_output", "y",
                       f"Derivative of {name} written in terms of its output y = {name}(x).",
                       f"f'(x) = {_latex(forms.grad_from_output)}", note, low.lines, low.results[0],
                       wide="grad_from_output" in act.wide_float32, low=low))

    if act.params:
        lines: list[str] = []
        results: list[str] = []
        for k, p in enumerate(act.params):
            pf = print_function(forms.grad_params[p.name], X, names)
            printed.append(pf)
            rename = {f"t{i}": f"t{i}_{k}" for i in range(len(pf.lines))}
            lines.extend(_rename(line, rename) for line in pf.lines)
            results.append(_rename(pf.result, rename))
        low = _lowered(lines, results, "x", act)
        maths = r" \quad ".join(
            rf"\frac{{\partial f}}{{\partial {sp.latex(p.symbol)}}} = {_latex(sp.diff(act.expr.rewrite(sp.Piecewise), p.symbol))}"
            for p in act.params)
        fns.append(_Fn(f"{name}_grad_params", "x", f"Derivatives of {name} with respect to its parameters, as a dict.",
                       maths, "", low.lines, results=[(p.name, r) for p, r in zip(act.params, low.results)], low=low))

    fns.append(fused)
    for fn in fns:
        fn.blocked, fn.whole_bytes, fn.block_bytes = _blocking(fn)
    del params
    scipy_names, kernel_names = _collect(printed)
    imports = []
    if scipy_names:
        imports.append("from scipy.special import " + ", ".join(f"{n[1:]} as {n}" for n in sorted(scipy_names)))
    proof_summary = "; ".join(f"{k}: {', '.join(v)}" for k, v in sorted(forms.proofs.items())) or "no stable forms needed"
    return {
        "name": name,
        "hash": act.definition_hash,
        "description": act.description,
        "citation": act.citation,
        "formula": sp.sstr(act.expr),
        "latex": _latex(act.expr),
        "params": [{"name": p.name, "default": float_literal(act.param_values()[p.name]),
                    "doc": f"{p.name} = {act.param_values()[p.name]}"} for p in act.params],
        "overflow_ok": act.overflow_ok,
        "functions": fns,
        "exports": [f.name for f in fns],
        "imports": imports,
        "kernel_sources": _kernel_sources(kernel_names),
        "any_blocked": any(fn.blocked for fn in fns),
        "proof_summary": proof_summary,
    }


#: a function with at least this many array operations runs in blocks (see _blocks in the template)
BLOCK_OPS = 2
#: ... and with fewer than this many and no numerical kernel, inputs up to WHOLE_BYTES run in one piece
HEAVY_OPS = 5
WHOLE_BYTES = 1 << 19
#: block sizes (bytes of input): long functions keep more temporaries, so smaller blocks (measured here)
HEAVY_BLOCK_BYTES = 1 << 16
LIGHT_BLOCK_BYTES = 1 << 17


def _blocking(fn: _Fn) -> tuple[bool, int, int]:
    """(run in blocks, input size in bytes up to which one piece is used, block size in bytes).

    A function that needs no buffer besides its result (after the in-place pass) and few operations
    runs in one piece at every size: it allocates only its output. Longer ones run in blocks, which
    keep their buffers in cache and peak memory near the output's size; in blocks of a few thousand
    elements the buffers are reused from the cache instead of fresh memory pages. A short function on
    an input that fits in cache is faster in one piece (a block costs a few microseconds of Python).
    """
    low = fn.low
    calls = set(low.kernels)
    heavy = bool(calls - kernels.KERNEL_UNBLOCKED - kernels.KERNEL_LIGHT) or low.ops >= HEAVY_OPS
    if heavy:
        return True, 0, HEAVY_BLOCK_BYTES
    if low.peak <= len(fn.outputs) and not (calls - kernels.KERNEL_UNBLOCKED):
        return False, 0, 0
    return True, WHOLE_BYTES, LIGHT_BLOCK_BYTES


def _rename(text: str, mapping: dict[str, str]) -> str:
    import re

    if not mapping:
        return text
    return re.sub(r"\bt\d+\b", lambda m: mapping.get(m.group(0), m.group(0)), text)


def render_module(act: Activation) -> str:
    """The generated module's text for one activation (deterministic)."""
    text = _env().get_template("numpy_module.py.j2").render(**module_context(act))
    return _tidy(text)


def render_init(acts: list[Activation]) -> str:
    modules = []
    for act in sorted(acts, key=lambda a: a.name):
        exports = [act.name, f"{act.name}_grad", f"{act.name}_forward_and_grad"]
        if act.stable_forms.grad_from_output is not None:
            exports.append(f"{act.name}_grad_from_output")
        if act.params:
            exports.append(f"{act.name}_grad_params")
        modules.append({"name": act.name, "exports": exports})
    catalog_hash = digest(*[a.definition_hash for a in sorted(acts, key=lambda a: a.name)])
    return _tidy(_env().get_template("package_init.py.j2").render(modules=modules, catalog_hash=catalog_hash))


def _tidy(text: str) -> str:
    lines = [line.rstrip() for line in text.splitlines()]
    out: list[str] = []
    for line in lines:
        if line == "" and len(out) >= 2 and out[-1] == "" and out[-2] == "":
            continue
        out.append(line)
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


def render_catalog(acts: list[Activation], with_init: bool = True) -> dict[str, str]:
    """File name -> text for every activation (and the package __init__)."""
    files = {f"{a.name}.py": render_module(a) for a in acts}
    if with_init:
        files["__init__.py"] = render_init(acts)
    return dict(sorted(files.items()))


def write_files(files: dict[str, str], out_dir: Path) -> list[str]:
    """Write each file atomically; return the names whose content changed."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    changed = []
    for fname, text in files.items():
        path = out_dir / fname
        try:
            if path.read_text(encoding="utf-8") == text:
                continue
        except OSError:
            pass
        atomic_write_text(path, text)
        changed.append(fname)
    return changed


@dataclass
class Drift:
    file: str
    status: str  # "missing", "differs", "unexpected"
    diff: str = ""


def check_files(files: dict[str, str], out_dir: Path, expect_complete: bool = True) -> list[Drift]:
    """Compare a fresh render with what is on disk."""
    out_dir = Path(out_dir)
    drifts: list[Drift] = []
    for fname, text in files.items():
        path = out_dir / fname
        if not path.exists():
            drifts.append(Drift(fname, "missing"))
            continue
        old = path.read_text(encoding="utf-8")
        if old != text:
            diff = "".join(difflib.unified_diff(old.splitlines(True), text.splitlines(True), f"{fname} (on disk)",
                                                f"{fname} (fresh render)", n=1))
            drifts.append(Drift(fname, "differs", diff))
    if expect_complete and out_dir.is_dir():
        for path in sorted(out_dir.glob("*.py")):
            if path.name not in files and path.read_text(encoding="utf-8", errors="replace").startswith("# Generated by symact"):
                drifts.append(Drift(path.name, "unexpected"))
    return drifts
