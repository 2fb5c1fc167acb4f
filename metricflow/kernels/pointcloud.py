"""Kernels on a point cloud (:class:`~metricflow.manifolds.PointCloud`): the Gaussian of the
Fubini–Study geodesic distance applied in blocks, and the nearest-neighbour extension to
new points.

Normalisation. On a hypersurface of complex dimension k (real dimension m = 2k),

    (Θ · V)(x_i) = Σ_j K_σ(d(x_i, x_j)) V_j^{(i)} ω_j,   K_σ(d) = (2πσ²)^{−k} e^{−d²/(2σ²)},

with ω_j = Vol_FS/N the Monte Carlo weights of dVol_FS (``PointCloud.weights``) and d the
FS distance (eq. 3.2). K_σ integrates to 1 over R^m, and to 1 + O(σ²) over X (the
curvature of X), so Θ → δ as σ → 0 provided the sum resolves the kernel (N σ^{2k} large:
σ well above the nearest-neighbour distance ~ (Vol_FS/N)^{1/2k}); at fixed N and σ → 0
only the self term ω_i (2πσ²)^{−k} V_i remains.

Charts. V_j is given in the chart of x_j; it is applied at x_i written in x_i's chart:
``V_j^{(i)} = Tᵀ V_j T̄`` with T = dx/dx' the chart transition of x_j to x_i's chart
(:func:`metricflow.cy.chart_transition`; :meth:`PointCloud.to_chart`). The targets are
grouped by chart, so each chart present costs one transition pass over the sources.
Where a transition is singular (x_j outside the domain of x_i's chart), x_j's
contribution there is dropped (:meth:`PointCloud.transition_to`): its kernel weight is
negligible unless σ is comparable to the distance between x_i and the chart's boundary.

Memory: the kernel is evaluated ``block`` targets at a time against all N sources
(``block × N`` floats, linear in N); the N × N matrix is never formed.
"""

from __future__ import annotations

import numpy as np

#: targets per block of the blocked Gaussian: block × N kernel values at a time
BLOCK = 256


