"""Numba kernel of the Gaussian FS sum ``Σ_j exp(−d(t, s_j)²/(2σ²)) flat_j`` (the numpy path of
:func:`metricflow.kernels.pointcloud.gaussian_total`): one fused pass per target, parallel over
the targets, no temporary of size N (memory O(targets × m) for the result only).

Per pair: ``⟨t, s⟩`` from the real and imaginary parts (4(n+1) multiply-adds), ``c² = |⟨t, s⟩|²``;
pairs with ``c² ≤ c2_cut`` are skipped — their weight is below ``2^−64`` (``d ≥ σ√(128 ln 2)``),
so the skipped part of the sum is below ``N · 2^−64 · max|flat|`` (5e-15 max|flat| at
N = 10⁵, under the round-off of summing N terms); the others take ``d = arccos √c²`` (stable in
d², :func:`metricflow.kernels.pointcloud.gaussian_of_overlap`) and one exp.
"""

from __future__ import annotations

import math

import numba as nb
import numpy as np


@nb.njit(parallel=True, cache=True)
def _gaussian_total(tre, tim, sre, sim, flat, inv2s2, c2_cut, out):
    nt, n1 = tre.shape
    ns, m = flat.shape
    for i in nb.prange(nt):
        acc = np.zeros(m)
        for j in range(ns):
            re = 0.0
            im = 0.0
            for a in range(n1):
                re += tre[i, a] * sre[j, a] + tim[i, a] * sim[j, a]
                im += tre[i, a] * sim[j, a] - tim[i, a] * sre[j, a]
            c2 = re * re + im * im
            if c2 > c2_cut:
                d = math.acos(math.sqrt(min(c2, 1.0)))
                w = math.exp(-d * d * inv2s2)
                for k in range(m):
                    acc[k] += w * flat[j, k]
        for k in range(m):
            out[i, k] = acc[k]


def gaussian_total(targets_unit, sources_unit, flat, sigma: float) -> np.ndarray:
    """``Σ_j exp(−d(t, s_j)²/(2σ²)) flat_j`` for unit targets (M, n+1) and sources (N, n+1),
    ``flat`` (N, m) real (module docstring)."""
    t = np.asarray(targets_unit)
    s = np.asarray(sources_unit)
    flat = np.ascontiguousarray(flat, dtype=np.float64)
    d_cut = sigma * math.sqrt(128.0 * math.log(2.0))
    c2_cut = math.cos(d_cut) ** 2 if d_cut < math.pi / 2 else -1.0
    out = np.empty((t.shape[0], flat.shape[1]))
    _gaussian_total(np.ascontiguousarray(t.real), np.ascontiguousarray(t.imag), np.ascontiguousarray(s.real),
                    np.ascontiguousarray(s.imag), flat, 1.0 / (2.0 * sigma**2), c2_cut, out)
    return out
