"""Standard-library helpers shared by the peer drivers (they run in the peers' own
virtual environments, where metricflow is not installed, so nothing here imports it).

Every driver prints ONE JSON object on stdout (progress goes to stderr), with the
machine's load average at its start and end: the CPU is shared, so wall times are read
together with the load and with the CPU seconds reported beside them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import sys
import time
from importlib import metadata


def loadavg() -> list[float]:
    try:
        with open("/proc/loadavg") as fh:
            return [float(x) for x in fh.read().split()[:3]]
    except OSError:  # pragma: no cover - not Linux
        return []


def cpu_seconds() -> float:
    """CPU seconds (user + system) of this process and of its finished children (cymetric
    finds roots in worker processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class Clock:
    """Wall and CPU seconds of a block: ``with Clock() as c: ...; c.wall, c.cpu``."""

    def __enter__(self):
        self._w, self._c = time.perf_counter(), cpu_seconds()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self._w
        self.cpu = cpu_seconds() - self._c
        return False


def versions(*names: str) -> dict:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def machine() -> dict:
    return {"python": sys.version.split()[0], "platform": platform.platform(), "cpu_count": os.cpu_count(),
            "loadavg_at_start": loadavg()}


def per_epoch(seconds: list[float]) -> float:
    """Seconds per epoch: the median after the first epoch (which compiles), as
    metricflow's ``seconds_per_epoch``; the only epoch when there is one."""
    return float(statistics.median(seconds[1:] if len(seconds) > 1 else seconds))


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def emit(doc: dict) -> None:
    doc.setdefault("loadavg_at_end", loadavg())
    print(json.dumps(doc, indent=1, default=float))


def sample_report(runs: list[dict], before_first_s: float) -> dict:
    """The sampling table's figures from ``runs`` (the first call, then the warm ones):
    cold = ``before_first_s`` (import and set-up) + the first call; warm = the best later call."""
    first = runs[0]
    warm = min(runs[1:], key=lambda r: r["sample_s"] + r["sigma_s"]) if len(runs) > 1 else None
    return {"cold_s": before_first_s + first["sample_s"] + first["sigma_s"], "first_call": first, "warm": warm,
            "runs": runs}


def run_main(doc: str, tasks: dict, training: bool = False, extra=None) -> None:
    """A driver's command line: ``TASK`` (a key of ``tasks``, each a function of the parsed
    arguments returning the task's figures) and the options shared by the drivers (the
    training ones with ``training``; ``extra(parser)`` adds a driver's own); prints the JSON."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("task", choices=sorted(tasks))
    ap.add_argument("--n-points", type=int, default=100_000)
    ap.add_argument("--repeats", type=int, default=3, help="warm sampling calls after the first")
    ap.add_argument("--seed", type=int, default=0)
    if training:
        ap.add_argument("--n-test", type=int, default=10_000)
        ap.add_argument("--epochs", type=int, default=5)
        ap.add_argument("--hidden", default="64,64,64")
        ap.add_argument("--batch-size", type=int, default=1000)
        ap.add_argument("--lr", type=float, default=1e-3)
    if extra is not None:
        extra(ap)
    args = ap.parse_args()
    out = {"machine": machine()}
    out.update(tasks[args.task](args))
    emit(out)
