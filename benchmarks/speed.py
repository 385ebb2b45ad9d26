"""Speed and memory of the generated code, as ratios against baselines measured in the same run.

    python benchmarks/speed.py [NAME ...] [--sizes 100000,10000000] [--dtypes float64,float32] [--repeat 5]
                               [--markdown]
    python benchmarks/speed.py [NAME ...] --check-hand

Per activation, dtype and size (default 10^5 elements, in cache, and 10^7, memory-bound; float64 and
float32; x = 5 * standard normal) the best time over at least `repeat` rounds and 0.3 s (after one
warm-up call; interleaved: one call of every contender per round, so that a slow moment of this shared
machine falls on all alike, in an order rotating each round, x read just before each call; see
benchmarks/timing.py)
of the generated forward `<name>(x)`, derivative `<name>_grad(x)` and fused
`<name>_forward_and_grad(x)`, in ns per element, and as ratios (> 1 means symact is slower) against,
in the same run:

  fwd/naive     the naive `sympy.lambdify` (numpy + scipy) of the definition;
  fwd/hand      HAND: the fastest straightforward hand-written NumPy/SciPy forward we know, stable or
                not (sigmoid: 1/(1+np.exp(-x))), with the catalog's parameter defaults;
  grad/hgrad    HAND_GRAD: the same for the derivative;
  fused/(h+hg)  the fused function against hand forward + hand derivative (sum of their times);
  fwd/torch     torch.nn.functional on one thread (TORCH), when torch is installed;
  fused/torch   torch forward + backward through autograd on one thread, timed as a whole
                (copy of x to a leaf tensor, forward, backward with ones).

A baseline that does not exist gives `nan`. mem fwd / mem fused: peak memory allocated during one call
(tracemalloc, which sees NumPy's buffers; the outputs count) divided by x.nbytes.

At the end a summary of the goals: every generated forward at most 1.5x the hand form at every
measured size and dtype, at most 1.0x torch (one thread) at 10^7, and peak extra memory of the
forward at most 2x the input; for each, how many activations meet it and which do not (worst ratio).

Allocator (--malloc): each activation is measured in a fresh process, twice: with glibc's malloc
defaults (what a user gets), and with malloc told to keep freed memory (MALLOC_MMAP_THRESHOLD_,
MALLOC_TRIM_THRESHOLD_, MALLOC_TOP_PAD_; TUNED_MALLOC). With the defaults an array beyond 128 KiB may
come from fresh pages on every call, and their page faults can dominate a form's time, depending on
the process's allocation history (hence one process per activation: the same history every run).
Kept memory measures every form, torch's included, without those page faults: the stricter
comparison for code that allocates little.

--markdown prints the table (and summary) as Markdown, for benchmarks/RESULTS.md. --check-hand checks
every HAND / HAND_GRAD form (and the TORCH mapping, forward and autograd derivative) against the
generated functions on np.linspace(-5, 5, 1001) (rtol 1e-6, NaN positions ignored), and that the hand
forms keep float32; exit status 1 on a mismatch.
"""
from __future__ import annotations

import argparse
import importlib
import json
import math
import os
import subprocess
import sys
import tracemalloc
import warnings

import numpy as np
import scipy.special as sc
import sympy as sp

from symact.activation import X
from symact.catalog import CATALOG
from timing import best_times  # benchmarks/timing.py, beside this script


def _p(name: str, param: str, fallback: float) -> float:
    """The catalog default of a parameter (fallback when the catalog has no such parameter)."""
    act = CATALOG.get(name)
    for p in getattr(act, "params", ()):
        if p.name == param:
            return float(p.default)
    return fallback


