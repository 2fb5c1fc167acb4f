"""Flows of metric values on a point cloud (:class:`~metricflow.manifolds.PointCloud`):
gradient descent of the σ-measure (eq. B.11).

The state is ``{"g": g}``, the hermitian metric ``g_{a b̄}`` at each point in that
point's chart, shape ``(N, k, k)`` complex. With the Monte Carlo quantities of
:func:`metricflow.cy.sigma` (docs/cy.md),

    r_i = det g_i / det g_FS,i,   w_i = |Ω|²_i / det g_FS,i,   κ = Σ r / Σ w          (B.10)
    σ[g] = Σ_i |w_i − r_i/κ| / Σ_i w_i                                               (B.11)

and the flow is ``∂_t g = Θ · M`` with M the FS-natural gradient

    M_i = g_FS,i V_i g_FS,i,    V_i = −δσ/δg(x_i):

V is the gradient of σ by JAX autodiff with respect to the real and imaginary parts of g_i,
divided by the point's quadrature weight ω_i = Vol_FS/N (so that V is the functional
derivative w.r.t. dVol_FS, independent of N: Σ_i ω_i tr(V_i δg_i) = −δσ), made hermitian
(:func:`sigma_gradient`). V is of inverse-metric type (∝ g⁻¹ for a function of det g); the
velocity of a metric must be of metric type, and lowering both indices with g_FS makes it
so, the same tensor in every chart (V itself is not: its flow would depend on each point's
choice of chart). Kernels carry this metric-type field between points
(:mod:`metricflow.kernels.pointcloud`). With the local kernel σ is non-increasing along
the exact flow (dσ/dt = −Σ ω_i tr(V_i g_FS V_i g_FS) = −Σ ω_i |L_iᴴ V_i L_i|² ≤ 0, L Lᴴ = g_FS;
σ is non-smooth where η = 1 at a point, and a finite step may overshoot there), and with
any positive semi-definite kernel (the module above). After every
record the metric is checked positive definite (:func:`metricflow.flows.monitors.check_metric`).

Flows that need jets (``ricci``, ``perelman``) are not offered: a field of values at
points has no derivatives (:meth:`PointCloud.jets`).
"""

from __future__ import annotations

import numpy as np

from metricflow import _linalg as la
from metricflow.errors import InvalidInputError
from metricflow.flows.monitors import check_metric
from metricflow.flows.registry import register
from metricflow.flows.systems import FlowSystem
from metricflow.manifolds.pointcloud import PointCloud

INITS = ("fs",)


def initial_metric(cloud: PointCloud, name: str = "fs", seed: int = 0) -> np.ndarray:
    """``fs``: the pulled-back Fubini–Study metric at the points (N, k, k) complex."""
    if name not in INITS:
        raise InvalidInputError("init", f"expected one of {INITS} on {cloud.name}, got {name!r}")
    return np.array(cloud.reference_metric(), dtype=np.complex128)


def initial_state(cloud: PointCloud, g0) -> dict:
    """``{"g": g0}`` after checking shape, hermiticity and positive-definiteness."""
    k = cloud.dim
    g0 = np.asarray(g0)
    if g0.shape != (cloud.npoints, k, k):
        raise InvalidInputError("g0", f"expected shape {(cloud.npoints, k, k)}, got {g0.shape}")
    g0 = g0.astype(np.complex128)
    if not np.allclose(g0, np.conj(np.swapaxes(g0, -1, -2)), atol=1e-12 * np.max(np.abs(g0))):
        raise InvalidInputError("g0", "the initial metric is not hermitian")
    check_metric(g0, 0.0)
    return {"g": g0}


def sigma_measure(cloud: PointCloud):
    """``g ↦ (σ, κ)`` of eq. (B.10–B.11), pure; JAX-differentiable on JAX arrays, numpy on numpy."""
    det_fs = cloud.volume_form()
    w = cloud.pointset.weights

    def measure(g):
        xp = la.namespace(g)
        r = xp.real(la.det(g)) / xp.asarray(det_fs)
        kappa = xp.sum(r) / xp.sum(xp.asarray(w))
        return xp.sum(xp.abs(xp.asarray(w) - r / kappa)) / xp.sum(xp.asarray(w)), kappa

    return measure


def sigma_gradient(cloud: PointCloud):
    """``g ↦ V = −δσ/δg`` at every point (module docstring), hermitian, JAX-traceable: the
    plain gradient (inverse-metric type), which the paper's one-chart experiments descend."""
    import jax
    import jax.numpy as jnp

    measure = sigma_measure(cloud)
    q = jnp.asarray(cloud.weights)[:, None, None]
    grad = jax.grad(lambda re, im: measure(re + 1j * im)[0], argnums=(0, 1))

    def gradient(g):
        gr, gi = grad(jnp.real(g), jnp.imag(g))
        V = -(gr + 1j * gi) / q
        return 0.5 * (V + jnp.conj(jnp.swapaxes(V, -1, -2)))

    return gradient


def sigma_velocity(cloud: PointCloud):
    """``g ↦ M = g_FS (−δσ/δg) g_FS`` at every point: the FS-natural gradient, the metric-type
    velocity of the flow (module docstring), hermitian, JAX-traceable."""
    import jax.numpy as jnp

    gradient = sigma_gradient(cloud)
    g_fs = cloud.reference_metric()

    def velocity(g):
        G = jnp.asarray(g_fs)
        M = G @ gradient(g) @ G
        return 0.5 * (M + jnp.conj(jnp.swapaxes(M, -1, -2)))

    return velocity


def diagnostics(cloud: PointCloud, g) -> dict:
    """``sigma`` (B.11), ``kappa`` (B.10), ``volume`` ∫det g (Monte Carlo, Vol_FS·mean r) and
    ``min_eigenvalue`` (the smallest eigenvalue of g over the points)."""
    g = np.asarray(g)
    s, kappa = sigma_measure(cloud)(g)
    r = la.det(g).real / cloud.volume_form()
    return {"sigma": float(s), "kappa": float(kappa), "volume": float(cloud.integrate(r)),
            "min_eigenvalue": float(np.min(np.linalg.eigvalsh(g)))}


@register(PointCloud, "sigma")
def sigma_system(cloud: PointCloud, kernel, functional=None, flow: str = "sigma") -> FlowSystem:
    """Gradient descent of the σ-measure on the metric values (module docstring)."""
    smear = kernel.operator(cloud)
    velocity = sigma_velocity(cloud)
    return FlowSystem(cloud, flow, kernel.spec, "g",
                      velocity=lambda s: {"g": smear(velocity(s["g"]))},
                      diagnostics=lambda s: diagnostics(cloud, s["g"]),
                      check=lambda s, t: check_metric(s["g"], t),
                      initial=lambda g0: initial_state(cloud, g0),
                      meta={"manifold": cloud.name, "n_points": cloud.npoints, "flow": flow, "kernel": kernel.spec})


def curvature_field(cloud: PointCloud, g) -> np.ndarray:
    """``η = det g / (κ |Ω|²)`` at the points (eq. B.11; 1 for the Ricci-flat metric), for plots."""
    r = la.det(np.asarray(g)).real / cloud.volume_form()
    w = cloud.pointset.weights
    return r / (r.sum() / w.sum() * w)
