"""`symact report [--out DIR] [--pdf] [NAME ...]`: the atlas of the catalog (symact.report)."""
from __future__ import annotations

from .cli import EXIT_OK, UsageError

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("report", help="atlas: properties table, plots, derivations and code (Markdown + LaTeX)")
    p.add_argument("names", nargs="*", metavar="NAME", help="catalog names or aliases (default: the whole catalog)")
    p.add_argument("--out", default="report", metavar="DIR", help="output directory (default: report)")
    p.add_argument("--pdf", action="store_true", help="also build atlas.pdf with pdflatex (when it is on PATH)")
    p.add_argument("--timings", action="store_true",
                   help="add the measured speed of the generated code (output then differs between runs)")
    p.add_argument("-p", "--param", action="append", metavar="NAME=VALUE", help="with --expr: declare a parameter")
    p.add_argument("--expr", metavar="EXPRESSION", help="add a user-defined activation to the atlas")
    p.add_argument("--name", dest="expr_name", metavar="NAME", help="name of the --expr activation")
    p.set_defaults(func=run)


def run(args) -> int:
    import shutil
    from pathlib import Path

    from .catalog import UnknownActivationError, get

    from .cli import USER_DEFINITIONS, _from_expression, parse_params

    names = []
    for name in args.names:
        if name in USER_DEFINITIONS:  # from --defs
            names.append(USER_DEFINITIONS[name])
            continue
        try:
            names.append(get(name).name)
        except UnknownActivationError as exc:
            raise UsageError(str(exc)) from None
    if args.expr is not None:
        names.append(_from_expression(args.expr, args.expr_name, parse_params(args.param)))
    elif args.param:
        raise UsageError("-p goes with --expr here")
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a directory")
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UsageError("symact report needs matplotlib: pip install 'symact[plots]'") from None
    from .report import build_report

    if args.pdf and shutil.which("pdflatex") is None:
        raise UsageError("--pdf needs pdflatex on PATH")
    written = build_report(names or None, out=out, pdf=args.pdf, timings=args.timings)
    print(f"wrote {len(written)} files to {out} (open {out / 'README.md'})")
    return EXIT_OK
