"""Kähler functionals of the potential (Appendix B) discretised on the flat complex torus.

:class:`TorusFunctional` evaluates a derived variation
(:func:`metricflow.symbolic.kahler_functionals.derive_potential_variation`) on
:class:`~metricflow.manifolds.complex_torus.ComplexTorus`: the discretised functional
``E[φ] = ∫ ℒ d^{2n}x`` (B.7, B.14, B.15, ...), its first variation ``E_φ`` (B.12–B.13),
``η`` (B.11) and the flow velocities of the potential (L² descent and the paper's
flows B.8–B.9, B.19–B.21, corrected), from kernels compiled once by
:func:`metricflow.symbolic.codegen_potential.compile_potential_kernel`.
"""

from __future__ import annotations

import numpy as np

from metricflow._x64 import x64
from metricflow.errors import InvalidInputError
from metricflow.flows.monitors import check_finite, check_metric
from metricflow.flows.registry import register
from metricflow.flows.systems import FlowSystem
from metricflow.manifolds.complex_torus import ComplexTorus


class TorusFunctional:
    """A derived Kähler functional on a :class:`ComplexTorus`: value, variation, flow velocities.

    The kernels are compiled for JAX and evaluated in float64 inside :func:`x64`; every
    method takes and returns numpy arrays (so arithmetic between calls stays float64
    whatever JAX's global precision is)."""

    def __init__(self, variation, torus: ComplexTorus):
        if variation.geo.n != torus.n:
            raise InvalidInputError("torus", f"complex dimension {torus.n} does not match the "
                                    f"variation's {variation.geo.n}")
        from metricflow.symbolic.codegen_potential import compile_potential_kernel  # sympy: on first use only

        geo = variation.geo
        self.torus = torus
        self.variation = variation
        self._L = compile_potential_kernel(geo, variation.density)
        self._E = compile_potential_kernel(geo, variation.euler)
        self._v = compile_potential_kernel(geo, variation.l2_velocity)
        self._p = (compile_potential_kernel(geo, variation.paper_velocity)
                   if variation.paper_velocity is not None else None)
        self._eta = compile_potential_kernel(geo, geo.eta)
        self.alphas = sorted(set(self._L.alphas) | set(self._E.alphas) | set(self._v.alphas)
                             | set(self._p.alphas if self._p else []) | set(self._eta.alphas))

    def _eval(self, kernel, phi):
        jets = self.torus.jets(np.asarray(phi), self.alphas)
        with x64():
            return np.asarray(kernel(jets, self.torus.kappa)).real

    def value(self, phi):
        """The discretised functional ``Σ ℒ / N^{2n}``."""
        return self.torus.integrate(self._eval(self._L, phi))

    def euler(self, phi):
        """``E_φ`` on the grid: ``δE ≈ ∫ E_φ δφ``."""
        return self._eval(self._E, phi)

    def velocity(self, phi, kind: str = "paper"):
        """``∂_t φ``: ``"l2"`` (−E_φ/ρ) or ``"paper"`` (the corrected paper flow)."""
        k = self._v if kind == "l2" else self._p
        if k is None:
            raise InvalidInputError("kind", f"{self.variation.functional.name} has no paper flow")
        return self._eval(k, phi)

    def eta(self, phi):
        """``η = det g / (κ |Ω|²)`` on the grid (B.11)."""
        return self._eval(self._eta, phi)

    def directional_fd(self, phi, psi, eps: float = 1e-5):
        """Central finite difference ``(E[φ + εψ] − E[φ − εψ]) / 2ε`` of the discretised functional."""
        return (self.value(phi + eps * psi) - self.value(phi - eps * psi)) / (2 * eps)

    def pairing(self, phi, psi):
        """``∫ E_φ ψ`` (the derived first variation along ψ)."""
        return self.torus.integrate(self.euler(phi) * psi)


__all__ = ["TorusFunctional"]


# ----------------------------------------------------------------- the flow system


def _resolve(functional):
    """``functional:NAME`` on a :class:`ComplexTorus` names a Kähler functional (the one
    registry, :mod:`metricflow.symbolic.registry`)."""
    from metricflow.symbolic.registry import lookup

    return lookup(functional, "kahler", "flow")


def metric_of(torus: ComplexTorus, phi):
    """``g_{ab̄} = g0_{ab̄} + ∂_a∂̄_b φ`` at every grid point, shape ``shape + (n, n)`` (numpy or JAX)."""
    from metricflow._linalg import namespace

    n = torus.n
    mixed = {(a, b): tuple(int(i == a) for i in range(n)) + tuple(int(i == b) for i in range(n))
             for a in range(n) for b in range(n)}
    jets = torus.jets(phi, sorted(set(mixed.values())))
    xp = namespace(phi)
    return xp.stack([xp.stack([jets[mixed[a, b]] for b in range(n)], axis=-1) for a in range(n)], axis=-2)


@register(ComplexTorus, "functional", resolve=_resolve)
def functional_system(torus: ComplexTorus, kernel, functional, flow: str) -> FlowSystem:
    """The L² descent flow ``∂_t φ = −E_φ/ρ`` of a Kähler functional (the derived velocity of
    :func:`~metricflow.symbolic.kahler_functionals.derive_potential_variation`, compiled once),
    integrated by :func:`~metricflow.flows.integrate.run_flow` like every other flow. The state
    is the periodic potential ``φ`` on the grid; records carry the functional's value
    (``functional``), the range of η (B.11) and the smallest eigenvalue of ``g0 + ∂∂̄φ``.
    The L² flow of a Lagrangian with k derivatives of the metric is of order 2k + 4 in φ, so
    explicit steps need ``dt ∝ h^{2k+4}`` (fourth order for the ultra-local functionals:
    dt ≲ 4e-5 on N = 8)."""
    import jax.numpy as jnp

    from metricflow.symbolic.kahler_functionals import derive_potential_variation

    tf = TorusFunctional(derive_potential_variation(functional, torus.n), torus)
    smear = kernel.operator(torus)

    def velocity(s):
        jets = torus.jets(s["phi"], tf.alphas)
        return {"phi": smear(jnp.real(tf._v(jets, torus.kappa)))}

    def diagnostics(s):
        phi = np.asarray(s["phi"])
        eta = tf.eta(phi)
        return {"functional": float(tf.value(phi)), "eta_min": float(eta.min()), "eta_max": float(eta.max()),
                "min_eigenvalue": float(np.min(np.linalg.eigvalsh(metric_of(torus, phi.astype(complex)))))}

    def check(s, t):
        check_finite("potential", s["phi"], t)
        check_metric(metric_of(torus, np.asarray(s["phi"]).astype(complex)), t)

    def initial(phi0):
        phi0 = np.asarray(phi0, dtype=np.float64)
        if phi0.shape != torus.shape:
            raise InvalidInputError("g0", f"expected the potential φ of shape {torus.shape} on {torus.name}, "
                                    f"got {phi0.shape}")
        state = {"phi": phi0}
        check(state, 0.0)
        return state

    return FlowSystem(torus, flow, kernel.spec, "phi", velocity=velocity, diagnostics=diagnostics, check=check,
                      initial=initial, meta={"manifold": torus.name, "n": torus.N, "flow": flow,
                                             "kernel": kernel.spec})
