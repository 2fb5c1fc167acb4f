"""Networks and their infinite-width kernels side by side: ``(init, apply, kernel)``
triples in the spirit of neural-tangents (eqs. 2.7–2.12, 2.27–2.37).

- :mod:`metricflow.models.base` -- the :class:`Model` triple, the registry ``MODELS`` and
  :func:`get_model`.
- :mod:`metricflow.models.cosnet` -- last-layer cos-nets: continuous frequencies on R^d
  (normalised Gaussian NTK) and integer frequencies on the torus (periodised Gaussian),
  with the per-frequency form that trains them exactly on a grid.
- :mod:`metricflow.models.gaussnet` -- the Gauss-net (the same Gaussian NTK on R^d).
- :mod:`metricflow.models.mlp` -- fully connected networks (relu, erf, gelu; any depth).

Importing this package imports no JAX; the submodules do.
"""

from metricflow.models.base import MODELS, Model, get_model

__all__ = ["MODELS", "Model", "get_model"]
