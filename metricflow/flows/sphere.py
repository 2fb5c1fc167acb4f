"""Ricci flow on the 2-sphere in the conformal gauge, with a two-chart check and Perelman's λ.

Representation (docs/flows.md, "The 2-sphere"). Every metric on S² is, up to a
diffeomorphism, conformal to the round one (uniformisation), and in two dimensions
Ricci flow (eq. 2.39, ``∂_t g = −2 R_ij``) keeps the conformal class, because
``R_ij = K g_ij``. With ``g = e^{2u} g_round`` (unit round sphere, ``K_round = 1``)::

    K = e^{−2u} (1 − Δ_round u),   R = 2K,   ∂_t u = −K.

The state is ``u`` on the grid of a :class:`~metricflow.manifolds.Sphere`, shape
``sphere.shape``: the grid values of a field of degree ≤ ``lmax``. The velocity is
projected back onto degree ≤ ``lmax`` (Galerkin truncation), so a band-limited state
stays band-limited; ``Δ_round`` is diagonal in the spherical harmonics and nothing is
singular at the poles.

All functions are pure; ``ricci_velocity`` is jittable JAX, the diagnostics accept
numpy or JAX arrays. The flow systems ``ricci`` and ``perelman`` of a
:class:`~metricflow.manifolds.Sphere` are registered at the end of this module.
"""

from __future__ import annotations

import numpy as np

from metricflow._linalg import namespace
from metricflow.errors import InvalidInputError, NumericalError
from metricflow.flows.registry import register
from metricflow.flows.systems import FlowSystem
from metricflow.manifolds.sphere import Sphere

INITS = ("round", "bumpy")

#: degrees of the random field of the ``bumpy`` initial metric
BUMPY_DEGREES = (1, 4)

#: a state whose top quarter of degrees carries more than this fraction of the
#: (non-constant) power is no longer resolved by the band limit (check_state)
TAIL_POWER_LIMIT = 1e-4


def _check_sphere(sphere) -> None:
    if not isinstance(sphere, Sphere):
        raise InvalidInputError("sphere", f"expected a metricflow.manifolds.Sphere, got {type(sphere).__name__}")


def _check_field(sphere: Sphere, u, name: str = "u") -> None:
    if tuple(np.shape(u)) != sphere.shape:
        raise InvalidInputError(name, f"expected a grid field of shape {sphere.shape}, got {tuple(np.shape(u))}")


def initial_metric(sphere: Sphere, name: str, seed: int = 0, amplitude: float = 0.5) -> np.ndarray:
    """The conformal factor ``u`` of an initial metric ``g = e^{2u} g_round``.

    ``round``: ``u = 0`` (the unit sphere). ``bumpy``: a seeded random combination of the
    harmonics of degrees 1–4 (independent normal coefficients, power ∝ 1/l), scaled so
    that ``max |u| = amplitude`` (on a fixed 48 × 96 reference grid, so a seed gives the
    same metric at every ``lmax ≥ 4``): the area density ``e^{2u}`` then varies by a
    factor up to ``e^{4 amplitude}`` (7.4 at the default 0.5). It is positive definite
    for any amplitude; ``0 < amplitude ≤ 2`` is accepted.
    """
    _check_sphere(sphere)
    if name == "round":
        return np.zeros(sphere.shape)
    if name != "bumpy":
        raise InvalidInputError("init", f"expected one of {INITS} on sphere2, got {name!r}")
    if not 0 < amplitude <= 2:
        raise InvalidInputError("amplitude", f"expected 0 < amplitude <= 2, got {amplitude}")
    if int(seed) != seed:
        raise InvalidInputError("seed", f"expected an integer seed, got {seed!r}")
    rng = np.random.default_rng(int(seed))
    lo, hi = BUMPY_DEGREES
    # the same coefficients at every band limit (truncated if lmax < 4), so that one
    # seed is one metric on every grid; normalised on a fixed fine reference grid
    ref = Sphere(hi, nlat=48, nlon=96)
    a = rng.normal(size=ref.coefficient_shape) * ref.coefficient_mask
    l = np.broadcast_to(ref.degrees, ref.coefficient_shape)
    a = np.where(l >= lo, a / np.sqrt(np.maximum(l, 1)), 0.0)
    a *= amplitude / np.max(np.abs(ref.synthesis(a)))
    full = np.zeros(sphere.coefficient_shape)
    k = min(hi, sphere.lmax) + 1
    full[:, :k, :k] = a[:, :k, :k]
    return sphere.synthesis(full)


