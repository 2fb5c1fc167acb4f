"""The unit 2-sphere S² with a Gauss–Legendre × uniform grid and a spherical-harmonic transform.

Fields are *scalar* grid fields of shape ``Sphere.shape = (nlat, nlon)``: rows are the
Gauss–Legendre nodes in ``cos θ`` (θ the polar angle, north pole θ = 0), columns the
uniform longitudes ``φ_k = 2πk/nlon``. No grid point lies on a pole, and nothing in the
transform is singular there: a field of degree ≤ ``lmax`` is a polynomial in the
Cartesian coordinates of the embedding ``S² ⊂ R³``.

Real orthonormal spherical harmonics (``∫ Y Y' dA_round = δ``, no Condon–Shortley phase)::

    Y_l0 = P̄_l^0(z),   Y_lm^c = √2 P̄_l^m(z) cos mφ,   Y_lm^s = √2 P̄_l^m(z) sin mφ   (m ≥ 1)

with ``2π ∫_{-1}^{1} P̄_l^m(z)² dz = 1``. Coefficients are stored as an array
``a[c, m, l]`` of shape ``(2, lmax + 1, lmax + 1)``: ``c = 0`` cosine, ``c = 1`` sine,
entries with ``l < m`` (and the sine part of ``m = 0``) are zero.

Quadrature: ``∫ h dA_round ≈ Σ w_jk h_jk`` with the Gauss–Legendre weights times
``2π/nlon``; it is exact for polynomials of degree ≤ ``2 nlat − 1`` (and longitudinal
wave numbers < ``nlon``). The default grid (``nlat = ⌈(3 lmax + 1)/2⌉``,
``nlon = 3 lmax + 1``) integrates products of *three* degree-``lmax`` fields exactly
(the "3/2 rule"), so the analysis of a quadratic nonlinearity of band-limited fields
is free of aliasing; smooth non-polynomial nonlinearities (``e^{−2u}``) alias only
through their spectrally small tails.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache

import numpy as np

from metricflow._linalg import namespace
from metricflow.errors import InvalidInputError
from metricflow.manifolds.base import Manifold

#: largest band limit accepted (the transforms are dense per-m matrices)
MAX_LMAX = 128


def _legendre_table(lmax: int, z: np.ndarray, sin_theta: np.ndarray) -> np.ndarray:
    """``P̄_l^m(z)`` of shape ``(lmax+1, lmax+1) + z.shape`` indexed ``[m, l]``; normalised
    by ``2π ∫ P̄² dz = 1`` (standard stable three-term recurrence in l)."""
    P = np.zeros((lmax + 1, lmax + 1) + z.shape)
    pmm = np.full(z.shape, 1.0 / np.sqrt(4 * np.pi))
    for m in range(lmax + 1):
        if m > 0:
            pmm = pmm * np.sqrt((2 * m + 1) / (2 * m)) * sin_theta
        P[m, m] = pmm
        if m < lmax:
            P[m, m + 1] = np.sqrt(2 * m + 3) * z * pmm
        for l in range(m + 2, lmax + 1):
            a = np.sqrt((4 * l * l - 1) / (l * l - m * m))
            b = np.sqrt(((l - 1) ** 2 - m * m) / (4 * (l - 1) ** 2 - 1))
            P[m, l] = a * (z * P[m, l - 1] - b * P[m, l - 2])
    return P


@dataclass(frozen=True)
class Sphere(Manifold):
    """The unit round sphere S², band limit ``lmax`` (fields of degree ≤ ``lmax``).

    ``nlat``/``nlon`` default to the anti-aliasing grid of the module docstring; they
    may be given explicitly (at least ``lmax + 1`` and ``2 lmax + 1``, the smallest grid
    on which analysis of a degree-``lmax`` field is exact).
    """

    lmax: int
    nlat: int | None = None
    nlon: int | None = None

    def __post_init__(self):
        if not isinstance(self.lmax, int | np.integer) or not 2 <= self.lmax <= MAX_LMAX:
            raise InvalidInputError("lmax", f"expected an integer band limit 2 <= lmax <= {MAX_LMAX}, "
                                    f"got {self.lmax!r}")
        nlat = (3 * self.lmax + 2) // 2 if self.nlat is None else self.nlat
        nlon = 3 * self.lmax + 1 if self.nlon is None else self.nlon
        if not isinstance(nlat, int | np.integer) or nlat < self.lmax + 1:
            raise InvalidInputError("nlat", f"expected an integer >= lmax + 1 = {self.lmax + 1}, got {nlat!r}")
        if not isinstance(nlon, int | np.integer) or nlon < 2 * self.lmax + 1:
            raise InvalidInputError("nlon", f"expected an integer >= 2 lmax + 1 = {2 * self.lmax + 1}, "
                                    f"got {nlon!r}")
        object.__setattr__(self, "nlat", int(nlat))
        object.__setattr__(self, "nlon", int(nlon))
        object.__setattr__(self, "lmax", int(self.lmax))

    # ------------------------------------------------------------------ grid
    @property
    def name(self) -> str:
        return "sphere2"

    @property
    def dim(self) -> int:
        return 2

    @property
    def n(self) -> int:
        """The resolution parameter (``= lmax``), for code written against ``Torus.n``."""
        return self.lmax

    @property
    def shape(self) -> tuple[int, int]:
        return (self.nlat, self.nlon)

    @property
    def npoints(self) -> int:
        return self.nlat * self.nlon

    @cached_property
    def _gauss(self):
        z, w = np.polynomial.legendre.leggauss(self.nlat)
        return z[::-1].copy(), w[::-1].copy()  # north (z = cos θ near 1) first

    @property
    def cos_theta(self) -> np.ndarray:
        """Gauss–Legendre nodes ``z_j = cos θ_j``, decreasing (north first), shape ``(nlat,)``."""
        return self._gauss[0]

    @cached_property
    def theta(self) -> np.ndarray:
        """Polar angles θ_j ∈ (0, π), shape ``(nlat,)``."""
        return np.arccos(self.cos_theta)

    @cached_property
    def phi(self) -> np.ndarray:
        """Longitudes φ_k = 2πk/nlon, shape ``(nlon,)``."""
        return np.arange(self.nlon) * (2 * np.pi / self.nlon)

    @cached_property
    def points(self) -> np.ndarray:
        """Cartesian unit vectors ``(x, y, z) = (sin θ cos φ, sin θ sin φ, cos θ)`` of the grid,
        shape ``shape + (3,)``."""
        z = self.cos_theta[:, None]
        s = np.sqrt(1.0 - z**2)
        ph = self.phi[None, :]
        return np.stack(np.broadcast_arrays(s * np.cos(ph), s * np.sin(ph), z), axis=-1)

    @cached_property
    def weights(self) -> np.ndarray:
        """Quadrature weights of ``dA_round``, shape ``shape``; they sum to 4π."""
        return np.outer(self._gauss[1], np.full(self.nlon, 2 * np.pi / self.nlon))

    def integrate(self, density):
        """``∫ density dA_round`` (numpy or JAX arrays; grid axes first, extra axes kept)."""
        xp = namespace(density)
        w = self.weights.reshape(self.shape + (1,) * (density.ndim - 2))
        return xp.sum(density * w, axis=(0, 1))

    no_jets_reason = ("its flows evolve the conformal factor u of g = e^{2u} g_round with the spectral "
                      "Laplacian (laplacian, analysis/synthesis), not jets")

    def reference_metric(self) -> np.ndarray:
        """The round metric in the coordinates (θ, φ) at the grid points: ``diag(1, sin²θ)``,
        shape ``shape + (2, 2)``."""
        out = np.zeros(self.shape + (2, 2))
        out[..., 0, 0] = 1.0
        out[..., 1, 1] = (1.0 - self.cos_theta**2)[:, None]
        return out

    def volume_form(self) -> np.ndarray:
        """``√det g_round = sin θ`` in the coordinates (θ, φ), shape ``shape``
        (:attr:`weights` already include it: they are the weights of ``dA_round``)."""
        return np.broadcast_to(np.sqrt(1.0 - self.cos_theta**2)[:, None], self.shape).copy()

    def settings(self) -> dict:
        return {"manifold": self.name, "lmax": int(self.lmax), "nlat": int(self.nlat), "nlon": int(self.nlon)}

    # -------------------------------------------------------------- spectra
    @property
    def coefficient_shape(self) -> tuple[int, int, int]:
        return (2, self.lmax + 1, self.lmax + 1)

    @cached_property
    def degrees(self) -> np.ndarray:
        """Degree ``l`` of each coefficient, broadcastable to ``coefficient_shape``."""
        return np.arange(self.lmax + 1)[None, None, :]

    @cached_property
    def coefficient_mask(self) -> np.ndarray:
        """True where a coefficient exists (``l ≥ m``, no sine part at ``m = 0``)."""
        m = np.arange(self.lmax + 1)[:, None]
        l = np.arange(self.lmax + 1)[None, :]
        mask = np.broadcast_to(l >= m, (2,) + (self.lmax + 1,) * 2).copy()
        mask[1, 0, :] = False
        return mask

    @cached_property
    def _legendre(self) -> np.ndarray:
        """``√2^{[m>0]} P̄_l^m(z_j)``, shape ``(lmax+1, lmax+1, nlat)`` indexed ``[m, l, j]``."""
        z = self.cos_theta
        P = _legendre_table(self.lmax, z, np.sqrt(1.0 - z**2))
        P[1:] *= np.sqrt(2.0)
        return P

    @cached_property
    def _fourier(self) -> tuple[np.ndarray, np.ndarray]:
        """``cos mφ_k``, ``sin mφ_k``, shape ``(nlon, lmax+1)``."""
        mphi = np.outer(self.phi, np.arange(self.lmax + 1))
        return np.cos(mphi), np.sin(mphi)

    @cached_property
    def _analysis_legendre(self) -> np.ndarray:
        return self._legendre * self._gauss[1][None, None, :]

    def analysis(self, field):
        """Spherical-harmonic coefficients ``a[c, m, l] = ∫ field Y dA_round`` by quadrature
        (exact for fields of degree ≤ ``2 nlat − 1 − lmax``); numpy or JAX."""
        xp = namespace(field)
        C, S = self._fourier
        dphi = 2 * np.pi / self.nlon
        fc = (field @ C) * dphi      # (nlat, m)
        fs = (field @ S) * dphi
        L = self._analysis_legendre
        return xp.stack([xp.einsum("mlj,jm->ml", L, fc), xp.einsum("mlj,jm->ml", L, fs)])

    def synthesis(self, coeffs):
        """Grid values of ``Σ a[c, m, l] Y`` (inverse of :meth:`analysis` on band-limited fields)."""
        C, S = self._fourier
        P = self._legendre
        xp = namespace(coeffs)
        gc = xp.einsum("mlj,ml->jm", P, coeffs[0])
        gs = xp.einsum("mlj,ml->jm", P, coeffs[1])
        return gc @ C.T + gs @ S.T

    def project(self, field):
        """The band-limited part (degree ≤ ``lmax``) of a grid field, on the grid."""
        return self.synthesis(self.analysis(field))

    @cached_property
    def laplacian_eigenvalues(self) -> np.ndarray:
        """``−l(l+1)`` broadcastable to ``coefficient_shape``."""
        l = self.degrees
        return -(l * (l + 1.0))

    def laplacian(self, field):
        """``Δ_round field`` on the grid, of the band-limited part of ``field`` (diagonal in
        the harmonics: eigenvalue ``−l(l+1)``)."""
        return self.synthesis(self.analysis(field) * self.laplacian_eigenvalues)

    def degree_power(self, field) -> np.ndarray:
        """``Σ_m |a_lm|²`` per degree l (numpy), shape ``(lmax+1,)``: the resolution monitor."""
        a = np.asarray(self.analysis(np.asarray(field)))
        return np.sum(a**2, axis=(0, 1))

    def harmonics(self, lmax: int | None = None):
        """The real harmonics of degree ≤ ``lmax`` (default ``self.lmax``) on the grid:
        ``(index, Y)`` with ``index`` rows ``(c, m, l)`` and ``Y`` of shape
        ``(len(index), npoints)``. Cached per (sphere, lmax); do not modify."""
        lb = self.lmax if lmax is None else lmax
        if int(lb) != lb or not 0 <= lb <= self.lmax:
            raise InvalidInputError("lmax", f"expected an integer 0 <= lmax <= {self.lmax}, got {lmax!r}")
        return _harmonics(self, int(lb))

    # ------------------------------------------------------------ off grid
    @cached_property
    def _recurrence(self):
        """Tables for :func:`_evaluate_coefficients` (reduced Legendre ``Q_l^m = P̄_l^m/ sin^m θ``)."""
        L = self.lmax
        ms = np.arange(L + 1)
        qmm = np.empty(L + 1)
        qmm[0] = 1.0 / np.sqrt(4 * np.pi)
        for m in range(1, L + 1):
            qmm[m] = qmm[m - 1] * np.sqrt((2 * m + 1) / (2 * m))
        qmm[1:] *= np.sqrt(2.0)
        a = np.zeros((L + 1, L + 1))
        b = np.zeros((L + 1, L + 1))
        for l in range(L + 1):
            for m in range(l - 1):  # l >= m + 2
                a[l, m] = np.sqrt((4 * l * l - 1) / (l * l - m * m))
                b[l, m] = np.sqrt(((l - 1) ** 2 - m * m) / (4 * (l - 1) ** 2 - 1))
        return ms, qmm, a, b

    def evaluate_coefficients(self, coeffs, points):
        """``Σ a Y`` at arbitrary unit vectors ``points`` (shape ``(..., 3)``), in JAX.

        Written as a polynomial in the Cartesian coordinates: ``Y_lm ∝ Q_l^m(z)·Re/Im (x + iy)^m``
        with the reduced Legendre polynomials ``Q_l^m`` (a recurrence in l, vectorised over m).
        No angles are formed, so the result is smooth at the poles and can be differentiated
        with ``jax.grad``/``jax.jacfwd`` anywhere (off the sphere it is the polynomial extension).
        """
        import jax
        import jax.numpy as jnp

        ms, qmm, A, B = self._recurrence
        L = self.lmax
        coeffs = jnp.asarray(coeffs)
        points = jnp.asarray(points)
        x, y, z = points[..., 0], points[..., 1], points[..., 2]
        zz = z[..., None]

        # Re/Im (x + iy)^m for m = 0..L by repeated multiplication (no powers of 0)
        def mult(carry, _):
            c, s = carry
            nxt = (c * x - s * y, c * y + s * x)
            return nxt, carry

        _, (cm, sm) = jax.lax.scan(mult, (jnp.ones_like(x), jnp.zeros_like(x)), None, length=L + 1)
        cm = jnp.moveaxis(cm, 0, -1)   # (..., m)
        sm = jnp.moveaxis(sm, 0, -1)

        ac = jnp.asarray(coeffs[0]).T  # (l, m)
        as_ = jnp.asarray(coeffs[1]).T
        qmm_j = jnp.asarray(qmm)
        ms_j = jnp.asarray(ms)
        q1 = jnp.sqrt(2.0 * ms_j + 3.0)

        def step(carry, inp):
            q_prev, q_prev2, acc = carry
            l, a_l, b_l, c_l, s_l = inp
            rec = a_l * (zz * q_prev - b_l * q_prev2)
            q = jnp.where(ms_j == l, qmm_j, jnp.where(ms_j == l - 1, q1 * zz * q_prev, rec))
            q = jnp.where(ms_j > l, 0.0, q)
            acc = acc + jnp.sum(q * (c_l * cm + s_l * sm), axis=-1)
            return (q, q_prev, acc), None

        zero = jnp.zeros(z.shape + (L + 1,), dtype=cm.dtype)
        init = (zero, zero, jnp.zeros_like(z))
        ls = jnp.arange(L + 1)
        (_, _, acc), _ = jax.lax.scan(step, init, (ls, jnp.asarray(A), jnp.asarray(B), ac, as_))
        return acc

    def evaluate(self, field, points):
        """The band-limited part of the grid ``field`` at arbitrary unit vectors ``points``
        (shape ``(..., 3)``); JAX, differentiable in ``points`` and ``field``."""
        import jax.numpy as jnp

        return self.evaluate_coefficients(self.analysis(jnp.asarray(field)), points)


@lru_cache(maxsize=8)
def _harmonics(sphere: Sphere, lb: int):
    mask = sphere.coefficient_mask & (sphere.degrees <= lb)
    idx = np.argwhere(mask)
    c, m, l = idx.T
    trig = np.stack(sphere._fourier)                       # [c, k, m]
    Y = sphere._legendre[m, l][:, :, None] * trig[c, :, m][:, None, :]
    Y = Y.reshape(len(idx), -1)
    idx.flags.writeable = False
    Y.flags.writeable = False
    return idx, Y


def stereographic(w, chart: str):
    """The unit vector of S² at stereographic coordinate ``w`` (shape ``(..., 2)``).

    ``chart="north"`` is centred on the north pole (``w = 0`` ↦ (0, 0, 1)), ``"south"`` on
    the south pole; each covers its closed hemisphere with ``|w| ≤ 1`` and the round metric
    is ``4/(1 + |w|²)² δ_ab`` in both."""
    xp = namespace(w)
    r2 = w[..., 0] ** 2 + w[..., 1] ** 2
    sign = {"north": 1.0, "south": -1.0}.get(chart)
    if sign is None:
        raise InvalidInputError("chart", f"expected 'north' or 'south', got {chart!r}")
    return xp.stack([2 * w[..., 0], 2 * w[..., 1], sign * (1 - r2)], axis=-1) / (1 + r2)[..., None]


def stereographic_inverse(points, chart: str):
    """Chart coordinate ``w`` of unit vectors (inverse of :func:`stereographic`)."""
    sign = {"north": 1.0, "south": -1.0}.get(chart)
    if sign is None:
        raise InvalidInputError("chart", f"expected 'north' or 'south', got {chart!r}")
    return points[..., :2] / (1 + sign * points[..., 2:3])
