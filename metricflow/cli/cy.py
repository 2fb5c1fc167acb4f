"""``metricflow cy``: Calabi-Yau hypersurfaces (sampling, sigma, distances, clustering).

Heavy imports happen inside the commands so that ``metricflow cy --help`` is fast.
"""

from __future__ import annotations

import json
import time

import click

from metricflow.cli._main import library_errors

#: The heat maps split their subset into 5 mini-batches of >= 2 points (Figure 2).
HEATMAP_MIN = 10
POLY_HELP = ("Hypersurface: fermat-quintic, dwork:PSI, quartic-k3, cubic-curve, or a sympy "
             "polynomial in z0, z1, ... (quoted).")


def _emit(doc: dict, as_json: bool, lines: list[str]) -> None:
    from metricflow.io import to_jsonable

    if as_json:
        click.echo(json.dumps(to_jsonable(doc), indent=2))
    else:
        for line in lines:
            click.echo(line)


def _int_list(text: str, name: str, minimum: int = 2) -> list[int]:
    from metricflow.errors import InvalidInputError

    try:
        values = [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError as exc:
        raise InvalidInputError(name, f"expected comma-separated integers, got {text!r}") from exc
    if not values or any(v < minimum for v in values):
        raise InvalidInputError(name, f"expected integers >= {minimum}, got {text!r}")
    return values


def _chart(text: str | None, name: str = "chart") -> tuple[int, int] | None:
    """``--chart P,E`` as a pair of integers (ranges are checked against the surface)."""
    from metricflow.errors import InvalidInputError

    if text is None:
        return None
    values = _int_list(text, name, minimum=0)
    if len(values) != 2:
        raise InvalidInputError(name, f"expected P,E (two integers), got {text!r}")
    return values[0], values[1]


def _sampling_fits(X, n: int, name: str, factor: float = 1.0, what: str = "", extra: int = 0) -> None:
    """Refuse a sample of ``n`` points (times ``factor`` for oversampling, plus ``extra``
    bytes per point) that does not fit in this machine's memory
    (:func:`metricflow.cy.validate.bytes_per_point`)."""
    from metricflow.cli._checks import fits_in_memory
    from metricflow.cy.validate import bytes_per_point

    per = bytes_per_point(X.n_ambient) * factor + extra
    fits_in_memory(name, per * n, f"sampling {n:,} points{what} (~{per:,.0f} bytes per point)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cy():
    """Calabi-Yau hypersurfaces: points, sigma-measure, FS distances, clustering (section 3)."""


@cy.command()
@click.option("--n", "n", type=int, default=10_000, show_default=True, help="Number of points.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--out", "out", type=click.Path(dir_okay=False), default="points.npz",
              show_default=True, help="Output .npz (written atomically).")
@click.option("--poly", default="fermat-quintic", show_default=True, help=POLY_HELP)
@click.option("--chart", default=None, metavar="P,E",
              help="Rejection-sample into one coordinate chart (patch P, eliminated E), "
                   "as in section 3.1.")
@click.option("--backend", type=click.Choice(["numpy", "jax"]), default="numpy", show_default=True,
              help="numpy (fastest on this CPU, nothing to compile) or jax (jitted; shards the "
                   "batch over all JAX devices when there are several).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON summary.")
@library_errors
def sample(n, seed, out, poly, chart, backend, as_json):
    """Sample points by the Shiffman-Zelditch measure with Omega, FS pull-back, weights."""
    from metricflow.cli import _checks
    from metricflow.cy import sampling
    from metricflow.cy.hypersurface import hypersurface
    from metricflow.io import prepare_output_file

    _checks.integer(n, "n", 1)
    _checks.seed(seed)
    X = hypersurface(poly)
    pe = _chart(chart)
    if pe is not None:
        sampling._check_chart(X, pe)
    n_charts = X.n_ambient * (X.n_ambient - 1)  # rejection sampling keeps ~1/n_charts per round
    _sampling_fits(X, n, "n", *((1.2 * n_charts, " by rejection into one chart") if pe else ()))
    prepare_output_file(out, "out")
    t0 = time.perf_counter()
    if pe is not None:
        ps = sampling.sample_in_chart(X, n, seed=seed, chart=pe, backend=backend)
    else:
        ps = sampling.sample(X, n, seed=seed, progress=True, backend=backend)
    t1 = time.perf_counter()
    sampling.save(ps, out, extra_meta={"chart": chart})
    t2 = time.perf_counter()
    vol_omega, vol_err = ps.volume_omega()
    doc = {"out": out, "n": len(ps), "seed": seed, "backend": backend, "poly": ps.surface.to_dict(),
           "fs_volume_exact": ps.surface.fs_volume(), "omega_volume": vol_omega,
           "omega_volume_stderr": vol_err, "kappa_fs": ps.kappa_fs(),
           "max_residual": float(ps.residual.max()),
           "seconds_sample": round(t1 - t0, 4), "seconds_write": round(t2 - t1, 4)}
    _emit(doc, as_json, [f"wrote {len(ps)} points on {ps.surface.spec} to {out} "
                         f"({t1 - t0:.2f} s sampling, {t2 - t1:.2f} s writing)",
                         f"int |Omega|^2 = {vol_omega:.5g} +- {vol_err:.2g}, "
                         f"kappa_FS = {doc['kappa_fs']:.5g}"])


@cy.command()
@click.option("--points", "points", required=True, type=click.Path(dir_okay=False),
              help="Point set from 'metricflow cy sample'.")
@click.option("--metric", default="fs", show_default=True,
              help="fs (Fubini-Study), flat (the exact CY metric of a curve, g = |Omega|^2) "
                   "or a folder with a saved algebraic metric (cy donaldson --out) or network (cy train --out).")
@click.option("--poly", default=None, help="Refuse the file unless it holds points on this "
              "hypersurface. " + POLY_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def sigma(points, metric, poly, as_json):
    """The sigma-measure (B.11) of a metric with its Monte Carlo standard error."""
    from pathlib import Path

    from metricflow.cy import measures, sampling
    from metricflow.cy.saved import metric_option
    from metricflow.errors import InvalidInputError

    if metric not in ("fs", "flat") and not Path(metric).is_dir():
        raise InvalidInputError("metric", f"expected fs, flat or a folder with a saved algebraic metric "
                                f"(cy donaldson --out) or a trained network (cy train --out), got {metric!r}")
    chosen = metric_option(metric)  # a folder: the saved metric or network, checked before the points
    ps = sampling.load(points, poly=poly)
    res = measures.sigma(ps, chosen)
    res.update(metric=metric, points=points, poly=ps.surface.spec)
    _emit(res, as_json, [f"sigma = {res['sigma']:.6g} +- {res['sigma_stderr']:.2g} "
                         f"(kappa = {res['kappa']:.6g}, {res['n_points']} points)"])


@cy.command()
@click.option("--n", "ns", default="1000,10000", show_default=True,
              help="Comma-separated numbers of points.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--poly", default="fermat-quintic", show_default=True, help=POLY_HELP)
@click.option("--one-per-line", is_flag=True,
              help="Keep one root per Shiffman-Zelditch line (independent points).")
@click.option("--chart", default=None, metavar="P,E",
              help="Use only points of one chart (the paper's rejection sampling).")
@click.option("--out", "outdir", default="metricflow-out/cy-distances", show_default=True,
              type=click.Path(file_okay=False), help="Folder for distances.json and the plot.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def distances(ns, seed, poly, one_per_line, chart, outdir, as_json):
    """Nearest-neighbour FS distance (mean/min/max) vs N with the power-law fit (3.6)."""

    from metricflow.cli import _checks
    from metricflow.cy import distances as dist
    from metricflow.cy.hypersurface import hypersurface
    from metricflow.cy.sampling import _check_chart
    from metricflow.errors import InvalidInputError
    from metricflow.io import prepare_output_dir, write_json_atomic
    from metricflow.plotting import cy as plots

    counts = _int_list(ns, "ns")
    _checks.integer(seed, "seed", 0, _checks.SEED_MAX - len(counts), "sample i uses seed + i")
    X = hypersurface(poly)
    pe = _chart(chart)
    if pe is not None:
        _check_chart(X, pe)
        if one_per_line:
            raise InvalidInputError("one_per_line", "choose either --one-per-line or --chart")
    factor = 1.2 * X.n_ambient * (X.n_ambient - 1) if pe else (X.degree if one_per_line else 1)
    # the nearest-neighbour search adds a real projector embedding, 2 (n+1)^2 float64 per point
    _sampling_fits(X, max(counts), "ns", factor, " and their nearest neighbours", 16 * X.n_ambient**2)
    out = prepare_output_dir(outdir, "outdir", outputs=("distances.json", "nn_distances.png"))
    res = dist.nn_distance_scaling(counts, seed=seed, poly=poly, one_per_line=one_per_line,
                                   chart=pe, progress=True)
    write_json_atomic(out / "distances.json", res)
    res["plot"] = str(plots.nn_scaling_plot(res, out / "nn_distances.png"))
    lines = [f"N = {r['n']:>8}: mean {r['mean']:.4f}  min {r['min']:.4f}  max {r['max']:.4f}"
             for r in res["rows"]]
    if res["exponent"] is not None:
        lines.append(f"fit: mean = {res['prefactor']:.3f} N^{res['exponent']:.3f} "
                     "(paper eq. 3.6: 0.968 N^-0.184)")
    _emit(res, as_json, lines + [f"wrote {out}/distances.json and {res['plot']}"])


@cy.command()
@click.option("--points", "points", required=True, type=click.Path(dir_okay=False),
              help="Point set from 'metricflow cy sample'.")
@click.option("--batch-size", "batch_size", type=int, default=200, show_default=True,
              help="Mini-batch size M.")
@click.option("--clusters", "clusters", type=int, default=10, show_default=True,
              help="Number of clusters C.")
@click.option("--match", type=click.Choice(["greedy", "optimal"]), default="greedy",
              show_default=True, help="Merging across mini-batches (eq. 3.3).")
@click.option("--heatmap-points", type=int, default=1000, show_default=True,
              help="Points used for the heat maps and the unbatched reference (in 5 "
                   "mini-batches if --batch-size is larger); at least 10.")
@click.option("--out", "outdir", default="metricflow-out/cy-cluster", show_default=True,
              type=click.Path(file_okay=False), help="Folder for labels, JSON and heat maps.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def cluster(points, batch_size, clusters, match, heatmap_points, outdir, as_json):
    """Batched agglomerative clustering (section 3.1, eq. 3.3) and the heat maps of Figure 2."""

    import numpy as np

    from metricflow.cli import _checks
    from metricflow.cy import clustering, sampling
    from metricflow.cy.distances import fs_distance_matrix
    from metricflow.errors import InvalidInputError
    from metricflow.io import prepare_output_dir, save_npz_atomic, write_json_atomic
    from metricflow.plotting import cy as plots

    _checks.integer(batch_size, "batch_size", 2)
    _checks.integer(clusters, "clusters", 1, batch_size, "at most one cluster per point of a mini-batch")
    _checks.integer(heatmap_points, "heatmap_points", HEATMAP_MIN, None)
    ps = sampling.load(points)
    if len(ps) < max(clusters, HEATMAP_MIN):
        raise InvalidInputError("points", f"{points!r} holds {len(ps)} points; need at least "
                                f"{max(clusters, HEATMAP_MIN)} (--clusters and the heat maps)")
    # average linkage holds an m x m distance matrix, its condensed copy and the linkage: ~3 m^2 float64
    for name, m in (("batch_size", min(batch_size, len(ps))), ("heatmap_points", min(heatmap_points, len(ps)))):
        _checks.fits_in_memory(name, 24.0 * m * m, f"clustering {m:,} points at once")
    out = prepare_output_dir(outdir, "outdir", outputs=("labels.npz", "heatmaps.png", "cluster.json"))
    labels = clustering.batched_clustering(ps.points, batch_size, clusters, match=match,
                                           progress=True)
    m = min(len(ps), heatmap_points)
    sub = ps.points[:m]
    # Figure 2 compares batched and unbatched clustering of the same points: when the
    # subset fits in one mini-batch, split it into 5 batches as the paper's figure does.
    hb = batch_size if batch_size < m else max(2, m // 5)
    hc = min(clusters, hb)
    rep = clustering.cluster_report(sub, hb, hc, match=match, full_limit=m)
    save_npz_atomic(out / "labels.npz", labels=labels, heatmap_labels_batched=rep["labels_batched"],
                    heatmap_labels_full=rep["labels_full"])
    D = fs_distance_matrix(sub)
    png = plots.heatmaps(D, rep["labels_batched"], rep["labels_full"], out / "heatmaps.png",
                         title=f"{m} points, {rep['clusters']} clusters, "
                               f"batches of {rep['batch_size']}")
    summary = {k: v for k, v in rep.items() if not k.startswith("labels")}
    doc = {"points": points, "n_points": len(ps), "batch_size": batch_size, "clusters": clusters,
           "match": match, "sizes": np.bincount(labels, minlength=clusters).tolist(),
           "heatmap_subset": summary, "labels": str(out / "labels.npz"), "heatmaps": str(png)}
    write_json_atomic(out / "cluster.json", doc)
    _emit(doc, as_json, [
        f"clustered {len(ps)} points into {clusters} clusters (batches of {batch_size}); "
        f"wrote {out}/labels.npz, cluster.json, heatmaps.png",
        f"heat-map subset ({m} points): mean intra-cluster distance batched "
        f"{summary['mean_intra_batched']:.4f}, full {summary['mean_intra_full']:.4f}, "
        f"random {summary['mean_intra_random']:.4f}; ARI batched vs full "
        f"{summary['ari_batched_vs_full']:.3f}"])


from metricflow.cli.cy_algebraic import register  # noqa: E402  (the algebraic-metric commands, issue 16)

register(cy)

from metricflow.cli.cy_kernels import register as register_kernels  # noqa: E402  (kernel flows, issue 14)
from metricflow.cli.cy_networks import register as register_networks  # noqa: E402  (cy train, issue 15)
from metricflow.cli.cy_optimal import register as register_optimal  # noqa: E402  (cy optimize, cy flow, issue 16)

register_kernels(cy)
register_networks(cy)
register_optimal(cy)
