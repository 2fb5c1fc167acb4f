"""Cost of one full-mode Gaussian-kernel flow step on the quintic against the number N of
training points (issue 14): the velocity (the FS-natural gradient, JAX autodiff) and the
blocked kernel sum Σ_j Θ(x_i, x_j) ω_j M_j of :func:`metricflow.kernels.cloud_sums.kernel_sum`
((★) of :mod:`metricflow.kernels.pointcloud`, memory linear in N), no kernel cache (every value
computed in the step, as at 10⁵ points where the cache cannot hold the kernel). Peak memory
(tracemalloc: numpy's allocations, all threads) with its ratio to N; the dense way (the N × N
matrix, :func:`metricflow.kernels.pointcloud.fs_gaussian_dense`) where it fits; the engine's
JAX operator (``Gaussian(σ).operator``, ``jax.lax.map``) at the smallest N; and, with
``--baseline-root DIR`` (a checkout of the earlier code), the earlier step timed in a
subprocess at the sizes up to ``--baseline-max`` in the same run, for the speed-up.
The time at 10⁵ points is extrapolated from the two largest sizes. One JSON object, also
written to benchmarks/results/cy_kernel_step_cpu2.json.

    python benchmarks/cy_kernel_step.py [--sizes 10000,20000,40000] [--baseline-root /work/main]
"""

import argparse
import json
import os
import subprocess
import sys
import time
import tracemalloc
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import emit, machine  # noqa: E402

#: the earlier step (kernel_sum raised the plain gradient itself and carried it in chart frames)
BASELINE = """
import json, sys, time
import numpy as np
from metricflow.experiments.cy_kernels import KernelFlow
from metricflow.kernels.cloud_sums import CloudKernel, FrameCache, kernel_sum
import metricflow.kernels.cloud_sums as cs
from metricflow.manifolds import PointCloud
from metricflow._x64 import x64
n, sigma = int(sys.argv[1]), float(sys.argv[2])
cloud = PointCloud.sample("fermat-quintic", n, seed=0)
ker = CloudKernel("gaussian", sigma=sigma, form="gaussian")
flow = KernelFlow(cloud, ker, 0.1)
g = np.array(cloud.reference_metric())
with x64():
    flow.velocity(g)
frames = FrameCache(cloud)
kernel_sum(ker, cloud, g, cloud.pointset.subset(np.arange(2)), frames=frames)
cs.CACHE_VALUES = 0
frames._blocks.clear()
t0, c0 = time.perf_counter(), time.process_time()
with x64():
    kernel_sum(ker, cloud, flow.velocity(g), cloud.pointset, frames=frames)
print(json.dumps({"n": n, "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0}))
"""


def measure(fn):
    """(result, wall seconds, peak traced bytes, CPU seconds of the process, all threads)."""
    tracemalloc.start()
    t0, c0 = time.perf_counter(), time.process_time()
    out = fn()
    sec, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, sec, peak, cpu


def step(ker, cloud, flow, g, frames):
    """One full-mode step's work: the velocity and the blocked kernel sum."""
    from metricflow.kernels.cloud_sums import kernel_sum

    return kernel_sum(ker, cloud, flow.velocity(g), cloud.pointset, frames=frames)


