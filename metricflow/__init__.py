"""metricflow: symbolic-numeric differential geometry for neural-network metric flows.

Implements *Metric Flows with Neural Networks* (Halverson & Ruehle, arXiv 2310.19870).
Importing the package is cheap: it imports neither JAX nor numba.  Sub-packages:

- :mod:`metricflow.symbolic` -- sympy: metrics, curvature, functional derivatives,
  flows of ansaetze, code generation (:mod:`metricflow.symbolic.codegen`).
- :mod:`metricflow.errors` -- the exception hierarchy.
- :mod:`metricflow.io` -- atomic writes of JSON and ``.npz`` results.
"""

__version__ = "0.1.0"

from metricflow.errors import (  # noqa: E402
    InvalidInputError,
    MetricflowError,
    NumericalError,
)

__all__ = ["__version__", "MetricflowError", "InvalidInputError", "NumericalError"]
