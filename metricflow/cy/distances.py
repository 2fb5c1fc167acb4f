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


def fs_distance_matrix(z: np.ndarray, w: np.ndarray | None = None, block: int = 2048) -> np.ndarray:
    """All pairwise FS distances (len(z), len(w)).

    Overlaps |<u, v>| by (single-threaded) matrix products, d = arccos of them where that
    is accurate (|<u, v>| < 1 - 1e-6, i.e. d > 1.4e-3: error < 1e-13), and the stable
    chord formula for the nearly equal pairs.
    """
    from metricflow.cy._blas import blas_threads

    uz = _unit(z)
    uw = uz if w is None else _unit(w)
    wT = np.ascontiguousarray(uw.T)
    out = np.empty((uz.shape[0], uw.shape[0]))
    with blas_threads(1):
        for s in range(0, uz.shape[0], block):
            c = np.abs(np.conj(uz[s : s + block]) @ wT)
            d = np.arccos(np.minimum(c, 1.0))
            i, j = np.nonzero(c > 1.0 - 1e-6)
            if i.size:
                d[i, j] = fs_distance(uz[s + i], uw[j])
            out[s : s + block] = d
    return out


def fs_abs_overlap(z: np.ndarray, w: np.ndarray) -> np.ndarray:
    """|<u, v>| = cos d for all pairs (len(z), len(w)) by one matrix product (BLAS).

    Monotone decreasing in d: use it to compare distances (max distance <-> min
    overlap) where the value of d near 0 is not needed.
    """
    return np.abs(np.conj(_unit(z)) @ _unit(w).T)


def nearest_neighbours(z: np.ndarray, per_cell: int = 30, near: int = 8, seed: int = 0,
                       progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Exact nearest neighbour in FS distance of every point: (distances, indices).

    Blocked brute force with triangle-inequality pruning (FS distance is a metric):
    N/``per_cell`` random points are cell centres, every point joins its nearest
    centre, R_c is the largest distance of a member to its centre.  For the queries of
    a cell, a first bound d*_q comes from the members of the ``near`` nearest cells;
    a cell c can then hold a closer point only if d(q, c) - R_c <= d*_q, i.e.
    cos d(q, c) >= cos(d*_q + R_c).  All candidates of the cells that pass for some
    query of the block are compared by one complex matrix product of overlaps
    |<u, v>| = cos d (single-threaded BLAS), and the winner's distance is recomputed
    with the stable formula.  Bounds carry a slack of 1e-7 rad for the round-off of
    arccos near 1, so the candidate set is a superset of the needed one; only exact
    ties (and near-duplicates closer than ~1e-8 rad, where cos d rounds to 1) may be
    resolved arbitrarily.  Deterministic for a given ``seed``.
    """
    from metricflow.cy._blas import blas_threads

    z = np.asarray(z, dtype=np.complex128)
    if z.ndim != 2 or z.shape[0] < 2:
        raise InvalidInputError("points", "need at least 2 points of shape (N, n+1), "
                                f"got {z.shape}")
    u = _unit(z)
    N = u.shape[0]
    uc = np.conj(u)
    uT = np.ascontiguousarray(u.T)
    K = max(1, min(N, N // max(1, int(per_cell))))
    rng = np.random.default_rng(seed)
    centres = u[np.sort(rng.choice(N, K, replace=False))]
    CT = np.ascontiguousarray(centres.T)
    slack = 1e-7
    with blas_threads(1):
        assign = np.empty(N, dtype=np.int64)
        cos_c = np.empty(N)
        for s in range(0, N, 4096):
            ov = np.abs(uc[s : s + 4096] @ CT)
            j = np.argmax(ov, axis=1)
            assign[s : s + 4096] = j
            cos_c[s : s + 4096] = ov[np.arange(j.size), j]
        R = np.zeros(K)
        np.maximum.at(R, assign, np.arccos(np.minimum(cos_c, 1.0)))
        R += slack
        cosR, sinR = np.cos(R), np.sin(R)
        order = np.argsort(assign, kind="stable")
        bounds = np.searchsorted(assign[order], np.arange(K + 1))
        sizes = np.diff(bounds)
        Dcc = np.abs(np.conj(centres) @ CT)
        nearest = np.argsort(-Dcc, axis=1)[:, : min(near, K)]

        def members(cells):
            lens = sizes[cells]
            tot = int(lens.sum())
            if tot == 0:
                return np.empty(0, dtype=np.int64)
            offs = np.repeat(bounds[cells] - np.concatenate([[0], np.cumsum(lens)[:-1]]), lens)
            return order[offs + np.arange(tot)]

        best = np.full(N, -np.inf)
        arg = np.full(N, -1, dtype=np.int64)
        cells = range(K)
        if progress:
            from tqdm import tqdm

            cells = tqdm(cells, desc="nearest neighbours (cells)", leave=False, mininterval=0.5)
        for a in cells:
            Q = order[bounds[a] : bounds[a + 1]]
            if Q.size == 0:
                continue
            uq = uc[Q]
            first = nearest[a]
            cand = members(first)
            ov = np.abs(uq @ uT[:, cand])  # cos d
            own = np.flatnonzero(first == a)  # the block's own cell: mask the diagonal
            if own.size:
                off = int(sizes[first[: own[0]]].sum())
                ov[np.arange(Q.size), off + np.arange(Q.size)] = -np.inf
            else:  # pragma: no cover - a cell is always among its own nearest
                ov[Q[:, None] == cand[None, :]] = -np.inf
            j = np.argmax(ov, axis=1)
            bc = ov[np.arange(Q.size), j]
            bi = cand[j]
            dstar = np.where(np.isfinite(bc), np.arccos(np.clip(bc, 0.0, 1.0)), np.pi / 2) + slack
            # cos(d* + R_c) = cos d* cos R_c - sin d* sin R_c (d* + R_c <= pi: monotone)
            thresh = np.cos(dstar)[:, None] * cosR[None, :] - np.sin(dstar)[:, None] * sinR[None, :]
            need = (np.abs(uq @ CT) >= thresh).any(axis=0)
            need[first] = False
            rest = np.flatnonzero(need)
            if rest.size:
                cand2 = members(rest)
                ov2 = np.abs(uq @ uT[:, cand2])
                j2 = np.argmax(ov2, axis=1)
                bc2 = ov2[np.arange(Q.size), j2]
                upd = bc2 > bc
                bc = np.where(upd, bc2, bc)
                bi = np.where(upd, cand2[j2], bi)
            best[Q] = bc
            arg[Q] = bi
    return fs_distance(u, u[arg]), arg


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