def baseline(root: str, n: int, sigma: float) -> dict:
    env = {**os.environ, "PYTHONPATH": root}
    out = subprocess.run([sys.executable, "-c", BASELINE, str(n), str(sigma)], env=env, capture_output=True,
                         text=True, check=True)
    rev = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "commit": rev}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10000,20000,40000")
    ap.add_argument("--dense-max", type=int, default=4000)
    ap.add_argument("--sigma", type=float, default=0.1)
    ap.add_argument("--baseline-root", default=None)
    ap.add_argument("--baseline-max", type=int, default=20000)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "cy_kernel_step_cpu2.json"))
    args = ap.parse_args(argv)

    import numpy as np

    import metricflow.kernels.cloud_sums as cs
    from metricflow._x64 import x64
    from metricflow.experiments.cy_kernels import KernelFlow
    from metricflow.kernels.cloud_sums import CloudKernel, FrameCache
    from metricflow.kernels.pointcloud import fs_gaussian_dense
    from metricflow.manifolds import PointCloud

    info = machine()
    ker = CloudKernel("gaussian", sigma=args.sigma, form="gaussian")
    rows = []
    sizes = [int(s) for s in args.sizes.split(",")]
    for n in sizes:
        cloud = PointCloud.sample("fermat-quintic", n, seed=0)
        flow = KernelFlow(cloud, ker, 0.1)
        g = np.array(cloud.reference_metric())
        flow.velocity(g)                                   # compile once
        frames = FrameCache(cloud)
        frames.ambient_map                                 # the per-point maps, once per run  # noqa: B018
        keep, cs.CACHE_VALUES = cs.CACHE_VALUES, 0         # no kernel cache: every value computed in the step
        try:
            (_, sec, peak, cpu) = measure(partial(step, ker, cloud, flow, g, frames))
        finally:
            cs.CACHE_VALUES = keep
        row = {"n": n, "blocked_seconds": sec, "blocked_cpu_seconds": cpu, "blocked_peak_bytes": peak,
               "blocked_peak_bytes_per_point": peak / n, "loadavg_1min": os.getloadavg()[0]}
        if n <= args.dense_max:
            M = flow.velocity(g)
            (_, dsec, dpeak, _) = measure(partial(fs_gaussian_dense, cloud, M, args.sigma))
            row.update(dense_seconds=dsec, dense_peak_bytes=dpeak, dense_over_blocked_seconds=dsec / sec,
                       dense_over_blocked_memory=dpeak / peak)
        if n == sizes[0]:
            import jax
            import jax.numpy as jnp

            from metricflow.kernels.gaussian import Gaussian

            with x64():
                op = jax.jit(Gaussian(args.sigma).operator(cloud))
                Mj = jnp.asarray(flow.velocity(g))
                op(Mj).block_until_ready()
                t0 = time.perf_counter()
                op(Mj).block_until_ready()
                row["engine_operator_seconds"] = time.perf_counter() - t0
        if args.baseline_root and n <= args.baseline_max:
            b = baseline(args.baseline_root, n, args.sigma)
            row.update(baseline_seconds=b["seconds"], baseline_cpu_seconds=b["cpu_seconds"],
                       baseline_commit=b["commit"], speedup_over_baseline=b["seconds"] / sec,
                       cpu_speedup_over_baseline=b["cpu_seconds"] / cpu)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr, flush=True)
    n = np.array([r["n"] for r in rows], dtype=float)
    t = np.array([r["blocked_seconds"] for r in rows])
    c = np.array([r["blocked_cpu_seconds"] for r in rows])
    # the exponent of the two largest sizes (N² expected once the blocks are full); the
    # extrapolation uses at least 2. CPU seconds do not depend on the other jobs' load: on
    # an idle machine with 2 cores the wall time would be about half of them.
    slope = float(np.log(t[-1] / t[-2]) / np.log(n[-1] / n[-2])) if len(rows) > 1 else None
    cslope = float(np.log(c[-1] / c[-2]) / np.log(n[-1] / n[-2])) if len(rows) > 1 else None
    cpu_1e5 = float(c[-1] * (1e5 / n[-1]) ** max(cslope or 2, 2.0))
    doc = {"benchmark": "cy_kernel_step", "sigma": args.sigma, "rows": rows, "time_exponent": slope,
           "cpu_time_exponent": cslope,
           "extrapolated_seconds_at_1e5": float(t[-1] * (1e5 / n[-1]) ** max(slope or 2, 2.0)),
           "extrapolated_cpu_seconds_at_1e5": cpu_1e5, "extrapolated_idle_2core_seconds_at_1e5": cpu_1e5 / 2,
           "target_seconds_at_1e5": 10.0, "machine": info,
           "note": "2 CPU cores shared with other jobs: see loadavg per row; times are inflated by the load"}
    emit(doc, args.out)


if __name__ == "__main__":
    main()
