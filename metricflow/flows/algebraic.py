"""The derived Kähler flows on a Calabi–Yau hypersurface within the algebraic ansatz
(issue 16): Kähler–Ricci, Calabi and the L² descent of a registry functional, with the
parameters θ of K_H = (1/k) log(s†H(θ)s) as the state (:mod:`metricflow.cy.ansatz`).

**Projection.** A flow of the potential ∂_tφ = v (a function on X) moves K_H only along
the ansatz's tangent space, spanned by the functions ∂K/∂θ_j.  We take the θ̇ whose
∂_tK = Σ_j θ̇_j ∂K/∂θ_j is closest to v in L²(ρ), ρ the current volume form:

    θ̇ = argmin Σ_p ρ_p (Σ_j θ̇_j ∂_jK(x_p) − v(x_p))²     (weighted least squares at the points),

ρ_p = det g/det g_FS at the FS-distributed points (dVol_J/dVol_FS; B.2).  The constant
function is in the span (the scale of H), so adding a constant to v changes only that flat
direction, not g.

* ``kahler-ricci``: v = ln η + 1 − mean (the registry's flow of ``hn-entropy``, the complex
  Monge–Ampère / Kähler–Ricci flow for c₁ = 0, η = det g/(κ|Ω|²), B.11); its record carries
  ``functional`` = ∫ η ln η μ_CY / ∫|Ω|² (``hn-entropy``).
* ``calabi``: v = R (the registry's corrected Calabi flow B.8–B.9), the registry's R
  (−g^{ab̄}∂_a∂̄_b log det g) on the 4-jets of K_H (:mod:`metricflow.cy.jet_geometry`; equal to
  the trace of the Chern curvature of :mod:`metricflow.cy.curvature`, tested); the record's
  ``functional`` is the Calabi functional ∫R² J^n/∫|Ω|² (B.7) from its Lagrangian.
* ``functional:NAME`` (any Kähler functional of the registry but ``perelman-eta``, whose
  derived variation vanishes: it is constant on Kähler potentials): the *L² gradient flow*
  ∂_tφ = −E_φ/ρ (ρ the functional's flow measure, η μ_CY = μ_J/κ), projected.  Since
  δE = ∫E_φ δφ and δφ = Σ_j ∂_jK δθ_j, the projection is the natural gradient
  θ̇ = −G⁻¹ ∇_θE with G_ij = ∫ρ ∂_iK ∂_jK — no pointwise E_φ is needed, and
  dE/dt = −∇Eᵀ G⁻¹ ∇E ≤ 0 for the Monte Carlo E itself: it decreases along its own flow.

Integrated by :func:`metricflow.flows.integrate.run_flow` like every flow (monitors,
checkpoints, ``resume``); :class:`AlgebraicCloud`'s settings (points, k, ansatz) guard a resume.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from metricflow.errors import InvalidInputError
from metricflow.flows.monitors import check_finite
from metricflow.flows.registry import register
from metricflow.flows.systems import FlowSystem
from metricflow.manifolds.pointcloud import PointCloud

#: the flows of the potential offered here (besides functional:NAME)
POTENTIAL_FLOWS = ("kahler-ricci", "calabi")


@dataclass(frozen=True, eq=False)
class AlgebraicCloud(PointCloud):
    """A point cloud with the algebraic ansatz of degree ``k`` (``ansatz``: auto, symmetric,
    hermitian); a field on it is the parameter vector θ, not values at points."""

    k: int = 1
    ansatz: str = "auto"

    @cached_property
    def model(self):
        from metricflow.cy.ansatz import make_ansatz

        return make_ansatz(self.surface, self.k, self.ansatz)

    @cached_property
    def features(self) -> dict:
        return self.model.features(self.pointset)

    @cached_property
    def data(self) -> dict:
        from metricflow.cy.functionals import point_data

        return point_data(self.pointset)

    @cached_property
    def jet_features(self) -> dict:
        """The sections' 2-jets and Ω's 1-jet (:func:`metricflow.cy.jet_geometry.jet_features`)."""
        from metricflow.cy.jet_geometry import jet_features

        return jet_features(self.pointset, self.model.basis)

    def settings(self) -> dict:
        return {**super().settings(), "k": self.k, "ansatz": self.model.kind}


def _jax(tree):
    import jax.numpy as jnp

    return {key: jnp.asarray(v) for key, v in tree.items()}


def projector(cloud: AlgebraicCloud):
    """``(θ, v, ρ) -> θ̇``: the weighted least-squares projection of the module docstring (JAX)."""
    import jax
    import jax.numpy as jnp

    A, feats = cloud.model, _jax(cloud.features)

    def potential(theta):
        return jnp.log(A.metric(theta, feats)[1]) / A.k

    def project(theta, v, rho):
        J = jax.jacfwd(potential)(theta)  # (N, P): dK/dtheta_j at the points
        sw = jnp.sqrt(rho)
        return jnp.linalg.lstsq(sw[:, None] * J, sw * v, rcond=1e-12)[0]

    return project, potential


def _paper_flow_kernel(name: str, n: int):
    """The registry's (corrected) paper flow of ``name`` (order 2), compiled on the metric's jets."""
    from metricflow.cy.functionals import compile_element
    from metricflow.symbolic.kahler_functionals import PotentialGeometry
    from metricflow.symbolic.registry import lookup

    fn = lookup(name, "kahler")
    geo = PotentialGeometry(n, jet_order=fn.order, extra=fn.extra)
    return compile_element(geo, geo.A.reduce(fn.paper_flow(geo)), repr(name))


def _ultralocal_parts(cloud: AlgebraicCloud, name: str, velocity_kind: str):
    """(metric(θ), value(θ), paper velocity (θ, κ) -> v or None) from the metric alone (order 2)."""
    import jax.numpy as jnp

    from metricflow.cy import functionals as fl

    data, feats = _jax(cloud.data), _jax(cloud.features)
    aux, value_of = fl.ansatz_value(name, cloud.model, cloud.pointset, cloud.features)
    flow_kernel = _paper_flow_kernel(name, cloud.dim) if velocity_kind == "paper" else None

    def metric(theta):
        return cloud.model.metric(theta, feats)[0]

    def value(theta):
        return value_of(theta, aux)

    def velocity(theta, kappa):
        return fl.pointwise(flow_kernel, fl.u_jets(metric(theta)), data, kappa, jnp)

    return metric, value, velocity if flow_kernel is not None else None


def _jet_parts(cloud: AlgebraicCloud, name: str, velocity_kind: str):
    """The same from the 4-jets of K_H (:mod:`metricflow.cy.jet_geometry`): any order."""

    from metricflow.cy import functionals as fl
    from metricflow.cy import jet_geometry as jg

    A, n = cloud.model, cloud.dim
    aux, value_of = fl.ansatz_value(name, A, cloud.pointset, cloud.jet_features)
    metric_M = jg.metric_at(n, A.k)
    flow = jg.pointwise(jg.element_of(name, "paper_flow")[0], n, A.k) if velocity_kind == "paper" else None

    def bilinear(theta):
        return jg.bilinear(aux[0]["S"], A.H_jax(theta))

    def velocity(theta, kappa):
        return flow(bilinear(theta), aux[1]["om"], kappa)

    return (lambda theta: metric_M(bilinear(theta)), lambda theta: value_of(theta, aux),
            velocity if flow is not None else None)


def _lookup(name: str):
    from metricflow.symbolic.registry import lookup

    return lookup(name, "kahler")


def _system(cloud: AlgebraicCloud, kernel, flow: str, velocity_kind: str, name: str) -> FlowSystem:
    import jax
    import jax.numpy as jnp

    from metricflow import _linalg as la
    from metricflow.cy import functionals as fl

    if not isinstance(cloud, AlgebraicCloud):
        raise InvalidInputError("manifold", f"the flow {flow!r} needs an AlgebraicCloud (points and a degree k)")
    if kernel.spec != "local":
        raise InvalidInputError("kernel", f"{flow} on the algebraic ansatz is projected in L2: kernel 'local' only")
    data = _jax(cloud.data)
    project, potential = projector(cloud)
    parts = _jet_parts if fl.order_of(name) > 2 else _ultralocal_parts
    metric, value, velocity = parts(cloud, name, velocity_kind)
    fn = _lookup(name)

    def ratios(g):
        r = jnp.real(la.det(g)) / data["det_fs"]
        return r, jnp.sum(r) / jnp.sum(data["w"])

    if velocity_kind == "paper":
        def theta_dot(theta):
            r, kappa = ratios(metric(theta))
            v = jnp.real(velocity(theta, kappa))
            return project(theta, v - jnp.sum(r * v) / jnp.sum(r), r)
    else:
        grad = jax.grad(value)

        def theta_dot(theta):
            r, kappa = ratios(metric(theta))
            rho = r if fn.measure == "mu_J" else r / kappa  # the flow measure over dVol_FS
            J = jax.jacfwd(potential)(theta)
            G = (J * (rho / jnp.sum(data["w"]))[:, None]).T @ J  # per unit Omega-volume, like E
            return -jnp.linalg.lstsq(G, grad(theta), rcond=1e-12)[0]

    value_jit = jax.jit(value)
    metric_jit = jax.jit(lambda theta: cloud.model.metric(theta, _jax(cloud.features))[0])

    def diagnostics(s):
        theta = jnp.asarray(s["theta"])
        g = np.asarray(metric_jit(theta))
        return {"sigma": float(fl.compile_functional("sigma", cloud.dim)(g, cloud.data)),
                "functional": float(value_jit(theta)),
                "min_eigenvalue": float(np.min(np.linalg.eigvalsh(g)))}

    def check(s, t):
        check_finite("parameters", s["theta"], t)

    def initial(theta0):
        theta0 = np.asarray(theta0, dtype=np.float64)
        if theta0.shape != (cloud.model.n_params,):
            raise InvalidInputError("g0", f"expected the {cloud.model.n_params} parameters of the {cloud.model.kind} "
                                    f"ansatz of degree {cloud.k}, got shape {theta0.shape}")
        check(s := {"theta": theta0}, 0.0)
        return s

    return FlowSystem(cloud, flow, kernel.spec, "theta", velocity=lambda s: {"theta": theta_dot(s["theta"])},
                      diagnostics=diagnostics, check=check, initial=initial,
                      meta={"manifold": cloud.name, "n_points": cloud.npoints, "k": cloud.k, "flow": flow,
                            "ansatz": cloud.model.kind, "functional": name})


@register(AlgebraicCloud, "kahler-ricci")
def kahler_ricci_system(cloud, kernel, functional=None, flow: str = "kahler-ricci") -> FlowSystem:
    """∂_tφ = ln η + 1 − mean (hn-entropy's flow), projected (module docstring)."""
    return _system(cloud, kernel, flow, "paper", "hn-entropy")


@register(AlgebraicCloud, "calabi")
def calabi_system(cloud, kernel, functional=None, flow: str = "calabi") -> FlowSystem:
    """∂_tφ = R − mean (B.8, corrected), projected (module docstring)."""
    return _system(cloud, kernel, flow, "paper", "calabi")


def _resolve(functional):
    from metricflow.cy.functionals import check_minimisable
    from metricflow.symbolic.registry import lookup

    fn = lookup(functional, "kahler", "flow")
    check_minimisable(fn, "flow")
    return fn


@register(AlgebraicCloud, "functional", resolve=_resolve)
def functional_system(cloud, kernel, functional, flow: str) -> FlowSystem:
    """The projected L² descent θ̇ = −G⁻¹∇_θE of a registry functional (module docstring)."""
    return _system(cloud, kernel, flow, "l2", functional.name)


#: points of the balanced start's T-iteration (a start, not a converged balanced metric)
START_POINTS = 50_000


def run_algebraic_flow(poly, k: int, flow: str, steps: int, dt: float, n_points: int = 2000, seed: int = 0,
                       ansatz: str = "auto", init: str = "balanced", method: str = "euler", record_every: int = 1,
                       n_validation: int = 20_000, checkpoint=None, resume: bool = False, callback=None) -> dict:
    """``flow`` on ``n_points`` points (seed stream [seed, 2]) from the balanced metric of degree
    k (``init="balanced"``: 5 T-steps on at most :data:`START_POINTS` points, stream [seed, 0]) or
    H = 1, by :func:`~metricflow.flows.integrate.run_flow`; σ of the first and last metric on
    ``n_validation`` fresh points (stream [seed, 1]).  Returns ``history``, ``metric`` (the last
    :class:`~metricflow.cy.algebraic.AlgebraicMetric`), ``sigma_initial``/``sigma_final`` (with
    ``_stderr``), the ansatz and the settings."""
    from metricflow import cy
    from metricflow.cy.algebraic import AlgebraicMetric
    from metricflow.cy.donaldson import recommended_points, seed_stream
    from metricflow.cy.optimal import balanced_start
    from metricflow.flows.integrate import run_flow

    if init not in ("balanced", "identity"):
        raise InvalidInputError("init", f"expected balanced or identity, got {init!r}")
    X = cy.hypersurface(poly)
    cloud = AlgebraicCloud(cy.sample(X, n_points, seed=seed_stream(seed, 2)), k=k, ansatz=ansatz)
    if init == "balanced":
        start = balanced_start(X, k, seed, 5, min(START_POINTS, recommended_points(cloud.model.basis.shape[0])))[0]
    else:
        start = AlgebraicMetric.identity(X, k)
    theta0 = cloud.model.fit(start.H)
    result = run_flow(cloud, theta0, flow=flow, steps=steps, dt=dt, method=method, record_every=record_every,
                      checkpoint=checkpoint, resume=resume, callback=callback,
                      settings={"init": init, "seed": seed, "poly": X.spec or X.expression()})
    valid = cy.sample(X, n_validation, seed=seed_stream(seed, 1))
    out = {"history": result.history, "metric": cloud.model.to_metric(result.final), "flow": flow, "k": k,
           "steps": steps, "dt": dt, "method": method, "n_points": n_points, "n_validation": n_validation,
           "init": init, "seed": seed, **cloud.model.describe(),
           "functional_name": "hn-entropy" if flow == "kahler-ricci" else flow.partition(":")[2] or flow}
    for label, theta in (("initial", theta0), ("final", result.final)):
        res = cy.sigma(valid, cloud.model.to_metric(theta))
        out[f"sigma_{label}"], out[f"sigma_{label}_stderr"] = res["sigma"], res["sigma_stderr"]
    return out


__all__ = ["AlgebraicCloud", "POTENTIAL_FLOWS", "calabi_system", "functional_system", "kahler_ricci_system",
           "projector", "run_algebraic_flow"]
