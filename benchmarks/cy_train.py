"""Benchmark: a Calabi–Yau metric network (issue 15) trained on the Fermat quintic with
Adam — seconds per epoch (median after the compiling first epoch) and σ_test after E
epochs, with the model and the machine. Prints ONE JSON object.

    python benchmarks/cy_train.py [--model mult] [--hidden 64,64,64] [--activation gelu]
        [--epochs 5] [--n-points 100000] [--batch-size 1000] [--lr 1e-3] [--weights ...]
        [--precision float64|float32] [--out F]
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
    ap.add_argument("--model", default="mult", choices=["mult", "add", "phi"])
    ap.add_argument("--hidden", default="64,64,64")
    ap.add_argument("--activation", default="gelu", choices=["relu", "gelu"])
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--n-points", type=int, default=100_000)
    ap.add_argument("--batch-size", type=int, default=1000)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--weights", default=None, help="as 'metricflow cy train --weights'")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--precision", default="float64", choices=["float64", "float32"])
    ap.add_argument("--out", default=None, help="also write the JSON here")
    args = ap.parse_args()

    from metricflow.cli.cy_networks import parse_hidden, parse_weights
    from metricflow.experiments.cy_networks import TrainConfig, run_training

    cfg = TrainConfig(model=args.model, hidden=parse_hidden(args.hidden), activation=args.activation,
                      epochs=args.epochs, n_points=args.n_points, batch_size=args.batch_size, lr=args.lr,
                      weights=parse_weights(args.weights), seed=args.seed,
                      precision=args.precision)
    t0 = time.perf_counter()
    res = run_training(cfg, callback=lambda row: print(f"epoch {row['step']}: sigma_test {row['sigma_test']:.4f}",
                                                       file=sys.stderr, flush=True))
    total = time.perf_counter() - t0
    keep = ("sigma_train_initial", "sigma_train_final", "sigma_test_initial", "sigma_test_final",
            "sigma_test_final_stderr", "test_gain", "seconds_per_epoch", "first_epoch_seconds", "kahler_test_final",
            "transition_test_final", "volume_test_final", "config")
    emit({"benchmark": "cy_train", "poly": "fermat-quintic", **{k: res[k] for k in keep},
          "sigma_test_per_epoch": [h["sigma_test"] for h in res["history"]], "seconds_total": total,
          "machine": machine()}, args.out)


if __name__ == "__main__":
    main()
