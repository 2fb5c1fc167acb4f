"""Functional derivatives of metric functionals, and the gradient flows they generate.

A functional ``S[g, f] = ∫ L(g, ∂g, ∂²g, f, ∂f, …) ρ d^n x`` is varied on the
*generic* metric of dimension n -- ``g_ij = G_ij(x)``, n(n+1)/2 undefined
functions -- with the Euler operator of the calculus of variations (integration
by parts, second derivatives included)::

    E_u(ℒ) = Σ_α (−D)^α ∂ℒ/∂u_α,     ℒ = L ρ.

The result is exact (the algebra of :mod:`metricflow.symbolic._algebra`), and is
specialised to any concrete metric by substitution.  Conventions (density versus
tensor, the factor of the off-diagonal components, the flow's normalisation)
are in docs/conventions.md, "Flows and functional derivatives".

Perelman's functional (eq. 2.41) is varied under the constraint that
``e^{−f} dV`` is fixed, i.e. ``δf = ½ g^{ij} δg_ij``; the derived gradient flow
is eq. (2.40), ``∂_t g_ij = −2 (R_ij + ∇_i∇_j f)``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from metricflow.errors import InvalidInputError
from metricflow.symbolic import _formulas as F
from metricflow.symbolic.metric import Metric
from metricflow.symbolic.parsing import parse_scalar

_COORD_NAMES = {1: "x", 2: "x y", 3: "x y z", 4: "t x y z"}


@dataclass(frozen=True)
class Geometry:
    """What a Lagrangian may use, as exact field elements of the generic metric's algebra."""

    metric: Metric
    f: object | None  # dilaton element (None when the functional has none)

    @property
    def A(self):
        return self.metric.A

    @property
    def R(self):
        """Scalar curvature."""
        return self.metric.scalar_el

    @property
    def ricci(self):
        """The Ricci tensor ``R_ij`` (a nested list of elements)."""
        return self.metric.ricci_el

    @property
    def ricci_sq(self):
        """``|Ric|² = R_ij R^ij``."""
        return F.tensor_norm_sq(self.A, self.metric.ginv_el, self.metric.ricci_el)

    @property
    def grad_f_sq(self):
        """``|∇f|²``."""
        return F.norm_sq(self.A, self.metric.ginv_el, F.gradient(self.A, self.f))

    @property
    def laplacian_f(self):
        """``Δf``."""
        return F.trace(self.A, self.metric.ginv_el, F.hessian(self.A, self.metric.christoffel_el, self.f))


@dataclass(frozen=True)
class Functional:
    """``S[g, f] = ∫ lagrangian(geometry) dμ`` with ``dμ = dV`` or ``e^{−f} dV``.

    ``constrain_measure=True`` varies with ``e^{−f} dV`` held fixed (Perelman);
    then f is not an independent field and only the metric variation is reported.
    """

    name: str
    lagrangian: Callable[[Geometry], object]
    dilaton_measure: bool = False
    uses_dilaton: bool = False
    constrain_measure: bool = False
    equation: str = ""
    description: str = ""


PERELMAN = Functional(
    "perelman", lambda geo: geo.R + geo.grad_f_sq, dilaton_measure=True, uses_dilaton=True,
    constrain_measure=True, equation="(2.41)",
    description="Perelman's F[g, f] = ∫ (R + |∇f|²) e^{-f} dV, varied with e^{-f} dV fixed")
EINSTEIN_HILBERT = Functional(
    "einstein-hilbert", lambda geo: geo.R, equation="",
    description="Einstein–Hilbert S[g] = ∫ R dV")
VOLUME = Functional("volume", lambda geo: geo.A.one, description="Vol[g] = ∫ dV")

#: the built-in Riemannian functionals; a new one is one entry here (the one registry of
#: every functional, Riemannian and Kähler, is :mod:`metricflow.symbolic.registry`)
BUILTIN = (PERELMAN, EINSTEIN_HILBERT, VOLUME)


@dataclass
class Variation:
    """The derived first variation of a functional on the generic n-dimensional metric.

    Attributes
    ----------
    metric:
        The generic metric ``G_ij(x)`` (a :class:`Metric` whose entries are undefined functions).
    dilaton:
        The dilaton ``f(x)`` (or None).
    euler_density:
        ``E^{ij}``, the Euler–Lagrange density: ``δS = ∫ E^{ij} δg_ij d^n x`` (all i, j).
    tensor:
        ``V^{ij} = E^{ij} / ρ`` with ρ the density of the functional's measure.
    lowered:
        ``V_ij = g_ia g_jb V^{ab}``.
    euler_dilaton:
        ``E_f`` (unconstrained functionals with a dilaton).
    """

    functional: Functional
    metric: Metric
    dilaton: sp.Expr | None
    euler_density: list
    tensor: list
    lowered: list
    euler_dilaton: object | None

    def lowered_matrix(self) -> sp.ImmutableMatrix:
        return self.metric._matrix_out(self.lowered)


