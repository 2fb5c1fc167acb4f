"""A Calabi–Yau (or any) hypersurface as a Monte Carlo point cloud: the manifold of the
flows of metric *values* at points (section 3, appendix B; conventions in docs/cy.md).

Built from a :class:`metricflow.cy.PointSet` — points of X ⊂ Pⁿ sampled from the
Fubini–Study volume form (Shiffman–Zelditch). Each point carries its chart (patch p,
eliminated coordinate e, local coordinates x_a), and a metric is the hermitian matrix
``g_{a b̄}`` (shape ``(N, k, k)``, k = n − 1) in that point's own chart.

Measures (``integrate``). The points are distributed by ``dVol_FS / Vol_FS``, so with the
equal weights ``weights = Vol_FS / N``

    ∫_X f dVol_FS ≈ Σ_i weights_i f(x_i) = Vol_FS · mean_i f(x_i),

and the Ω-measure of eq. (B.10) through ``omega_weights = weights · |Ω|²/det g_FS``:
``∫_X f |Ω|² ≈ Σ_i omega_weights_i f(x_i)`` (= ``PointSet.volume_omega`` for f = 1).
Both are unbiased; points of one line are correlated (docs/cy.md), which matters for
the error, not for the mean.

Jets: a metric given by its values at points has no derivatives, so :meth:`jets` is
refused; models (networks, potentials) provide derivatives by autodiff instead.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from metricflow.errors import InvalidInputError
from metricflow.manifolds.base import Manifold

#: the built-in hypersurfaces offered by name on the command line (manifold name -> cy.hypersurface spec)
BUILTIN_CLOUDS = {"quintic": "fermat-quintic", "quartic-k3": "quartic-k3", "cubic-curve": "cubic-curve"}

#: the largest point cloud accepted (the Gaussian kernel costs N² distance evaluations per velocity)
MAX_POINTS = 200_000

#: a chart transition with an entry above this (or not finite) is treated as singular: beyond it
#: the FS metric in that chart has a condition number above ~1e8 at the point, and the frames
#: of :meth:`PointCloud.frames_to` would lose more than half the digits
SINGULAR_TRANSITION = 1e4


@dataclass(frozen=True, eq=False)
class PointCloud(Manifold):
    """The points of a :class:`~metricflow.cy.PointSet` as a manifold (module docstring).

    ``name`` is the command line's manifold name (``quintic``…) or the hypersurface's."""

    pointset: object
    label: str | None = None

    no_jets_reason = ("a metric given by its values at the points of a point cloud has no derivatives; "
                      "models supply their derivatives by autodiff")

    def __post_init__(self):
        from metricflow.cy import PointSet

        if not isinstance(self.pointset, PointSet):
            raise InvalidInputError("pointset", "expected a metricflow.cy.PointSet, got "
                                    f"{type(self.pointset).__name__}")
        if len(self.pointset) < 2:
            raise InvalidInputError("n_points", f"need at least 2 points, got {len(self.pointset)}")

    @classmethod
    def sample(cls, poly: str = "fermat-quintic", n: int = 2000, seed: int = 0, name: str | None = None):
        """``n`` Shiffman–Zelditch points of ``poly`` (:func:`metricflow.cy.sample`), deterministic in ``seed``."""
        from metricflow import cy

        if isinstance(n, bool) or not isinstance(n, int | np.integer) or not 2 <= n <= MAX_POINTS:
            raise InvalidInputError("n_points", f"expected an integer number of points in [2, {MAX_POINTS}] "
                                    f"(each velocity costs N² = {float(n) ** 2:.3g} FS distances with the Gaussian "
                                    "kernel), got {n!r}" if isinstance(n, int | np.integer) else
                                    f"expected an integer number of points, got {n!r}")
        label = name or next((k for k, v in BUILTIN_CLOUDS.items() if v == poly), None)
        return cls(cy.sample(poly, n=int(n), seed=seed), label=label)

    # ------------------------------------------------------------------ points
    @property
    def surface(self):
        return self.pointset.surface

    @property
    def name(self) -> str:
        return self.label or self.surface.name

    @property
    def dim(self) -> int:
        """Complex dimension k = n − 1 of the hypersurface."""
        return int(self.surface.dim)

    @property
    def shape(self) -> tuple[int]:
        return (len(self.pointset),)

    @property
    def points(self) -> np.ndarray:
        """Homogeneous coordinates ``(N, n+1)`` (scaled so that z[patch] = 1)."""
        return self.pointset.points

    @cached_property
    def weights(self) -> np.ndarray:
        """``Vol_FS / N`` at every point: the Monte Carlo weights of ``dVol_FS``."""
        return np.full(self.shape, self.surface.fs_volume() / self.npoints)

    @cached_property
    def omega_weights(self) -> np.ndarray:
        """``weights · |Ω|²/det g_FS``: the Monte Carlo weights of the Ω-measure |Ω|² (eq. B.10)."""
        return self.weights * self.pointset.weights

    def integrate_omega(self, density):
        """``∫_X density |Ω|²`` (Monte Carlo); numpy or JAX."""
        return _weighted_sum(density, self.omega_weights)

    @property
    def charts(self) -> np.ndarray:
        """Chart label ``p (n+1) + e`` of each point (:attr:`metricflow.cy.PointSet.charts`)."""
        return self.pointset.charts

    def reference_metric(self) -> np.ndarray:
        """The pulled-back Fubini–Study metric ``g_{a b̄}`` in each point's chart, ``(N, k, k)`` complex."""
        return self.pointset.g_fs

    def volume_form(self) -> np.ndarray:
        """``det g_FS`` at each point (the density of J^k/k! w.r.t. the chart's Lebesgue measure)."""
        return self.pointset.det_g_fs

    def integrate(self, density):
        """``∫_X density dVol_FS ≈ Vol_FS · mean_i density_i`` (Monte Carlo); numpy or JAX."""
        return _weighted_sum(density, self.weights)

    def settings(self) -> dict:
        """Name, number of points and the sha256 of the points and their charts (which
        determine every quantity of a flow on them)."""
        h = hashlib.sha256()
        for a in (self.pointset.points, self.pointset.patch, self.pointset.elim):
            h.update(np.ascontiguousarray(a).tobytes())
        return {"manifold": self.name, "n_points": self.npoints, "points": h.hexdigest()}

    # ------------------------------------------------------------------ charts
    def chart_groups(self) -> dict:
        """``{(p, e): indices of the points whose own chart it is}``, in a fixed order."""
        ps = self.pointset
        out = {}
        for label in np.unique(self.charts):
            idx = np.flatnonzero(self.charts == label)
            out[(int(ps.patch[idx[0]]), int(ps.elim[idx[0]]))] = idx
        return out

    def transition_to(self, chart) -> tuple[np.ndarray, np.ndarray]:
        """``(T, ok)``: the transition of each point to ``chart`` (:func:`transition`)."""
        return transition(self.pointset, chart)

    @cached_property
    def fs_frames(self) -> np.ndarray:
        """``L`` with ``L Lᴴ = g_FS`` (Cholesky, lower triangular, positive diagonal) at each
        point in its own chart, (N, k, k): the FS-orthonormal frame of that chart."""
        return np.linalg.cholesky(self.pointset.g_fs)

    @cached_property
    def embedding(self) -> np.ndarray:
        """``F`` with ``Fᴴ F = g_FS`` at each point, (N, n+1, k): the tangent space of X in
        C^{n+1} (:func:`tangent_embedding`)."""
        return tangent_embedding(self.pointset)

    def to_frame(self, values, chart) -> np.ndarray:
        """``values`` in the FS-orthonormal frame of ``chart`` (:func:`to_frame`)."""
        return to_frame(self.pointset, values, chart)

    def to_chart(self, values, chart) -> np.ndarray:
        """Hermitian tensors ``(N, k, k)`` given in each point's own chart, written in
        ``chart`` (``g' = Tᵀ g T̄``, :func:`metricflow.cy.transform_metric`); zero where
        the transition is singular (see :meth:`transition_to`)."""
        T, _ = transition(self.pointset, chart)
        return np.swapaxes(T, 1, 2) @ np.asarray(values) @ np.conj(T)


