"""Where flows live: compact test manifolds with quadrature and jets of grid fields."""

from metricflow.manifolds.torus import Torus

__all__ = ["Torus"]
