"""The blocked Fubini–Study kernel sum on a point cloud — the one implementation behind the
engine's :class:`~metricflow.kernels.gaussian.Gaussian` on a :class:`~metricflow.manifolds.
PointCloud` (its operator and ``extend``) and the frozen kernels of the Table-1 experiments
(:mod:`metricflow.kernels.cloud_sums`); and the nearest-neighbour extension to new points.

The sum. For a scalar kernel K(x, x') and Monte Carlo weights ω_j of dVol_FS (eq. 2.12),

    (Θ · M)(x_i) = Σ_j K(x_i, x_j) ω_j  M_j carried from x_j to x_i.

Which tensor, and how it is carried. The σ-measure's gradient ∂σ/∂g at a point is of
inverse-metric type: the pairing ``tr(∂σ δg)`` is chart-independent, so under a chart change
(``g' = Tᵀ g T̄``) it transforms as ``T̄⁻¹ (∂σ) T⁻ᵀ`` (for σ = f(det g) it is ∝ g⁻¹). An update
of the metric must be of metric type. The flow's velocity is therefore the FS-natural
gradient, ``M = −g_FS (δσ/δg) g_FS`` (:func:`metricflow.flows.pointcloud.sigma_velocity`), a
metric-type field, and kernels map metric-type fields to metric-type fields. To add tensors
of different points they are written in one space, C^{n+1}: with ``F`` the tangent embedding
(:func:`metricflow.manifolds.pointcloud.tangent_embedding`, ``Fᴴ F = g_FS``, columns spanning
T_xX ⊂ C^{n+1}), a metric-type M at x is the hermitian (n+1) × (n+1) matrix

    A = F g_FS⁻¹ M g_FS⁻¹ Fᴴ          (= F (δσ/δg) Fᴴ for the natural gradient),

independent of the chart and of the phase of the homogeneous coordinates; the sum is taken
there and read back at x_i as a metric-type tensor of x_i's own chart:

    (Θ · M)_i = F_iᴴ (Σ_j K_ij ω_j A_j) F_i.                                     (★)

Descent. Along (★) with M = −g_FS (δσ/δg) g_FS, i.e. A_j = −F_j (δσ/δg_j) F_jᴴ,
dσ/dt = Σ_i ω_i tr((δσ/δg_i) Ṁ_i) = −Σ_ij ω_i ω_j K_ij ⟨A_i, A_j⟩_F ≤ 0 whenever the scalar
matrix K_ij is positive semi-definite (Schur: K ∘ (Gram matrix of the A's) is PSD): a descent
direction for every PSD kernel, whatever the charts of the points. (The Gaussian of the
geodesic distance is PSD on the narrow scales where it is selective; the ReLU NTK always.)
The earlier way — V read in the FS-orthonormal frames of the target's chart at both points —
paired the target's frame with the source's, asymmetrically across charts, and was not a
descent direction: with wide kernels σ rose (docs/cy-kernels.md). σ → 0: Θ → ω_i δ, and
``F_iᴴ F_i g⁻¹ M g⁻¹ F_iᴴ F_i = M``: the local flow of the same velocity. A contribution
from x_j reaches x_i through ``F_iᴴ F_j``, a contraction (≈ unitary for nearby points, deviating
by O(d²)), so g_FS is carried to ``F_iᴴ (Σ_j K_ij ω_j Π_j) F_i`` (Π_j the projector onto T_{x_j}),
not exactly to a multiple of g_FS(x_i). No chart transition is needed: no point is dropped.

Memory and cost. Sources are packed as (n+1)² reals (the hermitian A: diagonal, real and
imaginary upper parts; 25 for the quintic); the kernel is evaluated ``block`` targets at a
time against all N sources (``block × N`` values, linear in N; the N × N matrix is never
formed), from ``cos 2d = 2 |⟨u, v⟩|² − 1`` of the unit homogeneous coordinates by one real
matrix product per block (:func:`gram_features`: the (n+1)² reals of ``u u†``), in float64
or, for the experiments' Gaussian on request, float32 (:mod:`metricflow.kernels.cloud_sums`).
At the sources themselves a symmetric kernel is taken by (block × block) tiles, each computed
once for both triangles (:func:`symmetric_blocked_sum`). The same loops run in numpy (threads
over blocks; experiments: any kernel, clusters, cached frozen blocks) and, for
:func:`blocked_sum`, in JAX (the engine's operator, traced by ``jax.lax.map`` inside
``run_flow``'s compiled step).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

#: targets per block of the blocked sum: block × N kernel values at a time
BLOCK = 256


def block_size(n_targets: int, n_sources: int, budget: int = 2**24) -> int:
    """Targets per block: :data:`BLOCK`, fewer when ``block × n_sources`` would exceed
    ``budget`` kernel values (128 MiB of float64), never more than ``n_targets``."""
    return int(max(1, min(BLOCK, n_targets, budget // max(n_sources, 1))))


def _unit(z):
    z = np.asarray(z, dtype=np.complex128)
    return z / np.linalg.norm(z, axis=-1, keepdims=True)


def _h(a, xp=np):
    return xp.conj(xp.swapaxes(a, -1, -2))


# ------------------------------------------------------------------ packing hermitian matrices
@lru_cache(maxsize=8)
def _packing(n: int):
    """Indices into [Re A.flat, Im A.flat] of the n² reals of a hermitian n × n matrix, and
    the (n², 2n²) real matrix that unpacks them."""
    iu, ju = np.triu_indices(n)
    strict = iu < ju
    take = np.r_[iu * n + ju, n * n + (iu * n + ju)[strict]]
    U = np.zeros((n * n, 2 * n * n))
    for r, (i, j) in enumerate(zip(iu, ju, strict=True)):
        U[r, i * n + j] = U[r, j * n + i] = 1.0
    for r, (i, j) in enumerate(zip(iu[strict], ju[strict], strict=True)):
        U[len(iu) + r, n * n + i * n + j] = 1.0
        U[len(iu) + r, n * n + j * n + i] = -1.0
    return take, U


def pack(A, xp=np):
    """Hermitian (N, n, n) -> (N, n²) reals (diagonal, Re and Im of the upper part)."""
    n = A.shape[-1]
    take, _ = _packing(n)
    flat = xp.concatenate([xp.real(A).reshape(-1, n * n), xp.imag(A).reshape(-1, n * n)], axis=1)
    return flat[:, take]


def unpack(P, n: int, xp=np):
    """The inverse of :func:`pack`: (N, n²) reals -> hermitian (N, n, n)."""
    _, U = _packing(n)
    full = P @ xp.asarray(U)
    return (full[:, : n * n] + 1j * full[:, n * n:]).reshape(-1, n, n)


# ------------------------------------------------------------------ the ambient representation (★)
def ambient_map(F, g):
    """``B = F g⁻¹`` per point, so that a metric-type M has the ambient form ``B M Bᴴ``."""
    return np.linalg.solve(g, _h(F)).conj().swapaxes(-1, -2)


def to_ambient(B, M, xp=np):
    """Metric-type tensors M (N, k, k) as hermitian (N, n+1, n+1) matrices ``B M Bᴴ``."""
    return B @ M @ _h(B, xp)


def from_ambient(F, A, xp=np):
    """Hermitian (N, n+1, n+1) matrices read as metric-type tensors ``Fᴴ A F`` of each point's chart."""
    return _h(F, xp) @ A @ F


