"""Fully connected networks in the NTK parameterisation (neural-tangents' ``stax`` with
``parameterization="ntk"``) and their infinite-width NTK (eqs. 2.9–2.12):

    z_1 = W_std/√n_0 W_1 x + b_std b_1,   z_{l+1} = W_std/√n_l W_{l+1} act(z_l) + b_std b_{l+1},
    f(x) = z_{L+1},   all W, b entries ~ N(0, 1),   every parameter trained,

with ``L = depth`` hidden layers of ``width`` units and the activation relu, erf or the
exact gelu. The kernel is :func:`metricflow.kernels.mlp.mlp_kernels` (the recursions of
Jacot et al. 2018 and Lee et al. 2019, with closed-form Gaussian expectations).
"""

from __future__ import annotations

import functools
import math

from metricflow.errors import InvalidInputError
from metricflow.models.base import Model, check_width


def init_params(key, d_in: int, width: int, depth: int, n_out: int = 1, dtype=None) -> list:
    """Parameters of the network: a list of ``{"W": (n_in, n_out), "b": (n_out,)}`` with
    N(0, 1) entries, ``depth`` hidden layers of ``width`` (NTK parameterisation)."""
    import jax
    import jax.numpy as jnp

    from metricflow.kernels.mlp import check_hyper

    check_hyper(depth, 1.0, 0.0)
    if min(width, d_in, n_out) < 1:
        raise InvalidInputError("width", f"widths must be >= 1, got d_in={d_in}, width={width}, n_out={n_out}")
    sizes = [d_in] + [width] * depth + [n_out]
    keys = jax.random.split(key, len(sizes) - 1)
    dtype = dtype or jnp.result_type(float)
    params = []
    for k, (n_in, n_o) in zip(keys, zip(sizes[:-1], sizes[1:], strict=True), strict=True):
        kw, kb = jax.random.split(k)
        params.append({"W": jax.random.normal(kw, (n_in, n_o), dtype),
                       "b": jax.random.normal(kb, (n_o,), dtype)})
    return params


def forward(params, x, *, activation: str = "relu", w_std: float = 1.0, b_std: float = 0.0):
    """The network's output at one point ``x`` (d,) -> (n_out,), or a batch (n, d) -> (n, n_out)."""
    from metricflow.kernels.mlp import activation_fn

    act = activation_fn(activation)
    h = x
    for i, layer in enumerate(params):
        if i > 0:
            h = act(h)
        h = w_std / math.sqrt(layer["W"].shape[0]) * (h @ layer["W"]) + b_std * layer["b"]
    return h


def _apply(activation, w_std, b_std, params, x, frozen=None):
    return forward(params, x, activation=activation, w_std=w_std, b_std=b_std)


@functools.lru_cache(maxsize=64)
def mlp(activation: str = "relu", depth: int = 1, w_std: float = 1.0, b_std: float = 0.0) -> Model:
    """The MLP of the module docstring; ``init(key, d_in, width, n_out=1, dtype=None)``
    returns ``(params, {})`` (every parameter trains)."""
    from metricflow.kernels.mlp import check_activation, check_hyper, mlp_kernels

    check_activation(activation)
    check_hyper(depth, w_std, b_std)
    depth, w_std, b_std = int(depth), float(w_std), float(b_std)

    def init(key, d_in: int, width: int, n_out: int = 1, dtype=None):
        return init_params(key, check_width(d_in, "d_in"), check_width(width), depth,
                           check_width(n_out, "n_out"), dtype), {}

    def kernel(x1, x2=None):
        return mlp_kernels(x1, x2, activation=activation, depth=depth, w_std=w_std, b_std=b_std)["ntk"]

    return Model("mlp", init, functools.partial(_apply, activation, w_std, b_std), kernel,
                 (("activation", activation), ("depth", depth), ("w_std", w_std), ("b_std", b_std)))
