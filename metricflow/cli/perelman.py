"""``metricflow perelman-check``: the Perelman realization, measured."""

from __future__ import annotations

import json

import click

from metricflow.cli._main import library_errors


@click.command("perelman-check")
@click.option("--dim", default=2, show_default=True, type=click.IntRange(1, 3), help="Torus dimension.")
@click.option("--seeds", default=3, show_default=True, type=click.IntRange(1, 50),
              help="Network draws averaged per width.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seed of the metric and the networks.")
@click.option("--out", "outdir", default="metricflow-out/perelman-check", show_default=True,
              type=click.Path(file_okay=False), help="Folder for perelman_check.json and the log-log plot.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@library_errors
def perelman_check(dim, seeds, seed, outdir, as_json):
    """Does a wide cos-net trained on the loss (2.42) move the metric by Perelman's flow (2.40)?

    Measures the relative L² error of the NN-induced velocity dg/dt against -2(R_ij + ∇_i∇_j f)
    on a smooth metric on the torus, against the width N (fixed σ) and against σ (large N).
    JSON keys: rows (each with width, sigma, rel_error, sweep), width_slope, sigma_slope, finest.
    """

    from tqdm import tqdm

    from metricflow.cli import _checks
    from metricflow.flows.realization import perelman_check as run
    from metricflow.io import prepare_output_dir, write_json_atomic
    from metricflow.plotting.realization import plot_perelman_check

    _checks.seed(seed)
    out = prepare_output_dir(outdir, "outdir")  # before the computing: writable, stale temporaries removed
    bar = tqdm(total=8, desc="perelman-check", disable=as_json, leave=False)
    doc = run(dim, seeds=seeds, seed=seed, progress=lambda msg: bar.update(1))
    bar.close()
    plot_perelman_check(doc, out / "perelman_check.png")
    write_json_atomic(out / "perelman_check.json", doc)
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    for r in doc["rows"]:
        click.echo(f"  {r['sweep']:7s} width {r['width']:>11,d}  sigma {r['sigma']:<5}  rel_error {r['rel_error']:.3e}")
    click.echo(f"width slope {doc['width_slope']:.3f} (theory -0.5), sigma slope {doc['sigma_slope']:.3f} "
               f"(theory 2); finest error {doc['finest']['rel_error']:.2e}\nwrote {out}/perelman_check.json, .png")
