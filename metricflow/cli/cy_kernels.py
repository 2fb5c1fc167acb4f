"""``metricflow cy kernel-flow`` and ``metricflow cy tune``: the kernel metric flows of
section 3.2 (issue 14), registered on the ``cy`` group by :func:`register`. Every option is
validated before any work (exit 2, one line)."""

from __future__ import annotations

import click

from metricflow.cli._main import library_errors

#: largest training / test set (the blocked kernel is linear in memory; time is N² per step)
MAX_POINTS = 200_000
MAX_STEPS = 100_000


def _emit(doc: dict, as_json: bool, lines: list[str]) -> None:
    from metricflow.cli.cy import _emit as emit  # imported late: cli/cy.py registers this module

    emit(doc, as_json, lines)


def check_run_options(n_train, n_test, steps, seed, lr, sigma, test_distance, record_every, cluster_size) -> None:
    """The numeric options of a kernel flow, checked before any work."""
    from metricflow.cli import _checks as c

    if n_train is not None:
        c.integer(n_train, "n_train", 2, MAX_POINTS)
    c.integer(n_test, "n_test", 2, MAX_POINTS)
    c.integer(steps, "steps", 1, MAX_STEPS)
    c.integer(record_every, "record_every", 1)
    c.integer(cluster_size, "cluster_size", 2)
    c.seed(seed)
    if lr is not None:
        c.real(lr, "lr")
    if sigma is not None:
        c.real(sigma, "sigma")
    if test_distance is not None:
        c.real(test_distance, "test_distance", maximum=1.5)


@click.command("kernel-flow")
@click.option("--kernel", type=click.Choice(["relu", "gaussian", "delta"]), required=True,
              help="Frozen kernel (section 3.2); defaults of each from Table 1.")
@click.option("--n-train", "n_train", type=int, default=None, help="Training points [Table 1: 2500, 2500, 1000].")
@click.option("--n-test", "n_test", type=int, default=1000, show_default=True, help="Test points.")
@click.option("--steps", type=int, default=50, show_default=True, help="Gradient-descent steps.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--lr", type=float, default=None, help="Learning rate of eq. 2.8 [Table 1: 0.1, 0.1583, 0.3162].")
@click.option("--sigma", type=float, default=None, help="Gaussian width [Table 1: 30.0].")
@click.option("--form", type=click.Choice(["printed", "gaussian"]), default="printed", show_default=True,
              help="Gaussian kernel: exp(-d/(2σ)) as printed in (3.5), or exp(-d²/(2σ²)).")
@click.option("--mode", type=click.Choice(["full", "clustered"]), default="full", show_default=True,
              help="Kernel over all training points (blocked), or within the batched clusters of section 3.1.")
@click.option("--charts", type=click.Choice(["transport", "one"]), default="transport", show_default=True,
              help="Add components across points: carried to each point's chart in FS frames, or the paper's "
                   "way (all points rejection-sampled into one chart, components summed as they are).")
@click.option("--cluster-size", "cluster_size", type=int, default=5000, show_default=True,
              help="Points per cluster in clustered mode (the paper's ~5,000).")
@click.option("--test", "test", type=click.Choice(["sample", "noise", "exact"]), default=None,
              help="Test points: fresh samples, noised training points (the paper's), or exact points of X "
                   "at FS distance --test-distance [default: exact with --test-distance, else sample].")
@click.option("--test-distance", "test_distance", type=float, default=None,
              help="Noise scale (--test noise) or FS distance (--test exact) of the test points.")
@click.option("--on-nonpd", "on_nonpd", type=click.Choice(["stop", "clip"]), default="stop", show_default=True,
              help="A step that leaves the metric non positive definite: stop, or halve the step until it is PD.")
@click.option("--normalise", type=click.Choice(["none", "max", "rows"]), default="none", show_default=True,
              help="Normalise the updates (section 3.2): by the kernel's largest mass over the training points "
                   "(max), or by each point's own mass (rows); docs/cy-kernels.md.")
@click.option("--record-every", "record_every", type=int, default=1, show_default=True, help="Steps per record.")
@click.option("--precision", type=click.Choice(["float64", "float32"]), default="float64", show_default=True,
              help="Kernel blocks of the Gaussian in d (--form gaussian) in float32: about twice as fast, "
                   "weights to ~1e-4 relative at sigma 0.1 (docs/cy-kernels.md, Speed).")
