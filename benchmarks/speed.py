"""Speed and memory of the generated code, as ratios against baselines measured in the same run.

    python benchmarks/speed.py [NAME ...] [--sizes 100000,10000000] [--dtypes float64,float32] [--repeat 5]

Per activation and dtype: time of the generated forward and derivative, against the naive
`sympy.lambdify` of the definition and the fastest hand-written NumPy/SciPy form we know (stable or
not), and torch.nn.functional on one thread when torch is installed. Also the peak extra memory of the
generated forward (tracemalloc) relative to the input size. Ratios > 1 mean symact is slower.
"""
from __future__ import annotations

import argparse
import importlib
import time
import tracemalloc
import warnings

import numpy as np
import scipy.special as sc
import sympy as sp

from symact.activation import X
from symact.catalog import CATALOG

# the fastest hand-written NumPy form of each activation we know (accuracy not required)
HAND = {
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.01 * x),
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: 1.0507009873554805 * np.where(x > 0, x, 1.6732632423543772 * np.expm1(x)),
    "softplus": lambda x: np.log1p(np.exp(x)),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "mish": lambda x: x * np.tanh(np.log1p(np.exp(x))),
    "gelu": lambda x: 0.5 * x * (1 + sc.erf(x * 0.7071067811865476)),
    "gelu_tanh": lambda x: 0.5 * x * (1 + np.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x))),
    "hardtanh": lambda x: np.clip(x, -1, 1),
    "hardsigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
    "hardswish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "softsign": lambda x: x / (1 + np.abs(x)),
    "log_sigmoid": lambda x: -np.log1p(np.exp(-x)),
    "gaussian": lambda x: np.exp(-x * x),
    "sinusoid": np.sin,
    "tanhshrink": lambda x: x - np.tanh(x),
    "arctan": np.arctan,
    "identity": lambda x: x + 0.0,
}
TORCH = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu", "relu6": "relu6", "leaky_relu": "leaky_relu",
         "elu": "elu", "selu": "selu", "softplus": "softplus", "silu": "silu", "mish": "mish", "gelu": "gelu",
         "hardtanh": "hardtanh", "hardsigmoid": "hardsigmoid", "hardswish": "hardswish", "softsign": "softsign",
         "log_sigmoid": "logsigmoid", "tanhshrink": "tanhshrink", "celu": "celu"}


def best_time(fn, x, repeat: int) -> float:
    fn(x)
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t)
    return min(times)


def peak_extra_memory(fn, x) -> float:
    tracemalloc.start()
    fn(x)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / x.nbytes


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("names", nargs="*")
    ap.add_argument("--sizes", default="100000,10000000")
    ap.add_argument("--dtypes", default="float64,float32")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        torch = None
    names = args.names or sorted(CATALOG)
    rng = np.random.default_rng(0)
    print(f"{'activation':14s} {'dtype':7s} {'n':>9s} {'fwd ns/el':>9s} {'grad ns/el':>10s} "
          f"{'vs naive':>8s} {'vs hand':>8s} {'vs torch':>8s} {'mem/in':>6s}")
    for n in [int(s) for s in args.sizes.split(",")]:
        for dname in args.dtypes.split(","):
            dt = np.dtype(dname)
            x = (rng.standard_normal(n) * 5).astype(dt)
            for name in names:
                mod = importlib.import_module(f"generated.{name}")
                fwd, grad = getattr(mod, name), getattr(mod, f"{name}_grad")
                naive = sp.lambdify(X, CATALOG[name].definition(), modules=["numpy", "scipy"])
                with warnings.catch_warnings(), np.errstate(all="ignore"):
                    warnings.simplefilter("ignore")
                    t_f = best_time(fwd, x, args.repeat)
                    t_g = best_time(grad, x, args.repeat)
                    t_naive = best_time(naive, x, args.repeat)
                    t_hand = best_time(HAND[name], x, args.repeat) if name in HAND else float("nan")
                t_torch = float("nan")
                if torch is not None and name in TORCH:
                    tx = torch.from_numpy(x)
                    f = getattr(torch.nn.functional, TORCH[name])
                    t_torch = best_time(f, tx, args.repeat)
                mem = peak_extra_memory(fwd, x)
                print(f"{name:14s} {dname:7s} {n:9d} {t_f / n * 1e9:9.2f} {t_g / n * 1e9:10.2f} "
                      f"{t_f / t_naive:8.2f} {t_f / t_hand:8.2f} {t_f / t_torch:8.2f} {mem:6.2f}", flush=True)


if __name__ == "__main__":
    main()
