"""The frozen kernels of section 3.2 as blocked sums over a point cloud, for the kernel
metric flows of :mod:`metricflow.experiments.cy_kernels` (Table 1, Figure 3). The sum itself
is the one of :mod:`metricflow.kernels.pointcloud` (the engine's Gaussian runs the same code);
this module adds the paper's scalar kernels, clusters, the paper's one-chart mode, and a cache
of the frozen kernel's blocks.

The paper's update is plain gradient descent through a frozen kernel (eq. 2.8, first line,
a sum over the training batch B):

    Δg(x) = −lr Σ_{x' ∈ B} Θ(x, x') ∂σ/∂g(x')                                    (2.8)

with σ the σ-measure (B.11). The kernel is component-wise, Θ_{ijkl} = δ_ik δ_jl Θ (eq. 2.23,
as in 3.5). Two ways to add components at different points:

* ``charts="one"`` — the paper's (section 3.1): all points rejection-sampled into one chart
  (:func:`metricflow.cy.sample_in_chart`), the components of the plain gradient summed as
  they are: ``values`` is ``−∂σ/∂g / ω`` (:func:`metricflow.flows.pointcloud.sigma_gradient`)
  and the update ``lr Σ_j Θ(x, x_j) ω_j values_j``. With a positive semi-definite Θ this is a
  descent direction: dσ = −lr Σ_ij Θ_ij ω_i ω_j ⟨V_i, V_j⟩ ≤ 0.
* ``charts="transport"`` — points in their own best charts; ``values`` is the engine's
  velocity, the FS-natural gradient (a metric-type tensor), summed in C^{n+1} by (★) of
  :mod:`metricflow.kernels.pointcloud`: a descent direction for every PSD Θ, in any charts.

Scalar kernels Θ(x, x') (:class:`CloudKernel`):

* ``printed``: ``exp(−d/(2σ))`` — eq. (3.5) as printed, d the FS distance (3.2);
* ``gaussian``: ``exp(−d²/(2σ²))`` — the Gaussian in d that (3.5)'s words describe
  (unnormalised: the engine's :class:`~metricflow.kernels.gaussian.Gaussian` is this times
  ``(2πσ²)^{−k}``, evaluated by the same function);
* ``relu``: the infinite-width NTK of a one-hidden-layer ReLU network (eq. 2.9-2.12;
  :func:`metricflow.kernels.mlp.mlp_kernels`) on the real and imaginary parts of the unit
  homogeneous coordinates (z scaled so that its largest coordinate is real positive);
* ``delta``: the nearest training point (:class:`~metricflow.kernels.nearest.Nearest`).

``labels`` restrict every sum to one cluster (the paper's clustered mode, section 3.1): a
target takes contributions only from sources of its own cluster. Memory: ``block × N``
kernel values at a time (linear in N); the N × N matrix is never formed.

Precision. The Gaussian in d is computed from one real product ``cos 2d = T·S`` per block
(:func:`metricflow.kernels.pointcloud.gram_features`), in float64 by default or, with
``CloudKernel(..., precision="float32")``, in float32: the product, arccos and exp in float32
(about half the cost: the SIMD loops and the GEMMs process twice the numbers), the tiles'
sums accumulated in float64. :func:`float32_weight_error` bounds the weights' error (≤ 2.8·10⁻⁴
relative at σ = 0.1 where they exceed 2⁻⁶⁰; it grows as 1/σ²), and with the tiles' float32 products
the sum is within ``≈ 1.6·10⁻⁴ Σ_j Θ_ij |f_j|`` of float64's at σ = 0.1 (tests/cy/test_cy_kernel_precision.py);
float64 stays the default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metricflow.errors import InvalidInputError
from metricflow.kernels.pointcloud import (
    BLOCK,
    _unit,
    ambient_sum,
    block_size,
    blocked_sum,
    gaussian_of_cos2d,
    gram_features,
    pack,
    symmetric_blocked_sum,
    unpack,
)

KINDS = ("relu", "gaussian", "delta")
FORMS = ("printed", "gaussian")
PRECISIONS = ("float64", "float32")


@dataclass(frozen=True)
class CloudKernel:
    """A scalar frozen kernel of section 3.2 (module docstring)."""

    kind: str
    sigma: float = 30.0
    form: str = "printed"
    w_std: float = 5.716
    b_std: float = 80.52
    precision: str = "float64"

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InvalidInputError("kernel", f"expected one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.form not in FORMS:
            raise InvalidInputError("form", f"expected one of {', '.join(FORMS)}, got {self.form!r}")
        if self.precision not in PRECISIONS:
            raise InvalidInputError("precision", f"expected one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.precision == "float32" and not self._gram:
            raise InvalidInputError("precision", "float32 is implemented for the Gaussian in d only: use "
                                    "--kernel gaussian --form gaussian (the printed form (3.5) runs in float64)")
        for name in ("sigma", "w_std", "b_std"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and np.isfinite(v) and v > 0):
                raise InvalidInputError(name.replace("_", "-"), f"need a finite positive number, got {v!r}")

    @property
    def _gram(self) -> bool:
        return self.kind == "gaussian" and self.form == "gaussian"

    @property
    def dtype(self):
        """The dtype of the kernel's blocks (``precision``; see :func:`float32_weight_error`)."""
        return np.dtype(self.precision)

    def sides(self, unit):
        """``(as targets, as sources)``: what the blocks are computed from, once per point set —
        the Gaussian in d: :func:`metricflow.kernels.pointcloud.gram_features`, in ``precision``;
        the other kernels: the unit coordinates themselves."""
        if self._gram:
            return gram_features(unit, self.dtype)
        return unit, unit

    def block(self, t, s) -> np.ndarray:
        """Θ between the targets' and the sources' :meth:`sides`, ``(len(t), len(s))``: for the
        Gaussian in d one real product ``t sᵀ = cos 2d`` and :func:`~metricflow.kernels.
        pointcloud.gaussian_of_cos2d`."""
        if self._gram:
            return gaussian_of_cos2d(t @ s.T, self.sigma)
        return self.weights(t, s)

    def weights(self, targets_unit, sources_unit) -> np.ndarray:
        """Θ between unit homogeneous points, ``(len(targets), len(sources))``."""
        if self._gram:
            return self.block(self.sides(targets_unit)[0], self.sides(sources_unit)[1])
        if self.kind == "relu":
            from metricflow.kernels.mlp import mlp_kernels

            # targets padded to a multiple of BLOCK rows: one JAX compilation per source count
            n = len(targets_unit)
            x = features(targets_unit)
            x = np.concatenate([x, np.zeros(((-n) % BLOCK, x.shape[1]))])
            return mlp_kernels(x, features(sources_unit), activation="relu", depth=1,
                               w_std=self.w_std, b_std=self.b_std)["ntk"][:n]
        return np.exp(-fs_distance_unit(targets_unit, sources_unit) / (2.0 * self.sigma))


