"""Command line: a thin face over the package (nothing imports this module)."""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from . import __version__

EXIT_OK, EXIT_CHECK_FAILED, EXIT_BAD_INPUT, EXIT_INTERNAL = 0, 1, 2, 3
REPORT_URL = "the symact issue tracker"


class UsageError(Exception):
    """Bad input from the user: one line on stderr, exit 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2 (argparse prints usage otherwise)
        raise UsageError(f"{self.prog}: {message}")


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not (0 < value < 1e6):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def parse_params(items: list[str] | None) -> dict[str, str]:
    """-p k=v pairs -> {k: v}; malformed pairs are a UsageError."""
    out: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key or not value or not key.isidentifier():
            raise UsageError(f"malformed parameter {item!r}: expected -p name=value")
        if key in out:
            raise UsageError(f"parameter {key!r} given twice")
        out[key] = value
    return out


#: activations from --defs files, by name (they take precedence over the catalog)
USER_DEFINITIONS: dict = {}


def load_user_definitions(paths: list[str] | None) -> None:
    from .definitions import DefinitionError, load_definitions

    for path in paths or []:
        try:
            for act in load_definitions(path):
                USER_DEFINITIONS[act.name] = act
        except DefinitionError as exc:
            raise UsageError(str(exc)) from None


def _resolve(name: str, params: dict[str, str]):
    from .activation import ParameterError
    from .catalog import UnknownActivationError, get

    try:
        act = USER_DEFINITIONS.get(name) or get(name)
    except UnknownActivationError as exc:
        raise UsageError(str(exc)) from None
    if params:
        try:
            act = act.with_params(**params)
        except ParameterError as exc:
            raise UsageError(str(exc)) from None
    return act


def add_activation_arguments(parser: argparse.ArgumentParser, name_required: bool = True) -> None:
    """NAME, or --expr/--name for a user-defined activation, and -p k=v, for commands taking an activation."""
    parser.add_argument("name", nargs="?", metavar="NAME", default=None, help="catalog name or alias")
    parser.add_argument("-p", "--param", action="append", metavar="NAME=VALUE",
                        help="parameter value (repeatable); with --expr it declares the parameter and its default")
    parser.add_argument("--expr", metavar="EXPRESSION", help="a user-defined activation in x, e.g. 'x*tanh(softplus(x))'")
    parser.add_argument("--name", dest="expr_name", metavar="NAME", help="name of the --expr activation (default: user)")


def _from_expression(expr: str, name: str | None, params: dict[str, str]):
    from .activation import ParameterError
    from .parse import ExpressionError, activation_from_expression

    try:
        return activation_from_expression(expr, name, params)
    except ExpressionError as exc:
        caret = exc.caret()
        raise UsageError(f"--expr: {exc}" + (f"\n{caret}" if caret else "")) from None
    except ParameterError as exc:
        raise UsageError(str(exc)) from None


def resolve_activation(args):
    """The Activation named by args.name (or given by --expr) with args.param applied; UsageError on bad input."""
    params = parse_params(getattr(args, "param", None))
    expr = getattr(args, "expr", None)
    if expr is not None:
        if getattr(args, "name", None) is not None:
            raise UsageError("give either NAME or --expr, not both")
        return _from_expression(expr, getattr(args, "expr_name", None), params)
    if getattr(args, "name", None) is None:
        raise UsageError("an activation NAME (or --expr) is required")
    return _resolve(args.name, params)


def _exact_text(value) -> str:
    return str(value)


def cmd_list(args) -> int:
    from .catalog import CATALOG

    rows = []
    for act in list(CATALOG.values()) + list(USER_DEFINITIONS.values()):
        rows.append({
            "name": act.name,
            "aliases": list(act.aliases),
            "family": act.family,
            "params": {p.name: {"default": _exact_text(p.default), "domain": _domain_text(p)} for p in act.params},
            "formula": str(act.expr),
            "description": act.description,
            "citation": act.citation,
        })
    if args.json:
        print(json.dumps(rows, indent=2))
        return EXIT_OK
    width = max(len(r["name"]) for r in rows)
    fam = max(len(r["family"]) for r in rows)
    for r in rows:
        params = ", ".join(f"{k}={v['default']}" for k, v in r["params"].items())
        print(f"{r['name']:<{width}}  {r['family']:<{fam}}  {r['description']}" + (f"  [{params}]" if params else ""))
    return EXIT_OK


def _domain_text(p) -> str:
    from .activation import domain_text

    return domain_text(p.domain, p.name)


def cmd_generate(args) -> int:
    from .activation import UnprovenFormError
    from .catalog import CATALOG
    from .codegen.printer import PrintError
    from .codegen.render import check_files, render_catalog, write_files

    params = parse_params(args.param)
    if args.expr is not None:
        if args.names:
            raise UsageError("give either NAMEs or --expr, not both")
        acts = [_from_expression(args.expr, args.expr_name, params)]
        args.names = [acts[0].name]
    elif args.names:
        acts = [_resolve(n, params) for n in dict.fromkeys(args.names)]
    else:
        if params:
            raise UsageError("-p needs activation names: parameters differ between activations")
        acts = list(CATALOG.values()) + list(USER_DEFINITIONS.values())
    full = not args.names
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    try:
        files = render_catalog(acts, with_init=full)
    except UnprovenFormError as exc:
        raise UsageError(str(exc)) from None
    except PrintError as exc:
        raise UsageError(f"cannot generate NumPy code: {exc}") from None
    if args.check:
        drifts = check_files(files, out, expect_complete=full)
        if not drifts:
            print(f"{len(files)} files in {out} match a fresh render")
            return EXIT_OK
        for d in drifts:
            print(f"{d.status}: {out / d.file}", file=sys.stderr)
            if d.diff and args.diff:
                sys.stderr.write(d.diff)
        print(f"{len(drifts)} of {len(files)} files drifted from a fresh render; run `symact generate` to update",
              file=sys.stderr)
        return EXIT_CHECK_FAILED
    changed = write_files(files, out)
    print(f"wrote {len(changed)} of {len(files)} files to {out}" + (" (others unchanged)" if len(changed) < len(files) else ""))
    return EXIT_OK


#: modules contributing subcommands: each has add_parser(subparsers) that sets func=run(args) -> exit code
_COMMAND_MODULES: list = []


def _command_modules() -> list:
    from . import cli_collapse, cli_derive, cli_report, cli_show, cli_verify

    return [cli_show, cli_derive, cli_collapse, cli_verify, cli_report]


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="symact", description="Symbolic activation functions -> analysis, LaTeX and NumPy code.")
    parser.add_argument("--version", action="version", version=f"symact {__version__}")
    parser.add_argument("--defs", action="append", metavar="FILE", help="TOML file of user activations (repeatable)")
    parser.add_argument("--timeout", type=_positive_float, metavar="SECONDS",
                        help="time limit of each symbolic step (default 8); on expiry the answer falls back or is unknown")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    sub.required = True

    p = sub.add_parser("list", help="list the built-in activations")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("generate", help="render NumPy modules (default: the whole catalog into ./generated)")
    p.add_argument("names", nargs="*", metavar="NAME")
    p.add_argument("--out", default="generated", help="output directory (default: generated)")
    p.add_argument("--check", action="store_true", help="exit 1 if the files on disk differ from a fresh render")
    p.add_argument("--diff", action="store_true", help="with --check: print the unified diff of drifted files")
    p.add_argument("-p", "--param", action="append", metavar="NAME=VALUE", help="parameter default for NAME's module")
    p.add_argument("--expr", metavar="EXPRESSION", help="generate a user-defined activation instead")
    p.add_argument("--name", dest="expr_name", metavar="NAME", help="module name for --expr (default: user)")
    p.set_defaults(func=cmd_generate)

    for module in _COMMAND_MODULES or _command_modules():
        module.add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        if args.timeout is not None:
            from . import proof
            from .analysis import properties

            proof.STEP_SECONDS = args.timeout
            properties.GROUP_SECONDS = 2 * args.timeout
            properties.DEADLINE_SECONDS = 8 * args.timeout
        load_user_definitions(args.defs)
        return args.func(args)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        print(f"internal error: {type(exc).__name__}: {exc} -- please report it to {REPORT_URL} "
              f"with the command line (SYMACT_DEBUG=1 shows the traceback)", file=sys.stderr)
        import os

        if os.environ.get("SYMACT_DEBUG"):
            raise
        return EXIT_INTERNAL


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
