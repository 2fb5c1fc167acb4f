"""The Perelman realization (section 2.4): a wide cos-net trained on the loss (2.42)
moves the metric by Perelman's flow (2.40) as width N → ∞ and σ → 0.

Conventions (docs/flows.md, "The Perelman realization"):

* the torus T^d with the coordinate measure ``dμ = d^dx`` and a fixed dilaton ``f``;
  the metric depends on the network outputs ``φ_P`` (one last-layer cos-net per
  independent component ``P = (a ≤ b)``) through the *tensor rescaling*

      g_ij = g0_ij + c Σ_P M^P_ij φ_P,   M^P = s_P (E_a ⊗ E_b + E_b ⊗ E_a)/2,
      E = g0^{1/2},  s_P = √2 (a < b), 1 (a = b),  c = (2 e^{f} / √det g0)^{1/2},

  so that Σ_P M^P_ij M^P_kl = ½(g0_ik g0_jl + g0_il g0_jk) (the scalar trick 2.15 of
  the paper cannot raise or lower indices; see docs/flows.md);
* the loss is ``L = −F[g, f(g)]`` (2.42 integrated against dμ), with f following g so
  that ``e^{−f} dV`` is fixed; its derivative is ``∂L/∂φ_P(x) = −c M^P_kl U^{kl}`` with
  ``U^{kl} = δF/δg_kl = −(R^{kl} + ∇^k∇^l f) e^{−f} √g`` (derived, docs/symbolic.md);
* each cos-net ``φ(x) = A/√N Σ_k a_k cos(w_k·x + b_k)`` has *integer* frequencies
  ``w_k`` drawn from the discrete Gaussian ``P(w) ∝ e^{−σ²|w|²/2}`` on Z^d (so φ is
  periodic) and ``b_k ~ U(−π, π)``; only the ``a_k`` train, and
  ``A² = 2 Z / (2π)^d``, ``Z = Σ_w e^{−σ²|w|²/2}``, makes the frozen NTK the
  normalised periodised Gaussian of width σ (Poisson summation). The network, its
  frequency law and its per-frequency form are :mod:`metricflow.models.cosnet`
  (:func:`~metricflow.models.cosnet.torus_cosnet`).

Gradient descent then gives, at g = g0,

    ∂_t g_ij(x) = c(x) Σ_P M^P_ij(x) ∫ dμ(x') Θ_N(x, x') c(x') M^P_kl(x') U^{kl}(x'),

which tends to ``c² ½(g g + g g) U = −2(R_ij + ∇_i∇_j f)`` as N → ∞, σ → 0. The
finite-width kernel is accumulated per frequency: ``∫ cos(w·x' + b) u(x') dx'`` is one
FFT coefficient, and the sum over the N neurons is one inverse FFT of a frequency
histogram — exact on the grid, and cheap for N in the millions.
"""

from __future__ import annotations

import numpy as np

from metricflow.errors import InvalidInputError
from metricflow.manifolds.torus import Torus
from metricflow.models.cosnet import check_grid, frequency_grid, grid_for_sigma, neuron_sums


def smooth_metric(manifold: Torus, amplitude: float = 0.15, seed: int = 0):
    """A smooth, low-frequency, positive-definite metric and dilaton on the torus (the
    σ² error of the realization grows with the frequency content)."""
    rng = np.random.default_rng(seed)
    x = manifold.points
    d = manifold.dim

    def wave():
        k = rng.integers(-1, 2, size=d)
        while not k.any():
            k = rng.integers(-1, 2, size=d)
        return np.cos(x @ k + rng.uniform(0, 2 * np.pi))

    g = np.broadcast_to(np.eye(d), manifold.shape + (d, d)).copy()
    for i in range(d):
        for j in range(i, d):
            w = amplitude * wave() * (1.0 if i == j else 0.5)
            g[..., i, j] += w
            if i != j:
                g[..., j, i] += w
    f = 0.3 * wave()
    return g, f


