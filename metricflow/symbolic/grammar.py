"""The expression grammar: user text -> sympy, without ever executing the text.

Every string a user gives metricflow (``--metric``, ``--dilaton``, ``--potential``,
``--poly``, ``Metric("x y", "...")``, …) is read here.  The text is parsed by Python's
own parser into a syntax tree (``ast.parse(text, mode="eval")``: parsing never runs
anything) and the tree is walked with an explicit whitelist; sympy objects are built
directly from the nodes (``sp.Add``, ``sp.Mul``, ``sp.Pow``, ``sp.Integer``, …).  Nothing
is passed to ``eval``, ``sympify`` or ``parse_expr``.

Accepted (docs/reliability.md, "The expression grammar"):

* numbers: integers (decimal, or ``0x``/``0o``/``0b``), decimals and ``1e-3``
  (sympy Floats, as before); complex literals ``2j`` are refused, the imaginary unit is
  ``I`` where complex input is meaningful;
* names: declared names (coordinates, parameters) first; then ``pi`` and ``E`` (the
  constants), ``I`` (the imaginary unit, complex input only); any other identifier is a
  parameter Symbol; a call ``u(x, y)`` of a name that is not in :data:`FUNCTIONS` is an
  undefined function;
* ``+ - * / **``, ``^`` (also power), unary ``-`` and ``+``, parentheses;
* calls of the functions in :data:`FUNCTIONS`;
* nested lists or tuples for matrices (:func:`parse_matrix_text` only).

Everything else (attributes, subscripts, strings, keywords, lambdas, comprehensions,
comparisons, names containing ``__``, ...) raises :class:`InvalidInputError` with the
argument, the column and the offending token.  The sizes are bounded by :class:`Limits`.
"""

from __future__ import annotations

import ast
import keyword
import math
import unicodedata
import warnings
from collections.abc import Mapping
from dataclasses import dataclass

import sympy as sp

from metricflow.errors import InvalidInputError

#: The functions an expression may call: name -> (sympy function, allowed argument counts).
FUNCTIONS: dict[str, tuple[object, tuple[int, ...]]] = {
    "sin": (sp.sin, (1,)), "cos": (sp.cos, (1,)), "tan": (sp.tan, (1,)),
    "cot": (sp.cot, (1,)), "sec": (sp.sec, (1,)), "csc": (sp.csc, (1,)),
    "sinh": (sp.sinh, (1,)), "cosh": (sp.cosh, (1,)), "tanh": (sp.tanh, (1,)),
    "coth": (sp.coth, (1,)), "sech": (sp.sech, (1,)), "csch": (sp.csch, (1,)),
    "asin": (sp.asin, (1,)), "acos": (sp.acos, (1,)), "atan": (sp.atan, (1,)),
    "asinh": (sp.asinh, (1,)), "acosh": (sp.acosh, (1,)), "atanh": (sp.atanh, (1,)),
    "exp": (sp.exp, (1,)), "log": (sp.log, (1, 2)), "sqrt": (sp.sqrt, (1,)),
    "conjugate": (sp.conjugate, (1,)), "Abs": (sp.Abs, (1,)), "re": (sp.re, (1,)), "im": (sp.im, (1,)),
}

#: Constants an *undeclared* name stands for (a declared coordinate or parameter wins).
CONSTANTS: dict[str, sp.Expr] = {"pi": sp.pi, "E": sp.E}


@dataclass(frozen=True)
class Limits:
    """Bounds on what one expression may ask for (each refusal names the bound).

    ``max_length`` characters of text, ``max_nodes`` syntax-tree nodes, ``max_depth``
    levels of nesting (a long sum ``a + b + c + …`` is one level), ``|n| <= max_exponent``
    for every numeric exponent (also after sympy combines ``(x**a)**b``), and at most
    ``max_digits`` decimal digits in an integer literal or in an exact numeric power.
    """

    max_length: int = 10_000
    max_nodes: int = 10_000
    max_depth: int = 60
    max_exponent: int = 1_000
    max_digits: int = 100


LIMITS = Limits()

_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**", ast.BitXor: "^"}