# Parameter defaults, read from the catalog (the generated functions are called with their defaults).
# Parameters whose default is 1 (alpha of celu, elu, isru, isrlu; beta of softplus, swish; a of snake)
# are not multiplied in: the hand forms below are written at that default (a factor 1.0 would cost a
# pass); --check-hand fails if the catalog default changes.
_HARDSHRINK = _p("hardshrink", "lambd", 0.5)
_HT_LO, _HT_HI = _p("hardtanh", "min_val", -1.0), _p("hardtanh", "max_val", 1.0)
_LEAKY = _p("leaky_relu", "negative_slope", 0.01)
_PRELU = _p("prelu", "weight", 0.25)
_RRELU_LO, _RRELU_HI = _p("rrelu", "lower", 1 / 8), _p("rrelu", "upper", 1 / 3)
_RRELU = (_RRELU_LO + _RRELU_HI) / 2  # rrelu outside training: leaky with the mean slope
_OMEGA = _p("siren_sine", "omega_0", 30.0)
_SOFTSHRINK = _p("softshrink", "lambd", 0.5)
_SQUAREPLUS_B = _p("squareplus", "b", 4.0)
_THR, _THR_VALUE = _p("threshold", "threshold", 0.1), _p("threshold", "value", 20.0)
_SELU_SCALE = 1.0507009873554805
_SELU_SA = 1.0507009873554805 * 1.6732632423543772  # scale * alpha
_GELU_C = 0.7978845608028654  # sqrt(2/pi)
_GELU_K = 0.044715
_INV_SQRT_2PI = 0.3989422804014327


def _mish(x):
    # tanh(log1p(e)) = n / (n + 2) with n = e (e + 2), e = exp(x): one exp instead of exp, log1p, tanh
    e = np.exp(x)
    n = e * (e + 2)
    return x * n / (n + 2)


def _mish_grad(x):
    # d/dx x n/w = n/w + x 4 e (1 + e) / w^2, w = n + 2 (sech^2(softplus) sigmoid = 4 e (1 + e) / w^2)
    e = np.exp(x)
    n = e * (e + 2)
    w = n + 2
    return n / w + 4 * x * e * (1 + e) / (w * w)


def _sigmoid_grad(x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 - s)


def _silu_grad(x):
    s = 1 / (1 + np.exp(-x))
    return s * (1 + x * (1 - s))


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(x * (_GELU_C + (_GELU_C * _GELU_K) * (x * x))))


def _gelu_tanh_grad(x):
    x2 = x * x
    t = np.tanh(x * (_GELU_C + (_GELU_C * _GELU_K) * x2))
    return 0.5 + 0.5 * t + (0.5 * x) * (1 - t * t) * (_GELU_C + (3 * _GELU_C * _GELU_K) * x2)


def _tanh_grad(x):
    t = np.tanh(x)
    return 1 - t * t


def _tanhshrink_grad(x):
    t = np.tanh(x)
    return t * t


def _isru_grad(x):
    q = x * x + 1
    return 1 / (q * np.sqrt(q))


def _isrlu(x):
    m = np.minimum(x, 0)
    return x / np.sqrt(m * m + 1)


def _isrlu_grad(x):
    m = np.minimum(x, 0)
    q = m * m + 1
    return 1 / (q * np.sqrt(q))


def _selu_grad(x):
    e = _SELU_SA * np.exp(np.minimum(x, 0))
    return e + (x > 0) * (_SELU_SCALE - e)


def _softsign_grad(x):
    a = 1 + np.abs(x)
    return 1 / (a * a)


def _sparse_plus(x):
    return np.square(np.clip(x * 0.5 + 0.5, 0, 1)) + np.maximum(x - 1, 0)


def _sqnl(x):
    c = np.clip(x, -2, 2)
    return c - c * np.abs(c) * 0.25


def _typed(x, v):
    """v as a scalar of x's dtype (a bool mask times it keeps float32)."""
    return x.dtype.type(v)


