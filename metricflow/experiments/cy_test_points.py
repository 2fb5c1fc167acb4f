"""Test points at a controlled distance from training points (Figure 3, left).

Two ways:

* :func:`noisy_points` — the paper's (section 3.2, "Results"): Gaussian noise of standard
  deviation ``scale`` added to the real and imaginary parts of each training point's
  homogeneous coordinates (scaled so that z_patch = 1). The test points are then only
  approximately on the hypersurface (their residual |P(z)|/Σ|c_m z^m| is reported); their
  |Ω|², charts and FS pull-backs are evaluated where they are
  (:func:`metricflow.cy.point_geometry`).
* :func:`displaced_points` — exact: each training point z (unit vector) moves along the FS
  geodesic of P^n in a random unit horizontal tangent direction v of X (⟨z, v⟩ = 0,
  Σ ∂_iP v_i = 0), ``cos t z + sin t v`` (FS distance exactly t from z, eq. 3.2), is projected
  back onto X by Newton steps along the normal direction (the horizontal part of conj ∇P),
  and t is rescaled until the FS distance of the projected point from z is the requested
  ``distance`` (the projection moves it by O(t²), so a few fixed-point steps suffice).
"""

from __future__ import annotations

import numpy as np

from metricflow.errors import InvalidInputError, NumericalError

#: relative residual |P(z)| / Σ|c_m z^m| accepted for a projected point (the sampler's own check is 1e-8)
RESIDUAL_TOL = 1e-10


def _pointset(surface, z, chart=None):
    from metricflow import cy

    geo = cy.point_geometry(surface, z, chart=chart)
    geo["line"] = np.arange(len(z))
    return cy.PointSet(surface=surface, **geo, meta={"sampler": "test-points"})


def _unit(z):
    return z / np.linalg.norm(z, axis=-1, keepdims=True)


def noisy_points(ps, scale: float, seed: int = 0, chart=None):
    """The paper's test points: training points plus complex Gaussian noise (module docstring);
    ``chart=(p, e)`` writes them all in that chart (else each in its best-conditioned one)."""
    if not (np.isfinite(scale) and scale >= 0):
        raise InvalidInputError("test-distance", f"need a finite noise scale >= 0, got {scale!r}")
    rng = np.random.default_rng(seed)
    z = ps.points + scale * (rng.standard_normal(ps.points.shape) + 1j * rng.standard_normal(ps.points.shape))
    return _pointset(ps.surface, z, chart)


def _horizontal(z, v):
    return v - np.sum(np.conj(z) * v, axis=-1, keepdims=True) * z


def _project(surface, z, iterations: int = 30):
    """Newton along the horizontal normal conj(∇P)⊥ until P(z) = 0 (relative 1e-14)."""
    for _ in range(iterations):
        P = surface.evaluate(z)
        grad = surface.gradient(z)
        n = _horizontal(z, np.conj(grad))
        s = -P / np.sum(grad * n, axis=-1)
        z = _unit(z + s[:, None] * n)
        if np.max(np.abs(s)) < 1e-15:
            break
    return z


def displaced_points(ps, distance: float, seed: int = 0, iterations: int = 60, chart=None):
    """Points of X at FS distance ``distance`` from each training point (module docstring),
    in ``chart`` if given (else each in its best-conditioned one)."""
    if not (np.isfinite(distance) and 0 < distance < 0.5):
        raise InvalidInputError("test-distance", f"need an FS distance in (0, 0.5), got {distance!r}")
    X = ps.surface
    z = _unit(ps.points)
    rng = np.random.default_rng(seed)
    v = rng.standard_normal(z.shape) + 1j * rng.standard_normal(z.shape)
    v = _horizontal(z, v)
    nrm = _horizontal(z, np.conj(X.gradient(z)))
    nrm = nrm / np.linalg.norm(nrm, axis=-1, keepdims=True)
    v = v - np.sum(np.conj(nrm) * v, axis=-1, keepdims=True) * nrm     # tangent to X: Σ ∂_iP v_i = 0
    v = v / np.linalg.norm(v, axis=-1, keepdims=True)
    t = np.full(len(z), float(distance))
    prev = None
    for _ in range(iterations):
        w = _project(X, np.cos(t)[:, None] * z + np.sin(t)[:, None] * v)
        d = 2.0 * np.arcsin(np.minimum(np.linalg.norm(w - z * _phase(z, w)[:, None], axis=-1) / 2.0, 1.0))
        if np.max(np.abs(d - distance)) < 1e-12 * distance:
            break
        # secant step on d(t) = distance per point (the plain rescaling t·D/d converges only
        # linearly, too slowly at D ~ 0.3 where the projection's O(t²) shift is large)
        if prev is None:
            t_new = t * distance / d
        else:
            slope = np.where(np.abs(t - prev[0]) > 0, (d - prev[1]) / np.where(t != prev[0], t - prev[0], 1.0), 1.0)
            t_new = np.where(np.abs(d - distance) > 0, t - (d - distance) / np.where(slope != 0, slope, 1.0), t)
        prev = (t, d)
        t = t_new
    else:
        raise NumericalError(f"the test points did not reach the FS distance {distance} in {iterations} steps "
                             f"(worst {np.max(np.abs(d - distance)):.2g} away)")
    out = _pointset(X, w, chart)
    if np.max(out.residual) > RESIDUAL_TOL:
        raise NumericalError(f"the projection onto {X.name} left a residual {np.max(out.residual):.2g}")
    return out


def _phase(z, w):
    """The phase e^{iφ} minimising |w − e^{iφ} z| (so the chord gives the FS distance)."""
    c = np.sum(np.conj(z) * w, axis=-1)
    return c / np.maximum(np.abs(c), 1e-300)


def mean_nearest_distance(test, train) -> float:
    """Mean FS distance from each test point to its nearest training point (Figure 3's abscissa)."""
    from metricflow.kernels.cloud_sums import fs_distance_unit
    from metricflow.kernels.pointcloud import block_size

    tu, su = _unit(test.points), _unit(train.points)
    b = block_size(len(tu), len(su))
    return float(np.mean(np.concatenate([fs_distance_unit(tu[s:s + b], su).min(axis=1)
                                         for s in range(0, len(tu), b)])))