def check_name(name: str, argument: str, what: str = "name") -> str:
    """A declared name (coordinate or parameter) as the grammar will read it: an identifier
    (NFKC-normalised, as Python's parser normalises it), no keyword, no ``__``, and not one
    of :data:`FUNCTIONS` (``sin`` cannot also be a coordinate)."""
    if not isinstance(name, str):
        raise InvalidInputError(argument, f"{name!r} is not a valid {what}")
    norm = unicodedata.normalize("NFKC", name)
    if not norm.isidentifier() or keyword.iskeyword(norm):
        raise InvalidInputError(argument, f"{name!r} is not a valid {what} (expected an identifier such as x or theta)")
    if "__" in norm:
        raise InvalidInputError(argument, f"{name!r} is not a valid {what}: names containing '__' are reserved")
    if norm in FUNCTIONS:
        raise InvalidInputError(argument, f"{name!r} is not a valid {what}: it is the function {norm}()")
    return norm


def parse_text(text: str, argument: str, names: Mapping[str, sp.Expr] | None = None, *,
               matrix: bool = False, allow_complex: bool = False, limits: Limits = LIMITS):
    """Parse ``text`` with the grammar: a sympy expression, or (``matrix=True``) a list of
    rows of sympy expressions.  ``names`` maps declared names to what they stand for."""
    if not isinstance(text, str):
        raise InvalidInputError(argument, f"expected a string, got {type(text).__name__}")
    if len(text) > limits.max_length:
        raise InvalidInputError(argument, f"the expression has {len(text)} characters; at most "
                                f"{limits.max_length} are accepted")
    source = text.replace("\u2212", "-").strip()  # a minus sign pasted from a paper (same column)
    if not source:
        raise InvalidInputError(argument, "empty expression")
    # ``^`` is power with the precedence of ``**`` (as sympy's convert_xor): rewritten before
    # parsing; _Source maps columns and tokens back to what the user typed
    src = _Source(source)
    try:
        with warnings.catch_warnings():  # "invalid decimal literal" and friends: refused below or harmless
            warnings.simplefilter("ignore")
            tree = ast.parse(src.text, mode="eval")
    except SyntaxError as exc:
        raise InvalidInputError(argument, _syntax_message(src, exc)) from None
    except ValueError as exc:  # a null byte (Python 3.11)
        raise InvalidInputError(argument, f"cannot parse: {exc}") from None
    except (MemoryError, RecursionError):
        raise InvalidInputError(argument, "the expression nests too deeply for Python's parser (a chain "
                                "of more than about 2000 terms counts as nesting); split it") from None
    count = 0
    for _ in ast.walk(tree):
        count += 1
        if count > limits.max_nodes:
            raise InvalidInputError(argument, f"the expression has more than {limits.max_nodes} "
                                    "syntax nodes; split it or use a sympy expression")
    b = _Builder(src, argument, dict(names or {}), allow_complex, limits)
    return b.matrix(tree.body) if matrix else b.scalar(tree.body)


def _syntax_message(src: _Source, exc: SyntaxError) -> str:
    lineno = exc.lineno or 1
    col = src.column(lineno, max((exc.offset or 1) - 1, 0), chars=True)
    near = src.line(lineno)[col - 1:col + 11]
    where = f"line {lineno}, column {col}" if src.multiline else f"column {col}"
    return f"cannot parse: {exc.msg} at {where} (near {near!r}); expected an expression such as sin(x)**2 + 1"


