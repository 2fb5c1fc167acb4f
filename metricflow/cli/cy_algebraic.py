"""``metricflow cy donaldson`` (balanced metrics) and ``metricflow cy curvature``: the
algebraic-metric commands of the ``cy`` group (issue 16), registered on it by
:func:`register`.  Every option is validated before any work (exit 2, one line).
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from metricflow.cli._main import library_errors

#: largest number of sections accepted (H is N_k x N_k; T costs 2 N_p N_k^2 per step and
#: the literature's N_p ~ 10 N_k^2: at N_k = 1000 that is 2e13 complex products a step)
MAX_SECTIONS = 1000
MAX_POINTS = 5_000_000  # ~350 bytes per quintic point in a PointSet: under 2 GB
MAX_ITERATIONS = 200

POLY_HELP = "Hypersurface, as for 'metricflow cy sample --poly'."


def _int_at_least(value, low: int, high: int | None, name: str) -> int:
    from metricflow.errors import InvalidInputError

    if value < low or (high is not None and value > high):
        rng = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise InvalidInputError(name, f"need an integer {rng}, got {value}")
    return value


def writable_dir(path: str, name: str) -> Path:
    """``path`` as a directory that exists or can be created, and is writable."""
    from metricflow.errors import InvalidInputError

    p = Path(path)
    if p.exists() and not p.is_dir():
        raise InvalidInputError(name, f"{path!r} exists and is not a directory")
    probe = p
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir() or not os.access(probe, os.W_OK | os.X_OK):
        raise InvalidInputError(name, f"{path!r} is not writable ({str(probe)!r} is not a writable directory)")
    return p


def _emit(doc: dict, as_json: bool, lines: list[str]) -> None:
    from metricflow.cli.cy import _emit as emit  # imported late: cli/cy.py registers this module

    emit(doc, as_json, lines)


@click.command()
@click.option("--k", "k", type=int, required=True, help="Degree k of the sections (N_k of them).")
@click.option("--n-points", "n_points", type=int, default=None,
              help="Points of the T-operator's Monte Carlo integrals [default: 10 N_k^2 + 50,000].")
@click.option("--iterations", type=int, default=10, show_default=True, help="T-operator steps.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed (>= 0).")
@click.option("--poly", default="fermat-quintic", show_default=True, help=POLY_HELP)
@click.option("--n-validation", "n_validation", type=int, default=None,
              help="Fresh points for sigma [default: min(--n-points, 100,000)].")
@click.option("--out", "out", required=True, type=str,
              help="Directory for metric.npz (H, k, basis, polynomial) and donaldson.json.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def donaldson(k, n_points, iterations, seed, poly, n_validation, out, as_json):
    """Donaldson's balanced metric of degree k (T-operator iteration); sigma on fresh points."""
    from metricflow.cy import hypersurface
    from metricflow.cy.sections import hilbert_function

    _int_at_least(k, 1, None, "k")
    X = hypersurface(poly)
    N = hilbert_function(X.n_ambient, X.degree, k)  # = N_k, in closed form
    if N > MAX_SECTIONS:
        from metricflow.errors import InvalidInputError

        raise InvalidInputError("k", f"k = {k} gives N_k = {N} > {MAX_SECTIONS} sections on this "
                                "hypersurface (memory and time); choose a smaller k")
    if n_points is not None:
        _int_at_least(n_points, 2 * N, MAX_POINTS, "n_points")
    _int_at_least(iterations, 1, MAX_ITERATIONS, "iterations")
    _int_at_least(seed, 0, None, "seed")
    if n_validation is not None:
        _int_at_least(n_validation, 100, MAX_POINTS, "n_validation")
    outdir = writable_dir(out, "out")

    from metricflow.cy.algebraic import save_metric
    from metricflow.cy.donaldson import balanced_metric, recommended_points
    from metricflow.io import write_json_atomic

    if n_points is None and recommended_points(N) > MAX_POINTS:
        n_points = MAX_POINTS

    def progress(i, rec):
        if not as_json:
            click.echo(f"iteration {rec['iteration']}: sigma = {rec['sigma']:.5f} +- {rec['sigma_stderr']:.1g} "
                       f"({rec['seconds']:.2f} s)")

    res = balanced_metric(X, k, n_points, iterations, seed, n_validation, on_iteration=progress)
    path = save_metric(res.pop("metric"), outdir)
    doc = {**res, "sigma_final": res["sigma"][-1], "sigma_final_stderr": res["sigma_stderr"][-1],
           "k": k, "poly": X.spec or X.expression(), "seed": seed, "iterations": iterations,
           "metric": str(path)}
    write_json_atomic(outdir / "donaldson.json", doc)
    _emit(doc, as_json, [f"balanced metric k = {k} (N_k = {N}, {res['n_points']} points): sigma = "
                         f"{doc['sigma_final']:.5f} +- {doc['sigma_final_stderr']:.1g} on "
                         f"{res['n_validation']} fresh points; wrote {path}"])


@click.command()
@click.option("--points", "points", required=True, type=click.Path(dir_okay=False),
              help="Point set from 'metricflow cy sample'.")
@click.option("--metric", default="fs", show_default=True,
              help="fs (Fubini-Study) or a directory with a saved algebraic metric (cy donaldson --out).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def curvature(points, metric, as_json):
    """Euler characteristic (int c_n, Chern-Weil) with its Monte Carlo error, and the Ricci measure."""
    from metricflow.cy import sampling
    from metricflow.cy.algebraic import load_metric
    from metricflow.cy.curvature import curvature_report

    ps = sampling.load(points)
    m = metric if metric == "fs" else load_metric(metric)
    res = curvature_report(m, ps)
    res.update(metric=metric, points=points, poly=ps.surface.spec)
    _emit(res, as_json, [f"chi = {res['euler_characteristic']:.4g} +- {res['euler_stderr']:.2g}, "
                         f"Ricci measure {res['ricci_measure']:.4g} ({res['n_points']} points)"])


def register(group: click.Group) -> None:
    """Add the algebraic-metric commands to the ``cy`` group."""
    group.add_command(donaldson)
    group.add_command(curvature)
