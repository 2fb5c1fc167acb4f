"""Benchmark: sigma_k of Donaldson's balanced metrics on the Fermat quintic (issue 16).

For each k: the T-operator iteration H <- T(H)^{-1} from H = 1 on N_p = 10 N_k^2 + 50,000
FS points (capped by --max-points), then sigma (B.11) with its jackknife error on
--n-validation FRESH points (an independent seed stream), also for H = 1 (the plain
monomial metric of degree k, for comparison), against the published values:
Ashmore-He-Ovrut (arXiv 1910.08605) sigma_1 ~ 0.375, sigma_2 ~ 0.274 for the Fermat
quintic, and the fit sigma_k ~ 3.1/k^2 - 4.2/k^3 of Douglas-Karp-Lukic-Reinbacher
(hep-th/0612075) for a nearby quintic.  Prints ONE JSON object.

    python benchmarks/donaldson.py [--kmin 1] [--kmax 6] [--iterations 5] [--n-validation 50000] [--out F]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import emit, machine  # noqa: E402

PUBLISHED = {"ashmore_he_ovrut_1910.08605": {"1": 0.375, "2": 0.274},
             "dklr_fit_hep-th/0612075": "sigma_k ~ 3.1/k^2 - 4.2/k^3 (a nearby quintic)"}


def dklr(k: int) -> float:
    return 3.1 / k**2 - 4.2 / k**3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kmin", type=int, default=1)
    ap.add_argument("--kmax", type=int, default=6)
    ap.add_argument("--iterations", type=int, default=5)
    ap.add_argument("--n-validation", type=int, default=50_000)
    ap.add_argument("--max-points", type=int, default=500_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", default=None, help="also write the JSON here")
    args = ap.parse_args()

    from metricflow import cy
    from metricflow.cy.algebraic import AlgebraicMetric
    from metricflow.cy.donaldson import recommended_points, seed_stream, t_step

    X = cy.hypersurface("fermat-quintic")
    t_start = time.perf_counter()
    valid = cy.sample(X, args.n_validation, seed=seed_stream(args.seed, 1))
    fs = cy.sigma(valid, "fs")
    rows = []
    for k in range(args.kmin, args.kmax + 1):
        metric = AlgebraicMetric.identity(X, k)
        N = metric.n_sections
        n_points = min(recommended_points(N), args.max_points)
        t0 = time.perf_counter()
        train = cy.sample(X, n_points, seed=seed_stream(args.seed, 0))
        t_sample = time.perf_counter() - t0
        identity = cy.sigma(valid, metric)
        steps, change = [], []
        for _ in range(args.iterations):
            t0 = time.perf_counter()
            new = t_step(metric, train)
            steps.append(time.perf_counter() - t0)
            change.append(float(np.abs(new.H - metric.H).max() / np.abs(new.H).max()))
            metric = new
        t0 = time.perf_counter()
        res = cy.sigma(valid, metric)
        t_sigma = time.perf_counter() - t0
        row = {"k": k, "n_sections": N, "n_points": n_points, "n_points_recommended": recommended_points(N),
               "iterations": args.iterations, "sigma": res["sigma"], "sigma_stderr": res["sigma_stderr"],
               "sigma_identity_H": identity["sigma"], "sigma_identity_H_stderr": identity["sigma_stderr"],
               "relative_H_change_per_iteration": change,
               "seconds_per_iteration": float(np.median(steps[1:] if len(steps) > 1 else steps)),
               "seconds_first_iteration": steps[0], "seconds_sample": t_sample, "seconds_sigma": t_sigma,
               "dklr_fit": dklr(k)}
        if str(k) in PUBLISHED["ashmore_he_ovrut_1910.08605"]:
            row["published"] = PUBLISHED["ashmore_he_ovrut_1910.08605"][str(k)]
        rows.append(row)
        print(f"k={k} N_k={N} N_p={n_points}: sigma = {res['sigma']:.4f} +- {res['sigma_stderr']:.4f} "
              f"(H = 1: {identity['sigma']:.4f}); {row['seconds_per_iteration']:.2f} s/iteration",
              file=sys.stderr, flush=True)
    doc = {"benchmark": "donaldson", "poly": "fermat-quintic", "machine": machine(),
           "n_validation": args.n_validation, "seed": args.seed, "sigma_fs": fs["sigma"],
           "sigma_fs_stderr": fs["sigma_stderr"], "rows": rows, "published": PUBLISHED,
           "seconds_total": time.perf_counter() - t_start}
    emit(doc, args.out)


if __name__ == "__main__":
    main()
