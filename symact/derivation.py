"""The worked derivation of an activation's properties, as steps rendered as text, LaTeX or Markdown.

``derive(act)`` returns a ``Derivation``: a list of ``Step``s. Each step is a short sentence saying
what was done and (usually) one line of mathematics::

    step.sentence   plain-text sentence (inline math in Unicode)
    step.obj        the SymPy object the formula shows (None for a sentence-only step)
    step.latex      the formula: ``lhs + " " + rel + " " + sympy.latex(obj)`` (just ``sympy.latex(obj)``
                    when the step has no left-hand side); ``sympy.latex`` is called on exactly ``obj``
    step.claim      what ``obj`` is claimed to be ("f", "df", "df_y", "limit:f:+oo", ...): tests evaluate
                    ``obj`` against the activation's definition at sample points (see tests/test_derive.py)

A step unpacks as ``sentence, obj, latex = step``.

Where the mathematics comes from: derivative formulas are SymPy's ``diff`` of the piecewise normal
form (``act.pieces()``); every property (limits, sup|f'|, saturation, active region, normal-input
statistics, collapse facts, the simplified derivative and the derivative in terms of the output) is
read from ``symact.analysis.analyze(act)`` -- the same numbers ``symact show`` prints -- never
recomputed here.

Rendering: ``text()`` (sympy.pretty, Unicode), ``markdown()`` ($...$ inline, $$...$$ display as GitHub
renders them) and ``latex(standalone=False)``. In LaTeX a long formula is broken into lines: the one
documented transformation of ``step.latex`` is ``break_latex``, which only inserts ``\\\\`` (plus
``&`` / ``\\qquad`` alignment) before top-level ``+`` / ``-`` signs; ``unbreak`` removes exactly that
markup again. The standalone document additionally scales a display down to the line width when its
broken form is still too wide (``\\symactfit``), so nothing runs off the page.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import sympy as sp
from sympy.parsing.sympy_parser import parse_expr

from .activation import Activation, X, Y
from .pieces import Piece, derivative_pieces, pieces_to_piecewise
from .timebox import attempt

__all__ = ["Step", "Math", "Derivation", "derive", "repr_latex", "break_latex", "unbreak", "render_catalog_latex",
           "BREAK_MARK", "INDENT_MARK"]

x = X
#: a long rational (more digits than this in numerator or denominator) is shown as a 20-digit float
LONG_RATIONAL_DIGITS = 12
#: estimated width (characters of visible math) of one line of a display in the LaTeX output
LINE_WIDTH = 62


# --- inline math and steps ------------------------------------------------------------------------
@dataclass(frozen=True)
class Math:
    """A piece of inline math inside a sentence: its LaTeX and its Unicode text."""

    latex: str
    text: str


def m(obj) -> Math:
    """Inline math for a SymPy object (or a number)."""
    obj = sp.sympify(obj)
    return Math(sp.latex(obj), _inline_text(obj))


def _inline_text(obj) -> str:
    s = sp.pretty(obj, use_unicode=True, wrap_line=False)
    if "\n" in s:
        s = sp.sstr(obj)
    return s


def mq(obj, rel: str) -> Math:
    """Inline math for a quantity: exact form, with '≈ value' added for non-trivial exact forms."""
    obj = sp.sympify(obj)
    if rel == "=" and len(sp.latex(obj)) > 40 and obj.is_number and obj.is_finite:
        obj, rel = sp.Float(sp.N(obj, 15), 6), r"\approx"
    if isinstance(obj, sp.Float):
        obj = sp.Float(obj, 6)
    base = m(obj)
    if rel != "=":
        return Math(r"\approx " + base.latex, "≈ " + base.text)
    if obj.is_number and not obj.is_Integer and not obj.is_Float and not obj.is_infinite and obj.is_real:
        approx = sp.Float(sp.N(obj, 15), 4)
        return Math(base.latex + r" \approx " + sp.latex(approx), base.text + " ≈ " + sp.sstr(approx))
    return base


@dataclass
class Step:
    """One step of a derivation (see the module docstring)."""

    parts: tuple
    obj: sp.Basic | None = None
    lhs: str = ""          # LaTeX of the left-hand side ("" when the formula is just obj)
    lhs_text: str = ""     # Unicode of the left-hand side
    rel: str = "="         # LaTeX relation between lhs and obj: "=", r"\approx", r"\le", r"\to"
    claim: str = ""        # what obj is claimed to be (tests check it numerically)
    info: dict = field(default_factory=dict)  # data for the claim (e.g. the point of a one-sided value)
    heading: str = ""      # section label of the step (Definition, Derivative, ...)

    @property
    def sentence(self) -> str:
        return "".join(p if isinstance(p, str) else p.text for p in self.parts)

    @property
    def latex(self) -> str:
        if self.obj is None:
            return ""
        body = sp.latex(self.obj)
        return f"{self.lhs} {self.rel} {body}" if self.lhs else body

    def sentence_latex(self) -> str:
        return "".join(_tex_escape(p) if isinstance(p, str) else f"${p.latex}$" for p in self.parts)

    def sentence_markdown(self) -> str:
        return "".join(_md_escape(p) if isinstance(p, str) else f"${p.latex}$" for p in self.parts)

    def formula_text(self) -> str:
        if self.obj is None:
            return ""
        return _pretty_with_label(self.obj, f"{self.lhs_text} {_REL_TEXT.get(self.rel, self.rel)} " if self.lhs_text else "")

    def __iter__(self):
        return iter((self.sentence, self.obj, self.latex))


_REL_TEXT = {r"\subseteq": "⊆", "=": "=", r"\approx": "≈", r"\le": "≤", r"\to": "→", r"\ge": "≥"}


class Derivation(list):
    """The steps of one activation's derivation, with renderers."""

    def __init__(self, act: Activation, steps=(), title: str = ""):
        super().__init__(steps)
        self.act = act
        self.title = title or act.name

    # text -----------------------------------------------------------------------------------------
    def text(self) -> str:
        lines = [self.title, "=" * len(self.title)]
        heading = None
        n = 0
        for st in self:
            if st.heading and st.heading != heading:
                heading = st.heading
                lines += ["", heading, "-" * len(heading)]
            n += 1
            lines.append(f"{n}. {st.sentence}")
            if st.obj is not None:
                lines.append("")
                lines += ["     " + row for row in st.formula_text().split("\n")]
            lines.append("")
        return "\n".join(lines).rstrip() + "\n"

    # markdown -------------------------------------------------------------------------------------
    def markdown(self, level: int = 2) -> str:
        h = "#" * level
        out = [f"{h} {_md_escape(self.title)}", ""]
        heading = None
        for st in self:
            if st.heading and st.heading != heading:
                heading = st.heading
                out += [f"{h}# {heading}", ""]
            out += [st.sentence_markdown(), ""]
            if st.obj is not None:
                out += ["$$", st.latex, "$$", ""]
        return "\n".join(out).rstrip() + "\n"

    # latex ----------------------------------------------------------------------------------------
    def latex_body(self, fit: bool = False, sectioning: str = "section") -> str:
        """The derivation as LaTeX (amsmath); fit=True wraps displays in \\symactfit (standalone preamble)."""
        sub = {"chapter": "section", "section": "subsection"}.get(sectioning, "paragraph")
        out = [rf"\{sectioning}{{{_tex_escape(self.title)}}}", ""]
        heading = None
        for st in self:
            if st.heading and st.heading != heading:
                heading = st.heading
                out += [rf"\{sub}*{{{_tex_escape(heading)}}}", ""]
            out.append(st.sentence_latex())
            if st.obj is not None:
                out.append(display_latex(st.latex, fit=fit))
            out.append("")
        return "\n".join(out)

    def latex(self, standalone: bool = False) -> str:
        if not standalone:
            return self.latex_body(fit=False)
        return _render_document([self], title=f"Derivation: {self.title}", toc=False, sectioning="section")


