"""`symact show NAME [-p k=v ...] [--json]`: the properties of an activation (symact.analysis)."""
from __future__ import annotations

import json

from .cli import EXIT_OK, add_activation_arguments, resolve_activation

__all__ = ["add_parser", "run", "format_table"]


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("show", help="properties: limits, range, saturation, smoothness, gain, ...")
    add_activation_arguments(p)
    p.add_argument("--json", action="store_true", help="machine-readable output (DESIGN.md, `show --json`)")
    p.set_defaults(func=run)


def run(args) -> int:
    from .analysis import analyze

    act = resolve_activation(args)
    data = analyze(act).to_json()
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(format_table(data))
    return EXIT_OK


def _q(q) -> str:
    if q is None:
        return "-"
    if q.get("exact") is not None:
        text = q["exact"]
        if q.get("value") is not None and text not in ("0", "1", "-1") and not text.lstrip("-").isdigit():
            text += f" = {q['value']:.6g}"
        return text
    return f"{q['value']:.6g} (numeric)" if q.get("value") is not None else "-"


def _yes(flag) -> str:
    return "unknown" if flag is None else ("yes" if flag else "no")


def _interval(lo, hi, lc: bool, hc: bool) -> str:
    return f"{'[' if lc else '('}{_q(lo)}, {_q(hi)}{']' if hc else ')'}"


def format_table(d: dict) -> str:
    prov = d["provenance"]
    rows: list[tuple[str, str, str]] = []

    def add(label, text, field):
        rows.append((label, text, prov.get(field, "")))

    params = ", ".join(f"{k}={v}" for k, v in d["params"].items())
    add("formula", d["formula"], "formula")
    add("derivative", d["derivative"], "derivative")
    if d["derivative_from_output"] is not None:
        add("derivative from output", d["derivative_from_output"], "derivative_from_output")
    add("f(0)", _q(d["f0"]), "f0")
    add("limits -oo / +oo", f"{_q(d['limits']['-oo'])} / {_q(d['limits']['+oo'])}", "limits")
    add("f' limits -oo / +oo", f"{_q(d['derivative_limits']['-oo'])} / {_q(d['derivative_limits']['+oo'])}",
        "derivative_limits")
    r = d["range"]
    add("range", _interval(r["lower"], r["upper"], r["lower_closed"], r["upper_closed"]), "range")
    m = d["max_abs_derivative"]
    add("sup |f'|", _q(m["value"]) + (f" at x = {_q(m['at'])}" if m["at"] is not None else ""), "max_abs_derivative")
    add("continuity", d["continuity"] or "unknown", "continuity")
    add("kinks", ", ".join(_q(k) for k in d["kinks"]) or "none", "kinks")
    add("monotonic", d["monotonic"] or "unknown", "monotonic")
    add("symmetry", d["symmetry"] or "unknown", "symmetry")
    add("zero-centered", _yes(d["zero_centered"]), "zero_centered")
    add("identity near 0", _yes(d["identity_near_origin"]), "identity_near_origin")
    for side in ("left", "right"):
        s = d["saturation"][side]
        text = s["kind"] or "unknown"
        if s["kind"] not in ("none", None):
            text += f", limit {_q(s['limit'])}"
        if s["threshold"] is not None:
            text += f", f' = 0 beyond {_q(s['threshold'])}"
        if s["onset"] is not None:
            text += f", onset {_q(s['onset'])}"
        add(f"saturation {side}", text, "saturation")
    a = d["active_region"]
    add("active region", "-" if a is None else f"[{_q(a['lower'])}, {_q(a['upper'])}]", "active_region")
    v = d["vanishing"]
    add("vanishing", f"factor {_q(v['factor'])}, layers to 1e-3: {v['layers_to_1e-3'] or '-'}", "vanishing")
    c = d["collapse"]
    flags = [k.replace("_", " ") for k in ("affine", "piecewise_linear", "positively_homogeneous") if c[k]]
    unknown = c["affine"] is None
    add("collapse", "unknown" if unknown else (", ".join(flags) or "none"), "collapse")
    for dp in c["degenerate_params"]:
        ps = ", ".join(f"{k}{' -> ' if dp.get('limit') else '='}{_q(q)}" for k, q in dp["params"].items())
        add("  degenerate at", f"{ps}: f = {dp['result']}", "collapse")
    add("  linear regime radius", _q(c["linear_regime_radius"]), "collapse")
    n = d["normal_input"]
    add("N(0,1) input", f"mean {_q(n['mean'])}, second moment {_q(n['second_moment'])}", "normal_input")
    add("", f"variance {_q(n['variance'])}, gain {_q(n['gain'])}, sparsity {_q(n['sparsity'])}", "normal_input")
    cost = d["cost"]
    add("cost", "unknown" if cost["operations"] is None else
        f"{cost['operations']} operations, {cost['transcendental']} transcendental", "cost")
    width = max(len(r[0]) for r in rows)
    head = f"{d['name']}" + (f"  ({params})" if params else "")
    lines = [head, "-" * len(head)]
    lines += [f"{label:<{width}}  {text}" + (f"   [{p}]" if p and p != "symbolic" else "") for label, text, p in rows]
    lines.append("(bracketed: provenance other than symbolic)")
    return "\n".join(lines)
