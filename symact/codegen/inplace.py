"""In-place lowering: printed NumPy expressions -> a sequence of ufunc calls writing into reused buffers.

The printer writes each function as a few assignments of nested expressions, which NumPy evaluates
into a fresh full-size temporary per operation. Fresh temporaries cost memory and, for arrays beyond
the allocator's reuse, fresh pages (a page fault per 4 KiB). This pass flattens the expressions into
one operation per line (same operations, same order, so the same bits), then gives each operation's
result a buffer that an operand no longer needed already holds (``out=``), or a buffer freed earlier,
allocating only when none is free. Buffers are reused only between values of the same kind: arrays
of the input's dtype, float64 arrays (kernels that widen float32 input) and bool masks, so a float32
result is never rounded from a wider value, and the input itself is never written.

Only operations whose semantics are known are lowered; anything else raises ``LoweringError``.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass, field

__all__ = ["LoweringError", "Lowered", "lower"]


class LoweringError(ValueError):
    """The printed code uses an operation the in-place pass does not know."""


#: elementwise NumPy functions (ufuncs, and np.clip) that accept ``out=``; value: result kind
_UFUNCS = {
    "exp": "float", "log": "float", "log1p": "float", "expm1": "float", "abs": "float", "sign": "float",
    "tanh": "float", "sinh": "float", "cosh": "float", "arctan": "float", "arcsinh": "float", "sqrt": "float",
    "square": "float", "maximum": "float", "minimum": "float", "copysign": "float", "negative": "float",
    "clip": "float", "power": "float", "isnan": "bool", "reciprocal": "float", "floor": "float",
}
_BINOPS = {ast.Add: ("add", "+="), ast.Sub: ("subtract", "-="), ast.Mult: ("multiply", "*="),
           ast.Div: ("true_divide", "/="), ast.BitAnd: ("bitwise_and", "&="), ast.BitOr: ("bitwise_or", "|="),
           ast.BitXor: ("bitwise_xor", "^=")}
_CMPOPS = {ast.Lt: "less", ast.LtE: "less_equal", ast.Gt: "greater", ast.GtE: "greater_equal", ast.Eq: "equal",
           ast.NotEq: "not_equal"}

#: kernels whose result is float64 whatever the input's float dtype
F64_KERNELS = frozenset({"_ndtr", "_npdf", "_expnegsq", "_expneghalfsq", "_gelu_tanh_gate", "_gelu_tanh_xgate",
                         "_gelu_tanh_slope"})


#: name the lowered code calls clip by: the generated module binds it to ``np.ndarray.clip``, which is
#: np.clip without its dispatch wrapper (~2 us less per call; the same ufunc, so the same bits)
CLIP = "_clip"
#: kernels taking out= like a ufunc (any buffer of the result's kind, an operand's included)
OUT_KERNELS = frozenset({"_where", "_nan_kept", "_mask_value", "_gelu_tanh_xgate", "_exp_mul", "_exp_div", "_expm1_div", "_exp_times"})


def _callee(fn: str) -> str:
    return CLIP if fn == "clip" else fn if fn in OUT_KERNELS else f"np.{fn}"


@dataclass
class _Instr:
    kind: str  # "ufunc", "binop", "kernel"
    fn: str  # ufunc name (np.<fn>), binop ufunc, or kernel name
    args: list  # operands: ("v", id) array values, ("s", source) scalars
    rkind: str  # "x" (input dtype), "f64", "bool"
    aug: str = ""  # augmented operator for binops
    kwargs: str = ""  # extra keyword arguments, verbatim (kernels)


@dataclass
class Lowered:
    lines: list[str]
    results: list[str]
    ops: int = 0  # array operations
    buffers: int = 0  # full-size buffers allocated (results included)
    peak: int = 0  # most buffers alive at once (results included)
    peak_float: int = 0  # ... not counting bool masks, nor the output buffers (dests) held
    kernels: set[str] = field(default_factory=set)
    cost: int = 0  # estimated time, in units of a cheap pass (see _COST)


#: rough time of an operation in cheap passes (exp ~ 15 add passes on this project's machine)
_COST = {"exp": 15, "log": 15, "log1p": 40, "expm1": 40, "tanh": 40, "sinh": 40, "cosh": 40, "arctan": 30,
         "arcsinh": 40, "sqrt": 5, "true_divide": 2, "power": 30}
_KERNEL_COST = {"_where": 5, "_nan_kept": 2, "_mask_value": 2, "_hypot": 14, "_heaviside": 4, "_exp_mul": 16, "_exp_div": 17, "_expm1_div": 44, "_exp_times": 16}  # others: 60


class _Flattener:
    def __init__(self, arrays: set[str], scalars: set[str], share: bool = True):
        self.share = share  # an operation already emitted on the same operands gives its value again
        self.seen: dict[tuple, tuple] = {}
        self.instrs: list[_Instr] = []
        self.kinds: dict[int, str] = {}
        self.env: dict[str, tuple] = {a: ("in", a) for a in arrays}
        self.scalars = set(scalars)
        self.input_kind = {a: "x" for a in arrays}

    # an operand is ("in", name) for an input array, ("v", id) for a computed array, ("s", text) for a scalar
    def value_kind(self, op: tuple) -> str:
        if op[0] == "in":
            return self.input_kind[op[1]]
        if op[0] == "v":
            return self.kinds[op[1]]
        return "scalar"

    def emit(self, instr: _Instr) -> tuple:
        key = (instr.kind, instr.fn, tuple(instr.args), instr.rkind, instr.aug, instr.kwargs)
        if self.share and key in self.seen:  # pure elementwise operations: the same value (its bits too)
            return self.seen[key]
        self.instrs.append(instr)
        vid = len(self.instrs) - 1
        self.kinds[vid] = instr.rkind
        self.seen[key] = ("v", vid)
        return ("v", vid)

    def _promote(self, ops: list[tuple]) -> str:
        kinds = {self.value_kind(o) for o in ops} - {"scalar"}
        if not kinds:
            return "scalar"
        if "f64" in kinds:
            return "f64"
        if kinds == {"bool"}:
            return "bool"
        return "x"

    def is_scalar(self, node: ast.AST) -> bool:
        for n in ast.walk(node):
            if isinstance(n, ast.Name) and n.id in self.env:
                return False
        return True

    def visit(self, node: ast.AST) -> tuple:
        if self.is_scalar(node):
            return ("s", ast.unparse(node))
        if isinstance(node, ast.Name):
            return self.env[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
            a, b = self.visit(node.left), self.visit(node.right)
            fn, aug = _BINOPS[type(node.op)]
            kind = self._promote([a, b])
            if kind == "bool" and fn in ("add", "subtract", "multiply", "true_divide"):
                kind = "f64"  # a mask times a Python float is float64 in NumPy
            return self.emit(_Instr("binop", fn, [a, b], kind, aug))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            inner = node.operand
            if isinstance(inner, ast.BinOp) and isinstance(inner.op, (ast.Mult, ast.Div)):
                # -(s*v) = (-s)*v and -(v/s) = v/(-s) exactly (rounding is symmetric): one pass fewer
                if self.is_scalar(inner.right):
                    return self.visit(ast.BinOp(inner.left, inner.op, ast.UnaryOp(ast.USub(), inner.right)))
                if self.is_scalar(inner.left) and isinstance(inner.op, ast.Mult):
                    return self.visit(ast.BinOp(ast.UnaryOp(ast.USub(), inner.left), inner.op, inner.right))
            a = self.visit(node.operand)
            return self.emit(_Instr("ufunc", "negative", [a], self._promote([a])))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Invert):
            a = self.visit(node.operand)
            return self.emit(_Instr("ufunc", "invert", [a], "bool"))
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _CMPOPS:
            a, b = self.visit(node.left), self.visit(node.comparators[0])
            return self.emit(_Instr("ufunc", _CMPOPS[type(node.ops[0])], [a, b], "bool"))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name) \
                and node.func.value.id == "np" and node.func.attr in _UFUNCS and not node.keywords:
            args = [self.visit(a) for a in node.args]
            kind = "bool" if _UFUNCS[node.func.attr] == "bool" else self._promote(args)
            if kind == "bool" and _UFUNCS[node.func.attr] != "bool":
                raise LoweringError(f"np.{node.func.attr} of a mask")
            return self.emit(_Instr("ufunc", node.func.attr, args, kind))
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id.startswith("_"):
            args = [self.visit(a) for a in node.args]
            kwargs = ", ".join(ast.unparse(k) for k in node.keywords)
            kind = "f64" if node.func.id in F64_KERNELS else self._promote(args)
            if kind in ("scalar", "bool"):
                kind = "f64"  # e.g. _where(mask, 1.0, 0.5): NumPy gives float64 for Python floats
            return self.emit(_Instr("kernel", node.func.id, args, kind, kwargs=kwargs))
        raise LoweringError(f"cannot lower {ast.unparse(node)!r}")


def _parse_line(line: str) -> tuple[str, ast.AST]:
    tree = ast.parse(line)
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Assign) or len(tree.body[0].targets) != 1 \
            or not isinstance(tree.body[0].targets[0], ast.Name):
        raise LoweringError(f"not a single assignment: {line!r}")
    return tree.body[0].targets[0].id, tree.body[0].value


def lower(lines: list[str], results: list[str], arrays: set[str], scalars: set[str] = frozenset(),
          prefix: str = "b", dests: list[str] | None = None, scratch: bool = False) -> Lowered:
    """Lower `name = expr` lines and result expressions into in-place NumPy statements.

    arrays: names of the input arrays (never written); scalars: names of Python-float parameters.
    dests: per result, the name of an output buffer (or None: allocate) that the operation computing
    it writes into, when no later operation reads it (it may be narrower: float32 output of float64
    work, rounded once there). scratch: an output buffer may also hold values of the input's dtype
    computed before its result (the outputs have the input's dtype; allocated when not given), one
    buffer fewer. Returns statements and, per result, the name holding it (a fresh
    buffer, an output buffer, an input name or a scalar expression).
    """
    for share in (True, False):  # without sharing when two results would be one value (one buffer each)
        fl = _Flattener(set(arrays), set(scalars), share)
        head: list[str] = []  # parameter-only temporaries: Python floats, computed first
        for line in lines:
            name, expr = _parse_line(line)
            value = fl.visit(expr)
            if value[0] == "s":
                head.append(line)
                fl.scalars.add(name)
            else:
                fl.env[name] = value
        outs = [fl.visit(ast.parse(r, mode="eval").body) for r in results]
        computed = [o for o in outs if o[0] == "v"]
        if len(set(computed)) == len(computed):
            break
    low = _emit(fl, outs, prefix, dests, next(iter(arrays)) if scratch and len(arrays) == 1 else None)
    low.lines[:0] = head
    return low


def _takes_out(ins: _Instr) -> bool:
    """Whether the operation can write into a given buffer (out=): ufuncs and OUT_KERNELS."""
    return ins.kind != "kernel" or ins.fn in OUT_KERNELS


def _unit_scale(ins: _Instr, target: str, buf_of: dict[int, str]) -> str | None:
    """The scalar name s of an in-place product v*s, s*v or quotient v/s (v's buffer is the target)."""
    if ins.kind != "binop" or ins.fn not in ("multiply", "true_divide"):
        return None

    def in_place(operand: tuple) -> bool:
        return operand[0] == "v" and buf_of[operand[1]] == target

    a, b = ins.args
    if in_place(a) and b[0] == "s" and b[1].isidentifier():
        return b[1]
    if ins.fn == "multiply" and in_place(b) and a[0] == "s" and a[1].isidentifier():
        return a[1]
    return None


def _emit(fl: _Flattener, outs: list[tuple], prefix: str = "b", dests: list[str] | None = None,
          scratch_of: str | None = None) -> Lowered:
    instrs = fl.instrs
    last: dict[int, int] = {}
    for i, ins in enumerate(instrs):
        for a in ins.args:
            if a[0] == "v":
                last[a[1]] = i
    direct: dict[int, str] = {}  # value -> output buffer its operation writes into
    if dests is not None:
        for o, d in zip(outs, dests):
            if o[0] == "v" and _takes_out(instrs[o[1]]) and o[1] not in last and o[1] not in direct \
                    and d is not None and instrs[o[1]].rkind != "bool":
                direct[o[1]] = d
    final = {o[1] for o in outs if o[0] == "v"}
    for v in final:
        last[v] = len(instrs)  # alive to the end
    # scratch: an output buffer may hold input-dtype values that die by the time its result is written
    until = {d: i for i, d in direct.items()} if scratch_of else {}
    used: set[str] = set()
    # values never used (dead code after CSE) are still computed; their buffer is free at once
    buf_of: dict[int, str] = {}
    free: dict[str, list[str]] = {"x": list(reversed(until)), "f64": [], "bool": []}
    kind_of_buf: dict[str, str] = {}
    lines: list[str] = []
    nbuf = 0
    alive = 0
    peak = 0
    alive_f = 0
    peak_f = 0

    def fits(buf: str, i: int) -> bool:  # may value i live in buf?
        return buf not in until or (i not in final and last.get(i, i) <= until[buf])

    def hold(buf: str, kind: str, sign: int) -> None:
        nonlocal alive, alive_f
        if buf in until:
            return
        alive += sign
        if kind != "bool":
            alive_f += sign
    ops = 0
    kernels: set[str] = set()

    def text(a: tuple) -> str:
        if a[0] == "in":
            return a[1]
        if a[0] == "v":
            return buf_of[a[1]]
        return a[1]

    cost = 0
    for i, ins in enumerate(instrs):
        ops += 1
        cost += _KERNEL_COST.get(ins.fn, 60) if ins.kind == "kernel" else _COST.get(ins.fn, 1)
        dying = list(dict.fromkeys(a[1] for a in ins.args if a[0] == "v" and last.get(a[1]) == i))
        target = None
        if i in direct:
            target = direct[i]
            if target in free["x"]:  # from now on it holds its result
                free["x"].remove(target)
            # held earlier values: allocated at the start; else, when no output buffer is given (the input
            # in one piece), the buffer of a dying operand, as below
            spare = None if target in used else next(
                (buf_of[v] for v in dying if fl.kinds[v] == ins.rkind and buf_of[v] not in until), None)
            out = f"{spare} if {target} is None else {target}" if spare else target
            line = f"{target} = {_callee(ins.fn)}({', '.join(text(a) for a in ins.args)}, out={out})"
            scale = None if spare else _unit_scale(ins, target, buf_of)
            lines.append(f"if {scale} != 1.0: {line}" if scale else line)  # the buffer holds v already
            if ins.kind == "kernel":
                kernels.add(ins.fn)
            for v in dying:
                if buf_of[v] != spare and buf_of[v] != target:  # the spare may hold the result now: never reused
                    free[fl.kinds[v]].append(buf_of[v])
                    hold(buf_of[v], fl.kinds[v], -1)
            buf_of[i] = target
            continue
        if _takes_out(ins):
            for v in dying:  # an operand's buffer of the same kind, no longer needed
                if fl.kinds[v] == ins.rkind and target is None and fits(buf_of[v], i):
                    target = buf_of[v]
            if target is None:
                fitting = [b for b in free[ins.rkind] if fits(b, i)]
                if fitting:
                    target = fitting[-1]
                    free[ins.rkind].remove(target)
                    used.add(target)
                    hold(target, ins.rkind, 1)
        args = ", ".join(text(a) for a in ins.args)
        if ins.kind == "kernel":
            kernels.add(ins.fn)
        if not _takes_out(ins):
            call = f"{ins.fn}({args}{', ' + ins.kwargs if ins.kwargs else ''}"
        else:
            call = f"{_callee(ins.fn)}({args}"
        if target is None:
            target = f"{prefix}{nbuf}"
            nbuf += 1
            hold(target, ins.rkind, 1)
            kind_of_buf[target] = ins.rkind
            lines.append(f"{target} = {call})")
        else:
            first = ins.args[0]
            if ins.kind == "binop" and first[0] == "v" and buf_of[first[1]] == target:
                line = f"{target} {ins.aug} {text(ins.args[1])}"
            else:
                line = f"{call}, out={target})"
            scale = _unit_scale(ins, target, buf_of)
            # x*1 and x/1 are x exactly: a parameter at 1 (the default of most) skips the pass
            lines.append(f"if {scale} != 1.0: {line}" if scale else line)
        peak = max(peak, alive)
        peak_f = max(peak_f, alive_f)
        for v in dying:
            b = buf_of[v]
            if b != target:
                free[fl.kinds[v]].append(b)
                hold(b, fl.kinds[v], -1)
        buf_of[i] = target
        if i not in last and i not in final:  # never used
            free[ins.rkind].append(target)
            hold(target, ins.rkind, -1)
    results = []
    seen: set[str] = set()
    for o in outs:
        name = text(o)
        if o[0] == "v" and name in seen:  # two results in one buffer: give the second its own
            copy = f"{prefix}{nbuf}"
            nbuf += 1
            lines.append(f"{copy} = {name}.copy()")
            name = copy
        seen.add(name)
        results.append(name)
    if used:
        lines[:0] = [f"{d} = np.empty_like({scratch_of}) if {d} is None else {d}" for d in until if d in used]
    return Lowered(lines, results, ops, nbuf, peak, peak_f, kernels, cost)