def generic_metric(dim: int, with_dilaton: bool = False) -> tuple[Metric, sp.Expr | None]:
    """The metric ``g_ij = G_ij(x)`` with undefined symmetric components (and a dilaton ``f(x)``)."""
    if dim not in _COORD_NAMES:
        raise InvalidInputError("dim", f"expected 1 to 4, got {dim}")
    from metricflow.symbolic.parsing import parse_coords

    coords = parse_coords(_COORD_NAMES[dim])
    G = [[None] * dim for _ in range(dim)]
    for i in range(dim):
        for j in range(i, dim):
            G[i][j] = G[j][i] = sp.Function(f"g{i}{j}")(*coords)
    det = sp.Matrix(G).det()
    f = sp.Function("f")(*coords) if with_dilaton else None
    fields = [sp.sqrt(det)] + ([sp.exp(-f)] if f is not None else [])
    return Metric(coords, G, fields=fields), f


def euler_operator(A, density, func) -> object:
    """``E_u(ℒ) = Σ_α (−D)^α ∂ℒ/∂(∂^α u)`` for the undefined function ``func``."""
    idx = A.functions()[func]
    terms = []
    for f, alpha, el in A.jet_generators():
        if f != func:
            continue
        p = A.partial(density, el)
        if not p:
            continue
        for k, a in enumerate(alpha):
            for _ in range(a):
                p = A.D(p, idx[k])
        terms.append(p if sum(alpha) % 2 == 0 else -p)
    return A.reduce(F._sum(A, terms))


def derive_variation(functional: str | Functional, dim: int) -> Variation:
    """Derive the first variation of a functional in ``dim`` dimensions (cached).

    ``functional`` is a built-in name (:data:`BUILTIN`, listed by
    :func:`metricflow.symbolic.registry.names`) or your own :class:`Functional`, e.g.
    ``Functional("R2", lambda geo: geo.R**2)`` or, with the Ricci tensor,
    ``Functional("ric2", lambda geo: geo.ricci_sq)``."""
    return _derive_variation(lookup(functional), dim)


def lookup(functional: str | Functional, argument: str = "functional") -> Functional:
    """A built-in name or a :class:`Functional` -> the :class:`Functional` (errors name ``argument``)."""
    from metricflow.symbolic.registry import lookup as registry_lookup

    return registry_lookup(functional, "riemannian", argument)


@lru_cache(maxsize=16)
def _derive_variation(fn: Functional, dim: int) -> Variation:
    metric, f = generic_metric(dim, with_dilaton=fn.uses_dilaton)
    A = metric.A
    fe = A.element(f) if f is not None else None
    geo = Geometry(metric, fe)
    sqrt_g = A.element(sp.sqrt(metric.det))
    rho = sqrt_g * A.element(sp.exp(-f)) if fn.dilaton_measure else sqrt_g
    density = A.reduce(fn.lagrangian(geo) * rho)
    n = dim
    funcs = {}
    for i in range(n):
        for j in range(i, n):
            funcs[i, j] = metric.matrix[i, j]
    E = {key: euler_operator(A, density, u) for key, u in funcs.items()}
    E_f = euler_operator(A, density, f) if f is not None else None
    ginv = metric.ginv_el
    if fn.constrain_measure:
        # δ(e^{-f}√g) = 0  ⇒  δf = ½ g^{ij} δg_ij (sum over all i, j)
        for (i, j) in E:
            weight = A.one / 2 if i == j else A.one
            E[i, j] = A.reduce(E[i, j] + E_f * weight * ginv[i][j])
        E_f = None
    # independent component g_ij (i<j) stands for g_ij and g_ji: E^{ij} = E_ij / 2
    dens = [[None] * n for _ in range(n)]
    for (i, j), v in E.items():
        dens[i][j] = dens[j][i] = v if i == j else A.reduce(v / 2)
    tensor = [[A.reduce(dens[i][j] / rho) for j in range(n)] for i in range(n)]
    g = metric.g_el
    lowered = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            lowered[i][j] = lowered[j][i] = A.reduce(F._sum(
                A, (g[i][a] * g[j][b] * tensor[a][b] for a in range(n) for b in range(n))))
    return Variation(fn, metric, f, dens, tensor, lowered, E_f)


def specialize(expr: sp.Expr, variation: Variation, metric: Metric, dilaton=None) -> sp.Expr:
    """Substitute a concrete metric (and dilaton) into an expression of the generic metric."""
    gen = variation.metric
    if metric.n != gen.n:
        raise InvalidInputError("metric", f"dimension {metric.n} does not match the variation's {gen.n}")
    old = gen.coords
    mapping = {}
    for i in range(gen.n):
        for j in range(i, gen.n):
            mapping[gen.matrix[i, j].func] = sp.Lambda(old, metric.matrix[i, j].subs(
                dict(zip(metric.coords, old, strict=True)), simultaneous=True))
    if variation.dilaton is not None:
        if dilaton is None:
            raise InvalidInputError("dilaton", f"the functional {variation.functional.name} needs a dilaton f")
        d = metric.element(dilaton) and metric._out(metric.element(dilaton))
        mapping[variation.dilaton.func] = sp.Lambda(old, d.subs(
            dict(zip(metric.coords, old, strict=True)), simultaneous=True))
    out = expr.subs(mapping).doit()
    return out.subs(dict(zip(old, metric.coords, strict=True)), simultaneous=True)


