"""NNGP and NTK of fully connected networks of any depth, in the NTK parameterisation.

Architecture (neural-tangents' ``stax`` with ``parameterization="ntk"``)::

    z_1 = W_std/sqrt(n_0) W_1 x + b_std b_1
    z_{l+1} = W_std/sqrt(n_l) W_{l+1} act(z_l) + b_std b_{l+1},    l = 1 .. L
    f(x) = z_{L+1}   (one output),     all W, b entries ~ N(0, 1),

i.e. ``stax.serial(Dense(N, W_std, b_std), act, ..., Dense(N, W_std, b_std), act,
Dense(1, W_std, b_std))`` with ``L`` hidden layers.  The infinite-width recursions
(Jacot et al. 2018; Lee et al. 2019) are

    K_1 = W_std^2 x.x'/n_0 + b_std^2,                 Theta_1 = K_1,
    K_{l+1} = W_std^2 E[act(u) act(v)] + b_std^2,      (u, v) ~ N(0, [[K11, K12], [K12, K22]]),
    Theta_{l+1} = K_{l+1} + W_std^2 E[act'(u) act'(v)] Theta_l.

In the paper these are the scalar kernels Theta-bar of eq. (2.9) (frozen NTK, 2.11-2.12)
from which metric-NTKs are assembled (:mod:`metricflow.kernels.metric`).  The finite-width
network itself, with this kernel beside it, is :func:`metricflow.models.mlp.mlp`.

Activations and their Gaussian expectations (closed forms):

- ``relu``: arc-cosine kernel of order 1 (Cho & Saul 2009).
- ``erf``: ``erf(x)`` (neural-tangents' ``Erf(a=1, b=1, c=0)``; Williams 1997).
- ``gelu``: the *exact* GELU ``x Phi(x)`` with the standard normal CDF ``Phi`` (not the tanh
  approximation), as neural-tangents' ``Gelu(approximate=False)``; closed form of
  Tsuchida et al. 2021 (arXiv 2002.08517), checked against 2-d Gauss-Hermite quadrature
  in the tests.

Only numpy and jax are imported here, so this module also runs in the jax 0.4 environment
of the neural-tangents cross-check (.ci/nt_crosscheck.sh).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from metricflow._x64 import x64
from metricflow.errors import InvalidInputError

ACTIVATIONS = ("relu", "erf", "gelu")


def _relu(k12, k11, k22):
    """(E[relu(u) relu(v)], E[relu'(u) relu'(v)]) for the covariance (k11, k12, k22)."""
    norm = jnp.sqrt(k11 * k22)
    cos = jnp.clip(k12 / jnp.where(norm > 0, norm, 1.0), -1.0, 1.0)
    theta = jnp.arccos(cos)
    sin = jnp.sqrt(jnp.maximum(1.0 - cos**2, 0.0))
    e = norm * (sin + (jnp.pi - theta) * cos) / (2 * jnp.pi)
    de = (jnp.pi - theta) / (2 * jnp.pi)
    return e, de


def _erf(k12, k11, k22):
    """(E[erf(u) erf(v)], E[erf'(u) erf'(v)])."""
    den = (1 + 2 * k11) * (1 + 2 * k22)
    e = 2 / jnp.pi * jnp.arcsin(jnp.clip(2 * k12 / jnp.sqrt(den), -1.0, 1.0))
    de = 4 / jnp.pi / jnp.sqrt(den - 4 * k12**2)
    return e, de


def _gelu(k12, k11, k22):
    """(E[gelu(u) gelu(v)], E[gelu'(u) gelu'(v)]) for the exact gelu(x) = x Phi(x)."""
    prod = k11 * k22
    prod1 = (k11 + 1) * (k22 + 1)
    delta2 = prod1 - k12**2               # >= k11 + k22 + 1 > 0
    delta = jnp.sqrt(delta2)
    angle = jnp.arctan2(k12, delta)
    e = ((k12**2 + prod * delta2) / (prod1 * delta) + k12 * angle) / (2 * jnp.pi) + k12 / 4
    de = (1 / delta2 + (1 - prod) / prod1 + 1) * k12 / delta / (2 * jnp.pi) + 0.25 \
        + angle / (2 * jnp.pi)
    return e, de


_DUAL = {"relu": _relu, "erf": _erf, "gelu": _gelu}


def activation_fn(name: str):
    """The activation itself, matching the kernels (exact erf-based gelu)."""
    check_activation(name)
    if name == "relu":
        return jax.nn.relu
    if name == "erf":
        return jax.scipy.special.erf
    return lambda z: jax.nn.gelu(z, approximate=False)


def check_activation(name: str) -> None:
    if name not in _DUAL:
        raise InvalidInputError("activation", f"must be one of {list(ACTIVATIONS)}, got {name!r}")


def _check(x, name):
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise InvalidInputError(name, f"must be an (n, d) array of points, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise InvalidInputError(name, "contains NaN or inf")
    return arr


def check_hyper(depth, w_std, b_std) -> None:
    """Refuse a negative depth, a non-positive ``w_std`` or a negative ``b_std`` (by name)."""
    if not isinstance(depth, (int, np.integer)) or isinstance(depth, bool) or depth < 0:
        raise InvalidInputError("depth", f"must be an integer >= 0, got {depth!r}")
    if not (np.isfinite(w_std) and w_std > 0):
        raise InvalidInputError("w_std", f"must be positive, got {w_std!r}")
    if not (np.isfinite(b_std) and b_std >= 0):
        raise InvalidInputError("b_std", f"must be >= 0, got {b_std!r}")


def mlp_kernels(x1, x2=None, *, activation: str = "relu", depth: int = 1,
                w_std: float = 1.0, b_std: float = 0.0) -> dict:
    """Infinite-width NNGP and NTK of a fully connected network (module docstring).

    Parameters
    ----------
    x1, x2:
        (n1, d) and (n2, d) arrays of inputs (``x2`` defaults to ``x1``).
    activation:
        ``"relu"``, ``"erf"`` or ``"gelu"`` (exact).
    depth:
        Number of hidden layers L (0: a linear network).
    w_std, b_std:
        Standard deviations of neural-tangents' NTK parameterisation.

    Returns
    -------
    dict with float64 numpy arrays ``nngp`` and ``ntk`` of shape (n1, n2).
    """
    check_activation(activation)
    check_hyper(depth, w_std, b_std)
    a = _check(x1, "x1")
    b = a if x2 is None else _check(x2, "x2")
    if a.shape[1] != b.shape[1]:
        raise InvalidInputError("x2", f"has dimension {b.shape[1]}, x1 has {a.shape[1]}")
    with x64():
        nngp, ntk = _mlp_recursion(jnp.asarray(a), jnp.asarray(b), activation, int(depth),
                                   float(w_std), float(b_std))
        return {"nngp": np.asarray(nngp, dtype=np.float64),
                "ntk": np.asarray(ntk, dtype=np.float64)}


def _mlp_recursion(a, b, activation, depth, w_std, b_std):
    dual = _DUAL[activation]
    d = a.shape[1]
    w2, b2 = w_std**2, b_std**2
    k12 = w2 * (a @ b.T) / d + b2
    k11 = w2 * jnp.sum(a * a, axis=1) / d + b2
    k22 = w2 * jnp.sum(b * b, axis=1) / d + b2
    ntk = k12
    for _ in range(depth):
        e, de = dual(k12, k11[:, None], k22[None, :])
        e11, _ = dual(k11, k11, k11)
        e22, _ = dual(k22, k22, k22)
        k12 = w2 * e + b2
        ntk = k12 + w2 * de * ntk
        k11 = w2 * e11 + b2
        k22 = w2 * e22 + b2
    return k12, ntk
