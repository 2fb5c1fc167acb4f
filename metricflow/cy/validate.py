"""Checks of point sets given by users (``--points``), and memory estimates for sampling.

:func:`check_point_file` runs on the raw arrays of a ``.npz`` before
:func:`metricflow.cy.sampling.load` builds a :class:`~metricflow.cy.sampling.PointSet`
from them, so that a corrupted, edited or hostile file is refused with one
:class:`~metricflow.errors.InvalidInputError` naming the file, never used:

- metadata: a JSON object with a ``hypersurface`` object and the point count;
- the polynomial: integer exponents (M, n+1) >= 0, M finite coefficients;
- dtypes: integer index arrays (patch, elim, coords, line) within range, numeric
  (real or complex) geometry arrays; every value finite;
- physical constraints: |Omega|^2 > 0, det g_FS > 0 (a pulled-back Kahler metric),
  weights w = |Omega|^2 / det g_FS > 0 and equal to that ratio (a negated or rescaled
  weight column changes sigma (B.11) and kappa (B.10) silently otherwise), and every point
  on the hypersurface: the relative residual |P(z)| / sum_m |c_m z^m|, recomputed here,
  below :data:`RESIDUAL_TOL`.

Array shapes are compared with the polynomial afterwards by ``load``.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from metricflow.errors import InvalidInputError

#: The sampler keeps points with relative residual < 1e-8 (sampling._check); evaluating
#: P at a stored point adds round-off of order deg(P) * eps * (number of monomials),
#: far below this.  A point further off the hypersurface was not made by the sampler.
RESIDUAL_TOL = 1e-8
#: w = omega2 / det_g_fs is stored as computed: numpy's correctly rounded division agrees
#: exactly with the recomputed ratio; XLA's (``--backend jax``) multiplies by a refined
#: reciprocal, measured up to 1.4 eps off.  16 eps leaves room for any platform's division;
#: an edited weight column is off by far more.
WEIGHT_RTOL = 16 * np.finfo(np.float64).eps

_INDEX = ("patch", "elim", "coords", "line")
_POSITIVE = ("omega2", "det_g_fs", "weights")
_NUMERIC = ("points", "dxe", "g_fs", "residual")


def bytes_per_point(n_ambient: int) -> int:
    """Memory of one sampled point in P^(n_ambient - 1), while sampling and saving.

    A stored point holds z (n+1 complex), dz_e/dx (k complex), g_FS (k x k complex),
    patch/elim/coords (int8), omega2, det, weights, residual (float64) and its line
    (int64), k = n - 1; the sampler holds each chunk twice (the parts and their
    concatenation) and ``numpy.savez`` a third copy while writing, hence the factor 3.
    """
    n1 = int(n_ambient)
    k = n1 - 2
    stored = 16 * n1 + 16 * k + 16 * k * k + 2 + k + 4 * 8 + 8
    return 3 * stored


def check_point_file(data: dict, path: str | Path, argument: str = "points") -> None:
    """Refuse arrays ``data`` read from ``path`` unless they form a sound point set.

    Raises :class:`InvalidInputError` naming ``argument`` and the file; see the module
    docstring for the list of checks.
    """
    where = repr(str(path))

    def bad(message: str) -> InvalidInputError:
        return InvalidInputError(argument, f"{where}: {message}")

    try:
        meta = json.loads(str(data["meta"]))
    except (json.JSONDecodeError, TypeError, ValueError) as exc:
        raise bad("unreadable metadata") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("hypersurface"), dict):
        raise bad("the metadata is not a metricflow point-set description")
    E, c = np.asarray(data["exponents"]), np.asarray(data["coefficients"])
    if E.dtype.kind not in "iu" or E.ndim != 2 or E.shape[0] == 0 or np.any(E < 0):
        raise bad(f"exponents must be an (M, n+1) array of non-negative integers, got {E.dtype} {E.shape}")
    if c.dtype.kind not in "iufc" or c.shape != (E.shape[0],) or not np.all(np.isfinite(c)):
        raise bad(f"coefficients must be {E.shape[0]} finite numbers, got {c.dtype} {c.shape}")
    for key in _INDEX:
        a = np.asarray(data[key])
        if a.dtype.kind not in "iu" or np.any(a < 0):
            raise bad(f"{key} must hold non-negative integers, got {a.dtype}")
        if key != "line" and a.size and int(a.max()) >= E.shape[1]:
            raise bad(f"{key} holds coordinate index {int(a.max())}, but there are {E.shape[1]} coordinates")
    for key in _NUMERIC + _POSITIVE:
        a = np.asarray(data[key])
        if a.dtype.kind not in "iufc":
            raise bad(f"{key} must be numeric, got {a.dtype}")
        if not np.all(np.isfinite(a)):
            raise bad(f"{key} holds {int(np.sum(~np.isfinite(a)))} NaN or infinite values")
    for key in _POSITIVE:
        a = np.asarray(data[key])
        if a.dtype.kind == "c" or np.any(a <= 0):
            raise bad(f"{key} must be real and positive at every point "
                      f"({int(np.sum(~(np.real(a) > 0)))} are not)")
    _check_weights(data, bad)
    _check_on_surface(E, c, np.asarray(data["points"]), bad)


def _check_weights(data: dict, bad) -> None:
    w, o, d = (np.asarray(data[k], dtype=np.float64) for k in ("weights", "omega2", "det_g_fs"))
    if w.shape != o.shape or w.shape != d.shape:
        return  # load reports the shapes
    off = np.abs(w - o / d) > WEIGHT_RTOL * np.abs(w)
    if np.any(off):
        raise bad(f"weights differ from |Omega|^2 / det g_FS at {int(off.sum())} points "
                  "(file edited or corrupted)")


def _check_on_surface(E: np.ndarray, c: np.ndarray, z: np.ndarray, bad, chunk: int = 65536) -> None:
    from metricflow.cy.hypersurface import _monomials

    if z.ndim != 2 or z.shape[1] != E.shape[1]:
        return  # load reports the shapes
    worst = 0.0
    for start in range(0, z.shape[0], chunk):
        terms = c.astype(np.complex128) * _monomials(z[start:start + chunk].astype(np.complex128), E)
        scale = np.abs(terms).sum(axis=1)
        if np.any(scale == 0):
            raise bad("a point is zero in every monomial (not a point of the hypersurface)")
        worst = max(worst, float(np.max(np.abs(terms.sum(axis=1)) / scale, initial=0.0)))
    if worst >= RESIDUAL_TOL:
        raise bad(f"the points do not satisfy the stored polynomial (relative residual up to "
                  f"{worst:.3g}, the sampler keeps < {RESIDUAL_TOL:g}): file edited or corrupted")
