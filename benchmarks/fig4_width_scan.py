"""Benchmark: the width scan of the metric-NTK evolution (issue 15, journal Figure 4) —
for each width w, a (w, w, w) network and its lazy twin trained side by side
(:func:`metricflow.experiments.cy_feature_learning.width_scan`); the relative Frobenius
change of the kernel, the Wasserstein distance of its spectrum and the σ_test gap
|σ(network) − σ(twin)| after E epochs, with the exponents p of least-squares fits
log y = p log w + c against the width
(:func:`~metricflow.experiments.cy_feature_learning.width_exponents`).
Prints ONE JSON object.

    python benchmarks/fig4_width_scan.py [--widths 64,256,1024] [--parameterization ntk]
        [--optimizer sgd] [--lr 30] [--epochs 3] [--n-points 2000] [--batch-size 200]
        [--seed 0 | --seeds 0,1,2] [--out F]

With ``--seeds`` the scan runs once per seed (the points, the initialisation and the batches
all follow the seed) and the JSON adds each seed's rows and exponents (``per_seed``) and the
exponents' mean and sample standard deviation over the seeds; the top-level ``width_scan``
and ``width_exponents`` are the first seed's.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import emit, machine  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--widths", default="64,256,1024")
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--parameterization", default="ntk", choices=["standard", "ntk"])
    ap.add_argument("--optimizer", default="sgd", choices=["adam", "sgd"])
    ap.add_argument("--lr", type=float, default=30.0)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--n-points", type=int, default=2000)
    ap.add_argument("--batch-size", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--seeds", default=None, help="comma-separated seeds: one scan each, and the exponents' spread")
    ap.add_argument("--out", default=None, help="also write the JSON here")
    args = ap.parse_args()

    import numpy as np

    from metricflow.cli.cy_networks import parse_hidden
    from metricflow.experiments.cy_feature_learning import width_exponents, width_scan
    from metricflow.experiments.cy_networks import TrainConfig

    widths = parse_hidden(args.widths)
    seeds = [args.seed] if args.seeds is None else [int(t) for t in args.seeds.split(",")]
    configs = [TrainConfig(model="mult", hidden=(widths[0],) * args.depth, activation="gelu", epochs=args.epochs,
                           n_points=args.n_points, batch_size=args.batch_size, lr=args.lr, seed=seed,
                           n_diagnostic=50, parameterization=args.parameterization,
                           optimizer=args.optimizer).checked() for seed in seeds]  # all validated first
    info = machine()
    t0 = time.perf_counter()
    per_seed = []
    for cfg in configs:
        rows = width_scan(cfg, widths)
        per_seed.append({"seed": cfg.seed, "width_scan": rows, "width_exponents": width_exponents(rows)})
        print(f"seed {cfg.seed}: {per_seed[-1]['width_exponents']}", file=sys.stderr, flush=True)
    doc = {"benchmark": "fig4_width_scan", "config": {k: v for k, v in configs[0].__dict__.items()},
           "widths": list(widths), "width_scan": per_seed[0]["width_scan"],
           "width_exponents": per_seed[0]["width_exponents"], "seconds": time.perf_counter() - t0, "machine": info}
    if len(seeds) > 1:
        keys = per_seed[0]["width_exponents"].keys()
        values = {k: np.array([r["width_exponents"][k] for r in per_seed], dtype=float) for k in keys}
        doc.update(seeds=seeds, per_seed=per_seed,
                   width_exponents_mean={k: float(v.mean()) for k, v in values.items()},
                   width_exponents_std={k: float(v.std(ddof=1)) for k, v in values.items()})
    with open("/proc/loadavg") as fh:
        doc["machine"]["loadavg_1min_at_end"] = float(fh.read().split()[0])
    emit(doc, args.out)


if __name__ == "__main__":
    main()
