"""Forward time of the generated modules of an earlier commit against the current ones, interleaved.

    python benchmarks/compare_commits.py REV [NAME ...] [--markdown] [--function forward|grad|fused]

For each activation, in a fresh process (glibc's malloc defaults), the forward `<name>(x)` of
generated/<name>.py as committed in REV and as in the working tree, called alternately (one call of
each per round; best of at least 9 rounds and 0.3 s at 10^5 elements, 5 at 10^7, see
benchmarks/timing.py; float64 and float32; x = 5 * standard normal), so that both meet the same machine
and the same allocator state. Prints ns per element
before and after and, at the end, the geometric mean of after/before per size and dtype (identity,
whose time is call overhead, excluded). --function grad or fused times `<name>_grad(x)` or
`<name>_forward_and_grad(x)` instead of the forward.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

from timing import best_times  # benchmarks/timing.py, beside this script

ROOT = Path(__file__).resolve().parents[1]
CASES = [(10**5, "float64", 9), (10**7, "float64", 5), (10**5, "float32", 9), (10**7, "float32", 5)]


SUFFIX = {"forward": "", "grad": "_grad", "fused": "_forward_and_grad"}


def _load(path: Path, tag: str, function: str = "forward"):
    spec = importlib.util.spec_from_file_location(f"{tag}_{path.stem}", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return getattr(mod, path.stem + SUFFIX[function])


def child(name: str, old_dir: str, function: str = "forward") -> None:
    old = _load(Path(old_dir) / f"{name}.py", "old", function)
    new = _load(ROOT / "generated" / f"{name}.py", "new", function)
    rows = []
    for n, dtype, rounds in CASES:
        x = (np.random.default_rng(0).standard_normal(n) * 5).astype(dtype)
        with np.errstate(all="ignore"):
            best = best_times({"old": old, "new": new}, x, rounds)
        rows.append([name, dtype, n, best["old"] / n * 1e9, best["new"] / n * 1e9])
    print(json.dumps(rows))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("rev")
    ap.add_argument("names", nargs="*")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--function", choices=sorted(SUFFIX), default="forward")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.names[0], args.child, args.function)
        return
    sys.path.insert(0, str(ROOT))
    from symact.catalog import CATALOG

    names = args.names or sorted(CATALOG)
    rows = []
    with tempfile.TemporaryDirectory() as old_dir:
        for name in names:
            text = subprocess.run(["git", "show", f"{args.rev}:generated/{name}.py"], cwd=ROOT, capture_output=True,
                                  text=True)
            if text.returncode:
                print(f"{name}: not in {args.rev}, skipped", file=sys.stderr)
                continue
            (Path(old_dir) / f"{name}.py").write_text(text.stdout)
            env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
            out = subprocess.run([sys.executable, __file__, args.rev, name, "--child", old_dir,
                                  "--function", args.function], env=env,
                                 capture_output=True, text=True, check=True).stdout
            rows.extend(json.loads(out.splitlines()[-1]))
    heads = [f"{dt} 10^{int(math.log10(n))}" for n, dt, _ in CASES]
    if args.markdown:
        print("| activation | " + " | ".join(f"{h} before | after" for h in heads) + " |")
        print("| :--- | " + " | ".join("---: | ---:" for _ in heads) + " |")
    by = {(r[0], r[1], r[2]): r for r in rows}
    for name in dict.fromkeys(r[0] for r in rows):
        cells = [f"{by[(name, dt, n)][3]:.2f} | {by[(name, dt, n)][4]:.2f}" if args.markdown else
                 f"{by[(name, dt, n)][3]:8.2f} {by[(name, dt, n)][4]:8.2f}" for n, dt, _ in CASES]
        print(f"| {name} | " + " | ".join(cells) + " |" if args.markdown else f"{name:15s} " + "  ".join(cells))
    print()
    for n, dt, _ in CASES:
        ratios = [r[4] / r[3] for r in rows if r[1] == dt and r[2] == n and r[0] != "identity"]
        if ratios:
            gm = math.exp(sum(math.log(v) for v in ratios) / len(ratios))
            print(f"{dt} 10^{int(math.log10(n))}: after/before geometric mean {gm:.2f}"
                  f" (best {min(ratios):.2f}, worst {max(ratios):.2f})" + ("  " if args.markdown else ""))


if __name__ == "__main__":
    main()
