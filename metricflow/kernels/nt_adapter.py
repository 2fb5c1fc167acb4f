"""Optional bridge to neural-tangents (``neural_tangents.stax``), used only when importable.

metricflow's core never needs neural-tangents.  neural-tangents 0.6.5 imports only with
jax < 0.5 and TensorFlow, so in metricflow's own environment (current jax) it is normally
absent; ``.ci/nt_crosscheck.sh`` builds a separate environment where it is present and
uses this adapter to compare :func:`metricflow.kernels.mlp.mlp_kernels` with ``stax``.
"""

from __future__ import annotations

import importlib.util

import numpy as np

from metricflow.errors import InvalidInputError, MetricflowError


class NeuralTangentsUnavailable(MetricflowError, ImportError):
    """neural-tangents is not importable in this environment."""


def available() -> bool:
    """True when ``neural_tangents`` can be imported here (checked without importing it
    if the package is absent; an installed but broken one also counts as unavailable)."""
    if importlib.util.find_spec("neural_tangents") is None:
        return False
    try:
        import neural_tangents  # noqa: F401
    except Exception:  # noqa: BLE001 - any import-time failure means "not usable"
        return False
    return True


def _stax():
    if not available():
        raise NeuralTangentsUnavailable(
            "neural-tangents is not importable here (it needs jax<0.5 and TensorFlow); "
            "run .ci/nt_crosscheck.sh, which builds such an environment")
    from neural_tangents import stax

    return stax


def stax_mlp(activation: str = "relu", depth: int = 1, w_std: float = 1.0, b_std: float = 0.0,
             width: int = 512):
    """The neural-tangents ``(init_fn, apply_fn, kernel_fn)`` of the network described in
    :mod:`metricflow.kernels.mlp` (L hidden layers, one output, NTK parameterisation)."""
    stax = _stax()
    acts = {"relu": stax.Relu, "erf": stax.Erf, "gelu": lambda: stax.Gelu(approximate=False)}
    if activation not in acts:
        raise InvalidInputError("activation", f"must be one of {sorted(acts)}, got {activation!r}")
    layers = []
    for _ in range(depth):
        layers += [stax.Dense(width, W_std=w_std, b_std=b_std, parameterization="ntk"),
                   acts[activation]()]
    layers.append(stax.Dense(1, W_std=w_std, b_std=b_std, parameterization="ntk"))
    return stax.serial(*layers)


def mlp_kernels_nt(x1, x2=None, *, activation: str = "relu", depth: int = 1,
                   w_std: float = 1.0, b_std: float = 0.0) -> dict:
    """neural-tangents' NNGP and NTK for the same network as
    :func:`metricflow.kernels.mlp.mlp_kernels` (float64 numpy arrays; call it with jax's
    64-bit mode on for float64 results)."""
    _, _, kernel_fn = stax_mlp(activation, depth, w_std, b_std)
    a = np.asarray(x1, dtype=np.float64)
    b = None if x2 is None else np.asarray(x2, dtype=np.float64)
    k = kernel_fn(a, b, ("nngp", "ntk"))
    return {"nngp": np.asarray(k.nngp), "ntk": np.asarray(k.ntk)}
