"""`symact derive NAME [-p k=v ...] [--format text|latex|markdown] [--standalone]` and `symact derive --all`:
the worked derivation of an activation's properties (symact.derivation)."""
from __future__ import annotations

from .cli import EXIT_OK, UsageError, add_activation_arguments, parse_params, resolve_activation

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> None:
    p = subparsers.add_parser("derive", help="the derivation of the properties, step by step (text, LaTeX, Markdown)")
    add_activation_arguments(p)
    p.add_argument("--format", choices=("text", "latex", "markdown"), default=None,
                   help="output format (default: text; latex with --all)")
    p.add_argument("--standalone", action="store_true", help="with latex: a complete document for pdflatex")
    p.add_argument("--all", action="store_true",
                   help="the whole catalog as one LaTeX document with a table of contents (use with --standalone)")
    p.set_defaults(func=run)


def run(args) -> int:
    from .derivation import derive, render_catalog_latex

    fmt = args.format
    if args.all:
        if args.name is not None or args.expr is not None or parse_params(args.param):
            raise UsageError("--all takes no NAME, --expr or -p: it derives the whole catalog with its defaults")
        if fmt not in (None, "latex"):
            raise UsageError("--all produces LaTeX only (use --format latex or leave --format out)")
        if not args.standalone:
            raise UsageError("--all needs --standalone (it builds one complete LaTeX document)")
        print(render_catalog_latex(), end="")
        return EXIT_OK
    fmt = fmt or "text"
    if args.standalone and fmt != "latex":
        raise UsageError("--standalone needs --format latex")
    act = resolve_activation(args)
    d = derive(act)
    if fmt == "latex":
        print(d.latex(standalone=args.standalone), end="")
    elif fmt == "markdown":
        print(d.markdown(), end="")
    else:
        print(d.text(), end="")
    return EXIT_OK
