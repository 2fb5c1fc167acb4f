"""Cos-net and Gauss-net: Gaussian frozen NTKs, analytic and at finite width (eqs. 2.27-2.37).

The formulas are lambdified from the derivations in :mod:`metricflow.symbolic.ntk`
(never re-typed): ``A(d, sigma_w)``, ``sigma(d, sigma_w)`` and the kernel in ``r``.

Networks (corrected eq. 2.32; see docs/ntk.md)::

    cos-net:    phi(x) = A/sqrt(N) sum_i a_i cos(w_i.x + b_i),   b ~ U(-pi, pi)
    Gauss-net:  phi(x) = A/sqrt(N) sum_i a_i exp(w_i.x + b_i - sigma_b^2 - sigma_w^2 |x|^2/d),
                b ~ N(0, sigma_b^2)

with ``a ~ N(0, sigma_a^2)``, ``w_i ~ N(0, sigma_w^2/d I_d)``; only ``a`` is trained (2.33).
Both have the frozen NTK ``N_sigma(|x - x'|)``, the normalised Gaussian of width
``sigma = sqrt(d)/sigma_w`` (2.35-2.37), optionally rescaled by a deterministic ``h``
(2.15-2.16, 2.28): ``h(x) h(x') N_sigma(|x - x'|)``.  The finite-width networks, with
these kernels beside them, are :mod:`metricflow.models.cosnet` and
:mod:`metricflow.models.gaussnet`.
"""

from __future__ import annotations

from functools import lru_cache

import jax.numpy as jnp
import numpy as np

from metricflow._x64 import x64
from metricflow.errors import InvalidInputError

ARCHS = ("cosnet", "gaussnet")


@lru_cache(maxsize=4)
def _lambdified(arch: str):
    import sympy as sp

    from metricflow.symbolic import ntk as sym

    res = sym.cosnet() if arch == "cosnet" else sym.gaussnet()
    args = (sym.d_sym, sym.sigma_w)
    A = sp.lambdify(args, res.A, "math")
    sigma = sp.lambdify(args, res.sigma, "math")
    kernel = sp.lambdify((sym.r, *args), res.kernel, "jax")
    # kernel for a general normalisation A: kernel_A / A^2 is A-independent
    shape = sp.lambdify((sym.r, *args), sp.simplify(res.kernel_A / sym.A_sym**2), "jax")
    return A, sigma, kernel, shape


def _check_arch(arch):
    if arch not in ARCHS:
        raise InvalidInputError("arch", f"must be one of {list(ARCHS)}, got {arch!r}")


def _check_pos(value, name):
    if not (isinstance(value, (int, float, np.floating, np.integer)) and np.isfinite(value)
            and value > 0):
        raise InvalidInputError(name, f"must be a positive number, got {value!r}")


def constants(arch: str, dim: int, sigma_w: float) -> dict:
    """Normalisation ``A`` and width ``sigma`` (floats) of the network (eqs. 2.36-2.37,
    corrected; Gauss-net analogue)."""
    _check_arch(arch)
    if not isinstance(dim, (int, np.integer)) or dim < 1:
        raise InvalidInputError("dim", f"must be a positive integer, got {dim!r}")
    _check_pos(sigma_w, "sigma_w")
    A, sigma, _, _ = _lambdified(arch)
    args = (int(dim), float(sigma_w))
    return {"A": float(A(*args)), "sigma": float(sigma(*args))}


def _points(x, name, dim=None):
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or (dim is not None and arr.shape[1] != dim):
        raise InvalidInputError(name, f"must be an (n, {dim or 'd'}) array, got shape {arr.shape}")
    return arr


