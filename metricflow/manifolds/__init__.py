"""Where flows live: compact test manifolds with quadrature and jets of grid fields."""

from metricflow.manifolds.sphere import Sphere
from metricflow.manifolds.torus import Torus

__all__ = ["Sphere", "Torus"]