def _components(d):
    return [(a, b) for a in range(d) for b in range(a, d)]


def _structure(g0):
    """E = g0^{1/2} pointwise and the maps M^P (shape: grid + (P, d, d))."""
    lam, vec = np.linalg.eigh(g0)
    if np.min(lam) <= 0:
        raise InvalidInputError("g0", "the metric is not positive definite")
    E = np.einsum("...ik,...k,...jk->...ij", vec, np.sqrt(lam), vec)
    d = g0.shape[-1]
    Ms = []
    for a, b in _components(d):
        s = np.sqrt(2.0) if a < b else 1.0
        Ea, Eb = E[..., a, :], E[..., b, :]
        Ms.append(s * 0.5 * (Ea[..., :, None] * Eb[..., None, :] + Eb[..., :, None] * Ea[..., None, :]))
    return np.stack(Ms, axis=-3)


def perelman_density(manifold: Torus, g, f):
    """``U^{kl} = δF/δg_kl`` (density for d^dx, e^{−f}dV fixed) and the target −2(R + ∇∇f)."""
    import jax.numpy as jnp

    from metricflow.flows.torus import _pointwise

    gj = manifold.jets(jnp.asarray(g))
    fj = manifold.jets(jnp.asarray(f))
    target = np.asarray(_pointwise(manifold, "perelman_velocity", *gj, *fj))   # −2(R + ∇∇f)
    ginv = np.linalg.inv(g)
    rho = np.exp(-f) * np.sqrt(np.linalg.det(g))
    U = np.einsum("...ka,...lb,...ab->...kl", ginv, ginv, 0.5 * target) * rho[..., None, None]
    return U, target


def realized_velocity(manifold: Torus, g0, f, *, sigma: float, width: int | None, seed: int = 0):
    """``∂_t g`` induced by gradient descent on the loss (2.42) at ``g0``.

    ``width=None`` is the infinite-width (frozen) limit; otherwise a cos-net of that
    width per component, with frequencies and phases drawn from ``seed``."""
    from metricflow.flows.semilocal import smear_fft

    if not sigma > 0:
        raise InvalidInputError("sigma", f"expected a positive width, got {sigma}")
    d = manifold.dim
    n = manifold.n
    U, _ = perelman_density(manifold, g0, f)
    c = np.sqrt(2.0 * np.exp(f) / np.sqrt(np.linalg.det(g0)))
    M = _structure(g0)                                           # grid + (P, d, d)
    u = c[..., None] * np.einsum("...pkl,...kl->...p", M, U)     # ∂F/∂φ_P density
    if width is None:
        phidot = np.asarray(smear_fft(manifold, u, sigma))
    else:
        if int(width) != width or width < 1:
            raise InvalidInputError("width", f"expected a positive integer, got {width}")
        check_grid(n, sigma)
        rng = np.random.default_rng(seed)
        w, probs, Z, _ = frequency_grid(d, sigma)
        A2 = 2.0 * Z / (2 * np.pi) ** d
        h = manifold.cell_volume
        plus = tuple(w[:, k] % n for k in range(d))
        minus = tuple((-w[:, k]) % n for k in range(d))
        phidot = np.empty_like(u)
        for p in range(u.shape[-1]):
            counts, S = neuron_sums(rng, int(width), probs)
            ghat = np.fft.fftn(u[..., p])[minus]          # Σ_x u(x) e^{+i w·x}
            # φ̇(x) = A² h/(2N) Re Σ_w [ĝ_w S_w e^{iw·x} + ĝ_w n_w e^{−iw·x}]
            X = np.zeros(manifold.shape, dtype=complex)
            np.add.at(X, plus, ghat * S)
            np.add.at(X, minus, ghat * counts)
            phidot[..., p] = np.real(np.fft.ifftn(X)) * n**d * A2 * h / (2 * width)
    return c[..., None, None] * np.einsum("...pij,...p->...ij", M, phidot)


