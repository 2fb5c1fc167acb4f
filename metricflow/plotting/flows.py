"""Plots of metric flows from their plain data (histories and fields): diagnostics against
time, and the scalar curvature at the start and the end — on the tori, the 2-sphere and
point clouds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from metricflow.io import save_figure_atomic


def plot_panels(t, panels: list, path: Path, title: str) -> Path:
    """Diagnostics against time, one panel each: ``panels`` is a list of
    ``(ylabel, log, curves)`` with ``curves`` a list of ``(values, style, label or None)``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2), dpi=120)
    for ax, (ylabel, log, curves) in zip(axes, panels, strict=True):
        for values, style, label in curves:
            (ax.semilogy if log else ax.plot)(t, [max(v, 1e-300) for v in values] if log else values, style,
                                               ms=3, lw=1, label=label)
        ax.set_xlabel("t")
        ax.set_ylabel(ylabel)
        if any(label for _, _, label in curves):
            ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure_atomic(fig, path)


def plot_history(history: list[dict], path: Path, title: str) -> Path:
    """Area (volume), max |R| and, for Perelman's flow, F against time."""
    t = [h["t"] for h in history]
    panels = [("area / volume", False, [([h["area"] for h in history], "o-", None)]),
              ("max |R|", True, [([h["max_abs_scalar_curvature"] for h in history], "o-", None)])]
    if "F" in history[0]:
        panels.append(("Perelman's F = λ (non-decreasing)", False, [([h["F"] for h in history], "o-", None)]))
    return plot_panels(t, panels, path, title)


def plot_scalar_fields(fields: list, times: list[float], path: Path, title: str) -> Path:
    """2D scalar fields (e.g. R on T²) side by side, one colour scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    vmax = max(float(np.max(np.abs(f))) for f in fields) or 1.0
    fig, axes = plt.subplots(1, len(fields), figsize=(3.6 * len(fields), 3.2), dpi=120, layout="constrained")
    axes = np.atleast_1d(axes)
    for ax, f, t in zip(axes, fields, times, strict=True):
        im = ax.imshow(np.asarray(f).T, origin="lower", extent=(0, 2 * np.pi, 0, 2 * np.pi),
                       cmap="RdBu_r", vmin=-vmax, vmax=vmax)
        ax.set_title(f"R at t = {t:.3g}", fontsize=9)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    fig.colorbar(im, ax=list(axes), shrink=0.8)
    fig.suptitle(title, fontsize=10)
    return save_figure_atomic(fig, path)


# ----------------------------------------------------------------- the 2-sphere
def plot_sphere_history(history: list[dict], path: Path, title: str) -> Path:
    """Area against t with the Gauss–Bonnet line ``A(0) − 8πt``, and the curvature spread
    (and λ when the records have it)."""
    t = np.array([h["t"] for h in history])
    area = np.array([h["area"] for h in history])
    panels = [("area", False, [(area, "o", "measured"),
                               (area[0] - 8 * np.pi * t, "-", "A(0) − 8πt (Gauss–Bonnet)")]),
              ("(max R − min R) / mean R", True, [([h["curvature_spread"] for h in history], "o-", None)])]
    if "lambda" in history[0]:
        panels.append(("Perelman λ", False, [([h["lambda"] for h in history], "o-", None)]))
    return plot_panels(t, panels, path, title)


def plot_sphere_fields(sphere, fields: list, times: list[float], path: Path, title: str,
                       label: str = "R") -> Path:
    """Grid fields (e.g. R) as latitude–longitude maps side by side, each with its own
    colour scale (R grows as the sphere shrinks), and the first and last on the sphere
    itself (orthographic view from above the equator)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(fields)
    lat = 90.0 - np.degrees(sphere.theta)
    lon = np.degrees(sphere.phi)
    fig = plt.figure(figsize=(3.4 * n, 5.6), dpi=120, layout="constrained")
    grid = fig.add_gridspec(2, n)
    for i, (f, t) in enumerate(zip(fields, times, strict=True)):
        f = np.asarray(f)
        ax = fig.add_subplot(grid[0, i])
        im = ax.pcolormesh(lon, lat, f, shading="nearest", cmap="viridis")
        ax.set_title(f"{label} at t = {t:.3g}", fontsize=9)
        ax.set_xlabel("longitude φ [°]")
        ax.set_ylabel("latitude [°]")
        fig.colorbar(im, ax=ax, shrink=0.8)
        ax3 = fig.add_subplot(grid[1, i], projection="3d")
        x, y, z = np.moveaxis(sphere.points, -1, 0)
        # close the longitude seam for the surface plot
        x, y, z, fc = (np.concatenate([a, a[:, :1]], axis=1) for a in (x, y, z, f))
        norm = (fc - fc.min()) / max(np.ptp(fc), 1e-300)
        ax3.plot_surface(x, y, z, facecolors=plt.cm.viridis(norm), rstride=1, cstride=1,
                         linewidth=0, antialiased=False, shade=False)
        ax3.set_box_aspect((1, 1, 1))
        ax3.set_axis_off()
    fig.suptitle(title, fontsize=10)
    return save_figure_atomic(fig, path)


