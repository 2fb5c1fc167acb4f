"""Kähler geometry from a Kähler potential (Appendix B of arXiv 2310.19870), exactly.

Holomorphic coordinates are given by name (``"z1 z2"``); their conjugates are written
``conjugate(z1)`` in any user input (``re``, ``im`` and ``Abs`` are rewritten too).
Internally ``z^a`` and ``z̄^a`` are 2n *independent* coordinates of the exact
differential algebra (:mod:`metricflow.symbolic._algebra`), so the Wirtinger
derivatives ``∂_a`` and ``∂̄_b`` are the total derivatives along them.  Conjugation
of an expression is the substitution ``z ↔ z̄`` together with ``i → −i``
(parameters and undefined functions ``u(z, z̄)`` are taken real).

Conventions (docs/conventions.md, "Kähler geometry"):

* ``g_{ab̄} = ∂_a ∂̄_b K`` (B.1); Kähler form ``J = (i/2) g_{ab̄} dz^a ∧ dz̄^b`` (B.2),
  so the Riemannian metric is ``ds² = g_{ab̄} dz^a dz̄^b`` (flat ``g = 1`` is
  ``dx² + dy²``), and ``J^n/n! = det g d^{2n}x``;
* Ricci form ``R_{ab̄} = −∂_a ∂̄_b log det g`` (B.3); scalar ``R = g^{ab̄} R_{ab̄}`` (B.8).
  For this normalisation the Riemannian Ricci tensor of ``ds²`` is the real form of
  ``R_{ab̄}`` and the Riemannian scalar curvature is ``4 R`` (tested exactly);
* Kähler–Ricci flow ``∂_t g_{ab̄} = ∂_a∂̄_b log det g = −R_{ab̄}`` (B.4), i.e. Hamilton's
  ``∂_t h = −2 Ric`` with the time rescaled by 4 (see docs/kahler.md).

>>> from metricflow.symbolic.kahler import KahlerMetric
>>> fs = KahlerMetric("z", "log(1 + z*conjugate(z))")
>>> fs.metric
Matrix([[(z*conjugate(z) + 1)**(-2)]])
>>> fs.scalar
2
"""

from __future__ import annotations

import random
from collections.abc import Sequence

import sympy as sp
from sympy.core.function import AppliedUndef

from metricflow.errors import InvalidInputError, UnsupportedExpressionError
from metricflow.symbolic import _formulas as F
from metricflow.symbolic._algebra import DifferentialAlgebra
from metricflow.symbolic._exact import ExactMetricBase
from metricflow.symbolic.grammar import check_name
from metricflow.symbolic.parsing import parse_scalar

__all__ = ["ComplexCoordinates", "KahlerMetric", "hermitian_to_real", "conjugate_expr"]


