"""The atlas (`symact report`): properties table, plots, derivations and generated code of the catalog.

``build_report(names=None, out="report", pdf=False)`` writes into ``out``:

- ``README.md``: Markdown that renders on GitHub (math in ``$...$`` / ``$$...$$``, PNG plots beside it);
- ``atlas.tex``: the same content as one LaTeX document (report class, graphicx);
- ``<name>.png`` per activation, ``family_<family>.png``, ``vanishing.png``;
- ``atlas.pdf`` when ``pdf=True`` and pdflatex is on PATH.

Per-activation work (analysis, derivation, code, accuracy, plot) runs in two worker processes; the
analysis and the measured accuracy are cached on disk, so a second run is fast. Output is deterministic
(sorted order, PNGs without a timestamp or software tag) and every file is written atomically.
Needs matplotlib (the ``plots`` extra).
"""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

import numpy as np

from .cache import atomic_write_text, digest, load_json, store_json

__all__ = ["build_report", "REPORT_VERSION"]

#: bump when what the report caches changes (the measured accuracy)
REPORT_VERSION = "report.v1"

X_RANGE = (-6.0, 6.0)
N_POINTS = 2401
FIGSIZE = (6.0, 3.5)
DPI = 100
COLOR_F, COLOR_D = "#1f77b4", "#d62728"
COLOR_SAT, COLOR_ACTIVE, COLOR_KINK = "#7f7f7f", "#2ca02c", "#000000"
#: activations drawn in the vanishing-gradient picture when they are in the report
VANISHING_PREFERRED = ("sigmoid", "hardsigmoid", "tanh", "relu", "selu", "gelu", "silu", "mish")


# --- quantities --------------------------------------------------------------------------------------
def _qtex(q, short: bool = True) -> str:
    """A quantity of the analysis ({"exact", "value"}) as LaTeX (no '|': it would break Markdown tables)."""
    import sympy as sp
    from sympy.parsing.sympy_parser import parse_expr

    if q is None:
        return r"\text{--}"
    exact, value = q.get("exact"), q.get("value")
    if exact is not None:
        if exact == "oo":
            return r"\infty"
        if exact == "-oo":
            return r"-\infty"
        if not short or len(exact) <= 20 or value is None:
            try:
                tex = sp.latex(parse_expr(exact, local_dict={"x": sp.Symbol("x"), "y": sp.Symbol("y")}))
                return tex.replace("|", r"\vert ")
            except Exception:  # noqa: BLE001 - fall back on the value
                pass
    if value is not None:
        return rf"\approx {value:.4g}"
    return r"\text{?}"


def _qval(q, default: float) -> float:
    if q is None:
        return default
    if q.get("value") is not None:
        return float(q["value"])
    return {"oo": np.inf, "-oo": -np.inf}.get(q.get("exact"), default)


def _yes(flag) -> str:
    return "?" if flag is None else ("yes" if flag else "no")


def _saturation(s: dict, side: str) -> str:
    kind = s.get("kind") or "?"
    rel = "<" if side == "left" else ">"
    if kind == "hard" and s.get("threshold") is not None:
        return f"hard, $x {rel} {_qtex(s['threshold'])}$"
    if kind == "soft" and s.get("onset") is not None:
        return f"soft, $x {rel} {_qtex(s['onset'])}$"
    return kind


