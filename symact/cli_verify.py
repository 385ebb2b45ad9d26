"""`symact verify TARGET --against NAME`: check a hand-written implementation against the definition."""
from __future__ import annotations

import sys

from .cli import UsageError, _from_expression, _resolve, parse_params

__all__ = ["add_parser", "run"]

_DTYPES = {"float64": ("float64",), "float32": ("float32",), "float16": ("float16",),
           "all": ("float64", "float32", "float16")}


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "verify", help="verify an implementation (module:function or file.py:function) against a definition",
        description="Measure TARGET in ULPs against certified values of NAME's definition at every kind of float "
                    "(+-0, subnormals, huge values, +-inf, NaN), and check dtype, shapes, input mutation and "
                    "floating-point warnings. Exit 0 pass, 1 fail, 2 bad input.")
    p.add_argument("target", metavar="TARGET", help="package.module:function or path/to/file.py:function")
    p.add_argument("--against", metavar="NAME", help="catalog activation to compare with")
    p.add_argument("--expr", metavar="EXPRESSION", help="compare with a user-defined activation instead of --against")
    p.add_argument("--name", dest="expr_name", metavar="NAME", help="name of the --expr activation")
    p.add_argument("--grad", metavar="TARGET", default=None, help="the derivative implementation to verify too")
    p.add_argument("--autograd", action="store_true", help="verify TARGET's framework gradient (requires torch)")
    p.add_argument("-p", "--param", action="append", metavar="NAME=VALUE",
                   help="parameter value: sets the reference; passed to TARGET when it accepts it (repeatable)")
    p.add_argument("--dtype", choices=sorted(_DTYPES), default=None,
                   help="dtype(s) to test (default: float64 and float32; all adds float16, exhaustively)")
    p.add_argument("--max-ulp", type=float, default=16.0, metavar="N", help="forward error limit in ULPs (16)")
    p.add_argument("--max-ulp-grad", type=float, default=32.0, metavar="N",
                   help="derivative error limit in ULPs (32)")
    p.add_argument("--strict", action="store_true", help="floating-point warnings fail the verification")
    p.add_argument("--json", action="store_true", help="machine-readable report")
    p.set_defaults(func=run)


def run(args) -> int:
    from .verify import TargetError, autograd_of, load_target, verify

    params = parse_params(args.param)
    if args.expr is not None:
        if args.against is not None:
            raise UsageError("give either --against NAME or --expr, not both")
        act = _from_expression(args.expr, args.expr_name, params)
    elif args.against is None:
        raise UsageError("the reference is required: --against NAME or --expr EXPRESSION")
    else:
        act = _resolve(args.against, params)
    for flag in ("max_ulp", "max_ulp_grad"):
        v = getattr(args, flag)
        if not v >= 0:
            raise UsageError(f"--{flag.replace('_', '-')} must be a non-negative number of ULPs, not {v:g}")
    if args.autograd and args.grad:
        raise UsageError("give either --grad TARGET or --autograd, not both")
    try:
        fn = load_target(args.target)
        grad = load_target(args.grad) if args.grad else None
        if args.autograd:
            grad = autograd_of(fn)
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    dtypes = _DTYPES[args.dtype] if args.dtype else ("float64", "float32")
    report = verify(fn, act, grad=grad, params=params or None, dtypes=dtypes, max_ulp=args.max_ulp,
                    max_ulp_grad=args.max_ulp_grad, strict=args.strict)
    report.target = args.target + (f" (derivative {args.grad})" if args.grad else
                                   " (derivative: torch autograd)" if args.autograd else "")
    if args.json:
        print(report.to_json())
    else:
        print(report.text())
    sys.stdout.flush()
    return 0 if report.passed else 1
