"""Fubini-Study geodesic distances (eq. 3.2), exact nearest neighbours, and the
nearest-neighbour distance against the number of points (Figure 3 right, eq. 3.6).

Eq. (3.2), d = arccos sqrt(|<z, z'>|^2 / (|z|^2 |z'|^2)), loses half the digits
near d = 0 (arccos(1 - eps) ~ sqrt(2 eps), eq. 3.4).  We use instead the chord of
the phase-aligned unit representatives: with u = z/|z|, u' = z'/|z'| and
c = <u, u'>, the vector u - (c/|c|) u' has length 2 sin(d/2) and is computed
without cancellation, so

    d = 2 arcsin(|u - (c/|c|) u'| / 2)

is accurate to relative round-off for all 0 <= d <= pi/2 (tested at 1e-7).
"""

from __future__ import annotations

import numpy as np

from metricflow.errors import InvalidInputError


def _unit(z: np.ndarray) -> np.ndarray:
    z = np.asarray(z, dtype=np.complex128)
    return z / np.sqrt(np.sum(z.real**2 + z.imag**2, axis=-1, keepdims=True))


def fs_chord(z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """2 sin(d/2) for the FS distance d between z and w (broadcast over leading axes)."""
    u, v = _unit(z), _unit(w)
    c = np.sum(np.conj(u) * v, axis=-1)
    ac = np.abs(c)
    phase = np.where(ac > 0, np.conj(c) / np.where(ac > 0, ac, 1.0), 1.0)
    diff = u - v * phase[..., None]
    return np.sqrt(np.sum(diff.real**2 + diff.imag**2, axis=-1))


def fs_distance(z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Fubini-Study geodesic distance (3.2) between homogeneous points z, w (..., n+1),
    computed stably near 0 (see the module docstring); values in [0, pi/2]."""
    return 2.0 * np.arcsin(np.minimum(fs_chord(z, w) / 2.0, 1.0))


def fs_distance_matrix(z: np.ndarray, w: np.ndarray | None = None, block: int = 256) -> np.ndarray:
    """All pairwise FS distances (len(z), len(w)), stable near 0, in row blocks."""
    z = np.asarray(z)
    w = z if w is None else np.asarray(w)
    out = np.empty((z.shape[0], w.shape[0]))
    for s in range(0, z.shape[0], block):
        out[s : s + block] = fs_distance(z[s : s + block, None, :], w[None, :, :])
    return out


def fs_abs_overlap(z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """|<u, v>| = cos d for all pairs (len(z), len(w)) by one matrix product (BLAS).

    Monotone decreasing in d: use it to compare distances (max distance <-> min
    overlap) where the value of d near 0 is not needed.
    """
    return np.abs(np.conj(_unit(z)) @ _unit(w).T)


def projector_row(u: np.ndarray, p: int) -> np.ndarray:
    """Real coordinates (N, 2(n+1) - 1) of the p-th row conj(u_p) u of the projector u u^dagger.

    For unit vectors ||P_u - P_v||_F = sqrt(2) sin d(u, v) (Hilbert-Schmidt distance of
    the projectors, monotone in the FS distance), and a row of a matrix is no longer
    than the matrix, so this map is 1-Lipschitz: |row_p(u) - row_p(v)| <= sqrt(2) sin d.
    """
    r = np.conj(u[:, p])[:, None] * u
    return np.concatenate([r.real, np.delete(r.imag, p, axis=1)], axis=1)


def nearest_neighbours(z: np.ndarray, k_start: int = 4, workers: int = -1,
                       progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Exact nearest neighbour in FS distance of every point: (distances, indices).

    For each patch p (largest |u_p| of the query), all points are mapped to the p-th
    row of their projector (:func:`projector_row`, 1-Lipschitz for sqrt(2) sin d,
    nearly isometric near the query since |u_p| >= 1/sqrt(n+1)) and put in a k-d tree
    (scipy).  The best exact distance d* among ``k_start`` Euclidean candidates bounds
    the nearest neighbour; every point within FS distance d* lies within Euclidean
    radius sqrt(2) sin d* in this map, so the minimum of exact distances over that ball
    query is the exact nearest neighbour.  Ties are broken arbitrarily.
    """
    from scipy.spatial import cKDTree

    z = np.asarray(z, dtype=np.complex128)
    if z.ndim != 2 or z.shape[0] < 2:
        raise InvalidInputError("points", "need at least 2 points of shape (N, n+1), "
                                f"got {z.shape}")
    u = _unit(z)
    N, n1 = u.shape
    patch = np.argmax(u.real**2 + u.imag**2, axis=1)
    best = np.full(N, np.inf)
    arg = np.full(N, -1, dtype=np.int64)
    it = range(n1)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="nearest neighbours (patches)", leave=False)
    for p in it:
        q = np.flatnonzero(patch == p)
        if q.size == 0:
            continue
        tree = cKDTree(projector_row(u, p))
        Xq = projector_row(u[q], p)
        k = min(k_start, N)
        _, idx = tree.query(Xq, k=k, workers=workers)
        idx = np.asarray(idx).reshape(q.size, k)
        ch = fs_chord(u[q][:, None, :], u[idx])
        ch[idx == q[:, None]] = np.inf
        j = np.argmin(ch, axis=1)
        cstar = ch[np.arange(q.size), j]
        cand = idx[np.arange(q.size), j]
        # sqrt(2) sin d = sqrt(2) c sqrt(1 - c^2/4) for the chord c = 2 sin(d/2)
        r = np.sqrt(2.0) * cstar * np.sqrt(np.maximum(1.0 - cstar**2 / 4.0, 0.0))
        r = np.where(np.isfinite(r), r * (1 + 1e-9) + 1e-14, np.inf)
        lists = tree.query_ball_point(Xq, r, workers=workers, return_sorted=False)
        lens = np.fromiter((len(x) for x in lists), dtype=np.int64, count=q.size)
        flat = np.fromiter((i for x in lists for i in x), dtype=np.int64, count=int(lens.sum()))
        pos = np.repeat(np.arange(q.size), lens)
        chunk = 1_000_000
        for s in range(0, flat.size, chunk):
            f, ps_ = flat[s : s + chunk], pos[s : s + chunk]
            c = fs_chord(u[q[ps_]], u[f])
            c[f == q[ps_]] = np.inf
            order = np.lexsort((c, ps_))
            first = np.ones(order.size, dtype=bool)
            first[1:] = ps_[order][1:] != ps_[order][:-1]
            sel = order[first]
            better = c[sel] < cstar[ps_[sel]]
            cstar[ps_[sel][better]] = c[sel][better]
            cand[ps_[sel][better]] = f[sel][better]
        best[q] = cstar
        arg[q] = cand
    return 2.0 * np.arcsin(np.minimum(best / 2.0, 1.0)), arg


def nn_distance_scaling(ns=(1000, 10000), seed: int = 0, poly="fermat-quintic",
                        one_per_line: bool = False, chart: tuple[int, int] | None = None,
                        progress: bool = False) -> dict:
    """Mean, min and max nearest-neighbour FS distance against the number of points
    (Figure 3 right) with the least-squares power law mean = prefactor * N^exponent
    (eq. 3.6 prints 0.968 N^-0.184).  Each N uses its own sample (seed + index).

    ``one_per_line`` keeps one random root per Shiffman-Zelditch line (independent
    points) instead of all deg(P) correlated roots.  ``chart=(p, e)`` uses only points
    whose preferred chart is (p, e) (the paper's rejection sampling, section 3.1): the
    same N points then fill 1/20 of the quintic.
    """
    from scipy.stats import linregress

    from metricflow.cy.sampling import sample, sample_in_chart

    ns = [int(n) for n in ns]
    if not ns or any(n < 2 for n in ns):
        raise InvalidInputError("n", f"need point counts >= 2, got {ns}")
    rows = []
    for i, n in enumerate(ns):
        if chart is not None:
            if one_per_line:
                raise InvalidInputError("one_per_line", "choose either one_per_line or chart")
            z = sample_in_chart(poly, n, seed=seed + i, chart=chart).points
        elif one_per_line:
            X = sample(poly, 2, seed=0).surface
            ps = sample(poly, n * X.degree, seed=seed + i)
            rng = np.random.default_rng(seed + i)
            pick = np.arange(0, n * X.degree, X.degree) + rng.integers(0, X.degree, n)
            z = ps.points[pick]
        else:
            z = sample(poly, n, seed=seed + i).points
        d, _ = nearest_neighbours(z, progress=progress)
        rows.append({"n": n, "mean": float(d.mean()), "min": float(d.min()),
                     "max": float(d.max()), "median": float(np.median(d)),
                     "stderr_mean": float(d.std(ddof=1) / np.sqrt(n))})
    out = {"rows": rows, "poly": str(poly), "seed": seed, "one_per_line": one_per_line,
           "chart": list(chart) if chart is not None else None,
           "paper_prefactor": 0.968, "paper_exponent": -0.184}
    if len(set(ns)) >= 2:
        fit = linregress(np.log([r["n"] for r in rows]), np.log([r["mean"] for r in rows]))
        out.update(prefactor=float(np.exp(fit.intercept)), exponent=float(fit.slope),
                   exponent_stderr=float(fit.stderr) if len(rows) > 2 else None)
    else:
        out.update(prefactor=None, exponent=None, exponent_stderr=None)
    return out
