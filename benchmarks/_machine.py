"""Machine description shared by the benchmarks (printed in every JSON)."""

import os
import platform
import sys


def machine() -> dict:
    info = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
    }
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:  # pragma: no cover
        pass
    try:
        import sympy

        info["sympy"] = sympy.__version__
    except ImportError:  # pragma: no cover
        pass
    try:
        import jax

        info["devices"] = [str(d) for d in jax.devices()]
    except ImportError:  # pragma: no cover
        pass
    for mod in ("jax", "numba", "numpy"):
        if mod in sys.modules:
            info[mod] = sys.modules[mod].__version__
    try:
        with open("/proc/loadavg") as fh:
            info["loadavg_1min_at_start"] = float(fh.read().split()[0])
    except OSError:  # pragma: no cover
        pass
    return info


def emit(doc: dict, out=None) -> None:
    """Print a benchmark's JSON and, with ``out``, write it atomically (results/)."""
    import json

    from metricflow.io import write_text_atomic

    text = json.dumps(doc, indent=2)
    print(text)
    if out:
        write_text_atomic(out, text + "\n")