# The fastest straightforward hand-written NumPy/SciPy form of each activation we know, stable or not
# (accuracy not required), with the catalog's parameter defaults. np.where is avoided where a mask
# product or clip/minimum/maximum is faster (np.where costs ~3.5 ns/element here). Checked against the
# generated forward by --check-hand.
HAND = {
    "arctan": np.arctan,
    "bent_identity": lambda x: x + (np.sqrt(x * x + 1) - 1) * 0.5,
    "binary_step": lambda x: (x >= 0).astype(x.dtype),
    "celu": lambda x: np.expm1(np.minimum(x, 0)) + np.maximum(x, 0),
    "elu": lambda x: np.expm1(np.minimum(x, 0)) + np.maximum(x, 0),
    "gaussian": lambda x: np.exp(-x * x),
    "gelu": lambda x: x * sc.ndtr(x),  # x Phi(x) = 0.5 x (1 + erf(x / sqrt 2)), one special function
    "gelu_tanh": _gelu_tanh,
    "hardshrink": lambda x: x * (np.abs(x) > _HARDSHRINK),
    "hardsigmoid": lambda x: np.clip(x * (1 / 6) + 0.5, 0, 1),
    "hardswish": lambda x: x * np.clip(x * (1 / 6) + 0.5, 0, 1),
    "hardtanh": lambda x: np.clip(x, _HT_LO, _HT_HI),
    "identity": lambda x: x,  # the generated identity returns its input too
    "isrlu": _isrlu,
    "isru": lambda x: x / np.sqrt(x * x + 1),
    "leaky_relu": lambda x: np.maximum(x, _LEAKY * x),  # slope < 1
    "log_sigmoid": lambda x: -np.log1p(np.exp(-x)),
    "mish": _mish,
    "prelu": lambda x: np.maximum(x, _PRELU * x),  # weight < 1
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "rrelu": lambda x: np.maximum(x, _RRELU * x),  # mean slope < 1
    "selu": lambda x: _SELU_SA * np.expm1(np.minimum(x, 0)) + _SELU_SCALE * np.maximum(x, 0),
    "sigmoid": lambda x: 1 / (1 + np.exp(-x)),
    "silu": lambda x: x / (1 + np.exp(-x)),
    "sinc": lambda x: np.sin(x) / x,  # NaN at 0
    "sinusoid": np.sin,
    "siren_sine": lambda x: np.sin(_OMEGA * x),
    "snake": lambda x: x + np.sin(x) ** 2,
    "softplus": lambda x: np.log1p(np.exp(x)),
    "softshrink": lambda x: x - np.clip(x, -_SOFTSHRINK, _SOFTSHRINK),
    "softsign": lambda x: x / (1 + np.abs(x)),
    "sparse_plus": _sparse_plus,
    "sparse_sigmoid": lambda x: np.clip(x * 0.5 + 0.5, 0, 1),
    "sqnl": _sqnl,
    "squareplus": lambda x: 0.5 * (x + np.sqrt(x * x + _SQUAREPLUS_B)),
    "swish": lambda x: x / (1 + np.exp(-x)),
    "tanh": np.tanh,
    "tanhshrink": lambda x: x - np.tanh(x),
    "threshold": lambda x: x + (x <= _THR) * (_THR_VALUE - x),
}

