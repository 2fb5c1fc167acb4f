"""``metricflow cy optimize`` (optimal algebraic metrics, Headrick–Nassar) and
``metricflow cy flow`` (the derived Kähler flows within the algebraic ansatz): issue 16,
registered on the ``cy`` group by :func:`register`.  Every option is validated before any
work (exit 2, one line naming the option).
"""

from __future__ import annotations

import click

from metricflow.cli import _checks
from metricflow.cli._main import library_errors

MAX_POINTS = 1_000_000
MAX_STEPS = 100_000
MAX_K = 8  # N_k = 460 on the quintic; the hermitian ansatz has N_k^2 parameters


def _emit(doc: dict, as_json: bool, lines: list[str]) -> None:
    from metricflow.cli.cy import _emit as emit  # imported late: cli/cy.py registers this module

    emit(doc, as_json, lines)


def check_degree(poly: str, k: int, ansatz: str):
    """The hypersurface and its ansatz of degree k, refused (naming the option) if too large."""
    from metricflow.cy import hypersurface
    from metricflow.cy.ansatz import make_ansatz

    _checks.integer(k, "k", 1, MAX_K, "N_k grows like k^(n-1)")
    X = hypersurface(poly)
    if not X.is_calabi_yau:
        from metricflow.errors import InvalidInputError

        raise InvalidInputError("poly", f"degree {X.degree} in P^{X.n_ambient - 1} is not Calabi-Yau")
    return X, make_ansatz(X, k, ansatz)


def check_memory(A, n_points: int, functional: str = "sigma") -> None:
    """The training arrays (and their autodiff copies, ×4) must fit in memory; a functional
    with derivatives (order > 2) holds the sections' 2-jets, N_k (1 + m + m²) numbers a point."""
    from metricflow.cy.functionals import order_of

    m = A.surface.dim
    per_point = (A.n_features * (1 + m + m * m) if A.kind != "hermitian" else A.basis.shape[0] * (2 * m + 2)) * 16
    if order_of(functional) > 2:
        per_point = max(per_point, A.basis.shape[0] * (1 + m + m * m) * 16)
    _checks.fits_in_memory("n_points", 4.0 * per_point * n_points, f"{n_points:,} training points")


@click.command()
@click.option("--k", "k", type=int, required=True, help="Degree k of the sections.")
@click.option("--functional", default="sigma", show_default=True,
              help="sigma (B.11) or a Kahler functional of the registry: hn-ultralocal, hn-entropy (from the "
                   "metric), hn-two-derivative, calabi, einstein-hilbert-cy (from the 4-jets of K_H; slower).")
@click.option("--n-points", "n_points", type=int, default=20_000, show_default=True, help="Training points.")
@click.option("--steps", type=int, default=200, show_default=True, help="Optimiser steps.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--poly", default="fermat-quintic", show_default=True, help="Hypersurface (as for cy sample).")
@click.option("--optimizer", type=click.Choice(["adam", "lbfgs"]), default="adam", show_default=True)
@click.option("--learning-rate", "learning_rate", type=float, default=0.05, show_default=True,
              help="Adam's step on the parameters (log h); lbfgs: 1 uses its line search alone.")
@click.option("--ansatz", type=click.Choice(["auto", "symmetric", "diagonal", "hermitian"]), default="auto",
              show_default=True, help="symmetric: every form invariant under the Fermat group (Fermat); diagonal: "
                                      "its one value per exponent class only; hermitian: the full H = L L^dagger.")
@click.option("--n-validation", "n_validation", type=int, default=None,
              help="Fresh points for sigma [default: min(max(--n-points, 20,000), 100,000)].")
@click.option("--record-every", "record_every", type=int, default=10, show_default=True)
@click.option("--out", "out", required=True, type=str, help="Directory for metric.npz and optimize.json.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def optimize(k, functional, n_points, steps, seed, poly, optimizer, learning_rate, ansatz, n_validation,
             record_every, out, as_json):
    """Optimal algebraic metric of degree k: minimise a functional over H from the balanced metric."""
    from metricflow.cli.cy_algebraic import writable_dir
    from metricflow.cy.functionals import check_minimisable, names
    from metricflow.errors import InvalidInputError

    _checks.integer(n_points, "n_points", 100, MAX_POINTS)
    _checks.integer(steps, "steps", 1, MAX_STEPS)
    _checks.seed(seed)
    _checks.real(learning_rate, "learning_rate")
    _checks.integer(record_every, "record_every", 1)
    if n_validation is not None:
        _checks.integer(n_validation, "n_validation", 100, MAX_POINTS)
    if functional not in names():
        raise InvalidInputError("functional", f"expected one of {', '.join(names())}, got {functional!r}")
    check_minimisable(functional)
    X, A = check_degree(poly, k, ansatz)
    check_memory(A, n_points, functional)
    outdir = writable_dir(out, "out")

    from metricflow.cy.algebraic import save_metric
    from metricflow.cy.optimal import optimise
    from metricflow.io import write_json_atomic

    def progress(rec):
        if not as_json:
            click.echo(f"step {rec['step']}: {functional} = {rec['functional']:.6g} ({rec['seconds']:.1f} s)")

    res = optimise(X, k, functional, n_points, steps, seed, optimizer, learning_rate, ansatz, n_validation,
                   record_every, on_record=progress)
    path = save_metric(res.pop("metric"), outdir)
    doc = {**res, "poly": X.spec or X.expression(), "seed": seed, "metric": str(path)}
    write_json_atomic(outdir / "optimize.json", doc)
    _emit(doc, as_json, [f"optimal metric k = {k} ({functional}, {res['ansatz']} ansatz, {res['n_params']} "
                         f"parameters): sigma {res['sigma_initial']:.5f} -> {res['sigma_final']:.5f} +- "
                         f"{res['sigma_final_stderr']:.1g} on {res['n_validation']} fresh points; wrote {path}"])


