"""Numerical neural tangent kernels (JAX): analytic infinite-width kernels, empirical
metric-NTKs of JAX models, metric ansaetze, spectra, and finite-width convergence.

- :mod:`metricflow.kernels.gaussian` -- cos-net / Gauss-net Gaussian frozen NTKs (2.27-2.37).
- :mod:`metricflow.kernels.mlp` -- NNGP/NTK of ReLU/erf/gelu fully connected networks.
- :mod:`metricflow.kernels.empirical` -- empirical NTK (2.7): Jacobian contraction and
  matrix-free NTK-vector products, blocked.
- :mod:`metricflow.kernels.metric` -- metric-NTKs over independent components (2.19-2.23),
  additive and multiplicative ansaetze, spectra in the 9 x 9 x n x n layout.
- :mod:`metricflow.kernels.convergence` -- empirical -> analytic as N -> infinity.
- :mod:`metricflow.kernels.nt_adapter` -- optional neural-tangents bridge.

The finite-width networks whose kernels these are live in :mod:`metricflow.models`.

Submodules are imported on first attribute access, so ``import metricflow.kernels.mlp``
stays light (the neural-tangents cross-check imports only that one).
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "gaussian_ntk": "gaussian", "constants": "gaussian",
    "mlp_kernels": "mlp",
    "empirical_ntk": "empirical", "ntk_vector_product": "empirical", "rescale": "empirical",
    "empirical_metric_ntk": "metric", "ansatz_ntk": "metric", "linear_ansatz_ntk": "metric",
    "componentwise_ntk": "metric", "multiplicative_map": "metric", "to_components": "metric",
    "from_components": "metric", "block_spectra": "metric", "full_spectrum": "metric",
    "n_components": "metric", "spectrum_shift": "metric",
    "convergence": "convergence",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        module = importlib.import_module(f"metricflow.kernels.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module 'metricflow.kernels' has no attribute {name!r}")