# The same for the derivative (at a kink: the value of the piece holding the point, as generated).
HAND_GRAD = {
    "arctan": lambda x: 1 / (1 + x * x),
    "bent_identity": lambda x: x * 0.5 / np.sqrt(x * x + 1) + 1,
    "binary_step": np.zeros_like,
    "celu": lambda x: np.exp(np.minimum(x, 0)),  # exp(0) = 1 on the linear piece
    "elu": lambda x: np.exp(np.minimum(x, 0)),
    "gaussian": lambda x: x * np.exp(-x * x) * -2.0,
    "gelu": lambda x: sc.ndtr(x) + x * np.exp(-0.5 * x * x) * _INV_SQRT_2PI,
    "gelu_tanh": _gelu_tanh_grad,
    "hardshrink": lambda x: (np.abs(x) > _HARDSHRINK).astype(x.dtype),
    "hardsigmoid": lambda x: (np.abs(x) < 3) * _typed(x, 1 / 6),
    "hardswish": lambda x: (x * (1 / 3) + 0.5) * (np.abs(x) <= 3) + (x > 3),
    "hardtanh": lambda x: ((x > _HT_LO) & (x < _HT_HI)).astype(x.dtype),
    "identity": np.ones_like,
    "isrlu": _isrlu_grad,
    "isru": _isru_grad,
    "leaky_relu": lambda x: np.maximum((x > 0).astype(x.dtype), _LEAKY),
    "log_sigmoid": lambda x: 1 / (1 + np.exp(x)),
    "mish": _mish_grad,
    "prelu": lambda x: np.maximum((x > 0).astype(x.dtype), _PRELU),
    "relu": lambda x: (x > 0).astype(x.dtype),
    "relu6": lambda x: ((x > 0) & (x < 6)).astype(x.dtype),
    "rrelu": lambda x: np.maximum((x > 0).astype(x.dtype), _RRELU),
    "selu": _selu_grad,
    "sigmoid": _sigmoid_grad,
    "silu": _silu_grad,
    "sinc": lambda x: (x * np.cos(x) - np.sin(x)) / (x * x),  # NaN at 0
    "sinusoid": np.cos,
    "siren_sine": lambda x: _OMEGA * np.cos(_OMEGA * x),
    "snake": lambda x: np.sin(2 * x) + 1,  # 2 sin cos
    "softplus": lambda x: 1 / (1 + np.exp(-x)),
    "softshrink": lambda x: (np.abs(x) > _SOFTSHRINK).astype(x.dtype),
    "softsign": _softsign_grad,
    "sparse_plus": lambda x: np.clip(x * 0.5 + 0.5, 0, 1),
    "sparse_sigmoid": lambda x: (np.abs(x) < 1) * _typed(x, 0.5),
    "sqnl": lambda x: np.maximum(1 - np.abs(x) * 0.5, 0),
    "squareplus": lambda x: x * 0.5 / np.sqrt(x * x + _SQUAREPLUS_B) + 0.5,
    "swish": _silu_grad,
    "tanh": _tanh_grad,
    "tanhshrink": _tanhshrink_grad,
    "threshold": lambda x: (x > _THR).astype(x.dtype),
}

# torch.nn.functional equivalents: name -> function name, or (function name, keyword arguments); only
# where that function with these arguments computes the catalog definition with its defaults. A float
# "weight" is passed as a one-element tensor of the input's dtype (prelu).
TORCH = {"sigmoid": "sigmoid", "tanh": "tanh", "relu": "relu", "relu6": "relu6",
         "leaky_relu": ("leaky_relu", {"negative_slope": _LEAKY}),
         "elu": "elu", "selu": "selu",  # default alpha = 1 (like the catalog; --check-hand checks)
         "softplus": "softplus",  # beta = 1; returns x above x = 20: equal to rounding
         "silu": "silu", "mish": "mish", "gelu": "gelu",
         "hardtanh": ("hardtanh", {"min_val": _HT_LO, "max_val": _HT_HI}),
         "hardsigmoid": "hardsigmoid", "hardswish": "hardswish", "softsign": "softsign",
         "log_sigmoid": "logsigmoid", "tanhshrink": "tanhshrink", "celu": "celu",
         "gelu_tanh": ("gelu", {"approximate": "tanh"}),
         "hardshrink": ("hardshrink", {"lambd": _HARDSHRINK}),
         "softshrink": ("softshrink", {"lambd": _SOFTSHRINK}),
         "threshold": ("threshold", {"threshold": _THR, "value": _THR_VALUE}),
         "rrelu": ("rrelu", {"lower": _RRELU_LO, "upper": _RRELU_HI, "training": False}),
         "prelu": ("prelu", {"weight": _PRELU}), "swish": "silu"}  # swish at beta = 1

NAN = float("nan")


def torch_function(torch, name: str, dtype):
    """The torch.nn.functional callable for `name` on tensors of numpy dtype `dtype`, or None."""
    entry = TORCH.get(name)
    if torch is None or entry is None:
        return None
    fname, kwargs = (entry, {}) if isinstance(entry, str) else entry
    f = getattr(torch.nn.functional, fname)
    if "weight" in kwargs:
        w = torch.tensor([kwargs["weight"]], dtype=getattr(torch, np.dtype(dtype).name))
        return lambda t: f(t, w)
    return lambda t: f(t, **kwargs)


def peak_extra_memory(fn, x) -> float:
    tracemalloc.start()
    fn(x)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / x.nbytes


