"""The flat torus T^d = [0, 2π)^d with a uniform periodic grid and spectral derivatives.

Fields on the grid have the spatial axes first: a metric is ``(n,)*d + (d, d)``.
Jets follow docs/conventions.md (derivative indices last). Quadrature with the
uniform weights ``(2π/n)^d`` is spectrally accurate for smooth periodic integrands
(the reference measure dμ of section 2.1 is the coordinate measure d^d x).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from metricflow._linalg import namespace
from metricflow.errors import InvalidInputError
from metricflow.manifolds.base import Manifold


@dataclass(frozen=True)
class Torus(Manifold):
    """``T^dim`` sampled on ``n`` points per direction."""

    dim: int
    n: int

    def __post_init__(self):
        if self.dim not in (1, 2, 3):
            raise InvalidInputError("dim", f"expected 1, 2 or 3, got {self.dim}")
        if self.n < 4 or self.n % 2:
            raise InvalidInputError("n", f"expected an even number of grid points >= 4, got {self.n}")

    @property
    def name(self) -> str:
        return f"torus{self.dim}"

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.n,) * self.dim

    @property
    def npoints(self) -> int:
        return self.n**self.dim

    @cached_property
    def points(self) -> np.ndarray:
        """Grid coordinates, shape ``shape + (dim,)``."""
        t = np.arange(self.n) * (2 * np.pi / self.n)
        return np.stack(np.meshgrid(*([t] * self.dim), indexing="ij"), axis=-1)

    @property
    def weights(self) -> np.ndarray:
        """The uniform quadrature weights ``(2π/n)^dim`` (of ``d^dx``), shape :attr:`shape`."""
        return np.full(self.shape, self.cell_volume)

    def reference_metric(self) -> np.ndarray:
        """The flat metric δ_ij at every grid point."""
        return np.broadcast_to(np.eye(self.dim), self.shape + (self.dim, self.dim)).copy()

    def volume_form(self) -> np.ndarray:
        """``√det δ = 1`` at every grid point."""
        return np.ones(self.shape)

    def settings(self) -> dict:
        return {"manifold": self.name, "n": self.n}

    @property
    def cell_volume(self) -> float:
        """Quadrature weight of each point: ``(2π/n)^dim``."""
        return (2 * np.pi / self.n) ** self.dim

    @cached_property
    def wavenumbers(self) -> list[np.ndarray]:
        """Integer wave numbers per axis, broadcastable to ``shape``; the Nyquist mode is
        zeroed for odd derivatives (it has no real derivative on the grid)."""
        k = np.fft.fftfreq(self.n, d=1.0 / self.n)
        out = []
        for axis in range(self.dim):
            sh = [1] * self.dim
            sh[axis] = self.n
            out.append(k.reshape(sh))
        return out

    def jets(self, field, order: int = 2):
        """Spectral derivatives of a grid field with trailing component axes.

        Returns ``(F, dF, ddF)`` (up to ``order``) with the derivative indices appended
        last: ``dF[..., k] = ∂_k F``, ``ddF[..., k, l] = ∂_k∂_l F``. Works on numpy
        or JAX arrays (JAX is used when ``field`` is a JAX array)."""
        xp = namespace(field)
        d = self.dim
        axes = tuple(range(d))
        extra = field.ndim - d
        Fh = xp.fft.fftn(field, axes=axes)
        nyq = self.n // 2

        def deriv(spec, ks):
            factor = 1.0
            for axis in set(ks):
                m = ks.count(axis)
                kk = self.wavenumbers[axis]
                if m % 2 == 1:  # an odd derivative of the Nyquist mode is not real: drop it
                    kk = np.where(np.abs(kk) == nyq, 0.0, kk)
                factor = factor * (1j * kk) ** m
            factor = factor.reshape(factor.shape + (1,) * extra)
            return xp.real(xp.fft.ifftn(spec * factor, axes=axes))

        out = [field]
        if order >= 1:
            out.append(xp.stack([deriv(Fh, (k,)) for k in range(d)], axis=-1))
        if order >= 2:
            rows = []
            for k in range(d):
                rows.append(xp.stack([deriv(Fh, (k, l)) for l in range(d)], axis=-1))
            out.append(xp.stack(rows, axis=-2))
        return tuple(out)

    def _first_derivative(self, field, axis: int):
        xp = namespace(field)
        axes = tuple(range(self.dim))
        extra = field.ndim - self.dim
        kk = np.where(np.abs(self.wavenumbers[axis]) == self.n // 2, 0.0, self.wavenumbers[axis])
        factor = (1j * kk).reshape(kk.shape + (1,) * extra)
        return xp.real(xp.fft.ifftn(xp.fft.fftn(field, axes=axes) * factor, axes=axes))

    def gradient(self, field):
        """``∂_k field`` appended as a last axis (spectral, Nyquist mode dropped, so the
        derivative matrix is real and skew-symmetric)."""
        xp = namespace(field)
        return xp.stack([self._first_derivative(field, k) for k in range(self.dim)], axis=-1)

    def divergence(self, vector):
        """``Σ_k ∂_k V_k`` of a grid field with a trailing axis of length ``dim``: minus the
        transpose of :meth:`gradient` (summation by parts holds exactly on the grid)."""
        return sum(self._first_derivative(vector[..., k], k) for k in range(self.dim))

    def integrate(self, density):
        """``∫ density d^dx`` over the torus (trapezoid = spectral for periodic fields)."""
        xp = namespace(density)
        return xp.sum(density, axis=tuple(range(self.dim))) * self.cell_volume
