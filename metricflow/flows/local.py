"""Local metric flows on a grid: velocities from the compiled kernels of the symbolic layer.

``ricci_velocity`` is eq. (2.39), ``∂_t g_ij = −2 R_ij``, evaluated pointwise from the
spectral jet of the metric with the JAX kernel derived in
:mod:`metricflow.symbolic.codegen` (no formula is re-typed here).
"""

from __future__ import annotations

from functools import cache

import numpy as np

from metricflow import _linalg as la
from metricflow.errors import InvalidInputError
from metricflow.manifolds.torus import Torus


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
    import jax
    import jax.numpy as jnp

    def measure(manifold, g):
        vol_density = jnp.sqrt(la.det(g))
        R = scalar_curvature(manifold, g)
        return {"area": manifold.integrate(vol_density),
                "max_abs_scalar_curvature": jnp.max(jnp.abs(R)),
                "total_scalar_curvature": manifold.integrate(R * vol_density),
                "min_eigenvalue": jnp.min(la.eigvalsh(g))}

    return jax.jit(measure, static_argnums=0)


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
