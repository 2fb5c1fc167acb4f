"""Metric flows on the tori: velocities from the compiled kernels of the symbolic layer,
and the flow systems ``ricci``, ``perelman`` and ``functional:NAME`` of a
:class:`~metricflow.manifolds.Torus` (registered in :mod:`metricflow.flows.registry`).

``ricci_velocity`` is eq. (2.39), ``∂_t g_ij = −2 R_ij``, evaluated pointwise from the
spectral jet of the metric with the JAX kernel derived in
:mod:`metricflow.symbolic.codegen` (no formula is re-typed here). The state is
``{"g": metric}`` (and ``"phi"`` = e^{−f/2}, the dilaton's ground-state amplitude, for
Perelman's flow eq. 2.40, with f the minimiser of F — :mod:`metricflow.flows.dilaton`).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from metricflow import _linalg as la
from metricflow.errors import InvalidInputError, NumericalError
from metricflow.flows.dilaton import DILATON_TOLERANCE
from metricflow.flows.monitors import check_metric
from metricflow.flows.registry import register
from metricflow.flows.systems import FlowSystem
from metricflow.manifolds.torus import Torus

INITS = ("flat", "bumpy")


def _pointwise(manifold: Torus, name: str, *jets):
    """Apply the compiled jet kernel ``name`` at every grid point."""
    import jax

    from metricflow.symbolic.codegen import compile_jet_kernel

    kernel = compile_jet_kernel(name, manifold.dim, "jax")
    npts = manifold.npoints
    flat = [j.reshape((npts,) + j.shape[manifold.dim:]) for j in jets]
    out = jax.vmap(kernel)(*flat)
    return out.reshape(manifold.shape + out.shape[1:])


def ricci_velocity(manifold: Torus, g):
    """``∂_t g_ij = −2 R_ij`` (eq. 2.39) on the grid; ``g`` has shape ``shape + (d, d)``."""
    g, dg, ddg = manifold.jets(g)
    return -2.0 * _pointwise(manifold, "ricci", g, dg, ddg)


def scalar_curvature(manifold: Torus, g):
    """``R`` at every grid point."""
    g, dg, ddg = manifold.jets(g)
    return _pointwise(manifold, "scalar", g, dg, ddg)


def diagnostics(manifold: Torus, g) -> dict:
    """Volume (``area`` in 2D) ``∫√det g d^dx``, ``max |R|``, ``∫ R dV``, minimum eigenvalue."""
    import jax.numpy as jnp

    return {k: float(v) for k, v in _diagnostics_jit()(manifold, jnp.asarray(g)).items()}


@cache
def _diagnostics_jit():
    import jax.numpy as jnp

    from metricflow import _programs

    def measure(manifold, g):
        vol_density = jnp.sqrt(la.det(g))
        R = scalar_curvature(manifold, g)
        return {"area": manifold.integrate(vol_density),
                "max_abs_scalar_curvature": jnp.max(jnp.abs(R)),
                "total_scalar_curvature": manifold.integrate(R * vol_density),
                "min_eigenvalue": jnp.min(la.eigvalsh(g))}

    return _programs.jit(measure, key="torus.diagnostics", static_argnums=(0,))


def initial_metric(manifold: Torus, name: str, seed: int = 0, amplitude: float = 0.3) -> np.ndarray:
    """Initial metrics: ``flat`` (δ_ij) and ``bumpy`` (a smooth, seeded perturbation).

    ``bumpy`` is ``g = (1 + a φ) δ + a ψ ψᵀ/2`` with φ, ψ low-frequency random
    trigonometric fields (|φ| ≤ 1), so it is positive definite for ``amplitude < 1``."""
    d = manifold.dim
    x = manifold.points
    if name == "flat":
        return np.broadcast_to(np.eye(d), manifold.shape + (d, d)).copy()
    if name != "bumpy":
        raise InvalidInputError("init", f"expected 'flat' or 'bumpy' on {manifold.name}, got {name!r}")
    if not 0 < amplitude < 1:
        raise InvalidInputError("amplitude", f"expected 0 < amplitude < 1, got {amplitude}")
    rng = np.random.default_rng(seed)

    def field():
        out = np.zeros(manifold.shape)
        for _ in range(4):
            k = rng.integers(-2, 3, size=d)
            out += rng.normal() * np.cos(x @ k + rng.uniform(0, 2 * np.pi))
        return out / max(np.max(np.abs(out)), 1e-12)

    phi = field()
    psi = np.stack([field() for _ in range(d)], axis=-1)
    g = (1 + amplitude * phi)[..., None, None] * np.eye(d)
    g = g + 0.5 * amplitude * psi[..., :, None] * psi[..., None, :]
    return g


def curvature_field(manifold: Torus, g) -> np.ndarray:
    """The scalar curvature R of the metric ``g`` on the grid (numpy), for plots."""
    import jax.numpy as jnp

    from metricflow._x64 import x64

    with x64():
        return np.asarray(_scalar_jit()(manifold, jnp.asarray(g)))


@cache
def _scalar_jit():
    """``scalar_curvature`` as one compiled program (eagerly it dispatches and compiles op by
    op at every call, which the CLI's persistent compilation cache cannot keep)."""
    from metricflow import _programs

    return _programs.jit(scalar_curvature, key="torus.scalar_curvature", static_argnums=(0,))


# --------------------------------------------------------------------------- flow systems


def initial_state(manifold: Torus, g0) -> dict:
    """``{"g": g0}`` after checking shape, symmetry and positive-definiteness."""
    d = manifold.dim
    g0 = np.asarray(g0, dtype=np.float64)
    if g0.shape != manifold.shape + (d, d):
        raise InvalidInputError("g0", f"expected shape {manifold.shape + (d, d)}, got {g0.shape}")
    if not np.allclose(g0, np.swapaxes(g0, -1, -2), atol=1e-12):
        raise InvalidInputError("g0", "the initial metric is not symmetric")
    check_metric(g0, 0.0)
    return {"g": g0}


def _meta(manifold, flow, kernel) -> dict:
    return {"manifold": manifold.name, "n": manifold.n, "flow": flow, "kernel": kernel.spec}


@register(Torus, "functional")
def functional_system(manifold: Torus, kernel, functional, flow: str) -> FlowSystem:
    """The descent flow of a functional (eq. 2.14, :mod:`metricflow.flows.functional`)."""
    from metricflow.flows.functional import action, functional_velocity

    smear = kernel.operator(manifold)

    def diag(s):
        return {**diagnostics(manifold, s["g"]), "action": float(action(manifold, functional, s["g"]))}

    return FlowSystem(manifold, flow, kernel.spec, "g",
                      velocity=lambda s: {"g": smear(functional_velocity(manifold, functional, s["g"]))},
                      diagnostics=diag, check=lambda s, t: check_metric(s["g"], t),
                      initial=lambda g0: initial_state(manifold, g0), meta=_meta(manifold, flow, kernel))


@register(Torus, "ricci")
def ricci_system(manifold: Torus, kernel, functional=None, flow: str = "ricci") -> FlowSystem:
    """Ricci flow (eq. 2.39) smeared by the kernel."""
    smear = kernel.operator(manifold)
    return FlowSystem(manifold, flow, kernel.spec, "g",
                      velocity=lambda s: {"g": smear(ricci_velocity(manifold, s["g"]))},
                      diagnostics=lambda s: diagnostics(manifold, s["g"]),
                      check=lambda s, t: check_metric(s["g"], t),
                      initial=lambda g0: initial_state(manifold, g0), meta=_meta(manifold, flow, kernel))


@register(Torus, "perelman")
def perelman_system(manifold: Torus, kernel, functional=None, flow: str = "perelman") -> FlowSystem:
    """Perelman's flow (2.40) with f = argmin F (the gradient flow of λ)."""
    import jax.numpy as jnp

    from metricflow import _programs
    from metricflow.flows.dilaton import ground_state

    smear = kernel.operator(manifold)

    def solve(g, phi, max_iter):
        R = scalar_curvature(manifold, g)
        margin = 1.0 / jnp.max(la.eigvalsh(g))   # a quarter of the gap of −4Δ (≈ 4/max g)
        return ground_state(manifold, g, R, phi, margin=margin, max_iter=max_iter)

    def local_velocity(g, phi):
        f = -2.0 * jnp.log(phi)
        return _pointwise(manifold, "perelman_velocity", *manifold.jets(g), *manifold.jets(f))

    def velocity(s):
        phi, _, _ = solve(s["g"], s["phi"], 30)
        return {"g": smear(local_velocity(s["g"], phi)), "phi": jnp.zeros_like(s["phi"])}

    def refresh(s):
        phi, _, _ = solve(s["g"], s["phi"], 60)
        return {"g": s["g"], "phi": phi}

    def measures(g, phi):
        phi, lam, res = solve(g, phi, 60)
        f = -2.0 * jnp.log(phi)
        gj, fj = manifold.jets(g), manifold.jets(f)
        density = phi**2 * jnp.sqrt(la.det(g))               # e^{−f} √g
        L = _pointwise(manifold, "perelman_lagrangian", *gj, *fj)     # R + |∇f|² (eq. 2.41)
        V = local_velocity(g, phi)                                   # −2(R + ∇∇f)
        gi = la.inv(g)
        pairing = jnp.einsum("...ik,...jl,...ij,...kl->...", gi, gi, smear(V), V)
        return {"F": manifold.integrate(L * density), "lambda": lam,
                "dF_dt": 0.5 * manifold.integrate(pairing * density),
                "dilaton_mass": manifold.integrate(density), "dilaton_residual": res}

    measures = _programs.jit(measures, key=f"torus.perelman.measures|{manifold!r}|{kernel.settings()}")

    def diag(s):
        out = measures(jnp.asarray(s["g"]), jnp.asarray(s["phi"]))
        return {**diagnostics(manifold, s["g"]), **{k: float(v) for k, v in out.items()}}

    def check(s, t):
        check_metric(s["g"], t)
        if not np.all(np.isfinite(np.asarray(s["phi"]))):
            raise NumericalError(f"the dilaton became NaN/inf at t = {t:.6g}; reduce --dt")

    def initial(g0):
        from metricflow.flows.dilaton import lambda_functional

        state = initial_state(manifold, g0)
        _, f, res = lambda_functional(manifold, state["g"])
        if not float(res) < DILATON_TOLERANCE:
            raise NumericalError(f"the dilaton (ground state of −4Δ + R) did not converge for the initial "
                                 f"metric (relative residual {float(res):.2g})")
        return {**state, "phi": np.exp(-0.5 * np.asarray(f))}

    return FlowSystem(manifold, flow, kernel.spec, "g", velocity=velocity, diagnostics=diag, check=check,
                      initial=initial, refresh=refresh, meta={**_meta(manifold, flow, kernel), "dilaton": "minimiser"})
