"""``metricflow cy train``: a finite network for the Calabi–Yau metric (issue 15),
registered on the ``cy`` group by :func:`register`. Every option is validated before any
work (exit 2, one line naming the option); the trained network is written to ``--out``
(``network.npz``) and evaluates with ``metricflow cy sigma --metric DIR``.
"""

from __future__ import annotations

import click

from metricflow.cli._main import library_errors

KEYS = ("sigma_train_initial", "sigma_train_final", "sigma_test_initial", "sigma_test_final", "test_gain",
        "seconds_per_epoch")


def parse_hidden(text: str) -> tuple:
    """``64,64,64`` -> (64, 64, 64); InvalidInputError on ``hidden`` otherwise."""
    from metricflow.cy.networks import MAX_LAYERS, MAX_WIDTH
    from metricflow.errors import InvalidInputError

    parts = [p.strip() for p in str(text).split(",")]
    if not parts or not all(p.isdigit() for p in parts):
        raise InvalidInputError("hidden", f"need comma-separated positive widths such as 64,64,64, got {text!r}")
    widths = tuple(int(p) for p in parts)
    if not 1 <= len(widths) <= MAX_LAYERS or not all(1 <= w <= MAX_WIDTH for w in widths):
        raise InvalidInputError("hidden", f"need 1 to {MAX_LAYERS} widths in [1, {MAX_WIDTH}], got {text!r}")
    return widths


def parse_weights(text: str | None) -> dict:
    """``sigma=1,kahler=0.1`` -> {"sigma": 1.0, "kahler": 0.1} (numbers only, never evaluated)."""
    import math

    from metricflow.errors import InvalidInputError

    out = {}
    for item in [] if not text else str(text).split(","):
        name, eq, value = item.partition("=")
        try:
            number = float(value) if eq else float("nan")
        except ValueError:
            number = float("nan")
        if not math.isfinite(number):
            raise InvalidInputError("weights", f"need NAME=NUMBER pairs such as sigma=1,kahler=0.1, got {item!r}")
        out[name.strip()] = number
    return out


@click.command()
@click.option("--model", type=click.Choice(["mult", "add", "phi"]), default="mult", show_default=True,
              help="g_FS ⊙ (1 + NN), g_FS + NN, or the Kähler potential g_FS + ∂∂̄φ_NN.")
@click.option("--hidden", default="64,64,64", show_default=True, help="Hidden widths, comma-separated.")
@click.option("--activation", type=click.Choice(["relu", "gelu"]), default="gelu", show_default=True)
@click.option("--epochs", type=int, default=10, show_default=True)
@click.option("--n-points", "n_points", type=int, default=10_000, show_default=True, help="Training points.")
@click.option("--n-test", "n_test", type=int, default=None, help="Test points [default: n-points/10, >= 100].")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--batch-size", "batch_size", type=int, default=1000, show_default=True)
@click.option("--lr", type=float, default=1e-3, show_default=True,
              help="Adam's learning rate (the peak of a --schedule).")
@click.option("--schedule", type=click.Choice(["constant", "cosine", "exponential"]), default="constant",
              show_default=True, help="Adam's learning rate over the epochs: constant, cosine decay or exponential "
              "decay (per epoch) to --lr-final, after --warmup epochs of linear warm-up.")
@click.option("--lr-final", "lr_final", type=float, default=None,
              help="The schedule's last learning rate [default: lr/100].")
@click.option("--warmup", type=int, default=0, show_default=True, help="Epochs of linear warm-up of the schedule.")
@click.option("--lbfgs-steps", "lbfgs_steps", type=int, default=0, show_default=True,
              help="Full-batch L-BFGS iterations (optax) after the Adam epochs; a record and checkpoint every 5.")
@click.option("--lbfgs-points", "lbfgs_points", type=int, default=None,
              help="Training points of the L-BFGS phase [default: all].")
@click.option("--base", type=str, default=None,
              help="A saved algebraic metric (folder of 'cy donaldson --out') under the potential network "
              "(--model phi): g = g_H + ∂∂̄φ.")
