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

Charts and frames. V_j is given in the chart of x_j; it is applied at x_i in x_i's chart c:
first written in c, ``Tᵀ V_j T̄`` with T = dx/dx' the chart transition at x_j
(:func:`metricflow.cy.chart_transition`), then read in the FS-orthonormal (Cholesky) frame
of c at x_j and put back with the frame of c at x_i:

    V_j^{(i)} = L_c(x_i) · L_c(x_j)⁻¹ (Tᵀ V_j T̄) L_c(x_j)⁻ᴴ · L_c(x_i)ᴴ,   L_c Lᴴ_c = g_FS in c.

Component-wise transport (T alone) would add, at x_i, components of tensors at points where
the chart c is badly conditioned (|T| up to 10⁸ on the quintic within the kernel's width),
and the velocity would leave the positive cone; the frames bound each contribution by its
size relative to g_FS, and the FS metric (a parallel tensor) is carried to itself exactly:
Θ g_FS = (Σ_j K_σ(d_ij) ω_j) g_FS. The targets are grouped by chart, so each chart present
costs one pass over the sources (:meth:`PointCloud.to_frame`). Where a transition is
singular (x_j outside the domain of c, detected by :data:`SINGULAR_TRANSITION
<metricflow.manifolds.pointcloud.SINGULAR_TRANSITION>`), x_j's contribution at the points of
c is dropped: its kernel weight is small unless σ is comparable to the distance between x_i
and the boundary of c's domain.

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
    (module docstring); the transitions and frames are computed here, once."""
    import jax.numpy as jnp

    from metricflow.manifolds.pointcloud import frame_map

    k = cloud.dim
    N = cloud.npoints
    src = jnp.asarray(_unit(cloud.points))
    q = jnp.asarray(cloud.weights)
    norm = (2.0 * np.pi * sigma**2) ** (-k)
    L = cloud.fs_frames
    plan = []
    for chart, idx in cloud.chart_groups().items():
        A = frame_map(cloud.pointset, chart)        # Ṽ = A V Aᴴ
        plan.append((jnp.asarray(idx), jnp.asarray(A), jnp.asarray(L[idx]), block or block_size(idx.size, N)))

    def apply(V):
        out = jnp.zeros_like(V)
        for idx, A, Lt, b in plan:
            W = A @ V @ jnp.conj(jnp.swapaxes(A, 1, 2))
            flat = (W * q[:, None, None]).reshape(N, k * k)
            S = _gaussian_block_sum(jnp, src[idx], src, flat, sigma, b).reshape(-1, k, k)
            out = out.at[idx].set(norm * (Lt @ S @ jnp.conj(jnp.swapaxes(Lt, 1, 2))))
        return out

    return apply


def _from_frame(L, S):
    return L @ S @ np.conj(np.swapaxes(L, -1, -2))


def fs_gaussian_dense(cloud, V, sigma: float):
    """The naive way, for tests: the N × N kernel matrix (cy.fs_distance_matrix), chart by chart."""
    from metricflow.cy import fs_distance_matrix

    k = cloud.dim
    D = fs_distance_matrix(cloud.points)
    K = (2.0 * np.pi * sigma**2) ** (-k) * np.exp(-D**2 / (2.0 * sigma**2)) * cloud.weights[None, :]
    out = np.zeros_like(np.asarray(V))
    for chart, idx in cloud.chart_groups().items():
        out[idx] = _from_frame(cloud.fs_frames[idx], np.einsum("ij,jab->iab", K[idx], cloud.to_frame(V, chart)))
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


def _target_frames(targets, idx):
    return np.linalg.cholesky(targets.g_fs[idx])


def fs_gaussian_extend(cloud, values, targets, sigma: float) -> np.ndarray:
    """``Θ · values`` at the points of ``targets`` (a PointSet), each in its own chart (numpy, blocked)."""
    values = _check_targets(cloud, values, targets)
    k = cloud.dim
    N = cloud.npoints
    out = np.zeros((len(targets), k, k), dtype=np.result_type(values.dtype, np.float64))
    src = _unit(cloud.points)
    for chart, idx in _targets_by_chart(targets):
        flat = (cloud.to_frame(values, chart) * cloud.weights[:, None, None]).reshape(N, k * k)
        S = _gaussian_block_sum(np, _unit(targets.points[idx]), src, flat, sigma, block_size(idx.size, N))
        out[idx] = (2.0 * np.pi * sigma**2) ** (-k) * _from_frame(_target_frames(targets, idx), S.reshape(-1, k, k))
    return out


def nearest_indices(cloud, targets) -> np.ndarray:
    """Index of the cloud point nearest (in FS distance) to each target, by blocks of the
    overlap |<u, v>| = cos d (monotone in d, so the largest overlap is the nearest)."""
    src = np.conj(_unit(cloud.points)).T
    tz = _unit(targets.points)
    b = block_size(len(targets), cloud.npoints)
    return np.concatenate([np.argmax(np.abs(tz[s:s + b] @ src), axis=1) for s in range(0, len(targets), b)])


def nearest_extend(cloud, values, targets) -> np.ndarray:
    """The value of the nearest cloud point at each target, carried to the target's chart and
    frame as in the module docstring (so on the cloud's own points it is the identity)."""
    from metricflow.manifolds.pointcloud import to_frame

    values = _check_targets(cloud, values, targets)
    nn = nearest_indices(cloud, targets)
    out = np.zeros((len(targets),) + values.shape[1:], dtype=np.result_type(values.dtype, np.float64))
    for chart, idx in _targets_by_chart(targets):
        # frames only of the nearest points (one transition of len(idx) points per chart)
        moved = to_frame(cloud.pointset.subset(nn[idx]), values[nn[idx]], chart)
        out[idx] = _from_frame(_target_frames(targets, idx), moved)
    return out