# ------------------------------------------------------------------ overlaps (nearest neighbours)
def source_matrix(su):
    """The real (2, 2(n+1), N) pair ``[Re sᵀ; Im sᵀ]``, ``[Im sᵀ; −Re sᵀ]`` of unit sources, so
    that ``[Re t, Im t] · Y[0] = Re ⟨t, s⟩`` and ``[Re t, Im t] · Y[1] = Im ⟨t, s⟩`` (real matrix
    products into contiguous buffers: faster than the complex product)."""
    su = np.asarray(su)
    re, im = su.real.T, su.imag.T
    return np.stack([np.concatenate([re, im], axis=0), np.concatenate([im, -re], axis=0)])


def overlaps(tb, Y):
    """``|⟨t, s⟩|² = cos² d`` (d the FS distance, eq. 3.2) of unit targets ``tb`` (b, n+1)
    against the sources of ``Y`` (:func:`source_matrix`), clipped to 1 (to ~1e-16: the nearest
    neighbour's ordering; the kernels use :func:`gram_features`)."""
    X = np.concatenate([tb.real, tb.imag], axis=1)
    re, im = X @ Y[0], X @ Y[1]
    np.multiply(re, re, out=re)                     # in place, on contiguous buffers
    np.multiply(im, im, out=im)
    np.add(re, im, out=re)
    return np.minimum(re, 1.0, out=re)


