"""The Gauss-net (Halverson–Maiti–Stoner, arXiv 2008.08601) in NTK parameterisation, last
layer trained (eq. 2.33), and its frozen NTK (docs/ntk.md, "The Gauss-net"):

    φ(x) = A/√N Σ_k a_k exp(w_k·x + b_k − σ_b² − σ_w²|x|²/d),
    a ~ N(0, σ_a²),   w_k ~ N(0, σ_w²/d I_d),   b ~ N(0, σ_b²),

whose NTK tends to ``Θ̄ = A² exp(−σ_w² r²/(2d))``, the normalised Gaussian of width
``σ = √d/σ_w`` for ``A = (σ_w/√(2πd))^{d/2}``, independent of σ_b
(:func:`metricflow.kernels.gaussian.gaussian_ntk` with ``arch="gaussnet"``). The
fluctuations at finite width grow like ``exp(σ_b²)`` (log-normal features).
"""

from __future__ import annotations

import functools
import math

from metricflow.models.base import Model
from metricflow.models.cosnet import _check_positive, draw


def features(x, frozen):
    """``exp(w·x + b − σ_b² − σ_w²|x|²/d)``: (N,) at a point (d,), (n, N) on a batch."""
    import jax.numpy as jnp

    pre = x @ frozen["w"].T + frozen["b"]
    d = frozen["w"].shape[1]
    sq = jnp.sum(x * x, axis=-1, keepdims=True) if x.ndim > 1 else jnp.sum(x * x)
    return jnp.exp(pre - frozen["sigma_b"] ** 2 - frozen["sigma_w"] ** 2 * sq / d)


def apply(params, x, frozen):
    """``φ(x) = A/√N features(x) a``: (n_out,) at a point, (n, n_out) on a batch."""
    import jax.numpy as jnp

    return frozen["A"] / jnp.sqrt(params["a"].shape[0]) * (features(x, frozen) @ params["a"])


@functools.lru_cache(maxsize=32)
def gaussnet(sigma_w: float = 1.0, sigma_a: float = 1.0, sigma_b: float = 1.0) -> Model:
    """The Gauss-net with the normalising ``A(d, σ_w)``: kernel the normalised Gaussian."""
    from metricflow.kernels import gaussian

    sigma_w = _check_positive("sigma_w", sigma_w)
    sigma_b = _check_positive("sigma_b", sigma_b)

    def init(key, d_in: int, width: int, n_out: int = 1, dtype=None):
        import jax
        import jax.numpy as jnp

        A = gaussian.constants("gaussnet", d_in, sigma_w)["A"]
        params, frozen = draw(key, width, n_out,
                              lambda k, n: sigma_w / math.sqrt(d_in) * jax.random.normal(k, (n, d_in), jnp.float64),
                              lambda k, n: sigma_b * jax.random.normal(k, (n,), jnp.float64), sigma_a)
        return params, {**frozen, "A": A, "sigma_w": sigma_w, "sigma_b": sigma_b}

    def kernel(x1, x2=None):
        return gaussian.gaussian_ntk(x1, x2, arch="gaussnet", sigma_w=sigma_w)

    return Model("gaussnet", init, apply, kernel, (("sigma_w", sigma_w), ("sigma_a", sigma_a), ("sigma_b", sigma_b)))
