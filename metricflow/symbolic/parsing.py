"""Parse user input (coordinates, matrices, scalar expressions) into sympy, with clear errors.

Strings go through the expression grammar of :mod:`metricflow.symbolic.grammar` (a
syntax-tree whitelist: no user text is ever evaluated); sympy objects given through the
Python API are taken as they are.  Name resolution: the declared coordinates and
``params`` first, then the constants ``pi`` and ``E`` (and ``I`` with
``allow_complex``), then any other identifier is a parameter Symbol (no assumptions) and
any other called name an undefined function (docs/reliability.md).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import sympy as sp

from metricflow.errors import InvalidInputError
from metricflow.symbolic.grammar import check_name, parse_text


def parse_coords(coords: str | Sequence, argument: str = "coords") -> tuple[sp.Symbol, ...]:
    """``"theta phi"`` or ``"theta,phi"`` or a sequence of names/Symbols -> real Symbols.

    Any identifier is a valid name, ``E``, ``I`` and ``pi`` included (a declared name wins
    over the constant); names containing ``__``, Python keywords and the grammar's
    function names (``sin``, ``exp``, …) are refused."""
    if isinstance(coords, str):
        names = coords.replace(",", " ").split()
    elif isinstance(coords, Sequence):
        names = list(coords)
    else:
        raise InvalidInputError(argument, f"expected coordinate names such as 'x y', got {type(coords).__name__}")
    if not names:
        raise InvalidInputError(argument, "expected at least one coordinate name, e.g. 'x y'")
    out = []
    for name in names:
        if isinstance(name, sp.Symbol):
            check_name(name.name, argument, "coordinate name")
            out.append(name)
            continue
        out.append(sp.Symbol(check_name(name, argument, "coordinate name"), real=True))
    if len({s.name for s in out}) != len(out):
        raise InvalidInputError(argument, f"coordinate names must be distinct, got {names}")
    return tuple(out)


def declared_names(coords: Sequence[sp.Symbol], params: Sequence = (), argument: str = "params") -> dict:
    """The name table of the grammar: coordinates, then parameters (names or Symbols; a
    parameter given by name is a Symbol without assumptions)."""
    names = {c.name: c for c in coords}
    for p in params:
        sym = p if isinstance(p, sp.Symbol) else sp.Symbol(check_name(p, argument, "parameter name"))
        check_name(sym.name, argument, "parameter name")
        if sym.name in names and names[sym.name] != sym:
            raise InvalidInputError(argument, f"{sym.name!r} is declared twice (coordinate and parameter)")
        names[sym.name] = sym
    return names


def parse_scalar(text, coords: Sequence[sp.Symbol], argument: str = "expression", *,
                 params: Sequence = (), allow_complex: bool = False) -> sp.Expr:
    """Parse one scalar expression; coordinate names refer to the given Symbols.

    Undefined functions such as ``u(x, y)`` are allowed; ``^`` means power.  ``I`` is the
    imaginary unit only with ``allow_complex`` (Kähler potentials, polynomials)."""
    if isinstance(text, sp.Basic):
        if not isinstance(text, sp.Expr):
            raise InvalidInputError(argument, f"expected a scalar expression, got {type(text).__name__}")
        return text
    if isinstance(text, bool):
        raise InvalidInputError(argument, f"expected an expression, got the boolean {text}")
    if isinstance(text, (int, float)):
        if isinstance(text, float) and not math.isfinite(text):
            raise InvalidInputError(argument, f"expected a finite number, got {text}")
        return sp.Integer(text) if isinstance(text, int) else sp.nsimplify(text, rational=True)
    if not isinstance(text, str):
        raise InvalidInputError(argument, f"expected a string or sympy expression, got {type(text).__name__}")
    return parse_text(text, argument, declared_names(coords, params), allow_complex=allow_complex)


def parse_matrix(text, coords: Sequence[sp.Symbol], argument: str = "metric", *,
                 params: Sequence = (), allow_complex: bool = False) -> sp.Matrix:
    """Parse ``"[[1,0],[0,sin(theta)**2]]"`` (or a nested list / sympy Matrix)."""
    if isinstance(text, sp.MatrixBase):
        return sp.Matrix(text)
    if isinstance(text, str):
        obj = parse_text(text, argument, declared_names(coords, params), matrix=True,
                         allow_complex=allow_complex)
    else:
        obj = text
    if isinstance(obj, (list, tuple)) and obj and all(isinstance(r, (list, tuple)) for r in obj):
        lengths = {len(r) for r in obj}
        if len(lengths) != 1:
            raise InvalidInputError(argument, f"rows have different lengths {sorted(lengths)}; "
                                    "expected a square matrix like [[a,b],[b,c]]")
        rows = [[parse_scalar(x, coords, argument, params=params, allow_complex=allow_complex)
                 for x in r] for r in obj]
        return sp.Matrix(rows)
    raise InvalidInputError(argument, "expected a square matrix written as a list of rows, "
                            "e.g. '[[1,0],[0,sin(theta)**2]]'")
