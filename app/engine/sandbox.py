"""Checked evaluation of the Python that diagrams carry: gateway conditions, scripts, pre/post scripts,
DMN cells, task properties and timer expressions all run through `prepare` and a `Guard`.

Why a checker and not only restricted builtins: with nothing but `len` and a string in reach, an
attribute walk (`().__class__.__base__.__subclasses__()` ... `__globals__['system']`) reaches the
whole interpreter. Designers hold deploy rights, but a deploy right must not be a shell on the server.

Two layers, both decided once per expression text (the result is cached: evaluation is the engine's
hot path and expressions repeat endlessly):

1. A check of the parsed tree. Every node type must be on an allow-list (no imports, function or
   class definitions, lambdas, try, with, walrus, match, async, yield...); no name, attribute or
   keyword may start with `_`; attributes must be public methods/fields of the plain data types
   (str, numbers, list, dict, tuple, set, datetime) minus the ones that reach further (`format`,
   `format_map` look attributes up inside the format string); a few builtin names are refused by
   name so that the error says so even though they are not in the builtins anyway. Refusals raise
   `UnsafeExpression`, at deploy (lint) and again at run time (specs deployed before the check).

2. A rewrite that sends every operation whose cost grows with its operands through the per-evaluation
   `Guard`, which charges a work budget *before* the operation runs and refuses when it runs out
   (`BudgetExceeded`). Why charge-before-run rather than a clock: a single C-level operation
   (`'a' * 10**12`, `sum(range(10**12))`) cannot be interrupted by a timer or a signal, and threads
   cannot be killed; the only place to stop it is before it starts. Why a work count rather than
   fixed caps on each operation: doubling a value in a loop stays under any single cap, but its
   charges add up to the final size. What is charged:
   - every loop iteration (for, while, comprehensions): 1;
   - `+ * ** << %` and set operations: the size of the result or operands, computed before the
     operation (integers are also capped at MAX_INT_BITS, as big-integer arithmetic is superlinear);
   - comparisons, hashing (dict keys, sets), str() and f-strings: the logical size of the operands,
     counting shared sub-structures every time they are reached (that is what comparing, hashing
     and printing do, so `x = [x, x]` forty times is refused when it is looked at);
   - builtins and methods that consume or build sequences: the size of what they consume or build;
     callbacks they call from C (map, filter, key=) are routed back through the guard.
   The logical size of a script's data after it ran, and of an expression's value, is checked too:
   that data is serialized to JSON, which expands shared structures.

The engine is not otherwise trusted to be a security boundary; the guard only needs to be sound for
the objects reachable from the builtins and datetime types offered in SCRIPT_GLOBALS and from JSON-like
task data.
"""
from __future__ import annotations

import ast
import builtins
import copy
import datetime as _datetime
import functools
import operator
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from types import CodeType
from typing import Any

# How much work one evaluation may do, in units of roughly one element visited by C code or one loop
# iteration by Python code (Python iterations cost far more, so the worst case is the loops: about a
# quarter of a second of CPU). No shipped diagram comes within a thousandth of it.
WORK_BUDGET = 1_000_000
# The logical size a script's data or an expression's value may have (same units: an element, or 16
# characters of text): the bound on what the serializer may be asked to write out.
DATA_LIMIT = 1_000_000
# Integer results larger than this are refused: products and powers of big integers cost more than
# their size, and no case needs numbers of more than ~1200 digits.
MAX_INT_BITS = 4096
# The widest field a format may pad to ('%1000s', f'{x:>1000}').
MAX_FORMAT_WIDTH = 1000
GUARD_NAME = "__concord_guard"

SAFE_BUILTIN_NAMES = (
    "abs", "all", "any", "bool", "dict", "enumerate", "filter", "float", "int", "isinstance",
    "len", "list", "map", "max", "min", "range", "reversed", "round", "set", "sorted", "str",
    "sum", "tuple", "zip", "True", "False", "None", "ValueError", "KeyError",
)
SAFE_BUILTINS: dict[str, Any] = {name: getattr(builtins, name) for name in SAFE_BUILTIN_NAMES}

