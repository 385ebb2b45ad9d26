"""`symact collapse`: does a small dense network collapse to one linear layer? (wired into symact.cli)"""
from __future__ import annotations

import json
import sys

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    p = subparsers.add_parser(
        "collapse", help="compose a small dense network symbolically: one linear layer, piecewise affine, or not")
    p.add_argument("--layers", default="2,3,1", help="layer widths from inputs to outputs (default: 2,3,1)")
    p.add_argument("--activation", default=None, metavar="NAME",
                   help="activation of the hidden layers (default: none, identity between layers)")
    p.add_argument("-p", "--param", action="append", metavar="NAME=VALUE", help="activation parameter (repeatable)")
    p.add_argument("--expr", metavar="EXPRESSION", help="a user-defined activation instead of --activation")
    p.add_argument("--name", dest="expr_name", metavar="NAME", help="name of the --expr activation")
    p.add_argument("--bias", action="store_true", help="one bias per unit (b1, b2, ... layer by layer)")
    p.add_argument("--format", choices=("text", "latex"), default="text", help="derivation format (default: text)")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=run)


def run(args) -> int:
    from .cli import EXIT_INTERNAL, EXIT_OK, UsageError, _from_expression, _resolve, parse_params
    from .collapse import CollapseError, collapse_network, parse_layers
    from .timebox import SymbolicTimeout

    try:
        layers = parse_layers(args.layers)
    except CollapseError as exc:
        raise UsageError(str(exc)) from None
    params = parse_params(args.param)
    name = args.activation
    if name is not None and name.strip().lower() == "none":
        name = None
    if args.expr is not None:
        if name is not None:
            raise UsageError("give either --activation or --expr, not both")
        act = _from_expression(args.expr, args.expr_name, params)
    elif name is None:
        if params:
            raise UsageError("-p needs --activation NAME")
        act = None
    else:
        act = _resolve(name, params)
    try:
        result = collapse_network(layers, act, bias=args.bias)
    except CollapseError as exc:
        raise UsageError(str(exc)) from None
    except SymbolicTimeout as exc:
        print(f"error: {exc} (try a smaller network)", file=sys.stderr)
        return EXIT_INTERNAL
    if args.json:
        print(json.dumps(result.to_json(), indent=2))
    elif args.format == "latex":
        print(result.latex())
    else:
        print(result.text())
    return EXIT_OK
