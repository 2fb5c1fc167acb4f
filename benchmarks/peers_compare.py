"""Benchmark: metricflow against the peer packages, side by side in one window (issues 15,
16 and 7): the same tasks run one after the other under the same load, ours from this
venv, each peer's driver (benchmarks/peers/*_driver.py) in the peer's own venv made by
benchmarks/peers/setup.sh. Prints ONE JSON object with every figure, the ratios
ours / peer and the machine (load average before and after every step).

    python benchmarks/peers_compare.py [--quick] [--only train,donaldson,sampling]
        [--precision float32] [--out F]

Tasks (Fermat quintic; the numbers are those of the full run, ``--quick`` in brackets):
- train: a 3 × 64 gelu network trained with Adam (lr 1e-3, batch 1000) on 100,000 [10,000]
  points, tested on a tenth as many fresh points, for 5 [2] epochs: seconds per epoch
  (median after the compiling first epoch) and σ_test after the last. Ours: the
  multiplicative model (``benchmarks/cy_train.py --model mult``) against cymetric's
  MultFSModel, and the Kähler-potential model (``--model phi``) against cymyc's φ-model.
- donaldson: the T-operator iteration at k = 6 (N_k = 205) on 100,000 [10,000] points,
  4 [2] iterations from H = 1: seconds per iteration (median after the first); ours
  (``metricflow cy donaldson``) against cyjax's ``AlgebraicMetric.donaldson_step``.
- sampling: 100,000 [10,000] points with weights, |Ω|², the pulled-back FS metric, then
  σ_FS (the table of docs/cy.md): ours (``benchmarks/cy_sampling.py``) against cyjax
  (called as is and wrapped in ``jax.jit``), cymyc and cymetric.

A peer whose venv is missing (setup.sh not run, or its install failed) is reported as
skipped with the reason; nothing of the peers' code is imported here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import emit, machine  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PEERS = HERE / "peers"
RESULT = HERE / "results" / "peers_compare.json"
FULL = {"n_points": 100_000, "epochs": 5, "iterations": 4, "k": 6, "n_validation": 50_000}
QUICK = {"n_points": 10_000, "epochs": 2, "iterations": 2, "k": 6, "n_validation": 10_000}


def peers_dir() -> Path:
    return Path(os.environ.get("PEERS_DIR", "/work/peers"))


def loadavg() -> list[float]:
    with open("/proc/loadavg") as fh:
        return [float(x) for x in fh.read().split()[:3]]


def first_json(text: str) -> dict:
    """The JSON object a step printed (a library may print a line or two before it)."""
    for i, line in enumerate(text.splitlines()):
        if line.startswith("{"):
            return json.JSONDecoder().raw_decode("\n".join(text.splitlines()[i:]))[0]
    raise ValueError("no JSON object in the output")


def run_step(name: str, argv: list[str], timeout: float, env: dict | None = None) -> dict:
    """Run one step in a subprocess; its JSON with wall time, the CPU seconds of the whole
    step (the process and its children: imports, sampling and compilation included), the
    load before/after, or why not."""
    import resource

    start, t0, r0 = loadavg(), time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    print(f"[{time.strftime('%H:%M:%S')}] {name} (load {start[0]:.2f}) ...", file=sys.stderr, flush=True)
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, cwd=ROOT,
                              env={**os.environ, **(env or {})})
    except subprocess.TimeoutExpired:
        return {"step": name, "failure": f"timed out after {timeout:.0f} s", "loadavg_before": start}
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    step = {"step": name, "wall_s": time.perf_counter() - t0, "loadavg_before": start, "loadavg_after": loadavg(),
            "cpu_s": (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)}
    if proc.returncode != 0:
        return {**step, "failure": f"exit {proc.returncode}: {proc.stderr.strip()[-1500:]}"}
    try:
        return {**step, "result": first_json(proc.stdout)}
    except ValueError as exc:
        return {**step, "failure": f"{exc}: {proc.stdout[-500:]}"}


def peer_python(peer: str) -> Path | str:
    """The peer venv's python, or the reason it cannot run (recorded by setup.sh)."""
    py = peers_dir() / peer / "bin" / "python"
    if py.exists() and (peers_dir() / peer / ".installed").exists():
        return py
    failed = peers_dir() / f"{peer}.failed"
    if failed.exists():
        return f"install failed: {failed.read_text().strip()[-500:]}"
    return f"no installed venv at {peers_dir() / peer}: run benchmarks/peers/setup.sh"


def peer_step(name: str, peer: str, args: list[str], timeout: float) -> dict:
    py = peer_python(peer)
    if isinstance(py, str):
        return {"step": name, "skipped": py}
    return run_step(name, [str(py), str(PEERS / f"{peer}_driver.py"), *args], timeout,
                    env={"PYTHONPATH": str(PEERS)})


def ratio(ours: dict, peer: dict, key: str) -> float | None:
    try:
        return ours["result"][key] / peer["result"][key]
    except (KeyError, TypeError, ZeroDivisionError):
        return None


