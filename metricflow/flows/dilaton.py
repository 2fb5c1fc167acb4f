"""Perelman's dilaton as the minimiser of F: the ground state of ``−4Δ + R``.

Perelman's functional (eq. 2.41), ``F[g, f] = ∫ (R + |∇f|²) e^{−f} dV``, written with
``φ = e^{−f/2}`` is the Rayleigh quotient of the Schrödinger operator ``−4Δ_g + R``:

    F = ∫ (4|∇φ|² + R φ²) dV,   ∫ φ² dV = ∫ e^{−f} dV = 1.

Its minimum over f is ``λ(g)``, the lowest eigenvalue, attained at the positive ground
state φ₀ (``f = −2 log φ₀``). Perelman's flow ``∂_t g = −2(R_ij + ∇_i∇_j f)`` (eq. 2.40)
with this f is the gradient flow of λ, and

    dλ/dt = 2 ∫ |R_ij + ∇_i∇_j f|² e^{−f} dV ≥ 0,

so λ = F is non-decreasing. This is the well-posed way to carry the dilaton forward
in time: the coupled equation ``∂_t f = −Δf − R`` is a backward heat equation
(docs/flows.md).

On the torus grid the operator is applied in divergence form with the spectral first
derivative D (Nyquist mode dropped, so D is real and skew-symmetric):

    B φ = −4 D_i(√g g^{ij} D_j φ) + √g R φ,   B φ = λ W φ,   W = diag(√g),

a symmetric generalised eigenproblem. It is solved by shifted inverse iteration,
each solve by conjugate gradients with a constant-coefficient Fourier
preconditioner, warm-started from the previous ground state along a flow.
"""

from __future__ import annotations

from functools import cache

from metricflow import _linalg as la
from metricflow.manifolds.torus import Torus

#: relative eigen-residual ‖Bφ − λWφ‖ / ‖λWφ‖+‖Bφ‖ accepted as converged
TOLERANCE = 1e-10
#: largest relative eigen-residual of a record's dilaton solve before a run (a flow, or a
#: network's training) is stopped: the solves warm-started along a flow stop at fewer
#: iterations than a cold solve and are accepted up to this residual
DILATON_TOLERANCE = 1e-7


def _band(manifold: Torus):
    """``(k², mask)``: |k|² on the grid and the mask of wave vectors without a Nyquist
    component. The spectral first derivative annihilates the Nyquist modes, so they
    would be spurious zero modes of −4Δ; the eigenproblem lives on their complement."""
    import numpy as np

    k2 = sum(np.asarray(k, dtype=float) ** 2 for k in manifold.wavenumbers)
    mask = np.ones(manifold.shape)
    for k in manifold.wavenumbers:
        mask = mask * (np.abs(k) != manifold.n // 2)
    return k2, mask


def operator(manifold: Torus, g, R):
    """``(apply_B, W)`` for the metric ``g`` (grid + (d, d)) and its scalar curvature R."""
    import jax.numpy as jnp

    sqrtg = jnp.sqrt(la.det(g))
    A = sqrtg[..., None, None] * la.inv(g)

    def apply_B(phi):
        grad = manifold.gradient(phi)
        flux = jnp.einsum("...ij,...j->...i", A, grad)
        return -4.0 * manifold.divergence(flux) + sqrtg * R * phi

    return apply_B, sqrtg, A


def ground_state(manifold: Torus, g, R, phi0, *, margin=None, max_iter: int = 60, tol: float = TOLERANCE):
    """The ground state of ``−4Δ_g + R`` by shifted inverse iteration from ``phi0``.

    Returns ``(phi, lam, residual)`` with φ > 0 normalised to ``∫ φ² dV = 1``. The shift
    is ``μ = λ_RQ(phi0) − margin``; it must lie below the ground state for the
    conjugate-gradient solves (an SPD system). ``margin=None`` is the safe choice
    ``μ = min R − 1`` (always below, since −4Δ ≥ 0), for a cold start; along a flow a
    warm start with a margin of a fraction of the spectral gap converges in a few
    iterations. JAX-traceable (``lax.while_loop``)."""
    import jax
    import jax.numpy as jnp
    from jax.scipy.sparse.linalg import cg

    B_full, W, A = operator(manifold, g, R)
    h = manifold.cell_volume
    k2, mask = _band(manifold)
    axes = tuple(range(manifold.dim))

    def P(x):  # orthogonal projector onto the Nyquist-free band
        return jnp.real(jnp.fft.ifftn(jnp.fft.fftn(x, axes=axes) * mask, axes=axes))

    def apply_B(phi):
        return P(B_full(phi))

    def apply_W(phi):
        return P(W * phi)

    def normalise(phi):
        return phi / jnp.sqrt(jnp.sum(W * phi**2) * h)

    def rayleigh(phi):
        return jnp.sum(phi * apply_B(phi)) / jnp.sum(W * phi**2)

    phi = normalise(P(phi0))
    lam = rayleigh(phi)
    mu = (jnp.min(R) - 1.0) if margin is None else lam - margin
    # constant-coefficient approximation of B − μW, inverted in Fourier space
    a = jnp.mean(jnp.trace(A, axis1=-2, axis2=-1)) / manifold.dim
    b = jnp.maximum(jnp.mean(W * (R - mu)), 1e-3)
    precond_symbol = mask / (4.0 * a * k2 + b)

    def precond(r):
        return jnp.real(jnp.fft.ifftn(jnp.fft.fftn(r, axes=axes) * precond_symbol, axes=axes))

    def shifted(x):
        return apply_B(x) - mu * apply_W(x)

    def residual(phi, lam):
        Bphi, Wphi = apply_B(phi), apply_W(phi)
        return jnp.sqrt(jnp.sum((Bphi - lam * Wphi) ** 2)) / (
            jnp.sqrt(jnp.sum(Bphi**2)) + jnp.abs(lam) * jnp.sqrt(jnp.sum(Wphi**2)) + 1e-300)

    def body(carry):
        phi, lam, res, it = carry
        x, _ = cg(shifted, apply_W(phi), x0=phi / jnp.maximum(lam - mu, 1e-3), tol=1e-12, maxiter=200,
                  M=precond)
        x = normalise(x * jnp.sign(jnp.sum(x)))
        lam = rayleigh(x)
        return x, lam, residual(x, lam), it + 1

    def cond(carry):
        return (carry[2] > tol) & (carry[3] < max_iter)

    phi, lam, res, _ = jax.lax.while_loop(cond, body, (phi, lam, residual(phi, lam), 0))
    return phi, lam, res


def lambda_functional(manifold: Torus, g, phi0=None):
    """Perelman's ``λ(g) = min_f F[g, f]`` and the minimiser: ``(lam, f, residual)``.

    ``phi0`` (default: the constant, a cold start) is the initial guess for e^{−f/2}.
    ``f = −2 log φ₀`` with ``∫ e^{−f} dV = 1``. Compiled once per grid."""
    import jax.numpy as jnp

    g = jnp.asarray(g)
    start = jnp.ones(manifold.shape, dtype=g.dtype) if phi0 is None else jnp.asarray(phi0, dtype=g.dtype)
    return _lambda_jit()(manifold, g, start)


@cache
def _lambda_jit():
    import jax.numpy as jnp

    from metricflow import _programs
    from metricflow.flows.torus import scalar_curvature

    def solve(manifold, g, start):
        R = scalar_curvature(manifold, g)
        phi, lam, res = ground_state(manifold, g, R, start, max_iter=400)
        return lam, -2.0 * jnp.log(phi), res

    return _programs.jit(solve, key="dilaton.lambda_functional", static_argnums=(0,))