#: float32 unit round-off, and the ulp bound assumed for numpy's float32 arccos and exp (SIMD
#: code: ≤ 4 ulp, i.e. a relative error ≤ 8u)
U32 = 2.0**-24
ULPS = 4


def float32_weight_error(d, sigma: float, n1: int = 5) -> np.ndarray:
    """An upper bound on ``|K̂ − K|`` for the float32 Gaussian in d, ``K = exp(−d²/(2σ²))`` at FS
    distance ``d`` (3.2), points of P^{n1−1}. The blocks (:meth:`CloudKernel.block`) compute
    ``x = T·S = cos 2d`` as a float32 product of m = n1² + 1 terms from features rounded to
    float32 (:func:`metricflow.kernels.pointcloud.gram_features`, ``Σ_k |T_k S_k| ≤ 3``), so
    (Higham's γ_m = m u / (1 − m u))

        |x̂ − x| ≤ ε = 3 ((1 + u)² − 1 + γ_m (1 + u)²);

    arccos is monotone, so ``a = 2d = arccos x`` moves by at most ``A = max(arccos(x − ε) − a,
    a − arccos(x + ε))`` (clipped to [−1, 1]; ≈ √(2ε) at the ends, ε / sin a between), plus
    arccos's own 8u relative; the exponent ``−â²/(8σ²)`` is three float32 roundings of â², and
    exp adds 8u relative; float32 underflow (d²/(2σ²) > 87) loses at most 2⁻¹²⁶. Hence

        |K̂ − K| ≤ K (e^{Δ} (1 + 8u) − 1) + 2⁻¹²⁶,
        Δ = (δa (2a + δa) + 4u (a + δa)²) / (8σ²),  δa = A + 8u (a + A).

    ε ≈ 84 u = 5·10⁻⁶: Δ ≈ ε/(4σ²), a relative error of the weights of 1.3·10⁻⁴ at d = 0
    rising to 2.8·10⁻⁴ at d = 0.91 (where they fall below 2⁻⁶⁰) for σ = 0.1, ≤ 2·10⁻⁶ for
    Table 1's σ = 30 (the arccos and exp roundings)."""
    u, m = U32, n1 * n1 + 1
    gamma = m * u / (1 - m * u)
    eps = 3.0 * ((1 + u) ** 2 - 1 + gamma * (1 + u) ** 2)
    a = 2.0 * np.asarray(d, dtype=float)
    x = np.cos(a)
    A = np.maximum(np.arccos(np.clip(x - eps, -1, 1)) - a, a - np.arccos(np.clip(x + eps, -1, 1)))
    da = A + 2 * ULPS * u * (a + A)
    delta = (da * (2 * a + da) + 4 * u * (a + da) ** 2) / (8.0 * sigma**2)
    K = np.exp(-(d**2) / (2.0 * sigma**2))
    return K * (np.exp(delta) * (1 + 2 * ULPS * u) - 1) + 2.0**-126