@click.option("--out", "out", required=True, type=str, help="Directory for kernel_flow.json and loss.png.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def kernel_flow(kernel, n_train, n_test, steps, seed, lr, sigma, form, mode, charts, cluster_size, test, test_distance,
                on_nonpd, normalise, record_every, precision, out, as_json):
    """Learn the quintic's metric at training points through a frozen kernel; predict it at test points."""
    from metricflow.cli.cy_algebraic import writable_dir

    check_run_options(n_train, n_test, steps, seed, lr, sigma, test_distance, record_every, cluster_size)
    if test is None:
        test = "exact" if test_distance is not None else "sample"
    outdir = writable_dir(out, "out")

    from metricflow.experiments.cy_kernels import run_kernel_flow
    from metricflow.io import write_json_atomic
    from metricflow.plotting.cy_kernels import plot_loss_curves

    res = run_kernel_flow(kernel, n_train=n_train, n_test=n_test, steps=steps, seed=seed, lr=lr, sigma=sigma,
                          form=form, mode=mode, test=test, test_distance=test_distance, on_nonpd=on_nonpd,
                          record_every=record_every, cluster_size=cluster_size, charts=charts, normalise=normalise,
                          precision=precision)
    outdir.mkdir(parents=True, exist_ok=True)
    res["files"] = {"json": str(write_json_atomic(outdir / "kernel_flow.json", res)),
                    "png": str(plot_loss_curves(res, outdir / "loss.png"))}
    lines = [f"{kernel} kernel ({mode}, {res['n_train']} training, {res['n_test']} test points, "
             f"{res['steps_done']}/{steps} steps): train gain {res['train_gain']:.4g} "
             f"(sigma {res['sigma_train_initial']:.4g} -> {res['sigma_train_final']:.4g}), test gain "
             f"{res['test_gain']:.4g} (sigma {res['sigma_test_initial']:.4g} -> {res['sigma_test_final']:.4g})"]
    lines += [f"non-positive-definite step {e['step']} at point {e['point']} (smallest eigenvalue "
              f"{e['min_eigenvalue']:.3g}): {e['action']}" for e in res["nonpd_events"][:5]]
    _emit(res, as_json, lines)


@click.command("tune")
@click.option("--kernel", type=click.Choice(["relu", "gaussian", "delta"]), required=True, help="Kernel to tune.")
@click.option("--trials", type=int, required=True, help="Total trials of the study (resumed: only the missing run).")
@click.option("--storage", required=True, type=str, help="SQLite file of the optuna study (created or resumed).")
@click.option("--n-train", "n_train", type=int, default=300, show_default=True, help="Training points per trial.")
@click.option("--n-test", "n_test", type=int, default=300, show_default=True, help="Test points per trial.")
@click.option("--steps", type=int, default=20, show_default=True, help="Steps per trial.")
@click.option("--charts", type=click.Choice(["one", "transport"]), default="one", show_default=True,
              help="As for kernel-flow.")
@click.option("--form", type=click.Choice(["printed", "gaussian"]), default="printed", show_default=True,
              help="As for kernel-flow (Gaussian kernel).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def tune(kernel, trials, storage, n_train, n_test, steps, charts, form, as_json):
    """Bayesian search (optuna TPE, on-disk study) of the kernel's hyperparameters for the test gain."""
    from pathlib import Path

    from metricflow.cli import _checks as c
    from metricflow.cli.cy_algebraic import writable_dir

    c.integer(trials, "trials", 1, 10_000)
    check_run_options(n_train, n_test, steps, 0, None, None, None, 1, 2)
    path = Path(storage)
    if path.exists() and not path.is_file():
        from metricflow.errors import InvalidInputError

        raise InvalidInputError("storage", f"{storage!r} exists and is not a file")
    writable_dir(str(path.parent if str(path.parent) else "."), "storage")

    from metricflow.experiments.cy_tune import tune as run

    res = run(kernel, trials, path, n_train=n_train, n_test=n_test, steps=steps, charts=charts, form=form)
    _emit(res, as_json, [f"{res['study']}: {res['trials']} trials, best test gain {res['best_test_gain']:.4g} "
                         f"with {res['best_params']}"])


def register(group: click.Group) -> None:
    """Add the kernel-flow commands to the ``cy`` group."""
    group.add_command(kernel_flow)
    group.add_command(tune)