# --- LaTeX line breaking --------------------------------------------------------------------------
BREAK_MARK = " \\\\\n&\\qquad "   # inserted at a top-level break outside environments (inside aligned)
INDENT_MARK = " \\\\ \\qquad "      # inserted at a break inside an environment row (cases)
_TOKEN = re.compile(r"\\begin\{[a-z*]+\}|\\end\{[a-z*]+\}|\\left\\?.|\\right\\?.|\\[A-Za-z]+|\\.|[{}]|\s+|.", re.S)


def _visible_width(s: str) -> float:
    """A rough width estimate, in characters, of a piece of LaTeX math."""
    s = re.sub(r"\\(left|right)\\?.", "x", s)
    s = re.sub(r"\\(begin|end)\{[a-z*]+\}", "", s)
    s = re.sub(r"\\text\{([^}]*)\}", r"\1", s)
    s = re.sub(r"\\operatorname\{([^}]*)\}", r"\1", s)
    s = re.sub(r"\\(frac|sqrt|mathrm|quad|qquad|cdot|,|:|;|!)", "", s)
    s = re.sub(r"\\[A-Za-z]+", "x", s)
    s = re.sub(r"[{}\s&^_]", "", s)
    return len(s)


def break_latex(s: str, width: int = LINE_WIDTH) -> str:
    """Insert line breaks before top-level + and - signs so no line is (estimated) wider than `width`.

    Breaks go only where no brace, \\left...\\right pair or environment is open, except inside a
    cases environment's rows (at brace depth 0 of the row), where a row is continued on a new row.
    The result is meant for an ``aligned`` environment; ``unbreak`` inverts it exactly.
    """
    if _visible_width(s) <= width:
        return s
    tokens = _TOKEN.findall(s)
    out: list[str] = []
    depth = 0
    envs: list[str] = []
    line = 0.0
    for i, tok in enumerate(tokens):
        if tok.startswith(r"\begin{"):
            envs.append(tok)
        elif tok.startswith(r"\end{"):
            envs.pop() if envs else None
        elif tok == "{" or tok.startswith(r"\left"):
            depth += 1
        elif tok == "}" or tok.startswith(r"\right"):
            depth -= 1
        if tok == r"\\":
            line = 0.0
        can_break = depth == 0 and tok in ("+", "-") and out and out[-1].isspace() and line > width * 0.4
        if can_break and (not envs or envs[-1] == r"\begin{cases}"):
            rest = _visible_width("".join(tokens[i:i + 40]))
            if line + min(rest, width) > width:
                out[-1] = BREAK_MARK if not envs else INDENT_MARK
                line = 0.0
        out.append(tok)
        line += _visible_width(tok)
    return "".join(out)