def load(name: str):
    """(forward, derivative, fused) of generated/<name>.py."""
    mod = importlib.import_module(f"generated.{name}")
    return getattr(mod, name), getattr(mod, f"{name}_grad"), getattr(mod, f"{name}_forward_and_grad")


def import_torch():
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    return torch


# ---------------------------------------------------------------------------------------------------
# --check-hand

def _compare(got, want, rtol: float = 1e-6, atol: float = 1e-12) -> tuple[bool, str]:
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape:
        return False, f"shape {got.shape} != {want.shape}"
    nan = np.isnan(got) | np.isnan(want)
    keep = ~nan
    bad = keep & ~np.isclose(got, want, rtol=rtol, atol=atol)
    note = f" ({int(nan.sum())} NaN ignored)" if nan.any() else ""
    if nan.sum() > got.size // 100:
        return False, f"{int(nan.sum())} NaN positions" + note
    if bad.any():
        i = int(np.argmax(bad))
        return False, f"{int(bad.sum())} mismatches, first at x[{i}]: {got[i]!r} vs {want[i]!r}" + note
    return True, "ok" + note


def check_hand(names) -> bool:
    """Compare HAND, HAND_GRAD and TORCH with the generated functions; True when all agree."""
    torch = import_torch()
    x = np.linspace(-5, 5, 1001)
    x32 = x.astype(np.float32)
    all_ok = True
    for name in names:
        try:
            fwd, grad, _ = load(name)
        except Exception as e:  # noqa: BLE001 - a module being regenerated by someone else
            print(f"{name:15s} cannot load generated module: {e!r}")
            all_ok = False
            continue
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            results = []
            for label, table, ref in (("hand", HAND, fwd), ("hand_grad", HAND_GRAD, grad)):
                if name not in table:
                    results.append((False, f"{label}: missing"))
                    continue
                ok, msg = _compare(table[name](x), ref(x))
                dt = np.asarray(table[name](x32)).dtype
                if dt != np.float32:
                    ok, msg = False, msg + f"; float32 input gives {dt}"
                results.append((ok, f"{label}: {msg}"))
            tf = torch_function(torch, name, np.float64)
            if tf is not None:
                t = torch.from_numpy(x.copy()).requires_grad_()
                y = tf(t)
                y.backward(torch.ones_like(y))
                ok, msg = _compare(y.detach().numpy(), fwd(x))
                results.append((ok, f"torch: {msg}"))
                g = t.grad.numpy()
                # at a jump of the derivative torch may take the other piece's value: accept that
                h = 1e-9 * np.maximum(1, np.abs(x))
                at_kink = np.isclose(g, grad(x - h), rtol=1e-6) | np.isclose(g, grad(x + h), rtol=1e-6)
                ok, msg = _compare(np.where(at_kink, grad(x), g), grad(x))
                kinks = int((at_kink & ~np.isclose(g, grad(x), rtol=1e-6, atol=1e-12)).sum())
                if kinks:
                    msg += f" ({kinks} jump point(s) where torch takes the other one-sided value)"
                results.append((ok, f"torch_grad: {msg}"))
        ok = all(r[0] for r in results)
        all_ok &= ok
        print(f"{name:15s} {'OK  ' if ok else 'FAIL'} " + "; ".join(r[1] for r in results), flush=True)
    print("all hand forms agree with the generated functions" if all_ok else "MISMATCHES above")
    return all_ok


# ---------------------------------------------------------------------------------------------------
# benchmark

COLUMNS = [  # (key, header, width, format)
    ("name", "activation", 15, "s"), ("dtype", "dtype", 7, "s"), ("n", "n", 9, "d"),
    ("fwd", "fwd ns/el", 9, ".2f"), ("grad", "grad ns/el", 10, ".2f"), ("fused", "fused ns/el", 11, ".2f"),
    ("r_naive", "fwd/naive", 9, ".2f"), ("r_hand", "fwd/hand", 8, ".2f"), ("r_hgrad", "grad/hgrad", 10, ".2f"),
    ("r_hfused", "fused/(h+hg)", 12, ".2f"), ("r_torch", "fwd/torch", 9, ".2f"),
    ("r_tfused", "fused/torch", 11, ".2f"), ("mem_fwd", "mem fwd", 7, ".2f"), ("mem_fused", "mem fused", 9, ".2f"),
]


