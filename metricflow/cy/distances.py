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

from metricflow.cy.sampling import sample, sample_in_chart
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


def projector_embedding(z: np.ndarray) -> np.ndarray:
    """The real (n+1)^2-vectors of the projectors P_z = u u^dagger (u = z/|z|): the n+1
    diagonal entries |u_i|^2 and sqrt(2) times the real and imaginary parts of the
    entries above the diagonal, so that |X(z) - X(w)| = |P_z - P_w|_F = sqrt(2) sin d(z, w).

    The Euclidean distance of the embedded points is a strictly increasing function of
    the FS distance d in [0, pi/2]: Euclidean nearest neighbours are FS nearest
    neighbours.  Phase- and scale-invariant.  Shape (N, (n+1)^2).
    """
    u = _unit(z)
    n1 = u.shape[-1]
    i, j = np.triu_indices(n1, 1)
    off = np.conj(u[..., i]) * u[..., j]
    return np.concatenate([u.real**2 + u.imag**2, np.sqrt(2.0) * off.real,
                           np.sqrt(2.0) * off.imag], axis=-1)


def _nearest_centres(X: np.ndarray, C: np.ndarray, rounds: int) -> np.ndarray:
    """Index of the nearest row of C for every row of X (unit vectors), after ``rounds``
    Lloyd steps that move the centres to their cells' centroids (rounder cells, smaller
    radii).  Which centre a row joins only affects speed, never the result."""
    for r in range(rounds + 1):
        lab = np.empty(X.shape[0], dtype=np.int64)
        half = 0.5 * np.sum(C**2, axis=1)
        for s in range(0, X.shape[0], 8192):  # |x - c|^2 = |x|^2 - 2 (x.c - |c|^2/2)
            lab[s : s + 8192] = np.argmax(X[s : s + 8192] @ C.T - half, axis=1)
        if r == rounds:
            return lab
        C = _centroids(X, lab)
    return lab  # pragma: no cover


def _centroids(X: np.ndarray, lab: np.ndarray) -> np.ndarray:
    """Means of the rows of X with each label (labels without rows dropped)."""
    k = int(lab.max()) + 1
    cnt = np.bincount(lab, minlength=k)
    if X.shape[0] * k <= 4_000_000:  # sums by one one-hot product
        S = (lab[None, :] == np.arange(k)[:, None]).astype(X.dtype) @ X
    else:
        S = np.stack([np.bincount(lab, weights=X[:, m], minlength=k) for m in range(X.shape[1])],
                     axis=1)
    return S[cnt > 0] / cnt[cnt > 0, None]