def gauss_curvature(sphere: Sphere, u):
    """``K = e^{−2u}(1 − Δ_round u)`` on the grid (numpy or JAX), exact pointwise for a
    band-limited ``u``."""
    xp = namespace(u)
    return xp.exp(-2.0 * u) * (1.0 - sphere.laplacian(u))


def scalar_curvature(sphere: Sphere, u):
    """``R = 2K`` of ``g = e^{2u} g_round`` on the grid."""
    return 2.0 * gauss_curvature(sphere, u)


def ricci_velocity(sphere: Sphere, u):
    """``∂_t u = −K``, the conformal form of Ricci flow (eq. 2.39): ``∂_t(e^{2u}) g_round =
    −2K e^{2u} g_round = −2 R_ij``. Projected onto degree ≤ ``lmax``; pure and jittable."""
    return sphere.project(-gauss_curvature(sphere, u))


def diagnostics(sphere: Sphere, u) -> dict:
    """``area = ∫e^{2u} dA_round``, ``max_abs_scalar_curvature``, ``total_scalar_curvature``
    ``∫R dA`` (= 8π by Gauss–Bonnet), ``min_eigenvalue`` (of g in a round-orthonormal
    frame: ``min e^{2u}``), and ``curvature_spread`` ``(max R − min R)/mean R`` with
    ``mean R = ∫R dA / area`` (0 exactly for a round metric, in any conformal gauge)."""
    u = np.asarray(u, dtype=np.float64)
    _check_field(sphere, u)
    dens = np.exp(2.0 * u)
    R = np.asarray(scalar_curvature(sphere, u))
    area = float(sphere.integrate(dens))
    total = float(sphere.integrate(R * dens))
    return {
        "area": area,
        "max_abs_scalar_curvature": float(np.max(np.abs(R))),
        "total_scalar_curvature": total,
        "min_eigenvalue": float(np.min(dens)),
        "curvature_spread": float((np.max(R) - np.min(R)) / (total / area)),
    }


def _where(sphere: Sphere, idx) -> str:
    j, k = int(idx[0]), int(idx[1])
    return (f"grid index ({j}, {k}), θ = {np.degrees(sphere.theta[j]):.1f}°, "
            f"φ = {np.degrees(sphere.phi[k]):.1f}°")


