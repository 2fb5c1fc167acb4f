"""Metrics and their curvature, exactly (see docs/conventions.md for every sign).

>>> from metricflow.symbolic import Metric
>>> S2 = Metric("theta phi", "[[1, 0], [0, sin(theta)**2]]")
>>> S2.scalar
2
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property

import sympy as sp

from metricflow.errors import InvalidInputError, UnsupportedExpressionError
from metricflow.symbolic import _formulas as F
from metricflow.symbolic._algebra import DifferentialAlgebra
from metricflow.symbolic._exact import ExactMetricBase
from metricflow.symbolic.grammar import check_name
from metricflow.symbolic.parsing import declared_names, parse_coords, parse_matrix, parse_scalar


class Metric(ExactMetricBase):
    """A (pseudo-)Riemannian metric ``g_ij(x)`` given by coordinates and a matrix of sympy expressions.

    Parameters
    ----------
    coords:
        Coordinate names (``"r theta"``) or Symbols.
    matrix:
        The components ``g_ij`` as a sympy Matrix, a nested list, or a string such
        as ``"[[1,0],[0,r**2]]"``.  Undefined functions of the coordinates
        (``u(x, y)``) and parameters (``M``, ``a``) are allowed.
    lorentzian:
        Use ``√(−det g)`` for the volume density (``√(det g)`` otherwise).
    fields:
        Further scalar expressions (a dilaton, a vector field's components) you
        will pass to :meth:`hessian` and friends; naming them up front avoids
        rebuilding the exact algebra when they bring new functions.
    params:
        Names (or Symbols) to read as parameters in string input even where they would
        otherwise mean a constant (``params="E"`` makes ``E`` a symbol, not Euler's
        number).  Undeclared identifiers are parameters anyway (docs/reliability.md).

    Strings are read by the expression grammar (:mod:`metricflow.symbolic.grammar`):
    nothing in them is ever executed.

    Every curvature quantity is computed once, lazily, as an exact rational
    function (see :mod:`metricflow.symbolic._algebra`) and returned as sympy.

    Raises
    ------
    InvalidInputError
        If the matrix is not square, does not match the number of coordinates,
        is not symmetric, or is identically degenerate (det g ≡ 0).
    """

    def __init__(self, coords: str | Sequence, matrix, *, lorentzian: bool = False,
                 fields: Sequence = (), params: str | Sequence = ()):
        self.coords = parse_coords(coords)
        self.params = tuple(declared_names((), params.replace(",", " ").split() if isinstance(params, str)
                                           else params).values())
        m = parse_matrix(matrix, self.coords, "metric", params=self.params)
        n = len(self.coords)
        if m.rows != m.cols:
            raise InvalidInputError("metric", f"expected a square matrix, got {m.rows}x{m.cols}")
        if m.rows != n:
            raise InvalidInputError(
                "metric", f"is {m.rows}x{m.cols} but there are {n} coordinates "
                f"{tuple(map(str, self.coords))}; expected {n}x{n}")
        self.n = n
        self.matrix = sp.ImmutableMatrix(m)
        self.lorentzian = lorentzian
        self._fields = [parse_scalar(f, self.coords, "fields", params=self.params) for f in fields]
        try:
            self._build()
        except UnsupportedExpressionError as exc:  # name the argument the user gave
            raise UnsupportedExpressionError("metric", exc.message) from None
        for i in range(n):
            for j in range(i + 1, n):
                if not self.A.is_zero(self._g[i][j] - self._g[j][i]):
                    raise InvalidInputError(
                        "metric", f"not symmetric: g[{i}][{j}] = {m[i, j]} but "
                        f"g[{j}][{i}] = {m[j, i]}")
        if self.A.is_zero(self._det):
            raise InvalidInputError("metric", "is degenerate: det g is identically 0")

    # ------------------------------------------------------------------ algebra
    def _build(self, extra: Sequence[sp.Expr] = ()) -> None:
        self._fields = list(self._fields) + [e for e in extra if e not in self._fields]
        self.A = DifferentialAlgebra(self.coords, list(self.matrix) + self._fields, compress_constants=True)
        A = self.A
        self._g = [[A.element(self.matrix[i, j]) for j in range(self.n)] for i in range(self.n)]
        self._cache: dict = {}
        self._det = A.det(self._g)

    def _parse(self, expr) -> sp.Expr:
        return parse_scalar(expr, self.coords, "expression", params=self.params)

    @property
    def christoffel_el(self):
        return self._cached("gamma", lambda: F.christoffel(self.A, self._g, self.ginv_el))

    @property
    def ricci_el(self):
        return self._cached("ricci", lambda: F.ricci(self.A, self.christoffel_el))

    @property
    def scalar_el(self):
        return self._cached("scalar", lambda: F.trace(self.A, self.ginv_el, self.ricci_el))

    @property
    def riemann_el(self):
        return self._cached("riemann", lambda: F.riemann(self.A, self.christoffel_el))

    def riemann_component(self, r: int, s: int, m: int, v: int):
        """``R^r_smv`` as a field element (antisymmetry in m, v applied)."""
        if m == v:
            return self.A.zero
        R = self.riemann_el
        return R[r, s, m, v] if m < v else -R[r, s, v, m]

    # ------------------------------------------------------------------ public sympy API
    @property
    def det(self) -> sp.Expr:
        """``det g``."""
        return self._out(self._det)

    @cached_property
    def volume_density(self) -> sp.Expr:
        """``√|det g|``: dV = volume_density d^n x (``√(−det g)`` if lorentzian).

        Raises InvalidInputError (argument ``lorentzian``) when the sign of ``det g`` provably
        contradicts the flag (``det g ≥ 0`` with ``lorentzian``, ``det g ≤ 0`` without), instead
        of returning an imaginary density."""
        d = self.det
        signed = -d if self.lorentzian else d
        if signed.is_nonpositive:
            raise InvalidInputError(
                "lorentzian", f"det g = {d} is {'non-negative' if self.lorentzian else 'non-positive'}: "
                + ("the metric is not Lorentzian; drop --lorentzian" if self.lorentzian
                   else "a Lorentzian metric needs --lorentzian (lorentzian=True)"))
        return sp.sqrt(signed)

    @property
    def inverse(self) -> sp.ImmutableMatrix:
        """``g^{ij}``."""
        return self._matrix_out(self.ginv_el)

    @property
    def christoffel(self) -> sp.ImmutableDenseNDimArray:
        """``Γ^k_ij`` as an array indexed ``[k, i, j]``."""
        G = self.christoffel_el
        n = self.n
        return sp.ImmutableDenseNDimArray(
            [[[self._out(G[k][i][j]) for j in range(n)] for i in range(n)] for k in range(n)])

    @property
    def riemann(self) -> sp.ImmutableDenseNDimArray:
        """``R^ρ_σμν`` indexed ``[ρ, σ, μ, ν]`` (docs/conventions.md)."""
        n = self.n
        return sp.ImmutableDenseNDimArray(
            [[[[self._out(self.riemann_component(r, s, m, v)) for v in range(n)]
               for m in range(n)] for s in range(n)] for r in range(n)])

    @property
    def ricci(self) -> sp.ImmutableMatrix:
        """Ricci tensor ``R_ij``; Ric = (n−1)/r² g on the round n-sphere of radius r."""
        return self._matrix_out(self.ricci_el)

    @property
    def scalar(self) -> sp.Expr:
        """Scalar curvature ``R = g^{ij} R_ij``."""
        return self._out(self.scalar_el)

    @property
    def einstein_el(self):
        def compute():
            half_r = self.scalar_el / 2
            return [[self.A.reduce(self.ricci_el[i][j] - half_r * self._g[i][j])
                     for j in range(self.n)] for i in range(self.n)]
        return self._cached("einstein", compute)

    @property
    def einstein(self) -> sp.ImmutableMatrix:
        """Einstein tensor ``G_ij = R_ij − ½ R g_ij``."""
        return self._matrix_out(self.einstein_el)

    def hessian_el(self, f):
        fe = f if not isinstance(f, (str, sp.Basic)) else self.element(f)
        return F.hessian(self.A, self.christoffel_el, fe)

    def hessian(self, f) -> sp.ImmutableMatrix:
        """Covariant Hessian ``∇_i∇_j f``."""
        return self._matrix_out(self.hessian_el(f))

    def laplacian(self, f) -> sp.Expr:
        """``Δf = g^{ij}∇_i∇_j f``."""
        H = self.hessian_el(f)  # first: converting f may rebuild the algebra
        return self._out(F.trace(self.A, self.ginv_el, H))

    def grad_norm_sq(self, f) -> sp.Expr:
        """``|∇f|² = g^{ij} ∂_i f ∂_j f``."""
        fe = self.element(f)
        return self._out(F.norm_sq(self.A, self.ginv_el, F.gradient(self.A, fe)))

    def lie_derivative(self, X: Sequence) -> sp.ImmutableMatrix:
        """``(L_X g)_ij`` for a vector field with components ``X^k``."""
        Xe = self._elements(X)
        return self._matrix_out(F.lie_derivative_metric(self.A, self._g, Xe))

    def gradient_vector(self, f) -> list[sp.Expr]:
        """``(∇f)^i = g^{ij} ∂_j f``."""
        fe = self.element(f)
        return [self._out(v) for v in F.raise_index(self.A, self.ginv_el, F.gradient(self.A, fe))]

    def divergence(self, T) -> list[sp.Expr]:
        """``∇^i T_ij`` of a symmetric (0,2) tensor given as a matrix of expressions."""
        rows = [[T[i, j] if isinstance(T, sp.MatrixBase) else T[i][j] for j in range(self.n)]
                for i in range(self.n)]
        flat = self._elements([x for r in rows for x in r])
        Te = [flat[i * self.n:(i + 1) * self.n] for i in range(self.n)]
        out = F.divergence_sym2(self.A, self.christoffel_el, self.ginv_el, Te)
        return [self._out(v) for v in out]

    def is_zero(self, expr) -> bool:
        """Exact zero test of an expression in this metric's coordinates."""
        if isinstance(expr, sp.MatrixBase):
            return all(self.is_zero(e) for e in expr)
        return self.A.is_zero(self.element(expr))

    def normal_form(self, expr) -> sp.Expr:
        """``expr`` as a reduced rational function (exact; no heuristic simplify)."""
        if isinstance(expr, sp.MatrixBase):
            return expr.applyfunc(self.normal_form)
        return self._out(self.element(expr))

    def substitute(self, mapping: dict) -> Metric:
        """The metric with ``mapping`` applied to its components (same coordinates)."""
        by_name = {s.name: s for s in self.matrix.free_symbols | set(self.params)}
        sub = {}
        for key, value in dict(mapping).items():
            if isinstance(key, str):
                key = by_name.get(key) or sp.Symbol(check_name(key, "mapping", "parameter name"))
            if not isinstance(key, sp.Basic):
                raise InvalidInputError("mapping", f"keys must be names or sympy symbols, got {key!r}")
            sub[key] = parse_scalar(value, self.coords, "mapping", params=self.params)
        return Metric(self.coords, self.matrix.subs(sub), lorentzian=self.lorentzian, params=self.params)

    def pullback(self, new_coords, expressions: Sequence) -> Metric:
        """The metric in new coordinates ``y``, given ``x^i = expressions[i](y)``:
        ``g'_ab = ∂_a x^i ∂_b x^j g_ij(x(y))``."""
        ys = parse_coords(new_coords, "new_coords")
        xs = [parse_scalar(e, ys, "expressions", params=self.params) for e in expressions]
        if len(xs) != self.n:
            raise InvalidInputError("expressions", f"expected {self.n} expressions x^i(y), got {len(xs)}")
        J = sp.Matrix(self.n, len(ys), lambda i, a: sp.diff(xs[i], ys[a]))
        g = self.matrix.subs(dict(zip(self.coords, xs, strict=True)), simultaneous=True)
        return Metric(ys, (J.T * g * J).applyfunc(sp.expand), lorentzian=self.lorentzian, params=self.params)

    def __repr__(self) -> str:
        return f"Metric(coords={tuple(map(str, self.coords))}, matrix={self.matrix.tolist()})"
