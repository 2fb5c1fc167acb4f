"""Gradient flows of any functional of the metric on the torus grid (eq. 2.14 with Ω = 2).

A :class:`~metricflow.symbolic.functionals.Functional` is one object for both worlds:
its Lagrangian, written against a ``Geometry`` (``geo.R``, ``geo.A.one``), is derived
exactly by :func:`~metricflow.symbolic.functionals.derive_variation` and, here,
evaluated on the grid with the scalar curvature from the compiled kernel. The discrete
functional ``S_h[g] = Σ_x L(x) √det g(x) h`` is differentiated by JAX autodiff, which
gives the variation of the discretised functional exactly; with
``δS = ∫ E^{ij} δg_ij d^dx`` (all i, j), ``V^{ij} = E^{ij}/√g`` and the flow is the
descent

    ∂_t g_ij = −2 g_ia g_jb V^{ab}

— the convention of :func:`~metricflow.symbolic.functionals.gradient_flow`
(``normalization=2``). For Einstein–Hilbert this is ``+2(R_ij − ½ R g_ij)``, for the
volume ``−g_ij``; the tests check both against the compiled symbolic kernels and the
closed form. Functionals of a dilaton are refused (Perelman's has its own, well-posed
path: ``flow="perelman"``).
"""

from __future__ import annotations

from types import SimpleNamespace

from metricflow import _linalg as la
from metricflow.errors import InvalidInputError
from metricflow.manifolds.torus import Torus


def resolve(functional):
    """A built-in functional name or a :class:`Functional` -> the :class:`Functional`."""
    from metricflow.symbolic.functionals import lookup

    functional = lookup(functional, "flow")
    if functional.uses_dilaton or functional.dilaton_measure:
        raise InvalidInputError("flow", f"the functional {functional.name!r} involves a dilaton; its numerical flow "
                                "is flow='perelman' (with the F-minimising dilaton)")
    return functional


def action(manifold: Torus, functional, g):
    """``S_h[g] = Σ_x L √det g h`` on the grid (JAX-differentiable)."""
    import jax.numpy as jnp

    from metricflow.flows.torus import scalar_curvature

    R = scalar_curvature(manifold, g)
    geo = SimpleNamespace(R=R, A=SimpleNamespace(one=jnp.ones_like(R)))
    try:
        L = functional.lagrangian(geo)
    except AttributeError as exc:
        raise InvalidInputError("flow", f"the Lagrangian of {functional.name!r} uses {exc.name!r}; numerical "
                                "functional flows provide geo.R and geo.A.one") from None
    return manifold.integrate(L * jnp.sqrt(la.det(g)))


def functional_velocity(manifold: Torus, functional, g):
    """``∂_t g = −2 V_ij`` of the descent flow of ``functional`` at the grid metric ``g``."""
    import jax
    import jax.numpy as jnp

    G = jax.grad(lambda x: action(manifold, functional, x))(g)
    E = 0.5 * (G + jnp.swapaxes(G, -1, -2))
    V_up = E / (jnp.sqrt(la.det(g)) * manifold.cell_volume)[..., None, None]
    return -2.0 * jnp.einsum("...ia,...ab,...bj->...ij", g, V_up, g)
