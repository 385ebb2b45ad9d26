"""Template rendering: Activation -> generated NumPy module text; atomic writing and drift checks."""
from __future__ import annotations

import ast
import difflib
import inspect
import math
import re
from dataclasses import dataclass
from pathlib import Path

import jinja2
import sympy as sp

from ..activation import X, Y, Activation
from ..cache import atomic_write_text, digest
from . import kernels
from .patches import patch_lines, root_patches
from . import inplace
from .inplace import CLIP, Lowered, lower
from .printer import PrintedFunction, float_literal, print_condition, print_functions

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
    """The kernels' sources, each after the helpers it calls (KERNEL_DEPS, followed through)."""
    ordered: list[str] = []

    def deps_of(name: str) -> None:
        for dep in kernels.KERNEL_DEPS.get(name, ()):
            if dep not in ordered:
                deps_of(dep)
                ordered.append(dep)

    for name in sorted(names):
        deps_of(name)
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
    low_blocked: Lowered | None = None  # ... written into output buffers (block functions)
    fast: bool = False  # uses fast forms (overflow and invalid operations ignored: fixed up after)
    fixup: bool = False  # ... with a region on x (tested by _outside)
    dests: list[str] | None = None  # block functions: names of the output buffers they are given
    parts: int = 4  # block functions: at least this many blocks (below the block size)
    quiet: bool = False  # no operation can raise a floating-point flag the caller's errstate would see
    late: int | None = None  # block functions: the result whose Taylor patches are evaluated after the blocks

    @property
    def outputs(self) -> list[str]:
        return [self.result] if self.results is None else [v for _, v in self.results]

    @property
    def is_dict(self) -> bool:
        return self.results is not None and not self.is_tuple


#: operations that raise no floating-point flag but overflow and invalid (which a function may not
#: ignore anyway): no underflow, as their results are exact or chosen among their operands
_QUIET_CALLS = frozenset({"_clip", "np.maximum", "np.minimum", "np.abs", "np.negative", "np.copysign",
                          "np.isnan", "np.floor", "np.greater", "np.greater_equal", "np.less",
                          "np.less_equal", "np.equal", "np.not_equal", "np.add", "np.subtract",
                          "np.bitwise_and", "np.bitwise_or", "np.bitwise_xor", "_where", "_nan_kept", "np.empty_like"})
_QUIET_OPS = (ast.Add, ast.Sub, ast.BitAnd, ast.BitOr, ast.BitXor)
_QUIET_NAMES = _QUIET_CALLS | {"np.inf"}


def _paired(lines: list[str]) -> list[str]:
    """Two kernels of x in a row that have a joint kernel (KERNEL_PAIRS) as one call of it."""
    out: list[str] = []
    for line in lines:
        if out:
            for (first, second), joint in kernels.KERNEL_PAIRS.items():
                a = re.fullmatch(rf"(\s*)(\w+) = {first}\(x(, out=\w+)?\)", out[-1])
                b = re.fullmatch(rf"(\s*)(\w+) = {second}\(x\)", line)
                if a and b and a.group(1) == b.group(1) and a.group(2) != b.group(2):
                    out[-1] = f"{a.group(1)}{a.group(2)}, {b.group(2)} = {joint}(x{a.group(3) or ''})"
                    break
            else:
                out.append(line)
            continue
        out.append(line)
    return out


def _quiet(lines: list[str]) -> bool:
    """Whether the lines call only operations of _QUIET_CALLS (so no underflow to ignore)."""
    tree = ast.parse("\n".join(lines))
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func) not in _QUIET_CALLS:
            return False
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and not isinstance(node.op, _QUIET_OPS):
            return False
        if isinstance(node, ast.Attribute) and ast.unparse(node) not in _QUIET_NAMES:
            return False
        if isinstance(node, (ast.If, ast.IfExp)):  # conditional code (forms chosen by a parameter,
            return False  # buffers allocated on demand) keeps its errstate, conservatively
    return True


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
    return scipy_names, kernel_names


