"""Interleaved best-of timing, shared by the benchmark scripts."""
from __future__ import annotations

import time

import numpy as np


def best_times(fns: dict, x, repeat: int, min_seconds: float = 0.3, max_rounds: int = 200) -> dict:
    """Best time of each function over at least `repeat` rounds, one call of every function per round.

    Interleaved (after one warm-up call each), so that a slow moment of the machine (this is a shared
    VM) falls on every contender alike instead of on the one being measured then. Rounds continue
    until `min_seconds` have passed (at most `max_rounds`): calls of ~50 us on this VM vary by 2x
    between runs, and the best of a hundred is steadier than the best of seven. Every call starts with
    x just read (an untimed reduction over it: in cache when it fits, as for 10^5 elements), and the
    order rotates by one each round, so that no contender always follows the same one (what the
    previous call leaves in the caches and the allocator moved a fixed order's timings).
    """
    for fn in fns.values():
        fn(x)
    best = {k: float("inf") for k in fns}
    items = list(fns.items())
    start = time.perf_counter()
    r = 0
    while r < repeat or (time.perf_counter() - start < min_seconds and r < max_rounds):
        for k, fn in items[r % len(items):] + items[:r % len(items)]:
            np.add.reduce(x, axis=None)
            t = time.perf_counter()
            fn(x)
            best[k] = min(best[k], time.perf_counter() - t)
        r += 1
    return best
