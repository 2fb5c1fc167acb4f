"""Cost of one full-mode Gaussian-kernel flow step on the quintic against the number N of
training points (issue 14): the velocity (the FS-natural gradient, JAX autodiff) and the
blocked kernel sum Σ_j Θ(x_i, x_j) ω_j M_j of :func:`metricflow.kernels.cloud_sums.kernel_sum`
((★) of :mod:`metricflow.kernels.pointcloud`, memory linear in N), no kernel cache (every value
computed in the step, as at 10⁵ points where the cache cannot hold the kernel). Peak memory
(tracemalloc: numpy's allocations, all threads) with its ratio to N; the dense way (the N × N
matrix, :func:`metricflow.kernels.pointcloud.fs_gaussian_dense`) where it fits; the engine's
JAX operator (``Gaussian(σ).operator``, ``jax.lax.map``) at the smallest N; and, with
``--baseline-root DIR`` (a checkout of the earlier code), the earlier step timed in a
subprocess at the sizes up to ``--baseline-max`` in the same run, for the speed-up (times: the least
of ``--repeat`` runs, untraced; peak memory from one more run under tracemalloc). Each
size for each ``--precisions`` (the kernel's blocks in float64, the default, or float32:
:func:`metricflow.kernels.cloud_sums.float32_weight_error`). The time at 10⁵ points is
measured when 10⁵ is among the sizes, else extrapolated from the two largest sizes. One JSON
object, also written to benchmarks/results/cy_kernel_step_cpu2_<date>.json.

    python benchmarks/cy_kernel_step.py [--sizes 4000,10000,20000,40000,100000] [--baseline-root /work/main]
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
import metricflow
print(json.dumps({"n": n, "seconds": time.perf_counter() - t0, "cpu_seconds": time.process_time() - c0,
                  "module": metricflow.__file__}))
"""


def measure(fn, repeat: int = 1):
    """(result, wall seconds, peak traced bytes, CPU seconds of the process, all threads): the
    times the least of ``repeat`` untraced runs (tracemalloc slows numpy's allocations by ~20 %,
    and the earlier code is timed untraced), the peak from one more run under tracemalloc."""
    sec = cpu = float("inf")
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        sec, cpu = min(sec, time.perf_counter() - t0), min(cpu, time.process_time() - c0)
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return out, sec, peak, cpu


def step(ker, cloud, flow, g, frames):
    """One full-mode step's work: the velocity and the blocked kernel sum."""
    from metricflow.kernels.cloud_sums import kernel_sum

    return kernel_sum(ker, cloud, flow.velocity(g), cloud.pointset, frames=frames)


