"""Batched agglomerative clustering of points by FS distance (section 3.1, eq. 3.3).

1. Split the points into mini-batches of size M (in the given order).
2. Cluster each mini-batch into C clusters by average linkage on the FS distance
   (scipy.cluster.hierarchy; the paper used sklearn's equivalent).
3. Merge across mini-batches (eq. 3.3): for each cluster c^1_alpha of the first batch,
   in order, the not yet merged cluster c^I_beta of batch I with the smallest maximum
   distance max_{x in c^1_alpha, y in c^I_beta} d_FS(x, y) joins it.  The paper's text
   leaves open whether a cluster of batch I may be chosen twice; we read it as a
   one-to-one greedy matching (``match="greedy"``); ``match="optimal"`` solves the same
   assignment problem exactly (scipy.optimize.linear_sum_assignment).

:func:`full_clustering` is the unbatched reference.
"""

from __future__ import annotations

import numpy as np

from metricflow.cy.distances import _unit, fs_distance_matrix
from metricflow.errors import InvalidInputError


def average_linkage(z: np.ndarray, n_clusters: int) -> np.ndarray:
    """Labels 0..C-1 of average-linkage clustering on the FS distance (unbatched)."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    z = np.asarray(z)
    if z.shape[0] < 2:
        return np.zeros(z.shape[0], dtype=np.int64)
    D = fs_distance_matrix(z)
    np.fill_diagonal(D, 0.0)
    Z = linkage(squareform(D, checks=False), method="average")
    labels = fcluster(Z, t=n_clusters, criterion="maxclust") - 1
    return labels.astype(np.int64)


def full_clustering(z: np.ndarray, n_clusters: int) -> np.ndarray:
    """The unbatched reference of section 3.1 (average linkage on all points)."""
    _check(z, len(z), n_clusters)
    return average_linkage(z, n_clusters)


def _check(z, batch_size, n_clusters):
    N = len(z)
    if isinstance(batch_size, bool) or int(batch_size) < 2:
        raise InvalidInputError("batch_size", f"need a batch size >= 2, got {batch_size!r}")
    if isinstance(n_clusters, bool) or int(n_clusters) < 1:
        raise InvalidInputError("clusters", f"need at least one cluster, got {n_clusters!r}")
    if int(n_clusters) > min(N, int(batch_size)):
        raise InvalidInputError("clusters", f"{n_clusters} clusters do not fit in mini-batches "
                                f"of {min(N, int(batch_size))} points")


def max_distance_between_clusters(za, la, zb, lb, C: int) -> np.ndarray:
    """dmax[alpha, beta] = max FS distance between cluster alpha of a and beta of b.

    Uses |<u, v>| = cos d (max distance <-> min overlap), one BLAS product per alpha.
    Empty clusters get +inf.
    """
    ua, ub = _unit(za), _unit(zb)
    ob = np.argsort(lb, kind="stable")
    lbs = lb[ob]
    starts = np.searchsorted(lbs, np.arange(C))
    present = np.isin(np.arange(C), lbs)
    out = np.full((C, C), np.inf)
    ubs = np.ascontiguousarray(ub[ob].T)
    from metricflow.cy._blas import blas_threads

    with blas_threads(1):  # inner dimension n+1: threads only add overhead
        for alpha in range(C):
            rows = ua[la == alpha]
            if rows.size == 0:
                continue
            ov = np.abs(np.conj(rows) @ ubs).min(axis=0)  # (Mb,)
            mins = np.minimum.reduceat(ov, np.minimum(starts, len(ov) - 1))
            dm = np.arccos(np.clip(mins, 0.0, 1.0))
            out[alpha] = np.where(present, dm, np.inf)
    return out


def batched_clustering(z: np.ndarray, batch_size: int, n_clusters: int,
                       match: str = "greedy", progress: bool = False) -> np.ndarray:
    """Labels 0..C-1 of the batched clustering of section 3.1 (eq. 3.3)."""
    z = np.asarray(z)
    _check(z, batch_size, n_clusters)
    if match not in ("greedy", "optimal"):
        raise InvalidInputError("match", f"use 'greedy' or 'optimal', got {match!r}")
    N = len(z)
    M, C = int(batch_size), int(n_clusters)
    bounds = list(range(0, N, M))
    if len(bounds) > 1 and N - bounds[-1] < C:  # fold a too small last batch into the previous
        bounds.pop()
    bounds.append(N)
    labels = np.empty(N, dtype=np.int64)
    it = range(len(bounds) - 1)
    if progress:
        from tqdm import tqdm

        it = tqdm(it, desc="mini-batches", leave=False)
    z1 = l1 = None
    for bi in it:
        s, e = bounds[bi], bounds[bi + 1]
        lab = average_linkage(z[s:e], C)
        if bi == 0:
            z1, l1 = z[s:e], lab
            labels[s:e] = lab
            continue
        dmax = max_distance_between_clusters(z1, l1, z[s:e], lab, C)
        mapping = np.full(C, -1, dtype=np.int64)  # beta -> alpha
        if match == "optimal":
            from scipy.optimize import linear_sum_assignment

            cost = np.where(np.isfinite(dmax), dmax, 1e6)
            ra, cb = linear_sum_assignment(cost)
            mapping[cb] = ra
        else:
            free = np.ones(C, dtype=bool)
            for alpha in range(C):
                cand = np.where(free, dmax[alpha], np.inf)
                beta = int(np.argmin(cand))
                if np.isfinite(cand[beta]):
                    mapping[beta] = alpha
                    free[beta] = False
        # clusters of batch I left unmatched (fewer clusters than C in batch 1) go to
        # the alpha with the smallest max distance
        for beta in np.flatnonzero(mapping < 0):
            mapping[beta] = int(np.argmin(dmax[:, beta]))
        labels[s:e] = mapping[lab]
    return labels


def adjusted_rand_index(a: np.ndarray, b: np.ndarray) -> float:
    """Adjusted Rand index of two labelings (1 = identical partitions, ~0 = chance)."""
    from scipy.special import comb

    _, ia = np.unique(a, return_inverse=True)
    _, ib = np.unique(b, return_inverse=True)
    table = np.zeros((ia.max() + 1, ib.max() + 1), dtype=np.int64)
    np.add.at(table, (ia, ib), 1)
    sum_comb = comb(table, 2).sum()
    sa = comb(table.sum(axis=1), 2).sum()
    sb = comb(table.sum(axis=0), 2).sum()
    total = comb(len(a), 2)
    expected = sa * sb / total
    maxi = (sa + sb) / 2
    return float((sum_comb - expected) / (maxi - expected)) if maxi != expected else 1.0


def cluster_report(z: np.ndarray, batch_size: int, n_clusters: int, match: str = "greedy",
                   full_limit: int = 5000, progress: bool = False) -> dict:
    """Batched labels, the unbatched reference (if N <= full_limit), and statistics:
    mean intra-cluster FS distance of each, the same for a random labelling, the
    adjusted Rand index between batched and unbatched."""
    z = np.asarray(z)
    N = len(z)
    lb = batched_clustering(z, batch_size, n_clusters, match=match, progress=progress)
    out = {"n_points": N, "batch_size": int(batch_size), "clusters": int(n_clusters),
           "match": match, "labels_batched": lb,
           "sizes_batched": np.bincount(lb, minlength=n_clusters).tolist()}
    if N <= full_limit:
        lf = full_clustering(z, n_clusters)
        D = fs_distance_matrix(z)
        rng = np.random.default_rng(0)
        lr = rng.permutation(lb)

        def intra(lab):
            same = lab[:, None] == lab[None, :]
            np.fill_diagonal(same, False)
            return float(D[same].mean())

        out.update(labels_full=lf, sizes_full=np.bincount(lf, minlength=n_clusters).tolist(),
                   mean_intra_batched=intra(lb), mean_intra_full=intra(lf),
                   mean_intra_random=intra(lr),
                   mean_distance=float(D[~np.eye(N, dtype=bool)].mean()),
                   ari_batched_vs_full=adjusted_rand_index(lb, lf))
    return out