# Refused by name (they are not offered either): saying so at deploy is clearer than a NameError at 3 a.m.
DENIED_NAMES = frozenset({
    "eval", "exec", "compile", "open", "getattr", "setattr", "delattr", "hasattr", "globals", "locals",
    "vars", "dir", "type", "object", "super", "breakpoint", "input", "help", "memoryview", "classmethod",
    "staticmethod", "property", "exit", "quit", "print", "format", "iter", "next", "id", "callable",
})

# The public attributes of str, bytes, int, float, list, dict, tuple, set, range, dict views and the
# datetime types, less those that reach further than the value: format/format_map (they look up
# attributes named inside the format string), translate/maketrans, to_bytes/from_bytes (a size
# argument unrelated to the input's size) and mapping (a dict view's underlying dict).
ALLOWED_ATTRIBUTES = frozenset({
    "add", "append", "as_integer_ratio", "astimezone", "bit_count", "bit_length", "capitalize",
    "casefold", "center", "clear", "combine", "conjugate", "copy", "count", "ctime", "date", "day",
    "days", "decode", "denominator", "difference", "difference_update", "discard", "dst", "encode",
    "endswith", "expandtabs", "extend", "find", "fold", "fromhex", "fromisocalendar", "fromisoformat",
    "fromkeys", "fromordinal", "fromtimestamp", "fromutc", "get", "hex", "hour", "imag", "index",
    "insert", "intersection", "intersection_update", "is_integer", "isalnum", "isalpha", "isascii",
    "isdecimal", "isdigit", "isdisjoint", "isidentifier", "islower", "isnumeric", "isocalendar",
    "isoformat", "isoweekday", "isprintable", "isspace", "issubset", "issuperset", "istitle", "isupper",
    "items", "join", "keys", "ljust", "lower", "lstrip", "max", "microsecond", "microseconds", "min",
    "minute", "month", "now", "numerator", "partition", "pop", "popitem", "real", "remove",
    "removeprefix", "removesuffix", "replace", "resolution", "reverse", "rfind", "rindex", "rjust",
    "rpartition", "rsplit", "rstrip", "second", "seconds", "setdefault", "sort", "split", "splitlines",
    "start", "startswith", "step", "stop", "strftime", "strip", "strptime", "swapcase",
    "symmetric_difference", "symmetric_difference_update", "time", "timestamp", "timetuple", "timetz",
    "title", "today", "toordinal", "total_seconds", "tzinfo", "tzname", "union", "update", "upper",
    "utc", "utcfromtimestamp", "utcnow", "utcoffset", "utctimetuple", "values", "weekday", "year",
    "zfill",
})

# Why each refused construct is refused (the message names it).
_REFUSED_NODES: dict[type[ast.AST], str] = {
    ast.Import: "import statements", ast.ImportFrom: "import statements",
    ast.FunctionDef: "function definitions (and their decorators)",
    ast.AsyncFunctionDef: "function definitions (and their decorators)",
    ast.ClassDef: "class definitions", ast.Lambda: "lambda expressions",
    ast.Return: "return statements", ast.Yield: "yield", ast.YieldFrom: "yield",
    ast.Await: "await", ast.AsyncFor: "async loops", ast.AsyncWith: "with statements",
    ast.With: "with statements", ast.Global: "global statements", ast.Nonlocal: "nonlocal statements",
    ast.Try: "try statements (a refusal must not be caught)",
    ast.TryStar: "try statements (a refusal must not be caught)",
    ast.NamedExpr: "assignment expressions (:=)", ast.Match: "match statements",
    ast.AnnAssign: "annotated assignments",
}

_ALLOWED_NODES: frozenset[type[ast.AST]] = frozenset({
    ast.Module, ast.Expression,
    # statements
    ast.Assign, ast.AugAssign, ast.Expr, ast.If, ast.For, ast.While, ast.Break, ast.Continue, ast.Pass,
    ast.Delete, ast.Assert, ast.Raise,
    # expressions
    ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.IfExp, ast.Dict, ast.Set, ast.ListComp, ast.SetComp,
    ast.DictComp, ast.GeneratorExp, ast.Compare, ast.Call, ast.FormattedValue, ast.JoinedStr,
    ast.Constant, ast.Attribute, ast.Subscript, ast.Starred, ast.Name, ast.List, ast.Tuple, ast.Slice,
    ast.comprehension, ast.keyword,
    # contexts and operators
    ast.Load, ast.Store, ast.Del, ast.And, ast.Or,
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift, ast.RShift,
    ast.BitOr, ast.BitXor, ast.BitAnd,
    ast.Invert, ast.Not, ast.UAdd, ast.USub,
    ast.Eq, ast.NotEq, ast.Lt, ast.LtE, ast.Gt, ast.GtE, ast.Is, ast.IsNot, ast.In, ast.NotIn,
})


