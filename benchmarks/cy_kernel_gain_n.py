"""Beyond the paper (issue 14): the Gaussian kernel's test gain against the number N of training
points, full mode, points in their own charts (the sum (★) of metricflow.kernels.pointcloud).
Two kernels: a selective Gaussian in d (σ = 0.1, updates normalised by the kernel's largest
mass, ``--normalise max``, so that every N takes steps of the same size, lr = 0.1 ≈ the
engine's dt) and Table 1's printed (3.5) at σ = 30 with its learning rate. 1000 fresh test
points, and exact test points at FS distance 0.01 and 0.1 from the training points. One
JSON object, also written to benchmarks/results/cy_kernel_gain_n_cpu2.json.

    python benchmarks/cy_kernel_gain_n.py [--sizes 500,1000,2500,5000] [--steps 30]
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import emit, machine  # noqa: E402

KERNELS = {
    "gaussian_d_0.1_max": {"form": "gaussian", "sigma": 0.1, "normalise": "max", "lr": 0.1},
    "printed_30_table1": {"form": "printed", "sigma": 30.0, "normalise": "none", "lr": None},
}


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="500,1000,2500,5000")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "cy_kernel_gain_n_cpu2.json"))
    args = ap.parse_args(argv)

    from metricflow.experiments.cy_kernels import run_kernel_flow

    info = machine()
    rows = []
    for name, kw in KERNELS.items():
        for n in [int(s) for s in args.sizes.split(",")]:
            r = run_kernel_flow("gaussian", n_train=n, n_test=1000, steps=args.steps, seed=args.seed,
                                record_every=args.steps, evaluate=[("exact", 0.01), ("exact", 0.1)], **kw)
            row = {"kernel": name, **{k: r[k] for k in ("n_train", "seed", "lr", "sigma", "form", "normalise",
                                                         "steps_done", "train_gain", "test_gain",
                                                         "mean_test_train_distance", "seconds")}}
            row["nonpd_events"] = len(r["nonpd_events"])
            row["exact"] = [{k: e[k] for k in ("test_distance", "test_gain")} for e in r["evaluations"]]
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    emit({"benchmark": "cy_kernel_gain_n", "steps": args.steps, "rows": rows, "machine": info}, args.out)


if __name__ == "__main__":
    main()
