"""``metricflow demo`` showcase: the Fermat quintic (section 3) in about ten seconds."""

from __future__ import annotations

import time
from pathlib import Path


def run() -> dict:
    """Sample the quintic, sigma_FS (B.11), the Omega-volume, the cubic-curve check,
    nearest-neighbour distances vs N (eq. 3.6) and the clustering of 600 points (eq. 3.3):
    plain data, with what Figures 2 and 3 need under ``"curves"`` (the scaling result, the
    distance matrix and both clusterings' labels)."""
    import math

    from scipy.special import gamma

    from metricflow.cy import cluster_report, nn_distance_scaling, sample, sigma
    from metricflow.cy.distances import fs_distance_matrix
    t0 = time.perf_counter()
    ps = sample("fermat-quintic", 100_000, seed=0)
    t_sample = time.perf_counter() - t0
    sig = sigma(ps, "fs")
    vol, vol_err = ps.volume_omega()
    curve = sample("cubic-curve", 20_000, seed=0)
    cvol, cerr = curve.volume_omega()
    cexact = math.pi / 9 * (gamma(1 / 3) / gamma(2 / 3)) ** 3
    csig = sigma(curve, "flat")["sigma"]
    nn = nn_distance_scaling([250, 500, 1000, 2000], seed=0)
    small = ps.points[:600]
    rep = cluster_report(small, 120, 6)
    data = {
        "points": len(ps), "seconds_sample_100k": round(t_sample, 3),
        "sigma_fs": sig["sigma"], "sigma_fs_stderr": sig["sigma_stderr"], "kappa_fs": sig["kappa"],
        "omega_volume": vol, "omega_volume_stderr": vol_err,
        "fs_volume_exact": ps.surface.fs_volume(),
        "cubic_omega_volume_mc": cvol, "cubic_omega_volume_stderr": cerr,
        "cubic_omega_volume_exact": cexact, "cubic_sigma_flat": csig,
        "nn_rows": nn["rows"], "nn_prefactor": nn["prefactor"], "nn_exponent": nn["exponent"],
        "cluster_mean_intra": {"batched": rep["mean_intra_batched"], "full": rep["mean_intra_full"],
                               "random": rep["mean_intra_random"]},
        "summary_lines": [
            f"100k quintic points in {t_sample:.2f} s; sigma_FS = {sig['sigma']:.4f} +- "
            f"{sig['sigma_stderr']:.4f}",
            f"cubic curve: int|Omega|^2 = {cvol:.4f} +- {cerr:.4f} (exact {cexact:.4f})",
            f"NN distance fit {nn['prefactor']:.3f} N^{nn['exponent']:.3f} "
            "(paper 0.968 N^-0.184)",
        ],
    }
    data["curves"] = {"nn": nn, "distances": fs_distance_matrix(small),
                      "labels_batched": rep["labels_batched"], "labels_full": rep["labels_full"]}
    return data


def showcase(outdir: Path) -> dict:
    """The ``metricflow demo`` section: :func:`run`, Figures 2 and 3 (right), and a report."""
    from metricflow.plotting.cy import heatmaps, nn_scaling_plot

    outdir = Path(outdir)
    data = run()
    curves = data.pop("curves")
    p1 = nn_scaling_plot(curves["nn"], outdir / "cy_nn_distances.png")
    p2 = heatmaps(curves["distances"], curves["labels_batched"], curves["labels_full"],
                  outdir / "cy_cluster_heatmaps.png", title="600 quintic points, 6 clusters, 5 batches")
    d, mi = data, data["cluster_mean_intra"]
    md = (f"Shiffman-Zelditch sampling of the Fermat quintic (eq. 3.1): {d['points']} points with "
          f"Omega, pulled-back FS metric and weights in {d['seconds_sample_100k']:.2f} s. "
          f"sigma of the Fubini-Study metric (B.11): **{d['sigma_fs']:.4f} +- "
          f"{d['sigma_fs_stderr']:.4f}**; kappa_FS = {d['kappa_fs']:.4f}; "
          f"int |Omega|^2 = {d['omega_volume']:.3f} +- {d['omega_volume_stderr']:.3f}.\n\n"
          f"Check on the cubic curve (exact CY metric known): sigma = {d['cubic_sigma_flat']:.1e}; "
          f"int |Omega|^2 = {d['cubic_omega_volume_mc']:.4f} +- {d['cubic_omega_volume_stderr']:.4f} against "
          f"the exact (pi/9)(Gamma(1/3)/Gamma(2/3))^3 = {d['cubic_omega_volume_exact']:.4f}.\n\n"
          f"Mean nearest-neighbour FS distance vs N (250..2000): fit "
          f"{d['nn_prefactor']:.3f} N^{d['nn_exponent']:.3f}; the paper prints 0.968 N^-0.184 "
          "(eq. 3.6; see docs/cy.md for the comparison). Batched clustering (eq. 3.3) "
          f"mean intra-cluster distance {mi['batched']:.3f} vs unbatched "
          f"{mi['full']:.3f} vs random {mi['random']:.3f}.")
    return {"title": "Calabi-Yau geometry: the Fermat quintic", "markdown": md, "data": data,
            "plots": [p1.name, p2.name]}
