"""Numba kernel of the exact nearest-neighbour search (see
:func:`metricflow.cy.distances.nearest_neighbours`)."""

from __future__ import annotations

import numba as nb
import numpy as np

# No 'nnan'/'ninf' (the kernel compares with large finite sentinels).  Reassociation only
# changes the rounding of 25-term sums; the cell tests carry a slack for that.
_FAST = {"contract", "reassoc", "nsz", "arcp"}


@nb.njit(cache=True, fastmath=_FAST, inline="always")
def _dot(A, j, q):
    s = 0.0
    for m in range(q.shape[0]):
        s += A[j, m] * q[m]
    return s


@nb.njit(cache=True, fastmath=_FAST, inline="always")
def _scan(X, i, q, a, b, bd2, bi):
    """Rows a:b other than i against q: the best squared distance (as a sum of squared
    differences, accurate to relative round-off however small) and its row."""
    for j in range(a, b):
        if j != i:
            s = 0.0
            for m in range(q.shape[0]):
                t = X[j, m] - q[m]
                s += t * t
            if s < bd2:
                bd2 = s
                bi = j
    return bd2, bi


@nb.njit(cache=True, fastmath=_FAST)
def _visit(X, i, q, qq, s, own_f, fine_start, fine_cen, fine_cc, fine_rad, sup_start,
           slack2, bd2, bi):
    """Scan the fine cells of coarse cell s that may hold a row closer than sqrt(bd2)."""
    if own_f >= 0:
        bd2, bi = _scan(X, i, q, fine_start[own_f], fine_start[own_f + 1], bd2, bi)
    for f in range(sup_start[s], sup_start[s + 1]):
        if f == own_f:
            continue
        # |q - c|^2 <= (best + R)^2 (+ slack): the cell's ball reaches within best of q
        r = np.sqrt(bd2) + fine_rad[f]
        if qq - 2.0 * _dot(fine_cen, f, q) + fine_cc[f] <= r * r + slack2:
            bd2, bi = _scan(X, i, q, fine_start[f], fine_start[f + 1], bd2, bi)
    return bd2, bi


@nb.njit(parallel=True, cache=True, fastmath=_FAST)
def search(X, r0, r1, fine_of, sup_of, fine_start, fine_cen, fine_rad, sup_start, sup_cen,
           sup_rad, sup_order, slack2):
    """Nearest other row (and squared Euclidean distance) of the rows r0:r1 of X.

    Rows are sorted by fine cell and fine cells by coarse cell: fine cell f holds rows
    fine_start[f]:fine_start[f+1], coarse cell s holds fine cells
    sup_start[s]:sup_start[s+1]; row i lies in fine cell fine_of[i] and coarse cell
    sup_of[i]; every row of a cell lies in the cell's ball (centre, radius).  A cell is
    skipped only when its ball stays farther than the best distance found so far, with
    ``slack2`` added to the squared test for the round-off of |q|^2 - 2 q.c + |c|^2, so
    the answer is exact up to the rounding of the squared distances of the rows.
    The query's own fine and coarse cells are searched first, then the coarse cells in
    the order sup_order[own coarse cell] (nearest first: the bound tightens early).
    """
    K1 = sup_cen.shape[0]
    fine_cc = np.empty(fine_cen.shape[0])
    for f in range(fine_cen.shape[0]):
        fine_cc[f] = _dot(fine_cen, f, fine_cen[f])
    sup_cc = np.empty(K1)
    for s in range(K1):
        sup_cc[s] = _dot(sup_cen, s, sup_cen[s])
    n = r1 - r0
    best2 = np.empty(n)
    arg = np.empty(n, np.int64)
    block = 64
    for blk in nb.prange((n + block - 1) // block):
        for i in range(r0 + blk * block, min(r1, r0 + (blk + 1) * block)):
            q = X[i]
            qq = _dot(X, i, q)
            s0 = sup_of[i]
            bd2, bi = _visit(X, i, q, qq, s0, fine_of[i], fine_start, fine_cen, fine_cc,
                             fine_rad, sup_start, slack2, 1e300, -1)
            for o in range(K1):
                s = sup_order[s0, o]
                if s == s0:
                    continue
                r = np.sqrt(bd2) + sup_rad[s]
                if qq - 2.0 * _dot(sup_cen, s, q) + sup_cc[s] <= r * r + slack2:
                    bd2, bi = _visit(X, i, q, qq, s, -1, fine_start, fine_cen, fine_cc,
                                     fine_rad, sup_start, slack2, bd2, bi)
            best2[i - r0] = bd2
            arg[i - r0] = bi
    return arg, best2