def _regions(act: Activation) -> tuple[sp.Basic, sp.Basic]:
    """The fast forms' regions for float64 and float32 input (float32's defaults to float64's)."""
    return act.fast_region, act.fast_region32 if act.fast_region32 is not None else act.fast_region


def _region_on_x(act: Activation) -> bool:
    """Whether a fast region depends on x (elements outside it fixed up) or on parameters alone."""
    return any(X in r.free_symbols for r in _regions(act))


def _fast(act: Activation, stable: list[sp.Expr], fast: list[sp.Expr | None], names: dict,
          printed: list, dests: list[str] | None, scratch: bool = False) -> tuple[Lowered, list[str], list[str]]:
    """(lowered fast code, all lines, result names) for forms of which some have fast versions.

    See Activation.fast_region. A region on x: the fast forms are evaluated on the whole block and the
    elements outside the region (a few, on typical input) get the stable forms, computed on those
    elements only. A region on the parameters alone: one or the other, chosen once per call.
    """
    exprs = [f if f is not None else g for f, g in zip(fast, stable)]
    pf, results = print_functions(exprs, X, names)
    printed.append(pf)
    low = _lowered(pf.lines, results, "x", act, dests, scratch)
    region64, region32 = _regions(act)
    if not _region_on_x(act):
        other, other_results = print_functions(stable, X, names)
        printed.append(other)
        slow = _lowered(other.lines, other_results, "x", act, dests, scratch)
        lines = [f"if {print_condition(region64, X, names)}:  # the fast forms hold for these parameters"]
        lines += [f"    {line}" for line in low.lines] + [f"    r{i} = {r}" for i, r in enumerate(low.results)]
        lines += ["else:"] + [f"    {line}" for line in slow.lines] + [f"    r{i} = {r}" for i, r in enumerate(slow.results)]
        return low, lines, [f"r{i}" for i in range(len(exprs))]
    # a region's conditions on the parameters alone are tested once, in Python (an array | a Python bool
    # takes NumPy's slow scalar loop, ~1 ns per element): where they fail, every element is outside
    (on_params, region64), (on_params32, region32) = _split_region(region64), _split_region(region32)
    if on_params != on_params32:
        raise ValueError(f"{act.name}: fast_region and fast_region32 differ in their conditions on the parameters")
    everywhere64 = region64 == sp.true  # the fast forms hold for every float64: only float32 input is tested
    if everywhere64 and on_params != sp.true:
        raise ValueError(f"{act.name}: a float64 region of everything with float32 conditions on the parameters")
    cond32 = print_condition(sp.to_nnf(sp.Not(region32)), X, names)  # negation pushed in: no ~(...) pass
    lines: list[str] = list(low.lines)
    bounds64, bounds32 = _inner_bounds(region64), _inner_bounds(region32)
    if everywhere64:
        args = f"lambda x: {cond32}, x" + (f", {bounds32}" if bounds32 else "")
    else:
        cond64 = print_condition(sp.to_nnf(sp.Not(region64)), X, names)
        args = f"lambda x: {cond64}" if cond32 == cond64 else f"lambda x: {cond64} if x.dtype == np.float64 else {cond32}"
        if bounds64 == bounds32 and bounds64:
            args += f", x, {bounds64}"
        elif bounds64 or bounds32:
            args += f", x, *(({bounds64 or 'None, None'}) if x.dtype == np.float64 else ({bounds32 or 'None, None'}))"
        else:
            args += ", x"
    if not (bounds64 or bounds32) and _convex(region64) and _convex(region32):
        args += ", convex=True"
    if everywhere64:
        lines.append(f"far = _outside({args}) if x.dtype == np.float32 else np.empty(0, np.intp)"
                     "  # outside the fast forms' region")
    elif on_params == sp.true:
        lines.append(f"far = _outside({args})  # outside the fast forms' region")
    else:
        lines.append(f"far = _outside({args}) if {print_condition(on_params, X, names)} else np.arange(x.size)"
                     "  # outside the fast forms' region")
    replaced = [i for i, f in enumerate(fast) if f is not None]
    sub_pf, sub_results = print_functions([stable[i] for i in replaced], X, {**names, X: "xs"})
    printed.append(sub_pf)
    sub = lower(sub_pf.lines, sub_results, {"xs"}, set(act.param_names), prefix="c")
    lines.append("if far.size:")
    lines.append("    xs = np.asarray(x.take(far), np.float64)  # float32 too: the tails lose digits in float32")
    lines.extend(f"    {line}" for line in sub.lines)
    for i, res in zip(replaced, sub.results):
        lines.append(f"    _put({low.results[i]}, far, {res})")
    return low, lines, low.results


