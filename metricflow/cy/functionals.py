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
can be fed from g alone — the ultra-local Headrick–Nassar family ``hn-ultralocal``
(∫(η − 1)² μ_CY, B.12/B.14), ``hn-entropy`` (∫η ln η μ_CY) and user F(η)
(:func:`~metricflow.symbolic.kahler_functionals.ultralocal`): :func:`compile_functional`.
The others (``calabi``, ``hn-two-derivative``, ``einstein-hilbert-cy``, ``perelman-eta``)
read up to four derivatives of K_H and one of Ω; :func:`ansatz_value` and
:func:`metric_value` evaluate them through :mod:`metricflow.cy.jet_geometry` (the same
registry definitions, differentiated by JAX on the jets of K_H at each point).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from metricflow.errors import InvalidInputError

SIGMA = "sigma"


def point_data(ps) -> dict:
    """The per-point constants of the Monte Carlo sums: det g_FS, w = |Ω|²/det g_FS and Ω (numpy)."""
    return {"det_fs": np.asarray(ps.det_g_fs), "w": np.asarray(ps.weights), "omega": np.asarray(ps.omega)}


def names() -> tuple[str, ...]:
    """``sigma`` and the registry's Kähler functionals (every order: :func:`ansatz_value`)."""
    from metricflow.symbolic.registry import functionals

    return (SIGMA,) + tuple(functionals("kahler"))


def order_of(functional) -> int:
    """Derivatives of the potential the functional reads: 2 for ``sigma`` and the ultra-local
    ones (the metric itself), up to 4 for the others."""
    if functional == SIGMA:
        return 2
    from metricflow.symbolic.registry import lookup

    return lookup(functional, "kahler").order


def check_minimisable(functional, argument: str = "functional") -> None:
    """Refuse (``InvalidInputError`` naming ``argument``) a functional whose derived variation
    E_φ vanishes identically — ``perelman-eta`` (B.18, a divergence on Kähler potentials): it
    is constant, so minimising its Monte Carlo estimate would only fit the sampling noise.
    The variation is derived in complex dimension 1 (instant; the identity is dimension-free)."""
    if functional == SIGMA:
        return
    from metricflow.symbolic.kahler_functionals import derive_potential_variation
    from metricflow.symbolic.registry import lookup

    fn = lookup(functional, "kahler", argument)
    var = derive_potential_variation(fn, 1)
    if var.geo.A.is_zero(var.euler):
        raise InvalidInputError(argument, f"{fn.name!r} has an identically vanishing variation (E_phi = 0: it is "
                                "constant on Kahler potentials), so there is nothing to minimise or flow")


def _jax(tree: dict) -> dict:
    import jax.numpy as jnp

    return {key: jnp.asarray(v) for key, v in tree.items()}


def ansatz_value(functional, ansatz, ps, features: dict | None = None):
    """``(aux, value)``: the functional of the ansatz's metric at the points, ``value(θ, aux)``
    (JAX, float64 under :func:`metricflow._x64.x64`, differentiable in θ), with ``aux`` the
    per-point arrays — an *argument*, so that a jit does not constant-fold them.  Order 2
    (:func:`order_of`): the ansatz's metric and :func:`compile_functional`; higher: the
    sections' 2-jets (16 N N_k (1 + m + m²) bytes) and :mod:`metricflow.cy.jet_geometry`.
    ``features``: those already computed for ``ps`` (the ansatz's, or the jets for order > 2)."""
    n = ps.surface.dim
    if order_of(functional) <= 2:
        fn = compile_functional(functional, n)
        aux = (_jax(ansatz.features(ps) if features is None else features), _jax(point_data(ps)))
        return aux, lambda theta, aux: fn(ansatz.metric(theta, aux[0])[0], aux[1])
    from metricflow.cy import jet_geometry as jg

    feats = jg.jet_features(ps, ansatz.basis) if features is None else features
    value = jg.compile_value(functional, n, ansatz.k)
    aux = (_jax({"S": feats["S"]}), _jax(jg.jet_point_data(ps, feats)))
    return aux, lambda theta, aux: value(jg.bilinear(aux[0]["S"], ansatz.H_jax(theta)), aux[1])


def metric_value(functional, metric, ps) -> float:
    """E / ∫|Ω|² of an :class:`~metricflow.cy.algebraic.AlgebraicMetric` on a point set (blocked
    for the higher-order functionals)."""
    if order_of(functional) > 2:
        from metricflow.cy.jet_geometry import evaluate as evaluate_jets

        return evaluate_jets(functional, metric, ps)
    from metricflow._x64 import x64

    with x64():
        return float(compile_functional(functional, ps.surface.dim)(metric(ps), point_data(ps)))


def _sigma(g, data):
    from metricflow import _linalg as la

    xp = la.namespace(g)
    r = xp.real(la.det(g)) / data["det_fs"]
    kappa = xp.sum(r) / xp.sum(data["w"])
    return xp.sum(xp.abs(data["w"] - r / kappa)) / xp.sum(data["w"])


