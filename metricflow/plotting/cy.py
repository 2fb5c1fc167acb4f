"""Calabi-Yau figures: the three distance heat maps (Figure 2) and nearest-neighbour distance
against the number of points (Figure 3 right).  Matplotlib with the Agg backend."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from metricflow.io import save_figure_atomic
from metricflow.plotting._mpl import pyplot


def heatmaps(D: np.ndarray, labels_batched: np.ndarray, labels_full: np.ndarray | None,
             path: str | Path, title: str = "") -> Path:
    """Distance matrix unordered, ordered by batched clusters, ordered by full clusters."""
    plt = pyplot()
    panels = [("no clustering", np.arange(len(D))),
              ("batched clustering (3.3)", np.argsort(labels_batched, kind="stable"))]
    if labels_full is not None:
        panels.append(("full clustering", np.argsort(labels_full, kind="stable")))
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 4))
    for ax, (name, order) in zip(np.atleast_1d(axes), panels, strict=True):
        im = ax.imshow(D[np.ix_(order, order)], cmap="viridis", vmin=0, vmax=np.pi / 2,
                       interpolation="nearest")
        ax.set_title(name)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(im, ax=axes, shrink=0.8, label="FS distance")
    if title:
        fig.suptitle(title)
    return save_figure_atomic(fig, path, dpi=110)


def nn_scaling_plot(result: dict, path: str | Path) -> Path:
    """Mean, min, max nearest-neighbour distance vs N (log-log) with the fitted and
    the printed (3.6) power laws."""
    plt = pyplot()
    rows = result["rows"]
    n = np.array([r["n"] for r in rows], dtype=float)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for key, marker in (("max", "^"), ("mean", "o"), ("min", "v")):
        ax.loglog(n, [r[key] for r in rows], marker, label=key)
    grid = np.geomspace(n.min(), n.max(), 50)
    if result.get("exponent") is not None:
        ax.loglog(grid, result["prefactor"] * grid ** result["exponent"], "-",
                  label=f"fit {result['prefactor']:.3f} N^{result['exponent']:.3f}")
    ax.loglog(grid, 0.968 * grid**-0.184, "--", label="paper (3.6): 0.968 N^-0.184")
    ax.set_xlabel("number of points N")
    ax.set_ylabel("nearest-neighbour FS distance")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure_atomic(fig, path, dpi=110)
