"""Flows of metric ansätze: the PDE/ODE system a flow imposes on the ansatz functions.

Given a metric whose components contain unknown functions ``u_a`` (of some
coordinates, or of time only, like ``a(t)`` in a Berger sphere), the flow
``∂_t g_ij = V_ij`` (Ricci: ``V = −2 Ric``, eq. 2.39; Perelman: eq. 2.40) is
preserved by the ansatz iff the linear system

    Σ_a ∂g_ij/∂u_a · ∂_t u_a = V_ij        (all i ≤ j)

has a solution ``∂_t u_a`` that depends only on the arguments of ``u_a``.  The
system is solved by exact Gaussian elimination (exact zero tests); every
component that cannot be matched is reported as an obstruction.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef

from metricflow.errors import InvalidInputError
from metricflow.symbolic.functionals import perelman_flow
from metricflow.symbolic.metric import Metric
from metricflow.symbolic.parsing import parse_coords, parse_scalar


@dataclass
class AnsatzFlow:
    """Result of :func:`ansatz_flow`.

    ``equations`` maps each ansatz function to its time derivative; ``obstructions``
    lists ``((i, j), required dg_ij/dt)`` for components the ansatz cannot follow;
    ``preserved`` is True iff there are none."""

    preserved: bool
    equations: dict = field(default_factory=dict)
    obstructions: list = field(default_factory=list)
    undetermined: list = field(default_factory=list)


def _parse_unknowns(unknowns, coords) -> list[sp.Expr]:
    if isinstance(unknowns, str):
        # split on whitespace outside parentheses
        parts, depth, cur = [], 0, ""
        for ch in unknowns:
            depth += ch == "("
            depth -= ch == ")"
            if (ch.isspace() or ch == ";") and depth == 0:
                if cur.strip():
                    parts.append(cur)
                cur = ""
            else:
                cur += ch
        if cur.strip():
            parts.append(cur)
        unknowns = parts
    out = []
    for u in unknowns:
        e = parse_scalar(u, coords, "unknowns")
        if not isinstance(e, AppliedUndef):
            raise InvalidInputError("unknowns", f"{u!r} is not an undefined function like psi(r)")
        out.append(e)
    if not out:
        raise InvalidInputError("unknowns", "expected at least one function, e.g. 'psi(r)'")
    return out


def ansatz_flow(coords, metric, unknowns, *, flow: str = "ricci", dilaton=None,
                lorentzian: bool = False) -> AnsatzFlow:
    """Reduce the Ricci (or Perelman) flow to the ansatz functions ``unknowns``.

    Examples: ``ansatz_flow("r theta", "[[1,0],[0,psi(r)**2]]", "psi(r)")`` is *not*
    preserved (the flow moves ``g_rr``), ``"[[phi(r)**2,0],[0,psi(r)**2]]"`` is.
    """
    cs = parse_coords(coords)
    us = _parse_unknowns(unknowns, cs)
    if dilaton is not None:
        dilaton = parse_scalar(dilaton, cs, "dilaton")
    fields = list(us) + ([dilaton] if dilaton is not None else [])
    g = Metric(cs, metric, lorentzian=lorentzian, fields=fields)
    A = g.A
    n = g.n
    if flow == "ricci":
        V = [[A.reduce(-2 * g.ricci_el[i][j]) for j in range(n)] for i in range(n)]
    elif flow == "perelman":
        if dilaton is None:
            raise InvalidInputError("dilaton", "the Perelman flow needs a dilaton")
        pf = perelman_flow(g, dilaton)
        V = [[g.element(pf[i, j]) for j in range(n)] for i in range(n)]
    else:
        raise InvalidInputError("flow", f"expected 'ricci' or 'perelman', got {flow!r}")
    gens = []
    for u in us:
        try:
            gens.append(A.element(u))
        except Exception as exc:  # pragma: no cover - parse_scalar already validated
            raise InvalidInputError("unknowns", f"{u} does not appear in the metric") from exc
    rows = []
    for i in range(n):
        for j in range(i, n):
            coeffs = [A.partial(g.g_el[i][j], ge) for ge in gens]
            rows.append([(i, j), coeffs, V[i][j]])
    # exact Gaussian elimination
    pivots = {}
    remaining = list(range(len(rows)))
    for col in range(len(us)):
        piv = next((r for r in remaining if not A.is_zero(rows[r][1][col])), None)
        if piv is None:
            continue
        remaining.remove(piv)
        pc = rows[piv][1][col]
        rows[piv][1] = [A.reduce(c / pc) for c in rows[piv][1]]
        rows[piv][2] = A.reduce(rows[piv][2] / pc)
        for r in range(len(rows)):
            if r == piv:
                continue
            fac = rows[r][1][col]
            if A.is_zero(fac):
                continue
            rows[r][1] = [A.reduce(a - fac * b) for a, b in zip(rows[r][1], rows[piv][1], strict=True)]
            rows[r][2] = A.reduce(rows[r][2] - fac * rows[piv][2])
        pivots[col] = piv
    result = AnsatzFlow(preserved=True)
    for r in remaining:
        if not A.is_zero(rows[r][2]):
            (i, j) = rows[r][0]
            result.obstructions.append(((i, j), g._out(V[i][j])))
    for col, u in enumerate(us):
        if col not in pivots:
            result.undetermined.append(u)
            continue
        w = rows[pivots[col]][2]
        if any(not A.is_zero(c) for k, c in enumerate(rows[pivots[col]][1]) if k != col and k not in pivots):
            result.undetermined.append(u)
        args = set(u.args)
        for k, c in enumerate(cs):
            if c not in args and not A.is_zero(A.D(w, k)):
                result.obstructions.append((("d/dt", str(u)), g._out(w)))
                break
        result.equations[u] = g._out(w)
    result.preserved = not result.obstructions
    return result