# ----------------------------------------------------------------- point clouds
def plot_sigma_history(history: list[dict], path: Path, title: str) -> Path:
    """σ-measure (B.11), κ (B.10) and the smallest eigenvalue of the metric against t."""
    t = [h["t"] for h in history]
    panels = [("σ-measure (B.11)", True, [([h["sigma"] for h in history], "o-", None)]),
              ("κ (B.10)", False, [([h["kappa"] for h in history], "o-", None)]),
              ("min eigenvalue of g", False, [([h["min_eigenvalue"] for h in history], "o-", None)])]
    return plot_panels(t, panels, path, title)


def plot_eta_histograms(etas: list, times: list[float], path: Path, title: str) -> Path:
    """Histograms of η = det g/(κ|Ω|²) at the points (η ≡ 1 for the Ricci-flat metric)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=120)
    for eta, t in zip(etas, times, strict=True):
        ax.hist(np.asarray(eta), bins=60, histtype="step", label=f"t = {t:.3g}")
    ax.set_xlabel("η = det g / (κ |Ω|²)")
    ax.set_ylabel("points")
    ax.legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure_atomic(fig, path)


# ----------------------------------------------------------------- one entry point
def plot_flow(manifold, result, outdir: Path, title: str) -> list[str]:
    """The figures of a finished run (``history.png`` and a field plot), by manifold:
    R at the start and end on T², R at three snapshots on S², η histograms on a point
    cloud (fields from :func:`metricflow.flows.catalog.curvature_field`). Returns the
    file names written into ``outdir``."""
    from metricflow.flows.catalog import curvature_field
    from metricflow.manifolds import PointCloud, Sphere

    outdir = Path(outdir)
    snaps, times = result.snapshots, result.snapshot_times
    if isinstance(manifold, Sphere):
        pick = [0, len(snaps) // 2, len(snaps) - 1]
        return [plot_sphere_history(result.history, outdir / "history.png", title).name,
                plot_sphere_fields(manifold, [curvature_field(manifold, snaps[i]) for i in pick],
                                   [times[i] for i in pick], outdir / "scalar_curvature.png", title).name]
    if isinstance(manifold, PointCloud):
        return [plot_sigma_history(result.history, outdir / "history.png", title).name,
                plot_eta_histograms([curvature_field(manifold, snaps[0]), curvature_field(manifold, result.final)],
                                    [0.0, result.history[-1]["t"]], outdir / "eta.png", title).name]
    files = [plot_history(result.history, outdir / "history.png", title).name]
    if manifold.dim == 2:
        fields = [curvature_field(manifold, snaps[0]), curvature_field(manifold, result.final)]
        files.append(plot_scalar_fields(fields, [0.0, result.history[-1]["t"]], outdir / "scalar_curvature.png",
                                        title).name)
    return files
