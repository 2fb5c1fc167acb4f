"""Parse user input (coordinates, matrices, scalar expressions) into sympy, with clear errors."""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp
from sympy.parsing.sympy_parser import (
    convert_xor,
    parse_expr,
    standard_transformations,
)

from metricflow.errors import InvalidInputError

_TRANSFORMS = standard_transformations + (convert_xor,)


def parse_coords(coords: str | Sequence, argument: str = "coords") -> tuple[sp.Symbol, ...]:
    """``"theta phi"`` or ``"theta,phi"`` or a sequence of names/Symbols -> real Symbols."""
    if isinstance(coords, str):
        names = coords.replace(",", " ").split()
    else:
        names = list(coords)
    if not names:
        raise InvalidInputError(argument, "expected at least one coordinate name, e.g. 'x y'")
    out = []
    for name in names:
        if isinstance(name, sp.Symbol):
            out.append(name)
            continue
        if not isinstance(name, str) or not name.isidentifier():
            raise InvalidInputError(argument, f"{name!r} is not a valid coordinate name")
        out.append(sp.Symbol(name, real=True))
    if len(set(out)) != len(out):
        raise InvalidInputError(argument, f"coordinate names must be distinct, got {names}")
    return tuple(out)


def _local_dict(coords: Sequence[sp.Symbol]) -> dict:
    d = {str(c): c for c in coords}
    d.update({"I": sp.I, "E": sp.E, "pi": sp.pi})
    return d


def parse_scalar(text, coords: Sequence[sp.Symbol], argument: str = "expression") -> sp.Expr:
    """Parse one scalar expression; coordinate names refer to the given Symbols.

    Undefined functions such as ``u(x, y)`` are allowed; ``^`` means power."""
    if isinstance(text, sp.Basic):
        return text
    if isinstance(text, (int, float)):
        return sp.nsimplify(text, rational=True)
    if not isinstance(text, str):
        raise InvalidInputError(argument, f"expected a string or sympy expression, got {type(text).__name__}")
    try:
        expr = parse_expr(text, local_dict=_local_dict(coords), transformations=_TRANSFORMS,
                          evaluate=True)
    except (SyntaxError, TypeError, ValueError, sp.SympifyError, TokenError_) as exc:
        raise InvalidInputError(
            argument, f"cannot parse {text!r} as an expression ({exc.__class__.__name__})") from None
    if not isinstance(expr, sp.Expr):
        raise InvalidInputError(argument, f"{text!r} is not a scalar expression")
    return expr


try:  # tokenize errors surface as TokenError
    from tokenize import TokenError as TokenError_
except ImportError:  # pragma: no cover
    TokenError_ = SyntaxError


def parse_matrix(text, coords: Sequence[sp.Symbol], argument: str = "metric") -> sp.Matrix:
    """Parse ``"[[1,0],[0,sin(theta)**2]]"`` (or a nested list / sympy Matrix)."""
    if isinstance(text, sp.MatrixBase):
        return sp.Matrix(text)
    if isinstance(text, str):
        try:
            obj = parse_expr(text, local_dict=_local_dict(coords), transformations=_TRANSFORMS,
                             evaluate=True)
        except (SyntaxError, TypeError, ValueError, sp.SympifyError, TokenError_) as exc:
            raise InvalidInputError(argument, f"cannot parse {text!r} as a matrix "
                                    f"({exc.__class__.__name__}); expected e.g. '[[1,0],[0,1]]'") from None
    else:
        obj = text
    if isinstance(obj, sp.MatrixBase):
        return sp.Matrix(obj)
    if isinstance(obj, (list, tuple)) and obj and all(isinstance(r, (list, tuple)) for r in obj):
        lengths = {len(r) for r in obj}
        if len(lengths) != 1:
            raise InvalidInputError(argument, f"rows have different lengths {sorted(lengths)}; "
                                    "expected a square matrix like [[a,b],[b,c]]")
        rows = [[parse_scalar(x, coords, argument) if not isinstance(x, sp.Basic) else x
                 for x in r] for r in obj]
        return sp.Matrix(rows)
    raise InvalidInputError(argument, "expected a square matrix written as a list of rows, "
                            "e.g. '[[1,0],[0,sin(theta)**2]]'")
