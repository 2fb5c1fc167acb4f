"""Finite-network metric flows: does the trained network track Perelman's flow?

For T² and T³: cos-nets of several (width, σ) trained by gradient descent on L = −λ,
with the discrepancy against Perelman's flow along the trajectory split into the width,
σ² and frozen-rescaling errors; ReLU networks of several widths with the relative change
of their empirical metric-NTK. Prints one JSON object (timings and machine info
included) and writes the plots into --out.

    python benchmarks/network_flow.py [--dims 2,3] [--out benchmarks/results/network_flow] [--json-out F]
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import emit, machine  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dims", default="2,3")
    ap.add_argument("--widths", default="1000,100000")
    ap.add_argument("--sigmas-2", default="0.7,0.5")
    ap.add_argument("--sigmas-3", default="0.9,0.7")
    ap.add_argument("--relu-widths", default="64,256,1024")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--out", default="benchmarks/results/network_flow", help="folder for the plots")
    ap.add_argument("--json-out", default=None, help="also write the JSON here (atomically)")
    args = ap.parse_args()
    info = machine()
    from metricflow.experiments.network import tracking_experiment
    from metricflow.plotting.network import plot_experiment

    results = {"machine": info, "experiments": []}
    for dim in [int(x) for x in args.dims.split(",")]:
        t0 = time.perf_counter()
        sigmas = [float(x) for x in getattr(args, f"sigmas_{dim}").split(",")]
        exp = tracking_experiment(dim, widths=[int(x) for x in args.widths.split(",")], sigmas=sigmas,
                                  lr=args.lr, steps=args.steps, records=4,
                                  relu_widths=[int(x) for x in args.relu_widths.split(",")],
                                  progress=lambda m: print(m, file=sys.stderr, flush=True))
        exp["seconds"] = time.perf_counter() - t0
        exp["plots"] = [str(p) for p in plot_experiment(exp, args.out)]
        results["experiments"].append(exp)
    emit(results, args.json_out)


if __name__ == "__main__":
    main()