class SandboxError(Exception):
    """An expression or script was refused (before it ran) or stopped (while running)."""


class UnsafeExpression(SandboxError):
    def __init__(self, reason: str, line: int | None = None) -> None:
        self.reason, self.line = reason, line
        where = f" (line {line} of the expression)" if line else ""
        super().__init__(f"refused: {reason}{where}")


class BudgetExceeded(SandboxError):
    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"refused: {what} goes beyond what one evaluation may do")


# ---------------------------------------------------------------------------------------------- check

_NUMBER = re.compile(r"\d+")


def _check(tree: ast.AST) -> None:
    """Raise UnsafeExpression for the first refused construct in reading order (the walk is breadth-first,
    and `len(open(f).read())` should be refused for `open`, not for `read`)."""
    refused = []
    for node in ast.walk(tree):
        try:
            _check_node(node)
        except UnsafeExpression as exc:
            refused.append((_position(node), exc))
    if refused:
        raise min(refused, key=lambda item: item[0])[1]


def _position(node: ast.AST) -> tuple[int, int]:
    if isinstance(node, ast.Attribute) and node.end_lineno is not None and node.end_col_offset is not None:
        return node.end_lineno, node.end_col_offset - len(node.attr)  # where the attribute's name is
    return getattr(node, "lineno", 0), getattr(node, "col_offset", 0)


def _check_node(node: ast.AST) -> None:
    line = getattr(node, "lineno", None)
    kind = type(node)
    if kind not in _ALLOWED_NODES:
        raise UnsafeExpression(f"{_REFUSED_NODES.get(kind, kind.__name__)} are not allowed", line)
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise UnsafeExpression(f"name {node.id!r} starts with '_'", line)
        if node.id in DENIED_NAMES:
            raise UnsafeExpression(f"{node.id!r} is not available", line)
    elif isinstance(node, ast.Attribute):
        if node.attr.startswith("_"):
            raise UnsafeExpression(f"attribute {node.attr!r} starts with '_'", line)
        if node.attr not in ALLOWED_ATTRIBUTES:
            raise UnsafeExpression(f"attribute {node.attr!r} is not allowed", line)
        if not isinstance(node.ctx, ast.Load):
            raise UnsafeExpression("setting or deleting attributes is not allowed", line)
    elif isinstance(node, ast.keyword):
        if node.arg is not None and node.arg.startswith("_"):
            raise UnsafeExpression(f"keyword {node.arg!r} starts with '_'", line)
    elif isinstance(node, ast.comprehension):
        if node.is_async:
            raise UnsafeExpression("async comprehensions are not allowed", line)
    elif isinstance(node, ast.AugAssign):
        target = node.target
        simple = isinstance(target, ast.Name) or (
            isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name)
            and isinstance(target.slice, (ast.Name, ast.Constant)))
        if not simple:  # the rewrite reads the target twice: only side-effect-free targets qualify
            raise UnsafeExpression("augmented assignment needs a target like `x` or `x[key]`", line)
    elif isinstance(node, ast.FormattedValue) and node.format_spec is not None:
        _check_format_spec(node.format_spec, line)


def _check_format_spec(spec: ast.expr, line: int | None) -> None:
    """f'{x:>{width}}' would pad to any width: a spec must be written out, with small numbers."""
    parts = spec.values if isinstance(spec, ast.JoinedStr) else [spec]
    if not all(isinstance(part, ast.Constant) and isinstance(part.value, str) for part in parts):
        raise UnsafeExpression("a format specification must be written out, not computed", line)
    text = "".join(str(part.value) for part in parts if isinstance(part, ast.Constant))
    if any(int(number) > MAX_FORMAT_WIDTH for number in _NUMBER.findall(text)):
        raise UnsafeExpression(f"format widths above {MAX_FORMAT_WIDTH} are not allowed", line)


# -------------------------------------------------------------------------------------------- rewrite

