"""Per-point geometry of a hypersurface X = {P = 0} in P^n: charts, Omega, pull-backs.

The lowest layer of :mod:`metricflow.cy` above :mod:`metricflow.cy.hypersurface`: pure
functions of points, used by the numpy sampler (:mod:`metricflow.cy.sampling`), the
JAX sampler (:mod:`metricflow.cy._jax_sampling`) and :class:`~metricflow.cy.pointset.PointSet`.

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

import numpy as np

from metricflow import _linalg as la
from metricflow.cy.hypersurface import Hypersurface
from metricflow.errors import InvalidInputError


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
    det = la.hermitian_det(np.moveaxis(g, (0, 1), (-2, -1)))  # rows g[a, b] stay contiguous
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


# ---------------------------------------------------------------- charts
def _check_chart(X: Hypersurface, chart) -> tuple[int, int]:
    try:
        p, e = (int(c) for c in chart)
    except (TypeError, ValueError) as exc:
        raise InvalidInputError("chart", f"need a pair (p, e), got {chart!r}") from exc
    n1 = X.n_ambient
    if not (0 <= p < n1 and 0 <= e < n1 and p != e):
        raise InvalidInputError("chart", f"need 0 <= p, e < {n1} with p != e, got {chart!r}")
    return p, e


def chart_transition(ps, chart: tuple[int, int]) -> np.ndarray:
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


def transform_metric(ps, g: np.ndarray, chart: tuple[int, int]) -> np.ndarray:
    """A metric g (N, k, k) given in each point's own chart, written in ``chart``:
    g'_{b cbar} = T_{ab} g_{a dbar} conj(T_{dc}) (the better alternative to rejection
    sampling, section 3.1)."""
    T = chart_transition(ps, chart)
    return np.swapaxes(T, 1, 2) @ g @ np.conj(T)



__all__ = ["chart_transition", "jacobian", "point_geometry", "poly_and_gradient", "transform_metric"]
