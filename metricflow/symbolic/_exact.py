"""Shared machinery of the exact metric classes (:class:`Metric`, :class:`KahlerMetric`).

Both hold an exact :class:`~metricflow.symbolic._algebra.DifferentialAlgebra` ``A``, the
metric components ``_g`` as field elements and a cache of derived quantities that is
emptied whenever ``_build`` rebuilds the algebra. Subclasses provide ``_build(extra)``,
``_parse(expr)`` (user input -> sympy in the algebra's variables) and may override
``_to_user`` (sympy in the algebra's variables -> user notation).
"""

from __future__ import annotations

import sympy as sp

from metricflow.errors import UnsupportedExpressionError


class ExactMetricBase:
    """Element conversion, caching and output shared by the exact metric classes."""

    n: int

    def _parse(self, expr) -> sp.Expr:  # pragma: no cover - every subclass overrides it
        raise AssertionError("subclasses define _parse")

    def _to_user(self, expr: sp.Expr) -> sp.Expr:
        return expr

    def element(self, expr):
        """``expr`` as an element of the exact algebra; rebuilds the algebra (and forgets
        cached quantities) if ``expr`` brings functions or atoms the metric does not have."""
        return self._elements([expr])[0]

    def _elements(self, exprs):
        """Several expressions at once (one rebuild at most)."""
        exprs = [self._parse(e) for e in exprs]
        try:
            return [self.A.element(e) for e in exprs]
        except (KeyError, UnsupportedExpressionError):
            self._build(exprs)
            return [self.A.element(e) for e in exprs]

    def _cached(self, key, compute):
        if key not in self._cache:
            self._cache[key] = compute()
        return self._cache[key]

    def _out(self, el) -> sp.Expr:
        return self._to_user(self.A.expr(el))

    def _matrix_out(self, t) -> sp.ImmutableMatrix:
        return sp.ImmutableMatrix(self.n, self.n, lambda i, j: self._out(t[i][j]))

    @property
    def g_el(self):
        """The metric components as exact field elements."""
        return self._g

    @property
    def ginv_el(self):
        """The exact inverse metric (for a Kähler metric ``ginv[b][a] = g^{b̄a}``)."""
        return self._cached("ginv", lambda: self.A.inverse(self._g))
