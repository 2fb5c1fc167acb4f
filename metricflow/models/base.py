"""The model interface: a network and its infinite-width kernel side by side.

A :class:`Model` is the triple of neural-tangents' ``stax`` layers, with the split
between trained and frozen parameters made explicit (the cos-net and the Gauss-net train
only their last layer, eq. 2.33):

* ``init(key, d_in, width, n_out=1, dtype=None) -> (params, frozen)`` draws a network of
  ``width`` hidden units; ``params`` is the pytree that trains, ``frozen`` the draws held
  fixed (an empty dict when every parameter trains);
* ``apply(params, x, frozen) -> (n_out,)`` at one point ``x`` of shape (d,), or
  ``(n, n_out)`` on a batch (n, d); a module-level function (or a partial of one), so
  that compiled kernels keyed on it (:func:`metricflow.kernels.empirical.empirical_ntk`)
  serve every draw;
* ``kernel(x1, x2=None) -> (n1, n2)`` the analytic frozen NTK Θ̄ of the trained
  parameters at infinite width (eq. 2.9), to which the empirical NTK (eq. 2.7) of
  ``apply`` at ``params`` tends as the width grows.

``MODELS`` names the constructors (``get_model(name, **hyper)``); the constructors are
cached, so the same hyper-parameters give the same :class:`Model` object (and the same
compilations).
"""

from __future__ import annotations

import importlib
import numbers
from collections.abc import Callable
from typing import NamedTuple

from metricflow.errors import InvalidInputError


class Model(NamedTuple):
    """``(init, apply, kernel)`` of one architecture with fixed hyper-parameters
    (module docstring); ``name`` and ``hyper`` describe it."""

    name: str
    init: Callable
    apply: Callable
    kernel: Callable
    hyper: tuple = ()


#: name -> "module:constructor" (imported on first use: the registry itself imports no JAX)
MODELS: dict[str, str] = {
    "cosnet": "metricflow.models.cosnet:cosnet",
    "torus_cosnet": "metricflow.models.cosnet:torus_cosnet",
    "gaussnet": "metricflow.models.gaussnet:gaussnet",
    "mlp": "metricflow.models.mlp:mlp",
}


def get_model(name: str, **hyper) -> Model:
    """The model ``name`` of :data:`MODELS` with hyper-parameters ``hyper`` (keywords of
    its constructor); an unknown name is an :class:`InvalidInputError` on ``model``
    listing the names."""
    if name not in MODELS:
        raise InvalidInputError("model", f"expected one of {sorted(MODELS)}, got {name!r}")
    module, attr = MODELS[name].split(":")
    return getattr(importlib.import_module(module), attr)(**hyper)


def check_width(width, name: str = "width") -> int:
    """A positive integer, or an :class:`InvalidInputError` on ``name``."""
    if isinstance(width, bool) or not isinstance(width, numbers.Integral) or width < 1:
        raise InvalidInputError(name, f"must be a positive integer, got {width!r}")
    return int(width)