def gaussian_ntk(x1, x2=None, *, arch: str = "cosnet", sigma_w: float = 1.0, A: float | None = None,
                 h=None) -> np.ndarray:
    """Analytic frozen NTK ``Theta_bar(x, x')`` of the cos-net / Gauss-net (eq. 2.35; 2.27).

    With ``A=None`` the normalised Gaussian (2.36-2.37 corrected); with a number ``A`` the
    kernel of that network.  ``h`` (a function of an (n, d) array returning (n,)) applies
    the rescaling trick (2.15-2.16, 2.28): ``h(x) h(x') Theta_bar``.  Returns (n1, n2).
    """
    _check_arch(arch)
    _check_pos(sigma_w, "sigma_w")
    a = _points(x1, "x1")
    b = a if x2 is None else _points(x2, "x2", a.shape[1])
    d = a.shape[1]
    _, _, kernel, shape = _lambdified(arch)
    with x64():
        r = jnp.sqrt(jnp.maximum(jnp.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=-1), 0.0))
        if A is None:
            k = kernel(r, d, float(sigma_w))
        else:
            k = A**2 * shape(r, d, float(sigma_w))
        if h is not None:
            k = jnp.asarray(h(a))[:, None] * k * jnp.asarray(h(b))[None, :]
        return np.asarray(k, dtype=np.float64)


# ----------------------------------------------------------------- the flow kernel
from dataclasses import dataclass  # noqa: E402  (kept apart from the network functions above)

from metricflow.kernels.base import Kernel  # noqa: E402


@dataclass(frozen=True)
class Gaussian(Kernel):
    """The semi-local kernel of width σ (eq. 2.30): the frozen NTK of the cos-net above,
    a normalised Gaussian that tends to δ as σ → 0 (eq. 2.31). Applied

    * on a torus: the periodised Gaussian by FFT, multiplier ``e^{−σ²|k|²/2}``
      (:func:`metricflow.flows.semilocal.smear_fft`; integer frequencies, docs/ntk.md);
    * on S²: the round heat kernel at time σ²/2, ``e^{−σ² l(l+1)/2}`` per degree l;
    * on a :class:`~metricflow.manifolds.PointCloud`: ``(2πσ²)^{−k} e^{−d²/(2σ²)}`` of the FS
      geodesic distance d (real dimension 2k) against ``dVol_FS``, in blocks of points, on
      metric-type fields (the FS-natural gradient), the tensors of different points added in
      C^{n+1} through the tangent embedding and read back in each point's chart — (★) of
      :mod:`metricflow.kernels.pointcloud`, a descent direction for the σ-flow wherever the
      kernel is positive semi-definite.
    """

    sigma: float

    def __post_init__(self):
        if not (isinstance(self.sigma, int | float | np.floating) and np.isfinite(self.sigma) and self.sigma > 0):
            raise InvalidInputError("kernel", f"expected a finite positive width in gaussian:SIGMA, got {self.sigma!r}")
        object.__setattr__(self, "sigma", float(self.sigma))

    @property
    def spec(self) -> str:
        return f"gaussian:{self.sigma!r}"

    def operator(self, manifold):
        from metricflow.manifolds import PointCloud, Sphere, Torus

        if isinstance(manifold, Torus):
            from metricflow.flows.semilocal import smear_fft

            return lambda V: smear_fft(manifold, V, self.sigma)
        if isinstance(manifold, Sphere):
            weights = np.exp(0.5 * self.sigma**2 * manifold.laplacian_eigenvalues)
            return lambda v: manifold.synthesis(manifold.analysis(v) * weights)
        if isinstance(manifold, PointCloud):
            from metricflow.kernels.pointcloud import fs_gaussian_operator

            return fs_gaussian_operator(manifold, self.sigma)
        raise self.refuse(manifold, "the tori, sphere2 and point clouds")

    def extend(self, manifold, values, targets):
        """``Θ · values`` at new points ``targets`` (a :class:`~metricflow.cy.PointSet` of the
        same hypersurface), in each target's own chart: the prediction of the trained
        kernel machine at test points."""
        from metricflow.kernels.pointcloud import fs_gaussian_extend

        return fs_gaussian_extend(manifold, values, targets, self.sigma)
