"""Non-local flows with a frozen infinite-width NTK (eq. 2.12), component-wise (eq. 2.23).

    ∂_t g_ij(x) = ∫ dμ(x') Θ̄(x, x') V_ij(x'),

with ``V`` the local velocity of the loss (−2 R_ij for the Ricci loss, so that a δ-kernel
gives back eq. 2.39), ``Θ̄`` the frozen NTK of a fully connected network
(:func:`metricflow.kernels.mlp.mlp_kernels`) and ``dμ = d^dx / (2π)^d``, the uniform
probability measure on the torus (section 2.1 allows any fixed measure). The network sees
the periodic features ``(cos x_1, sin x_1, …, cos x_d, sin x_d)``, so it is a function on
the torus. The kernel is frozen: it is computed once, as an N × N matrix on the grid
(N = n^d points), and each velocity is one matrix product per component.
"""

from __future__ import annotations

import numpy as np

from metricflow.errors import InvalidInputError
from metricflow.manifolds.torus import Torus

#: refuse to build frozen kernel matrices above this many grid points (N² float64)
MAX_POINTS = 8192


def parse_ntk_kernel(kernel: str) -> dict:
    """``"ntk:relu"`` or ``"ntk:gelu:2"`` (activation, optional depth) -> options."""
    parts = kernel.split(":")
    if parts[0] != "ntk" or len(parts) not in (2, 3):
        raise InvalidInputError("kernel", f"expected ntk:ACTIVATION[:DEPTH], got {kernel!r}")
    from metricflow.kernels.mlp import ACTIVATIONS

    if parts[1] not in ACTIVATIONS:
        raise InvalidInputError("kernel", f"expected an activation in {list(ACTIVATIONS)} in {kernel!r}")
    depth = 1
    if len(parts) == 3:
        if not parts[2].isdigit() or int(parts[2]) < 1:
            raise InvalidInputError("kernel", f"expected a positive integer depth in {kernel!r}")
        depth = int(parts[2])
    return {"activation": parts[1], "depth": depth}


def periodic_features(points: np.ndarray) -> np.ndarray:
    """``(cos x_1, sin x_1, …)``: a torus point as a network input."""
    return np.concatenate([np.cos(points), np.sin(points)], axis=-1)


def frozen_ntk_matrix(manifold: Torus, activation: str = "relu", depth: int = 1, w_std: float = 1.0,
                      b_std: float = 0.1) -> np.ndarray:
    """The frozen NTK between all grid points times the quadrature weight of ``dμ``:
    ``K[a, b] = Θ̄(x_a, x_b) μ_b`` with ``μ_b = 1/N``."""
    if manifold.npoints > MAX_POINTS:
        raise InvalidInputError("n", f"{manifold.npoints} grid points exceed {MAX_POINTS} for a frozen "
                                "kernel matrix; use a coarser grid")
    from metricflow.kernels.mlp import mlp_kernels

    feats = periodic_features(manifold.points.reshape(-1, manifold.dim))
    theta = mlp_kernels(feats, activation=activation, depth=depth, w_std=w_std, b_std=b_std)["ntk"]
    return theta / manifold.npoints


def frozen_ntk_velocity(manifold: Torus, local_velocity, K):
    """Apply the component-wise frozen kernel matrix ``K`` to a local velocity field."""
    d = manifold.dim
    flat = local_velocity.reshape(manifold.npoints, d * d)
    return (K @ flat).reshape(manifold.shape + (d, d))
