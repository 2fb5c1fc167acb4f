"""Outputs of the finite-network flows (:func:`metricflow.flows.network.network_flow`)
and of the tracking experiment (:func:`metricflow.experiments.network.tracking_experiment`):
the saved trajectory and the figures (λ(t), discrepancies against the reference flows,
the change of the empirical metric-NTK)."""

from __future__ import annotations

import json
from pathlib import Path


def save_network_flow(result, outdir, title: str | None = None) -> list[str]:
    """Write a :class:`~metricflow.flows.network.NetworkFlowResult` into ``outdir``:
    ``history.json``, ``trajectory.npz`` and the PNG plots (atomically,
    :mod:`metricflow.io`); returns the file names."""
    from metricflow.io import save_npz_atomic, write_json_atomic

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    arrays = {"times": result.times, "metrics": result.metrics, "meta": json.dumps(result.meta)}
    arrays.update({f"reference_{k}": v for k, v in result.references.items()})
    if result.kernels is not None:
        arrays.update(kernels=result.kernels, kernel_points=result.kernel_points, block_spectra=result.block_spectra)
    save_npz_atomic(out / "trajectory.npz", **arrays)
    title = title or network_title(result.meta)
    files = ["history.json", "trajectory.npz"] + [p.name for p in plot_network_flow(result.history, out, title)]
    write_json_atomic(out / "history.json", {**result.meta, "history": result.history, "files": files})
    return files


def network_title(meta: dict) -> str:
    """The plots' title: architecture, width, σ or depth, torus, η and grid."""
    extra = f"σ={meta['sigma']}" if meta["arch"] == "cosnet" else f"depth {meta['depth']}"
    return (f"{meta['arch']} (width {meta['width']}, {extra}) on {meta['manifold']}, "
            f"η={meta['lr']}, n={meta['n']}")


def plot_network_flow(history: list[dict], outdir, title: str) -> list[Path]:
    """λ(t) of the network and the reference flows, the discrepancies against t and (relu)
    the relative change of the empirical metric-NTK against t."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from metricflow.io import save_figure_atomic

    out = Path(outdir)
    t = [h["t"] for h in history]
    refs = [k[2:] for k in history[0] if k.startswith("F_")]

    def panel(name, xlabel, ylabel, draw, legend=True):
        fig, ax = plt.subplots(figsize=(5.2, 3.6), dpi=120)
        draw(ax)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if legend:
            ax.legend(fontsize=8)
        ax.set_title(title, fontsize=8)
        fig.tight_layout()
        return save_figure_atomic(fig, out / name)

    def draw_lambda(ax):
        ax.plot(t, [h["F"] for h in history], "o-", ms=3, label="network (GD)")
        for r in refs:
            ax.plot(t, [h[f"F_{r}"] for h in history], "--", label=f"{r} flow")

    def draw_discrepancy(ax):
        for r in refs:
            ax.semilogy(t[1:], [max(h[f"discrepancy_{r}"], 1e-300) for h in history[1:]], "o-", ms=3,
                        label=f"vs {r}")

    paths = [panel("lambda.png", "t = η · step", "λ = min F", draw_lambda)]
    if refs:
        paths.append(panel("discrepancy.png", "t", "‖g_NN − g_ref‖ / ‖g_ref − g0‖", draw_discrepancy))
    if "kernel_change" in history[0]:
        paths.append(panel("kernel_change.png", "t", "‖Θ_t − Θ_0‖ / ‖Θ_0‖ (metric-NTK)",
                           lambda ax: ax.plot(t, [h["kernel_change"] for h in history], "o-", ms=3),
                           legend=False))
    return paths


def plot_experiment(exp: dict, outdir) -> list[Path]:
    """'Beyond the paper' plots of :func:`tracking_experiment`: discrepancy against t per
    (width, σ) with the σ² floor, λ(t) of networks and flows, and the ReLU kernel change."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from metricflow.io import save_figure_atomic

    out = Path(outdir)
    d = exp["dim"]
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), dpi=120)
    for r in exp["rows"]:
        line, = axes[0].semilogy(r["t"], r["discrepancy_perelman"], "o-", ms=3,
                                 label=f"N={r['width']:.0e}, σ={r['sigma']}")
        axes[0].semilogy(r["t"], r["sigma_error"], ":", color=line.get_color())
        axes[1].plot([0.0] + r["t"], r["lambda"], "o-", ms=3, color=line.get_color(), label=line.get_label())
    first = exp["rows"][0]
    axes[0].semilogy(first["t"], first["rescaling_error"], "k--", label="frozen rescaling (local vs Perelman)")
    axes[0].set_xlabel("t")
    axes[0].set_ylabel("relative discrepancy vs Perelman")
    axes[0].set_title("solid: network; dotted: σ² floor (kernel vs local)", fontsize=8)
    axes[0].legend(fontsize=7)
    axes[1].plot([0.0] + first["t"], first["lambda_perelman"], "k--", label="Perelman flow")
    axes[1].set_xlabel("t")
    axes[1].set_ylabel("λ")
    axes[1].legend(fontsize=7)
    for r in exp["relu"]:   # the change is 0 at t = 0: plotted from the first record on
        axes[2].plot(r["t"][1:], r["kernel_change"][1:], "o-", ms=3, label=f"ReLU width {r['width']}")
    axes[2].set_xlabel("t")
    axes[2].set_ylabel("‖Θ_t − Θ_0‖ / ‖Θ_0‖")
    axes[2].set_yscale("log")
    axes[2].legend(fontsize=7)
    fig.suptitle(f"Trained networks vs Perelman's flow on T^{d} (non-locality σ, width, feature learning)",
                 fontsize=10)
    fig.tight_layout()
    return [save_figure_atomic(fig, out / f"network_flow_T{d}.png")]
