"""``metricflow reproduce table1|fig3``: the paper's kernel experiments on the quintic
(section 3.2; :mod:`metricflow.experiments.reproduce_cy`), JSON and a figure in ``--out``."""

from __future__ import annotations

import click

from metricflow.cli._main import library_errors


@click.group()
def reproduce():
    """Reproduce the paper's tables and figures (section 3.2: Table 1, Figure 3)."""


def _write(doc: dict, out, name: str, as_json: bool, lines) -> None:
    from metricflow.cli.cy import _emit
    from metricflow.io import write_json_atomic

    doc["files"] = {"json": str(write_json_atomic(out / f"{name}.json", doc)), **doc.get("files", {})}
    _emit(doc, as_json, lines)


def _progress(as_json):
    def report(r):
        if not as_json:
            click.echo(f"  {r['kernel']} {r['form'] or ''} {r['charts']} seed {r['seed']}: train gain "
                       f"{r['train_gain']:.4g}, test gain {r['test_gain']:.4g} ({r['seconds']:.1f} s)")
    return report


@reproduce.command("table1")
@click.option("--out", "out", required=True, type=str, help="Directory for table1.json.")
@click.option("--quick", is_flag=True, help="Small sizes (under a minute).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def table1(out, quick, as_json):
    """Table 1: train/test σ gains of the ReLU NTK, Gaussian and Delta kernels (Table 1's hyperparameters)."""
    from metricflow.cli.cy_algebraic import writable_dir
    from metricflow.experiments.reproduce_cy import table1 as run

    outdir = writable_dir(out, "out")
    doc = run(quick, progress=_progress(as_json))
    outdir.mkdir(parents=True, exist_ok=True)
    lines = [f"{s['kernel']:8s} {s['form'] or '':8s} {s['charts']:9s} train gain {s['train_gain_median']:.4g} "
             f"(paper ~{s['paper_train_gain']:.0g}), test gain {s['test_gain_median']:.4g}" for s in doc["summary"]]
    _write(doc, outdir, "table1", as_json, lines)


@reproduce.command("fig3")
@click.option("--out", "out", required=True, type=str, help="Directory for fig3.json and fig3.png.")
@click.option("--quick", is_flag=True, help="Small sizes (under a minute).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def fig3(out, quick, as_json):
    """Figure 3 (left): test gain against the mean FS distance between test and training points."""
    from metricflow.cli.cy_algebraic import writable_dir
    from metricflow.experiments.reproduce_cy import fig3 as run
    from metricflow.plotting.cy_kernels import plot_fig3

    outdir = writable_dir(out, "out")
    doc = run(quick, progress=_progress(as_json))
    outdir.mkdir(parents=True, exist_ok=True)
    one = [p for p in doc["points"] if p["charts"] == "one" and p["test"] == "noise"]
    doc["files"] = {"png": str(plot_fig3(one, outdir / "fig3.png")),
                    "png_exact": str(plot_fig3([p for p in doc["points"] if p["charts"] == "one"
                                                and p["test"] == "exact"], outdir / "fig3_exact.png"))}
    lines = [f"{p['kernel']:17s} {p['charts']:9s} {p['test']:5s} {p['test_distance']:<6g} mean distance "
             f"{p['mean_test_train_distance']:.3g}: test gain {p['test_gain']:.4g}" for p in doc["points"]]
    _write(doc, outdir, "fig3", as_json, lines)
