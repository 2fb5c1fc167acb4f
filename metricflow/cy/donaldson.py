"""Donaldson's balanced metrics on a Calabi-Yau hypersurface: the T-operator iteration
(Donaldson, math/0512625; Douglas-Karp-Lukic-Reinbacher, hep-th/0612075; issue 16).

With the potential K_H = (1/k) log(s^dagger H s) of :mod:`metricflow.cy.algebraic`,

    T(H)_{alpha beta} = (N_k / Vol_Omega) int_X s_alpha conj(s_beta) / (s^dagger H s) |Omega|^2,

and H is *balanced* when T(H)^{-1} = H.  (Index check: tr(H T(H)) = N_k for every H, since
sum_{alpha beta} H_{beta alpha} s_alpha conj(s_beta) = s^dagger H s; the iteration
H <- T(H)^{-1} preserves it.)  Monte Carlo with points distributed by the FS volume form
and weights w = |Omega|^2 / det g_FS (docs/cy.md): int_X f |Omega|^2 = Vol_FS E[f w], so
with Vol_Omega = Vol_FS E[w] the FS volume cancels:

    T(H) = N_k sum_p w_p s(z_p) s(z_p)^dagger / Q_p  /  sum_p w_p,   Q_p = s^dagger H s (z_p).

Each step costs 2 N_p N_k^2 complex multiply-adds (H s and the outer products) and is
blocked over the points (block size from :func:`metricflow.cy.algebraic.block_size`,
arrays of about ``BLOCK_BYTES``), so memory stays O(block N_k + N_k^2) whatever N_p.
The sections are recomputed in each block rather than stored (N_p N_k complex numbers
would be 0.4 GB at k = 5 and 2*10^5 points; recomputing is N_k (n+1) products per point,
small against the N_k^2 of the products with H).

How many points: T is the sample mean of N_p rank-one N_k x N_k matrices, the sample
covariance of the vector s/sqrt(Q).  Its relative error in operator norm scales like
sqrt(N_k / N_p) and the bias it induces in sigma like N_k^2 / N_p, so N_p must grow
faster than N_k^2.  We default to the rule of thumb N_p = 10 N_k^2 + 50,000 quoted for
the balanced-metric literature (DKLR; Anderson-Braun-Karp-Ovrut) and evaluate sigma on a
fresh, independent point set, never on the points the iteration used.
"""

from __future__ import annotations

import time

import numpy as np

from metricflow.cy.algebraic import (
    AlgebraicMetric,
    block_size,
    blocks,
    compiled,
    pad_rows,
    sections_and_derivatives,
)
from metricflow.errors import InvalidInputError, NumericalError


def recommended_points(n_sections: int) -> int:
    """N_p = 10 N_k^2 + 50,000 (the rule of thumb of the module docstring)."""
    return 10 * n_sections**2 + 50_000


def _t_kernel(E, k):
    def block(z, w, H):
        import jax.numpy as jnp

        s, _ = sections_and_derivatives(z, E, False)
        q = jnp.real(jnp.sum(jnp.conj(s) * (s @ H.T), axis=1))
        return (s * (w / q)[:, None]).T @ jnp.conj(s)

    return block


def t_operator(metric: AlgebraicMetric, ps, block: int | None = None) -> np.ndarray:
    """T(H) (N_k, N_k), hermitian, by Monte Carlo over the points ``ps`` (FS-distributed,
    with their weights), blocked over points."""
    from metricflow._x64 import x64

    metric._check_points(ps)
    N = metric.n_sections
    size = block or block_size(N, metric.surface.dim)
    fn = compiled(_t_kernel, metric.basis, metric.k)
    T = np.zeros((N, N), dtype=np.complex128)
    with x64():
        import jax.numpy as jnp

        H = jnp.asarray(metric.H, dtype=jnp.complex128)
        for a, b in blocks(len(ps), size):
            zb = pad_rows(ps.points[a:b], size)
            wb = np.zeros(size)
            wb[: b - a] = ps.weights[a:b]  # padded rows carry weight 0
            T += np.asarray(fn(jnp.asarray(zb), jnp.asarray(wb), H))
    T *= N / ps.weights.sum()
    T = 0.5 * (T + T.conj().T)
    if not np.all(np.isfinite(T)):
        raise NumericalError("T(H) is not finite (degenerate points or H)")
    return T


