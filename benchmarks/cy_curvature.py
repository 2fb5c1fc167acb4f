"""Benchmark: Euler characteristics chi = int c_n (Chern-Weil) by Monte Carlo with the
FS metric (issue 16 target: within 2 % and 3 standard errors of -200, 24 and 0 at 10^6
points), with the Ricci measure and the time per point.  Prints ONE JSON object.

    python benchmarks/cy_curvature.py [--n 1000000] [--seed 0] [--out F]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import emit, machine  # noqa: E402

EXPECTED = {"fermat-quintic": -200, "quartic-k3": 24, "cubic-curve": 0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="also write the JSON here")
    args = ap.parse_args()

    from metricflow import cy
    from metricflow.cy.curvature import curvature_report

    rows = []
    for poly, chi in EXPECTED.items():
        t0 = time.perf_counter()
        ps = cy.sample(poly, args.n, seed=args.seed)
        t1 = time.perf_counter()
        res = curvature_report("fs", ps)
        t2 = time.perf_counter()
        dev = res["euler_characteristic"] - chi
        rows.append({"poly": poly, "expected": chi, **res, "deviation_in_stderr": dev / res["euler_stderr"],
                     "seconds_sample": t1 - t0, "seconds_curvature": t2 - t1,
                     "microseconds_per_point": 1e6 * (t2 - t1) / args.n})
        print(f"{poly}: chi = {res['euler_characteristic']:.3f} +- {res['euler_stderr']:.3f} "
              f"(expected {chi}); {t2 - t1:.1f} s", file=sys.stderr, flush=True)
    emit({"benchmark": "cy_curvature", "metric": "fs", "n": args.n, "seed": args.seed,
          "machine": machine(), "rows": rows}, args.out)


if __name__ == "__main__":
    main()
