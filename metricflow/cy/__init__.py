"""Calabi-Yau hypersurfaces: points, Omega, pull-backs, weights, sigma, FS distances,
clustering (paper section 3 and appendix B; conventions in docs/cy.md).

Sampling is vectorised numpy by default (measured faster than numba and JAX on this
CPU, and nothing to compile); ``sample(..., backend="jax")`` runs the same pipeline
jitted in JAX, sharded over ``jax.devices()`` when there are several.  The exact
nearest-neighbour search is a numba kernel (see docs/cy.md).

>>> from metricflow import cy
>>> ps = cy.sample("fermat-quintic", n=1000, seed=0)
>>> round(cy.sigma(ps)["sigma"], 1)
0.4
"""

from metricflow._linalg import hermitian_det
from metricflow.cy.clustering import (
    adjusted_rand_index,
    average_linkage,
    batched_clustering,
    cluster_report,
    full_clustering,
)
from metricflow.cy.distances import (
    fs_distance,
    fs_distance_matrix,
    nearest_neighbours,
    nn_distance_scaling,
    projector_embedding,
)
from metricflow.cy.geometry import chart_transition, point_geometry, transform_metric
from metricflow.cy.hypersurface import (
    BUILTINS,
    Hypersurface,
    dwork,
    fermat,
    find_singular_point,
    from_monomials,
    from_sympy,
    hypersurface,
)
from metricflow.cy.measures import eta, metric_values, sigma
from metricflow.cy.pointset import PointSet, in_chart, line_mean, load, save
from metricflow.cy.sampling import sample, sample_in_chart

__all__ = [
    "BUILTINS", "Hypersurface", "PointSet", "adjusted_rand_index", "average_linkage",
    "batched_clustering", "chart_transition", "cluster_report", "dwork", "eta", "fermat",
    "find_singular_point", "from_monomials", "from_sympy", "fs_distance", "fs_distance_matrix",
    "full_clustering", "hermitian_det", "hypersurface", "in_chart", "line_mean", "load", "metric_values",
    "nearest_neighbours", "nn_distance_scaling", "point_geometry", "projector_embedding", "sample", "sample_in_chart",
    "save", "sigma", "transform_metric",
]
