"""``metricflow reproduce table1|fig3``: the paper's kernel experiments on the quintic
(section 3.2; :mod:`metricflow.experiments.reproduce_cy`), JSON and a figure in ``--out``."""

from __future__ import annotations

import click

from metricflow.cli._main import library_errors


@click.group()
def reproduce():
    """Reproduce the paper's tables and figures (section 3.2: Table 1, Figure 3; the journal version: Figure 4)."""


def _run(name: str, out: str, quick: bool, as_json: bool, figures, lines) -> None:
    """Run ``reproduce_cy.NAME``, draw ``figures(doc, outdir)`` (a dict of paths), write NAME.json, print."""
    from metricflow.cli.cy import _emit
    from metricflow.cli.cy_algebraic import writable_dir
    from metricflow.experiments import reproduce_cy
    from metricflow.io import write_json_atomic

    outdir = writable_dir(out, "out")
    doc = getattr(reproduce_cy, name)(quick, progress=_progress(as_json))
    outdir.mkdir(parents=True, exist_ok=True)
    doc["files"] = {k: str(v) for k, v in figures(doc, outdir).items()}
    doc["files"]["json"] = str(outdir / f"{name}.json")
    write_json_atomic(outdir / f"{name}.json", doc)
    _emit(doc, as_json, lines(doc))


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
    _run("table1", out, quick, as_json, lambda doc, outdir: {}, lambda doc: [
        f"{s['kernel']:8s} {s['form'] or '':8s} {s['charts']:9s} train gain {s['train_gain_median']:.4g} "
        f"(paper ~{s['paper_train_gain']:.0g}), test gain {s['test_gain_median']:.4g}" for s in doc["summary"]])


@reproduce.command("fig3")
@click.option("--out", "out", required=True, type=str, help="Directory for fig3.json and fig3.png.")
@click.option("--quick", is_flag=True, help="Small sizes (under a minute).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def fig3(out, quick, as_json):
    """Figure 3 (left): test gain against the mean FS distance between test and training points."""
    from metricflow.plotting.cy_kernels import plot_fig3

    def figures(doc, outdir):
        sel = lambda test: [p for p in doc["points"] if p["charts"] == "one" and p["test"] == test]  # noqa: E731
        return {"png": plot_fig3(sel("noise"), outdir / "fig3.png"),
                "png_exact": plot_fig3(sel("exact"), outdir / "fig3_exact.png")}

    _run("fig3", out, quick, as_json, figures, lambda doc: [
        f"{p['kernel']:17s} {p['charts']:9s} {p['test']:5s} {p['test_distance']:<6g} mean distance "
        f"{p['mean_test_train_distance']:.3g}: test gain {p['test_gain']:.4g}" for p in doc["points"]])


from metricflow.cli.reproduce_fig4 import fig4  # noqa: E402  (the journal's Figure 4, issue 15)

reproduce.add_command(fig4)
