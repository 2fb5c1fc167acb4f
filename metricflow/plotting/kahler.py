"""Figures of the Kähler showcase: Headrick–Nassar flows on the flat complex torus."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from metricflow.io import save_figure_atomic
from metricflow.plotting._mpl import pyplot


def hn_flow_plot(runs: dict, dt: float, path: str | Path) -> Path:
    """Energy ``E = ∫(η−1)² μ_CY`` (B.14) and ``max |1 − η|`` (σ, B.11) against time for each
    run in ``runs`` (label -> ``{"energy": [...], "sigma_max": [...]}``), time step ``dt``."""
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.2), dpi=120)
    for label, run in runs.items():
        t = dt * np.arange(len(run["energy"]))
        axes[0].semilogy(t, run["energy"], label=label)
        axes[1].plot(t, run["sigma_max"], label=label)
    axes[0].set_title("E = ∫(η−1)² μ_CY  (B.14)")
    axes[1].set_title("max |1 − η|  (σ, B.11)")
    for ax in axes:
        ax.set_xlabel("t")
        ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure_atomic(fig, path, dpi=120)