def fs_distance_unit(tu, su) -> np.ndarray:
    """FS distance (3.2) between homogeneous points, accurate near 0 (:func:`metricflow.cy.fs_distance_matrix`:
    ``arccos`` alone would turn round-off of 1e-16 into distances of 1e-8, eq. 3.4)."""
    from metricflow import cy

    return cy.fs_distance_matrix(tu, su)


def features(unit) -> np.ndarray:
    """Real network inputs of unit homogeneous points: (Re z, Im z) with the phase fixed by
    making the largest coordinate real positive (the patch normalisation of section 3.1)."""
    unit = np.asarray(unit)
    p = np.argmax(np.abs(unit), axis=1)
    top = unit[np.arange(len(unit)), p]
    z = unit * (np.abs(top) / top)[:, None]
    return np.concatenate([z.real, z.imag], axis=1)


#: kernel values kept between steps (the kernel is frozen): at most this many per cache (256 MiB)
CACHE_VALUES = 2**25


class FrameCache:
    """What a run computes once for its frozen kernel: the ambient maps ``B = F g_FS⁻¹`` of the
    cloud (:func:`metricflow.kernels.pointcloud.ambient_map`), the targets' unit coordinates and
    tangent embeddings, and the kernel's blocks while they fit in :data:`CACHE_VALUES` (beyond,
    they are recomputed at every call: memory stays linear)."""

    def __init__(self, cloud):
        import threading

        self.cloud = cloud
        self._lock = threading.Lock()          # blocks are computed by several threads (blocked_sum)
        self._B = None
        self._targets = {}
        self._blocks = {}
        self._size = 0

    def block(self, key, compute):
        with self._lock:
            if key in self._blocks:
                return self._blocks[key]
        K = compute()
        with self._lock:
            if key not in self._blocks and self._size + K.size <= CACHE_VALUES:
                self._blocks[key] = K
                self._size += K.size
        return K

    @property
    def ambient_map(self):
        from metricflow.kernels.pointcloud import ambient_map

        if self._B is None:
            self._B = ambient_map(self.cloud.embedding, self.cloud.reference_metric())
        return self._B

    def targets(self, targets):
        from metricflow.kernels.pointcloud import target_geometry

        key = id(targets)
        if key not in self._targets:
            self._targets[key] = (targets, target_geometry(targets))
        return self._targets[key][1]