def gradient_flow(name: str, metric: Metric, dilaton=None, *, normalization=2,
                  ascent: bool | None = None) -> sp.ImmutableMatrix:
    """``∂_t g_ij`` of the gradient flow of the functional ``name``, derived and specialised.

    The flow is ``∂_t g_ij = ± c V_ij`` with ``V`` the variation with respect to the
    functional's measure (docs/conventions.md); ``c = normalization`` (Perelman's
    convention: 2).  Perelman's F is *increased* (``ascent``, the default for it);
    other functionals are decreased.  For Perelman this is eq. (2.40),
    ``−2 (R_ij + ∇_i∇_j f)``.
    """
    var = derive_variation(name, metric.n)
    if ascent is None:
        ascent = name == "perelman"
    sign = 1 if ascent else -1
    gen_matrix = var.lowered_matrix()
    if dilaton is not None:
        dilaton = parse_scalar(dilaton, metric.coords, "dilaton", params=metric.params)
    fields = [dilaton] if dilaton is not None else []
    target = Metric(metric.coords, metric.matrix, lorentzian=metric.lorentzian, fields=fields, params=metric.params)
    out = sp.Matrix(metric.n, metric.n, lambda i, j: 0)
    for i in range(metric.n):
        for j in range(i, metric.n):
            e = sign * normalization * specialize(gen_matrix[i, j], var, target, dilaton)
            out[i, j] = out[j, i] = target.normal_form(e)
    return sp.ImmutableMatrix(out)


def perelman_flow(metric: Metric, dilaton) -> sp.ImmutableMatrix:
    """Eq. (2.40): ``∂_t g_ij = −2 (R_ij + ∇_i∇_j f)``, computed from the curvature of ``metric``.

    This is the closed form of :func:`gradient_flow` ``("perelman", ...)`` -- the
    test suite checks that the two agree -- and works in any dimension."""
    dilaton = parse_scalar(dilaton, metric.coords, "dilaton", params=metric.params)
    m = Metric(metric.coords, metric.matrix, lorentzian=metric.lorentzian, fields=[dilaton], params=metric.params)
    fe = m.element(dilaton)
    H = m.hessian_el(fe)
    Ric = m.ricci_el
    A = m.A
    return m._matrix_out([[A.reduce(-2 * (Ric[i][j] + H[i][j])) for j in range(m.n)]
                          for i in range(m.n)])


def dilaton_velocity(metric: Metric, dilaton, gauge: str = "perelman") -> sp.Expr:
    """The dilaton's flow that accompanies a metric flow (docs/conventions.md).

    ``gauge="perelman"``: ``∂_t f = −Δf − R``, the partner of eq. (2.40); it keeps the
    measure ``e^{−f} dV`` fixed *pointwise*.  ``gauge="ricci"``: ``∂_t f = −Δf + |∇f|² − R``
    (the conjugate heat equation), the partner of Ricci flow (2.39); the two systems
    are related by the diffeomorphisms generated by ``∇f``, and this one keeps only
    the *total* ``∫ e^{−f} dV`` fixed (``∂_t(e^{−f}√g) = −√g Δ e^{−f}``, a divergence).
    """
    if gauge not in ("perelman", "ricci"):
        raise InvalidInputError("gauge", f"expected 'perelman' or 'ricci', got {gauge!r}")
    dilaton = parse_scalar(dilaton, metric.coords, "dilaton", params=metric.params)
    m = Metric(metric.coords, metric.matrix, lorentzian=metric.lorentzian, fields=[dilaton], params=metric.params)
    A = m.A
    fe = m.element(dilaton)
    lap = F.trace(A, m.ginv_el, m.hessian_el(fe))
    out = -lap - m.scalar_el
    if gauge == "ricci":
        out += F.norm_sq(A, m.ginv_el, F.gradient(A, fe))
    return m._out(A.reduce(out))


def closed_form_check(var: Variation) -> bool:
    """Exact check of a derived variation against its textbook closed form:
    ``−(R_ij + ∇_i∇_j f)`` (Perelman, with e^{−f} dV fixed), ``−G_ij``
    (Einstein–Hilbert), ``½ g_ij`` (volume)."""
    m, A = var.metric, var.metric.A
    n = m.n
    if var.functional.name == "perelman":
        H, Ric = m.hessian_el(A.element(var.dilaton)), m.ricci_el
        expected = [[-(Ric[i][j] + H[i][j]) for j in range(n)] for i in range(n)]
    elif var.functional.name == "einstein-hilbert":
        G = m.einstein_el
        expected = [[-G[i][j] for j in range(n)] for i in range(n)]
    elif var.functional.name == "volume":
        expected = [[m.g_el[i][j] / 2 for j in range(n)] for i in range(n)]
    else:  # pragma: no cover - every built-in functional has a closed form
        raise InvalidInputError("functional", f"no closed form known for {var.functional.name}")
    return all(A.is_zero(var.lowered[i][j] - expected[i][j]) for i in range(n) for j in range(n))
