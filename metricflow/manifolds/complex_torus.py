"""The flat complex torus ``T^{2n} = C^n/(Z^n + iZ^n)`` with a Kähler potential on a grid.

The reference potential is ``K_0 = Σ g0_{ab̄} z^a z̄^b`` (flat metric ``g0``, B.5–B.6) and
the correction φ is a periodic function on a uniform ``N^{2n}`` grid; the metric is
``g_{ab̄} = g0_{ab̄} + ∂_a∂̄_b φ``.  Jets are spectral (FFT) derivatives with
``∂_z = ½(∂_x − i∂_y)``; the Nyquist modes are zeroed so that every derivative is exactly
skew-adjoint for the grid sum (discrete integration by parts is exact).  The torus has
area 1 in ``d^{2n}x`` and the quadrature is the grid mean (spectral for smooth fields).

Like :class:`~metricflow.manifolds.torus.Torus`, it works on numpy arrays (float64, no JAX)
or on JAX arrays (then in JAX's current precision: call inside :func:`metricflow._x64.x64`
for float64); nothing here switches JAX's precision for the process.
"""

from __future__ import annotations

import itertools
from functools import cached_property

import numpy as np

from metricflow._linalg import namespace
from metricflow.errors import InvalidInputError
from metricflow.manifolds.base import Manifold


