"""Integration with |Omega|^2, kappa (eq. B.10) and the sigma-measure (eq. B.11).

Conventions (docs/cy.md): in the local coordinates of each point, the volume form
of a Kahler metric g is det g (times Lebesgue measure; J^k/k! with J = (i/2) g dz^dz),
that of Omega is |Omega|^2 = 1/|dP/dz_e|^2.  Points come from the FS volume form,
so with r = det g / det g_FS and w = |Omega|^2 / det g_FS:

    kappa = int det g / int |Omega|^2 = E[r] / E[w]                         (B.10)
    eta   = det g / (kappa |Omega|^2) = r / (kappa w)
    sigma = int |1 - eta| |Omega|^2 / int |Omega|^2 = E[w |1 - eta|] / E[w]  (B.11)

Standard errors treat the points of one line as one cluster (they are correlated):
``line_mean`` uses the cluster-robust variance; ``sigma`` a delete-a-group jackknife
over groups of whole lines, which also propagates the error of kappa.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from metricflow._linalg import hermitian_det
from metricflow.cy.pointset import PointSet, line_mean
from metricflow.errors import InvalidInputError, NumericalError


def metric_values(ps: PointSet, metric) -> np.ndarray:
    """The metric g (N, k, k) at the points, in each point's own chart.

    ``metric``: ``"fs"`` (the pulled-back Fubini-Study metric), ``"flat"`` (only for
    curves, k = 1: g = |Omega|^2, the exact Calabi-Yau metric of an elliptic curve
    in the chosen normalisation), an array (N, k, k), or a callable
    ``f(pointset) -> (N, k, k)``.
    """
    k = ps.surface.dim
    if isinstance(metric, str):
        if metric == "fs":
            return ps.g_fs
        if metric == "flat":
            if k != 1:
                raise InvalidInputError("metric", "'flat' (g = |Omega|^2) is the Calabi-Yau "
                                        "metric only in one complex dimension (curves)")
            return ps.omega2[:, None, None].astype(np.complex128)
        raise InvalidInputError("metric", f"unknown metric {metric!r}; use 'fs', 'flat' "
                                "(curves) or pass an array / callable")
    g = metric(ps) if callable(metric) else metric
    g = np.asarray(g)
    if g.shape != (len(ps), k, k):
        raise InvalidInputError("metric", f"expected shape {(len(ps), k, k)}, got {g.shape}")
    return g


def sigma(ps: PointSet, metric: str | np.ndarray | Callable = "fs", groups: int = 50) -> dict:
    """The sigma-measure (B.11) of a metric on the points, with its jackknife error.

    Returns a dict with ``sigma``, ``sigma_stderr``, ``kappa`` (B.10, of this metric),
    ``volume`` (int det g, Monte Carlo) and ``volume_omega`` (int |Omega|^2).
    """
    g = metric_values(ps, metric)
    det = ps.det_g_fs if (isinstance(metric, str) and metric == "fs") else hermitian_det(g)
    if not np.all(np.isfinite(det)):
        raise NumericalError("the metric has non-finite determinant at some point")
    r = det / ps.det_g_fs
    w = ps.weights
    vol_fs = ps.surface.fs_volume()
    N = r.size
    kappa = r.sum() / w.sum()
    sig = float(np.abs(w - r / kappa).sum() / w.sum())
    # delete-a-group jackknife over whole lines
    _, inv = np.unique(ps.line, return_inverse=True)
    L = int(inv.max()) + 1
    G = int(min(groups, L))
    stderr = float("nan")
    if G >= 2:
        grp = (inv * G) // L
        R = np.bincount(grp, weights=r, minlength=G)
        W = np.bincount(grp, weights=w, minlength=G)
        kap = (R.sum() - R) / (W.sum() - W)
        thetas = np.empty(G)
        for j in range(G):
            dev = np.abs(w - r / kap[j])
            tot = dev.sum() - dev[grp == j].sum()
            thetas[j] = tot / (W.sum() - W[j])
        stderr = float(np.sqrt((G - 1) / G * np.sum((thetas - thetas.mean()) ** 2)))
    return {"sigma": sig, "sigma_stderr": stderr, "kappa": float(kappa),
            "volume": float(vol_fs * r.mean()), "volume_omega": float(vol_fs * w.mean()),
            "n_points": int(N)}


def eta(ps: PointSet, metric="fs", kappa: float | None = None) -> np.ndarray:
    """eta = det g / (kappa |Omega|^2) at each point (B.11); kappa from the sample by default."""
    det = hermitian_det(metric_values(ps, metric))
    r = det / ps.det_g_fs
    if kappa is None:
        kappa = r.sum() / ps.weights.sum()
    return r / (kappa * ps.weights)


__all__ = ["eta", "line_mean", "metric_values", "sigma"]
