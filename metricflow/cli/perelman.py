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
    from pathlib import Path

    from tqdm import tqdm

    from metricflow.flows.realization import perelman_check as run
    from metricflow.io import save_figure_atomic, write_json_atomic

    bar = tqdm(total=8, desc="perelman-check", disable=as_json, leave=False)
    doc = run(dim, seeds=seeds, seed=seed, progress=lambda msg: bar.update(1))
    bar.close()
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(8, 3.3), dpi=120)
    wr = [r for r in doc["rows"] if r["sweep"] == "width"]
    sr = [r for r in doc["rows"] if r["sweep"] != "width"]
    axes[0].loglog([r["width"] for r in wr], [r["rel_error_vs_infinite_width"] for r in wr], "o-",
                   label=f"vs infinite width (slope {doc['width_slope']:.2f})")
    axes[0].loglog([r["width"] for r in wr], [r["rel_error"] for r in wr], "s--", label="vs Perelman")
    axes[0].set_xlabel("width N")
    axes[0].set_ylabel("relative L² error")
    axes[0].set_title(f"σ = {wr[0]['sigma']}", fontsize=9)
    axes[0].legend(fontsize=7)
    axes[1].loglog([r["sigma"] for r in sr], [r["rel_error_infinite_width"] for r in sr], "o-",
                   label=f"infinite width (slope {doc['sigma_slope']:.2f})")
    axes[1].loglog([r["sigma"] for r in sr], [r["rel_error"] for r in sr], "s--", label="finite width")
    axes[1].set_xlabel("σ")
    axes[1].minorticks_off()
    axes[1].set_xticks([r["sigma"] for r in sr], [f"{r['sigma']:g}" for r in sr])
    axes[1].legend(fontsize=7)
    fig.suptitle("cos-net velocity vs Perelman's flow (2.40)", fontsize=10)
    fig.tight_layout()
    save_figure_atomic(fig, out / "perelman_check.png")
    write_json_atomic(out / "perelman_check.json", doc)
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    for r in doc["rows"]:
        click.echo(f"  {r['sweep']:7s} width {r['width']:>11,d}  sigma {r['sigma']:<5}  rel_error {r['rel_error']:.3e}")
    click.echo(f"width slope {doc['width_slope']:.3f} (theory -0.5), sigma slope {doc['sigma_slope']:.3f} "
               f"(theory 2); finest error {doc['finest']['rel_error']:.2e}\nwrote {out}/perelman_check.json, .png")