def _weighted_sum(density, weights):
    if type(density).__module__.startswith("jax"):
        import jax.numpy as xp
    else:
        xp = np
    w = xp.asarray(weights)
    return xp.sum(density * w.reshape(w.shape + (1,) * (density.ndim - 1)), axis=0)


def transition(pointset, chart) -> tuple[np.ndarray, np.ndarray]:
    """``(T, ok)``: ``T[j] = dx_a/dx'_b`` from each point's own chart to ``chart``
    (:func:`metricflow.cy.chart_transition`) and ``ok[j]`` whether it is regular.

    Where the transition is singular (the point lies on or near the boundary of
    ``chart``'s domain: z_{p'} ≈ 0 or ∂P/∂z_{e'} ≈ 0, detected as a non-finite entry or
    one above :data:`SINGULAR_TRANSITION`), ``T`` is set to 0 and ``ok`` is False: such a
    point is not expressible in that chart, and a kernel drops its contribution there."""
    from metricflow.cy import chart_transition

    with np.errstate(all="ignore"):
        T = chart_transition(pointset, chart)
        big = np.max(np.abs(np.nan_to_num(T, nan=np.inf)), axis=(1, 2))
        ok = np.all(np.isfinite(T), axis=(1, 2)) & (big < SINGULAR_TRANSITION)
    return np.where(ok[:, None, None], np.nan_to_num(T), 0.0), ok


