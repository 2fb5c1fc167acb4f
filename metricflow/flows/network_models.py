"""The trainable states of the finite-network flows (:mod:`metricflow.flows.network`) on a
torus grid, and of their infinite-width references.

A model of the flow is ``(state0, aux, kind, static, info)``: the trained state, the
fixed arrays it needs (frequency counts, features, kernel matrix, …), and the key
``(kind, static)`` of its pure maps ``delta_phi(state, aux) -> grid + (P,)`` (the change
of the P network outputs since initialisation) and ``grad(state, aux, ξ)`` (the gradient
of ``Σ_x h ξ_P(x) φ_P(x)``: the ascent direction of λ, −∂L/∂θ, for the cotangent
ξ_P = c0 M0^P : δλ/δg). The maps are built from the key only, so their compilations are
cached and shared between runs. The networks themselves are :mod:`metricflow.models`:

* ``cosnet`` — per-frequency integer-frequency cos-nets
  (:func:`metricflow.models.cosnet.frequency_form`), state ΔC (P, n_freq) complex;
* ``relu`` — a ReLU MLP (:func:`metricflow.models.mlp.mlp`, W_std = 1, b_std = 0.1) on
  the periodic features ``(cos x_k, sin x_k)``, P outputs, every layer trained, output
  scaled by ``(2π)^{−d/2}`` and its initial value subtracted;
* the infinite-width references, whose state is Δφ itself and ``φ̇ = Θ̄ ⋆ ξ`` (eq. 2.12):
  ``gaussian`` (the periodised Gaussian of width σ, the cos-nets' kernel), ``matrix``
  (the frozen ReLU NTK on the grid) and ``local`` (σ → 0).
"""

from __future__ import annotations

import numpy as np

from metricflow.errors import InvalidInputError
from metricflow.manifolds.torus import Torus

#: ReLU network hyper-parameters (NTK parameterisation, as the frozen kernels of frozen.py)
RELU_W_STD, RELU_B_STD = 1.0, 0.1


def relu_model(depth: int):
    """The ReLU MLP of the flow (:func:`metricflow.models.mlp.mlp`, W_std = 1, b_std = 0.1)."""
    from metricflow.models.mlp import mlp

    return mlp("relu", int(depth), RELU_W_STD, RELU_B_STD)


def maps(manifold: Torus, kind: str, static: tuple):
    """``(delta_phi, grad)`` of a model kind (see above)."""
    import jax

    P = static[0]
    h = manifold.cell_volume
    if kind == "cosnet":
        from metricflow.models.cosnet import frequency_maps

        return frequency_maps(manifold, P)
    if kind == "relu":
        apply = static[1]

        def delta_phi(params, aux):
            out = apply(params, aux["features"], {}) - aux["out0"]
            return (aux["scale"] * out).reshape(manifold.shape + (P,))

        def grad(params, aux, xi):
            _, vjp = jax.vjp(lambda q: delta_phi(q, aux), params)
            return vjp(xi * h)[0]

        return delta_phi, grad
    # infinite-width references: the state is Δφ itself and φ̇ = Θ̄ ⋆ ξ (eq. 2.12)
    if kind == "gaussian":
        from metricflow.flows.semilocal import smear_fft

        sigma = static[1]
        return (lambda s, aux: s), (lambda s, aux, xi: smear_fft(manifold, xi, sigma))
    if kind == "matrix":
        return (lambda s, aux: s), (lambda s, aux, xi: (aux["K"] @ xi.reshape(manifold.npoints, P)).reshape(
            manifold.shape + (P,)))
    if kind == "local":
        return (lambda s, aux: s), (lambda s, aux, xi: xi)
    raise InvalidInputError("kind", f"unknown model kind {kind!r}")  # pragma: no cover


def cosnet_state(manifold: Torus, width: int, sigma: float, seed: int, P: int):
    """Exact per-frequency cos-nets (:func:`metricflow.models.cosnet.frequency_form`):
    state ΔC (P, n_freq) complex, the neuron draws of ``realized_velocity`` for the seed."""
    from metricflow.models.cosnet import frequency_form

    state0, aux, info = frequency_form(manifold, width, sigma, seed, P)
    return state0, aux, "cosnet", (P,), info


def relu_state(manifold: Torus, width: int, depth: int, seed: int, P: int):
    """ReLU MLP on (cos x, sin x), all layers trained; output scaled by (2π)^{−d/2}."""
    import jax
    import jax.numpy as jnp

    from metricflow.kernels.frozen import periodic_features

    d = manifold.dim
    model = relu_model(depth)
    feats = jnp.asarray(periodic_features(manifold.points.reshape(-1, d)))
    params0, _ = model.init(jax.random.PRNGKey(seed), 2 * d, int(width), n_out=P, dtype=jnp.float64)
    scale = (2 * np.pi) ** (-d / 2)
    aux = {"features": feats, "out0": model.apply(params0, feats, {}), "scale": jnp.asarray(scale)}
    n_params = sum(int(np.prod(a.shape)) for a in jax.tree_util.tree_leaves(params0))
    return params0, aux, "relu", (P, model.apply), {"scale": scale, "parameters": n_params}


def reference_state(manifold: Torus, arch: str, sigma, depth: int, P: int, local: bool = False):
    """The infinite-width flow of the architecture (or its σ → 0 limit, ``local``)."""
    import jax.numpy as jnp

    state0 = jnp.zeros(manifold.shape + (P,))
    if local:
        return state0, {}, "local", (P,), {}
    if arch == "cosnet":
        return state0, {}, "gaussian", (P, float(sigma)), {}
    from metricflow.kernels.frozen import frozen_ntk_matrix

    K = jnp.asarray(frozen_ntk_matrix(manifold, activation="relu", depth=depth, w_std=RELU_W_STD,
                                      b_std=RELU_B_STD))
    return state0, {"K": K}, "matrix", (P,), {}