def unbreak(s: str) -> str:
    """Inverse of break_latex."""
    return s.replace(BREAK_MARK, " ").replace(INDENT_MARK, " ")


def display_latex(formula: str, fit: bool = False) -> str:
    broken = break_latex(formula)
    if broken != formula or fit:
        body = "\\begin{aligned}\n&" + broken + "\n\\end{aligned}"
    else:
        body = broken
    if fit:
        return "\\begin{center}\\symactfit{" + body + "}\\end{center}"
    return "\\[\n" + body + "\n\\]"


_TEX_SPECIAL = {"&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{", "}": r"\}",
                "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "\\": r"\textbackslash{}",
                "'": "'", "≈": r"$\approx$", "±": r"$\pm$", "→": r"$\to$", "∞": r"$\infty$", "—": "---",
                "–": "--", "≤": r"$\le$", "≥": r"$\ge$", "·": r"$\cdot$", "×": r"$\times$"}


def _tex_escape(s: str) -> str:
    return "".join(_TEX_SPECIAL.get(c, c) if ord(c) < 128 or c in _TEX_SPECIAL else "?" for c in s)


def _md_escape(s: str) -> str:
    return re.sub(r"([*_`\\<>\[\]$|])", r"\\\1", s)


def _pretty_with_label(obj, label: str) -> str:
    from sympy.printing.pretty.pretty import PrettyPrinter

    form = PrettyPrinter({"use_unicode": True, "wrap_line": False})._print(obj)
    rows = form.render(wrap_line=False).split("\n")
    base = form.baseline
    pad = " " * len(label)
    return "\n".join((label if i == base else pad) + r for i, r in enumerate(rows)).rstrip()


# --- documents --------------------------------------------------------------------------------------
def _templates_env():
    import jinja2

    from .codegen.render import templates_dir

    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), undefined=jinja2.StrictUndefined,
                              keep_trailing_newline=True, autoescape=False,
                              block_start_string="((*", block_end_string="*))", variable_start_string="(((",
                              variable_end_string=")))", comment_start_string="((#", comment_end_string="#))")


def _render_document(derivations, title: str, toc: bool, sectioning: str, preface: str = "") -> str:
    bodies = [d.latex_body(fit=True, sectioning=sectioning) for d in derivations]
    return _templates_env().get_template("derivation.tex.j2").render(
        title=_tex_escape(title), toc=toc, bodies=bodies, preface=preface, documentclass="report" if sectioning == "chapter" else "article")