class ComplexCoordinates:
    """Holomorphic coordinates ``z^a`` and the independent symbols standing for ``z̄^a``.

    ``zs`` are sympy Symbols *without* assumptions (so that ``conjugate(z1)`` stays
    unevaluated in user input); ``zbs`` are the internal symbols ``z1__bar``, ….
    """

    def __init__(self, coords: str | Sequence):
        names = coords.replace(",", " ").split() if isinstance(coords, str) else list(coords)
        if not names:
            raise InvalidInputError("coords", "expected at least one holomorphic coordinate, e.g. 'z1 z2'")
        zs = []
        for name in names:
            name = name.name if isinstance(name, sp.Symbol) else name
            if name == "I":  # the imaginary unit of every complex input
                raise InvalidInputError("coords", "'I' is the imaginary unit in Kähler input; "
                                        "choose another coordinate name")
            zs.append(sp.Symbol(check_name(name, "coords", "coordinate name")))
        if len(set(zs)) != len(zs):
            raise InvalidInputError("coords", f"coordinate names must be distinct, got {names}")
        self.zs = tuple(zs)
        self.zbs = tuple(sp.Symbol(f"{z.name}__bar") for z in zs)
        self.n = len(zs)
        self.all = self.zs + self.zbs
        self._to_user = {zb: sp.conjugate(z) for z, zb in zip(self.zs, self.zbs, strict=True)}
        self._swap = {**dict(zip(self.zs, self.zbs, strict=True)), **dict(zip(self.zbs, self.zs, strict=True))}

    # ---------------------------------------------------------------- input / output
    def parse(self, text, argument: str = "potential") -> sp.Expr:
        """Parse user input (the expression grammar, ``I`` the imaginary unit, or sympy);
        ``conjugate(z)``, ``re(z)``, ``im(z)``, ``Abs(z)`` become z̄-algebra."""
        expr = parse_scalar(text, self.zs, argument, allow_complex=True)
        return self.to_internal(expr, argument)

    def to_internal(self, expr: sp.Expr, argument: str = "potential") -> sp.Expr:
        rep = {}
        for z, zb in zip(self.zs, self.zbs, strict=True):
            rep[sp.conjugate(z)] = zb
            rep[sp.re(z)] = (z + zb) / 2
            rep[sp.im(z)] = (z - zb) / (2 * sp.I)
            rep[sp.Abs(z)] = sp.sqrt(z * zb)
        expr = expr.xreplace(rep)
        bad = expr.atoms(sp.conjugate, sp.re, sp.im, sp.Abs, sp.arg)
        if bad:
            raise InvalidInputError(
                argument, f"cannot interpret {sorted(map(str, bad))[0]}: write conjugates of "
                f"coordinates as conjugate(z), e.g. z1*conjugate(z1)")
        stray = {s for s in expr.free_symbols if s not in self.all and s.name.endswith("__bar")}
        if stray:
            raise InvalidInputError(argument, f"unknown symbols {sorted(map(str, stray))}")
        return expr

    def to_user(self, expr: sp.Expr) -> sp.Expr:
        """Internal z̄ symbols back to ``conjugate(z)`` (for printing and JSON).

        Inside undefined functions and their derivatives the internal name ``z__bar``
        is kept (sympy cannot differentiate with respect to ``conjugate(z)``)."""
        expr = sp.sympify(expr, strict=True)
        holders = {}

        def hold(node):
            d = sp.Dummy("h")
            holders[d] = node
            return d

        expr = expr.replace(lambda e: isinstance(e, sp.Derivative) and isinstance(e.expr, AppliedUndef), hold)
        expr = expr.replace(lambda e: isinstance(e, AppliedUndef), hold)
        return expr.xreplace(self._to_user).xreplace(holders)

    def conjugate(self, expr: sp.Expr) -> sp.Expr:
        return conjugate_expr(expr, self._swap)

    def realify(self, expr: sp.Expr, xs: Sequence[sp.Symbol], ys: Sequence[sp.Symbol]) -> sp.Expr:
        """Substitute ``z = x + i y``, ``z̄ = x − i y`` and expand the arguments of atoms
        (so that the same function of x, y is one generator of the exact algebra)."""
        sub = {}
        for z, zb, x, y in zip(self.zs, self.zbs, xs, ys, strict=True):
            sub[z], sub[zb] = x + sp.I * y, x - sp.I * y
        out = sp.sympify(expr, strict=True).xreplace(sub)
        return out.replace(lambda e: e.is_Function or (e.is_Pow and not e.base.is_Atom),
                           lambda e: e.func(*[sp.expand(a) for a in e.args]))


def conjugate_expr(expr: sp.Expr, swap: dict) -> sp.Expr:
    """Complex conjugate of an expression in ``(z, z̄)``: swap ``z ↔ z̄`` and ``i → −i``.

    Undefined functions ``u(z, z̄)`` are taken real: ``conj(∂^α∂̄^β u) = ∂^β∂̄^α u``;
    their argument list must then be closed under conjugation."""
    expr = sp.sympify(expr, strict=True)
    holders = {}

    def hold(node):
        f = node.expr if isinstance(node, sp.Derivative) else node
        args = f.args
        if set(swap.get(a, a) for a in args) != set(args):
            raise UnsupportedExpressionError(
                "expression", f"cannot conjugate {f}: its arguments must contain z and conjugate(z) together")
        if isinstance(node, sp.Derivative):
            new = sp.Derivative(f, *[(swap.get(v, v), c) for v, c in node.variable_count])
        else:
            new = f
        d = sp.Dummy("h")
        holders[d] = new
        return d

    expr = expr.replace(lambda e: isinstance(e, sp.Derivative) and isinstance(e.expr, AppliedUndef), hold)
    expr = expr.replace(lambda e: isinstance(e, AppliedUndef) and bool(e.free_symbols & set(swap)), hold)
    expr = expr.xreplace({**swap, sp.I: -sp.I})
    return expr.xreplace(holders)