def block_size(n_targets: int, n_sources: int, budget: int = 2**24) -> int:
    """Targets per block: :data:`BLOCK`, fewer when ``block × n_sources`` would exceed
    ``budget`` kernel values (128 MiB of float64), never more than ``n_targets``."""
    return int(max(1, min(BLOCK, n_targets, budget // max(n_sources, 1))))


def _unit(z):
    z = np.asarray(z, dtype=np.complex128)
    return z / np.linalg.norm(z, axis=-1, keepdims=True)


def _gaussian_block_sum(xp, targets, sources, flat, sigma: float, block: int):
    """``Σ_j exp(−d(t, s_j)²/(2σ²)) flat_j`` for all targets, ``block`` targets at a time
    (``xp``: numpy, or jax.numpy inside a traced function: then ``jax.lax.map``)."""
    n = targets.shape[0]
    pad = (-n) % block
    tp = xp.concatenate([targets, xp.zeros((pad, targets.shape[1]), targets.dtype)]) if pad else targets
    sT = xp.conj(sources).T

    def one(tb):
        c = xp.minimum(xp.abs(tb @ sT), 1.0)     # |<u, v>| = cos d
        d = xp.arccos(c)
        return xp.exp(-(d * d) / (2.0 * sigma**2)) @ flat

    blocks = tp.reshape(-1, block, targets.shape[1])
    if xp is np:
        out = np.concatenate([one(b) for b in blocks])
    else:
        import jax

        out = jax.lax.map(one, blocks).reshape(-1, flat.shape[1])
    return out[:n]


def fs_gaussian_operator(cloud, sigma: float, block: int | None = None):
    """The pure, jittable ``V ↦ Θ · V`` for hermitian fields ``V`` of shape ``(N, k, k)``
    (module docstring); the chart transitions are computed here, once."""
    import jax.numpy as jnp

    k = cloud.dim
    N = cloud.npoints
    src = jnp.asarray(_unit(cloud.points))
    q = jnp.asarray(cloud.weights)
    norm = (2.0 * np.pi * sigma**2) ** (-k)
    plan = []
    for chart, idx in cloud.chart_groups().items():
        T, _ = cloud.transition_to(chart)
        plan.append((jnp.asarray(idx), jnp.asarray(T), block or block_size(idx.size, N)))

    def apply(V):
        out = jnp.zeros_like(V)
        for idx, T, b in plan:
            Vc = jnp.swapaxes(T, 1, 2) @ V @ jnp.conj(T)
            flat = (Vc * q[:, None, None]).reshape(N, k * k)
            res = _gaussian_block_sum(jnp, src[idx], src, flat, sigma, b)
            out = out.at[idx].set(norm * res.reshape(-1, k, k))
        return out

    return apply


def fs_gaussian_dense(cloud, V, sigma: float):
    """The naive way, for tests: the N × N kernel matrix (cy.fs_distance_matrix) per chart."""
    from metricflow.cy import fs_distance_matrix

    k = cloud.dim
    D = fs_distance_matrix(cloud.points)
    K = (2.0 * np.pi * sigma**2) ** (-k) * np.exp(-D**2 / (2.0 * sigma**2)) * cloud.weights[None, :]
    out = np.zeros_like(np.asarray(V))
    for chart, idx in cloud.chart_groups().items():
        Vc = cloud.to_chart(V, chart)
        out[idx] = np.einsum("ij,jab->iab", K[idx], Vc)
    return out


def _targets_by_chart(targets):
    for label in np.unique(targets.charts):
        idx = np.flatnonzero(targets.charts == label)
        yield (int(targets.patch[idx[0]]), int(targets.elim[idx[0]])), idx


def _check_targets(cloud, values, targets):
    from metricflow.cy import PointSet
    from metricflow.errors import InvalidInputError

    if not isinstance(targets, PointSet):
        raise InvalidInputError("targets", f"expected a metricflow.cy.PointSet, got {type(targets).__name__}")
    if targets.surface.n_ambient != cloud.surface.n_ambient:
        raise InvalidInputError("targets", "the target points lie in another projective space than the cloud's")
    values = np.asarray(values)
    if values.shape[0] != cloud.npoints:
        raise InvalidInputError("values", f"expected values at the {cloud.npoints} points of the cloud, "
                                f"got shape {values.shape}")
    return values


def fs_gaussian_extend(cloud, values, targets, sigma: float) -> np.ndarray:
    """``Θ · values`` at the points of ``targets`` (a PointSet), each in its own chart (numpy, blocked)."""
    values = _check_targets(cloud, values, targets)
    k = cloud.dim
    N = cloud.npoints
    out = np.zeros((len(targets), k, k), dtype=np.result_type(values.dtype, np.float64))
    src = _unit(cloud.points)
    for chart, idx in _targets_by_chart(targets):
        flat = (cloud.to_chart(values, chart) * cloud.weights[:, None, None]).reshape(N, k * k)
        res = _gaussian_block_sum(np, _unit(targets.points[idx]), src, flat, sigma,
                                  block_size(idx.size, N))
        out[idx] = (2.0 * np.pi * sigma**2) ** (-k) * res.reshape(-1, k, k)
    return out


def nearest_indices(cloud, targets) -> np.ndarray:
    """Index of the cloud point nearest (in FS distance) to each target, by blocks of the
    overlap |<u, v>| = cos d (monotone in d, so the largest overlap is the nearest)."""
    src = np.conj(_unit(cloud.points)).T
    tz = _unit(targets.points)
    b = block_size(len(targets), cloud.npoints)
    return np.concatenate([np.argmax(np.abs(tz[s:s + b] @ src), axis=1) for s in range(0, len(targets), b)])


def nearest_extend(cloud, values, targets) -> np.ndarray:
    """The value of the nearest cloud point at each target, written in the target's chart."""
    from metricflow.cy import transform_metric

    values = _check_targets(cloud, values, targets)
    nn = nearest_indices(cloud, targets)
    out = np.zeros((len(targets),) + values.shape[1:], dtype=values.dtype)
    for chart, idx in _targets_by_chart(targets):
        out[idx] = transform_metric(cloud.pointset.subset(nn[idx]), values[nn[idx]], chart)
    return out
