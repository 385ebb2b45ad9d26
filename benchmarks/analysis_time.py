"""Time `symact show` (the analysis) for every catalog activation on a cold cache, 2 worker processes.

    python benchmarks/analysis_time.py [--workers 2] [NAME ...]

Prints the per-activation time (inside its worker), the slowest, and the wall-clock total.
SYMACT_CACHE is pointed at a fresh temporary directory so nothing is reused.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor


def _one(name: str):
    from symact.analysis import analyze
    from symact.catalog import get

    t = time.perf_counter()
    data = analyze(get(name)).to_json()
    unknown = sorted(k for k, v in data["provenance"].items() if v == "unknown")
    return name, time.perf_counter() - t, unknown


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("names", nargs="*")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args(argv)
    os.environ["SYMACT_CACHE"] = tempfile.mkdtemp(prefix="symact-analysis-bench-")
    from symact.catalog import names

    todo = args.names or names()
    start = time.perf_counter()
    rows = []
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for name, seconds, unknown in pool.map(_one, todo):
            rows.append((name, seconds))
            print(f"{name:<16} {seconds:7.2f} s" + (f"   unknown: {', '.join(unknown)}" if unknown else ""), flush=True)
    total = time.perf_counter() - start
    slowest = max(rows, key=lambda r: r[1])
    print(f"slowest: {slowest[0]} {slowest[1]:.2f} s; sum of per-activation times {sum(r[1] for r in rows):.1f} s")
    print(f"total wall clock ({args.workers} workers, cold cache): {total:.1f} s for {len(rows)} activations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
