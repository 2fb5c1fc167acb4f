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

The geometry at each point (patch, eliminated coordinate, Omega, Jacobian, pulled-back
Fubini-Study metric, weights) is :mod:`metricflow.cy.geometry`; the container, its
``.npz`` format and line statistics are :mod:`metricflow.cy.pointset`.  Imports go one
way: hypersurface <- geometry <- pointset <- sampling (<- _jax_sampling, loaded on demand).
"""

from __future__ import annotations

import numpy as np

from metricflow._linalg import hermitian_det
from metricflow.cy.geometry import _check_chart, chart_transition, jacobian, point_geometry, transform_metric
from metricflow.cy.hypersurface import Hypersurface, hypersurface
from metricflow.cy.pointset import FORMAT, PointSet, concatenate, in_chart, load, save
from metricflow.errors import InvalidInputError, NumericalError


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


def exact_fs_volume(poly: str | Hypersurface) -> float:
    """Vol_FS(X) = d pi^(n-1)/(n-1)! (see :meth:`Hypersurface.fs_volume`)."""
    return hypersurface(poly).fs_volume()


__all__ = ["FORMAT", "PointSet", "sample", "sample_in_chart", "in_chart", "point_geometry", "jacobian",
           "line_coefficients", "polynomial_roots", "chart_transition", "transform_metric",
           "save", "load", "concatenate", "hermitian_det", "exact_fs_volume"]