_BINOPS: tuple[type[ast.operator], ...] = (
    ast.Add, ast.Sub, ast.Mult, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift, ast.RShift,
    ast.BitOr, ast.BitXor, ast.BitAnd)
_ADD, _SUB, _MULT, _DIV, _FLOORDIV, _MOD, _POW, _LSHIFT, _RSHIFT, _BITOR, _BITXOR, _BITAND = range(12)
_PLAIN_OPS: tuple[Callable[[Any, Any], Any], ...] = (
    operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv, operator.mod,
    operator.pow, operator.lshift, operator.rshift, operator.or_, operator.xor, operator.and_)
_INPLACE_OPS: tuple[Callable[[Any, Any], Any], ...] = (
    operator.iadd, operator.isub, operator.imul, operator.itruediv, operator.ifloordiv, operator.imod,
    operator.ipow, operator.ilshift, operator.irshift, operator.ior, operator.ixor, operator.iand)


class _Rewrite(ast.NodeTransformer):
    """Routes costly operations through the guard (see the module docstring); runs on checked trees."""

    def __init__(self) -> None:
        self.used = False

    def _helper(self, name: str, *args: ast.expr) -> ast.Call:
        self.used = True
        func = ast.Attribute(value=ast.Name(id=GUARD_NAME, ctx=ast.Load()), attr=name, ctx=ast.Load())
        return ast.Call(func=func, args=list(args), keywords=[])

    def _deep(self, node: ast.expr) -> ast.expr:
        return node if isinstance(node, ast.Constant) else self._helper("deep", node)

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        call = self._helper("call", node.func, *node.args)
        call.keywords = node.keywords
        return call

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        return self._helper("binop", ast.Constant(_BINOPS.index(type(node.op))), node.left, node.right)

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        load = copy.deepcopy(node.target)
        load.ctx = ast.Load()
        target = self.visit(node.target)
        value = self.visit(node.value)
        load = self.visit(load)
        # x += y is x = x.__iadd__(y) (a list is extended in place, as in plain Python)
        inplace = self._helper("inplace", ast.Constant(_BINOPS.index(type(node.op))), load, value)
        return ast.Assign(targets=[target], value=inplace)

    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if all(isinstance(op, (ast.Is, ast.IsNot)) for op in node.ops):
            return node  # identity: constant time whatever the operands
        node.left = self._deep(node.left)
        node.comparators = [self._deep(c) for c in node.comparators]
        return node

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.slice, ast.Slice):
            node.value = self._helper("flat", node.value)  # a slice copies
        else:
            node.slice = self._deep(node.slice)  # a key is hashed
        return node

    def visit_Starred(self, node: ast.Starred) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.ctx, ast.Load):
            node.value = self._helper("flat", node.value)
        return node

    def visit_keyword(self, node: ast.keyword) -> ast.AST:
        self.generic_visit(node)
        if node.arg is None:
            node.value = self._helper("flat", node.value)
        return node

    def visit_Dict(self, node: ast.Dict) -> ast.AST:
        self.generic_visit(node)
        node.values = [self._helper("flat", v) if k is None else v for k, v in zip(node.keys, node.values, strict=True)]
        node.keys = [None if k is None else self._deep(k) for k in node.keys]
        return node

    def visit_Set(self, node: ast.Set) -> ast.AST:
        self.generic_visit(node)
        node.elts = [e if isinstance(e, ast.Starred) else self._deep(e) for e in node.elts]
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> ast.AST:
        self.generic_visit(node)
        node.value = self._deep(node.value)
        return node

    def visit_For(self, node: ast.For) -> ast.AST:
        self.generic_visit(node)
        node.iter = self._helper("loop", node.iter)
        return node

    def visit_comprehension(self, node: ast.comprehension) -> ast.AST:
        self.generic_visit(node)
        node.iter = self._helper("loop", node.iter)
        return node

    def visit_While(self, node: ast.While) -> ast.AST:
        self.generic_visit(node)
        node.test = ast.BoolOp(op=ast.And(), values=[self._helper("tick"), node.test])
        return node


@dataclass(frozen=True)
class Prepared:
    code: CodeType | None
    guarded: bool  # the code refers to the guard: give it one
    error: tuple[type[Exception], tuple[Any, ...]] | None  # refused: raise this (a fresh one each time)

    def checked_code(self) -> CodeType:
        if self.error is not None:
            kind, args = self.error
            raise kind(*args)
        assert self.code is not None
        return self.code