class _Source:
    """The user's text and the parsed text (``^`` -> ``**``), with positions mapped back."""

    def __init__(self, source: str):
        self.source = source
        self.text = source.replace("^", "**")
        self.source_lines = source.splitlines() or [""]
        self.multiline = len(self.source_lines) > 1

    def line(self, lineno: int) -> str:
        return self.source_lines[lineno - 1] if 0 < lineno <= len(self.source_lines) else ""

    def column(self, lineno: int, offset: int, chars: bool = False) -> int:
        """1-based column in the user's line of a 0-based offset in the parsed line (UTF-8
        bytes as ``ast`` reports them, or characters with ``chars``)."""
        user = self.line(lineno)
        n = offset if chars else len(user.replace("^", "**").encode()[:offset].decode(errors="ignore"))
        pos = 0
        for i, ch in enumerate(user):
            if pos >= n:
                return i + 1
            pos += 2 if ch == "^" else 1
        return len(user) + 1

    def segment(self, node: ast.AST) -> str:
        """The user's text of a node (its first line when it spans several)."""
        if not hasattr(node, "lineno"):
            return type(node).__name__
        start = self.column(node.lineno, node.col_offset) - 1
        if node.end_lineno == node.lineno:
            end = self.column(node.lineno, node.end_col_offset) - 1
            return self.line(node.lineno)[start:end]
        return self.line(node.lineno)[start:]


