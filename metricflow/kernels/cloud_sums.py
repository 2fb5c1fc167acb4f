"""The frozen kernels of section 3.2 as blocked sums over a point cloud, for the kernel
metric flows of :mod:`metricflow.experiments.cy_kernels` (Table 1, Figure 3).

The paper's update is plain gradient descent through a frozen kernel (eq. 2.8, first line,
a sum over the training batch B):

    Δg(x) = −lr Σ_{x' ∈ B} Θ(x, x') ∂σ/∂g(x')                                    (2.8)

with σ the σ-measure (B.11). The engine's velocity V = −δσ/δg (:func:`metricflow.flows.
pointcloud.sigma_velocity`) is the gradient divided by the quadrature weight ω = Vol_FS/N,
so ``−∂σ/∂g_j = ω_j V_j`` and the update is ``lr · Σ_j Θ(x, x_j) ω_j V_j`` — what
:func:`kernel_sum` computes (with ``values = V``). The kernel is component-wise,
Θ_{ijkl} = δ_ik δ_jl Θ (eq. 2.23, as in 3.5). Two ways to add components at different points:

* ``charts="one"`` — the paper's (section 3.1): all points rejection-sampled into one chart
  (:func:`metricflow.cy.sample_in_chart`), the components of ∂σ/∂g summed as they are. With
  a positive semi-definite Θ this is a descent direction: dσ = −lr Σ_ij Θ_ij ⟨∂_iσ, ∂_jσ⟩ ≤ 0.
* ``charts="transport"`` — points in their own best charts; the gradient V_j (a tensor of
  inverse-metric type: for σ = f(det g) it is ∝ g⁻¹) is first made a metric-type tensor with
  the FS metric, ``g_FS V g_FS`` (the FS-natural gradient; g⁻¹ becomes g), then carried to the
  target's chart and read in the FS-orthonormal frames as the engine's Gaussian does
  (:mod:`metricflow.kernels.pointcloud`). In the orthonormal frames covectors and vectors have
  the same components, so the pairing ⟨∂σ, update⟩ is again Σ Θ_ij ⟨Ṽ_i, R_ij Ṽ_j R_ijᴴ⟩ with
  R_ij the (unitary) change of frames: a descent direction up to the asymmetry of R between
  charts. (Carrying V itself as a metric-type tensor, without the raising, is not a descent
  direction across points: measured, the ReLU NTK then *raises* σ at any learning rate.)

Scalar kernels Θ(x, x') (:class:`CloudKernel`):

* ``printed``: ``exp(−d/(2σ))`` — eq. (3.5) as printed, d the FS distance (3.2);
* ``gaussian``: ``exp(−d²/(2σ²))`` — the Gaussian in d that (3.5)'s words describe
  (unnormalised: the engine's :class:`~metricflow.kernels.gaussian.Gaussian` is this times
  ``(2πσ²)^{−k}``);
* ``relu``: the infinite-width NTK of a one-hidden-layer ReLU network (eq. 2.9-2.12;
  :func:`metricflow.kernels.mlp.mlp_kernels`) on the real and imaginary parts of the unit
  homogeneous coordinates (z scaled so that its largest coordinate is real positive);
* ``delta``: the nearest training point (:class:`~metricflow.kernels.nearest.Nearest`).

``labels`` restrict every sum to one cluster (the paper's clustered mode, section 3.1): a
target takes contributions only from sources of its own cluster. Memory: ``block × N``
kernel values at a time (linear in N); the N × N matrix is never formed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metricflow.errors import InvalidInputError
from metricflow.kernels.pointcloud import BLOCK, _from_frame, _targets_by_chart, _unit, block_size

KINDS = ("relu", "gaussian", "delta")
FORMS = ("printed", "gaussian")


@dataclass(frozen=True)
class CloudKernel:
    """A scalar frozen kernel of section 3.2 (module docstring)."""

    kind: str
    sigma: float = 30.0
    form: str = "printed"
    w_std: float = 5.716
    b_std: float = 80.52

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InvalidInputError("kernel", f"expected one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.form not in FORMS:
            raise InvalidInputError("form", f"expected one of {', '.join(FORMS)}, got {self.form!r}")
        for name in ("sigma", "w_std", "b_std"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and np.isfinite(v) and v > 0):
                raise InvalidInputError(name.replace("_", "-"), f"need a finite positive number, got {v!r}")

    def weights(self, targets_unit, sources_unit) -> np.ndarray:
        """Θ between unit homogeneous points, ``(len(targets), len(sources))``."""
        if self.kind == "relu":
            from metricflow.kernels.mlp import mlp_kernels

            # targets padded to a multiple of BLOCK rows: one JAX compilation per source count
            n = len(targets_unit)
            x = features(targets_unit)
            x = np.concatenate([x, np.zeros(((-n) % BLOCK, x.shape[1]))])
            return mlp_kernels(x, features(sources_unit), activation="relu", depth=1,
                               w_std=self.w_std, b_std=self.b_std)["ntk"][:n]
        d = fs_distance_unit(targets_unit, sources_unit)
        if self.form == "printed":
            return np.exp(-d / (2.0 * self.sigma))
        return np.exp(-(d * d) / (2.0 * self.sigma**2))


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
    """``A_c`` (:func:`metricflow.manifolds.pointcloud.frame_map`) of the cloud for each chart
    asked for, computed once: a source field V has components ``A_c V A_cᴴ`` in the
    FS-orthonormal frame of chart c; and the frozen kernel's blocks while they fit in
    :data:`CACHE_VALUES` (beyond, they are recomputed at every call: memory stays linear)."""

    def __init__(self, cloud):
        self.cloud = cloud
        self._maps = {}
        self._blocks = {}
        self._size = 0

    def block(self, key, compute):
        if key in self._blocks:
            return self._blocks[key]
        K = compute()
        if self._size + K.size <= CACHE_VALUES:
            self._blocks[key] = K
            self._size += K.size
        return K

    def to_frame(self, values, chart):
        from metricflow.manifolds.pointcloud import frame_map

        if chart not in self._maps:
            self._maps[chart] = frame_map(self.cloud.pointset, chart)
        A = self._maps[chart]
        return A @ values @ np.conj(np.swapaxes(A, 1, 2))


def kernel_sum(kernel: CloudKernel, cloud, values, targets, *, frames: FrameCache | None = None,
               source_labels=None, target_labels=None, block: int | None = None,
               charts: str = "transport") -> np.ndarray:
    """``Σ_j Θ(t, x_j) ω_j values_j`` at the points of the PointSet ``targets``, each in its own
    chart (module docstring); restricted to equal labels when labels are given. ``charts="one"``:
    the paper's way (all points in one chart, plain components summed, no frames)."""
    values = np.asarray(values)
    N, k = cloud.npoints, cloud.dim
    frames = frames or FrameCache(cloud)
    src = _unit(cloud.points)
    q = cloud.weights[:, None]
    out = np.zeros((len(targets), k, k), dtype=np.complex128)
    if charts == "one":
        return _one_chart_sum(kernel, cloud, values, targets, frames, source_labels, target_labels, block)
    g = cloud.reference_metric()
    raised = g @ values @ g                  # the FS-natural gradient: a metric-type tensor
    for chart, idx in _targets_by_chart(targets):
        flat = (frames.to_frame(raised, chart)).reshape(N, k * k) * q
        tu = _unit(targets.points[idx])
        b = block or block_size(idx.size, N)
        S = np.empty((idx.size, k * k), dtype=np.complex128)
        for s in range(0, idx.size, b):
            rows = idx[s:s + b]
            K = frames.block((id(targets), kernel, chart, s, b),
                             lambda rows=rows, tb=tu[s:s + b]: _weights(kernel, tb, src, rows, source_labels,
                                                                        target_labels))
            S[s:s + b] = K @ flat
        out[idx] = _from_frame(np.linalg.cholesky(targets.g_fs[idx]), S.reshape(-1, k, k))
    return out