def _split_region(region: sp.Basic) -> tuple[sp.Basic, sp.Basic]:
    """(its conditions on the parameters alone, its conditions on x) of a region that is an And (or one)."""
    parts = sp.And.make_args(region)
    return (sp.And(*[c for c in parts if X not in c.free_symbols]),
            sp.And(*[c for c in parts if X in c.free_symbols]))


def _convex(region: sp.Basic) -> bool:
    """Whether a region on x is an interval of floats for every parameter value, as NumPy evaluates it.

    True for an And of comparisons whose sides are linear in x with x appearing once: each side is then
    a chain of +, -, * and / by x-free values, monotone in x under rounding too, so each comparison holds
    on a half-line of floats (or on all or none of them) and their intersection is an interval.
    """
    for c in sp.And.make_args(region):
        if c == sp.true:
            continue
        if not isinstance(c, (sp.StrictLessThan, sp.LessThan, sp.StrictGreaterThan, sp.GreaterThan)):
            return False
        sides = [side for side in c.args if X in side.free_symbols]
        if len(sides) != 1 or not _monotone_chain(sides[0]):
            return False
    return True


def _monotone_chain(e: sp.Expr) -> bool:
    """Whether e is x, or an Add/Mul of x-free values and one such chain (so x appears once, never
    in a divisor)."""
    if e == X:
        return True
    if not isinstance(e, (sp.Add, sp.Mul)):
        return False
    inner = [a for a in e.args if X in a.free_symbols]
    return len(inner) == 1 and _monotone_chain(inner[0])


def _inner_bounds(region: sp.Basic) -> str:
    """"lo, hi": floats (float64) between which a region on x alone holds, for _outside's quick test.

    "" when the region is not one interval with a finite end (or has parameters). The ends are rounded
    inwards (an open end excluded), so that lo <= v <= hi implies the region for every float v.
    """
    if region.free_symbols != {X}:
        return ""
    try:
        iv = region.as_set()
    except (NotImplementedError, TypeError, ValueError):
        return ""
    if not isinstance(iv, sp.Interval) or (iv.start.is_infinite and iv.end.is_infinite):
        return ""

    def inward(b: sp.Expr, up: bool, strict: bool) -> str:
        if b.is_infinite:
            return "None"
        f = float(b)
        e = sp.Rational(*f.as_integer_ratio())
        if (e < b or strict and e == b) if up else (e > b or strict and e == b):
            f = math.nextafter(f, math.inf if up else -math.inf)
        return repr(f)

    return f"{inward(iv.start, True, iv.left_open)}, {inward(iv.end, False, iv.right_open)}"


def _fresh(result: str, others: tuple[str, ...] = ()) -> bool:
    """Whether a result names a buffer of the function's own (not its input, nor another result)."""
    return result.isidentifier() and result not in ("x", "y") and result not in others


def _lowered(lines: list[str], results: list[str], arg: str, act: Activation,
             dests: list[str] | None = None, scratch: bool = False) -> Lowered:
    """The printed lines in place (symact.codegen.inplace): one operation per line, buffers reused.

    scratch: the output buffers may hold earlier values (outputs of the input's dtype: not wide).
    """
    return lower(lines, results, {arg}, set(act.param_names), dests=dests, scratch=scratch)


