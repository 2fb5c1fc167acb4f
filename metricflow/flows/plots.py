"""Plots of a flow: diagnostics against time, and the scalar curvature at start and end."""

from __future__ import annotations

from pathlib import Path

from metricflow.io import save_figure_atomic


def plot_history(history: list[dict], path: Path, title: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    t = [h["t"] for h in history]
    with_F = "F" in history[0]
    fig, axes = plt.subplots(1, 3 if with_F else 2, figsize=(12 if with_F else 8, 3.2), dpi=120)
    axes[0].plot(t, [h["area"] for h in history], "o-", ms=3)
    axes[0].set_xlabel("t")
    axes[0].set_ylabel("area / volume")
    axes[1].semilogy(t, [max(h["max_abs_scalar_curvature"], 1e-300) for h in history], "o-", ms=3)
    axes[1].set_xlabel("t")
    axes[1].set_ylabel("max |R|")
    if with_F:
        axes[2].plot(t, [h["F"] for h in history], "o-", ms=3)
        axes[2].set_xlabel("t")
        axes[2].set_ylabel("Perelman's F = λ (non-decreasing)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return save_figure_atomic(fig, path)


def plot_scalar_fields(fields: list, times: list[float], path: Path, title: str) -> Path:
    """2D scalar fields (e.g. R on T²) side by side, one colour scale."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

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