class ComplexTorus(Manifold):
    """``T^{2n} = C^n/(Z^n + iZ^n)``, ``K_0 = Σ g0_{ab̄} z^a z̄^b``, φ on an ``N^{2n}`` grid.

    Axes of a grid function: ``(x^1..x^n, y^1..y^n)`` with ``z^a = x^a + i y^a``.
    ``κ = det g0`` makes ``∫ η μ_CY = ∫ μ_CY`` for Ω = dz^1∧…∧dz^n (B.10; exact on the grid:
    the mean of ``det(g0 + ∂∂̄φ) − det g0`` is a sum of total derivatives)."""

    def __init__(self, n: int = 1, N: int = 32, g0=None):
        if n < 1 or N < 4 or N % 2:
            raise InvalidInputError("N", f"expected n >= 1 and an even N >= 4, got n={n}, N={N}")
        self.n, self.N = n, N
        self.g0 = np.eye(n) if g0 is None else np.asarray(g0, dtype=complex)
        if self.g0.shape != (n, n):
            raise InvalidInputError("g0", f"expected a {n} x {n} hermitian matrix, got shape {self.g0.shape}")
        self.kappa = float(np.linalg.det(self.g0).real)
        k = np.fft.fftfreq(N, 1.0 / N)
        k[np.abs(k) == N // 2] = 0.0  # Nyquist: zero, so derivatives are exactly skew
        grids = np.meshgrid(*([k] * (2 * n)), indexing="ij")
        kx, ky = grids[:n], grids[n:]
        self._mz = [np.pi * (1j * kx[a] + ky[a]) for a in range(n)]
        self._mzb = [np.pi * (1j * kx[a] - ky[a]) for a in range(n)]

    @property
    def name(self) -> str:
        return f"ctorus{self.n}"

    @property
    def dim(self) -> int:
        """Real dimension ``2n``."""
        return 2 * self.n

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.N,) * (2 * self.n)

    @property
    def npoints(self) -> int:
        return self.N ** (2 * self.n)

    @property
    def cell_volume(self) -> float:
        """Quadrature weight of each point: ``1/N^{2n}`` (the torus has area 1)."""
        return 1.0 / self.npoints

    @property
    def weights(self) -> np.ndarray:
        """``1/N^{2n}`` at every point: :meth:`integrate` is the grid mean."""
        return np.full(self.shape, self.cell_volume)

    def reference_metric(self) -> np.ndarray:
        """The flat hermitian metric ``g0_{ab̄}`` at every point, ``shape + (n, n)``."""
        return np.broadcast_to(self.g0.astype(complex), self.shape + (self.n, self.n)).copy()

    def volume_form(self) -> np.ndarray:
        """``det g0`` (= κ) at every point."""
        return np.full(self.shape, self.kappa)

    def settings(self) -> dict:
        """``manifold``, ``n`` (the grid) and the reference metric, for checkpoints."""
        g0 = np.asarray(self.g0, dtype=complex)
        return {"manifold": self.name, "n": self.N, "g0": [[[v.real, v.imag] for v in row] for row in g0]}

    @cached_property
    def points(self) -> np.ndarray:
        """Grid coordinates ``(x^1..x^n, y^1..y^n)`` in ``[0, 1)``, shape ``shape + (2n,)``."""
        x = np.arange(self.N) / self.N
        return np.stack(np.meshgrid(*([x] * (2 * self.n)), indexing="ij"), axis=-1)

    def derivatives(self, f, alphas):
        """``{alpha: ∂^alpha f}`` of a periodic grid function (spectral, complex arrays);
        ``alpha`` counts ``∂_{z^a}`` then ``∂_{z̄^b}``."""
        xp = namespace(f)
        n = self.n
        fh = xp.fft.fftn(f)
        out = {}
        for alpha in alphas:
            m = 1.0
            for a in range(n):
                m = m * self._mz[a] ** alpha[a] * self._mzb[a] ** alpha[n + a]
            out[alpha] = xp.fft.ifftn(m * fh)
        return out

    def jets(self, phi, alphas=2):
        """``{alpha: ∂^alpha u}`` for ``u = K_0 + φ``: the jets of a Kähler manifold are those of
        its potential, indexed by multi-indices (``alpha`` counts ``∂_{z^a}`` then ``∂_{z̄^b}``);
        an integer ``alphas`` asks for every multi-index of order 2 to ``alphas``. Only
        orders >= 2 are meaningful: lower jets of the non-periodic K_0 are replaced by those
        of φ; the compiled kernels of :mod:`metricflow.symbolic.codegen_potential` never
        read them (see tests)."""
        n = self.n
        if isinstance(alphas, int | np.integer):
            alphas = [a for a in itertools.product(range(int(alphas) + 1), repeat=2 * n) if 2 <= sum(a) <= alphas]
        out = self.derivatives(phi, alphas)
        for alpha, val in out.items():
            if sum(alpha) == 2:
                hol = [a for a in range(n) if alpha[a]]
                anti = [b for b in range(n) if alpha[n + b]]
                if len(hol) == 1 and len(anti) == 1:
                    val = val + self.g0[hol[0], anti[0]]
            out[alpha] = val
        return out

    def integrate(self, f):
        """``∫ f d^{2n}x`` (area 1): the grid mean (spectrally accurate for smooth f)."""
        return namespace(f).mean(f)

    def random_phi(self, seed: int, size: float = 0.3, kmax: int = 2) -> np.ndarray:
        """A real, band-limited random φ (numpy, float64): Fourier modes ``|k_i| <= kmax``
        with normal coefficients, scaled so that ``max |∂_a∂̄_b φ| = size`` (``size < min eig
        g0`` keeps ``g0 + ∂∂̄φ`` positive definite in complex dimension 1)."""
        rng = np.random.default_rng(seed)
        phi = np.zeros(self.shape)
        ks = range(-kmax, kmax + 1)
        axes = [self.points[..., i] for i in range(2 * self.n)]
        for kv in itertools.product(ks, repeat=2 * self.n):
            if not any(kv):
                continue
            c, s = rng.normal(size=2)
            arg = sum(2 * np.pi * kk * p for kk, p in zip(kv, axes, strict=True))
            phi = phi + c * np.cos(arg) + s * np.sin(arg)
        n = self.n
        mixed = [tuple(int(i == a) for i in range(n)) + tuple(int(i == b) for i in range(n))
                 for a in range(n) for b in range(n)]
        scale = max(float(np.max(np.abs(v))) for v in self.derivatives(phi, mixed).values())
        return phi * (size / scale)


__all__ = ["ComplexTorus"]
