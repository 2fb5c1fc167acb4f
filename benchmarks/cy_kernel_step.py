"""Cost of one full-mode Gaussian-kernel flow step on the quintic against the number N of
training points (issue 14): V = −δσ/δg by JAX autodiff, then the blocked kernel sum
Σ_j Θ(x_i, x_j) ω_j V_j carried in FS frames (:func:`metricflow.kernels.cloud_sums.kernel_sum`,
memory linear in N), against the dense way (the N × N matrix of the engine's
:func:`metricflow.kernels.pointcloud.fs_gaussian_dense`) where it fits. Peak memory of each
(tracemalloc: numpy's allocations) is reported with its ratio to N. One JSON object, also
written to benchmarks/results/cy_kernel_step_cpu2.json.

    python benchmarks/cy_kernel_step.py [--sizes 1000,2000,4000,8000] [--dense-max 4000] [--sigma 0.1]
"""

import argparse
import json
import sys
import time
import tracemalloc
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import machine  # noqa: E402


def measure(fn):
    tracemalloc.start()
    t0 = time.perf_counter()
    out = fn()
    sec = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, sec, peak


def step(ker, cloud, flow, g, frames):
    """One full-mode step's work: the velocity and the blocked kernel sum."""
    from metricflow.kernels.cloud_sums import kernel_sum

    return kernel_sum(ker, cloud, flow.velocity(g), cloud.pointset, frames=frames)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,2000,4000,8000")
    ap.add_argument("--dense-max", type=int, default=4000)
    ap.add_argument("--sigma", type=float, default=0.1)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "cy_kernel_step_cpu2.json"))
    args = ap.parse_args(argv)

    import numpy as np

    from metricflow.experiments.cy_kernels import KernelFlow
    from metricflow.kernels.cloud_sums import CloudKernel, FrameCache, kernel_sum
    from metricflow.kernels.pointcloud import fs_gaussian_dense
    from metricflow.manifolds import PointCloud

    ker = CloudKernel("gaussian", sigma=args.sigma, form="gaussian")
    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        cloud = PointCloud.sample("fermat-quintic", n, seed=0)
        flow = KernelFlow(cloud, ker, 0.1)
        g = np.array(cloud.reference_metric())
        flow.velocity(g)                                   # compile once
        frames = FrameCache(cloud)
        kernel_sum(ker, cloud, g, cloud.pointset.subset(np.arange(2)), frames=frames)   # frame maps, once
        frames._blocks.clear()
        frames._size = 0
        import metricflow.kernels.cloud_sums as cs

        keep, cs.CACHE_VALUES = cs.CACHE_VALUES, 0         # no kernel cache: every value computed in the step
        try:
            (_, sec, peak) = measure(partial(step, ker, cloud, flow, g, frames))
        finally:
            cs.CACHE_VALUES = keep
        row = {"n": n, "blocked_seconds": sec, "blocked_peak_bytes": peak, "blocked_peak_bytes_per_point": peak / n}
        if n <= args.dense_max:
            V = flow.velocity(g)
            gV = g @ V @ g
            (_, dsec, dpeak) = measure(partial(fs_gaussian_dense, cloud, gV, args.sigma))
            row.update(dense_seconds=dsec, dense_peak_bytes=dpeak, dense_over_blocked_seconds=dsec / sec,
                       dense_over_blocked_memory=dpeak / peak)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    n = np.array([r["n"] for r in rows], dtype=float)
    t = np.array([r["blocked_seconds"] for r in rows])
    # the exponent of the two largest sizes (small N is dominated by per-chart overheads)
    slope = float(np.log(t[-1] / t[-2]) / np.log(n[-1] / n[-2])) if len(rows) > 1 else None
    doc = {"benchmark": "cy_kernel_step", "sigma": args.sigma, "rows": rows, "time_exponent": slope,
           "extrapolated_seconds_at_1e5": float(t[-1] * (1e5 / n[-1]) ** (slope or 2)),
           "target_seconds_at_1e5": 10.0, "machine": machine()}
    Path(args.out).write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
