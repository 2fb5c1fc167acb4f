"""Where flows live: the abstract :class:`Manifold` and its implementations — tori
(grid, spectral jets), the 2-sphere (spherical harmonics) and point clouds on
hypersurfaces (Monte Carlo points of a :class:`metricflow.cy.PointSet`), and the flat complex
torus of the Kähler functionals."""

from metricflow.manifolds.base import Manifold
from metricflow.manifolds.complex_torus import ComplexTorus
from metricflow.manifolds.pointcloud import PointCloud
from metricflow.manifolds.sphere import Sphere
from metricflow.manifolds.torus import Torus

__all__ = ["ComplexTorus", "Manifold", "PointCloud", "Sphere", "Torus"]