def _weights(kernel, tb, src, rows, source_labels, target_labels):
    K = kernel.weights(tb, src)
    if source_labels is not None:
        K = K * (np.asarray(target_labels)[rows, None] == np.asarray(source_labels)[None, :])
    return K


def _one_chart_sum(kernel, cloud, values, targets, frames, source_labels, target_labels, block):
    """The paper's component-wise sum (section 3.1): every point in one chart, Σ_j Θ ω_j V_j."""
    charts = {(int(p), int(e)) for p, e in zip(np.r_[cloud.pointset.patch, targets.patch],
                                                  np.r_[cloud.pointset.elim, targets.elim], strict=True)}
    if len(charts) != 1:
        raise InvalidInputError("charts", "the paper's one-chart sum needs every point in one chart, "
                                f"got {sorted(charts)}")
    N, k = cloud.npoints, cloud.dim
    flat = np.asarray(values).reshape(N, k * k) * cloud.weights[:, None]
    src, tu = _unit(cloud.points), _unit(targets.points)
    b = block or block_size(len(targets), N)
    out = np.empty((len(targets), k * k), dtype=np.complex128)
    for s in range(0, len(targets), b):
        rows = np.arange(s, min(s + b, len(targets)))
        K = frames.block((id(targets), kernel, "one", s, b),
                         lambda rows=rows, tb=tu[s:s + b]: _weights(kernel, tb, src, rows, source_labels,
                                                                    target_labels))
        out[s:s + b] = K @ flat
    return out.reshape(-1, k, k)
