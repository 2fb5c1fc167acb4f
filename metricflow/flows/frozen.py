"""Compatibility: the frozen-NTK kernel moved to :mod:`metricflow.kernels.frozen`
(``flows/network.py`` still imports these names from here)."""

from metricflow.kernels.frozen import (  # noqa: F401
    MAX_POINTS,
    FrozenNTK,
    frozen_ntk_matrix,
    frozen_ntk_velocity,
    periodic_features,
    zonal_ntk_spectrum,
)