def baseline(root: str, n: int, sigma: float, repeat: int = 1) -> dict:
    """The earlier code's step, the least times of ``repeat`` fresh subprocesses, run in ``root``
    with ``-P`` (``python -c`` would otherwise put the current directory, a checkout of the new
    code, before PYTHONPATH); the module's path is checked."""
    env = {**os.environ, "PYTHONPATH": root}
    runs = [json.loads(subprocess.run([sys.executable, "-P", "-c", BASELINE, str(n), str(sigma)], env=env, cwd=root,
                                      capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1])
            for _ in range(repeat)]
    if not all(Path(r["module"]).resolve().is_relative_to(Path(root).resolve()) for r in runs):
        raise RuntimeError(f"the baseline imported {runs[0]['module']}, not the code under {root}")
    rev = subprocess.run(["git", "-C", root, "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    return {"seconds": min(r["seconds"] for r in runs), "cpu_seconds": min(r["cpu_seconds"] for r in runs),
            "commit": rev}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="4000,10000,20000,40000,100000")
    ap.add_argument("--precisions", default="float64,float32")
    ap.add_argument("--dense-max", type=int, default=4000)
    ap.add_argument("--sigma", type=float, default=0.1)
    ap.add_argument("--baseline-root", default=None)
    ap.add_argument("--baseline-max", type=int, default=40000)
    ap.add_argument("--repeat", type=int, default=2, help="runs per time below 10^5 points (the least is kept)")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results"
                                         / f"cy_kernel_step_cpu2_{time.strftime('%Y-%m-%d')}.json"))
    args = ap.parse_args(argv)

    import numpy as np

    import metricflow.kernels.cloud_sums as cs
    from metricflow.experiments.cy_kernels import KernelFlow
    from metricflow.kernels.cloud_sums import CloudKernel, FrameCache
    from metricflow.kernels.pointcloud import fs_gaussian_dense
    from metricflow.manifolds import PointCloud

    info = machine()
    precisions = args.precisions.split(",")
    rows = []
    sizes = [int(s) for s in args.sizes.split(",")]
    for n in sizes:
        cloud = PointCloud.sample("fermat-quintic", n, seed=0)
        repeat = args.repeat if n < 100000 else 1
        base = (baseline(args.baseline_root, n, args.sigma, repeat) if args.baseline_root and n <= args.baseline_max
                else None)
        for precision in precisions:
            ker = CloudKernel("gaussian", sigma=args.sigma, form="gaussian", precision=precision)
            flow = KernelFlow(cloud, ker, 0.1)
            g = np.array(cloud.reference_metric())
            flow.velocity(g)                                   # compile once
            frames = FrameCache(cloud)
            frames.ambient_map                                 # the per-point maps, once per run  # noqa: B018
            keep, cs.CACHE_VALUES = cs.CACHE_VALUES, 0         # no kernel cache: every value computed in the step
            try:
                (out, sec, peak, cpu) = measure(partial(step, ker, cloud, flow, g, frames), repeat)
            finally:
                cs.CACHE_VALUES = keep
            row = {"n": n, "precision": precision, "blocked_seconds": sec, "blocked_cpu_seconds": cpu,
                   "blocked_peak_bytes": peak, "blocked_peak_bytes_per_point": peak / n,
                   "loadavg_1min": os.getloadavg()[0]}
            if n <= args.dense_max:
                M = flow.velocity(g)
                (ref, dsec, dpeak, dcpu) = measure(partial(fs_gaussian_dense, cloud, M, args.sigma))
                ref = ref * (2.0 * np.pi * args.sigma**2) ** cloud.dim          # the unnormalised Gaussian
                row.update(dense_seconds=dsec, dense_cpu_seconds=dcpu, dense_peak_bytes=dpeak,
                           dense_over_blocked_seconds=dsec / sec, dense_over_blocked_cpu=dcpu / cpu,
                           dense_over_blocked_memory=dpeak / peak,
                           max_relative_difference_to_dense=float(np.max(np.abs(out - ref)) / np.max(np.abs(ref))))
            if n == sizes[0] and precision == precisions[0]:
                row["engine_operator_seconds"] = engine_operator_seconds(cloud, flow.velocity(g), args.sigma)
            if base:
                row.update(baseline_seconds=base["seconds"], baseline_cpu_seconds=base["cpu_seconds"],
                           baseline_commit=base["commit"], speedup_over_baseline=base["seconds"] / sec,
                           cpu_speedup_over_baseline=base["cpu_seconds"] / cpu)
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    doc = {"benchmark": "cy_kernel_step", "sigma": args.sigma, "rows": rows,
           "at_1e5": {p: at_1e5([r for r in rows if r["precision"] == p]) for p in precisions},
           "target_seconds_at_1e5": 10.0, "machine": info,
           "note": "2 CPU cores shared with other jobs: see loadavg per row; times are inflated by the load, "
                   "CPU seconds (all threads) are not; on an idle machine the wall time is about half of them"}
    emit(doc, args.out)


def engine_operator_seconds(cloud, M, sigma: float) -> float:
    """The engine's jitted JAX operator (``Gaussian(σ).operator``: ``lax.map`` over row blocks
    against all sources, float64), one call after compilation."""
    import jax
    import jax.numpy as jnp

    from metricflow._x64 import x64
    from metricflow.kernels.gaussian import Gaussian

    with x64():
        op = jax.jit(Gaussian(sigma).operator(cloud))
        Mj = jnp.asarray(M)
        op(Mj).block_until_ready()
        t0 = time.perf_counter()
        op(Mj).block_until_ready()
        return time.perf_counter() - t0


def at_1e5(rows) -> dict:
    """The step at 10⁵ points: measured, or extrapolated from the two largest sizes with their
    exponent (at least 2: N² once the tiles are full)."""
    import numpy as np

    if not rows:
        return {}
    n = np.array([r["n"] for r in rows], dtype=float)
    t = np.array([r["blocked_seconds"] for r in rows])
    c = np.array([r["blocked_cpu_seconds"] for r in rows])
    out = {}
    if len(rows) > 1:
        out["time_exponent"] = float(np.log(t[-1] / t[-2]) / np.log(n[-1] / n[-2]))
        out["cpu_time_exponent"] = float(np.log(c[-1] / c[-2]) / np.log(n[-1] / n[-2]))
    if n[-1] == 1e5:
        out.update(measured=True, seconds=float(t[-1]), cpu_seconds=float(c[-1]))
    else:
        out.update(measured=False, seconds=float(t[-1] * (1e5 / n[-1]) ** max(out.get("time_exponent", 2), 2.0)),
                   cpu_seconds=float(c[-1] * (1e5 / n[-1]) ** max(out.get("cpu_time_exponent", 2), 2.0)))
    out["idle_2core_seconds"] = out["cpu_seconds"] / 2
    return out


if __name__ == "__main__":
    main()