# ------------------------------------------------------------------ the overlap as one real product
def gram_features(unit, dtype=np.float64):
    """``(T, S)``, real (N, (n+1)² + 1) each, of unit homogeneous points such that the real
    matrix product ``T_a · S_b = 2 |⟨a, b⟩|² − 1 = cos 2d`` (d the FS distance, eq. 3.2): the
    (n+1)² reals of the hermitian ``z z†`` (|z_i|², √2 Re z_i z̄_j, √2 Im z_i z̄_j for i < j),
    whose Frobenius product ``⟨z z†, w w†⟩`` is ``|⟨z, w⟩|²``, scaled by √2, and a last column
    1 (T) or −1 (S). One GEMM per block, no elementwise square and no square root after it
    (:func:`gaussian_of_cos2d`); in ``dtype`` (float32 halves the product's cost)."""
    u = np.asarray(unit)
    iu, ju = np.triu_indices(u.shape[1], 1)
    P = u[:, iu] * np.conj(u[:, ju])
    Z = np.sqrt(2.0) * np.concatenate([np.abs(u) ** 2, np.sqrt(2.0) * P.real, np.sqrt(2.0) * P.imag], axis=1)
    one = np.ones((len(u), 1))
    return (np.ascontiguousarray(np.concatenate([Z, one], axis=1), dtype=dtype),
            np.ascontiguousarray(np.concatenate([Z, -one], axis=1), dtype=dtype))


def gaussian_of_cos2d(x, sigma: float, xp=np):
    """``exp(−d²/(2σ²))`` from ``x = cos 2d`` (:func:`gram_features`), ``d = arccos(x)/2``; numpy:
    in place and in x's dtype (x is overwritten). Stable in absolute terms although arccos is
    not near ±1: an error ε in x moves d by at most ``arccos(1 − ε)/2 ≈ √(ε/2)`` (at d = 0 and
    π/2) and by ``≈ ε / (2 sin 2d)`` in between, so d² by ``O(ε)`` near 0 and the exponent by
    ``O(ε/σ²)`` — the float32 bound is derived in :func:`metricflow.kernels.cloud_sums.
    float32_weight_error` (float64: ε ≈ 10⁻¹⁴, the exponent to ~2·10⁻¹³ at σ = 0.1)."""
    if xp is not np:
        a = xp.arccos(xp.clip(x, -1.0, 1.0))
        return xp.exp(-(a * a) / (8.0 * sigma**2))
    np.clip(x, -1.0, 1.0, out=x)
    np.arccos(x, out=x)
    np.multiply(x, x, out=x)
    np.multiply(x, x.dtype.type(-1.0 / (8.0 * sigma**2)), out=x)
    return np.exp(x, out=x)


def blocked_sum(weights, targets, flat, block: int, xp=np, workers: int | None = None):
    """``Σ_j W[t, j] flat_j`` for all targets, ``block`` targets at a time: ``weights(tb, start)``
    returns the (len(tb), N) kernel block (``start``: the block's first row; None under JAX).
    numpy: the blocks shared by ``workers`` threads (default: the CPU count, at most 4; numpy
    releases the GIL in its loops and BLAS, which runs one thread each); jax.numpy (inside a
    traced function): ``jax.lax.map`` over padded blocks."""
    n = targets.shape[0]
    if xp is np:
        import os
        from concurrent.futures import ThreadPoolExecutor

        from metricflow.cy._blas import blas_threads

        starts = range(0, n, block)
        workers = workers or min(4, os.cpu_count() or 1)
        with blas_threads(1), ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(pool.map(lambda s: weights(targets[s:s + block], s) @ flat, starts))
        return np.concatenate(parts)
    import jax

    pad = (-n) % block
    tp = xp.concatenate([targets, xp.zeros((pad,) + targets.shape[1:], targets.dtype)]) if pad else targets
    out = jax.lax.map(lambda tb: weights(tb, None) @ flat, tp.reshape((-1, block) + targets.shape[1:]))
    return out.reshape(-1, flat.shape[1])[:n]