class _Builder:
    """Walks a syntax tree and builds sympy; refuses every node outside the grammar."""

    def __init__(self, src: _Source, argument: str, names: dict, allow_complex: bool, limits: Limits):
        self.src, self.argument, self.names = src, argument, names
        self.allow_complex, self.limits = allow_complex, limits
        self.as_symbol: dict[str, ast.AST] = {}
        self.as_function: dict[str, ast.AST] = {}

    # ------------------------------------------------------------------ errors
    def _column(self, node: ast.AST, at_operator: bool = False) -> str:
        lineno, offset = getattr(node, "lineno", 1), getattr(node, "col_offset", 0)
        col = self.src.column(lineno, offset)
        if at_operator:  # the position of a BinOp's operator
            lineno = node.left.end_lineno
            col = self.src.column(lineno, node.left.end_col_offset)
            line = self.src.line(lineno)
            while col <= len(line) and line[col - 1] in " \t)":
                col += 1
        return f"line {lineno}, column {col}" if self.src.multiline else f"column {col}"

    def _token(self, node: ast.AST) -> str:
        seg = " ".join(self.src.segment(node).split()) or type(node).__name__
        return seg if len(seg) <= 40 else seg[:39] + "…"

    def refuse(self, node: ast.AST, reason: str, token: str | None = None, at_operator: bool = False):
        tok = self._token(node) if token is None else token
        raise InvalidInputError(self.argument, f"{tok!r} at {self._column(node, at_operator)}: {reason}")

    # ------------------------------------------------------------------ entry points
    def scalar(self, node: ast.AST) -> sp.Expr:
        if isinstance(node, (ast.List, ast.Tuple)):
            self.refuse(node, "expected a scalar expression, not a list", token="[" if isinstance(node, ast.List)
                        else "(")
        return self._finish(self.expr(node, 1), node)

    def matrix(self, node: ast.AST) -> list[list[sp.Expr]]:
        if not isinstance(node, (ast.List, ast.Tuple)) or not node.elts or not all(
                isinstance(r, (ast.List, ast.Tuple)) for r in node.elts):
            raise InvalidInputError(self.argument, "expected a square matrix written as a list of rows, "
                                    "e.g. '[[1,0],[0,sin(theta)**2]]'")
        rows = [[self._finish(self.expr(x, 3), x) for x in r.elts] for r in node.elts]
        return rows

    def _finish(self, expr, node: ast.AST) -> sp.Expr:
        """Checks on the built expression: no infinities, no numeric exponent past the limit
        (sympy combines ``(x**600)**2``), and no name used both as a symbol and a function."""
        both = set(self.as_symbol) & set(self.as_function)
        if both:
            name = sorted(both)[0]
            self.refuse(self.as_function[name], f"{name} is used both as a symbol and as a function")
        if expr.has(sp.zoo, sp.oo, -sp.oo, sp.nan):
            self.refuse(node, "the value is infinite or undefined (a division by zero, log(0), ...)")
        for p in sp.preorder_traversal(expr):
            if p.is_Pow and p.exp.is_number and p.exp.is_real and _exceeds(p.exp, self.limits.max_exponent):
                self.refuse(node, f"the exponent {p.exp} exceeds the limit {self.limits.max_exponent}")
        return expr

    # ------------------------------------------------------------------ nodes
    def expr(self, node: ast.AST, depth: int) -> sp.Expr:
        if depth > self.limits.max_depth:
            self.refuse(node, f"the expression nests more than {self.limits.max_depth} levels deep")
        if isinstance(node, ast.Constant):
            return self.number(node)
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                return -self.expr(node.operand, depth + 1)
            if isinstance(node.op, ast.UAdd):
                return self.expr(node.operand, depth + 1)
            self.refuse(node, "only unary - and + are allowed", token={ast.Not: "not", ast.Invert: "~"}.get(
                type(node.op), type(node.op).__name__))
        if isinstance(node, ast.BinOp):
            return self.binop(node, depth)
        if isinstance(node, ast.Call):
            return self.call(node, depth)
        if isinstance(node, (ast.List, ast.Tuple)):
            self.refuse(node, "a list is only allowed as the rows of a matrix")
        if isinstance(node, (ast.Attribute, ast.Subscript)) and isinstance(node.value, (
                ast.Call, ast.Attribute, ast.Subscript)):
            self.expr(node.value, depth + 1)  # the innermost offence first: __import__ in __import__('os').x
        self.refuse(node, f"{_describe(node)} is not allowed; expressions use numbers, names, "
                    "+ - * / ** ^, parentheses and calls such as sin(x)")

    def number(self, node: ast.Constant) -> sp.Expr:
        v = node.value
        if isinstance(v, bool) or v is None or isinstance(v, (str, bytes)) or v is Ellipsis:
            self.refuse(node, f"{_describe(node)} is not allowed")
        if isinstance(v, int):
            if v.bit_length() * math.log10(2) > self.limits.max_digits:
                self.refuse(node, f"integers are limited to {self.limits.max_digits} digits",
                            token=self._token(node)[:20] + "…")
            return sp.Integer(v)
        if isinstance(v, float):
            if not math.isfinite(v):
                self.refuse(node, "the number is not finite")
            return sp.Float(repr(v))
        if isinstance(v, complex):
            self.refuse(node, "complex literals are not allowed; write the imaginary unit as I "
                        "(in complex input only)")
        self.refuse(node, f"{_describe(node)} is not allowed")  # pragma: no cover - every literal type above

    def name(self, node: ast.Name) -> sp.Expr:
        name = node.id
        if "__" in name:
            self.refuse(node, "names containing '__' are not allowed")
        if name in self.names:
            self.as_symbol.setdefault(name, node)
            return self.names[name]
        if name in FUNCTIONS:
            self.refuse(node, f"{name} is a function: call it, e.g. {name}(x)")
        if name in CONSTANTS:
            return CONSTANTS[name]
        if name == "I":
            if self.allow_complex:
                return sp.I
            self.refuse(node, "I (the imaginary unit) is only allowed in complex input (Kähler potentials, "
                        "--omega, --poly); declare a coordinate to use the name I")
        self.as_symbol.setdefault(name, node)
        return sp.Symbol(name)

    def binop(self, node: ast.BinOp, depth: int) -> sp.Expr:
        op = type(node.op)
        if op not in _BINOPS:
            self.refuse(node, "only + - * / ** ^ are allowed", token=self._op_token(node), at_operator=True)
        if op in (ast.Pow, ast.BitXor):
            base = self.expr(node.left, depth + 1)
            exponent = self.expr(node.right, depth + 1)
            return self.power(base, exponent, node)
        group = (ast.Add, ast.Sub) if op in (ast.Add, ast.Sub) else (ast.Mult, ast.Div)
        chain, cur = [], node
        while isinstance(cur, ast.BinOp) and isinstance(cur.op, group):  # a + b - c: one level
            chain.append((type(cur.op), cur.right))
            cur = cur.left
        parts = [self.expr(cur, depth + 1)]
        for kind, operand in reversed(chain):
            x = self.expr(operand, depth + 1)
            if kind is ast.Sub:
                x = -x
            elif kind is ast.Div:
                x = self.power(x, sp.Integer(-1), operand)
            parts.append(x)
        return sp.Add(*parts) if group[0] is ast.Add else sp.Mul(*parts)

    def _op_token(self, node: ast.BinOp) -> str:
        if node.left.end_lineno != node.right.lineno:
            return type(node.op).__name__
        line = self.src.line(node.right.lineno)
        start = self.src.column(node.right.lineno, node.left.end_col_offset) - 1
        end = self.src.column(node.right.lineno, node.right.col_offset) - 1
        return line[start:end].strip().strip("()").strip() or type(node.op).__name__

    def power(self, base: sp.Expr, exponent: sp.Expr, node: ast.AST) -> sp.Expr:
        lim = self.limits
        if exponent.is_number and exponent.is_real:
            if _exceeds(exponent, lim.max_exponent):
                self.refuse(node, f"the exponent {_short(exponent)} exceeds the limit {lim.max_exponent}")
            if base.is_Rational and exponent.is_Rational:
                digits = float(abs(exponent)) * math.log10(max(abs(base.p), abs(base.q), 1))
                if digits > lim.max_digits:
                    self.refuse(node, f"the exact value would have about {digits:.0f} digits; the limit is "
                                f"{lim.max_digits}")
        return sp.Pow(base, exponent)

    def call(self, node: ast.Call, depth: int) -> sp.Expr:
        if not isinstance(node.func, ast.Name):
            if isinstance(node.func, (ast.Attribute, ast.Subscript, ast.Call)):
                self.expr(node.func, depth + 1)  # refuses the innermost offence
            self.refuse(node.func, "only functions called by name are allowed, e.g. sin(x) or u(x, y)")
        name = node.func.id
        if "__" in name:
            self.refuse(node.func, "names containing '__' are not allowed")
        if node.keywords:
            kw = node.keywords[0]
            self.refuse(kw, "keyword arguments are not allowed", token=self._token(kw))
        for a in node.args:
            if isinstance(a, ast.Starred):
                self.refuse(a, "starred arguments are not allowed")
        if name in self.names:
            self.refuse(node.func, f"{name} is a declared coordinate or parameter, not a function")
        if name in CONSTANTS or name == "I":
            self.refuse(node.func, f"{name} is a constant, not a function")
        args = [self.expr(a, depth + 1) for a in node.args]
        if name in FUNCTIONS:
            func, arities = FUNCTIONS[name]
            if len(args) not in arities:
                self.refuse(node, f"{name} takes {' or '.join(map(str, arities))} argument(s), got {len(args)}")
            try:
                return func(*args)
            except (TypeError, ValueError, ArithmeticError) as exc:
                self.refuse(node, f"cannot evaluate {name} here ({type(exc).__name__})")
        if not args:
            self.refuse(node, "an undefined function needs arguments, e.g. u(x, y)")
        self.as_function.setdefault(name, node.func)
        return sp.Function(name)(*args)