def format_row(row: dict, markdown: bool) -> str:
    cells = []
    for key, _, width, fmt in COLUMNS:
        v = row[key]
        s = format(v, fmt) if not (isinstance(v, float) and math.isnan(v)) else "nan"
        cells.append(s if markdown else (f"{s:<{width}s}" if fmt == "s" else f"{s:>{width}s}"))
    return "| " + " | ".join(cells) + " |" if markdown else " ".join(cells)


def header(markdown: bool) -> str:
    if markdown:
        heads = [h for _, h, _, _ in COLUMNS]
        aligns = [":---" if fmt == "s" else "---:" for _, _, _, fmt in COLUMNS]
        return "| " + " | ".join(heads) + " |\n| " + " | ".join(aligns) + " |"
    return " ".join(f"{h:<{w}s}" if fmt == "s" else f"{h:>{w}s}" for _, h, w, fmt in COLUMNS)


def measure(name: str, x, repeat: int, torch, naive) -> dict:
    fwd, grad, fused = load(name)
    n = x.size
    nan = NAN
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        fns = {"f": fwd, "g": grad, "fg": fused, "naive": naive}
        if name in HAND:
            fns["hand"] = HAND[name]
        if name in HAND_GRAD:
            fns["hgrad"] = HAND_GRAD[name]
        tf = torch_function(torch, name, x.dtype)
        if tf is not None:
            def torch_fused(a):
                t = torch.from_numpy(a.copy()).requires_grad_()
                y = tf(t)
                y.backward(torch.ones_like(y))

            fns["torch"] = lambda a: tf(torch.from_numpy(a))
            fns["tfused"] = torch_fused
        t = best_times(fns, x, repeat)
        mem_f = peak_extra_memory(fwd, x)
        mem_fg = peak_extra_memory(fused, x)
    t_f, t_g, t_fg, t_naive = t["f"], t["g"], t["fg"], t["naive"]
    t_hand, t_hgrad = t.get("hand", nan), t.get("hgrad", nan)
    t_torch, t_tfused = t.get("torch", nan), t.get("tfused", nan)
    return {"name": name, "dtype": x.dtype.name, "n": n,
            "fwd": t_f / n * 1e9, "grad": t_g / n * 1e9, "fused": t_fg / n * 1e9,
            "r_naive": t_f / t_naive, "r_hand": t_f / t_hand, "r_hgrad": t_g / t_hgrad,
            "r_hfused": t_fg / (t_hand + t_hgrad), "r_torch": t_f / t_torch, "r_tfused": t_fg / t_tfused,
            "mem_fwd": mem_f, "mem_fused": mem_fg}


def summary(rows: list[dict], names: list[str], markdown: bool) -> list[str]:
    """One line per goal: how many activations meet it and the worst ratio of those that do not."""
    big = [r for r in rows if r["n"] >= 10**7]
    goals = [("generated forward <= 1.5x hand-written NumPy (every measured size and dtype)",
              "r_hand", 1.5, rows, ""),
             ("generated forward <= 1.0x torch on one thread at 10^7", "r_torch", 1.0, big,
              "" if big else " (10^7 not measured in this run)"),
             ("peak extra memory of the forward <= 2x the input (every measured size and dtype)",
              "mem_fwd", 2.0, rows, "")]
    lines = []
    for title, key, limit, subset, note in goals:
        worst: dict[str, dict] = {}
        for r in subset:
            v = r[key]
            if math.isnan(v):
                continue
            if r["name"] not in worst or v > worst[r["name"]][key]:
                worst[r["name"]] = r
        failing = sorted((r for r in worst.values() if r[key] > limit), key=lambda r: -r[key])
        no_base = [nm for nm in names if nm not in worst]
        head = f"{title}: {len(worst) - len(failing)}/{len(worst)} meet it{note}"
        if no_base and subset:
            head += f"; no baseline for {len(no_base)}"
        fails = ", ".join(f"{r['name']} {r[key]:.2f} ({r['dtype']}, n={r['n']})" for r in failing)
        if markdown:
            lines.append(f"- {head}." + (f" Not met: {fails}." if fails else ""))
        else:
            lines.append(head)
            if fails:
                lines.append(f"    not met: {fails}")
    return lines


