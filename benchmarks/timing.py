"""Interleaved best-of timing, shared by the benchmark scripts."""
from __future__ import annotations

import time


def best_times(fns: dict, x, repeat: int) -> dict:
    """Best time of each function over `repeat` rounds, one call of every function per round.

    Interleaved (after one warm-up call each), so that a slow moment of the machine (this is a shared
    VM) falls on every contender alike instead of on the one being measured then.
    """
    for fn in fns.values():
        fn(x)
    best = {k: float("inf") for k in fns}
    for _ in range(repeat):
        for k, fn in fns.items():
            t = time.perf_counter()
            fn(x)
            best[k] = min(best[k], time.perf_counter() - t)
    return best