def symmetric_blocked_sum(tile, flat, block: int, workers: int | None = None, dtype=None):
    """``Σ_j W[i, j] flat_j`` at the sources themselves for a symmetric kernel (W = Wᵀ), numpy:
    ``tile(a, c)`` returns W on rows a:a+block, columns c:c+block; each tile with c ≥ a is
    computed once and used twice (``K flat_c`` into rows a, ``Kᵀ flat_a`` into rows c), which
    halves the kernel evaluations of :func:`blocked_sum`, and a (block × block) tile stays in
    cache. Rows of tiles are dealt to ``workers`` threads, each with its own (N, m) accumulator
    (memory ``workers × N × m``: linear in N). ``dtype``: that of the tiles' products with
    ``flat`` (float32 tiles: ``flat`` rounded to float32 once); the accumulators are float64."""
    import os
    from concurrent.futures import ThreadPoolExecutor

    from metricflow.cy._blas import blas_threads

    n, m = flat.shape
    flat = np.asarray(flat, dtype=dtype)
    starts = list(range(0, n, block))
    workers = max(1, min(workers or min(4, os.cpu_count() or 1), len(starts)))

    def rows(w):
        acc = np.zeros((n, m))
        for i in range(w, len(starts), workers):
            a = starts[i]
            for c in starts[i:]:
                K = tile(a, c)
                acc[a:a + block] += K @ flat[c:c + block]
                if c != a:
                    acc[c:c + block] += K.T @ flat[a:a + block]
        return acc

    with blas_threads(1), ThreadPoolExecutor(max_workers=workers) as pool:
        return sum(pool.map(rows, range(workers)))


def ambient_sum(total, cloud, values, targets_F, *, xp=np, B=None):
    """(★): ``F_tᴴ (Σ_j W[t, j] ω_j B_j M_j B_jᴴ) F_t`` at the targets (tangent embeddings
    ``targets_F``), where ``total(flat)`` returns ``Σ_j W[t, j] flat_j`` (:func:`blocked_sum` with a
    kernel's blocks)."""
    n1 = cloud.points.shape[1]
    B = xp.asarray(ambient_map(cloud.embedding, cloud.reference_metric()) if B is None else B)
    flat = pack(to_ambient(B, values, xp), xp) * xp.asarray(cloud.weights)[:, None]
    return from_ambient(targets_F, unpack(total(flat), n1, xp), xp)


# ------------------------------------------------------------------ the engine's Gaussian
def gaussian_norm(sigma: float, k: int) -> float:
    """``(2πσ²)^{−k}``: K_σ integrates to 1 over R^{2k} (to 1 + O(σ²) over X), so Θ → δ as σ → 0
    once the sum resolves the kernel (N σ^{2k} large)."""
    return (2.0 * np.pi * sigma**2) ** (-k)


def fs_gaussian_operator(cloud, sigma: float, block: int | None = None):
    """The pure, jittable ``M ↦ Θ · M`` for metric-type hermitian fields (N, k, k) on the cloud,
    ``K = (2πσ²)^{−k} e^{−d²/(2σ²)}`` in (★); the embeddings are computed here, once."""
    import jax.numpy as jnp

    T, S = gram_features(_unit(cloud.points))
    St, tu = jnp.asarray(S.T), jnp.asarray(T)
    F = jnp.asarray(cloud.embedding)
    B = jnp.asarray(ambient_map(cloud.embedding, cloud.reference_metric()))
    norm = gaussian_norm(sigma, cloud.dim)

    b = block or block_size(cloud.npoints, cloud.npoints)

    def weights(tb, _):
        return gaussian_of_cos2d(tb @ St, sigma, jnp)

    def apply(M):
        return norm * ambient_sum(lambda flat: blocked_sum(weights, tu, flat, b, jnp), cloud, M, F, xp=jnp, B=B)

    return apply


