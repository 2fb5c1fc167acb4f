"""Parameters in the exact engine: compress them to the monomials they actually form.

A metric such as Kerr–Newman in SI units carries seven parameters (G, M, a, c, Q, ε₀, π)
but they enter only through a few monomials (a, c, G M/c², G Q²/(π ε₀ c⁴)).  As separate
generators of the rational-function field they make every gcd -- hence every addition --
of :class:`~metricflow.symbolic._algebra.DifferentialAlgebra` expensive (88 s for the
Ricci tensor against 1 s with the monomials as generators).

The compression is exact.  Grade ``Q(p)[x, atoms]`` by the parameter exponents modulo
the lattice ``L`` spanned by the exponent differences between the terms of each input
element (numerators and denominators, atom arguments and root bases).  Every input element
then has degree 0, and degree-0 elements form a subfield closed under the derivations
(parameters are constants) and under the gcd cancellation (the grading group ``Z^P/L_sat``
is torsion-free, so the factors of a homogeneous polynomial are homogeneous).  With a
basis ``b_1..b_r`` of the saturation ``L_sat`` the degree-0 subfield is
``Q(T_1..T_r)[x, atoms]`` with ``T_j = p^{b_j}``: monomials with independent exponents are
algebraically independent, so the zero test stays exact.  The basis is chosen from the
monomials as the input writes them (single parameters first, then the largest products),
and the compression is used only when it removes generators (rank ``r`` < number of
parameters ``P``); otherwise the engine is unchanged.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
import math
from dataclasses import dataclass
from fractions import Fraction

import sympy as sp

from metricflow.errors import UnsupportedExpressionError


def compressible(g) -> bool:
    """Parameters that may be merged into monomials: symbols and constants like pi (not I,
    not undefined functions such as a(t), whose partial derivatives are taken)."""
    return g.kind == "const" and (g.expr.is_Symbol or isinstance(g.expr, sp.NumberSymbol))


@dataclass
class ConstantLattice:
    """A basis of the saturated exponent lattice over the parameters ``params`` (raw
    generator indices) and the solver for coordinates in it."""

    params: list[int]
    basis: list[tuple[int, ...]]
    pivots: tuple[int, ...]
    inverse: list[list[Fraction]]

    def coords(self, e: list[int]) -> list[int]:
        """Integer k with ``Σ k_j b_j = e``; refuses an exponent outside the lattice."""
        k = [sum(row[i] * e[p] for i, p in enumerate(self.pivots)) for row in self.inverse]
        if any(x.denominator != 1 for x in k) or any(
                sum(int(k[j]) * b[i] for j, b in enumerate(self.basis)) != e[i] for i in range(len(e))):
            raise UnsupportedExpressionError("expression", "a combination of parameters that the exact "
                                             "algebra was not built with")
        return [int(x) for x in k]

    def monomial(self, raw, j: int) -> sp.Expr:
        return sp.Mul(*[raw.gens[p].expr ** x for p, x in zip(self.params, self.basis[j], strict=True) if x])


def compress(A, exprs) -> None:
    """Switch the algebra ``A`` (built with every parameter a generator) to the compressed
    generators when that removes some; ``A`` keeps the uncompressed copy for conversion."""
    from metricflow.symbolic._algebra import Generator  # _algebra imports this module

    lattice = plan(A, exprs)
    if lattice is None:
        return
    raw = copy.copy(A)
    drop = set(lattice.params)
    keep = [i for i in range(len(raw.gens)) if i not in drop]
    new_index = {old: new for new, old in enumerate(keep)}
    A.gens = [dataclasses.replace(raw.gens[i]) for i in keep]
    A._by_expr = {key: new_index[i] for key, i in raw._by_expr.items() if i in new_index}
    for j in range(len(lattice.basis)):
        A._add(Generator(sp.Dummy(f"k{j}"), lattice.monomial(raw, j), "const"), key=("lattice", j))
    for g in A.gens:  # partners of sin/cos pairs are indices
        if g.partner is not None:
            g.partner = new_index[g.partner]
    A._raw, A._lattice, A._new_index = raw, lattice, new_index
    A._build_field()


def plan(raw, exprs) -> ConstantLattice | None:
    """The lattice basis, or None when compressing would not remove a generator."""
    params = [i for i, g in enumerate(raw.gens) if compressible(g)]
    if len(params) < 2:
        return None
    where = {raw._pos[i]: k for k, i in enumerate(params)}
    elements = [raw.element(e, reduce=False) for e in exprs]
    elements += [raw.element(g.arg, reduce=False) for g in raw.gens if g.arg is not None]
    diffs = set()
    for el in elements:
        ref = None
        for poly in (el.denom, el.numer):
            for monom in poly.monoms():
                e = [0] * len(params)
                for pos, k in where.items():
                    e[k] = monom[pos]
                ref = e if ref is None else ref
                d = tuple(a - b for a, b in zip(e, ref, strict=True))
                if any(d):
                    diffs.add(_primitive(d))
    diffs = sorted(diffs, key=lambda v: (sum(map(bool, v)), sum(map(abs, v)), v))
    span = _greedy_basis(diffs)
    rank = len(span)
    preferred = [v for v in _written_monomials(raw, params, exprs) if len(_greedy_basis(span + [v])) == rank]
    basis = _greedy_basis(preferred + diffs)
    if rank == len(params) or len(basis) != rank:
        return None
    pivots = _unit_minor(basis)
    if pivots is None:  # the chosen monomials do not generate the saturated lattice
        return None
    if not basis:  # the parameters cancel from every element
        return ConstantLattice(params, [], (), [])
    square = sp.Matrix([[b[p] for p in pivots] for b in basis]).T  # square[i][j] = b_j[pivot_i]
    inv = square.inv()
    inverse = [[Fraction(int(inv[j, i].p), int(inv[j, i].q)) for i in range(len(pivots))] for j in range(len(basis))]
    return ConstantLattice(params, basis, pivots, inverse)


def map_element(A, el):
    """An element of the uncompressed field as an element of the compressed one."""
    raw, lat = A._raw, A._lattice
    where = {raw._pos[i]: k for k, i in enumerate(lat.params)}
    other = {raw._pos[i]: A._pos[new] for i, new in A._new_index.items()}
    t_pos = [A._pos[A._by_expr[("lattice", j)]] for j in range(len(lat.basis))]
    ref, terms = None, ([], [])
    for side, poly in enumerate((el.denom, el.numer)):
        for monom, coeff in poly.terms():
            e = [0] * len(lat.params)
            out = [0] * len(A.gens)
            for pos, x in enumerate(monom):
                if x:
                    if pos in where:
                        e[where[pos]] = x
                    else:
                        out[other[pos]] = x
            ref = e if ref is None else ref
            k = lat.coords([a - b for a, b in zip(e, ref, strict=True)])
            terms[side].append((out, k, coeff))
    low = [min(0, *(t[1][j] for side in terms for t in side)) for j in range(len(t_pos))]
    polys = []
    for side in terms:
        d = {}
        for out, k, coeff in side:
            for j, p in enumerate(t_pos):
                out[p] = k[j] - low[j]
            d[tuple(out)] = coeff
        polys.append(A.R(d))
    return A.K.new(polys[1], polys[0])


def _primitive(v: tuple[int, ...], orient: bool = True) -> tuple[int, ...]:
    """v divided by the gcd of its entries (and with a positive first entry if ``orient``)."""
    g = math.gcd(*v)
    sign = 1 if not orient or next(x for x in v if x) > 0 else -1
    return tuple(sign * x // g for x in v)


def _written_monomials(raw, params, exprs) -> list[tuple[int, ...]]:
    """Exponent vectors of the parameter monomials as the input writes them: single
    parameters first, then products with the most parameters."""
    index = {raw.gens[i].expr: k for k, i in enumerate(params)}
    singles, products = [], []
    for e in exprs:
        for node in sp.preorder_traversal(e):
            if node in index or (node.is_Pow and node.base in index and node.exp.is_Integer):
                v = [0] * len(params)
                v[index[node if node in index else node.base]] = 1
                singles.append(tuple(v))
            elif node.is_Mul:
                v = [0] * len(params)
                for f in node.args:
                    b, x = (f.base, f.exp) if f.is_Pow else (f, sp.Integer(1))
                    if b in index and x.is_Integer:
                        v[index[b]] += int(x)
                if sum(map(bool, v)) > 1:
                    products.append(_primitive(tuple(v), orient=False))  # G*M/c**2 as written
    products.sort(key=lambda v: -sum(map(bool, v)))
    return list(dict.fromkeys(singles + products))


def _greedy_basis(candidates) -> list[tuple[int, ...]]:
    """Candidates independent over Q, in order (incremental echelon form)."""
    basis, echelon = [], []
    for v in candidates:
        w = [Fraction(x) for x in v]
        for row, p in echelon:
            if w[p]:
                f = w[p] / row[p]
                w = [a - f * b for a, b in zip(w, row, strict=True)]
        if any(w):
            echelon.append((w, next(i for i, x in enumerate(w) if x)))
            basis.append(v)
    return basis


def _unit_minor(basis) -> tuple[int, ...] | None:
    """Pivot columns of an invertible square minor, if the basis generates its saturation
    (the gcd of its maximal minors is 1), else None."""
    r, n = len(basis), len(basis[0]) if basis else 0
    if r == 0:
        return ()
    g, pivots = 0, None
    for cols in itertools.combinations(range(n), r):
        d = int(sp.Matrix([[b[c] for c in cols] for b in basis]).det())
        if d and pivots is None:
            pivots = cols
        g = math.gcd(g, d)
    return pivots if g == 1 else None