def _cells(X: np.ndarray, coarse: int, fine: int, rng: np.random.Generator, rounds: int = 3):
    """Two levels of cells over the rows of X (unit vectors): ~N/coarse coarse cells
    around random rows moved by ``rounds`` Lloyd steps, each split into cells of ~``fine``
    rows the same way.  Returns the permutation sorting rows by (coarse, fine) cell, the
    sorted rows and the arrays of :func:`metricflow.cy._nn.search`."""
    from metricflow.cy._blas import blas_threads

    N = X.shape[0]
    with blas_threads(1):  # small products; OpenBLAS threads busy-wait (see _blas)
        # coarse centres: Lloyd steps on a subsample (the full products cost more than
        # they save), then every row joins its nearest
        K = max(1, N // coarse)
        sub = X[rng.choice(N, min(N, 40 * K), replace=False)]
        C = _centroids(sub, _nearest_centres(sub, sub[rng.choice(sub.shape[0], K, replace=False)],
                                             max(0, rounds - 1)))
        sup = _nearest_centres(X, C, 0)
        K1 = int(sup.max()) + 1
        order = np.argsort(sup, kind="stable")
        bounds = np.searchsorted(sup[order], np.arange(K1 + 1))
        label = np.empty(N, dtype=np.int64)
        offset = 0
        for s in range(K1):
            rows = order[bounds[s] : bounds[s + 1]]
            if rows.size == 0:
                continue
            k = max(1, rows.size // fine)
            Xs = X[rows]
            label[rows] = offset + _nearest_centres(Xs, Xs[rng.choice(rows.size, k, replace=False)],
                                                    rounds)
            offset += k
    perm = np.argsort(label, kind="stable")  # labels increase with the coarse cell
    Xp = np.ascontiguousarray(X[perm])
    _, fine_of = np.unique(label[perm], return_inverse=True)
    fine_start = np.searchsorted(fine_of, np.arange(fine_of[-1] + 2))
    _, sup_of_fine = np.unique(sup[perm][fine_start[:-1]], return_inverse=True)
    sup_start = np.searchsorted(sup_of_fine, np.arange(sup_of_fine[-1] + 2))

    def balls(starts, of):
        cen = np.add.reduceat(Xp, starts[:-1], axis=0) / np.diff(starts)[:, None]
        d2 = np.sum((Xp - cen[of]) ** 2, axis=1)
        return cen, np.sqrt(np.maximum.reduceat(d2, starts[:-1]))

    fine_cen, fine_rad = balls(fine_start, fine_of)
    sup_of = sup_of_fine[fine_of]
    sup_cen, sup_rad = balls(fine_start[sup_start], sup_of)
    # coarse cells in order of distance from each coarse cell (the order of the search)
    G = sup_cen @ sup_cen.T
    sup_order = np.argsort(np.sum(sup_cen**2, axis=1)[None, :] - 2 * G, axis=1, kind="stable")
    return perm, Xp, (fine_of, sup_of, fine_start, fine_cen, fine_rad, sup_start, sup_cen, sup_rad,
                      np.ascontiguousarray(sup_order))


def nearest_neighbours(z: np.ndarray, seed: int = 0, progress: bool = False, *,
                       fine: int = 12, coarse: int = 250) -> tuple[np.ndarray, np.ndarray]:
    """Exact nearest neighbour in FS distance of every point: (distances, indices).

    The points are embedded by their projectors (:func:`projector_embedding`), where the
    Euclidean distance sqrt(2) sin d is strictly increasing in the FS distance d, so the
    FS nearest neighbour is the Euclidean one.  That one is found exactly by a
    two-level cell search (compiled with numba, parallel over the points): ~N/``coarse``
    coarse cells of random centres, each split into cells of ~``fine`` points, every
    cell bounded by the ball around its centroid.  Each point scans its own cells first,
    then every cell whose ball comes within the best distance found so far (the
    triangle inequality; the test carries a slack of 1e-12 in the squared distance for
    round-off, so the candidate set is a superset of the needed one).  Candidates are
    ranked by sums of squared differences, accurate to relative round-off at any
    separation (near-duplicates at 1e-7 rad are ranked correctly; only ties within
    ~1e-9 relative, or points closer than ~1e-12 rad, may be resolved arbitrarily).
    The returned distance is recomputed with the stable formula (:func:`fs_distance`).
    Deterministic for a given ``seed`` (the random cell centres); the result does not
    depend on it except for exact ties.
    """
    from metricflow.cy._nn import search

    z = np.asarray(z)
    if z.ndim != 2 or z.shape[0] < 2 or z.shape[1] < 2:
        raise InvalidInputError("points", "need at least 2 points of shape (N, n+1), "
                                f"got {z.shape}")
    z = z.astype(np.complex128, copy=False)
    if not np.all(np.isfinite(z)) or np.any(np.all(z == 0, axis=1)):
        raise InvalidInputError("points", "points must be finite and non-zero")
    for name, v in (("fine", fine), ("coarse", coarse)):
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise InvalidInputError(name, f"need a positive integer, got {v!r}")
    X = projector_embedding(z)
    N = X.shape[0]
    perm, Xp, cells = _cells(X, int(coarse), int(fine), np.random.default_rng(seed))
    arg = np.empty(N, dtype=np.int64)
    step = N if not progress else max(1, -(-N // 20))
    chunks = range(0, N, step)
    if progress and len(chunks) > 1:
        from tqdm import tqdm

        chunks = tqdm(chunks, desc="nearest neighbours", leave=False, mininterval=0.5)
    for r0 in chunks:
        r1 = min(N, r0 + step)
        arg[r0:r1] = search(Xp, r0, r1, *cells, 1e-12)[0]
    idx = np.empty(N, dtype=np.int64)
    idx[perm] = perm[arg]
    u = _unit(z)
    return fs_distance(u, u[idx]), idx


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
