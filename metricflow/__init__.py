"""metricflow: symbolic-numeric differential geometry for neural-network metric flows.

Implements *Metric Flows with Neural Networks* (Halverson & Ruehle, arXiv 2310.19870).

The main entry points are attributes of the package, imported on first use (PEP 562), so
``import metricflow`` imports neither JAX nor numba and ``metricflow derive`` stays fast:

- geometry, exact: :class:`Metric` (sympy metrics and curvature), :class:`KahlerMetric`
  (Kähler potentials, Appendix B);
- flows: :func:`run_flow` and the manifolds :class:`Torus`, :class:`Sphere`,
  :class:`ComplexTorus`, :class:`PointCloud` (a Calabi–Yau point set);
- kernels of the flow (eq. 2.12): :class:`Local`, :class:`Gaussian`, :class:`FrozenNTK`,
  :class:`Nearest`, and :func:`parse_kernel` for the CLI's ``--kernel`` strings;
- sub-packages :mod:`metricflow.symbolic`, :mod:`metricflow.kernels`, :mod:`metricflow.models`
  (networks as ``(init, apply, kernel)``), :mod:`metricflow.cy`;
- errors: :class:`MetricflowError`, :class:`InvalidInputError`, :class:`NumericalError`
  (:mod:`metricflow.errors`).

>>> import metricflow as mf
>>> mf.Metric("x y", "[[1, 0], [0, x**2]]").scalar
0
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

from metricflow.errors import (  # noqa: E402
    InvalidInputError,
    MetricflowError,
    NumericalError,
    UnsupportedExpressionError,
)

#: public name -> "module:attribute" ("module" alone for a sub-package), imported on first access
_LAZY: dict[str, str] = {
    "Metric": "metricflow.symbolic.metric:Metric",
    "KahlerMetric": "metricflow.symbolic.kahler:KahlerMetric",
    "run_flow": "metricflow.flows:run_flow",
    "Torus": "metricflow.manifolds.torus:Torus",
    "Sphere": "metricflow.manifolds.sphere:Sphere",
    "ComplexTorus": "metricflow.manifolds.complex_torus:ComplexTorus",
    "PointCloud": "metricflow.manifolds:PointCloud",
    "Local": "metricflow.kernels:Local",
    "Gaussian": "metricflow.kernels:Gaussian",
    "FrozenNTK": "metricflow.kernels:FrozenNTK",
    "Nearest": "metricflow.kernels:Nearest",
    "parse_kernel": "metricflow.kernels:parse_kernel",
    "cy": "metricflow.cy",
    "symbolic": "metricflow.symbolic",
    "kernels": "metricflow.kernels",
    "models": "metricflow.models",
    "errors": "metricflow.errors",
}

__all__ = ["__version__", "MetricflowError", "InvalidInputError", "NumericalError",
           "UnsupportedExpressionError", *_LAZY]


def __getattr__(name: str):
    spec = _LAZY.get(name)
    if spec is None:
        raise AttributeError(f"module 'metricflow' has no attribute {name!r}")
    module, _, attr = spec.partition(":")
    value = importlib.import_module(module)
    if attr:
        value = getattr(value, attr)
    globals()[name] = value  # the next access is a plain attribute lookup
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
