"""Non-local flows with a frozen infinite-width NTK (eq. 2.12), component-wise (eq. 2.23).

    ∂_t g_ij(x) = ∫ dμ(x') Θ̄(x, x') V_ij(x'),

with ``V`` the local velocity of the loss (−2 R_ij for the Ricci loss, so that a δ-kernel
gives back eq. 2.39), ``Θ̄`` the frozen NTK of a fully connected network
(:func:`metricflow.kernels.mlp.mlp_kernels`) and ``dμ = d^dx / (2π)^d``, the uniform
probability measure on the torus (section 2.1 allows any fixed measure). The network sees
the periodic features ``(cos x_1, sin x_1, …, cos x_d, sin x_d)``, so it is a function on
the torus. The kernel is frozen: it is computed once, as an N × N matrix on the grid
(N = n^d points), and each velocity is one matrix product per component.

On the 2-sphere the network sees the embedding ``x ∈ S² ⊂ R³``. Inputs of unit norm
make the NTK *zonal*, ``Θ̄(x, x') = κ(x·x')``, and by the Funk–Hecke theorem it acts on
spherical harmonics of degree l by one number,

    ∫ dμ(x') κ(x·x') Y_lm(x') = λ_l Y_lm(x),   λ_l = ½ ∫_{-1}^{1} κ(t) P_l(t) dt,

with ``dμ = dA_round/4π`` (:func:`zonal_ntk_spectrum`). The frozen-kernel flow of the
conformal factor (a scalar network for u, ``g = e^{2u} g_round``) is then diagonal:
exact on the band, with no N × N matrix.

:class:`FrozenNTK` is the kernel object (``ntk:ACTIVATION[:DEPTH]``) that applies itself
on both.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metricflow.errors import InvalidInputError
from metricflow.kernels.base import Kernel
from metricflow.manifolds.sphere import Sphere
from metricflow.manifolds.torus import Torus

#: refuse to build frozen kernel matrices above this many grid points (N² float64)
MAX_POINTS = 8192


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


def zonal_ntk_spectrum(lmax: int, activation: str = "relu", depth: int = 1, w_std: float = 1.0,
                       b_std: float = 0.1, nodes: int | None = None) -> np.ndarray:
    """Funk–Hecke eigenvalues ``λ_l`` (l = 0…lmax) of the frozen MLP NTK on S² (module
    docstring): ``λ_l = ½ ∫_0^π κ(cos θ) P_l(cos θ) sin θ dθ`` by Gauss–Legendre in θ.

    The quadrature is in θ rather than in t = cos θ because the arc-cosine kernels are
    smooth in the angle but have a square-root branch in t at t = 1 (the ReLU NTK); in
    θ it converges to round-off with ~200 nodes at every depth (measured; the default
    ``2 lmax + 256`` also resolves P_l). Returns a float64 array of shape ``(lmax + 1,)``;
    the kernel is positive semi-definite, so ``λ_l ≥ 0`` up to round-off."""
    from scipy.special import eval_legendre

    from metricflow.kernels.mlp import mlp_kernels

    if isinstance(lmax, bool) or not isinstance(lmax, (int, np.integer)) or lmax < 0:
        raise InvalidInputError("lmax", f"expected a non-negative integer band limit, got {lmax!r}")
    nodes = 2 * int(lmax) + 256 if nodes is None else int(nodes)
    u, w = np.polynomial.legendre.leggauss(nodes)
    theta, w = 0.5 * np.pi * (u + 1.0), 0.5 * np.pi * w
    north = np.array([[0.0, 0.0, 1.0]])
    meridian = np.stack([np.sin(theta), np.zeros_like(theta), np.cos(theta)], axis=-1)
    kappa = mlp_kernels(north, meridian, activation=activation, depth=depth, w_std=w_std, b_std=b_std)["ntk"][0]
    P = eval_legendre(np.arange(lmax + 1)[:, None], np.cos(theta)[None, :])
    return 0.5 * P @ (kappa * np.sin(theta) * w)


@dataclass(frozen=True)
class FrozenNTK(Kernel):
    """The frozen NTK of a fully connected network of ``depth`` hidden layers and
    ``activation`` (eq. 2.12, :func:`metricflow.kernels.mlp.mlp_kernels`): a dense matrix
    on a torus grid (:func:`frozen_ntk_matrix`), the Funk–Hecke spectrum on S²
    (:func:`zonal_ntk_spectrum`)."""

    activation: str = "relu"
    depth: int = 1

    def __post_init__(self):
        from metricflow.kernels.mlp import ACTIVATIONS

        if self.activation not in ACTIVATIONS:
            raise InvalidInputError("kernel", f"expected an activation in {list(ACTIVATIONS)} in ntk:ACTIVATION, "
                                    f"got {self.activation!r}")
        if isinstance(self.depth, bool) or not isinstance(self.depth, int | np.integer) or self.depth < 1:
            raise InvalidInputError("kernel", f"expected a positive integer depth in ntk:ACTIVATION:DEPTH, "
                                    f"got {self.depth!r}")

    @classmethod
    def parse(cls, text: str) -> FrozenNTK:
        """``"ntk:relu"`` or ``"ntk:gelu:2"`` (activation, optional depth)."""
        parts = text.split(":")
        if parts[0] != "ntk" or len(parts) not in (2, 3):
            raise InvalidInputError("kernel", f"expected ntk:ACTIVATION[:DEPTH], got {text!r}")
        depth = 1
        if len(parts) == 3:
            if not (parts[2].isascii() and parts[2].isdigit()) or int(parts[2]) < 1:
                raise InvalidInputError("kernel", f"expected a positive integer depth in {text!r}")
            depth = int(parts[2])
        return cls(parts[1], depth)

    @property
    def spec(self) -> str:
        return f"ntk:{self.activation}" + (f":{self.depth}" if self.depth != 1 else "")

    def operator(self, manifold):
        if isinstance(manifold, Torus):
            import jax.numpy as jnp

            K = jnp.asarray(frozen_ntk_matrix(manifold, activation=self.activation, depth=self.depth))
            return lambda V: frozen_ntk_velocity(manifold, V, K)
        if isinstance(manifold, Sphere):
            # zonal, so diagonal in the harmonics (Funk–Hecke, module docstring)
            weights = zonal_ntk_spectrum(manifold.lmax, activation=self.activation, depth=self.depth)
            weights = weights[manifold.degrees]
            return lambda v: manifold.synthesis(manifold.analysis(v) * weights)
        raise self.refuse(manifold, "the tori and sphere2")
