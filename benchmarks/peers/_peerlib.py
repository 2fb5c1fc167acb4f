"""Standard-library helpers shared by the peer drivers (they run in the peers' own
virtual environments, where metricflow is not installed, so nothing here imports it).

Every driver prints ONE JSON object on stdout (progress goes to stderr), with the
machine's load average at its start and end: the CPU is shared, so wall times are read
together with the load and with the CPU seconds reported beside them.
"""

from __future__ import annotations

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