def inverse_hermitian(T: np.ndarray) -> np.ndarray:
    """T^{-1} for hermitian positive-definite T (one matrix: Cholesky), symmetrised."""
    import scipy.linalg

    try:
        c = scipy.linalg.cho_factor(T, lower=True)
    except np.linalg.LinAlgError as exc:
        raise NumericalError(f"T(H) is not positive definite (too few points for N_k = {T.shape[0]}?)") \
            from exc
    inv = scipy.linalg.cho_solve(c, np.eye(T.shape[0], dtype=T.dtype))
    return 0.5 * (inv + inv.conj().T)


def t_step(metric: AlgebraicMetric, ps, block: int | None = None) -> AlgebraicMetric:
    """One Donaldson step H <- T(H)^{-1}, normalised to tr H = N_k (the metric ignores scale)."""
    H = inverse_hermitian(t_operator(metric, ps, block))
    H *= metric.n_sections / np.real(np.trace(H))
    return AlgebraicMetric(metric.surface, metric.k, metric.basis, H)


def balanced_metric(poly, k: int, n_points: int | None = None, iterations: int = 10, seed: int = 0,
                    n_validation: int | None = None, on_iteration=None) -> dict:
    """Iterate H <- T(H)^{-1} from H = 1 on ``n_points`` fresh FS points (seed stream
    [seed, 0]); sigma (B.11) of every iterate on an independent validation set (stream
    [seed, 1]) of ``n_validation`` points.

    Returns ``metric`` (the last iterate), ``sigma`` / ``sigma_stderr`` (one per
    iteration), ``sigma_initial`` (H = 1), ``n_sections``, ``n_points``, ``n_validation``,
    ``seconds_per_iteration`` (median T-operator step after the first, which compiles;
    not the validation), ``seconds_first_iteration``, ``seconds_sigma`` (one validation).
    ``on_iteration(i, record)`` is called after each step.
    """
    from metricflow import cy

    for name, value, low in (("k", k, 1), ("iterations", iterations, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise InvalidInputError(name, f"need an integer >= {low}, got {value!r}")
    X = cy.hypersurface(poly)
    if not X.is_calabi_yau:
        raise InvalidInputError("poly", f"degree {X.degree} in P^{X.n_ambient - 1} is not Calabi-Yau (needs "
                                f"degree {X.n_ambient}): |Omega|^2, the measure of T(H) and of sigma, is not "
                                "a global volume form")
    metric = AlgebraicMetric.identity(X, k)
    N = metric.n_sections
    n_points = recommended_points(N) if n_points is None else int(n_points)
    if n_points < 2 * N:
        raise InvalidInputError("n_points", f"need at least 2 N_k = {2 * N} points for an invertible T(H) "
                                f"at k = {k}; the balanced-metric literature uses about {recommended_points(N)}")
    n_validation = min(n_points, 100_000) if n_validation is None else int(n_validation)
    train = cy.sample(X, n_points, seed=seed_stream(seed, 0))
    valid = cy.sample(X, n_validation, seed=seed_stream(seed, 1))
    t0 = time.perf_counter()
    s0 = cy.sigma(valid, metric)
    seconds_sigma = [time.perf_counter() - t0]
    sig, err, secs = [], [], []
    for i in range(iterations):
        t0 = time.perf_counter()
        metric = t_step(metric, train)
        secs.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        res = cy.sigma(valid, metric)
        seconds_sigma.append(time.perf_counter() - t0)
        sig.append(res["sigma"])
        err.append(res["sigma_stderr"])
        if on_iteration is not None:
            on_iteration(i, {"iteration": i + 1, "sigma": res["sigma"], "sigma_stderr": res["sigma_stderr"],
                             "seconds": secs[-1]})
    return {"metric": metric, "sigma": sig, "sigma_stderr": err, "sigma_initial": s0["sigma"],
            "sigma_initial_stderr": s0["sigma_stderr"], "n_sections": N, "n_points": n_points,
            "n_validation": n_validation, "n_points_recommended": recommended_points(N),
            # the first step includes the XLA compilation: report it apart
            "seconds_per_iteration": float(np.median(secs[1:] if len(secs) > 1 else secs)),
            "seconds_first_iteration": secs[0],
            "seconds_sigma": float(np.mean(seconds_sigma))}


def seed_stream(seed: int, which: int) -> int:
    """A seed for cy.sample from the independent numpy stream [seed, which]."""
    return int(np.random.SeedSequence([int(seed), which]).generate_state(1, dtype=np.uint32)[0])


__all__ = ["balanced_metric", "inverse_hermitian", "recommended_points", "seed_stream", "t_operator",
           "t_step"]
