"""Cost of one semi-local flow velocity (eq. 2.30) against the number of grid points N.

Three ways to smear the local velocity with the periodised Gaussian: the FFT multiplier
(O(N log N)), the blocked direct sum (O(N²) time, O(block·N) memory) and the dense
kernel matrix (O(N²) memory; only where it fits in --dense-max points). Prints one
JSON object with the seconds per evaluation (after compilation), the ratios to FFT,
and the largest difference between the methods.

    python benchmarks/semilocal_flow.py [--sizes 16,32,64,128] [--sigma 0.2]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import emit, machine  # noqa: E402


def best_of(fn, repeats=3):
    fn()  # compile / warm up
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def measure(n, args) -> dict:
    """Seconds per smearing of the local Ricci velocity on an n × n grid, three ways."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from metricflow.flows.semilocal import smear_blocked, smear_dense, smear_fft
    from metricflow.flows.torus import initial_metric, ricci_velocity
    from metricflow.manifolds import Torus

    T = Torus(2, n)
    g = jnp.asarray(initial_metric(T, "bumpy", seed=0))
    pts = jnp.asarray(T.points.reshape(-1, 2))
    w = jnp.full(pts.shape[0], T.cell_volume)
    local = jax.jit(lambda g: ricci_velocity(T, g))
    V = local(g)
    flat = V.reshape(-1, 4)
    fft = jax.jit(lambda v: smear_fft(T, v, args.sigma))
    row = {"n": n, "N": n * n, "local_velocity_s": best_of(lambda: local(g).block_until_ready()),
           "fft_s": best_of(lambda: fft(V).block_until_ready())}
    ref = np.asarray(fft(V)).reshape(-1, 4)
    if n * n <= args.blocked_max:
        blk = jax.jit(lambda v: smear_blocked(pts, v, w, args.sigma, block=512))
        row["blocked_s"] = best_of(lambda: blk(flat).block_until_ready(), repeats=1)
        row["blocked_max_diff"] = float(np.max(np.abs(np.asarray(blk(flat)) - ref)))
        row["blocked_over_fft"] = row["blocked_s"] / row["fft_s"]
    if n * n <= args.dense_max:
        dense = jax.jit(lambda v: smear_dense(pts, v, w, args.sigma))
        row["dense_s"] = best_of(lambda: dense(flat).block_until_ready(), repeats=1)
        row["dense_max_diff"] = float(np.max(np.abs(np.asarray(dense(flat)) - ref)))
        row["dense_over_fft"] = row["dense_s"] / row["fft_s"]
        row["dense_matrix_bytes"] = (n * n) ** 2 * 8
    return row


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--sizes", default="16,32,64,128", help="grid points per direction on T²")
    ap.add_argument("--sigma", type=float, default=0.2)
    ap.add_argument("--dense-max", type=int, default=4096, help="largest N for the dense kernel matrix")
    ap.add_argument("--blocked-max", type=int, default=16384, help="largest N for the blocked direct sum")
    ap.add_argument("--out", default=None, help="also write the JSON here (benchmarks/results/…)")
    args = ap.parse_args()
    import jax

    from metricflow._x64 import x64

    rows = []
    with x64():
        for n in [int(s) for s in args.sizes.split(",")]:
            rows.append(measure(n, args))
            print(f"# n={n} done", file=sys.stderr)
    emit({"benchmark": "semilocal_flow", "machine": machine() | {"jax": jax.__version__},
          "sigma": args.sigma, "rows": rows,
          "note": "FFT is the exact convolution of the grid's trigonometric interpolant; the direct "
                  "sums (blocked, dense) are a quadrature of it, accurate only when the grid spacing "
                  "2π/n is well below σ, hence their difference at small n"}, args.out)


if __name__ == "__main__":
    main()
