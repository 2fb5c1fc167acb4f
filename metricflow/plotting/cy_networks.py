"""Figures of the Calabi–Yau network experiments: the journal version's Figure 4 (the
combined metric-NTK spectrum at the first and last epochs, the Wasserstein distance to
epoch 0 against the epoch) with the kernel alignment, the relative Frobenius change and
σ_test of the network and, when trained, of its lazy twin."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def plot_feature_learning(runs: dict, outdir) -> list[Path]:
    """``fig4_spectra.png``, ``fig4_wasserstein.png`` and ``fig4_kernel_change.png`` from
    :func:`metricflow.experiments.cy_feature_learning.feature_learning`'s result."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from metricflow.io import save_figure_atomic

    out = Path(outdir)
    net = runs["network"]
    spectra = np.asarray(net["spectra"])
    files = []
    fig, ax = plt.subplots(figsize=(6, 4))
    # most eigenvalues are tiny (rank-deficient blocks): the histogram is over log10 |λ|
    floor = 1e-12 * max(float(np.abs(spectra).max()), 1e-300)
    logs = [np.log10(np.abs(spectra[i]) + floor) for i in (0, -1)]
    bins = np.histogram_bin_edges(np.concatenate(logs), bins=40)
    ax.hist(logs[0], bins=bins, alpha=0.6, label="epoch 0")
    ax.hist(logs[1], bins=bins, alpha=0.6, label=f"epoch {len(spectra) - 1}")
    ax.set(xlabel="log10 |eigenvalue| of the 10 × 10 blocks Θ_IJ(x_train, x_test)", ylabel="count",
           title="metric-NTK spectrum")
    ax.legend()
    files.append(save_figure_atomic(fig, out / "fig4_spectra.png"))
    plt.close(fig)

    epochs = np.arange(len(net["wasserstein"]))
    fig, ax = plt.subplots(figsize=(6, 4))
    for name, run in runs.items():
        ax.plot(epochs, run["wasserstein"], marker="o", label=name)
    ax.set(xlabel="epoch", ylabel="Wasserstein distance to epoch 0", title="metric-NTK spectrum shift")
    ax.legend()
    files.append(save_figure_atomic(fig, out / "fig4_wasserstein.png"))
    plt.close(fig)

    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    for name, run in runs.items():
        axes[0].plot(epochs, run["frobenius_change"], marker="o", label=name)
        axes[1].plot(epochs, run["alignment"], marker="o", label=name)
        axes[2].plot(epochs, run["sigma_test"], marker="o", label=name)
    axes[0].set(xlabel="epoch", ylabel="|K_t - K_0|_F / |K_0|_F")
    axes[1].set(xlabel="epoch", ylabel="alignment with K_0")
    axes[2].set(xlabel="epoch", ylabel="σ_test")
    for ax in axes:
        ax.legend()
    files.append(save_figure_atomic(fig, out / "fig4_kernel_change.png"))
    plt.close(fig)
    return files
