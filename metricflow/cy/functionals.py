"""Energy functionals of a metric on a Calabi–Yau hypersurface, evaluated by Monte Carlo
at the points: the σ-measure (B.11) and the Kähler functionals of the registry
(:mod:`metricflow.symbolic.kahler_functionals`, Appendix B) from their *derived* Lagrangians.

**From the flat torus to the hypersurface.** The registry's Lagrangians ℒ are elements of
the algebra of jets of a generic potential u(z, z̄) and of a holomorphic Ω(z) in n complex
coordinates, E = ∫ ℒ d^{2n}x (B.7, B.12–B.15).  They are compiled by
:func:`metricflow.symbolic.codegen_potential.compile_potential_kernel` with Ω kept
(``omega_one=False``) and fed, at each point of X, the jets in that point's own affine
chart x_a: ∂_a∂̄_b u = g_{a b̄} (the algebraic metric there, :mod:`metricflow.cy.ansatz`)
and Ω = 1/(∂P/∂z_e) (``PointSet.omega``).  ℒ d^{2n}x is chart-independent, so with the
FS-distributed points and det g_FS in the same chart,

    E = ∫_X ℒ d^{2n}x = Vol_FS E[ℒ / det g_FS],   reported as E / ∫|Ω|² = Σ_p ℒ_p/det g_FS,p / Σ_p w_p,

per unit Ω-volume (w = |Ω|²/det g_FS), with κ = ∫det g / ∫|Ω|² (B.10) from the same
points.  Only Lagrangians that read the metric and Ω themselves, not their derivatives,
can be fed this way — the ultra-local Headrick–Nassar family ``hn-ultralocal``
(∫(η − 1)² μ_CY, B.12/B.14), ``hn-entropy`` (∫η ln η μ_CY) and user F(η)
(:func:`~metricflow.symbolic.kahler_functionals.ultralocal`); the others need third or
fourth derivatives of K_H and of Ω and are refused (naming them) by :func:`compile_functional`.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from metricflow.errors import InvalidInputError

SIGMA = "sigma"


def _mixed(n: int, a: int, b: int) -> tuple:
    return tuple(int(i == a) for i in range(n)) + tuple(int(i == b) for i in range(n))


def point_data(ps) -> dict:
    """The per-point constants of the Monte Carlo sums: det g_FS, w = |Ω|²/det g_FS and Ω (numpy)."""
    return {"det_fs": np.asarray(ps.det_g_fs), "w": np.asarray(ps.weights), "omega": np.asarray(ps.omega)}


def names() -> tuple[str, ...]:
    """``sigma`` and the registry's Kähler functionals of order 2 (the ones evaluable from g and Ω)."""
    from metricflow.symbolic.registry import functionals

    return (SIGMA,) + tuple(name for name, fn in functionals("kahler").items() if fn.order == 2)


def _sigma(g, data):
    from metricflow import _linalg as la

    xp = la.namespace(g)
    r = xp.real(la.det(g)) / data["det_fs"]
    kappa = xp.sum(r) / xp.sum(data["w"])
    return xp.sum(xp.abs(data["w"] - r / kappa)) / xp.sum(data["w"])


@lru_cache(maxsize=16)
def _registry_kernel(functional, n: int):
    from metricflow.symbolic.codegen_potential import compile_potential_kernel
    from metricflow.symbolic.kahler_functionals import PotentialGeometry

    geo = PotentialGeometry(n, jet_order=functional.order, extra=functional.extra)
    kern = compile_potential_kernel(geo, geo.A.reduce(functional.lagrangian(geo)), omega_one=False)
    allowed = {_mixed(n, a, b) for a in range(n) for b in range(n)}
    omega_derivatives = [str(x) for x in kern.expr.free_symbols
                         if str(x).startswith("Om") and any(c != "0" for c in str(x).split("_")[1:])]
    if not set(kern.alphas) <= allowed or omega_derivatives:
        raise InvalidInputError("functional", f"{functional.name!r} reads derivatives of the metric or of "
                                "Omega; on the hypersurface only the ultra-local functionals are evaluated")
    return kern


def compile_functional(functional, n: int):
    """``(g, data) -> E / ∫|Ω|²`` for ``sigma`` or a Kähler functional of the registry (a name
    or a :class:`~metricflow.symbolic.kahler_functionals.KahlerFunctional`), in complex
    dimension n; pure, numpy or JAX (differentiable in g).  ``data``: :func:`point_data`."""
    if functional == SIGMA:
        return _sigma
    from metricflow.symbolic.registry import lookup

    fn = lookup(functional, "kahler")
    if fn.order != 2:
        raise InvalidInputError("functional", f"{fn.name!r} reads derivatives of the metric (order {fn.order}); "
                                f"on the hypersurface only these are evaluated: {', '.join(names())}")
    kern = _registry_kernel(fn, n)
    alphas = {(a, b): _mixed(n, a, b) for a in range(n) for b in range(n)}
    zero = (0,) * (2 * n)  # the jets of Omega are indexed like those of u

    def value(g, data):
        from metricflow import _linalg as la

        xp = la.namespace(g)
        r = xp.real(la.det(g)) / data["det_fs"]
        kappa = xp.sum(r) / xp.sum(data["w"])
        ujet = {alpha: g[:, a, b] for (a, b), alpha in alphas.items()}
        om = data["omega"]
        dens = xp.real(kern(ujet, {zero: om}, {zero: xp.conj(om)}, kappa))
        return xp.sum(dens / data["det_fs"]) / xp.sum(data["w"])

    return value


def eta(g, data):
    """η = det g / (κ |Ω|²) at the points (B.11), κ from the same points (B.10)."""
    from metricflow import _linalg as la

    xp = la.namespace(g)
    r = xp.real(la.det(g)) / data["det_fs"]
    return r / (xp.sum(r) / xp.sum(data["w"]) * data["w"])


__all__ = ["SIGMA", "compile_functional", "eta", "names", "point_data"]
