"""Semi-local metric flows: the local velocity smeared by a normalised Gaussian (eq. 2.30).

With component-wise networks (2.23), the frozen kernel of eq. (2.28) and a flat
reference metric, the flow (2.30) is

    ∂_t g_ij(x) = ∫ d^dx' K_σ(x − x') V_ij(x'),   K_σ = (2πσ²)^{-d/2} e^{-|x−x'|²/(2σ²)},

where ``V`` is the local velocity (e.g. −2 R_ij for the Ricci loss) and ᾱ = 1 (the
normalised cos-net; see docs/ntk.md).  On a torus the network with *integer*
frequencies has the *periodised* Gaussian as its kernel, whose Fourier coefficients
are exactly ``e^{−σ²|k|²/2}``: the smearing is then an FFT multiplier, exact and
O(N log N), and never materialises an N × N × components tensor.  For points that
are not a uniform grid (a batch, eq. 2.3) :func:`smear_blocked` sums the periodised
kernel block by block with O(block × N) memory.  As σ → 0 the flow tends to the
local flow (2.31) with an O(σ²) error.
"""

from __future__ import annotations

import numpy as np

from metricflow._linalg import namespace
from metricflow.errors import InvalidInputError
from metricflow.manifolds.torus import Torus


def _check_sigma(sigma: float) -> None:
    if not sigma > 0:
        raise InvalidInputError("sigma", f"expected a positive Gaussian width, got {sigma}")


def smear_fft(manifold: Torus, field, sigma: float):
    """Convolve a grid field (trailing component axes allowed) with the periodised
    normalised Gaussian of width ``sigma``, by FFT."""
    _check_sigma(sigma)
    xp = namespace(field)
    d = manifold.dim
    k2 = sum(k**2 for k in manifold.wavenumbers)
    mult = np.exp(-0.5 * sigma**2 * k2)
    mult = mult.reshape(mult.shape + (1,) * (field.ndim - d))
    axes = tuple(range(d))
    return xp.real(xp.fft.ifftn(xp.fft.fftn(field, axes=axes) * mult, axes=axes))


def _images(sigma: float) -> int:
    """Periodic images per direction so that the first omitted one is below 1e-16:
    with the minimal-image offset |dx| ≤ π, the image m+1 lies at distance ≥ (2m+1)π."""
    for m in range(4):
        if np.exp(-((2 * m + 1) * np.pi) ** 2 / (2 * sigma**2)) < 1e-16:
            return m
    raise InvalidInputError("sigma", f"σ = {sigma} is too wide for a direct periodic sum; use smear_fft")


def periodic_gaussian(dx, sigma: float, images: int | None = None):
    """The normalised Gaussian of width σ periodised over ``[0, 2π)^d``; the number of
    periodic images is chosen so that the truncation error is below 1e-16."""
    xp = namespace(dx)
    images = _images(sigma) if images is None else images
    d = dx.shape[-1]
    dx = (dx + np.pi) % (2 * np.pi) - np.pi
    total = 0.0
    shifts = np.arange(-images, images + 1) * 2 * np.pi
    for axis_shifts in np.stack(np.meshgrid(*([shifts] * d), indexing="ij"), -1).reshape(-1, d):
        total = total + xp.exp(-0.5 * xp.sum((dx + axis_shifts) ** 2, axis=-1) / sigma**2)
    return total / (2 * np.pi * sigma**2) ** (d / 2)


def smear_blocked(points, values, weights, sigma: float, block: int = 1024, targets=None):
    """``out(x) = Σ_y K_σ(x − y) values(y) weights(y)`` for scattered points on the torus,
    in blocks of ``block`` target points (memory O(block × len(points)))."""
    import jax
    import jax.numpy as jnp

    _check_sigma(sigma)
    targets = points if targets is None else targets
    wv = values * weights.reshape((-1,) + (1,) * (values.ndim - 1))
    flat = wv.reshape(wv.shape[0], -1)
    n = targets.shape[0]
    pad = (-n) % block
    tpad = jnp.concatenate([targets, jnp.zeros((pad, targets.shape[1]), targets.dtype)])

    def one_block(tb):
        K = periodic_gaussian(tb[:, None, :] - points[None, :, :], sigma)
        return K @ flat

    out = jax.lax.map(one_block, tpad.reshape(-1, block, targets.shape[1]))
    return out.reshape(-1, flat.shape[1])[:n].reshape((n,) + values.shape[1:])


def smear_dense(points, values, weights, sigma: float):
    """The naive way, for comparison: materialise the N × N kernel matrix."""
    K = periodic_gaussian(points[:, None, :] - points[None, :, :], sigma)
    wv = values * weights.reshape((-1,) + (1,) * (values.ndim - 1))
    return (K @ wv.reshape(wv.shape[0], -1)).reshape(values.shape)


def semilocal_ricci_velocity(manifold: Torus, g, sigma: float):
    """Eq. (2.30) with the Ricci loss: the local velocity −2 R_ij smeared at width σ."""
    from metricflow.flows.torus import ricci_velocity

    return smear_fft(manifold, ricci_velocity(manifold, g), sigma)
