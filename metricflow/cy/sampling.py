"""Points on a hypersurface X = {P = 0} in P^n, sampled by the Shiffman-Zelditch
measure, with the per-point geometry every Calabi-Yau experiment needs.

Sampling (section 3.1 and refs [13, 14] of the paper): a line {a + t b} through two
independent standard complex Gaussian vectors is a U(n+1)-invariant random line;
its deg(P) intersection points with X (the roots of the univariate polynomial
P(a + t b)) are, by Crofton's formula, distributed by the Fubini-Study volume form
of X, J_FS^(n-1)/(n-1)!.  All lines are handled at once: coefficients by batched
polynomial products, roots by a vectorised Aberth-Ehrlich iteration.  Points from
the same line are *correlated* (they are the deg(P) roots of one polynomial);
``line`` records the line of each point, and the Monte Carlo errors resample whole
lines.

Geometry at each point (see docs/cy.md for conventions):

- patch ``p``: the largest |z_i| is scaled to 1 (points are stored so);
- eliminated coordinate ``e != p``: the one with the largest |dP/dz_e|, i.e. the
  smallest |Omega|^2 (section 3.1);
- local coordinates x_a = z_{c_a}, the n - 1 indices other than p and e;
- Omega = dx_1 ^ ... ^ dx_{n-1} / (dP/dz_e) (Poincare residue), |Omega|^2 = 1/|dP/dz_e|^2;
- Jacobian J_{ia} = dz_i/dx_a of the embedding (rows p: 0, c_b: delta, e: -P_{c_a}/P_e);
- pulled-back Fubini-Study metric g_{a bbar} = J_{ia} g^FS_{i jbar} conj(J_{jb}) with
  K = ln|z|^2, g^FS_{i jbar} = delta_ij/|z|^2 - conj(z_i) z_j/|z|^4;
- weights w = |Omega|^2 / det g_FS, so that for any f,
  int_X f |Omega|^2 = Vol_FS(X) E[f w]  (Vol_FS from :meth:`Hypersurface.fs_volume`).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from metricflow import __version__
from metricflow.cy.hypersurface import Hypersurface, hypersurface
from metricflow.cy.validate import check_point_file
from metricflow.errors import InvalidInputError, NumericalError

FORMAT = "metricflow.cy.points/1"


@dataclass(frozen=True, eq=False)
class PointSet:
    """Points on a hypersurface with their geometry (all arrays have length N).

    points (N, n+1) complex, scaled so that z[patch] = 1; patch, elim (N,) int8;
    coords (N, n-1) int8 (the local coordinate indices, increasing); omega2 (N,)
    |Omega|^2; dxe (N, n-1) = dz_e/dx_a, the only non-trivial row of the Jacobian
    (:attr:`jacobian` gives all of it, (N, n+1, n-1)); g_fs (N, n-1, n-1) the pulled-back FS metric
    g[a, b] = g_{a bbar}; det_g_fs (N,); weights (N,) = omega2/det_g_fs;
    residual (N,) |P(z)| / sum_m |c_m z^m|; line (N,) the index of the line.
    """

    surface: Hypersurface
    points: np.ndarray
    patch: np.ndarray
    elim: np.ndarray
    coords: np.ndarray
    omega2: np.ndarray
    dxe: np.ndarray
    g_fs: np.ndarray
    det_g_fs: np.ndarray
    weights: np.ndarray
    residual: np.ndarray
    line: np.ndarray
    meta: dict = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.points.shape[0])

    @property
    def jacobian(self) -> np.ndarray:
        """dz_i/dx_a of the embedding, (N, n+1, n-1)."""
        return jacobian(self)

    @property
    def omega(self) -> np.ndarray:
        """The coefficient of Omega = omega dx_1 ^ ... ^ dx_{n-1} in each point's chart:
        omega = 1/(dP/dz_e) (Poincare residue); |omega|^2 = omega2.  Complex (N,)."""
        _, grad, _ = _poly_and_gradient(self.surface, np.ascontiguousarray(self.points.T))
        return 1.0 / grad[self.elim.astype(np.intp), np.arange(len(self))]

    @property
    def charts(self) -> np.ndarray:
        """Chart label p * (n+1) + e of each point (one of (n+1) n choices)."""
        return self.patch.astype(np.int64) * self.surface.n_ambient + self.elim

    def subset(self, index) -> PointSet:
        """The points selected by a boolean mask or an index array."""
        take = lambda a: a[index]
        return replace(self, points=take(self.points), patch=take(self.patch),
                       elim=take(self.elim), coords=take(self.coords), omega2=take(self.omega2),
                       dxe=take(self.dxe), g_fs=take(self.g_fs),
                       det_g_fs=take(self.det_g_fs), weights=take(self.weights),
                       residual=take(self.residual), line=take(self.line))

    def volume_omega(self) -> tuple[float, float]:
        """Monte Carlo int_X |Omega|^2 (B.10's normalisation) and its standard error."""
        from metricflow.cy.measures import line_mean

        mean, err = line_mean(self.weights, self.line)
        vol = self.surface.fs_volume()
        return vol * mean, vol * err

    def kappa_fs(self) -> float:
        """kappa of the Fubini-Study metric: Vol_FS / int |Omega|^2 (eq. B.10)."""
        return self.surface.fs_volume() / self.volume_omega()[0]


# ---------------------------------------------------------------- polynomials in t
def _polymul(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Product of batched polynomials p (L, m+1), q (L, k+1) in increasing powers."""
    out = np.zeros((p.shape[0], p.shape[1] + q.shape[1] - 1), dtype=np.complex128)
    for j in range(q.shape[1]):
        out[:, j : j + p.shape[1]] += p * q[:, j : j + 1]
    return out


def line_coefficients(X: Hypersurface, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Coefficients (L, d+1), increasing powers, of P(a + t b) for lines a, b (L, n+1)."""
    d = X.degree
    L = a.shape[0]
    powers: dict[tuple[int, int], np.ndarray] = {}

    def power(i: int, e: int) -> np.ndarray:
        if (i, e) not in powers:
            if e == 0:
                powers[(i, e)] = np.ones((L, 1), dtype=np.complex128)
            else:
                prev = power(i, e - 1)
                out = np.empty((L, e + 1), dtype=np.complex128)
                out[:, :e] = prev * a[:, i : i + 1]
                out[:, e] = 0
                out[:, 1:] += prev * b[:, i : i + 1]
                powers[(i, e)] = out
        return powers[(i, e)]

    coef = np.zeros((L, d + 1), dtype=np.complex128)
    for row, c in zip(X.exponents, X.coefficients, strict=True):
        poly = None
        for i in np.flatnonzero(row):
            f = power(int(i), int(row[i]))
            poly = f if poly is None else _polymul(poly, f)
        coef += c * poly
    return coef


def polynomial_roots(coef: np.ndarray, max_iter: int = 60, rtol: float = 1e-8) -> np.ndarray:
    """All roots (L, d) of the polynomials sum_k coef[l, k] t^k (Aberth-Ehrlich).

    Vectorised simultaneous (Jacobi) iteration, cubically convergent: a polynomial
    leaves the active set after a sweep whose largest relative correction is below
    ``rtol`` (the error after that sweep is then ~rtol^3, far below round-off).
    Arrays are kept root-major (d, L) so that every operation is contiguous.
    Raises NumericalError if some polynomial does not converge.
    """
    L, d1 = coef.shape
    d = d1 - 1
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        p = np.ascontiguousarray((coef[:, :-1] / coef[:, -1:]).T)  # (d, L), monic
        r = np.abs(p[0]) ** (1.0 / d)
        r = np.where(np.isfinite(r) & (r > 0), r, 1.0)
        ang = 2 * np.pi * np.arange(d) / d + 0.4
        z = np.exp(1j * ang)[:, None] * r[None, :]  # (d, L)
        active = np.arange(L)
        za, pa = z, p
        for _ in range(max_iter):
            pv = np.ones_like(za)
            dp = np.zeros_like(za)
            for j in range(d - 1, -1, -1):
                dp *= za
                dp += pv
                pv *= za
                pv += pa[j]
            ratio = pv / dp
            s = np.zeros_like(za)
            for i in range(d):
                for j in range(i + 1, d):
                    inv = 1.0 / (za[i] - za[j])
                    s[i] += inv
                    s[j] -= inv
            w = ratio / (1.0 - ratio * s)
            w[~np.isfinite(w)] = 0.0
            za = za - w
            done = (np.abs(w) <= rtol * np.abs(za)).all(axis=0)
            if done.any():
                z[:, active[done]] = za[:, done]
                keep = ~done
                active, za, pa = active[keep], za[:, keep], pa[:, keep]
            if active.size == 0:
                break
    if active.size:
        raise NumericalError(f"root finding did not converge for {active.size} of {L} lines "
                             f"within {max_iter} sweeps")
    return np.ascontiguousarray(z.T)


# ---------------------------------------------------------------- geometry
def _chart_table(n1: int) -> np.ndarray:
    """table[p, e] = the n-1 local coordinate indices (increasing) of chart (p, e)."""
    table = np.zeros((n1, n1, n1 - 2), dtype=np.int8)
    for p in range(n1):
        for e in range(n1):
            if p != e:
                table[p, e] = [i for i in range(n1) if i not in (p, e)]
    return table


def _poly_and_gradient(X: Hypersurface, zt: np.ndarray):
    """P, dP/dz_i (n+1, N) and sum_m |c_m z^m| at points zt (n+1, N), by a shared power table."""
    return poly_and_gradient(np, X.exponents, X.coefficients, zt)


def poly_and_gradient(xp, exponents, coefficients, zt):
    """P, dP/dz_i (n+1, N) and sum_m |c_m z^m| at points zt (n+1, N) for the array
    namespace ``xp`` (numpy, or jax.numpy inside a jitted function), by a shared power
    table of the coordinates."""
    n1, N = zt.shape
    pw = {}

    def power(j: int, e: int):
        if (j, e) not in pw:
            pw[(j, e)] = zt[j] if e == 1 else power(j, e - 1) * zt[j]
        return pw[(j, e)]

    def mono(row, skip=-1):
        out = None
        for j in np.flatnonzero(row):
            e = int(row[j]) - (1 if j == skip else 0)
            if e:
                out = power(int(j), e) if out is None else out * power(int(j), e)
        return xp.ones(N, dtype=zt.dtype) if out is None else out

    if xp is np:
        def acc(a, b):  # in place: the numpy path is the fast default
            a += b
            return a
    else:
        def acc(a, b):
            return a + b

    val = xp.zeros(N, dtype=zt.dtype)
    absval = xp.zeros(N, dtype=zt.real.dtype)
    grad = [xp.zeros(N, dtype=zt.dtype) for _ in range(n1)]
    for row, c in zip(exponents, coefficients, strict=True):
        c = complex(c)
        m = mono(row)
        val = acc(val, c * m)
        absval = acc(absval, abs(c) * xp.abs(m))
        for i in np.flatnonzero(row):
            cm = c * int(row[i])
            grad[i] = acc(grad[i], cm * mono(row, skip=i) if cm != 1 else mono(row, skip=i))
    return val, xp.stack(grad), absval


def point_geometry(X: Hypersurface, z: np.ndarray, chart: tuple[int, int] | None = None):
    """Patch, eliminated coordinate, |Omega|^2, Jacobian and FS pull-back at points z.

    ``chart=(p, e)`` forces one coordinate system for every point (the patch z_p = 1
    and the eliminated z_e) instead of the best-conditioned choice.
    Returns a dict of arrays named as the fields of :class:`PointSet`.
    Internally coordinate-major (n+1, N) so that every operation is contiguous.
    """
    z = np.asarray(z, dtype=np.complex128)
    N, n1 = z.shape
    k = n1 - 2
    ar = np.arange(N)
    zt = np.array(z.T, order="C")  # a copy: z may be a PointSet's (F-ordered) points, never rescaled in place
    if chart is None:
        p = np.argmax(zt.real**2 + zt.imag**2, axis=0)
    else:
        p = np.full(N, int(chart[0]))
    zp = zt[p, ar]
    if np.any(zp == 0):
        raise InvalidInputError("chart", f"some points have z_{chart[0] if chart else '?'} = 0")
    zt /= zp
    zt[p, ar] = 1.0
    val, grad, absval = _poly_and_gradient(X, zt)
    if chart is None:
        ag = grad.real**2 + grad.imag**2
        ag[p, ar] = -1.0
        e = np.argmax(ag, axis=0)
    else:
        e = np.full(N, int(chart[1]))
    ge = grad[e, ar]
    coords = _chart_table(n1)[p, e]  # (N, k)
    ci = coords.T.astype(np.intp)  # (k, N)
    with np.errstate(divide="ignore", invalid="ignore"):
        omega2 = 1.0 / (ge.real**2 + ge.imag**2)
        dxe = grad[ci, ar] * (-1.0 / ge)  # (k, N): dz_e/dx_a = -P_{c_a}/P_e
    norm2 = np.sum(zt.real**2 + zt.imag**2, axis=0)
    # u_a = sum_i J_ia conj(z_i) = conj(z_{c_a}) + dxe_a conj(z_e)
    u = np.conj(zt[ci, ar]) + dxe * np.conj(zt[e, ar])
    inv = 1.0 / norm2
    u *= np.sqrt(inv)
    g = np.empty((k, k, N), dtype=np.complex128)
    for a in range(k):
        for b in range(a, k):
            gab = dxe[a] * np.conj(dxe[b]) - u[a] * np.conj(u[b])
            if a == b:
                gab = gab.real + 1.0
            g[a, b] = gab * inv
            if b != a:
                g[b, a] = np.conj(g[a, b])
    det = hermitian_det(g, axis_first=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        resid = np.abs(val) / np.where(absval > 0, absval, 1.0)
        weights = omega2 / det
    return dict(points=zt.T, patch=p.astype(np.int8), elim=e.astype(np.int8),
                coords=coords, omega2=omega2, dxe=dxe.T, g_fs=np.moveaxis(g, 2, 0),
                det_g_fs=det, weights=weights, residual=resid)


def jacobian(ps_or_patch, coords=None, elim=None, dxe=None) -> np.ndarray:
    """J[q, i, a] = dz_i/dx_a of the embedding (rows: patch 0, coords delta, elim dxe)."""
    if coords is None:
        ps = ps_or_patch
        coords, elim, dxe = ps.coords, ps.elim, ps.dxe
    N, k = coords.shape
    ar = np.arange(N)
    jac = np.zeros((N, k + 2, k), dtype=np.complex128)
    for a in range(k):
        jac[ar, coords[:, a], a] = 1.0
    jac[ar, elim.astype(np.intp), :] = dxe
    return jac


def hermitian_det(g: np.ndarray, axis_first: bool = False) -> np.ndarray:
    """Real determinant of a batch of Hermitian matrices (N, k, k), or (k, k, N) with
    ``axis_first``; closed form for k <= 3 (uses g_ba = conj(g_ab)), LAPACK above."""
    G = g if axis_first else np.moveaxis(g, (-2, -1), (0, 1))
    k = G.shape[0]
    if k == 1:
        return G[0, 0].real.copy()
    if k == 2:
        return G[0, 0].real * G[1, 1].real - (G[0, 1].real ** 2 + G[0, 1].imag ** 2)
    if k == 3:
        a, e, i = G[0, 0].real, G[1, 1].real, G[2, 2].real
        b, c, f = G[0, 1], G[0, 2], G[1, 2]
        ab2 = lambda x: x.real**2 + x.imag**2
        return a * e * i + 2 * (b * f * np.conj(c)).real - a * ab2(f) - e * ab2(c) - i * ab2(b)
    return np.linalg.det(np.moveaxis(G, (0, 1), (-2, -1))).real


# ---------------------------------------------------------------- sampling
BACKENDS = ("numpy", "jax")


def sample(poly: str | Hypersurface = "fermat-quintic", n: int = 10_000, seed: int = 0,
           chunk: int = 200_000, progress: bool = False, backend: str = "numpy") -> PointSet:
    """``n`` points on X by the Shiffman-Zelditch measure, deterministic in ``seed``.

    Lines are drawn by ``numpy.random.default_rng(seed)``; ceil(n/d) lines give
    d points each and the last line is cut to n points.  Raises NumericalError if a
    point fails to satisfy P = 0 to 1e-8 (relative) or has a degenerate metric.

    ``backend="numpy"`` (default, the fastest here) or ``"jax"``: the same lines and the
    same mathematics jitted in JAX, the batch sharded over ``jax.devices()`` when there
    are several (:mod:`metricflow.cy._jax_sampling`); the two agree to round-off.
    """
    X = hypersurface(poly)
    n = _positive_int(n, "n")
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInputError("seed", f"need a non-negative integer seed, got {seed!r}")
    if backend not in BACKENDS:
        raise InvalidInputError("backend", f"expected one of {', '.join(BACKENDS)}, got {backend!r}")
    d = X.degree
    n1 = X.n_ambient
    n_lines = -(-n // d)
    rng = np.random.default_rng(int(seed))
    parts = []
    starts = range(0, n_lines, max(1, chunk // d))
    if progress and len(starts) > 1:
        from tqdm import tqdm

        starts = tqdm(starts, desc="sampling (chunks)", leave=False)
    for start in starts:
        L = min(max(1, chunk // d), n_lines - start)
        g = rng.standard_normal((2, L, n1, 2))
        a = g[0, ..., 0] + 1j * g[0, ..., 1]
        b = g[1, ..., 0] + 1j * g[1, ..., 1]
        if backend == "jax":
            from metricflow.cy._jax_sampling import lines_geometry

            geo = lines_geometry(X, a, b)
        else:
            t = polynomial_roots(line_coefficients(X, a, b))
            z = (a[:, None, :] + t[:, :, None] * b[:, None, :]).reshape(-1, n1)
            geo = point_geometry(X, z)
        geo["line"] = np.repeat(np.arange(start, start + L), d)
        parts.append(geo)
    if len(parts) == 1:
        geo = {key: v[:n] for key, v in parts[0].items()}
    else:
        geo = {key: np.concatenate([p[key] for p in parts])[:n] for key in parts[0]}
    ps = PointSet(surface=X, **geo, meta={"seed": int(seed), "n": n, "sampler": "shiffman-zelditch",
                                          "backend": backend})
    _check(ps)
    return ps


def _positive_int(n, name: str) -> int:
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise InvalidInputError(name, f"need a positive integer, got {n!r}")
    return int(n)


def _check(ps: PointSet, tol: float = 1e-8) -> None:
    bad = ~(ps.residual < tol)
    if np.any(bad):
        raise NumericalError(f"{int(bad.sum())} sampled points miss P = 0 by more than {tol} "
                             f"(worst {np.nanmax(ps.residual):.3g}); the polynomial may be "
                             "nearly singular")
    if not np.all(ps.det_g_fs > 0) or not np.all(np.isfinite(ps.weights)):
        raise NumericalError("degenerate pulled-back metric at some sampled point")


# ---------------------------------------------------------------- charts
def in_chart(ps: PointSet, chart: tuple[int, int]) -> PointSet:
    """The points whose best-conditioned chart (section 3.1) is ``chart = (p, e)``."""
    p, e = _check_chart(ps.surface, chart)
    return ps.subset((ps.patch == p) & (ps.elim == e))


def sample_in_chart(poly: str | Hypersurface, n: int, seed: int = 0,
                    chart: tuple[int, int] = (0, 1), max_rounds: int = 20,
                    backend: str = "numpy") -> PointSet:
    """The paper's rejection sampling (section 3.1): sample about (n+1)n times more
    points and keep those whose preferred chart is ``chart``; for the Fermat quintic
    each of the 20 charts gets ~1/20 of the points.  Oversamples in rounds with
    seeds derived from ``seed``.
    """
    X = hypersurface(poly)
    p, e = _check_chart(X, chart)
    n = _positive_int(n, "n")
    parts, have = [], 0
    n_charts = X.n_ambient * (X.n_ambient - 1)
    ss = np.random.SeedSequence(int(seed))
    for child in ss.spawn(max_rounds):
        want = int(1.2 * (n - have) * n_charts) + 100
        ps = in_chart(sample(X, want, seed=int(child.generate_state(1)[0]), backend=backend), (p, e))
        parts.append(ps)
        have += len(ps)
        if have >= n:
            break
    else:
        raise NumericalError(f"rejection sampling found only {have} of {n} points in chart "
                             f"{chart} after {max_rounds} rounds")
    out = concatenate(parts)
    return out.subset(slice(0, n))


def concatenate(sets: list[PointSet]) -> PointSet:
    """Concatenate point sets of one hypersurface (line indices kept distinct)."""
    first = sets[0]
    offset = 0
    lines = []
    for s in sets:
        lines.append(s.line + offset)
        offset += int(s.line.max()) + 1 if len(s) else 0
    cat = lambda name: np.concatenate([getattr(s, name) for s in sets])
    return replace(first, points=cat("points"), patch=cat("patch"), elim=cat("elim"),
                   coords=cat("coords"), omega2=cat("omega2"), dxe=cat("dxe"),
                   g_fs=cat("g_fs"), det_g_fs=cat("det_g_fs"), weights=cat("weights"),
                   residual=cat("residual"), line=np.concatenate(lines))


def _check_chart(X: Hypersurface, chart) -> tuple[int, int]:
    try:
        p, e = (int(c) for c in chart)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError("chart", f"need a pair (p, e), got {chart!r}") from exc
    n1 = X.n_ambient
    if not (0 <= p < n1 and 0 <= e < n1 and p != e):
        raise InvalidInputError("chart", f"need 0 <= p, e < {n1} with p != e, got {chart!r}")
    return p, e


def chart_transition(ps: PointSet, chart: tuple[int, int]) -> np.ndarray:
    """T[q, a, b] = dx_a/dx'_b from the coordinates x of each point to those x' of ``chart``.

    With z(x') the embedding in the new chart (patch p', z_{p'} = 1) and
    x_a = z_{c_a}/z_p: dx_a/dx'_b = (J'_{c_a b} z_p - z_{c_a} J'_{p b}) / z_p^2.
    A metric transforms as g' = T^T g conj(T) and Omega' = Omega det T.
    """
    X = ps.surface
    p2, e2 = _check_chart(X, chart)
    new = point_geometry(X, ps.points, chart=(p2, e2))
    zn = new["points"]  # scaled so z_{p'} = 1
    Jn = jacobian(new["patch"], new["coords"], new["elim"], new["dxe"])
    N = len(ps)
    ar = np.arange(N)
    p = ps.patch.astype(np.intp)
    c = ps.coords.astype(np.intp)
    zp = zn[ar, p]
    zc = np.take_along_axis(zn, c, axis=1)  # (N, k)
    Jc = np.take_along_axis(Jn, c[:, :, None], axis=1)  # (N, k, k)
    Jp = Jn[ar, p, :]  # (N, k)
    return (Jc * zp[:, None, None] - zc[:, :, None] * Jp[:, None, :]) / zp[:, None, None] ** 2


def transform_metric(ps: PointSet, g: np.ndarray, chart: tuple[int, int]) -> np.ndarray:
    """A metric g (N, k, k) given in each point's own chart, written in ``chart``:
    g'_{b cbar} = T_{ab} g_{a dbar} conj(T_{dc}) (the better alternative to rejection
    sampling, section 3.1)."""
    T = chart_transition(ps, chart)
    return np.swapaxes(T, 1, 2) @ g @ np.conj(T)


# ---------------------------------------------------------------- save / load
def save(ps: PointSet, path: str | Path, extra_meta: dict | None = None) -> Path:
    """Write a point set to ``path`` (.npz, atomically) with the polynomial and metadata."""
    from metricflow.io import save_npz_atomic

    meta = {"format": FORMAT, "metricflow_version": __version__, "n": len(ps),
            "hypersurface": ps.surface.to_dict(), **ps.meta, **(extra_meta or {})}
    return save_npz_atomic(
        path, meta=np.array(json.dumps(meta)), exponents=ps.surface.exponents,
        coefficients=ps.surface.coefficients, points=ps.points, patch=ps.patch, elim=ps.elim,
        coords=ps.coords, omega2=ps.omega2, dxe=ps.dxe, g_fs=ps.g_fs,
        det_g_fs=ps.det_g_fs, weights=ps.weights, residual=ps.residual, line=ps.line)


_ARRAYS = ("points", "patch", "elim", "coords", "omega2", "dxe", "g_fs", "det_g_fs",
           "weights", "residual", "line")


def load(path: str | Path, poly: str | Hypersurface | None = None,
         argument: str = "points") -> PointSet:
    """Read a point set written by :func:`save`.

    Raises InvalidInputError (naming ``argument``) for a missing or unreadable file,
    a file of another kind, inconsistent arrays, points off the stored polynomial, or
    (when ``poly`` is given) a polynomial different from the stored one.
    """
    path = Path(path)
    if not path.is_file():
        raise InvalidInputError(argument, f"no such file: {str(path)!r}")
    try:
        with np.load(path, allow_pickle=False) as f:
            data = {k: f[k] for k in f.files}
    except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input
        raise InvalidInputError(argument, f"cannot read {str(path)!r} as .npz: {exc}") from exc
    missing = [k for k in ("meta", "exponents", "coefficients", *_ARRAYS) if k not in data]
    if missing:
        raise InvalidInputError(argument, f"{str(path)!r} is not a metricflow point set "
                                f"(missing {missing}); create one with 'metricflow cy sample'")
    check_point_file(data, path, argument)  # dtypes, finiteness, weights, residuals (cy/validate.py)
    try:
        meta = json.loads(str(data["meta"]))
    except json.JSONDecodeError as exc:
        raise InvalidInputError(argument, f"{str(path)!r} has unreadable metadata") from exc
    if meta.get("format") != FORMAT:
        raise InvalidInputError(argument, f"{str(path)!r} has format {meta.get('format')!r}, "
                                f"expected {FORMAT!r}")
    from metricflow.cy.hypersurface import from_monomials

    X = from_monomials(data["exponents"], data["coefficients"],
                       name=meta["hypersurface"].get("name", "custom"),
                       spec=meta["hypersurface"].get("spec", ""), check_smooth=False)
    N = data["points"].shape[0]
    n1, k = X.n_ambient, X.dim
    shapes = {"points": (N, n1), "patch": (N,), "elim": (N,), "coords": (N, k), "omega2": (N,),
              "dxe": (N, k), "g_fs": (N, k, k), "det_g_fs": (N,), "weights": (N,),
              "residual": (N,), "line": (N,)}
    for key, shape in shapes.items():
        if data[key].shape != shape:
            raise InvalidInputError(argument, f"{str(path)!r} is inconsistent: {key} has shape "
                                    f"{data[key].shape}, expected {shape}")
    if meta.get("n") != N:
        raise InvalidInputError(argument, f"{str(path)!r} is inconsistent: metadata says "
                                f"{meta.get('n')} points, arrays hold {N}")
    if N:
        res = np.abs(X.evaluate(data["points"][: min(N, 1000)]))
        zmax = np.max(np.abs(data["points"][: min(N, 1000)]))
        scale = np.abs(X.coefficients).sum() * zmax**X.degree
        if not np.all(res <= 1e-8 * scale):
            raise InvalidInputError(argument, f"{str(path)!r}: the points do not satisfy the "
                                    "stored polynomial (file corrupted or edited)")
    if poly is not None:
        want = hypersurface(poly)
        if not _same_polynomial(want, X):
            raise InvalidInputError(argument, f"{str(path)!r} holds points on "
                                    f"{X.spec or X.expression()!r}, not on "
                                    f"{want.spec or want.expression()!r}")
    keep = {k2: v for k2, v in meta.items() if k2 not in ("format", "hypersurface")}
    return PointSet(surface=X, meta=keep, **{key: data[key] for key in _ARRAYS})


def _same_polynomial(A: Hypersurface, B: Hypersurface) -> bool:
    """Same polynomial up to an overall non-zero factor."""
    if A.n_ambient != B.n_ambient or A.degree != B.degree:
        return False
    da = {tuple(r): c for r, c in zip(A.exponents.tolist(), A.coefficients, strict=True)}
    db = {tuple(r): c for r, c in zip(B.exponents.tolist(), B.coefficients, strict=True)}
    if set(da) != set(db):
        return False
    key = next(iter(da))
    ratio = db[key] / da[key]
    return all(abs(db[m] - ratio * da[m]) <= 1e-12 * (abs(db[m]) + 1) for m in da)


def exact_fs_volume(poly: str | Hypersurface) -> float:
    """Vol_FS(X) = d pi^(n-1)/(n-1)! (see :meth:`Hypersurface.fs_volume`)."""
    return hypersurface(poly).fs_volume()


__all__ = ["PointSet", "sample", "sample_in_chart", "in_chart", "point_geometry",
           "line_coefficients", "polynomial_roots", "chart_transition", "transform_metric",
           "save", "load", "concatenate", "hermitian_det", "exact_fs_volume", "math"]