@click.option("--inputs", default="u", show_default=True,
              help="Inputs of the potential model (--model phi), functions on P^n: u (z_i conj(z_j)/|z|^2), "
              "monomials:K (|z^a|^2/|z|^2K for every degree-K monomial) or invariant:K (their Fermat-group "
              "class and coupling sums; Fermat hypersurfaces). High K reaches the residual of a --base.")
@click.option("--out-scale", "out_scale", type=float, default=0.1, show_default=True,
              help="Initial scale of the last layer; 0 starts at the base metric exactly (a zero last layer).")
@click.option("--weights", default=None, help="Loss weights, e.g. sigma=1,kahler=1,transition=1,volume=1 "
              "(the default).")
@click.option("--precision", type=click.Choice(["float64", "float32"]), default="float64", show_default=True,
              help="Of the network (the geometry is always float64).")
@click.option("--poly", default="fermat-quintic", show_default=True, help="Hypersurface, as for 'cy sample'.")
@click.option("--out", required=True, type=str, help="Folder for checkpoint.npz, network.npz and train.json.")
@click.option("--resume", is_flag=True, help="Continue the run whose checkpoint is in --out.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def train(model, hidden, activation, epochs, n_points, n_test, seed, batch_size, lr, schedule, lr_final, warmup,
          lbfgs_steps, lbfgs_points, base, inputs, out_scale, weights, precision, poly, out, resume, as_json):
    """Train a network metric (Adam) and report sigma before and after on train and test points."""
    from metricflow.cli.cy import _emit
    from metricflow.cy import hypersurface
    from metricflow.experiments.cy_networks import TrainConfig, run_training

    cfg = TrainConfig(model=model, hidden=parse_hidden(hidden), activation=activation, epochs=epochs,
                      n_points=n_points, n_test=n_test, seed=seed, batch_size=batch_size, lr=lr,
                      poly=poly, weights=parse_weights(weights), precision=precision, schedule=schedule,
                      lr_final=lr_final, warmup=warmup, lbfgs_steps=lbfgs_steps, lbfgs_points=lbfgs_points,
                      base=base, inputs=inputs, out_scale=out_scale).checked()
    X = hypersurface(poly)
    cfg.architecture(X)  # the inputs fit --poly, before any work
    if base is not None:
        from metricflow.experiments.cy_networks import load_base

        load_base(base, X)  # a readable algebraic metric on --poly, before any work
    from metricflow.io import prepare_output_dir

    outdir = prepare_output_dir(out, "out")
    bar = None
    if not as_json:
        from tqdm import tqdm

        from metricflow.experiments.cy_optim import LBFGS_PER_RECORD

        bar = tqdm(total=epochs + -(-lbfgs_steps // LBFGS_PER_RECORD), desc=f"cy train ({model})", unit="step",
                   leave=False)

    def progress(row):
        if bar is not None and row["step"] > 0:
            bar.n = row["step"]
            bar.set_postfix(sigma_test=f"{row['sigma_test']:.4f}", loss=f"{row['loss']:.4f}")
            bar.refresh()

    try:
        res = run_training(cfg, out=outdir, resume=resume, callback=progress)
    finally:
        if bar is not None:
            bar.close()
    doc = {k: v for k, v in res.items() if k not in ("state", "arrays")}
    _emit(doc, as_json, [f"{model} {','.join(map(str, cfg.hidden))} {activation}: sigma_test "
                         f"{res['sigma_test_initial']:.4f} -> {res['sigma_test_final']:.4f} (gain "
                         f"{res['test_gain']:.3g}), sigma_train {res['sigma_train_initial']:.4f} -> "
                         f"{res['sigma_train_final']:.4f}, {res['seconds_per_epoch']:.3g} s/epoch; wrote "
                         f"{res['network']}"])


def register(group: click.Group) -> None:
    """Add ``train`` to the ``cy`` group."""
    group.add_command(train)
