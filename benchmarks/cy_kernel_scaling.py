"""Beyond the paper (issue 14): the Delta kernel's test gain on fresh points against the number
N of training points, measured rather than extrapolated (the paper extrapolates from ~10³
points that a test gain of ~100 would need ~10⁸). Full mode, points in their own charts
(frames), dt = lr·Vol_FS/N held at Table 1's value for N = 1000 (lr = 0.3162 · N/1000), so
every N takes the same steps of the σ flow; 1000 fresh test points. One JSON object, also
written to benchmarks/results/cy_kernel_scaling_cpu2.json.

    python benchmarks/cy_kernel_scaling.py [--sizes 1000,10000,100000] [--steps 30]
"""

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import machine  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1000,10000,100000")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--out", default=str(Path(__file__).parent / "results" / "cy_kernel_scaling_cpu2.json"))
    args = ap.parse_args(argv)

    from metricflow.experiments.cy_kernels import TABLE1, run_kernel_flow

    rows = []
    for n in [int(s) for s in args.sizes.split(",")]:
        for seed in [int(s) for s in args.seeds.split(",")]:
            lr = TABLE1["delta"]["lr"] * n / 1000
            r = run_kernel_flow("delta", n_train=n, n_test=1000, steps=args.steps, seed=seed, lr=lr,
                                record_every=args.steps, evaluate=[("exact", 0.01), ("exact", 0.1)])
            row = {k: r[k] for k in ("n_train", "seed", "lr", "steps_done", "train_gain", "test_gain",
                                     "mean_test_train_distance", "seconds")}
            row["exact"] = [{k: e[k] for k in ("test_distance", "test_gain")} for e in r["evaluations"]]
            rows.append(row)
            print(json.dumps(row), file=sys.stderr, flush=True)
    doc = {"benchmark": "cy_kernel_scaling", "kernel": "delta", "steps": args.steps, "rows": rows,
           "machine": machine()}
    Path(args.out).write_text(json.dumps(doc, indent=2) + "\n")
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