#: cost of checking the fast forms' region, in cheap passes (a comparison and np.flatnonzero)
FIXUP_COST = 2


def _code(act: Activation, names: dict, printed: list, stable: list[sp.Expr], fast: list[sp.Expr | None],
          arg: str = "x", patch: int | None = None, dests: list[str] | None = None, scratch: bool = False,
          late: bool = False) -> tuple[Lowered, list[str], list[str], bool]:
    """(lowered code before patches, lines, result names, whether fast forms are used) of a function.

    stable / fast: its forms (fast versions or None); patch: the index of the result that gets the
    Taylor patches at the zeros of f'; dests: names of the output buffers the results are written into
    (block functions), or None; late: the patches' polynomials left to the caller (patch_lines).
    """
    fast_code = None
    if any(f is not None for f in fast):
        fast_printed: list = []
        fast_code = _fast(act, stable, fast, names, fast_printed, dests, scratch)
    if fast_code is None or len(stable) > 1:
        pf, res = print_functions(stable, X if arg == "x" else Y, names)
        low = _lowered(pf.lines, res, arg, act, dests, scratch)
        # several results (forward and derivative) share work: the fast forms only when cheaper so
        # (sigmoid's stable forward and derivative share one exponential, its fast forward has its own);
        # a float64 region of everything marks fast forms kept for float32's accuracy (the ELU family's fix-up)
        if fast_code is not None and act.fast_region != sp.true \
                and fast_code[0].cost + (FIXUP_COST if _region_on_x(act) else 0) >= low.cost:
            fast_code = None
        if fast_code is None:
            printed.append(pf)
            lines, results = list(low.lines), list(low.results)
    used_fast = fast_code is not None
    if used_fast:
        low, lines, results = fast_code[0], fast_code[1], list(fast_code[2])
        printed.extend(fast_printed)
    if patch is not None and "grad" in act.root_patches:
        scale = act.patch_scale
        if scale is not None and not (isinstance(scale, sp.Symbol) and scale.name in {p.name for p in act.params}):
            raise ValueError(f"{act.name}: patch_scale must be one of the parameters, not {scale}")
        guard = "" if scale is not None else " and ".join(
            f"{p.name} == {float_literal(act.param_values()[p.name])}" for p in act.params)
        others = tuple(r for i, r in enumerate(results) if i != patch)
        extra, results[patch] = patch_lines(root_patches(act, "grad"), "x", results[patch], guard,
                                            fresh=_fresh(results[patch], others), scale=str(scale or ""), late=late,
                                            float64_only=not act.patch_float32)
        lines = lines + extra
    return low, lines, results, used_fast