def hermitian_to_real(t: sp.MatrixBase) -> sp.Matrix:
    """The real symmetric 2n × 2n matrix of a Hermitian (1,1) tensor ``t_{ab̄}``.

    With ``∂_x = ∂ + ∂̄`` and ``∂_y = i(∂ − ∂̄)`` and a J-invariant real tensor T with
    ``T(∂_a, ∂̄_b) = t_{ab̄}``: ``T(∂_{x^a}, ∂_{x^b}) = T(∂_{y^a}, ∂_{y^b}) = 2 Re t_{ab̄}``,
    ``T(∂_{x^a}, ∂_{y^b}) = 2 Im t_{ab̄}``.  Coordinates ordered ``(x^1..x^n, y^1..y^n)``.
    Uses ``Re t = (t + tᵀ)/2``, ``Im t = (t − tᵀ)/(2i)``, valid for Hermitian t."""
    t = sp.Matrix(t)
    n = t.rows
    re2 = t + t.T
    im2 = -sp.I * (t - t.T)
    out = sp.zeros(2 * n, 2 * n)
    out[:n, :n] = re2
    out[n:, n:] = re2
    out[:n, n:] = im2
    out[n:, :n] = im2.T
    return out


class KahlerMetric(ExactMetricBase):
    """The Kähler metric ``g_{ab̄} = ∂_a ∂̄_b K`` of a potential K (eq. B.1), exactly.

    Parameters
    ----------
    coords:
        Holomorphic coordinate names, ``"z1 z2"``.
    potential:
        ``K`` as a string or sympy expression in the ``z^a`` and ``conjugate(z^a)``,
        e.g. ``"log(1 + z1*conjugate(z1) + z2*conjugate(z2))"``; undefined real
        functions ``u(z1, conjugate(z1))`` and real parameters are allowed.
    check_positive:
        Decide positive definiteness (Sylvester's criterion on the leading minors):
        exactly where sympy can decide the sign of the realified minor, otherwise at
        ``samples`` seeded random points of the box ``|Re z|, |Im z| ≤ 2``.
        :attr:`positivity` records ``"proven"``, ``"sampled"`` or ``"unchecked"``
        (undefined functions or parameters present).
    fields:
        Further expressions (in internal or user notation) whose atoms should be in
        the exact algebra from the start.

    Raises
    ------
    InvalidInputError
        Unparseable input, a metric that is not Hermitian (K not real up to a
        pluriharmonic function), identically degenerate, or not positive definite
        (exactly, or at a sample point -- the message names it).
    """

    def __init__(self, coords, potential, *, check_positive: bool = True, samples: int = 32,
                 seed: int = 0, fields: Sequence = ()):
        self.cc = coords if isinstance(coords, ComplexCoordinates) else ComplexCoordinates(coords)
        cc = self.cc
        self.n = n = cc.n
        self.potential = cc.parse(potential) if not isinstance(potential, sp.Basic) else cc.to_internal(potential)
        self._fields = [cc.parse(f, "fields") if not isinstance(f, sp.Basic) else cc.to_internal(f, "fields")
                        for f in fields]
        try:
            self._conj_potential = cc.conjugate(self.potential)
        except UnsupportedExpressionError as exc:
            raise InvalidInputError("potential", exc.message) from None
        try:
            self._build()
        except UnsupportedExpressionError as exc:  # name the argument the user gave
            raise UnsupportedExpressionError("potential", exc.message) from None
        A = self.A
        # Hermitian: conj(g_{ab̄}) = ∂̄_a ∂_b conj(K) must equal g_{bā}
        Kc = A.element(self._conj_potential)
        for a in range(n):
            for b in range(a, n):
                conj_ab = A.D(A.D(Kc, n + a), b)
                if not A.is_zero(conj_ab - self._g[b][a]):
                    raise InvalidInputError(
                        "potential", f"the metric is not Hermitian: conj(g[{a}][{b}]) != g[{b}][{a}] "
                        f"(g[{a}][{b}] = {self._out(self._g[a][b])}); the potential must be real "
                        "up to a pluriharmonic function, e.g. log(1 + z*conjugate(z))")
        if A.is_zero(self._det):
            raise InvalidInputError("potential", "the metric is degenerate: det g is identically 0")
        self.positivity = self._check_positive(samples, seed) if check_positive else "unchecked"

    # ------------------------------------------------------------------ algebra
    def _build(self, extra: Sequence[sp.Expr] = ()) -> None:
        self._fields = list(self._fields) + [e for e in extra if e not in self._fields]
        exprs = [self.potential, self._conj_potential] + self._fields
        self.A = DifferentialAlgebra(self.cc.all, exprs)
        A, n = self.A, self.n
        K = A.element(self.potential)
        dK = [A.D(K, a) for a in range(n)]
        self._g = [[A.D(dK[a], n + b) for b in range(n)] for a in range(n)]
        self._det = A.det(self._g)
        self._cache: dict = {}

    def _parse(self, expr) -> sp.Expr:
        """User notation (``conjugate(z)``) or internal notation -> internal sympy."""
        return self.cc.parse(expr, "expression")

    def _to_user(self, expr: sp.Expr) -> sp.Expr:
        return self.cc.to_user(expr)

    # ------------------------------------------------------------------ positivity
    def _leading_minors(self):
        return [self.A.det([row[:k] for row in self._g[:k]]) for k in range(1, self.n + 1)]

    def _check_positive(self, samples: int, seed: int) -> str:
        """Sylvester's criterion: exact where sympy decides the sign, else sampled."""
        expr_minors = [self.A.expr(m, pretty=False) for m in self._leading_minors()]
        free = set().union(*(e.free_symbols for e in expr_minors)) - set(self.cc.all)
        if free or any(e.has(AppliedUndef) for e in expr_minors):
            return "unchecked"
        xs = sp.symbols(f"x0:{self.n}", real=True)
        ys = sp.symbols(f"y0:{self.n}", real=True)
        real_minors = [sp.expand(self.cc.realify(e, xs, ys)) for e in expr_minors]
        decided = []
        for k, m in enumerate(real_minors):
            pos = m.is_positive
            if pos is False:
                raise InvalidInputError(
                    "potential", f"the metric is not positive definite: its leading {k + 1}x{k + 1} "
                    f"minor is {self._out(self.A.reduce(self._leading_minors()[k]))}, never positive")
            decided.append(pos is True)
        if all(decided):
            return "proven"
        rng = random.Random(seed)
        fns = [sp.lambdify(xs + ys, m, "mpmath") for m in real_minors]
        for _ in range(samples):
            pt = [rng.uniform(-2, 2) for _ in range(2 * self.n)]
            for k, fn in enumerate(fns):
                try:
                    v = complex(fn(*pt))
                except (ZeroDivisionError, ValueError, TypeError):
                    continue  # a pole: skip this sample point
                if v.real <= 0:
                    z = [complex(pt[i], pt[self.n + i]) for i in range(self.n)]
                    raise InvalidInputError(
                        "potential", f"the metric is not positive definite at z = "
                        f"{[f'{c.real:.3g}{c.imag:+.3g}i' for c in z]}: leading {k + 1}x{k + 1} "
                        f"minor = {v.real:.4g}")
        return "sampled"

    # ------------------------------------------------------------------ elements
    # g_el, ginv_el (``ginv[b][a] = g^{b̄a}``: ``Σ_b g_{ab̄} ginv[b][c] = δ_ac``): ExactMetricBase

    @property
    def ricci_form_el(self):
        """``R_{ab̄} = −∂_a ∂̄_b log det g`` (B.3), as ``−∂_a(∂̄_b det g / det g)``."""
        def compute():
            A, n = self.A, self.n
            dlog = [A.reduce(A.D(self._det, n + b) / self._det) for b in range(n)]
            return [[A.reduce(-A.D(dlog[b], a)) for b in range(n)] for a in range(n)]
        return self._cached("ricci", compute)

    @property
    def scalar_el(self):
        """``R = g^{ab̄} R_{ab̄}`` (B.8)."""
        return self._cached("scalar", lambda: self.trace_el(self.ricci_form_el))

    def trace_el(self, t):
        """``g^{ab̄} t_{ab̄}``."""
        n = self.n
        ginv = self.ginv_el
        return self.A.reduce(F._sum(self.A, (ginv[b][a] * t[a][b] for a in range(n) for b in range(n))))

    def ddbar_el(self, f):
        """``∂_a ∂̄_b f`` for a field element f."""
        A, n = self.A, self.n
        df = [A.D(f, a) for a in range(n)]
        return [[A.D(df[a], n + b) for b in range(n)] for a in range(n)]

    def laplacian_el(self, f):
        """Complex Laplacian ``Δ_∂̄ f = g^{ab̄} ∂_a ∂̄_b f`` (the Riemannian Laplacian of
        ``ds²`` is ``4 Δ_∂̄``)."""
        return self.trace_el(self.ddbar_el(f))

    # ------------------------------------------------------------------ public sympy API
    @property
    def coords(self) -> tuple:
        return self.cc.zs

    @property
    def metric(self) -> sp.ImmutableMatrix:
        """``g_{ab̄} = ∂_a ∂̄_b K`` (B.1), rows a, columns b̄, in coordinate order."""
        return self._matrix_out(self._g)

    @property
    def det(self) -> sp.Expr:
        """``det g_{ab̄}``; ``J^n/n! = det g d^{2n}x`` (B.2)."""
        return self._out(self._det)

    @property
    def inverse(self) -> sp.ImmutableMatrix:
        """``g^{b̄a}`` as a matrix ``[b, a]`` (the matrix inverse of :attr:`metric`)."""
        return self._matrix_out(self.ginv_el)

    @property
    def kahler_form(self) -> sp.ImmutableMatrix:
        """Coefficients of ``J = (i/2) g_{ab̄} dz^a ∧ dz̄^b`` (B.2): the matrix ``(i/2) g_{ab̄}``."""
        return sp.ImmutableMatrix(self.metric * sp.I / 2)

    @property
    def volume_density(self) -> sp.Expr:
        """``J^n / n! = det g  dx^1 dy^1 … dx^n dy^n`` (B.2, B.10)."""
        return self.det

    @property
    def ricci_form(self) -> sp.ImmutableMatrix:
        """``R_{ab̄} = −∂_a ∂̄_b log det g`` (B.3).  Fubini–Study on CP^n: ``(n+1) g``."""
        return self._matrix_out(self.ricci_form_el)

    @property
    def scalar(self) -> sp.Expr:
        """``R = g^{ab̄} R_{ab̄}`` (B.8); the Riemannian scalar curvature of ``ds²`` is ``4R``."""
        return self._out(self.scalar_el)

    def is_zero(self, expr) -> bool:
        """Exact zero test of an expression (or matrix) in ``z``, ``conjugate(z)``."""
        if isinstance(expr, sp.MatrixBase):
            return all(self.is_zero(e) for e in expr)
        return self.A.is_zero(self.element(expr))

    def ddbar(self, expr) -> sp.ImmutableMatrix:
        """``∂_a ∂̄_b f`` of an expression."""
        f = self.element(expr)
        return self._matrix_out(self.ddbar_el(f))

    def laplacian(self, expr) -> sp.Expr:
        """``Δ_∂̄ f = g^{ab̄} ∂_a ∂̄_b f``."""
        return self._out(self.laplacian_el(self.element(expr)))

    # ------------------------------------------------------------------ flows
    @property
    def kahler_ricci_flow(self) -> sp.ImmutableMatrix:
        """Kähler–Ricci flow (B.4): ``∂_t g_{ab̄} = ∂_a ∂̄_b log det g = −R_{ab̄}``."""
        A = self.A
        return self._matrix_out([[A.reduce(-r) for r in row] for row in self.ricci_form_el])

    @property
    def kahler_ricci_potential_flow(self) -> sp.Expr:
        """(B.4) on the potential: ``∂_t K = log det g`` -- determined up to a pluriharmonic
        function (``∂∂̄`` of it is :attr:`kahler_ricci_flow`, tested exactly)."""
        return sp.log(self.det)

    @property
    def calabi_flow(self) -> sp.ImmutableMatrix:
        """Calabi flow (B.8): ``∂_t g_{ab̄} = ∂_a ∂̄_b R``, R = g^{ab̄}R_{ab̄} with the sign of (B.3).
        On the potential: ``∂_t φ = R`` (B.9 corrected, see docs/kahler.md)."""
        return self._matrix_out(self.ddbar_el(self.scalar_el))

    # ------------------------------------------------------------------ real geometry
    def real_coords(self) -> tuple[tuple, tuple]:
        """The real coordinates ``x^a, y^a`` with ``z^a = x^a + i y^a`` (named ``x_z1``, ``y_z1``)."""
        xs = tuple(sp.Symbol(f"x_{z.name}", real=True) for z in self.cc.zs)
        ys = tuple(sp.Symbol(f"y_{z.name}", real=True) for z in self.cc.zs)
        return xs, ys

    def realify(self, t) -> sp.Matrix:
        """A Hermitian (1,1) tensor given as an n × n matrix of ``t_{ab̄}`` (user or internal
        notation), as the real 2n × 2n tensor in ``(x^1..x^n, y^1..y^n)`` (:func:`hermitian_to_real`)."""
        xs, ys = self.real_coords()
        rows = t.tolist() if isinstance(t, sp.MatrixBase) else t
        internal = sp.Matrix([[self.cc.parse(e, "tensor") for e in row] for row in rows])
        return hermitian_to_real(internal).applyfunc(lambda e: self.cc.realify(e, xs, ys))

    def riemannian_metric(self):
        """The Riemannian metric ``ds² = g_{ab̄} dz^a dz̄^b`` as a :class:`Metric` in
        ``(x^1..x^n, y^1..y^n)``: the real form of ``g/2`` (so ``g = 1`` gives ``dx² + dy²``).
        Its Ricci tensor is the real form of the Ricci form (B.3), its scalar curvature 4R."""
        from metricflow.symbolic.metric import Metric

        xs, ys = self.real_coords()
        return Metric(xs + ys, self.realify(self.metric / 2))

    # ------------------------------------------------------------------ Calabi–Yau
    def eta(self, omega="1", kappa="kappa") -> sp.Expr:
        """``η = J^n / (κ |Ω|²)`` (B.10–B.11) pointwise: ``det g / (κ Ω Ω̄)`` for
        ``Ω = omega(z) dz^1 ∧ … ∧ dz^n``.  Constants (n!, (i/2)^n) are absorbed in κ
        (docs/kahler.md); choose κ so that ``∫ η |Ω|² = ∫ |Ω|²``."""
        om = self.cc.parse(omega, "omega")
        if any(s in om.free_symbols for s in self.cc.zbs):
            raise InvalidInputError("omega", f"Ω must be holomorphic (no conjugate(z)), got {omega!r}")
        if om == 0:
            raise InvalidInputError("omega", "Ω = 0 is not a top form: η = det g/(κ|Ω|²) is undefined")
        k = parse_scalar(kappa, self.cc.zs, "kappa", allow_complex=True)
        if k == 0:
            raise InvalidInputError("kappa", "κ must not be 0")
        w = om * self.cc.conjugate(om)
        return self.cc.to_user(self.A.expr(self._det) / (k * w))

    def sigma(self, omega="1", kappa="kappa") -> sp.Expr:
        """The σ-loss ``|1 − η|`` (B.11)."""
        return sp.Abs(1 - self.eta(omega, kappa))

    def __repr__(self) -> str:
        return f"KahlerMetric(coords={tuple(map(str, self.cc.zs))}, potential={self.cc.to_user(self.potential)})"
