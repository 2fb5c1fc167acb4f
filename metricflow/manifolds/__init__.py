"""Where flows live: the abstract :class:`Manifold` and its implementations — tori
(grid, spectral jets), the 2-sphere (spherical harmonics) and point clouds on
hypersurfaces (Monte Carlo points of a :class:`metricflow.cy.PointSet`)."""

from metricflow.manifolds.base import Manifold
from metricflow.manifolds.pointcloud import PointCloud
from metricflow.manifolds.sphere import Sphere
from metricflow.manifolds.torus import Torus

__all__ = ["Manifold", "PointCloud", "Sphere", "Torus"]