# Why a cache: the engine hands expressions over as text, afresh for each evaluation (a DMN rule is
# rebuilt per row and per decision). The set of texts is fixed by the deployed diagrams, so each is
# parsed, checked, rewritten and compiled once per process.
@lru_cache(maxsize=8192)
def prepare(text: str, mode: str) -> Prepared:
    """Parse, check, rewrite and compile `text` ("eval" or "exec"); the refusal is kept, not raised."""
    try:
        tree = ast.parse(text, "<string>", mode)
        _check(tree)
    except SyntaxError as exc:
        return Prepared(None, False, (SyntaxError, exc.args))
    except UnsafeExpression as exc:
        return Prepared(None, False, (UnsafeExpression, (exc.reason, exc.line)))
    except (RecursionError, MemoryError) as exc:  # absurdly nested source
        return Prepared(None, False, (UnsafeExpression, (f"the expression is too deeply nested ({exc})",)))
    rewrite = _Rewrite()
    tree = ast.fix_missing_locations(rewrite.visit(tree))
    # "<string>" is the file name the engine looks for in tracebacks to report a script's failing line
    return Prepared(compile(tree, "<string>", mode), rewrite.used, None)


def refusal(text: str, mode: str) -> str | None:
    """Why `text` may not be evaluated (syntax or safety), for the deploy-time lint; None when it may."""
    error = prepare(text, mode).error
    if error is None:
        return None
    kind, args = error
    if kind is SyntaxError:
        lineno = args[1][1] if len(args) > 1 and args[1] else None
        return f"does not compile: {args[0]} (line {lineno} of the expression)"
    return str(kind(*args))


# ---------------------------------------------------------------------------------------------- guard

_TEXT = (str, bytes)
_SCALARS = frozenset({int, float, bool, type(None), complex, _datetime.datetime, _datetime.date,
                      _datetime.time, _datetime.timedelta, _datetime.timezone})
_SEQUENCES = (list, tuple, set, frozenset)

# Methods that take constant time whatever the size of the object they are called on.
_CONSTANT_TIME_METHODS = frozenset({
    "append", "pop", "get", "setdefault", "keys", "values", "items", "add", "discard", "popitem", "clear",
    "isoformat", "strftime", "weekday", "isoweekday", "date", "time", "timestamp", "total_seconds",
    "bit_length", "bit_count", "is_integer", "astimezone", "utcoffset", "tzname", "dst",
})
# Methods that compare or hash the elements of the object they are called on.
_INSPECTING_METHODS = frozenset({"count", "index", "remove", "sort"})
# Methods whose arguments are stored, not looked at (beyond the first, the key, for get/setdefault/pop).
_STORING_METHODS = frozenset({"append", "insert"})
_KEYED_METHODS = frozenset({"get", "setdefault", "pop"})
_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?")


def _text_units(text: str | bytes) -> int:
    return 1 + len(text) // 16


