"""Benchmark: empirical metric-NTK of a 3 x 128 gelu network on 1,000 points (issue 5).

Jacobian contraction against matrix-free NTK-vector products
(:func:`metricflow.kernels.empirical.empirical_ntk`, ``method="jacobian"`` / ``"ntvp"``),
both blocked over points and computing the full 9 x 9 x n x n kernel (nine outputs: the
real components of a 3 x 3 hermitian metric, journal version) in float64.  Each method
runs in its own child process so that its peak resident memory (``ru_maxrss``) is its
own; the wall time includes JIT compilation (reported separately as the time of a tiny
warm-up call).  The two kernels are checked against each other (max abs difference).

Prints one JSON object: timings, peak memory, the ratios, the machine, the versions.
Options: ``--points N`` (default 1000), ``--width``, ``--depth``, ``--outputs``,
``--block-size``, ``--chunk``, ``--out FILE`` (also write the JSON there).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import emit, machine  # noqa: E402


def child(args) -> dict:
    import jax
    import jax.numpy as jnp
    import numpy as np

    from metricflow._x64 import x64
    from metricflow.kernels.empirical import empirical_ntk
    from metricflow.models.mlp import forward, init_params

    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with x64():
        params = init_params(jax.random.PRNGKey(0), args.d_in, args.width, args.depth,
                             args.outputs, jnp.float64)
        x = np.asarray(jax.random.normal(jax.random.PRNGKey(1), (args.points, args.d_in),
                                         jnp.float64))

    def f(p, xx):
        return forward(p, xx, activation="gelu")

    kw = {"method": args.method, "block_size": args.block_size, "chunk": args.chunk}
    t0 = time.perf_counter()
    empirical_ntk(f, params, x[: min(8, args.points)], **{**kw, "block_size": 8})
    warm = time.perf_counter() - t0
    t0 = time.perf_counter()
    theta = empirical_ntk(f, params, x, **kw)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    np.save(args.save, theta[:, :, :50, :50])
    n_params = sum(int(np.size(leaf)) for leaf in jax.tree_util.tree_leaves(params))
    return {"method": args.method, "seconds": seconds, "warmup_seconds_small_call": warm,
            "peak_rss_mib": peak / 1024, "rss_before_mib": base_rss / 1024,
            "shape": list(theta.shape), "n_params": n_params,
            "output_mib": theta.nbytes / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1000)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--outputs", type=int, default=9)
    ap.add_argument("--d-in", type=int, default=10, help="input dim (10: C^5 as R^10)")
    ap.add_argument("--block-size", type=int, default=125)
    ap.add_argument("--chunk", type=int, default=64)
    ap.add_argument("--method", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--save", default=None, help=argparse.SUPPRESS)
    ap.add_argument("--out", default=None, help="also write the JSON to this file")
    args = ap.parse_args()
    if args.method:  # child mode
        print(json.dumps(child(args)))
        return
    import tempfile

    import numpy as np

    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for method in ("jacobian", "ntvp"):
            save = os.path.join(tmp, f"{method}.npy")
            cmd = [sys.executable, __file__, "--method", method, "--save", save,
                   "--points", str(args.points), "--width", str(args.width),
                   "--depth", str(args.depth), "--outputs", str(args.outputs),
                   "--d-in", str(args.d_in), "--block-size", str(args.block_size),
                   "--chunk", str(args.chunk)]
            proc = subprocess.run(cmd, capture_output=True, text=True, check=True)
            results[method] = json.loads(proc.stdout.strip().splitlines()[-1])
        a = np.load(os.path.join(tmp, "jacobian.npy"))
        b = np.load(os.path.join(tmp, "ntvp.npy"))
        agree = float(np.max(np.abs(a - b)) / np.max(np.abs(a)))
    jac, ntvp = results["jacobian"], results["ntvp"]
    doc = {
        "benchmark": "empirical metric-NTK, Jacobian contraction vs NTK-vector products",
        "network": f"{args.depth} x {args.width} gelu MLP, {args.d_in} inputs, "
                   f"{args.outputs} outputs, NTK parameterisation, float64",
        "points": args.points, "block_size": args.block_size, "chunk": args.chunk,
        "jacobian": jac, "ntvp": ntvp,
        "time_ratio_jacobian_over_ntvp": jac["seconds"] / ntvp["seconds"],
        "peak_memory_ratio_jacobian_over_ntvp": jac["peak_rss_mib"] / ntvp["peak_rss_mib"],
        "max_rel_difference_on_50x50_corner": agree,
        "machine": machine(),
    }
    emit(doc, args.out)


if __name__ == "__main__":
    main()