def _weights(kernel, frames, key, source_labels, target_labels):
    """The ``weights(tb, start)`` callback of :func:`metricflow.kernels.pointcloud.blocked_sum`:
    the kernel's block (cached), restricted to equal labels when labels are given."""
    src = kernel.sides(_unit(frames.cloud.points))[1]

    def weights(tb, start):
        def compute():
            K = kernel.block(kernel.sides(tb)[0], src)
            if source_labels is not None:
                rows = np.asarray(target_labels)[start:start + len(tb)]
                K = K * (rows[:, None] == np.asarray(source_labels)[None, :])
            return K

        return frames.block(key + (start, len(tb)), compute)

    return weights


def kernel_sum(kernel: CloudKernel, cloud, values, targets, *, frames: FrameCache | None = None,
               source_labels=None, target_labels=None, block: int | None = None,
               charts: str = "transport") -> np.ndarray:
    """``Σ_j Θ(t, x_j) ω_j values_j`` at the points of the PointSet ``targets``, each in its own
    chart, summed by (★) of :mod:`metricflow.kernels.pointcloud` (``values`` metric-type);
    restricted to equal labels when labels are given. ``charts="one"``: the paper's way (every
    point in one chart, plain components summed)."""
    values = np.asarray(values)
    frames = frames or FrameCache(cloud)
    tu, tF = frames.targets(targets)
    if targets is cloud.pointset and (source_labels is None or target_labels is source_labels):
        total = _symmetric_total(kernel, frames, (kernel, charts, "tiles"), source_labels, block)
    else:
        total = _total(kernel, frames, (id(targets), kernel, charts), tu, source_labels, target_labels, block)
    if charts == "one":
        _check_one_chart(cloud, targets)
        return unpack(total(pack(values) * cloud.weights[:, None]), cloud.dim)
    return ambient_sum(total, cloud, values, tF, B=frames.ambient_map)


def _symmetric_total(kernel, frames, key, labels, block):
    """``flat ↦ Σ_j Θ(x_i, x_j) flat_j`` at the cloud's own points: the symmetric kernel by
    tiles computed once for both triangles (:func:`metricflow.kernels.pointcloud.
    symmetric_blocked_sum`), cached like the blocks."""
    t, s = kernel.sides(_unit(frames.cloud.points))
    b = block or BLOCK

    def tile(a, c):
        def compute():
            K = kernel.block(t[a:a + b], s[c:c + b])
            if labels is not None:
                lab = np.asarray(labels)
                K = K * (lab[a:a + b, None] == lab[None, c:c + b])
            return K

        return frames.block(key + (a, c, b), compute)

    return lambda flat: symmetric_blocked_sum(tile, flat, b, dtype=kernel.dtype)


def _total(kernel, frames, key, tu, source_labels, target_labels, block):
    """``flat ↦ Σ_j Θ(t, x_j) flat_j`` at the targets ``tu`` by the kernel's (cached) blocks."""
    weights = _weights(kernel, frames, key, source_labels, target_labels)
    b = block or block_size(len(tu), frames.cloud.npoints)
    return lambda flat: blocked_sum(weights, tu, flat, b)


def kernel_mass(kernel: CloudKernel, cloud, targets, *, frames: FrameCache | None = None, source_labels=None,
                target_labels=None, charts: str = "transport") -> np.ndarray:
    """``Σ_j Θ(t, x_j) ω_j`` at each target: the kernel's mass, by the same blocks (and cache)
    as :func:`kernel_sum` (the normalisations of the updates, section 3.2)."""
    frames = frames or FrameCache(cloud)
    tu, _ = frames.targets(targets)
    total = _total(kernel, frames, (id(targets), kernel, charts), tu, source_labels, target_labels, None)
    return total(cloud.weights[:, None])[:, 0]


def _check_one_chart(cloud, targets):
    charts = {(int(p), int(e)) for p, e in zip(np.r_[cloud.pointset.patch, targets.patch],
                                                  np.r_[cloud.pointset.elim, targets.elim], strict=True)}
    if len(charts) != 1:
        raise InvalidInputError("charts", "the paper's one-chart sum needs every point in one chart, "
                                f"got {sorted(charts)}")
