"""The monitors every flow shares: a state that became NaN/inf, or a metric that is no
longer positive definite, stops the run with a :class:`NumericalError` naming the time
and the place; the integrators then keep the last good state.

Metrics are arrays ``(..., k, k)``, real symmetric (Riemannian, on grids) or complex
hermitian (Kähler metrics at the points of a hypersurface). The place is reported as the
index of the point over the leading axes (a grid index on a grid, a point index on a
point cloud).
"""

from __future__ import annotations

import numpy as np

from metricflow.errors import NumericalError


def check_finite(name: str, values, t: float, hint: str = "reduce --dt") -> None:
    """NaN/inf anywhere in ``values`` -> :class:`NumericalError`."""
    values = np.asarray(values)
    if not np.all(np.isfinite(values)):
        idx = tuple(int(i) for i in np.argwhere(~np.isfinite(values))[0])
        raise NumericalError(f"the {name} became NaN/inf at t = {t:.6g} (index {idx}); {hint}")


_HINT = "reduce --dt, use --method adaptive, or stop before the singular time"


def check_metric(g, t: float, hint: str = _HINT) -> None:
    """NaN/inf, or a metric that is no longer positive definite -> :class:`NumericalError`.

    ``g`` has shape ``(..., k, k)``; the leading axes index the points."""
    g = np.asarray(g)
    if not np.all(np.isfinite(g)):
        idx = np.argwhere(~np.isfinite(g))[0]
        raise NumericalError(f"the metric became NaN/inf at t = {t:.6g} "
                             f"(point index {tuple(int(i) for i in idx[:-2])}); {hint}")
    eig = np.linalg.eigvalsh(g)
    if np.min(eig) <= 0:
        idx = np.unravel_index(np.argmin(eig[..., 0]), eig.shape[:-1])
        raise NumericalError(f"the metric is no longer positive definite at t = {t:.6g} "
                             f"(smallest eigenvalue {np.min(eig):.3g} at point index {tuple(int(i) for i in idx)}); "
                             f"{hint}")