def module_context(act: Activation) -> dict:
    forms = act.stable_forms
    names = _names(act)
    name = act.name
    printed: list[PrintedFunction] = []
    note = ("Only as accurate as y: where y has rounded to its limit this cannot recover f'(x);"
            " prefer the x form in saturated regions.")
    if act.grad_from_output_note:
        note = f"Valid for {act.grad_from_output_note.removeprefix('valid for ')}. " + note
    maths = r" \quad ".join(
        rf"\frac{{\partial f}}{{\partial {sp.latex(p.symbol)}}} = {_latex(sp.diff(act.expr.rewrite(sp.Piecewise), p.symbol))}"
        for p in act.params)
    wide = act.wide_float32
    # (name, arg, summary, math, note, stable forms, fast forms, patched result, wide, kind)
    specs = [
        (name, "x", act.description, f"f(x) = {_latex(act.expr)}", "", [forms.forward], [forms.fast_forward],
         None, "forward" in wide, "one"),
        (f"{name}_grad", "x", f"Derivative of {name} with respect to x.", f"f'(x) = {_latex(act.symbolic_derivative())}",
         "At a kink the value is that of the piece holding the point.", [forms.grad], [forms.fast_grad], 0,
         "grad" in wide, "one"),
    ]
    if forms.grad_from_output is not None:
        specs.append((f"{name}_grad_from_output", "y", f"Derivative of {name} written in terms of its output y = {name}(x).",
                      f"f'(x) = {_latex(forms.grad_from_output)}", note, [forms.grad_from_output], [None], None,
                      "grad_from_output" in wide, "one"))
    if act.params:
        specs.append((f"{name}_grad_params", "x", f"Derivatives of {name} with respect to its parameters, as a dict.",
                      maths, "", [forms.grad_params[p.name] for p in act.params], [None] * len(act.params), None,
                      "grad_params" in wide, "dict"))
    specs.append((f"{name}_forward_and_grad", "x", f"({name}(x), {name}_grad(x)) computed together, sharing their work.",
                  f"f(x) = {_latex(act.expr)}, \\quad f'(x)", "For a backward pass that needs both.",
                  [forms.forward, forms.grad], [forms.fast_forward, forms.fast_grad], 1,
                  "grad" in wide or "forward" in wide, "tuple"))
    fns: list[_Fn] = []
    for fname, arg, summary, math, fnote, stable, fast, patch, is_wide, kind in specs:
        low, lines, results, used_fast = _code(act, names, printed, stable, fast, arg, patch)
        fn = _Fn(fname, arg, summary, math, fnote, lines, results[0] if kind == "one" else "",
                 results=None if kind == "one" else [(p.name if kind == "dict" else str(i), r) for i, (p, r) in
                                                     enumerate(zip(act.params if kind == "dict" else stable, results))],
                 wide=is_wide, low=low, fast=used_fast)
        fn.is_tuple = kind == "tuple"
        fn.fixup = used_fast and _region_on_x(act)
        dests = [f"o{i}" for i in range(len(results))]
        # the results written into the output buffers a block function is given, which hold earlier values too
        fn.low_blocked, lines_blocked, outs, _ = _code(act, names, [], stable, fast, arg, patch, dests, not is_wide,
                                                       late=True)
        fn.blocked, fn.whole_bytes, fn.block_bytes, fn.parts = _blocking(fn)
        if fn.blocked:
            fn.lines = lines_blocked
            if any("late.append(" in line for line in lines_blocked):
                fn.late = patch
            if fn.results is None:
                fn.result = outs[0]
            else:
                fn.results = [(k, r) for (k, _), r in zip(fn.results, outs)]
            fn.dests = dests
        fn.lines = _paired(fn.lines)
        fn.quiet = not (fn.fast or fn.wide or act.overflow_ok) and _quiet(fn.lines)
        fns.append(fn)
    scipy_names, kernel_names = _collect(printed)
    kernel_names |= {k for k in kernels.KERNEL_PAIRS.values()
                     if any(f"{k}(" in line for fn in fns for line in fn.lines)}
    if act.patch_scale is not None and act.root_patches:
        kernel_names.add("_two_prod_err")  # the scaled patches' product error
    if any("_taylor_patches(" in line for fn in fns for line in fn.lines):
        kernel_names.add("_taylor_patches")  # many zeros' patches (patches.MANY)
    if any("_put(" in line for fn in fns for line in fn.lines):
        kernel_names.add("_put")  # fix-ups and patches (kernels name it in KERNEL_DEPS)
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
        "uses_clip": any(f"{CLIP}(" in line for fn in fns for line in fn.lines),
        "any_blocked": any(fn.blocked for fn in fns),
        "any_fixup": any(fn.fixup for fn in fns),
        "any_late": any(fn.late is not None for fn in fns),
        "proof_summary": proof_summary,
    }