FLOW_HELP = ("kahler-ricci (d phi/dt = ln eta + 1 - mean), calabi (d phi/dt = R - mean), or functional:NAME "
             "(the L2 descent of hn-ultralocal, hn-entropy, hn-two-derivative, calabi, einstein-hilbert-cy), "
             "projected onto the algebraic ansatz.")


@click.command("flow")
@click.option("--flow", "flow", required=True, help=FLOW_HELP)
@click.option("--k", "k", type=int, required=True, help="Degree k of the sections.")
@click.option("--steps", type=int, required=True, help="Time steps.")
@click.option("--dt", type=float, required=True, help="Time step (the L2 descents are stiff: ~1e-4).")
@click.option("--n-points", "n_points", type=int, default=2000, show_default=True, help="Points of the flow.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--poly", default="fermat-quintic", show_default=True, help="Hypersurface (as for cy sample).")
@click.option("--ansatz", type=click.Choice(["auto", "symmetric", "diagonal", "hermitian"]), default="auto",
              show_default=True)
@click.option("--init", type=click.Choice(["balanced", "identity"]), default="balanced", show_default=True,
              help="Start: Donaldson's balanced metric of degree k (5 T-steps) or H = 1.")
@click.option("--method", type=click.Choice(["euler", "rk4"]), default="euler", show_default=True)
@click.option("--record-every", "record_every", type=int, default=1, show_default=True)
@click.option("--n-validation", "n_validation", type=int, default=20_000, show_default=True,
              help="Fresh points for sigma of the first and last metric.")
@click.option("--out", "out", required=True, type=str,
              help="Directory for metric.npz (the last metric), flow.json and checkpoint.npz.")
@click.option("--resume", is_flag=True, help="Continue from OUT/checkpoint.npz; refused if a setting differs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def flow(flow, k, steps, dt, n_points, seed, poly, ansatz, init, method, record_every, n_validation, out, resume,
         as_json):
    """A derived Kahler flow of the potential within the algebraic ansatz (the flow engine's run_flow)."""
    from metricflow.cy.functionals import check_minimisable, names
    from metricflow.errors import InvalidInputError
    from metricflow.flows.algebraic import POTENTIAL_FLOWS

    allowed = POTENTIAL_FLOWS + tuple(f"functional:{n}" for n in names()[1:])
    if flow not in allowed:
        raise InvalidInputError("flow", f"expected one of {', '.join(allowed)}, got {flow!r}")
    if flow.startswith("functional:"):
        check_minimisable(flow.partition(":")[2], "flow")
    _checks.integer(steps, "steps", 1, MAX_STEPS)
    _checks.real(dt, "dt")
    _checks.integer(n_points, "n_points", 50, 200_000, "the velocity's least squares hold N x parameters")
    _checks.seed(seed)
    _checks.integer(record_every, "record_every", 1, steps)
    _checks.integer(n_validation, "n_validation", 100, MAX_POINTS)
    X, A = check_degree(poly, k, ansatz)
    check_memory(A, n_points, flow.partition(":")[2] if flow.startswith("functional:") else
                 "calabi" if flow == "calabi" else "sigma")
    _checks.fits_in_memory("n_points", 4.0 * 8 * n_points * A.n_params, "the Jacobian dK/dtheta at the points")
    from metricflow.io import prepare_output_dir

    outdir = prepare_output_dir(out, "out")

    from metricflow.cy.algebraic import save_metric
    from metricflow.flows.algebraic import run_algebraic_flow
    from metricflow.io import write_json_atomic

    def progress(rec):
        if not as_json:
            click.echo(f"t = {rec['t']:.4g}: sigma = {rec['sigma']:.5f}, functional = {rec['functional']:.6g}")

    res = run_algebraic_flow(X, k, flow, steps, dt, n_points, seed, ansatz, init, method, record_every,
                             n_validation, outdir / "checkpoint.npz", resume, progress)
    path = save_metric(res.pop("metric"), outdir)
    doc = {**res, "poly": X.spec or X.expression(), "metric": str(path)}
    write_json_atomic(outdir / "flow.json", doc)
    _emit(doc, as_json, [f"{flow} on the degree-{k} ansatz ({res['ansatz']}, {res['n_params']} parameters): "
                         f"sigma {res['sigma_initial']:.5f} -> {res['sigma_final']:.5f} on {n_validation} fresh "
                         f"points; {res['functional_name']} {res['history'][0]['functional']:.6g} -> "
                         f"{res['history'][-1]['functional']:.6g}; wrote {path}"])


def register(group: click.Group) -> None:
    """Add ``cy optimize`` and ``cy flow`` to the ``cy`` group."""
    group.add_command(optimize)
    group.add_command(flow)