def collapse_chapter() -> str:
    """The chapter 'Why a nonlinearity is needed' (symact.collapse), or '' when it cannot be produced."""
    from .collapse import collapse_network

    res = attempt(lambda: collapse_network([2, 3, 1]), 30)
    if res is None:
        return ""
    tex = res.latex()
    if not isinstance(tex, str) or r"\begin{align*}" not in tex:
        return ""
    body = tex.replace(r"\begin{align*}", "").split(r"\end{align*}")[0].strip()
    comments = [ln[2:] for ln in tex.splitlines() if ln.startswith("% ")]
    rows = body.split(" \\\\\n")
    rows = [r.replace(" && ", r" \quad ") for r in rows]
    display = "\n".join(r"\begin{center}\symactfit{\begin{aligned}" + r + r"\end{aligned}}\end{center}" for r in rows)
    text = ("A network whose layers are joined by no nonlinearity (the identity) is one linear map in disguise. "
            "Composing the $2\\to3\\to1$ network symbolically and collecting the result by input shows it:")
    return ("\\chapter{Why a nonlinearity is needed}\n\n" + text + "\n" + display + "\n\n"
            + " ".join(_tex_escape(c[0].upper() + c[1:]) + "." for c in comments) + "\n\n"
            "Every activation below that is not affine breaks this collapse; the affine ones are flagged in "
            "their own chapters.\n")


def render_catalog_latex(acts=None) -> str:
    """One standalone LaTeX document (report class, table of contents) with the derivation of every activation."""
    from .catalog import CATALOG

    acts = list(CATALOG.values()) if acts is None else list(acts)
    return _render_document([derive(a) for a in acts], title="symact: derivations of the activation catalog",
                            toc=True, sectioning="chapter", preface=collapse_chapter())


def repr_latex(act: Activation) -> str:
    """For Jupyter: ``Activation._repr_latex_`` may return this ($$ f(x) = definition $$)."""
    return "$$" + _name_tex(act) + r"(x) = " + sp.latex(_display(act.expr)) + "$$"


# --- building the steps ------------------------------------------------------------------------------
def _display(e):
    """e with long rationals (e.g. SELU's 31-digit constants) replaced by 20-digit floats."""
    if not isinstance(e, sp.Basic):
        return e

    def long(r):
        return isinstance(r, sp.Rational) and not r.is_Integer and (len(str(abs(r.p))) > LONG_RATIONAL_DIGITS
                                                                    or len(str(r.q)) > LONG_RATIONAL_DIGITS)

    reps = {r: sp.Float(r, 15) for r in e.atoms(sp.Rational) if long(r)}
    return e.xreplace(reps) if reps else e


def _name_tex(act: Activation) -> str:
    return r"\mathrm{" + act.name.replace("_", r"\_") + "}"


def _parse(text: str | None):
    if text is None:
        return None
    names = {"x": X, "y": Y}
    return parse_expr(text, local_dict=names)


def _q(q):
    """(sympy object, rel) for a quantity of the analysis, or (None, None) when it does not exist."""
    if q is None:
        return None, None
    if q.get("exact") is not None:
        obj = _parse(q["exact"])
        return _display(obj), "="
    if q.get("value") is not None:
        return sp.Float(q["value"], 6), r"\approx"
    return None, None


def _rules(e) -> list[str]:
    """Differentiation rules that sp.diff applies to e (top-down, for the sentence)."""
    rules: list[str] = []

    def add(r):
        if r not in rules:
            rules.append(r)

    for node in sp.preorder_traversal(e):
        if not isinstance(node, sp.Basic) or not node.has(x) or node == x:
            continue
        if isinstance(node, sp.Add):
            add("sum rule")
        elif isinstance(node, sp.Mul):
            dep = [a for a in node.args if a.has(x)]
            den = [a for a in dep if isinstance(a, sp.Pow) and a.exp.is_negative]
            if den and len(dep) >= 1 and (len(dep) > 1 or True):
                add("quotient rule")
            elif len(dep) > 1:
                add("product rule")
        elif isinstance(node, sp.Pow):
            if node.base.has(x) and node.exp.has(x):
                add("logarithmic differentiation")
            elif node.exp.is_negative and node.base.has(x):
                add("quotient rule")
            if node.base != x and node.base.has(x) and not node.exp.has(x):
                add("chain rule")
            elif node.exp.has(x) and node.exp != x:
                add("chain rule")
        elif isinstance(node, sp.Function):
            if any(a.has(x) and a != x for a in node.args):
                add("chain rule")
    order = ["sum rule", "product rule", "quotient rule", "chain rule", "logarithmic differentiation"]
    return [r for r in order if r in rules]


