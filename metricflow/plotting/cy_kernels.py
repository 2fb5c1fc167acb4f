"""Figures of the kernel metric flows (section 3.2): σ-loss curves of one run, and Figure 3
(left) — the gain against the mean FS distance between test and training points."""

from __future__ import annotations

from pathlib import Path

from metricflow.io import save_figure_atomic


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_loss_curves(result: dict, path: Path) -> Path:
    """σ on the training and the test points against the step (log scale)."""
    plt = _plt()
    c = result["curve"]
    fig, ax = plt.subplots(figsize=(5, 3.4), dpi=120)
    ax.semilogy(c["step"], c["sigma_train"], "o-", ms=3, lw=1, label="train")
    ax.semilogy(c["step"], c["sigma_test"], "s-", ms=3, lw=1, label="test")
    ax.set_xlabel("step")
    ax.set_ylabel("σ-loss (B.11)")
    ax.set_title(f"{result['kernel']} kernel, {result['mode']}: gains {result['train_gain']:.3g} (train), "
                 f"{result['test_gain']:.3g} (test)", fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure_atomic(fig, path)


def plot_fig3(rows: list[dict], path: Path) -> Path:
    """Figure 3 (left): test gain against the mean FS distance to the training points, per kernel."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(5, 3.4), dpi=120)
    for kernel in sorted({r["kernel"] for r in rows}):
        pts = sorted((r["mean_test_train_distance"], r["test_gain"]) for r in rows if r["kernel"] == kernel)
        ax.loglog([max(p[0], 1e-6) for p in pts], [p[1] for p in pts], "o-", ms=3, lw=1, label=kernel)
    ax.set_xlabel("mean FS distance test → nearest training point")
    ax.set_ylabel("σ-loss gain on test points")
    ax.legend(fontsize=7)
    fig.tight_layout()
    return save_figure_atomic(fig, path)