def _row(d: dict, acc: dict | None) -> dict:
    r = d["range"]
    rng = (("[" if r["lower_closed"] else "(") + _qtex(r["lower"]) + ", " + _qtex(r["upper"])
           + ("]" if r["upper_closed"] else ")"))
    c = d["collapse"]
    linear = "affine" if c["affine"] else ("piecewise linear" if c["piecewise_linear"] else
                                           ("?" if c["affine"] is None else "no"))
    n = d["normal_input"]
    cost = d["cost"]
    depth = d["vanishing"]["layers_to_1e-3"]
    return {
        "name": d["name"],
        "range": f"${rng}$",
        "continuity": d["continuity"] or "?",
        "monotonic": d["monotonic"] or "?",
        "sat_left": _saturation(d["saturation"]["left"], "left"),
        "sat_right": _saturation(d["saturation"]["right"], "right"),
        "sup": f"${_qtex(d['max_abs_derivative']['value'])}$",
        "depth": "--" if depth is None else str(depth),
        "zero_centered": _yes(d["zero_centered"]),
        "mean": f"${_qtex(n['mean'])}$",
        "gain": f"${_qtex(n['gain'])}$",
        "sparsity": f"${_qtex(n['sparsity'])}$",
        "linear": linear,
        "cost": "?" if cost["operations"] is None else f"{cost['operations']} ({cost['transcendental']})",
        "ulp": "?" if acc is None else f"{_ulp_text(acc['forward'])} / {_ulp_text(acc['grad'])}",
    }


def _ulp_text(u) -> str:
    return "?" if u is None else ("inf" if u == "inf" else str(int(u)))


COLUMNS = [("name", "activation"), ("range", "range"), ("continuity", "continuity"), ("monotonic", "monotonic"),
           ("sat_left", "saturation left"), ("sat_right", "saturation right"), ("sup", r"$\sup\lvert f'\rvert$"),
           ("depth", "layers to $10^{-3}$"), ("zero_centered", "zero-centred"), ("mean", r"$E f(X)$"),
           ("gain", "gain"), ("sparsity", "sparsity"), ("linear", "affine / PL"), ("cost", "cost (transc.)"),
           ("ulp", "max ULP $f$ / $f'$ (float64)")]


# --- generated code -----------------------------------------------------------------------------------
def _namespace(source: str, name: str) -> dict:
    ns: dict = {"__name__": f"symact_report_{name}"}
    exec(compile(source, f"<generated {name}>", "exec"), ns)  # noqa: S102 - our own rendered module
    return ns


def _main_functions(source: str, name: str) -> str:
    """The forward and derivative functions of a generated module, as source text."""
    tree = ast.parse(source)
    parts = [ast.get_source_segment(source, node) for node in tree.body
             if isinstance(node, ast.FunctionDef) and node.name in (name, f"{name}_grad")]
    return "\n\n\n".join(p for p in parts if p) or source


# --- accuracy -----------------------------------------------------------------------------------------
def _accuracy(act, ns: dict, source: str) -> dict | None:
    """Max ULP of the generated forward and derivative in float64 on the battery (cached on disk)."""
    from .battery import battery, reference_for
    from .reference import ulp_distance

    key = digest(REPORT_VERSION, "accuracy", act.definition_hash, digest(source))
    hit = load_json("report", key)
    if isinstance(hit, dict) and "forward" in hit and "grad" in hit:
        return hit
    dt = np.dtype(np.float64)
    ref_act = act.with_params(**{p.name: float(p.default) for p in act.params}) if act.params else act
    out: dict = {}
    try:
        xs = battery(act, dt)
        tiny = float(np.finfo(dt).smallest_normal)
        for which, fn in (("forward", ns[act.name]), ("grad", ns[f"{act.name}_grad"])):
            ref = reference_for(ref_act, which, xs, dt, allow_uncertified=True)
            with np.errstate(all="ignore"):
                got = fn(xs)
            ref = np.where(np.isnan(ref) & np.isfinite(xs), got, ref)
            u = ulp_distance(got, ref, dt)
            with np.errstate(invalid="ignore"):
                sub = (np.abs(ref) < tiny) & (np.abs(got - ref) <= 2 * tiny)
            worst = float(np.max(np.where(sub, 0.0, u))) if u.size else 0.0
            out[which] = "inf" if not np.isfinite(worst) else int(worst)
    except Exception:  # noqa: BLE001 - a column of the table, not worth failing the atlas for
        return None
    store_json("report", key, out)
    return out