def _join(words: list[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def _interval_text(p: Piece) -> Math:
    cond = p.condition(x)
    return m(cond) if cond is not sp.true else Math(r"\text{all } x", "all x")


def _pw(pieces: list[Piece]):
    return pieces_to_piecewise(pieces, x)


F = Math("f", "f")
DF = Math("f'", "f′")
INF = {"-oo": Math(r"-\infty", "-∞"), "+oo": Math(r"+\infty", "+∞")}


def derive(act: Activation) -> Derivation:
    """The worked derivation of act's properties (see the module docstring)."""
    from .analysis import analyze

    A = analyze(act).to_json()
    return Derivation(act, _steps(act, A), title=act.name)


def _steps(act: Activation, A: dict) -> list[Step]:
    steps: list[Step] = []
    pieces = act.pieces()
    dpieces = derivative_pieces(pieces, x, 1)
    piecewise = len(pieces) > 1

    def step(heading, *parts, obj=None, lhs="", lhs_text="", rel="=", claim="", **info):
        steps.append(Step(tuple(parts), obj, lhs, lhs_text, rel, claim, info, heading))

    # definition -------------------------------------------------------------------------------------------
    H = "Definition"
    vals = act.param_values()
    if act.params:
        shown = [m(sp.Eq(p.symbol, _display(vals[p.name]), evaluate=False)) for p in act.params]
        parts = ["The activation is defined, with parameter" + ("s " if len(shown) > 1 else " ")]
        for i, s in enumerate(shown):
            parts += ([", "] if 0 < i < len(shown) - 1 else [" and "] if i else []) + [s]
        step(H, *parts, ", by", obj=act.expr, lhs="f(x)", lhs_text="f(x)", claim="f_symbolic",
             params={p.symbol: vals[p.name] for p in act.params})
        step(H, "With the parameter values substituted:", obj=_display(act.definition()), lhs="f(x)",
             lhs_text="f(x)", claim="f")
    else:
        step(H, "The activation is defined by", obj=_display(act.definition()), lhs="f(x)", lhs_text="f(x)", claim="f")
    if piecewise:
        step(H, "Written in piecewise normal form (max, min, |.|, sign and step functions resolved into smooth "
             "pieces on intervals, each condition read top to bottom):",
             obj=_display(_pw(pieces)), lhs="f(x)", lhs_text="f(x)", claim="f")

    # derivative ---------------------------------------------------------------------------------------------
    H = "First derivative"
    if not piecewise:
        rules = _rules(pieces[0].expr)
        how = ("Differentiate with the " + _join(rules) + ":") if rules else "Differentiate term by term:"
        raw = sp.diff(pieces[0].expr, x)
        step(H, how, obj=_display(raw), lhs="f'(x)", lhs_text="f′(x)", claim="df")
    else:
        moving = [p for p in pieces if not p.is_point and p.expr.has(x)]
        rules = []
        for p in moving:
            rules += [r for r in _rules(p.expr) if r not in rules]
        how = (" (using the " + _join(rules) + ")") if rules else ""
        step(H, "Differentiate each piece on its own interval" + how + "; at a breakpoint the derivative is that of "
             "the piece containing the point (PyTorch's backward convention), so max/min/step functions are "
             "never differentiated directly:", obj=_display(_pw(dpieces)), lhs="f'(x)", lhs_text="f′(x)", claim="df")
    simplified = _display(_parse(A["derivative"]))
    last = steps[-1].obj
    if simplified is not None and simplified != last and sp.latex(simplified) != sp.latex(last):
        step(H, "Simplified:", obj=simplified, lhs="f'(x)", lhs_text="f′(x)", claim="df")
    if A["derivative_from_output"] is not None:
        gy = _display(_parse(A["derivative_from_output"]))
        step(H, "In terms of the output ", m(sp.Eq(Y, sp.Function("f")(x))), " the derivative needs no second "
             "evaluation of the input; the backward pass can reuse the stored output:",
             obj=gy, lhs="f'(x)", lhs_text="f′(x)", claim="df_y")

    # limits and saturation ----------------------------------------------------------------------------------
    H = "Limits and saturation"
    for side, sat_key in (("-oo", "left"), ("+oo", "right")):
        lf, rf_ = _q(A["limits"][side])
        ld, rd = _q(A["derivative_limits"][side])
        tex_to = r"-\infty" if side == "-oo" else r"+\infty"
        txt_to = "-∞" if side == "-oo" else "+∞"
        if lf is None:
            step(H, "As ", Math(r"x \to " + tex_to, "x → " + txt_to), ", f has no limit (it keeps oscillating).")
        else:
            step(H, "Limit of f as ", Math(r"x \to " + tex_to, "x → " + txt_to), ":", obj=lf,
                 lhs=rf"\lim_{{x \to {tex_to}}} f(x)", lhs_text=f"lim[x→{txt_to}] f(x)", rel=rf_,
                 claim=f"limit:f:{side}", source=("limits", side))
        if ld is None:
            step(H, "As ", Math(r"x \to " + tex_to, "x → " + txt_to), ", f' has no limit.")
        else:
            step(H, "Limit of the derivative as ", Math(r"x \to " + tex_to, "x → " + txt_to), ":", obj=ld,
                 lhs=rf"\lim_{{x \to {tex_to}}} f'(x)", lhs_text=f"lim[x→{txt_to}] f′(x)", rel=rd,
                 claim=f"limit:df:{side}", source=("derivative_limits", side))
        step(H, *_saturation_sentence(A["saturation"][sat_key], sat_key))

    # extrema of f' and vanishing gradients -------------------------------------------------------------------
    H = "Largest slope and vanishing gradients"
    d2 = [Piece(_simplify(sp.diff(p.expr, x)), p.lo, p.hi, p.lo_closed, p.hi_closed) for p in dpieces]
    d2obj = _display(_pw(d2))
    sup, srel = _q(A["max_abs_derivative"]["value"])
    at, _ = _q(A["max_abs_derivative"]["at"])
    if len(sp.latex(d2obj)) <= 400 and not all(p.expr == 0 for p in d2):
        step(H, "The critical points of f' are the zeros of the second derivative", obj=d2obj, lhs="f''(x)",
             lhs_text="f″(x)", claim="d2f")
    if sup is not None:
        where = ([", attained at ", m(sp.Eq(x, at, evaluate=False)), ","] if at is not None else
                 [" (attained on a whole interval, or only approached at a kink or at infinity)"])
        step(H, "Comparing the critical values, the one-sided values at kinks and the limits, the largest "
             "slope", *where, " is:", obj=sup, lhs=r"\sup_x \left|f'(x)\right|", lhs_text="sup |f′(x)|", rel=srel,
             claim="sup_df", source=("max_abs_derivative", "value"))
        factor, frel = _q(A["vanishing"]["factor"])
        n = A["vanishing"]["layers_to_1e-3"]
        nn = sp.Symbol("n", positive=True, integer=True)
        chain = Math(r"\prod_{k=1}^{n} f'(z_k)", "∏ f′(z_k)")
        if factor is not None and factor.is_number and 0 < float(factor) < 1 and n is not None:
            step(H, "Backpropagating through n layers multiplies the gradient by ", chain,
                 ", one factor per layer, so the activation alone shrinks it geometrically:", obj=sp.Pow(factor, nn, evaluate=False),
                 lhs=r"\left|\prod_{k=1}^{n} f'(z_k)\right|", lhs_text="|∏ f′(z_k)|", rel=r"\le", claim="vanishing_n")
            val = factor ** n
            step(H, "Hence after ", Math(str(n), str(n)), " layers the bound ", mq(val if frel == "=" else sp.Float(val, 4), frel),
                 " is below ", Math("10^{-3}", "10⁻³"), " (and ", Math(str(n - 1), str(n - 1)),
                 " layers are not enough): deep stacks of this activation need residual connections or careful "
                 "initialisation to keep gradients alive.",
                 obj=sp.Pow(factor, n, evaluate=False), lhs=r"\left|\prod_{k=1}^{%d} f'(z_k)\right|" % n,
                 lhs_text=f"|∏ f′(z_k)| over {n} layers", rel=r"\le", claim="vanishing", n=n)
        elif factor is not None and factor.is_number and float(factor) == 0:
            step(H, "The derivative vanishes wherever it is defined by a piece: no gradient flows back through "
                 "this activation, so it cannot be trained by backpropagation alone.")
        elif factor is not None and factor.is_number and float(factor) == 1:
            step(H, "Since ", Math(r"\sup|f'| = 1", "sup|f′| = 1"), ", the activation by itself neither shrinks nor "
                 "amplifies gradients in its linear part; vanishing gradients come only from its flat regions (and "
                 "from the weights).")
        elif factor is not None and factor.is_number and float(factor) > 1:
            step(H, "Since ", Math(r"\sup|f'| > 1", "sup|f′| > 1"), ", the bound ", chain,
                 Math(r"\le " + sp.latex(factor) + "^n", f" ≤ {sp.sstr(factor)}^n"),
                 " grows with depth: gradients can explode where the slope is large; scale the weights down.")

    # centring --------------------------------------------------------------------------------------------------
    H = "Centring"
    f0, f0rel = _q(A["f0"])
    if f0 is not None:
        step(H, "At the origin:", obj=f0, lhs="f(0)", lhs_text="f(0)", rel=f0rel, claim="f0", source=("f0",))
    mean, mrel = _q(A["normal_input"]["mean"])
    if A["zero_centered"]:
        cen = ("f is zero-centred: f(0) = 0 and it takes values of both signs, so the next layer sees inputs "
               "of either sign and its weight updates are not forced to share one sign.")
    else:
        cen = ("f is not zero-centred (f(0) ≠ 0 or its values have one sign), so it shifts the mean of the next "
               "layer's inputs; a bias or a normalisation layer must absorb the shift.")
    if mean is not None:
        step(H, cen + " For a standard normal input X ~ N(0, 1) the mean output is", obj=mean,
             lhs=r"\mathrm{E}\left[f(X)\right]", lhs_text="E[f(X)]", rel=mrel, claim="mean",
             source=("normal_input", "mean"))
    else:
        step(H, cen)

    # near zero ---------------------------------------------------------------------------------------------------
    H = "Behaviour near 0"
    kinks = [_parse(k["exact"]) if k.get("exact") else k.get("value") for k in A["kinks"]]
    zero_kink = any(k == 0 for k in kinks if k is not None)
    if zero_kink:
        left = next(p for p in dpieces if not p.is_point and p.hi == 0)
        right = next(p for p in dpieces if not p.is_point and p.lo == 0)
        lv, rv = _display(left.expr.subs(x, 0)), _display(right.expr.subs(x, 0))
        step(H, "0 is a kink: the one-sided slopes differ. From the left,", obj=lv, lhs="f'(0^{-})",
             lhs_text="f′(0⁻)", claim="df_left", at=0)
        step(H, "and from the right,", obj=rv, lhs="f'(0^{+})", lhs_text="f′(0⁺)", claim="df_right", at=0)
    else:
        center = [p for p in pieces if not p.is_point and p.lo < 0 < p.hi]
        if not center:
            around = [p for p in pieces if not p.is_point and (p.hi == 0 or p.lo == 0)]
            if len(around) == 2 and around[0].expr == around[1].expr:
                center = around[:1]
        if center:
            ser = attempt(lambda: sp.series(center[0].expr, x, 0, 4), 4)
            if ser is not None and len(sp.latex(ser)) < 300:
                words = ("f is smooth at 0; its Taylor series is" +
                         (" -- f behaves like the identity near the origin (f(0) = 0, f'(0) = 1)"
                          if A["identity_near_origin"] else ""))
                step(H, words, obj=_display(ser), lhs="f(x)", lhs_text="f(x)", claim="series")
        else:
            step(H, "0 is a breakpoint of the piecewise definition.")
    if kinks:
        step(H, "The kinks (where the one-sided limits of f' differ) are at ",
             *_sep([m(k) if isinstance(k, sp.Basic) else Math(f"{k:.6g}", f"{k:.6g}") for k in kinks if k is not None]),
             "; a kinked activation has a subgradient there, and the derivative above takes the value of the "
             "piece holding the point.")

    # collapse ----------------------------------------------------------------------------------------------------
    H = "Linear collapse"
    c = A["collapse"]
    if c["affine"]:
        step(H, "f is affine, so a stack of layers with this activation collapses to a single affine layer: "
             "depth adds no expressive power (see `symact collapse`).")
    elif c["piecewise_linear"]:
        step(H, "f is piecewise linear: a network with it computes a piecewise-linear function (linear on each "
             "region of input space) but does not collapse to one layer, since the pieces differ.")
    else:
        step(H, "f is not piecewise linear, so a network with it does not collapse to one linear layer.")
    if c["positively_homogeneous"]:
        step(H, "f is positively homogeneous, ", Math(r"f(c x) = c f(x)", "f(c x) = c f(x)"), " for ",
             Math("c > 0", "c > 0"), ": rescaling a layer's weights rescales its output by the same factor.")
    for dp in c["degenerate_params"]:
        ps = [Math(_tex_escape(k) + (r" \to " if dp.get("limit") else " = ") + sp.latex(_q(q)[0]),
                   k + (" → " if dp.get("limit") else " = ") + sp.sstr(_q(q)[0])) for k, q in dp["params"].items()]
        step(H, "It degenerates at ", *_sep(ps), " to ", Math(r"f(x) = " + sp.latex(_parse(dp["result"])),
                                                              "f(x) = " + dp["result"]),
             ", where the collapse argument applies again.")
    r, rrel = _q(c["linear_regime_radius"])
    if r is not None and not c["affine"]:
        f0v = pieces_value(pieces, 0)
        d0 = pieces_value(dpieces, 0)
        if f0v is not None and d0 is not None:
            lin = _display(f0v + d0 * x)
            step(H, "Near 0 f is nearly its linearisation: the relative error stays within 1% for ",
                 Math(r"|x| \le " + sp.latex(r), "|x| ≤ " + sp.sstr(r)), " (", mq(r, rrel) if rrel != "=" else m(r),
                 "), where a network of it behaves almost linearly:", obj=lin, lhs="f(x)", lhs_text="f(x)",
                 rel=r"\approx", claim="linearisation", radius=r)

    # normalisation advice ------------------------------------------------------------------------------------------
    H = "Normalisation"
    ar = A["active_region"]
    if ar is not None:
        lo, _ = _q(ar["lower"])
        hi, _ = _q(ar["upper"])
        if lo is not None and hi is not None:
            region = sp.Interval(lo, hi)
            step(H, "The active region, where |f'| is at least half its supremum, is", obj=region,
                 lhs=r"\left\{x : |f'(x)| \ge \tfrac{1}{2}\sup|f'|\right\}", lhs_text="{x : |f′(x)| ≥ ½ sup|f′|}",
                 rel=r"\subseteq", claim="active_region", source=("active_region",))
            gain, grel = _q(A["normal_input"]["gain"])
            advice = ["Normalise pre-activations (initialisation scale, batch or layer normalisation) so that most "
                      "of them fall in this interval: outside it the gradient is less than half its best value."]
            if gain is not None:
                advice += [" For N(0, 1) inputs the gain that restores unit second moment is ", mq(gain, grel), "."]
            step(H, *advice)
    return steps


def _sep(items: list) -> list:
    out: list = []
    for i, it in enumerate(items):
        if i:
            out.append(", " if i < len(items) - 1 else " and ")
        out.append(it)
    return out


def pieces_value(pieces: list[Piece], point):
    for p in pieces:
        if p.contains(point):
            v = p.expr.subs(x, point)
            return v if v.is_finite else None
    return None


def _simplify(e):
    r = attempt(lambda: sp.simplify(e), 1.5)
    return e if r is None else r


def _saturation_sentence(s: dict, side: str) -> list:
    kind = s["kind"]
    word = "left" if side == "left" else "right"
    if kind == "none":
        return [f"So f does not saturate on the {word}."]
    lim, lrel = _q(s["limit"])
    out: list = [f"So f saturates {'softly' if kind == 'soft' else 'hard'} on the {word}"]
    if lim is not None:
        out += [" towards ", mq(lim, lrel)]
    thr, trel = _q(s.get("threshold"))
    if thr is not None:
        out += ["; f' is exactly 0 beyond ", mq(thr, trel)]
    on, orel = _q(s.get("onset"))
    if on is not None:
        out += ["; |f'| is below 1% of its supremum beyond ", mq(on, orel)]
    out.append(", where the gradient is exactly zero." if kind == "hard" else ", where the gradient all but disappears.")
    return out
