"""Kerr's Ricci tensor, exactly zero: metricflow's exact engine vs the textbook sympy way;
and the charged black holes in SI units (issue 13), entered as strings through the grammar.

Prints one JSON object: the library call for Kerr, Reissner–Nordström and Kerr–Newman
(best of 3, fresh Metric each time; the charged ones with G, M, c, Q, epsilon0, pi as
parameters, scalar curvature checked to be exactly 0), the `metricflow derive ricci`
command end to end from the shell for Kerr, and the textbook implementation (Christoffel
-> Ricci with sympy.simplify on each component) in a subprocess capped at --cap seconds;
the ratio is a lower bound when the cap is hit.

    python benchmarks/kerr_ricci.py [--cap 120] > benchmarks/results/kerr_ricci_cpu2.json
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import machine  # noqa: E402

from metricflow.symbolic.catalogue import BOYER_LINDQUIST as KERR_COORDS  # noqa: E402
from metricflow.symbolic.catalogue import KERR, KERR_NEWMAN, REISSNER_NORDSTROM  # noqa: E402

TEXTBOOK = r'''  # noqa: UP031 (a script template)
import sympy as sp, time
from metricflow.symbolic.parsing import parse_matrix
t, r, th, ph = sp.symbols("t r theta phi")
g = parse_matrix(%r, (t, r, th, ph))
X = [t, r, th, ph]
t0 = time.perf_counter()
ginv = sp.simplify(g.inv())
n = 4
Gam = [[[sp.simplify(sum(ginv[k, l] * (sp.diff(g[j, l], X[i]) + sp.diff(g[i, l], X[j]) - sp.diff(g[i, j], X[l]))
         for l in range(n)) / 2) for j in range(n)] for i in range(n)] for k in range(n)]
Ric = sp.zeros(n)
for i in range(n):
    for j in range(n):
        Ric[i, j] = sp.simplify(sum(sp.diff(Gam[k][i][j], X[k]) - sp.diff(Gam[k][i][k], X[j])
                                    + sum(Gam[k][k][l] * Gam[l][i][j] - Gam[k][j][l] * Gam[l][i][k] for l in range(n))
                                    for k in range(n)))
print("ZERO" if Ric == sp.zeros(n) else "NONZERO", time.perf_counter() - t0)
''' % KERR  # noqa: UP031


def library_seconds(matrix: str = KERR) -> tuple[float, bool, bool]:
    """Best of 3 for the Ricci tensor of ``matrix``: (seconds, Ricci ≡ 0, scalar ≡ 0)."""
    import sympy as sp

    from metricflow.symbolic import Metric

    best, zero, scalar_zero = float("inf"), False, False
    for _ in range(3):
        t0 = time.perf_counter()
        g = Metric(KERR_COORDS, matrix, lorentzian=True)
        ric = g.ricci
        best = min(best, time.perf_counter() - t0)
        zero = ric == sp.zeros(4, 4)
        scalar_zero = g.scalar == 0
    return best, zero, scalar_zero


def cli_seconds() -> tuple[float, bool]:
    exe = Path(sys.executable).with_name("metricflow")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "metricflow"]
    best, zero = float("inf"), False
    for _ in range(3):
        t0 = time.perf_counter()
        out = subprocess.run(cmd + ["derive", "ricci", "--coords", KERR_COORDS, "--metric", KERR,
                                    "--lorentzian", "--json"], capture_output=True, text=True, check=True)
        best = min(best, time.perf_counter() - t0)
        doc = json.loads(out.stdout)
        zero = all(x == "0" for row in doc["ricci"] for x in row)
    return best, zero


def textbook_seconds(cap: float) -> dict:
    t0 = time.perf_counter()
    try:
        out = subprocess.run([sys.executable, "-c", TEXTBOOK], capture_output=True, text=True, timeout=cap)
        status, secs = out.stdout.split()
        return {"finished": True, "result": status, "seconds": float(secs)}
    except subprocess.TimeoutExpired:
        return {"finished": False, "result": None, "seconds": time.perf_counter() - t0}


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--cap", type=float, default=120.0, help="seconds allowed to the textbook way")
    args = ap.parse_args()
    lib, lib_zero, _ = library_seconds()
    charged = {}
    for name, matrix in (("reissner_nordstrom", REISSNER_NORDSTROM), ("kerr_newman", KERR_NEWMAN)):
        secs, zero, scalar_zero = library_seconds(matrix)
        charged[name] = {"library_call_seconds": round(secs, 4), "ricci_is_zero": zero,
                         "scalar_is_zero": scalar_zero}
    cli, cli_zero = cli_seconds()
    textbook = textbook_seconds(args.cap)
    ratio = textbook["seconds"] / lib
    print(json.dumps({
        "benchmark": "kerr_ricci",
        "machine": machine(),
        "load_average_1min_at_end": round(os.getloadavg()[0], 2),
        "library_call_seconds": round(lib, 4),
        "library_ricci_is_zero": lib_zero,
        "cli_end_to_end_seconds": round(cli, 4),
        "cli_ricci_is_zero": cli_zero,
        "charged_si_units": charged,
        "targets": {"library_call_seconds": 1.0, "cli_end_to_end_seconds": 3.0,
                    "kerr_newman_library_call_seconds": 3.0},
        "targets_met": lib <= 1.0 and cli <= 3.0 and charged["kerr_newman"]["library_call_seconds"] <= 3.0,
        "textbook_simplify": {**textbook, "cap_seconds": args.cap},
        "speedup_vs_textbook": round(ratio, 1),
        "speedup_is_lower_bound": not textbook["finished"],
    }, indent=2))


if __name__ == "__main__":
    main()