def _describe(node: ast.AST) -> str:
    kinds = {ast.Attribute: "attribute access", ast.Subscript: "subscripting", ast.Lambda: "lambda",
             ast.Compare: "a comparison", ast.BoolOp: "a boolean operator", ast.IfExp: "a conditional",
             ast.Dict: "a dict", ast.Set: "a set", ast.ListComp: "a comprehension",
             ast.SetComp: "a comprehension", ast.DictComp: "a comprehension", ast.GeneratorExp: "a generator",
             ast.Starred: "a starred expression", ast.NamedExpr: "an assignment expression",
             ast.JoinedStr: "an f-string", ast.Await: "await", ast.Yield: "yield", ast.YieldFrom: "yield",
             ast.Slice: "a slice"}
    if isinstance(node, ast.Constant):
        v = node.value
        return {str: "a string", bytes: "a bytes literal", bool: "a boolean", type(None): "None"}.get(
            type(v), "an ellipsis" if v is Ellipsis else "this constant")
    return kinds.get(type(node), type(node).__name__)


def _exceeds(x: sp.Expr, limit: int) -> bool:
    """``|x| > limit`` for a real number x; a size sympy cannot decide counts as too large."""
    try:
        return bool(abs(x) > limit)
    except TypeError:
        return True


def _short(x: sp.Expr) -> str:
    s = str(x)
    return s if len(s) <= 24 else s[:23] + "…"
