"""Benchmark: the FS-Gaussian kernel sum of a full-mode flow step (issue 14) against KeOps, the
reference for kernel sums that never form the N x N matrix.  Prints ONE JSON object.

The sum is out_i = sum_j exp(-d_ij^2 / (2 sigma^2)) F_j over all pairs of N quintic points, d the
FS distance, F (N, 25) (the 25 reals a point that (★) of kernels.pointcloud sums).  Ours: the
symmetric tiles of `kernels.pointcloud.symmetric_blocked_sum` with `CloudKernel("gaussian",
form="gaussian")` blocks (cos 2d = T.S, `gaussian_of_cos2d`), float64 and float32 tiles, no
cache.  KeOps: a LazyTensor reduction of the same formula (acos of the clamped product) on the same
features, float64 and float32, run by benchmarks/peers/keops_driver.py in its own venv
(benchmarks/peers/setup_keops.sh; CPU build, no CUDA here); its first call compiles the formula
and is reported apart.  Both sides are checked equal (max relative difference printed).  Times:
the least of --repeat runs; wall and CPU seconds (CPU: all threads of the process).

    python benchmarks/kernel_sum_keops.py [--sizes 10000,40000,100000] [--sigma 0.1] [--out F]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import emit, machine  # noqa: E402

HERE = Path(__file__).resolve().parent


def ours(T, S, F, sigma, precision, repeat):
    from metricflow.kernels.cloud_sums import CloudKernel
    from metricflow.kernels.pointcloud import symmetric_blocked_sum

    kern = CloudKernel("gaussian", sigma=sigma, form="gaussian", precision=precision)
    t, s = T.astype(kern.dtype), S.astype(kern.dtype)
    b = 256

    def run():
        return symmetric_blocked_sum(lambda a, c: kern.block(t[a:a + b], s[c:c + b]), F, b, dtype=kern.dtype)

    walls, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = run()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return out, min(walls), min(cpus)


def keops(python, T, S, F, sigma, dtype, repeat):
    with tempfile.TemporaryDirectory() as tmp:
        inp, outp = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(inp, T=T.astype(dtype), S=S.astype(dtype), F=F.astype(dtype), sigma=sigma)
        t0 = time.perf_counter()
        subprocess.run([python, str(HERE / "peers" / "keops_driver.py"), str(inp), str(outp), "--repeat",
                        str(repeat)], check=True, capture_output=True)
        total = time.perf_counter() - t0
        r = np.load(outp)
        return r["out"], {"wall_seconds": float(r["wall_seconds"]), "cpu_seconds": float(r["cpu_seconds"]),
                          "first_call_seconds": float(r["first_call_seconds"]), "process_seconds": total,
                          "version": str(r["version"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10000,40000,100000")
    ap.add_argument("--sigma", type=float, default=0.1)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--keops-python", default=str(Path(os.environ.get("PEERS_DIR", "/work/peers")) / "keops" / "bin"
                                                  / "python"))
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    from metricflow import cy
    from metricflow.kernels.pointcloud import gram_features

    have_keops = Path(args.keops_python).exists()
    rows = []
    for n in map(int, args.sizes.split(",")):
        z = cy.sample(cy.hypersurface("fermat-quintic"), n, seed=0).points
        T, S = gram_features(z / np.linalg.norm(z, axis=1, keepdims=True))
        F = np.random.default_rng(0).normal(size=(n, 25))
        repeat = 1 if n >= 100_000 else args.repeat
        row = {"n": n}
        ref = None
        for precision in ("float64", "float32"):
            out, wall, cpu = ours(T, S, F, args.sigma, precision, repeat)
            ref = out if ref is None else ref
            row[f"ours_{precision}"] = {"wall_seconds": wall, "cpu_seconds": cpu,
                                        "max_rel_diff_to_ours_float64": float(np.abs(out - ref).max()
                                                                              / np.abs(ref).max())}
            if have_keops:
                k_out, k = keops(args.keops_python, T, S, F, args.sigma, precision, repeat)
                k["max_rel_diff_to_ours_float64"] = float(np.abs(k_out - ref).max() / np.abs(ref).max())
                row[f"keops_{precision}"] = k
                row[f"ratio_ours_over_keops_{precision}_wall"] = wall / k["wall_seconds"]
            print(f"N={n} {precision}: ours {wall:.2f} s wall ({cpu:.2f} CPU)"
                  + (f", KeOps {k['wall_seconds']:.2f} s wall ({k['cpu_seconds']:.2f} CPU; first call "
                     f"{k['first_call_seconds']:.1f} s)" if have_keops else ", KeOps not installed"),
                  file=sys.stderr, flush=True)
        rows.append(row)
    emit({"benchmark": "kernel_sum_keops", "machine": machine(), "sigma": args.sigma, "keops": have_keops,
          "rows": rows}, args.out)


if __name__ == "__main__":
    main()
