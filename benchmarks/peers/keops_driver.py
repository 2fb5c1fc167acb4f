"""KeOps side of benchmarks/kernel_sum_keops.py (runs in the KeOps venv, none of metricflow).

Reads an .npz with T (N, 26), S (N, 26) (the Gram features: cos 2d = T_i . S_j), F (N, m) and
sigma; computes out_i = sum_j exp(-d_ij^2 / (2 sigma^2)) F_j with d = acos(clamp(T_i . S_j)) / 2
by a KeOps LazyTensor reduction (never forming the N x N matrix), in the arrays' dtype; times it
(the first call compiles the formula: reported apart) and writes out and the times to an .npz.

    python keops_driver.py IN.npz OUT.npz [--repeat 2]
"""

import argparse
import os
import time

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("inp")
    ap.add_argument("out")
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    from pykeops.numpy import LazyTensor

    d = np.load(args.inp)
    T, S, F, sigma = d["T"], d["S"], d["F"], float(d["sigma"])

    def run():
        t_i, s_j, f_j = LazyTensor(T[:, None, :]), LazyTensor(S[None, :, :]), LazyTensor(F[None, :, :])
        x = (t_i * s_j).sum(-1).clamp(-1.0, 1.0)
        dist = x.acos() / 2
        K = (-(dist**2) / (2 * sigma**2)).exp()
        return (K * f_j).sum(axis=1)

    t0, c0 = time.perf_counter(), time.process_time()
    out = run()
    first = time.perf_counter() - t0
    walls, cpus = [], []
    for _ in range(args.repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = run()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    import pykeops

    np.savez(args.out, out=out, first_call_seconds=first, wall_seconds=min(walls), cpu_seconds=min(cpus),
             version=pykeops.__version__, threads=os.cpu_count())


if __name__ == "__main__":
    main()
