"""``metricflow reproduce fig4``: the evolution of the empirical metric-NTK of cymetric's
multiplicative model during training (journal version, Figure 4), with ``--lazy-twin``
the linearised model trained side by side. A click command ``fig4`` that the
``reproduce`` group attaches; every option is validated before any work."""

from __future__ import annotations

import click

from metricflow.cli._main import library_errors

QUICK = {"hidden": "64,64,64", "epochs": 4, "n_points": 2000, "batch_size": 200}


def _widths(text: str) -> tuple:
    from metricflow.cli.cy_networks import parse_hidden
    from metricflow.errors import InvalidInputError

    try:
        return parse_hidden(text)
    except InvalidInputError as exc:
        raise InvalidInputError("widths", exc.message.replace("hidden", "widths")) from None


@click.command("fig4")
@click.option("--out", required=True, type=str, help="Folder for fig4.json, fig4_spectra.npz and the plots.")
@click.option("--model", type=click.Choice(["mult", "add", "phi"]), default="mult", show_default=True)
@click.option("--hidden", default="128,128,128", show_default=True, help="Hidden widths (the journal's 3 × 128).")
@click.option("--activation", type=click.Choice(["relu", "gelu"]), default="gelu", show_default=True)
@click.option("--epochs", type=int, default=50, show_default=True)
@click.option("--n-points", "n_points", type=int, default=100_000, show_default=True)
@click.option("--batch-size", "batch_size", type=int, default=1000, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--quick", is_flag=True, help="3 × 64, 4 epochs on 2,000 points (under a minute).")
@click.option("--lazy-twin", "lazy_twin", is_flag=True, help="Also train the linearised model (frozen kernel).")
@click.option("--widths", default=None, help="Also scan these widths (e.g. 64,256,1024) with the depth of --hidden: "
              "the kernel change and the network-twin gap against the width.")
@click.option("--parameterization", type=click.Choice(["standard", "ntk"]), default="standard", show_default=True,
              help="standard (Glorot weights, as cymetric) or ntk (N(0,1) weights, 1/sqrt(fan_in) in the forward "
              "pass: a lazy limit at large width with --optimizer sgd).")
@click.option("--optimizer", type=click.Choice(["adam", "sgd"]), default="adam", show_default=True,
              help="Adam or plain SGD, at --lr whatever the width.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def fig4(out, model, hidden, activation, epochs, n_points, batch_size, lr, seed, quick, lazy_twin, widths,
         parameterization, optimizer, as_json):
    """Metric-NTK spectra per epoch and their Wasserstein distance to epoch 0 (journal Figure 4)."""
    from metricflow.cli.cy import _emit
    from metricflow.cli.cy_networks import parse_hidden
    from metricflow.experiments.cy_networks import TrainConfig
    from metricflow.io import prepare_output_dir

    if quick:
        hidden, epochs, n_points, batch_size = QUICK["hidden"], QUICK["epochs"], QUICK["n_points"], QUICK["batch_size"]
    cfg = TrainConfig(model=model, hidden=parse_hidden(hidden), activation=activation, epochs=epochs,
                      n_points=n_points, seed=seed, batch_size=batch_size, lr=lr, n_diagnostic=50,
                      parameterization=parameterization, optimizer=optimizer).checked()
    scan = () if widths is None else _widths(widths)
    outdir = prepare_output_dir(out, "out")

    from metricflow.experiments.cy_feature_learning import feature_learning
    from metricflow.io import save_npz_atomic, write_json_atomic
    from metricflow.plotting.cy_networks import plot_feature_learning

    def progress(name, row):
        if not as_json:
            click.echo(f"{name} epoch {row['step']}: sigma_test {row['sigma_test']:.4f}, "
                       f"wasserstein {row['wasserstein']:.3g}, frobenius change {row['frobenius_change']:.3g}")

    runs = feature_learning(cfg, lazy_twin=lazy_twin, callback=progress)
    save_npz_atomic(outdir / "fig4_spectra.npz", **{f"{n}_spectra": r["spectra"] for n, r in runs.items()})
    files = [p.name for p in plot_feature_learning(runs, outdir)] + ["fig4_spectra.npz", "fig4.json"]
    net = runs["network"]
    doc = {"wasserstein": net["wasserstein"], "alignment": net["alignment"],
           "frobenius_change": net["frobenius_change"], "sigma_test": net["sigma_test"],
           "sigma_train": net["sigma_train"], "seconds_per_epoch": net["seconds_per_epoch"],
           "config": {k: v for k, v in cfg.__dict__.items()}, "quick": quick, "files": files}
    if lazy_twin:
        doc["lazy_twin"] = {k: v for k, v in runs["lazy_twin"].items() if k != "spectra"}
    lines = []
    if scan:
        from metricflow.experiments.cy_feature_learning import width_exponents, width_scan

        doc["width_scan"] = width_scan(cfg, scan)
        doc["width_exponents"] = width_exponents(doc["width_scan"])
        lines = [f"width {r['width']}: Frobenius change {r['frobenius_change']:.3g}, wasserstein "
                 f"{r['wasserstein']:.3g}, twin gap {r['twin_gap']:.3g}" for r in doc["width_scan"]]
        lines += ["fitted exponents of the width: " + ", ".join(
            f"{k} {'n/a' if p is None else format(p, '.2f')}" for k, p in doc["width_exponents"].items())]
    write_json_atomic(outdir / "fig4.json", doc)
    _emit(doc, as_json, lines + [f"Wasserstein distance to epoch 0 after {epochs} epochs: {net['wasserstein'][-1]:.3g} "
                                 f"(Frobenius change {net['frobenius_change'][-1]:.3g}); wrote {', '.join(files)} "
                                 f"to {outdir}"])