def u_jets(g, dg=None, dbg=None, ddg=None) -> dict:
    """The jets of u (``{alpha: array}``, alpha over (z^1..z^n, z̄^1..z̄^n)) from the metric
    g[.., a, b] = g_{a b̄} = ∂_a∂̄_b u and, when given, dg[.., a, b, c] = ∂_c g_{a b̄},
    dbg[.., a, b, d] = ∂̄_d g_{a b̄}, ddg[.., a, b, c, d] = ∂_c∂̄_d g_{a b̄}
    (:func:`metricflow.cy.curvature.metric_jets`)."""
    n = g.shape[-1]
    e = np.eye(2 * n, dtype=np.int64)
    out = {}
    for a in range(n):
        for b in range(n):
            base = e[a] + e[n + b]
            out[tuple(base)] = g[:, a, b]
            for c in range(n):
                if dg is not None:
                    out[tuple(base + e[c])] = dg[:, a, b, c]
                if dbg is not None:
                    out[tuple(base + e[n + c])] = dbg[:, a, b, c]
                if ddg is not None:
                    for d in range(n):
                        out[tuple(base + e[c] + e[n + d])] = ddg[:, a, b, c, d]
    return out


def compile_element(geo, element, label: str, max_order: int = 2):
    """An element of the registry's potential algebra (a Lagrangian, a flow velocity) as a
    kernel ``(ujet, omjet, ombjet, kappa)``; refused (argument ``functional``) if it reads
    jets of u beyond ``max_order`` derivatives of the metric's potential other than the mixed
    ones :func:`u_jets` provides, or derivatives of Ω (not computed on the hypersurface)."""
    from metricflow.symbolic.codegen_potential import compile_potential_kernel

    kern = compile_potential_kernel(geo, element, omega_one=False)
    n = geo.n
    ok = all(sum(alpha) <= max_order and 1 <= sum(alpha[:n]) <= 2 and 1 <= sum(alpha[n:]) <= 2
             for alpha in kern.alphas)
    omega_derivatives = [str(x) for x in kern.expr.free_symbols
                         if str(x).startswith("Om") and any(c != "0" for c in str(x).split("_")[1:])]
    if not ok or omega_derivatives:
        raise InvalidInputError("functional", f"{label} reads derivatives of the metric or of Omega that these "
                                "jets do not carry (metricflow.cy.jet_geometry evaluates it)")
    return kern


@lru_cache(maxsize=16)
def _registry_kernel(functional, n: int):
    from metricflow.symbolic.kahler_functionals import PotentialGeometry

    geo = PotentialGeometry(n, jet_order=functional.order, extra=functional.extra)
    return compile_element(geo, geo.A.reduce(functional.lagrangian(geo)), repr(functional.name))


def compile_functional(functional, n: int):
    """``(g, data) -> E / ∫|Ω|²`` for ``sigma`` or a Kähler functional of the registry (a name
    or a :class:`~metricflow.symbolic.kahler_functionals.KahlerFunctional`), in complex
    dimension n; pure, numpy or JAX (differentiable in g).  ``data``: :func:`point_data`."""
    if functional == SIGMA:
        return _sigma
    from metricflow.symbolic.registry import lookup

    fn = lookup(functional, "kahler")
    if fn.order != 2:
        raise InvalidInputError("functional", f"{fn.name!r} reads derivatives of the metric (order {fn.order}), "
                                "not the metric alone: evaluate it with ansatz_value or metric_value")
    kern = _registry_kernel(fn, n)

    def value(g, data):
        return evaluate(kern, u_jets(g), g, data)

    return value


def evaluate(kern, ujet, g, data):
    """Σ_p ℒ_p / det g_FS,p / Σ_p w_p for a compiled density (module docstring); κ (B.10) from g."""
    from metricflow import _linalg as la

    xp = la.namespace(g)
    r = xp.real(la.det(g)) / data["det_fs"]
    kappa = xp.sum(r) / xp.sum(data["w"])
    return xp.sum(pointwise(kern, ujet, data, kappa, xp) / data["det_fs"]) / xp.sum(data["w"])


def pointwise(kern, ujet, data, kappa, xp=np):
    """The real part of a compiled element at the points, with Ω from ``data`` (``xp``:
    numpy or jax.numpy, the namespace of the jets)."""
    n = len(next(iter(ujet))) // 2
    zero = (0,) * (2 * n)  # the jets of Omega are indexed like those of u
    om = data["omega"]
    return xp.real(kern(ujet, {zero: om}, {zero: xp.conj(om)}, kappa))


def eta(g, data):
    """η = det g / (κ |Ω|²) at the points (B.11), κ from the same points (B.10)."""
    from metricflow import _linalg as la

    xp = la.namespace(g)
    r = xp.real(la.det(g)) / data["det_fs"]
    return r / (xp.sum(r) / xp.sum(data["w"]) * data["w"])


__all__ = ["SIGMA", "ansatz_value", "check_minimisable", "compile_element", "compile_functional", "eta", "evaluate",
           "metric_value", "names", "order_of", "point_data", "pointwise", "u_jets"]
