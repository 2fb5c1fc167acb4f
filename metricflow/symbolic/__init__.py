"""Symbolic layer (sympy): metrics, curvature, Kähler geometry, functional derivatives, flows of ansätze.

Importing it does not import JAX or numba; :mod:`metricflow.symbolic.codegen`
does, when a kernel is compiled.
"""

from metricflow.symbolic.kahler import KahlerMetric
from metricflow.symbolic.metric import Metric
from metricflow.symbolic.parsing import parse_coords, parse_matrix, parse_scalar

__all__ = ["KahlerMetric", "Metric", "parse_coords", "parse_matrix", "parse_scalar"]
