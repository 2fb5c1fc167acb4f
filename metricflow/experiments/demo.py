"""``metricflow demo``: the front door.  Each capability contributes one showcase.

A showcase is a function ``showcase(outdir: Path) -> dict`` returning

- ``"title"``: one line;
- ``"markdown"``: a short report section (markdown);
- ``"data"``: JSON-able results (numbers, strings, lists);
- ``"plots"``: file names of PNGs it wrote into ``outdir`` (may be empty).

Add yours to :data:`SHOWCASES` (``"module:function"``, imported lazily).
The whole demo must stay under two minutes on a 2-core laptop.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from pathlib import Path

from metricflow import __version__
from metricflow.io import write_json_atomic, write_text_atomic

#: name -> "module:function" of each showcase, in report order.
SHOWCASES: dict[str, str] = {
    "symbolic": "metricflow.symbolic.showcase:showcase",
    "flows": "metricflow.experiments.flows:torus_showcase",
    "sphere": "metricflow.experiments.flows:sphere_showcase",
    "perelman": "metricflow.experiments.flows:perelman_showcase",
    "cy": "metricflow.cy.showcase:showcase",
    "ntk": "metricflow.kernels.showcase:showcase",
    "kahler": "metricflow.symbolic.kahler_showcase:showcase",
}


def _load(spec: str) -> Callable[[Path], dict]:
    module, attr = spec.split(":")
    return getattr(importlib.import_module(module), attr)


def run_demo(outdir: str | Path = "metricflow-out", only: list[str] | None = None,
             progress: Callable[[str], None] | None = None) -> dict:
    """Run the showcases, write ``demo.json`` and ``report.md`` into ``outdir``.

    Returns the JSON document (also written to ``outdir/demo.json``).
    """
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    names = list(SHOWCASES) if not only else only
    unknown = [n for n in names if n not in SHOWCASES]
    if unknown:
        from metricflow.errors import InvalidInputError

        raise InvalidInputError("only", f"unknown showcase(s) {unknown}; known: {list(SHOWCASES)}")
    doc: dict = {"metricflow_version": __version__, "showcases": {}}
    sections = [f"# metricflow demo\n\nmetricflow {__version__}. Files in this folder:"
                " `demo.json` (all numbers), this report, and the PNG plots.\n"]
    for name in names:
        if progress:
            progress(name)
        t0 = time.perf_counter()
        result = _load(SHOWCASES[name])(outdir)
        seconds = time.perf_counter() - t0
        doc["showcases"][name] = {
            "title": result["title"],
            "seconds": round(seconds, 3),
            "data": result.get("data", {}),
            "plots": result.get("plots", []),
        }
        plots = "".join(f"\n![{p}]({p})\n" for p in result.get("plots", []))
        sections.append(f"## {result['title']}\n\n{result['markdown'].strip()}\n{plots}\n"
                        f"_({seconds:.2f} s)_\n")
    write_json_atomic(outdir / "demo.json", doc)
    write_text_atomic(outdir / "report.md", "\n".join(sections))
    return doc
