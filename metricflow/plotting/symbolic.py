"""Figures of the symbolic showcase: the Berger-sphere Ricci flow integrated from its derived ODE."""

from __future__ import annotations

from pathlib import Path

from metricflow.io import save_figure_atomic
from metricflow.plotting._mpl import pyplot


def berger_flow_plot(t, a, b, path: str | Path) -> Path:
    """``a(t)``, ``b(t)`` and ``b/a`` of a Berger sphere under Ricci flow (eq. 2.39 reduced to
    the ansatz by :func:`metricflow.symbolic.ansatz.ansatz_flow`)."""
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=120)
    ax.plot(t, a, label="a(t)  (base S², σ1, σ2)")
    ax.plot(t, b, label="b(t)  (Hopf fibre, σ3)")
    ax.plot(t, b / a, "--", label="b/a")
    ax.set_xlabel("t")
    ax.set_title("Ricci flow of a Berger sphere (derived ODE)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    return save_figure_atomic(fig, path)
