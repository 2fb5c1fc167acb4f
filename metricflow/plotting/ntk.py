"""Figures of the NTK showcase: the cos-net kernel against width, the finite-width
convergence, and the block norms of a metric-NTK."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from metricflow.io import save_figure_atomic
from metricflow.plotting._mpl import pyplot


def ntk_figure(xs, curves: dict, exact, sigma_w: float, rows: list, slope: float,
               block_norms, components: list, path: str | Path) -> Path:
    """Three panels: empirical cos-net NTKs ``curves`` (width -> values at ``xs``) against the
    analytic one (eqs. 2.35–2.37, corrected); relative error against width (``rows`` with
    ``width``, ``rel_error``; fitted ``slope``) with the N^-1/2 line; log10 norms of the
    metric-NTK blocks ``Θ_IJ`` labelled by ``components``."""
    plt = pyplot()
    xs = np.asarray(xs)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    ax = axes[0]
    for width, c in curves.items():
        ax.plot(xs, c, lw=1, label=f"empirical N={width}")
    ax.plot(xs, exact, "k--", lw=2, label="analytic (2.35-2.37)")
    ax.set_xlabel("x' (x = 0)")
    ax.set_title(f"cos-net NTK, d=1, sigma_w={sigma_w:g}")
    ax.legend(fontsize=7)
    ax = axes[1]
    w = [r["width"] for r in rows]
    e = [r["rel_error"] for r in rows]
    ax.loglog(w, e, "o-", label=f"slope {slope:.3f}")
    ax.loglog(w, e[0] * (np.array(w) / w[0]) ** -0.5, "k:", label="N^-1/2")
    ax.set_xlabel("width N")
    ax.set_ylabel("||Theta_N - Theta_bar|| / ||Theta_bar||")
    ax.legend()
    ax.set_title("finite width -> infinite width")
    ax = axes[2]
    norms = np.asarray(block_norms)
    im = ax.imshow(np.log10(norms + 1e-300), cmap="viridis")
    ax.set_xticks(range(len(components)), components, rotation=90, fontsize=7)
    ax.set_yticks(range(len(components)), components, fontsize=7)
    fig.colorbar(im, ax=ax, label="log10 ||Theta_IJ|| (10x10 block)")
    ax.set_title("metric-NTK blocks, multiplicative CY ansatz")
    fig.tight_layout()
    return save_figure_atomic(fig, path, dpi=90)
