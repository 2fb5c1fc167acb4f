"""Symbolic layer (sympy): metrics, curvature, functional derivatives, flows of ansätze.

Importing it does not import JAX or numba; :mod:`metricflow.symbolic.codegen`
does, when a kernel is compiled.
"""

from metricflow.symbolic.metric import Metric
from metricflow.symbolic.parsing import parse_coords, parse_matrix, parse_scalar

__all__ = ["Metric", "parse_coords", "parse_matrix", "parse_scalar"]
