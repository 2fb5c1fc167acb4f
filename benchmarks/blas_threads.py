"""Benchmark: the numpy workloads that run their products with one OpenBLAS thread
(`metricflow.cy._blas.blas_threads(1)`), timed with that limit and without it (issue 16,
"measure with and without").  Prints ONE JSON object.

OpenBLAS's threads busy-wait; on a 2-core machine shared with other work, two BLAS threads
inside an already threaded or small product can cost more than they give.  Each workload runs
alternately with the limit (as shipped) and with `blas_threads` replaced by a no-op (OpenBLAS's
default thread count), best of --repeat, with the load average recorded:

- the batched clustering of section 3.1 (`cy.clustering.batched_clustering`, max distances
  between clusters: (30 x 25) @ (25 x M) products);
- the exact FS nearest neighbours (`cy.nearest_neighbours`, its cell construction);
- the blocked FS-Gaussian kernel sum (`kernels.pointcloud.symmetric_blocked_sum` with
  `CloudKernel("gaussian", form="gaussian")` tiles, as in `cy kernel-flow`: worker threads over
  256 x 256 tiles, each tile's GEMMs), on min(N, 10^4) points and 25 reals a point.

The Donaldson T-operator, the algebraic metrics and the optimiser run in XLA, which does not
call OpenBLAS: they are not affected either way and are not timed here.

    python benchmarks/blas_threads.py [--n 20000] [--repeat 3] [--out F]
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import emit, machine  # noqa: E402


@contextlib.contextmanager
def _no_limit(n: int = 1):
    yield


def _time(fn, repeat: int, limited: bool) -> float:
    import metricflow.cy._blas as blas

    real = blas.blas_threads
    best = np.inf
    try:
        if not limited:
            blas.blas_threads = _no_limit
        for _ in range(repeat):
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
    finally:
        blas.blas_threads = real
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20_000, help="points of each workload")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    from metricflow import cy
    from metricflow.cy._blas import _openblas
    from metricflow.cy.clustering import batched_clustering
    from metricflow.kernels.cloud_sums import CloudKernel
    from metricflow.kernels.pointcloud import symmetric_blocked_sum

    z = cy.sample(cy.hypersurface("fermat-quintic"), args.n, seed=0).points
    unit = z[: min(args.n, 10_000)] / np.linalg.norm(z[: min(args.n, 10_000)], axis=1, keepdims=True)
    kern = CloudKernel("gaussian", sigma=0.3, form="gaussian")
    T, S = kern.sides(unit)
    flat = np.random.default_rng(0).normal(size=(len(unit), 25))
    B = 256

    def kernel_sum():
        return symmetric_blocked_sum(lambda a, c: kern.block(T[a:a + B], S[c:c + B]), flat, B)

    workloads = {
        "batched_clustering": lambda: batched_clustering(z, 5000, 30),
        "nearest_neighbours": lambda: cy.nearest_neighbours(z, seed=0),
        "fs_gaussian_sum": kernel_sum,
    }
    for fn in workloads.values():  # compile / warm caches once
        fn()
    rows = []
    for name, fn in workloads.items():
        limited = _time(fn, args.repeat, True)
        free = _time(fn, args.repeat, False)
        again = _time(fn, args.repeat, True)
        best_limited = min(limited, again)
        rows.append({"workload": name, "seconds_one_blas_thread": best_limited, "seconds_default_threads": free,
                     "ratio_default_over_one": free / best_limited})
        print(f"{name}: one BLAS thread {best_limited:.3f} s, default {free:.3f} s "
              f"({free / best_limited:.2f}x)", file=sys.stderr)
    funcs = _openblas()
    out = {"benchmark": "blas_threads", "machine": machine(), "n_points": args.n, "repeat": args.repeat,
           "openblas_found": bool(funcs), "openblas_default_threads": int(funcs[0]()) if funcs else None,
           "rows": rows}
    emit(out, args.out)


if __name__ == "__main__":
    main()