def train_steps(p: dict, precision: str, timeout: float) -> dict:
    common = ["--hidden", "64,64,64", "--epochs", str(p["epochs"]), "--n-points", str(p["n_points"]),
              "--batch-size", "1000", "--lr", "1e-3"]
    ours = [sys.executable, str(HERE / "cy_train.py"), "--activation", "gelu", "--precision", precision, *common]
    peer = [*common, "--n-test", str(p["n_points"] // 10)]
    steps = {"metricflow_mult": run_step("metricflow mult", [*ours, "--model", "mult"], timeout),
             "cymetric_mult": peer_step("cymetric mult", "cymetric", ["train", *peer], timeout),
             "metricflow_phi": run_step("metricflow phi", [*ours, "--model", "phi"], timeout),
             "cymyc_phi": peer_step("cymyc phi", "cymyc", ["train", *peer], timeout)}
    rows = {}
    for ours_key, peer_key in (("metricflow_mult", "cymetric_mult"), ("metricflow_phi", "cymyc_phi"),
                               ("metricflow_mult", "cymyc_phi")):
        rows[f"{ours_key}/{peer_key}"] = {
            "seconds_per_epoch": ratio(steps[ours_key], steps[peer_key], "seconds_per_epoch"),
            "sigma_test_final": ratio(steps[ours_key], steps[peer_key], "sigma_test_final")}
    return {"steps": steps, "ratios_ours_over_peer": rows}


def donaldson_steps(p: dict, timeout: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        ours = run_step("metricflow donaldson", [
            sys.executable, "-m", "metricflow", "cy", "donaldson", "--k", str(p["k"]), "--n-points",
            str(p["n_points"]), "--iterations", str(p["iterations"]), "--n-validation", str(p["n_validation"]),
            "--seed", "0", "--out", tmp, "--json"], timeout)
    cyjax = peer_step("cyjax donaldson", "cyjax", [
        "donaldson", "--k", str(p["k"]), "--n-points", str(p["n_points"]), "--iterations", str(p["iterations"]),
        "--n-validation", str(p["n_validation"])], timeout)
    return {"steps": {"metricflow": ours, "cyjax": cyjax},
            "ratio_ours_over_cyjax_seconds_per_iteration": ratio(ours, cyjax, "seconds_per_iteration"),
            "note": "cyjax samples its Monte Carlo points inside every step (fresh points each "
                    "iteration); ours samples them once and iterates on them, so its step excludes sampling"}


def sampling_steps(p: dict, timeout: float) -> dict:
    n = str(p["n_points"])
    steps = {"metricflow": run_step("metricflow sampling", [
                 sys.executable, str(HERE / "cy_sampling.py"), "--n", n, "--repeat", "3", "--nn", "2000"], timeout),
             "cyjax_jit": peer_step("cyjax sample (jit)", "cyjax", ["sample", "--n-points", n, "--variant", "jit"],
                                    timeout),
             "cyjax_eager": peer_step("cyjax sample (as is)", "cyjax",
                                      ["sample", "--n-points", n, "--variant", "eager"], timeout),
             "cymyc": peer_step("cymyc sample", "cymyc", ["sample", "--n-points", n], timeout),
             "cymetric": peer_step("cymetric sample", "cymetric", ["sample", "--n-points", n], timeout)}
    ours = steps["metricflow"].get("result", {}).get("metricflow", {})
    table = {"metricflow": {"warm_sample_s": ours.get("warm_sample_s"), "warm_sigma_s": ours.get("warm_sigma_s"),
                            "cold_s": ours.get("cold_inprocess_import_sample_sigma_s"),
                            "sigma_fs": ours.get("sigma_fs")}}
    for key, step in steps.items():
        res = step.get("result")
        if key != "metricflow" and res and res.get("warm"):
            table[key] = {"warm_sample_s": res["warm"]["sample_s"], "warm_sigma_s": res["warm"]["sigma_s"],
                          "cold_s": res["cold_s"], "sigma_fs": res["warm"]["sigma_fs"]}
    for row in table.values():
        if row["warm_sample_s"] is not None and table["metricflow"]["warm_sample_s"]:
            row["warm_total_ours_over_this"] = ((table["metricflow"]["warm_sample_s"]
                                                 + table["metricflow"]["warm_sigma_s"])
                                                / (row["warm_sample_s"] + row["warm_sigma_s"]))
    return {"steps": steps, "table": table}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer points, epochs and iterations (see the docstring)")
    ap.add_argument("--only", default="train,donaldson,sampling", help="comma-separated subset of the tasks")
    ap.add_argument("--precision", default="float32", choices=["float32", "float64"],
                    help="our networks' precision (cymetric and cymyc train in float32)")
    ap.add_argument("--timeout", type=float, default=1800, help="seconds allowed to each step")
    ap.add_argument("--out", default=None, help=f"also write the JSON here (the full run: {RESULT.relative_to(ROOT)})")
    args = ap.parse_args()
    tasks = [t.strip() for t in args.only.split(",") if t.strip()]
    unknown = sorted(set(tasks) - {"train", "donaldson", "sampling"})
    if unknown:
        ap.error(f"unknown task(s) {unknown}")
    p = QUICK if args.quick else FULL
    t0 = time.perf_counter()
    doc = {"benchmark": "peers_compare", "mode": "quick" if args.quick else "full", "parameters": p,
           "precision_ours": args.precision, "machine": machine(), "window_start": time.strftime("%Y-%m-%d %H:%M:%S"),
           "peers_dir": str(peers_dir()), "pins": (PEERS / "PINS").read_text().split("\n")}
    if "train" in tasks:
        doc["train"] = train_steps(p, args.precision, args.timeout)
    if "donaldson" in tasks:
        doc["donaldson"] = donaldson_steps(p, args.timeout)
    if "sampling" in tasks:
        doc["sampling"] = sampling_steps(p, args.timeout)
    doc["window_end"] = time.strftime("%Y-%m-%d %H:%M:%S")
    doc["seconds_total"] = time.perf_counter() - t0
    doc["loadavg_at_end"] = loadavg()
    emit(doc, args.out)
    ours_failed = [s["step"] for task in ("train", "donaldson", "sampling") if task in doc
                   for s in doc[task]["steps"].values() if s["step"].startswith("metricflow") and "failure" in s]
    if ours_failed:  # the peers' failures are data; ours are a bug
        sys.exit(f"our side failed: {ours_failed}")


if __name__ == "__main__":
    main()