#: functions with fewer array operations than this, no numerical kernel and no buffer besides their
#: results run in one piece at every size
BLOCK_OPS = 2
#: ... with at least this many (or a numerical kernel) they keep more data in flight: "heavy"
HEAVY_OPS = 9
#: inputs up to this many bytes run in one piece (they stay in cache) when the function allocates
#: nothing but its output, as any hand-written form does; beyond, and for all others, blocks
WHOLE_BYTES = 1 << 20
HEAVY_WHOLE_BYTES = 0
#: block size (bytes of input): a block costs ~1 us of Python per operation, so not too small, while its
#: buffers (several blocks' worth) should stay in the L2/L3 caches. With glibc the generated modules first
#: raise its malloc thresholds (_settle_allocator), so buffers of this size are reused, not page-faulted
BLOCK_BYTES = 1 << 18


def _blocking(fn: _Fn) -> tuple[bool, int, int, int]:
    """(run in blocks, input bytes up to which one piece is used, block size in bytes, least blocks).

    After the in-place pass a function allocates its results and a few buffers, so the cache and the
    allocator decide. In one piece every operation streams the whole array through memory (~1 ns per
    element at 10^7 elements); in blocks the buffers stay in cache and are reused, and each block costs
    about a microsecond of Python per operation. One piece up to 1 MiB for functions whose only buffers
    are their outputs and a mask or two; else blocks of at most 256 KiB, and at least 2-3 blocks (one
    buffer besides the outputs), 4, or 8, 12 or 16 (numerical kernels, by the buffers they hold), so that
    peak memory stays near the output's size. Measured on an AMD EPYC (Zen 5, 1 MiB L2) over 48 blocked functions, once glibc's
    thresholds are raised: 256 KiB blocks instead of 64 KiB take 0.82x the time at 10^6 and 10^7
    elements (geometric mean; 128 KiB 0.87x, 512 KiB no better than 256). Before the thresholds were
    raised, buffers of 128 KiB and more were page-faulted anew (gelu_tanh 4x slower at 10^5 elements
    in blocks of 200 KiB).
    """
    low = fn.low
    calls = set(low.kernels)
    heavy = calls - kernels.KERNEL_UNBLOCKED - kernels.KERNEL_LIGHT
    if heavy:  # kernels hold several buffers of their own (float64 ones for float32 input): more blocks
        few = heavy <= kernels.KERNEL_FEW_BUFFERS
        eight = fn.wide or not calls & inplace.F64_KERNELS or few  # few: also the fused (two outputs)
        mid = heavy & kernels.KERNEL_MID_BUFFERS and heavy <= kernels.KERNEL_FEW_BUFFERS | kernels.KERNEL_MID_BUFFERS
        return True, HEAVY_WHOLE_BYTES, BLOCK_BYTES, 8 if eight else 12 if mid else 16
    if low.ops >= HEAVY_OPS:  # many operations on a few buffers: blocks of a quarter at most (8 blocks of
        # 10^5 elements took 1.3x the time of 4 in squareplus on an AMD EPYC Zen 1, in Python per block)
        return True, HEAVY_WHOLE_BYTES, BLOCK_BYTES, 8 if fn.wide else 4
    if low.ops < BLOCK_OPS and low.peak <= len(fn.outputs) and not (calls - kernels.KERNEL_UNBLOCKED):
        if any("_taylor_patches(" in line for line in fn.lines):  # sinc's derivative: its patches' buffers
            return True, WHOLE_BYTES, BLOCK_BYTES, 4  # one piece up to 1 MiB, then blocks (0.75-0.9x at 10^7)
        return False, 0, 0, 1
    # in one piece only when the outputs are the only buffers besides masks (peak memory: the output and
    # a mask or two, an eighth or a quarter of it each), else blocks
    whole = WHOLE_BYTES if fn.low_blocked.peak_float == 0 and fn.low_blocked.peak <= 2 else 0
    parts = 4
    if calls & {"_hypot"}:  # a kernel with buffers of its own
        parts = 8
    elif fn.low_blocked.peak_float <= 1 and not calls - inplace.OUT_KERNELS:  # one buffer besides the outputs: fewer, larger blocks
        parts = 3 if fn.fixup else 2  # (the fix-up's own buffers: a few per cent of a block, more near 0)
    return True, whole, BLOCK_BYTES, parts


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
