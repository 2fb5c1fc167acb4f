"""The nearest-neighbour (Delta) kernel of a point cloud.

On the cloud's own points every point's nearest training point is itself, so the
kernel is the identity there (the local flow of the values); what it adds is
:meth:`Nearest.extend`: a field known at the cloud's points, predicted at new points
as the value of the nearest point (FS distance, eq. 3.2), written in the new point's
chart (:func:`metricflow.kernels.pointcloud.nearest_extend`).
"""

from __future__ import annotations

from dataclasses import dataclass

from metricflow.kernels.base import Kernel, _identity


@dataclass(frozen=True)
class Nearest(Kernel):
    """Θ(x, x') = δ_{x', nn(x)}: the identity on the cloud, nearest-point values elsewhere."""

    @property
    def spec(self) -> str:
        return "nearest"

    def operator(self, manifold):
        from metricflow.manifolds import PointCloud

        if not isinstance(manifold, PointCloud):
            raise self.refuse(manifold, "point clouds (quintic, quartic-k3, cubic-curve)")
        return _identity

    def extend(self, manifold, values, targets):
        """``values`` (N, k, k) at the cloud's points -> (M, k, k) at the points of the
        PointSet ``targets``, each in its own chart."""
        from metricflow.kernels.pointcloud import nearest_extend

        if not hasattr(manifold, "pointset"):
            raise self.refuse(manifold, "point clouds")
        return nearest_extend(manifold, values, targets)
