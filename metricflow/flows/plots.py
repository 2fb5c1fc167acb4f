"""Plots of a flow: diagnostics against time, and the scalar curvature at start and end."""

from __future__ import annotations

from pathlib import Path

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
