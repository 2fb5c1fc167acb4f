"""A sampled point set: the points of a hypersurface with their geometry, saved and loaded.

:class:`PointSet` holds what :func:`metricflow.cy.sampling.sample` computes at each point
(:mod:`metricflow.cy.geometry`), the index of the Shiffman-Zelditch line of each point
(points of a line are correlated: :func:`line_mean` treats a line as one cluster), and
metadata.  ``save``/``load`` write and check the ``.npz`` format ``metricflow.cy.points/1``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from metricflow import __version__
from metricflow.cy.geometry import _check_chart, _poly_and_gradient, jacobian
from metricflow.cy.hypersurface import Hypersurface, from_monomials, hypersurface
from metricflow.cy.validate import check_point_file
from metricflow.errors import InvalidInputError

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
        mean, err = line_mean(self.weights, self.line)
        vol = self.surface.fs_volume()
        return vol * mean, vol * err

    def kappa_fs(self) -> float:
        """kappa of the Fubini-Study metric: Vol_FS / int |Omega|^2 (eq. B.10)."""
        return self.surface.fs_volume() / self.volume_omega()[0]



def line_mean(values: np.ndarray, line: np.ndarray) -> tuple[float, float]:
    """Mean of ``values`` and its standard error with the points of a line as a cluster."""
    v = np.asarray(values, dtype=float)
    N = v.size
    mean = float(v.mean())
    _, inv = np.unique(line, return_inverse=True)
    L = int(inv.max()) + 1
    s = np.bincount(inv, weights=v - mean, minlength=L)
    var = float(np.sum(s**2)) / N**2 * (L / max(L - 1, 1))
    return mean, float(np.sqrt(var))



def in_chart(ps: PointSet, chart: tuple[int, int]) -> PointSet:
    """The points whose best-conditioned chart (section 3.1) is ``chart = (p, e)``."""
    p, e = _check_chart(ps.surface, chart)
    return ps.subset((ps.patch == p) & (ps.elim == e))


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


__all__ = ["FORMAT", "PointSet", "concatenate", "in_chart", "line_mean", "load", "save"]