def check_state(sphere: Sphere, u, t: float) -> None:
    """Raise :class:`~metricflow.errors.NumericalError` if the state is broken at time ``t``:

    * ``u`` is NaN/inf, or ``e^{±2u}`` overflows (the metric degenerates);
    * the state is no longer resolved: the top quarter of degrees carries more than
      :data:`TAIL_POWER_LIMIT` of the non-constant power (the signature of an unstable
      explicit step, ``dt`` beyond ≈ 2.8/(lmax(lmax+1) max e^{−2u}), or of the metric
      approaching the extinction time ``area(0)/(8π)``).
    """
    u = np.asarray(u, dtype=np.float64)
    _check_field(sphere, u)
    bad = ~np.isfinite(u)
    if bad.any():
        raise NumericalError(f"the conformal factor u became NaN/inf at t = {t:.6g} "
                             f"({_where(sphere, np.argwhere(bad)[0])}); reduce --dt or use --method adaptive")
    big = np.abs(u) > 300.0
    if big.any():
        raise NumericalError(f"the metric degenerates at t = {t:.6g}: |u| = {np.max(np.abs(u)):.3g} "
                             f"({_where(sphere, np.unravel_index(np.argmax(np.abs(u)), u.shape))}); "
                             "the flow is past its extinction time area(0)/(8π) or unstable")
    power = sphere.degree_power(u)
    tail = power[sphere.lmax - sphere.lmax // 4:].sum()
    total = power[1:].sum()
    if total > 0 and tail > TAIL_POWER_LIMIT * total and tail > 1e-24:
        raise NumericalError(f"the metric is no longer resolved at t = {t:.6g}: degrees >= "
                             f"{sphere.lmax - sphere.lmax // 4} carry {tail / total:.3g} of the power "
                             f"(limit {TAIL_POWER_LIMIT:g}); reduce --dt (explicit stability needs "
                             f"dt < {2.78 / (sphere.lmax * (sphere.lmax + 1) * np.max(np.exp(-2 * u))):.3g}), "
                             "raise lmax, or stop before the extinction time")


def lambda_functional(sphere: Sphere, u, lmax: int | None = None):
    """Perelman's ``λ(g)``: the lowest eigenvalue of ``−4Δ_g + R`` (``Δ_g = e^{−2u}Δ_round``),
    and its minimiser ``f`` on the grid, normalised by ``∫e^{−f} dA_g = 1``.

    ``λ = min_f F[g, f]`` over ``∫e^{−f}dV = 1`` with ``F = ∫(R + |∇f|²) e^{−f} dV``
    (eq. 2.41, docs/conventions.md); with ``ψ = e^{−f/2}`` it is the Rayleigh quotient of
    ``∫(4|∇ψ|² + Rψ²) dA_g``. Multiplied by ``e^{2u}`` the eigenproblem is the generalised
    symmetric one ``(−4Δ_round + 2(1 − Δ_round u)) ψ = λ e^{2u} ψ``, solved by Galerkin in the
    real harmonics of degree ≤ ``lmax`` (default ``min(sphere.lmax, 16)``); the Galerkin
    value converges to λ from above. ``λ`` is diffeomorphism invariant and non-decreasing
    along Ricci flow; on the round unit sphere ``f = log 4π`` and ``λ = R = 2``.
    Returns ``(lam, f)``.
    """
    from scipy.linalg import eigh

    _check_sphere(sphere)
    u = np.asarray(u, dtype=np.float64)
    _check_field(sphere, u)
    idx, Y = sphere.harmonics(min(sphere.lmax, 16) if lmax is None else lmax)
    l = idx[:, 2]
    w = sphere.weights.ravel()
    dens = np.exp(2.0 * u).ravel()
    pot = 2.0 * (1.0 - np.asarray(sphere.laplacian(u))).ravel()   # R e^{2u}
    A = (Y * (w * pot)) @ Y.T + np.diag(4.0 * l * (l + 1.0))
    B = (Y * (w * dens)) @ Y.T
    vals, vecs = eigh(A, B, subset_by_index=[0, 0])
    psi = vecs[:, 0] @ Y
    psi = psi * np.sign(np.sum(psi * w))            # the ground state is positive
    if np.min(psi) <= 0:
        raise NumericalError("the Galerkin ground state of −4Δ + R is not positive on the grid; "
                             "raise lmax of the λ basis")
    psi = psi / np.sqrt(np.sum(w * dens * psi**2))  # ∫ψ² dA_g = ∫e^{−f} dA_g = 1
    f = -2.0 * np.log(psi)
    return float(vals[0]), f.reshape(sphere.shape)


def scalar_curvature_in_charts(sphere: Sphere, u, points):
    """``R`` at unit vectors ``points`` (shape ``(n, 3)``) from the compiled symbolic kernel.

    An independent route to the curvature: each point is mapped to the stereographic chart
    (north or south) in which it lies in the closed unit disk, the metric there is the 2×2
    matrix ``g_ab(w) = e^{2u} 4/(1+|w|²)² δ_ab`` with ``u`` evaluated off the grid from its
    harmonic expansion, its jet ``(g, ∂g, ∂²g)`` comes from JAX autodiff, and the ``scalar``
    kernel of :mod:`metricflow.symbolic.codegen` (derived from the Christoffel symbols of
    docs/conventions.md, no 2D shortcut) returns R. Call inside ``x64()``.
    """
    import jax
    import jax.numpy as jnp

    from metricflow.symbolic.codegen import compile_jet_kernel

    kernel = compile_jet_kernel("scalar", 2, "jax")
    coeffs = sphere.analysis(jnp.asarray(u))
    points = jnp.asarray(points)
    # the chart of each point: north (sign +1) where z >= 0, else south (sign −1);
    # the sign is data, so one compiled function serves both charts
    sign = jnp.where(points[:, 2] >= 0, 1.0, -1.0)
    w = points[:, :2] / (1.0 + sign * points[:, 2])[:, None]

    def metric(w, s):
        r2 = w[0] ** 2 + w[1] ** 2
        p = jnp.stack([2 * w[0], 2 * w[1], s * (1 - r2)]) / (1 + r2)
        return jnp.exp(2.0 * sphere.evaluate_coefficients(coeffs, p)) * 4.0 / (1.0 + r2) ** 2 * jnp.eye(2)

    def one(w, s):
        # the whole jet from one nested forward-mode trace of the expansion:
        # dg[a, b, k] = ∂_k g_ab, ddg[a, b, k, l] = ∂_k∂_l g_ab (docs/conventions.md)
        def first(v):
            dg, g = jax.jacfwd(lambda x: (metric(x, s),) * 2, has_aux=True)(v)
            return dg, (dg, g)

        ddg, (dg, g) = jax.jacfwd(first, has_aux=True)(w)
        return kernel(g, dg, ddg)

    return jax.jit(jax.vmap(one))(w, sign)


def scalar_curvature_at(sphere: Sphere, u, points):
    """The spectral ``R = 2e^{−2u}(1 − Δ_round u)`` at arbitrary unit vectors (JAX); for
    comparison with :func:`scalar_curvature_in_charts` off the grid (e.g. at the poles)."""
    import jax.numpy as jnp

    coeffs = sphere.analysis(jnp.asarray(u))
    uu = sphere.evaluate_coefficients(coeffs, points)
    lap = sphere.evaluate_coefficients(coeffs * sphere.laplacian_eigenvalues, points)
    return 2.0 * jnp.exp(-2.0 * uu) * (1.0 - lap)


def curvature_field(sphere: Sphere, u) -> np.ndarray:
    """The scalar curvature R of ``g = e^{2u} g_round`` on the grid (numpy), for plots."""
    return np.asarray(scalar_curvature(sphere, np.asarray(u, dtype=np.float64)))


# ----------------------------------------------------------------- flow systems
def initial_state(sphere: Sphere, u0) -> dict:
    """``{"u": u0}`` after checking its shape and that it is a resolved, finite state."""
    u0 = np.asarray(u0, dtype=np.float64)
    if u0.shape != sphere.shape:
        raise InvalidInputError("g0", f"expected the conformal factor u of shape {sphere.shape} "
                                f"on {sphere.name}, got {u0.shape}")
    check_state(sphere, u0, 0.0)
    return {"u": u0}


def _system(sphere: Sphere, kernel, functional, flow: str) -> FlowSystem:
    """S² in the conformal gauge ``g = e^{2u} g_round``: ``∂_t u = Θ·(−K)`` (module docstring).

    In 2D Ricci flow preserves the conformal class, so ``∂_t u = −K`` is exact. Perelman's
    flow −2(Ric + ∇∇f) leaves the conformal class, but it is Ricci flow pulled back by the
    flow of ∇f: the engine integrates the Ricci-gauge representative and reports
    ``F = λ(g)`` (diffeomorphism invariant, non-decreasing) along it. The kernel acts on
    ``∂_t u``: Gaussian = the round heat kernel, frozen NTK = its Funk–Hecke spectrum."""
    smear = kernel.operator(sphere)

    def diag(s):
        rec = diagnostics(sphere, s["u"])
        if flow == "perelman":
            rec["F"] = rec["lambda"] = lambda_functional(sphere, s["u"])[0]
        return rec

    meta = {"manifold": sphere.name, "n": sphere.n, "flow": flow, "kernel": kernel.spec}
    if flow == "perelman":
        meta["gauge"] = "ricci (conformal); F = lambda(g)"
    return FlowSystem(sphere, flow, kernel.spec, "u",
                      velocity=lambda s: {"u": smear(ricci_velocity(sphere, s["u"]))},
                      diagnostics=diag, check=lambda s, t: check_state(sphere, s["u"], t),
                      initial=lambda u0: initial_state(sphere, u0), meta=meta)


register(Sphere, "ricci")(_system)
register(Sphere, "perelman")(_system)
