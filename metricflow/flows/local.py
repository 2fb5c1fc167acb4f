"""Compatibility: the torus flows moved to :mod:`metricflow.flows.torus`
(``flows/network.py`` still imports these names from here)."""

from metricflow.flows.torus import (  # noqa: F401
    _diagnostics_jit,
    _pointwise,
    diagnostics,
    initial_metric,
    ricci_velocity,
    scalar_curvature,
)
