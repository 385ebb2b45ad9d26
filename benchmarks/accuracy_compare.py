"""Accuracy of symact's generated code against PyTorch and SciPy/NumPy forms, in ULPs.

    python benchmarks/accuracy_compare.py [NAME ...]

For every catalog activation (or the NAMEs given), runs symact.verify.verify (the full battery: specials,
subnormals, log-spaced magnitudes, grids, kinks, exp overflow points; certified references) on the
generated module, on torch.nn.functional (when torch is installed, with torch's autograd for the
derivative) and on the SciPy/NumPy form below, and prints the largest forward and derivative
errors in float64 and float32 as a Markdown table, then the activations whose generated code misses
the goal (forward within 4 ULP, derivative within 8 ULP), then (without NAMEs) a table at parameters
away from the defaults (PARAMS). JAX is not compared (not installed here).
"""
from __future__ import annotations

import argparse
import importlib

import numpy as np
import scipy.special as sc

from symact.catalog import CATALOG
from symact.verify import verify

SCIPY = {
    "sigmoid": sc.expit,
    "log_sigmoid": lambda x: sc.log_expit(x),
    "softplus": lambda x: np.logaddexp(0, x),
    "tanh": np.tanh,
    "gelu": lambda x: x * sc.ndtr(x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(np.minimum(x, 0))),
    "silu": lambda x: x * sc.expit(x),
    "arctan": np.arctan,
    "sinusoid": np.sin,
}
TORCH = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu", "elu": "elu", "selu": "selu", "celu": "celu",
         "softplus": "softplus", "silu": "silu", "mish": "mish", "gelu": "gelu", "hardtanh": "hardtanh",
         "hardsigmoid": "hardsigmoid", "hardswish": "hardswish", "softsign": "softsign",
         "log_sigmoid": "logsigmoid", "tanhshrink": "tanhshrink", "leaky_relu": "leaky_relu", "relu6": "relu6"}


#: activations at parameters away from their defaults, compared with torch where it takes the same parameter
PARAMS = [("softplus", {"beta": 3.0}), ("softplus", {"beta": 0.3}), ("elu", {"alpha": 0.3}), ("celu", {"alpha": 0.3}),
          ("celu", {"alpha": 3.0}), ("leaky_relu", {"negative_slope": 0.3}), ("softshrink", {"lambd": 0.3}),
          ("swish", {"beta": 0.3}), ("swish", {"beta": 3.0}), ("siren_sine", {"omega_0": 0.3}), ("snake", {"a": 3.0}),
          ("isru", {"alpha": 0.01}), ("squareplus", {"b": 0.3})]


def worst(report, what: str, dtype: str):
    v = report.max_ulps.get(f"{what} {dtype}")
    return "-" if v is None else (f"{v:.3g}" if v != float("inf") else "inf")


def pairs(report) -> list[str]:
    """The "forward / derivative" cells for float64 and float32."""
    return [f"{worst(report, 'forward', dt)} / {worst(report, 'derivative', dt)}" for dt in ("float64", "float32")]


def ours(name: str, params: dict | None = None):
    mod = importlib.import_module(f"generated.{name}")
    return verify(getattr(mod, name), name, grad=getattr(mod, f"{name}_grad"), params=params)


def torch_cells(torch, name: str, params: dict | None = None) -> list[str]:
    """torch.nn.functional's cells (its autograd for the derivative), "-" where there is none."""
    if torch is None or name not in TORCH:
        return ["-", "-"]
    from symact.verify import autograd_of

    fn = getattr(torch.nn.functional, TORCH[name], None) or getattr(torch, TORCH[name])
    return pairs(verify(fn, name, grad=autograd_of(fn), params=params))


def main() -> None:
    try:
        import torch
    except ImportError:
        torch = None
    ap = argparse.ArgumentParser(description="Accuracy of the generated code against torch and SciPy/NumPy, in ULPs.")
    ap.add_argument("names", nargs="*", help="catalog activations (default: all, then the PARAMS table)")
    args = ap.parse_args()
    unknown = [n for n in args.names if n not in CATALOG]
    if unknown:
        ap.exit(2, f"accuracy_compare.py: unknown activation(s): {', '.join(unknown)}\n")
    names = args.names or sorted(CATALOG)
    missed = []
    print("| activation | symact f64 f / f' | symact f32 f / f' | torch f64 f / f' | torch f32 f / f' | scipy/numpy f64 f | scipy/numpy f32 f |")
    print("|---|---|---|---|---|---|---|")
    for name in names:
        rep = ours(name)
        for dt in ("float64", "float32"):
            f, g = rep.max_ulps.get(f"forward {dt}"), rep.max_ulps.get(f"derivative {dt}")
            if (f is not None and f > 4) or (g is not None and g > 8):
                missed.append(f"{name} {dt}: forward {f:g}, derivative {g:g} ULP")
        row = [name, *pairs(rep), *torch_cells(torch, name)]
        if name in SCIPY:
            rep = verify(SCIPY[name], name)
            row += [worst(rep, "forward", "float64"), worst(rep, "forward", "float32")]
        else:
            row += ["-", "-"]
        print("| " + " | ".join(row) + " |", flush=True)
    print()
    print(f"goal (forward <= 4 ULP, derivative <= 8 ULP, float64 and float32): {len(names) - len({m.split()[0] for m in missed})}"
          f"/{len(names)} activations meet it" + "".join(f"\n  not met: {m}" for m in missed))
    if args.names:
        return
    print()
    print("Away from the default parameters (the same battery; torch where it takes the parameter):")
    print()
    print("| activation | parameters | symact f64 f / f' | symact f32 f / f' | torch f64 f / f' | torch f32 f / f' |")
    print("|---|---|---|---|---|---|")
    for name, params in PARAMS:
        row = [name, ", ".join(f"{k}={v:g}" for k, v in params.items()), *pairs(ours(name, params)),
               *torch_cells(torch, name, params)]
        print("| " + " | ".join(row) + " |", flush=True)


if __name__ == "__main__":
    main()