def relative_error(manifold: Torus, v, target) -> float:
    """Relative L² error (coordinate measure) of a velocity field against the target."""
    num = np.sum((v - target) ** 2)
    return float(np.sqrt(num / np.sum(target**2)))


def perelman_check(dim: int = 2, *, widths=(1_000, 10_000, 100_000, 1_000_000), sigma_for_widths: float = 0.2,
                   sigmas=(0.4, 0.2, 0.1), width_for_sigmas: int = 10_000_000,
                   finest=(0.07, 100_000_000), seeds: int = 3, seed: int = 0, progress=None) -> dict:
    """Relative L² error of the NN-induced velocity against Perelman's −2(R + ∇∇f).

    Rows (``sweep``): ``width`` — at fixed σ, mean over ``seeds`` of the error against
    Perelman and against the infinite-width velocity at that σ (which isolates the width
    error); ``sigma`` — at a large width, with the infinite-width error alongside (which
    isolates the σ² error); ``finest`` — the finest setting. ``width_slope`` and
    ``sigma_slope`` are log–log fits of the isolated errors (theory: −1/2 and 2)."""
    if dim not in (1, 2, 3):
        raise InvalidInputError("dim", f"expected 1, 2 or 3, got {dim}")
    from metricflow._x64 import x64

    def tick(msg):
        if progress:
            progress(msg)

    rows = []
    with x64():
        T = Torus(dim, grid_for_sigma(sigma_for_widths, multiple=16))
        g0, f = smooth_metric(T, seed=seed)
        _, target = perelman_density(T, g0, f)
        v_inf = realized_velocity(T, g0, f, sigma=sigma_for_widths, width=None)
        for wdt in widths:
            vs = [realized_velocity(T, g0, f, sigma=sigma_for_widths, width=wdt, seed=seed + s) for s in range(seeds)]
            rows.append({"sweep": "width", "width": int(wdt), "sigma": sigma_for_widths,
                         "rel_error": float(np.mean([relative_error(T, v, target) for v in vs])),
                         "rel_error_vs_infinite_width": float(np.mean([relative_error(T, v, v_inf) for v in vs]))})
            tick(f"width {wdt}")
        for sg in list(sigmas) + [finest[0]]:
            is_finest = sg == finest[0]
            T = Torus(dim, grid_for_sigma(sg, multiple=16))
            g0, f = smooth_metric(T, seed=seed)
            _, target = perelman_density(T, g0, f)
            wdt = finest[1] if is_finest else width_for_sigmas
            v = realized_velocity(T, g0, f, sigma=sg, width=wdt, seed=seed)
            rows.append({"sweep": "finest" if is_finest else "sigma", "width": int(wdt), "sigma": sg,
                         "rel_error": relative_error(T, v, target),
                         "rel_error_infinite_width": relative_error(
                             T, realized_velocity(T, g0, f, sigma=sg, width=None), target)})
            tick(f"sigma {sg}")
    wr = [r for r in rows if r["sweep"] == "width"]
    sr = [r for r in rows if r["sweep"] in ("sigma", "finest")]
    width_slope = float(np.polyfit(np.log([r["width"] for r in wr]),
                                   np.log([r["rel_error_vs_infinite_width"] for r in wr]), 1)[0])
    sigma_slope = float(np.polyfit(np.log([r["sigma"] for r in sr]),
                                   np.log([r["rel_error_infinite_width"] for r in sr]), 1)[0])
    fin = rows[-1]
    return {"dim": dim, "rows": rows, "width_slope": width_slope, "sigma_slope": sigma_slope,
            "finest": {"width": fin["width"], "sigma": fin["sigma"], "rel_error": fin["rel_error"]},
            "expected": {"width_slope": -0.5, "sigma_slope": 2.0, "finest_rel_error_below": 1e-2}}