#: glibc malloc settings under which freed memory is kept for reuse (see the module docstring)
TUNED_MALLOC = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "4294967296",
                "MALLOC_TOP_PAD_": "268435456"}
MALLOC_CONFIGS = {"default": "glibc malloc defaults", "tuned": "malloc keeps freed memory (TUNED_MALLOC)"}


def _env_for(config: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in TUNED_MALLOC}
    if config == "tuned":
        env.update(TUNED_MALLOC)
    return env


def measure_rows(names: list[str], sizes: list[int], dtypes: list[str], repeat: int) -> list[dict]:
    """Rows for the activations in this process (the parent runs one process per activation)."""
    torch = import_torch()
    rng = np.random.default_rng(0)
    rows = []
    for n in sizes:
        for dname in dtypes:
            x = (rng.standard_normal(n) * 5).astype(np.dtype(dname))
            for name in names:
                naive = sp.lambdify(X, CATALOG[name].definition(), modules=["numpy", "scipy"])
                rows.append(measure(name, x, repeat, torch, naive))
    return rows


def run_isolated(name: str, config: str, args) -> list[dict]:
    """Measure one activation in a fresh process with the malloc configuration `config`.

    A fresh process per activation makes the allocator's state (and so the numbers) repeatable.
    """
    cmd = [sys.executable, os.path.abspath(__file__), name, "--child", "--sizes", args.sizes,
           "--dtypes", args.dtypes, "--repeat", str(args.repeat)]
    out = subprocess.run(cmd, env=_env_for(config), capture_output=True, text=True, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.startswith("{")]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--sizes", default="100000,10000000")
    ap.add_argument("--dtypes", default="float64,float32")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    ap.add_argument("--check-hand", action="store_true",
                    help="check HAND, HAND_GRAD and TORCH against the generated functions, then exit")
    ap.add_argument("--malloc", choices=["default", "tuned", "both"], default="both",
                    help="glibc malloc defaults, malloc keeping freed memory, or both (two tables)")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    names = args.names or sorted(CATALOG)
    unknown = [nm for nm in names if nm not in CATALOG]
    if unknown:
        ap.error(f"unknown activation(s): {', '.join(unknown)}")
    if args.check_hand:
        sys.exit(0 if check_hand(names) else 1)
    sizes = [int(v) for v in args.sizes.split(",")]
    dtypes = args.dtypes.split(",")
    if args.child:
        for row in measure_rows(names, sizes, dtypes, args.repeat):
            print(json.dumps(row), flush=True)
        return
    torch = import_torch()
    configs = ["default", "tuned"] if args.malloc == "both" else [args.malloc]
    for config in configs:
        env = (f"numpy {np.__version__}, torch " + (f"{torch.__version__} on 1 thread" if torch is not None
                                                      else "not installed")
               + f"; best of >= {args.repeat} rounds and 0.3 s (rotating order, x read before each call) after one"
               f" warm-up call; x = 5 * standard normal; one process per"
               f" activation; {MALLOC_CONFIGS[config]}")
        print(("### " + MALLOC_CONFIGS[config] + "\n\n" + env + "\n") if args.markdown else env)
        print(header(args.markdown), flush=True)
        rows = []
        for name in names:
            rows.extend(run_isolated(name, config, args))
        order = {(n, d): i for i, (n, d) in enumerate((n, d) for n in sizes for d in dtypes)}
        rows.sort(key=lambda r: (order[(r["n"], r["dtype"])], names.index(r["name"])))
        for row in rows:
            print(format_row(row, args.markdown), flush=True)
        print()
        print(f"Goals ({config} malloc):\n" if args.markdown else f"goals ({config} malloc):")
        for line in summary(rows, names, args.markdown):
            print(line if args.markdown else "  " + line)
        print()


if __name__ == "__main__":
    main()