def target_geometry(targets):
    """Unit coordinates and tangent embeddings of a PointSet's points (the targets of (★))."""
    from metricflow.manifolds.pointcloud import tangent_embedding

    return _unit(targets.points), tangent_embedding(targets)


def fs_gaussian_extend(cloud, values, targets, sigma: float) -> np.ndarray:
    """``Θ · values`` at the points of ``targets`` (a PointSet), each in its own chart (numpy, blocked)."""
    values = _check_targets(cloud, values, targets)
    tu, tF = target_geometry(targets)
    tu = gram_features(tu)[0]
    St = gram_features(_unit(cloud.points))[1].T

    def weights(tb, _):
        return gaussian_of_cos2d(tb @ St, sigma)

    b = block_size(len(tu), cloud.npoints)
    return gaussian_norm(sigma, cloud.dim) * ambient_sum(lambda flat: blocked_sum(weights, tu, flat, b), cloud,
                                                         values, tF)


def fs_gaussian_dense(cloud, M, sigma: float):
    """The naive way, for tests: the N × N kernel matrix (cy.fs_distance_matrix, the stable
    distances) and each source's ambient matrix F g⁻¹ M g⁻¹ Fᴴ formed explicitly."""
    from metricflow.cy import fs_distance_matrix

    D = fs_distance_matrix(cloud.points)
    K = gaussian_norm(sigma, cloud.dim) * np.exp(-D**2 / (2.0 * sigma**2)) * cloud.weights[None, :]
    F, g = cloud.embedding, cloud.reference_metric()
    ginv = np.linalg.inv(g)
    A = F @ ginv @ np.asarray(M) @ ginv @ _h(F)
    return _h(F) @ np.einsum("ij,jab->iab", K, A) @ F


# ------------------------------------------------------------------ new points, nearest neighbour
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


def _targets_by_chart(targets):
    for label in np.unique(targets.charts):
        idx = np.flatnonzero(targets.charts == label)
        yield (int(targets.patch[idx[0]]), int(targets.elim[idx[0]])), idx


def nearest_indices(cloud, targets) -> np.ndarray:
    """Index of the cloud point nearest (in FS distance) to each target, by blocks of the
    overlap |<u, v>| = cos d (monotone in d, so the largest overlap is the nearest)."""
    Y = source_matrix(_unit(cloud.points))
    tz = _unit(targets.points)
    b = block_size(len(targets), cloud.npoints)
    return np.concatenate([np.argmax(overlaps(tz[s:s + b], Y), axis=1) for s in range(0, len(targets), b)])


def nearest_extend(cloud, values, targets) -> np.ndarray:
    """The value of the nearest cloud point at each target, carried isometrically to the
    target's chart: read in the FS-orthonormal (Cholesky) frame of the target's chart at the
    source, put back with that frame at the target (:func:`metricflow.manifolds.pointcloud.
    to_frame`). One source per target and no sum to keep symmetric, so the isometry (which
    carries g_FS to g_FS exactly) is used rather than the contraction of (★); on the cloud's own
    points it is the identity."""
    from metricflow.manifolds.pointcloud import to_frame

    values = _check_targets(cloud, values, targets)
    nn = nearest_indices(cloud, targets)
    out = np.zeros((len(targets),) + values.shape[1:], dtype=np.result_type(values.dtype, np.float64))
    for chart, idx in _targets_by_chart(targets):
        # frames only of the nearest points (one transition of len(idx) points per chart)
        moved = to_frame(cloud.pointset.subset(nn[idx]), values[nn[idx]], chart)
        L = np.linalg.cholesky(targets.g_fs[idx])
        out[idx] = L @ moved @ _h(L)
    return out
