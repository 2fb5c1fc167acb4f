"""Wall time of a short CLI flow run with JAX's persistent compilation cache: cold, warm, off.

Runs ``metricflow flow run --manifold torus2 --flow perelman --kernel local --steps 20
--out DIR --json`` in fresh subprocesses: with the cache off, then twice with a new empty
cache folder (``METRICFLOW_JAX_CACHE=TMP``: the first run compiles and fills it, the second
loads the compiled programs). Prints one JSON object with the wall times, the ratio
warm / cold (target ≤ 1/3) and the machine, and writes benchmarks/results/cli_cache.json.
What the cache cannot remove is the rest of the run: Python and JAX imports, tracing the
generated curvature kernels, the flow itself and the plots.

    python benchmarks/cli_cache.py [--steps 20] [--repeats 1] [--out results/cli_cache.json]
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _machine import emit, machine  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def run_once(args, cache: str, outdir: str) -> dict:
    """One CLI run in a fresh interpreter; returns its wall time and the last F it reports."""
    env = dict(os.environ, METRICFLOW_JAX_CACHE=cache)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    for key in ("JAX_COMPILATION_CACHE_DIR", "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS",
                "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES"):
        env.pop(key, None)  # the CLI's own settings are what is measured
    cmd = [sys.executable, "-m", "metricflow", "flow", "run", "--manifold", "torus2", "--flow", "perelman",
           "--kernel", "local", "--steps", str(args.steps), "--out", outdir, "--json"]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"flow run failed ({proc.returncode}): {proc.stderr[-2000:]}")
    history = json.loads(proc.stdout)["history"]
    return {"seconds": round(seconds, 3), "final_F": history[-1].get("F")}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=1, help="cold/warm pairs, each with a new cache")
    parser.add_argument("--out", default=str(Path(__file__).parent / "results" / "cli_cache.json"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="mf-cli-cache-") as tmp:
        off = run_once(args, "off", os.path.join(tmp, "out-off"))
        pairs = []
        for r in range(args.repeats):
            cache = os.path.join(tmp, f"cache{r}")
            cold = run_once(args, cache, os.path.join(tmp, f"out-cold{r}"))
            warm = run_once(args, cache, os.path.join(tmp, f"out-warm{r}"))
            entries = sum(1 for _ in Path(cache).rglob("*") if _.is_file())
            pairs.append({"cold": cold, "warm": warm, "cache_files": entries,
                          "cache_bytes": sum(p.stat().st_size for p in Path(cache).rglob("*") if p.is_file())})
    cold = min(p["cold"]["seconds"] for p in pairs)
    warm = min(p["warm"]["seconds"] for p in pairs)
    same = all(p["warm"]["final_F"] == p["cold"]["final_F"] == off["final_F"] for p in pairs)
    doc = {
        "benchmark": "cli_cache",
        "command": f"metricflow flow run --manifold torus2 --flow perelman --kernel local --steps {args.steps} "
                   "--out DIR --json",
        "seconds_cache_off": off["seconds"],
        "seconds_first_run_empty_cache": cold,
        "seconds_second_run_warm_cache": warm,
        "ratio_second_over_first": round(warm / cold, 3),
        "ratio_second_over_cache_off": round(warm / off["seconds"], 3),
        "target_ratio": round(1 / 3, 3),
        "same_result_all_runs": same,
        "runs": pairs,
        "machine": machine(),
    }
    emit(doc, args.out)
    return doc


if __name__ == "__main__":
    main()