def tangent_embedding(pointset) -> np.ndarray:
    """``F = P̄ J̄ / |z|`` per point, (N, n+1, k): J = dz/dx the Jacobian of the embedding in
    the point's own chart (:func:`metricflow.cy.geometry.jacobian`), ``P = 1 − u uᴴ`` the
    projector orthogonal to the unit representative u = z/|z|. Then ``Fᴴ F = g_FS`` exactly
    (the pulled-back FS metric, ``Jᵀ (1 − ū uᵀ) J̄ / |z|²``, docs/cy.md), the columns of F
    span the horizontal lift of T_xX in C^{n+1}, and F is chart-independent up to a phase:
    in another chart F' = λ F T̄ with |λ| = 1 and T the chart transition, so ``F V Fᴴ`` of an
    inverse-metric-type V (``V' = T̄⁻¹ V T⁻ᵀ``) is one matrix of C^{(n+1)×(n+1)} whatever the
    chart (:mod:`metricflow.kernels.pointcloud`)."""
    from metricflow.cy.geometry import jacobian

    z = np.asarray(pointset.points)
    norm = np.linalg.norm(z, axis=1)
    u = z / norm[:, None]
    J = jacobian(pointset)
    PJ = J - u[:, :, None] * (np.conj(u)[:, None, :] @ J)
    return np.conj(PJ) / norm[:, None, None]


def frame_map(pointset, chart) -> np.ndarray:
    """``A = L_c⁻¹ Tᵀ`` per point (zero where the transition is singular), with ``L_c L_cᴴ =
    Tᵀ g_FS T̄`` the Cholesky factor of the FS metric written in ``chart``: a tensor V of
    the point's own chart has the components ``A V Aᴴ`` in the FS-orthonormal frame of
    ``chart`` (:func:`to_frame`)."""
    T, ok = transition(pointset, chart)
    k = T.shape[-1]
    g = np.swapaxes(T, 1, 2) @ pointset.g_fs @ np.conj(T)
    g[~ok] = np.eye(k)
    return np.linalg.solve(np.linalg.cholesky(g), np.swapaxes(T, 1, 2)) * ok[:, None, None]


def to_frame(pointset, values, chart) -> np.ndarray:
    """Hermitian tensors ``V`` (N, k, k), each in its point's chart, as components in the
    FS-orthonormal (Cholesky) frame of ``chart``: ``Ṽ = L_c⁻¹ (Tᵀ V T̄) L_c⁻ᴴ``. ``Ṽ`` has the
    eigenvalues of V relative to g_FS whatever the chart (frames of two charts differ by a
    unitary rotation), so sums of such components over nearby points stay bounded, and
    ``g_FS`` itself becomes the identity. Zero where the transition is singular."""
    A = frame_map(pointset, chart)
    return A @ np.asarray(values) @ np.conj(np.swapaxes(A, 1, 2))