def _publish(path: Path) -> None:
    """Make a written file world-readable (temporary files are created private)."""
    mask = os.umask(0)
    os.umask(mask)
    os.chmod(path, 0o666 & ~mask)


def _write_text(path: Path, text: str) -> None:
    atomic_write_text(path, text)
    _publish(path)


# --- plots ----------------------------------------------------------------------------------------------
def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams.update({"svg.hashsalt": "symact", "font.size": 9, "axes.titlesize": 10, "legend.fontsize": 8})
    return plt


def _save(fig, path: Path) -> None:
    """Save a PNG atomically with stable bytes (no software tag or timestamp)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})
        _publish(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _segments(xs: np.ndarray, kinks: list[float]) -> list[np.ndarray]:
    """Index arrays of xs split at the kinks (so a jump is not drawn as a steep line)."""
    cuts = [k for k in kinks if xs[0] < k < xs[-1]]
    edges = [0] + [int(np.searchsorted(xs, k)) for k in cuts] + [xs.size]
    segs = [np.arange(a, b) for a, b in zip(edges, edges[1:]) if b > a]
    segs = [idx[~np.isin(xs[idx], cuts)] for idx in segs]  # the value at a kink is its own dot
    return [idx for idx in segs if idx.size]


def _plot_activation(name: str, d: dict, ns: dict, path: Path) -> None:
    plt = _plt()
    lo, hi = X_RANGE
    xs = np.linspace(lo, hi, N_POINTS)
    kinks = _kinks(d)
    with np.errstate(all="ignore"):
        f, g = np.asarray(ns[name](xs), dtype=float), np.asarray(ns[f"{name}_grad"](xs), dtype=float)
    fig, ax = plt.subplots(figsize=FIGSIZE)
    try:
        labelled = set()

        def span(a, b, color, alpha, label, hatch=None):
            a, b = max(a, lo), min(b, hi)
            if b > a:
                ax.axvspan(a, b, color=color, alpha=alpha, lw=0, hatch=hatch,
                           label=None if label in labelled else label)
                labelled.add(label)

        for side in ("left", "right"):
            s = d["saturation"][side]
            edge = s.get("threshold") if s.get("kind") == "hard" else s.get("onset") if s.get("kind") == "soft" else None
            if edge is None:
                continue
            t = _qval(edge, np.nan)
            if not np.isfinite(t):
                continue
            alpha = 0.25 if s["kind"] == "hard" else 0.12
            label = f"{s['kind']} saturation"
            span(lo, t, COLOR_SAT, alpha, label) if side == "left" else span(t, hi, COLOR_SAT, alpha, label)
        a = d["active_region"]
        if a is not None:
            span(_qval(a["lower"], -np.inf), _qval(a["upper"], np.inf), COLOR_ACTIVE, 0.10,
                 r"active region ($|f'| \geq \frac{1}{2}\sup|f'|$)")
        for arr, color, label in ((f, COLOR_F, "$f(x)$"), (g, COLOR_D, "$f'(x)$")):
            for i, idx in enumerate(_segments(xs, kinks)):
                ax.plot(xs[idx], arr[idx], color=color, lw=1.6, label=label if i == 0 else None)
        if kinks:
            kx = np.array(kinks)
            with np.errstate(all="ignore"):
                ky = np.asarray(ns[name](kx), dtype=float)
            ax.plot(kx, ky, "o", color=COLOR_KINK, ms=4, zorder=5, label="kink")
        ax.axhline(0, color="#000000", lw=0.5)
        ax.axvline(0, color="#000000", lw=0.5)
        ax.set_xlim(lo, hi)
        finite = np.concatenate([f[np.isfinite(f)], g[np.isfinite(g)]])
        if finite.size:
            ymin, ymax = float(finite.min()), float(finite.max())
            pad = 0.08 * max(ymax - ymin, 1.0)
            ax.set_ylim(ymin - pad, ymax + pad)
        ax.set_xlabel("$x$")
        ax.set_ylabel("value")
        ax.set_title(name)
        ax.grid(True, lw=0.3, alpha=0.5)
        ax.legend(loc="best", framealpha=0.85)
        fig.tight_layout()
        _save(fig, path)
    finally:
        plt.close(fig)


def _kinks(d: dict) -> list[float]:
    lo, hi = X_RANGE
    return sorted(v for v in (_qval(k, np.nan) for k in d["kinks"]) if np.isfinite(v) and lo <= v <= hi)


def _plot_family(family: str, members: list[tuple[str, dict, dict]], path: Path) -> None:
    plt = _plt()
    lo, hi = X_RANGE
    xs = np.linspace(lo, hi, N_POINTS)
    fig, ax = plt.subplots(figsize=FIGSIZE)
    try:
        cmap = plt.get_cmap("tab20" if len(members) > 10 else "tab10")
        for i, (name, ns, d) in enumerate(members):
            with np.errstate(all="ignore"):
                f = np.asarray(ns[name](xs), dtype=float)
            for j, idx in enumerate(_segments(xs, _kinks(d))):
                ax.plot(xs[idx], f[idx], color=cmap(i % cmap.N), lw=1.4, label=name if j == 0 else None)
        ax.axhline(0, color="#000000", lw=0.5)
        ax.axvline(0, color="#000000", lw=0.5)
        ax.set_xlim(lo, hi)
        ax.set_xlabel("$x$")
        ax.set_ylabel("$f(x)$")
        ax.set_title(f"family: {family}")
        ax.grid(True, lw=0.3, alpha=0.5)
        ax.legend(loc="upper left", ncol=2 if len(members) > 6 else 1, framealpha=0.85)
        fig.tight_layout()
        _save(fig, path)
    finally:
        plt.close(fig)


def _plot_vanishing(factors: list[tuple[str, float]], path: Path) -> None:
    plt = _plt()
    n = np.arange(1, 21)
    fig, ax = plt.subplots(figsize=FIGSIZE)
    try:
        cmap = plt.get_cmap("tab20" if len(factors) > 10 else "tab10")
        for i, (name, s) in enumerate(factors):
            ax.plot(n, s ** n.astype(float), "o-", ms=3, lw=1.2, color=cmap(i % cmap.N),
                    label=rf"{name} ($\sup|f'| = {s:.4g}$)")
        ax.axhline(1e-3, color="#000000", ls="--", lw=1, label="$10^{-3}$")
        ax.set_yscale("log")
        ax.set_xlim(1, 20)
        ax.set_xticks([1, 5, 10, 15, 20])
        ax.set_xlabel("depth $n$ (layers)")
        ax.set_ylabel(r"$(\sup|f'|)^n$")
        ax.set_title("bound on the gradient through $n$ layers")
        ax.grid(True, which="both", lw=0.3, alpha=0.5)
        ax.legend(loc="lower left", fontsize=7, ncol=2, framealpha=0.85)
        fig.tight_layout()
        _save(fig, path)
    finally:
        plt.close(fig)


# --- per activation (runs in a worker process) -------------------------------------------------------------
def _activation_job(item, out: str) -> dict:
    from .analysis import analyze
    from .catalog import get
    from .codegen.render import render_module
    from .derivation import derive

    act = get(item) if isinstance(item, str) else item  # a catalog name, or an Activation (--expr, --defs)
    name = act.name
    d = analyze(act).to_json()
    source = render_module(act)
    ns = _namespace(source, name)
    acc = _accuracy(act, ns, source)
    der = derive(act)
    png = f"{name}.png"
    _plot_activation(name, d, ns, Path(out) / png)
    return {
        "name": name,
        "family": act.family,
        "description": act.description,
        "analysis": d,
        "accuracy": acc,
        "row": _row(d, acc),
        "png": png,
        "derivation_md": der.markdown(level=2),
        "derivation_tex": der.latex_body(fit=True, sectioning="section"),
        "code": _main_functions(source, name),
        "source": source,
    }


class _Progress:
    """A minimal progress bar on stderr."""

    def __init__(self, total: int, stream=None):
        self.total, self.done, self.stream = total, 0, stream or sys.stderr

    def step(self, label: str) -> None:
        self.done += 1
        width = 30
        fill = int(width * self.done / max(self.total, 1))
        end = "\n" if self.done >= self.total else ""
        self.stream.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {self.done}/{self.total} {label:<24}{end}")
        self.stream.flush()


# --- documents -----------------------------------------------------------------------------------------------
def _env(latex: bool):
    import jinja2

    from .codegen.render import templates_dir

    kw = {}
    if latex:
        kw = dict(block_start_string="((*", block_end_string="*))", variable_start_string="(((",
                  variable_end_string=")))", comment_start_string="((#", comment_end_string="#))")
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True, autoescape=False, **kw)


def _tex_escape(s: str) -> str:
    s = s.replace("\\", "\x00")
    for a, b in (("_", r"\_"), ("&", r"\&"), ("%", r"\%"), ("#", r"\#"), ("$", r"\$"), ("{", r"\{"), ("}", r"\}"),
                 ("~", r"\textasciitilde{}"), ("^", r"\textasciicircum{}")):
        s = s.replace(a, b)
    return s.replace("\x00", r"\textbackslash{}")


def _tex_cell(s: str) -> str:
    """A table cell of the Markdown table as LaTeX: math kept, text escaped."""
    parts = s.split("$")
    return "".join(("$" + p + "$") if i % 2 else _tex_escape(p) for i, p in enumerate(parts))


def _collapse():
    """(formula text, latex align block, comments) of collapse_network([2, 3, 1]); None when unavailable."""
    from .collapse import collapse_network
    from .timebox import attempt

    res = attempt(lambda: collapse_network([2, 3, 1]), 30)
    if res is None:
        return None
    tex = res.latex()
    if not isinstance(tex, str) or r"\begin{align*}" not in tex:
        return None
    body = tex.replace(r"\begin{align*}", "").split(r"\end{align*}")[0].strip()
    rows = [r.replace(" && ", r" \quad ") for r in body.split(" \\\\\n")]
    comments = [ln[2:] for ln in tex.splitlines() if ln.startswith("% ")]
    return {"formula": res.formula, "rows": rows, "comments": comments}


def _families(results: list[dict]) -> list[dict]:
    fams: dict[str, list[str]] = {}
    for r in results:
        fams.setdefault(r["family"], []).append(r["name"])
    return [{"family": f, "members": sorted(m), "png": f"family_{f}.png"} for f, m in sorted(fams.items())]


def _vanishing_factors(results: list[dict]) -> list[tuple[str, float]]:
    by_name = {r["name"]: r for r in results}
    chosen = [n for n in VANISHING_PREFERRED if n in by_name] or sorted(by_name)
    out = []
    for n in chosen:
        v = _qval(by_name[n]["analysis"]["vanishing"]["factor"], np.nan)
        if np.isfinite(v) and v > 0:
            out.append((n, float(v)))
    return out


def _pdflatex(tex: Path) -> Path | None:
    exe = shutil.which("pdflatex")
    if exe is None:
        return None
    with tempfile.TemporaryDirectory(prefix=".atlas-pdf-", dir=tex.parent) as tmp:
        for _ in range(2):  # twice: table of contents
            proc = subprocess.run([exe, "-interaction=nonstopmode", "-halt-on-error", f"-output-directory={tmp}",
                                   tex.name], cwd=tex.parent, capture_output=True, text=True, timeout=600)
            if proc.returncode != 0:
                tail = "\n".join(proc.stdout.splitlines()[-15:])
                raise RuntimeError(f"pdflatex failed on {tex}:\n{tail}")
        target = tex.with_suffix(".pdf")
        os.replace(Path(tmp) / "atlas.pdf", target)
    return target


def _timings(ns: dict, name: str, n: int = 100_000, repeat: int = 5) -> str:
    """Best-of-`repeat` nanoseconds per element of the generated forward and derivative (float64, n elements)."""
    import time

    import numpy as np

    x = np.random.default_rng(0).standard_normal(n) * 5
    out = []
    for fn in (ns[name], ns[f"{name}_grad"]):
        fn(x)
        best = float("inf")
        for _ in range(repeat):
            t = time.perf_counter()
            fn(x)
            best = min(best, time.perf_counter() - t)
        out.append(f"{best / n * 1e9:.2g}")
    return " / ".join(out)


def build_report(names=None, out="report", pdf: bool = False, progress: bool = True,
                 timings: bool = False) -> list[Path]:
    """Write the atlas of the named catalog activations (default: all) into `out`; the paths written, sorted.

    `names` may also hold Activation objects (user-defined ones). Raises
    symact.catalog.UnknownActivationError for a name not in the catalog.
    """
    from .catalog import CATALOG, get

    items = {}
    for n in names or sorted(CATALOG):
        act = get(n) if isinstance(n, str) else n
        items[act.name] = n if isinstance(n, str) else act
    selected = sorted(items)
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out} exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    bar = _Progress(len(selected) + 3, stream=sys.stderr if progress else open(os.devnull, "w"))  # noqa: SIM115
    results: dict[str, dict] = {}
    workers = min(2, len(selected))
    if workers <= 1:
        for n in selected:
            results[n] = _activation_job(items[n], str(out))
            bar.step(n)
    else:
        import multiprocessing

        # fork where there is one (no re-import of the caller's __main__, cheap start); spawn elsewhere
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context(method)) as pool:
            futures = {pool.submit(_activation_job, items[n], str(out)): n for n in selected}
            for fut in as_completed(futures):
                results[futures[fut]] = fut.result()
                bar.step(futures[fut])
    ordered = [results[n] for n in selected]
    written = [out / r["png"] for r in ordered]

    namespaces = {r["name"]: _namespace(r["source"], r["name"]) for r in ordered}
    columns = list(COLUMNS)
    if timings:  # measured here, one activation at a time, so the two workers do not disturb each other
        columns.append(("speed", "ns/element $f$ / $f'$ (float64)"))
        for r in ordered:
            r["row"]["speed"] = _timings(namespaces[r["name"]], r["name"])
    families = _families(ordered)
    for fam in families:
        _plot_family(fam["family"], [(m, namespaces[m], results[m]["analysis"]) for m in fam["members"]], out / fam["png"])
        written.append(out / fam["png"])
    bar.step("families")
    factors = _vanishing_factors(ordered)
    if factors:
        _plot_vanishing(factors, out / "vanishing.png")
        written.append(out / "vanishing.png")
    collapse = _collapse()
    bar.step("collapse")

    context = {
        "acts": ordered, "columns": columns, "families": families, "factors": factors,
        "vanishing_png": "vanishing.png" if factors else None, "collapse": collapse,
        "depths": {r["name"]: r["analysis"]["vanishing"]["layers_to_1e-3"] for r in ordered},
    }
    md = _env(False).get_template("report.md.j2").render(**context)
    _write_text(out / "README.md", md)
    written.append(out / "README.md")
    tex_context = dict(context, tex_escape=_tex_escape, tex_cell=_tex_cell)
    tex = _env(True).get_template("report.tex.j2").render(**tex_context)
    _write_text(out / "atlas.tex", tex)
    written.append(out / "atlas.tex")
    if pdf:
        made = _pdflatex(out / "atlas.tex")
        if made is not None:
            written.append(made)
    bar.step("documents")
    return sorted(written)
