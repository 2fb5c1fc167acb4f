"""Calabi–Yau energy functionals of Appendix B and their flows, derived on the Kähler potential.

Every functional is ``E[φ] = ∫ ℒ d^{2n}x`` with the metric ``g_{ab̄} = ∂_a ∂̄_b u``,
``u = K_0 + φ`` (B.6 with the normalisation of B.9 and B.19–B.21, ``g = g_0 + ∂∂̄φ``),
derived on the *generic* potential: ``u(z, z̄)`` is an undefined function, and the
holomorphic top form is ``Ω = Ω(z) dz^1∧…∧dz^n`` with ``Ω(z)`` an undefined
*holomorphic* function, so ``|Ω|² = Ω(z) Ω̄(z̄)`` and ``∂∂̄ log|Ω|² = 0`` exactly.
With ``J^n/n! = det g d^{2n}x`` (B.2) and ``μ_CY = |Ω|² d^{2n}x``:

    η = det g / (κ |Ω|²)            (B.10–B.11; n!, (i/2)^n absorbed in κ)

The variation ``δE = ∫ E_φ δφ d^{2n}x`` is the Euler operator in the jets of u
(``δφ = δu``), computed exactly in :mod:`metricflow.symbolic._algebra`; each is
checked against a closed form exactly (tests) and against finite differences of
the discretised functional on a flat torus (:mod:`metricflow.flows.kahler`).

Flows are reported on the potential, ``∂_t φ = v``:

* ``"L2"``: gradient descent for ``⟨a, b⟩ = ∫ a b ρ d^{2n}x`` with ρ the functional's
  flow measure (``μ_J/κ = η μ_CY`` for the Headrick–Nassar family, ``μ_J`` for Calabi);
* the paper's flows (B.8–B.9, B.19–B.21), corrected where the derivation disagrees;
  their descent property is a theorem checked numerically (docs/kahler.md).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from metricflow.errors import InvalidInputError
from metricflow.symbolic import _formulas as F
from metricflow.symbolic._algebra import DifferentialAlgebra
from metricflow.symbolic.functionals import euler_operator

KAPPA = sp.Symbol("kappa", positive=True)
ETA = sp.Symbol("eta", positive=True)


class PotentialGeometry:
    """Exact elements of the generic potential's algebra: g, g^{-1}, det g, η, √η, log η,
    |Ω|², Ricci form, scalar curvature, and the operators ∂, ∂̄, Δ_∂̄ = g^{ab̄}∂_a∂̄_b."""

    def __init__(self, n: int, jet_order: int, with_test_function: bool = False, extra=()):
        if not 1 <= n <= 3:
            raise InvalidInputError("n", f"expected complex dimension 1 to 3, got {n}")
        self.n = n
        zs = sp.symbols(f"z1:{n + 1}")
        zbs = sp.symbols(f"zb1:{n + 1}")
        self.coords = tuple(zs) + tuple(zbs)
        self.u = sp.Function("u")(*self.coords)
        self.Om = sp.Function("Omega")(*zs)
        self.Omb = sp.Function("Omegab")(*zbs)
        self.psi = sp.Function("psi")(*self.coords) if with_test_function else None
        gmat = sp.Matrix(n, n, lambda a, b: sp.Derivative(self.u, zs[a], zbs[b]))
        eta_expr = gmat.det() / (KAPPA * self.Om * self.Omb)
        self.eta_expr = eta_expr
        funcs = [self.u, self.Om, self.Omb] + ([self.psi] if self.psi is not None else [])
        extra = [e.subs(ETA, eta_expr) for e in extra]
        self.A = A = DifferentialAlgebra(self.coords, [KAPPA, sp.sqrt(eta_expr), sp.log(eta_expr), *extra],
                                         jet_order=jet_order, functions=funcs)
        self.kappa = A.element(KAPPA)
        self.g = [[A.jet(self.u, self._alpha({a: 1, n + b: 1})) for b in range(n)] for a in range(n)]
        self.det = A.det(self.g)
        self.ginv = A.inverse(self.g)
        self.w = A.element(self.Om * self.Omb)
        self.eta = A.reduce(self.det / (self.kappa * self.w))
        self.sqrt_eta = A.element(sp.sqrt(eta_expr))
        self.log_eta = A.element(sp.log(eta_expr))
        self._cache: dict = {}

    def of_eta(self, F: sp.Expr):
        """``F(η)`` as an element, for an expression F in the symbol ``eta`` (its atoms must
        have been given to the constructor as ``extra``)."""
        return self.A.element(F.subs(ETA, self.eta_expr))

    def _alpha(self, counts: dict) -> tuple:
        return tuple(counts.get(i, 0) for i in range(2 * self.n))

    def d(self, f, a):
        """``∂_a f``."""
        return self.A.D(f, a)

    def dbar(self, f, b):
        """``∂̄_b f``."""
        return self.A.D(f, self.n + b)

    def trace(self, t):
        """``g^{ab̄} t_{ab̄}``."""
        n = self.n
        return self.A.reduce(F._sum(self.A, (self.ginv[b][a] * t[a][b] for a in range(n) for b in range(n))))

    def ddbar(self, f):
        return [[self.dbar(self.d(f, a), b) for b in range(self.n)] for a in range(self.n)]

    def laplacian(self, f):
        """``Δ_∂̄ f = g^{ab̄} ∂_a ∂̄_b f``."""
        return self.trace(self.ddbar(f))

    def norm_sq(self, f, h=None):
        """``g^{ab̄} ∂_a f ∂̄_b h`` (h = f by default)."""
        h = f if h is None else h
        n = self.n
        df = [self.d(f, a) for a in range(n)]
        dh = [self.dbar(h, b) for b in range(n)]
        return self.A.reduce(F._sum(self.A, (self.ginv[b][a] * df[a] * dh[b] for a in range(n) for b in range(n))))

    @property
    def ricci_form(self):
        """``R_{ab̄} = −∂_a∂̄_b log det g`` (B.3)."""
        if "ricci" not in self._cache:
            A, n = self.A, self.n
            dlog = [A.reduce(self.dbar(self.det, b) / self.det) for b in range(n)]
            self._cache["ricci"] = [[A.reduce(-self.d(dlog[b], a)) for b in range(n)] for a in range(n)]
        return self._cache["ricci"]

    @property
    def R(self):
        """``R = g^{ab̄} R_{ab̄}`` (B.8)."""
        if "R" not in self._cache:
            self._cache["R"] = self.trace(self.ricci_form)
        return self._cache["R"]

    @property
    def mu_J(self):
        """Density of ``μ_J = J^n/n! = det g d^{2n}x``."""
        return self.det

    @property
    def flow_measure(self):
        """``μ_J / κ = η μ_CY`` (same total volume as μ_CY when κ is normalised)."""
        return self.A.reduce(self.det / self.kappa)


@dataclass(frozen=True)
class KahlerFunctional:
    """``E[φ] = ∫ lagrangian(geo) d^{2n}x`` on Kähler potentials.

    ``order``: derivatives of u in the Lagrangian (the variation has 2·order).
    ``measure``: ``"mu_J"`` or ``"eta_mu_CY"``, the measure ρ of the L² gradient flow.
    ``paper_flow``: the potential velocity the paper associates with it (corrected),
    as a function of the geometry, with its equation label.
    """

    name: str
    lagrangian: Callable[[PotentialGeometry], object]
    order: int
    equation: str
    description: str
    measure: str = "eta_mu_CY"
    paper_flow: Callable[[PotentialGeometry], object] | None = None
    paper_flow_equation: str = ""
    paper_flow_description: str = ""
    extra: tuple = ()  # expressions in ETA whose atoms the algebra needs (user F)


def _F_quadratic(geo):
    return (geo.eta - 1) ** 2


CALABI = KahlerFunctional(
    "calabi", lambda geo: geo.R**2 * geo.det, 4, "(B.7)",
    "Calabi functional E = ∫ R² J^n (J^n/n! = det g d^{2n}x; the n! dropped)", measure="mu_J",
    paper_flow=lambda geo: geo.R, paper_flow_equation="(B.8)-(B.9)",
    paper_flow_description="Calabi flow dφ/dt = R (dg/dt = ∂∂̄R); (B.9)'s 'Δ ln det g' is −R: sign corrected. "
    "It is the L2 gradient flow of hn-entropy (exactly), and decreases the Calabi functional")
HN_ULTRALOCAL = KahlerFunctional(
    "hn-ultralocal", lambda geo: _F_quadratic(geo) * geo.w, 2, "(B.12), (B.14)",
    "Headrick–Nassar ultra-local E = ∫ (η − 1)² μ_CY",
    paper_flow=lambda geo: 2 * (geo.eta - 1), paper_flow_equation="(B.21)",
    paper_flow_description="dφ/dt = +F'(η) = 2(η − 1): gradient descent for the Dirichlet metric "
    "∫ g^{ab̄}∂_a a ∂̄_b b μ_J/κ; (B.21) prints −2(η − 1) (an ascent) and drops the −1 and κ")
HN_ENTROPY = KahlerFunctional(
    "hn-entropy", lambda geo: geo.eta * geo.log_eta * geo.w, 2, "(B.12) with F = η ln η",
    "Headrick–Nassar ultra-local E = ∫ η ln η μ_CY (negative entropy)",
    paper_flow=lambda geo: geo.log_eta + 1, paper_flow_equation="(B.21)-type",
    paper_flow_description="dφ/dt = F'(η) = ln η + 1: the complex Monge–Ampère (Kähler–Ricci, c1 = 0) flow; "
    "its L2 flow is the Calabi flow dφ/dt = R")
HN_TWO_DERIVATIVE = KahlerFunctional(
    "hn-two-derivative", lambda geo: geo.w * geo.norm_sq(geo.eta), 3, "(B.15)",
    "Headrick–Nassar two-derivative E = ∫ μ_CY g^{ab̄} ∂_a η ∂̄_b η",
    paper_flow=lambda geo: -geo.A.reduce(1 / geo.sqrt_eta), paper_flow_equation="(B.19)-(B.20)",
    paper_flow_description="dφ/dt = −η^{-1/2} (B.20 with κ restored in η): the gradient descent for the metric "
    "⟨a, b⟩ = 4∫ μ_CY √η ∂^a∂^b̄ a ∂_a∂̄_b b if (B.16) held; (B.16) holds only to first order in η − 1, "
    "so this is the descent direction near η = 1 (numerically a descent at every sampled perturbation)")
EINSTEIN_HILBERT_CY = KahlerFunctional(
    "einstein-hilbert-cy", lambda geo: -geo.R * geo.w / 2, 4, "(B.17)",
    "E_EH = −½ ∫ μ_CY R; equals ½ ∫ μ_CY |∂ ln η|² up to a divergence (not ∝ B.15)")
PERELMAN_ETA = KahlerFunctional(
    "perelman-eta", lambda geo: -geo.w * (geo.R + geo.norm_sq(geo.log_eta)), 4, "(B.18)",
    "Perelman's F with dilaton ln η, as printed: −∫ μ_CY (R + g^{ab̄} ∂_a ln η ∂̄_b ln η); "
    "identically zero on Kähler potentials (a divergence), so its variation vanishes")

#: the built-in Kähler functionals; a new one is one entry here (the one registry of every
#: functional, Riemannian and Kähler, is :mod:`metricflow.symbolic.registry`)
BUILTIN = (CALABI, HN_ULTRALOCAL, HN_ENTROPY, HN_TWO_DERIVATIVE, EINSTEIN_HILBERT_CY, PERELMAN_ETA)


@dataclass
class PotentialVariation:
    """The derived variation ``E_φ`` (``δE = ∫ E_φ δφ d^{2n}x``) and the flows."""

    functional: KahlerFunctional
    geo: PotentialGeometry
    density: object          # ℒ
    euler: object            # E_φ
    l2_velocity: object      # −E_φ / ρ
    paper_velocity: object | None

    def expr(self, el) -> sp.Expr:
        """An element as sympy, in terms of u(z, zb), Omega(z), Omegab(zb), kappa."""
        return self.geo.A.expr(el)


def _positive_at(d2: sp.Expr, eta: sp.Rational) -> bool:
    """``F''(eta) > 0`` numerically; a complex, infinite or undefined value is not positive."""
    try:
        v = complex(d2.subs(ETA, eta).evalf())
    except (TypeError, ValueError):
        return False
    return v.imag == 0 and math.isfinite(v.real) and v.real > 0


def ultralocal(F: str | sp.Expr, name: str | None = None) -> KahlerFunctional:
    """The Headrick–Nassar ultra-local functional ``∫ F(η) μ_CY`` (B.12) for your own F,
    given in the variable ``eta`` (e.g. ``"(eta - 1)**2"``, ``"eta*log(eta)"``, ``"cosh(eta - 1)"``).

    F must be convex on η > 0: ``F''`` is checked to be positive where sympy can decide it
    (``InvalidInputError`` if it is never positive), and at 50 points of (0, 10] otherwise.
    The paper's (corrected) flow is ``∂_tφ = F'(η)`` (B.21)."""
    from metricflow.symbolic.parsing import parse_scalar

    expr = parse_scalar(F, (), "F").xreplace({sp.Symbol("eta"): ETA})
    if expr.free_symbols - {ETA}:
        raise InvalidInputError("F", f"F must be a function of eta only, got {F!r}")
    d1, d2 = sp.diff(expr, ETA), sp.diff(expr, ETA, 2)
    pos = d2.is_positive
    if pos is False or pos is None and not all(_positive_at(d2, sp.Rational(k, 5)) for k in range(1, 51)):
        raise InvalidInputError("F", f"F = {expr} is not strictly convex on eta > 0 (F'' = {d2})")
    return KahlerFunctional(
        name or f"hn-ultralocal[{expr}]", lambda geo: geo.A.reduce(geo.of_eta(expr) * geo.w), 2, "(B.12)",
        f"Headrick–Nassar ultra-local E = ∫ F(η) μ_CY with F = {expr}",
        paper_flow=lambda geo: geo.of_eta(d1), paper_flow_equation="(B.21), corrected",
        paper_flow_description="dφ/dt = +F'(η): gradient descent for the Dirichlet metric", extra=(expr, d1))


def _lookup(functional) -> KahlerFunctional:
    from metricflow.symbolic.registry import lookup

    return lookup(functional, "kahler")


def geometry(n: int, order: int, with_test_function: bool = False) -> PotentialGeometry:
    return _geometry(n, order, with_test_function)


@lru_cache(maxsize=8)
def _geometry(n, order, with_test_function):
    return PotentialGeometry(n, jet_order=order, with_test_function=with_test_function)


def derive_potential_variation(functional: str | KahlerFunctional, n: int = 1) -> PotentialVariation:
    """Derive ``E_φ`` of a Kähler functional in complex dimension n by the Euler operator (cached)."""
    return _derive(_lookup(functional), n)


@lru_cache(maxsize=32)
def _derive(fn: KahlerFunctional, n: int) -> PotentialVariation:
    if fn.extra:
        geo = PotentialGeometry(n, jet_order=2 * fn.order + 1, extra=fn.extra)
    else:
        geo = geometry(n, 2 * fn.order + 1)
    A = geo.A
    dens = A.reduce(fn.lagrangian(geo))
    E = euler_operator(A, dens, geo.u)
    rho = geo.mu_J if fn.measure == "mu_J" else geo.flow_measure
    l2 = A.reduce(-E / rho)
    paper = A.reduce(fn.paper_flow(geo)) if fn.paper_flow is not None else None
    return PotentialVariation(fn, geo, dens, E, l2, paper)


# ---------------------------------------------------------------------- closed forms
def ultralocal_closed_form(geo: PotentialGeometry, Fprime) -> object:
    """(B.13) derived: ``E_φ = (det g / κ) Δ_∂̄ F'(η) = η Δ_∂̄F'(η) |Ω|²``, i.e.
    ``δE = ∫ η Δ_∂̄ F'(η) δφ μ_CY`` (the paper: ½ ∫ μ_J ∇²F'(η) δφ, other normalisations)."""
    return geo.A.reduce(geo.flow_measure * geo.laplacian(Fprime))


def calabi_closed_form_1d(geo: PotentialGeometry) -> object:
    """Complex dimension 1: ``E_φ = det g (−2 Δ_∂̄² R − Δ_∂̄ R²)`` for ∫ R² μ_J."""
    R = geo.R
    return geo.A.reduce(geo.det * (-2 * geo.laplacian(geo.laplacian(R)) - geo.laplacian(R**2)))


def b16_density(geo: PotentialGeometry) -> object:
    """The integrand of (B.16) with δφ = ψ: ``4 μ_CY η^{1/2} ∂^a∂^b̄ψ ∂_a∂̄_b η^{-1/2}``,
    ``∂^a∂^b̄ψ = g^{ac̄} g^{db̄} ∂_d∂̄_c ψ``."""
    A, n = geo.A, geo.n
    psi = A.jet(geo.psi, (0,) * (2 * n))
    H = geo.ddbar(psi)
    inv_sqrt = A.reduce(1 / geo.sqrt_eta)
    T = geo.ddbar(inv_sqrt)
    gi = geo.ginv  # gi[b][a] = g^{b̄ a}
    terms = []
    for a in range(n):
        for b in range(n):
            for c in range(n):
                for d in range(n):
                    # g^{a c̄} g^{d b̄} ψ_{d c̄} T_{a b̄}
                    terms.append(gi[c][a] * gi[b][d] * H[d][c] * T[a][b])
    return A.reduce(4 * geo.w * geo.sqrt_eta * F._sum(A, terms))


def b16_euler(n: int = 1):
    """``E_ψ`` of the (B.16) integrand and ``E_φ`` of (B.15), on one algebra (for the exact check)."""
    geo = geometry(n, 7, with_test_function=True)
    A = geo.A
    e_b16 = euler_operator(A, b16_density(geo), geo.psi)
    e_215 = euler_operator(A, A.reduce(HN_TWO_DERIVATIVE.lagrangian(geo)), geo.u)
    return geo, e_b16, e_215


def closed_form_checks(functional: str | KahlerFunctional, n: int = 1) -> dict:
    """Exact checks of a derived variation (each a bool, computed now):

    * ``hn-ultralocal``/``hn-entropy``: ``E_φ = (det g/κ) Δ_∂̄F'(η)`` (B.13 derived);
      ``hn-entropy`` also: its L² flow equals the Calabi flow ``∂_tφ = R`` (B.8);
    * ``calabi`` (n = 1): ``E_φ = det g (−2Δ²R − Δ R²)``;
    * ``hn-two-derivative`` (n = 1): whether the printed (B.16) equals the derivation;
    * ``einstein-hilbert-cy``: same Euler–Lagrange expression as ``½∫μ_CY|∂ ln η|²`` (B.17);
    * ``perelman-eta``: the variation vanishes identically (B.18).
    """
    fn = _lookup(functional)
    v = derive_potential_variation(fn, n)
    g, A = v.geo, v.geo.A
    out: dict = {}
    if fn.extra:  # a user's F: extra = (F, F')
        out["matches_closed_form_B13"] = A.is_zero(v.euler - ultralocal_closed_form(g, g.of_eta(fn.extra[1])))
    elif fn.name == "hn-ultralocal":
        out["matches_closed_form_B13"] = A.is_zero(v.euler - ultralocal_closed_form(g, 2 * (g.eta - 1)))
    elif fn.name == "hn-entropy":
        out["matches_closed_form_B13"] = A.is_zero(v.euler - ultralocal_closed_form(g, g.log_eta + 1))
        out["l2_flow_is_calabi_flow"] = A.is_zero(v.l2_velocity - g.R)
    elif fn.name == "calabi" and n == 1:
        out["matches_closed_form"] = A.is_zero(v.euler - calabi_closed_form_1d(g))
    elif fn.name == "hn-two-derivative" and n == 1:
        geo, e16, e15 = b16_euler(1)
        out["printed_B16_equals_derivation"] = geo.A.is_zero(e16 - e15)
    elif fn.name == "einstein-hilbert-cy":
        half = A.reduce(g.w * g.norm_sq(g.log_eta) / 2)
        out["equals_half_dirichlet_energy_of_ln_eta"] = A.is_zero(v.euler - euler_operator(A, half, g.u))
    elif fn.name == "perelman-eta":
        out["variation_identically_zero"] = A.is_zero(v.euler)
    return out