class Guard:
    """The work budget of one evaluation and the checked versions of costly operations (see the module
    docstring). One per evaluation: nothing is shared between evaluations or threads."""

    __slots__ = ("remaining",)

    def __init__(self, budget: int = WORK_BUDGET) -> None:
        self.remaining = budget

    def charge(self, units: int, what: str = "the work") -> None:
        self.remaining -= units
        if self.remaining < 0:
            raise BudgetExceeded(what)

    # -- sizes

    def size(self, value: Any, limit: int, memo: dict[int, int] | None = None) -> int:
        """The logical size of `value`: what comparing, hashing or printing it visits, shared parts
        counted each time they are reached (memoized by identity so that computing it stays cheap)."""
        kind = type(value)
        if kind in _SCALARS:
            return 1
        if kind is str or kind is bytes:
            return _text_units(value)
        if not isinstance(value, (list, tuple, set, frozenset, dict)):
            try:
                return 1 + len(value)  # dict views, ranges (whose elements C code may walk)
            except TypeError:
                return 1
            except OverflowError:
                raise BudgetExceeded("the size of a value") from None
        if memo is None:
            memo = {}
        known = memo.get(id(value))
        if known is not None:
            if known < 0:  # reached again while it is being measured
                raise BudgetExceeded("a value that contains itself")
            return known
        total = 1 + len(value)
        if total > limit:
            raise BudgetExceeded("the size of a value")
        memo[id(value)] = -1
        try:
            items: Iterable[Any] = chain.from_iterable(value.items()) if isinstance(value, dict) else value
            for item in items:
                total += self.size(item, limit, memo)
                if total > limit:
                    raise BudgetExceeded("the size of a value")
        except RecursionError:
            raise BudgetExceeded("the nesting of a value") from None
        memo[id(value)] = total
        return total

    def deep(self, value: Any) -> Any:
        """Charge what inspecting `value` (compare, hash, str) costs, and pass it through."""
        kind = type(value)
        if kind in _SCALARS:
            self.charge(1)
        elif kind is str:
            self.charge(_text_units(value))
        else:
            self.charge(self.size(value, max(self.remaining, 0)), "inspecting a value")
        return value

    def flat(self, value: Any) -> Any:
        """Charge what copying `value`'s elements costs (unpacking, slicing), and pass it through;
        an iterator without a length is charged element by element as it is consumed."""
        kind = type(value)
        if kind is str or kind is bytes:
            self.charge(_text_units(value))
            return value
        try:
            self.charge(1 + len(value), "copying a value")
        except OverflowError:
            raise BudgetExceeded("copying a value") from None
        except TypeError:
            return self.loop(value)
        return value

    def tick(self) -> bool:
        self.remaining -= 1
        if self.remaining < 0:
            raise BudgetExceeded("the number of loop iterations")
        return True

    def loop(self, iterable: Iterable[Any]) -> Iterator[Any]:
        for item in iterable:
            self.remaining -= 1
            if self.remaining < 0:
                raise BudgetExceeded("the number of loop iterations")
            yield item

    def _inspected(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """Elements consumed by C code that hashes or compares them (set, dict, sorted, max...)."""
        for item in iterable:
            self.deep(item)
            yield item

    def consume(self, iterable: Any, inspect: bool) -> Any:
        """What a builtin that walks `iterable` in C gets: the iterable itself once its size is charged,
        or a counting iterator when it has no size."""
        kind = type(iterable)
        if kind is str or kind is bytes:
            self.charge(_text_units(iterable))
            return iterable
        try:
            length = len(iterable)
        except OverflowError:
            raise BudgetExceeded("an iteration") from None
        except TypeError:
            counted = self.loop(iterable)
            return self._inspected(counted) if inspect else counted
        self.charge(1 + length, "an iteration")
        if inspect:
            self.deep(iterable)
        return iterable

    # -- operators

    def _int_result(self, bits: int) -> None:
        if bits > MAX_INT_BITS:
            raise BudgetExceeded(f"an integer of about {bits} bits (more than {MAX_INT_BITS})")
        self.charge(1 + bits // 64, "integer arithmetic")

    def _check_binop(self, op: int, left: Any, right: Any) -> None:
        lkind, rkind = type(left), type(right)
        if lkind is int and rkind is int or lkind is bool or rkind is bool:
            a, b = int(left), int(right)
            if op == _POW:
                if b > 0 and abs(a) > 1:
                    self._int_result(a.bit_length() * b)
            elif op == _LSHIFT:
                if b > 0:
                    self._int_result(a.bit_length() + b)
            elif op == _MULT:
                self._int_result(a.bit_length() + b.bit_length())
            else:
                self._int_result(max(a.bit_length(), b.bit_length()) + 1)
            if lkind is int or rkind is int or (lkind is bool and rkind is bool):
                return
        if op == _MULT:
            for seq, times in ((left, right), (right, left)):
                if isinstance(times, int) and isinstance(seq, (str, bytes, list, tuple)):
                    length = len(seq) * max(times, 0)  # of the result
                    self.charge(1 + length // 16 if isinstance(seq, (str, bytes)) else 1 + length,
                                "repeating a sequence")
                    return
        elif op == _MOD and isinstance(left, (str, bytes)):
            self._check_percent(left)
            self.deep(right)
            return
        elif op == _POW and isinstance(left, int) and isinstance(right, int):
            return  # (bools, handled above)
        if lkind in _SCALARS and rkind in _SCALARS:
            self.charge(1)
            return
        self.charge(self.size(left, max(self.remaining, 0)) + self.size(right, max(self.remaining, 0)),
                    "an operation")

    def _check_percent(self, template: str | bytes) -> None:
        """'%1000000000s' % x pads to any width: widths and precisions must be written and small."""
        text = template.decode("latin-1") if isinstance(template, bytes) else template
        self.charge(_text_units(text))
        for match in _PERCENT_FIELD.finditer(text):
            for number in match.groups():
                if number == "*" or (number and int(number) > MAX_FORMAT_WIDTH):
                    raise BudgetExceeded(f"a format width above {MAX_FORMAT_WIDTH}")

    def binop(self, op: int, left: Any, right: Any) -> Any:
        self._check_binop(op, left, right)
        return _PLAIN_OPS[op](left, right)

    def inplace(self, op: int, left: Any, right: Any) -> Any:
        self._check_binop(op, left, right)
        return _INPLACE_OPS[op](left, right)

    # -- calls

    def _callback(self, func: Any) -> Any:
        """A function that C code will call once per element (map, filter, key=): back through call()."""
        return None if func is None else functools.partial(self.call, func)

    def call(self, func: Any, /, *args: Any, **kwargs: Any) -> Any:
        special = _SPECIAL_CALLS.get(id(func))
        if special is not None and special[0] is func:
            return special[1](self, func, args, kwargs)
        self.charge(1)
        objclass = getattr(func, "__objclass__", None)
        if isinstance(objclass, type) and args and isinstance(args[0], objclass):
            # str.lower(x), as map(str.lower, names) calls it: charged as x.lower()
            return self.call(getattr(args[0], func.__name__), *args[1:], **kwargs)
        owner = getattr(func, "__self__", None)
        if owner is None or owner is builtins or isinstance(owner, type):
            # a builtin function or class (constant work on its arguments), or a classmethod
            if getattr(func, "__name__", "") == "fromkeys":
                for arg in args:
                    self.consume(arg, inspect=True)
            return func(*args, **kwargs)
        return func(*self._charge_method(owner, func.__name__, args, kwargs), **kwargs)

    def _charge_method(self, owner: Any, name: str, args: tuple[Any, ...],
                       kwargs: dict[str, Any]) -> tuple[Any, ...]:
        """Charge a method call on `owner` before it runs; returns the arguments to call it with."""
        if name not in _CONSTANT_TIME_METHODS:
            if name in _INSPECTING_METHODS:
                self.deep(owner)
            elif isinstance(owner, _datetime.date):
                self.charge(1)
            else:
                self.flat(owner)
        if name == "sort":
            self.charge(len(owner) * max(len(owner), 1).bit_length(), "sorting")
            if "key" in kwargs:
                kwargs["key"] = self._callback(kwargs["key"])
        if name in _STORING_METHODS:
            pass
        elif name in _KEYED_METHODS:
            if args:
                self.deep(args[0])
        else:
            for arg in args:
                self.deep(arg)  # (an iterator counts itself as it is drawn)
            for arg in kwargs.values():
                self.deep(arg)
        if isinstance(owner, (str, bytes)):
            return self._check_text_method(owner, name, args)
        return args

    def _check_text_method(self, text: str | bytes, name: str, args: tuple[Any, ...]) -> tuple[Any, ...]:
        """The text methods whose result can be much longer than their inputs."""
        if name in ("ljust", "rjust", "center", "zfill") and args and isinstance(args[0], int):
            self.charge(args[0] // 16, "padding text")
        elif name == "expandtabs":
            tabsize = args[0] if args and isinstance(args[0], int) else 8
            tabs = text.count("\t") if isinstance(text, str) else text.count(b"\t")
            self.charge(tabs * max(tabsize, 0) // 16, "expanding tabs")
        elif name == "replace" and len(args) >= 2:
            old, new = args[0], args[1]
            if isinstance(old, (str, bytes)) and isinstance(new, (str, bytes)):
                found = len(text) + 1 if not old else text.count(old)  # type: ignore[arg-type]
                if len(args) > 2 and isinstance(args[2], int) and args[2] >= 0:
                    found = min(found, args[2])
                self.charge(found * max(len(new) - len(old), 0) // 16, "replacing text")
        elif name == "join" and args:
            parts = list(self.consume(args[0], inspect=False))
            units = sum(_text_units(p) for p in parts if isinstance(p, (str, bytes)))
            self.charge(units + len(parts) * len(text) // 16, "joining text")
            return (parts, *args[1:])
        return args


# -- the builtins that walk or build sequences in C

SpecialCall = Callable[[Guard, Any, tuple[Any, ...], dict[str, Any]], Any]


def _consuming(inspect: bool) -> SpecialCall:
    """list(x), tuple(x), set(x), dict(x), all(x), any(x): charge what they walk."""
    def call(guard: Guard, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        guard.charge(1)
        args = tuple(guard.consume(arg, inspect) for arg in args)
        for value in kwargs.values():
            guard.deep(value)
        return func(*args, **kwargs)
    return call


def _call_str(guard: Guard, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    for arg in args:
        guard.deep(arg)  # str(container) prints every element
    return func(*args, **kwargs)


def _call_sum(guard: Guard, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    start = args[1] if len(args) > 1 else kwargs.get("start", 0)
    if type(start) not in (int, float, bool, complex):
        raise UnsafeExpression("sum() adds numbers only (adding sequences this way is quadratic)")
    guard.charge(1)
    return func(guard.consume(args[0], inspect=False) if args else (), *args[1:], **kwargs)


def _call_sorted(guard: Guard, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    items = list(guard.consume(args[0], inspect=True)) if args else []
    guard.charge(len(items) * max(len(items), 1).bit_length(), "sorting")
    if "key" in kwargs:
        kwargs["key"] = guard._callback(kwargs["key"])
    return func(items, *args[1:], **kwargs)


def _call_min_max(guard: Guard, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    if len(args) == 1:
        args = (guard.consume(args[0], inspect=True),)
    else:
        for arg in args:
            guard.deep(arg)
    if "key" in kwargs:
        kwargs["key"] = guard._callback(kwargs["key"])
    return func(*args, **kwargs)


def _call_lazy(counted: slice, callback: bool = False) -> SpecialCall:
    """map, filter, zip, enumerate: lazy in C; the iterables among their arguments (`counted`) are
    counted as they are drawn, and the function map/filter call per element goes back through call()."""
    def call(guard: Guard, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        guard.charge(1)
        head = (guard._callback(args[0]),) if callback and args else args[:counted.start]
        rest = args[counted.stop:] if counted.stop is not None else ()
        return func(*head, *(guard.loop(arg) for arg in args[counted]), *rest, **kwargs)
    return call


def _call_reversed(guard: Guard, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    guard.charge(1)
    return guard.loop(func(*args, **kwargs))


_SPECIAL_BY_FUNCTION: dict[Any, SpecialCall] = {
    list: _consuming(False), tuple: _consuming(False), all: _consuming(False), any: _consuming(False),
    set: _consuming(True), frozenset: _consuming(True), dict: _consuming(True),
    str: _call_str, sum: _call_sum, sorted: _call_sorted, min: _call_min_max, max: _call_min_max,
    map: _call_lazy(slice(1, None), callback=True), filter: _call_lazy(slice(1, 2), callback=True),
    zip: _call_lazy(slice(0, None)), enumerate: _call_lazy(slice(0, 1)), reversed: _call_reversed,
}
# Looked up by identity (id + an `is` check): builtin methods hash their object, and data is unhashable.
_SPECIAL_CALLS: dict[int, tuple[Any, SpecialCall]] = {id(f): (f, call) for f, call in _SPECIAL_BY_FUNCTION.items()}


def check_data(values: Iterable[Any], what: str) -> None:
    """Refuse values whose logical size together is beyond DATA_LIMIT: what the serializer would write
    out (it expands shared structures) and what every later step would copy."""
    total, guard = 0, Guard(DATA_LIMIT)
    memo: dict[int, int] = {}
    try:
        for value in values:
            kind = type(value)
            if kind in _SCALARS:
                total += 1
            elif kind is str:
                total += _text_units(value)
            else:
                total += guard.size(value, DATA_LIMIT - total, memo)
            if total > DATA_LIMIT:
                raise BudgetExceeded(what)
    except BudgetExceeded as exc:
        raise BudgetExceeded(what if exc.what == "the size of a value" else f"{what} ({exc.what})") from None
