"""The figure of the Perelman realization check (:func:`metricflow.flows.realization.perelman_check`):
the relative error of the cos-net velocity against the width N and against σ."""

from __future__ import annotations

from pathlib import Path


def plot_perelman_check(doc: dict, path) -> Path:
    """Log–log panels of ``doc`` (the check's result): the error against the width (vs
    the infinite-width velocity and vs Perelman) and against σ; written atomically."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from metricflow.io import save_figure_atomic

    fig, axes = plt.subplots(1, 2, figsize=(8, 3.3), dpi=120)
    wr = [r for r in doc["rows"] if r["sweep"] == "width"]
    sr = [r for r in doc["rows"] if r["sweep"] != "width"]
    axes[0].loglog([r["width"] for r in wr], [r["rel_error_vs_infinite_width"] for r in wr], "o-",
                   label=f"vs infinite width (slope {doc['width_slope']:.2f})")
    axes[0].loglog([r["width"] for r in wr], [r["rel_error"] for r in wr], "s--", label="vs Perelman")
    axes[0].set_xlabel("width N")
    axes[0].set_ylabel("relative L² error")
    axes[0].set_title(f"σ = {wr[0]['sigma']}", fontsize=9)
    axes[0].legend(fontsize=7)
    axes[1].loglog([r["sigma"] for r in sr], [r["rel_error_infinite_width"] for r in sr], "o-",
                   label=f"infinite width (slope {doc['sigma_slope']:.2f})")
    axes[1].loglog([r["sigma"] for r in sr], [r["rel_error"] for r in sr], "s--", label="finite width")
    axes[1].set_xlabel("σ")
    axes[1].minorticks_off()
    axes[1].set_xticks([r["sigma"] for r in sr], [f"{r['sigma']:g}" for r in sr])
    axes[1].legend(fontsize=7)
    fig.suptitle("cos-net velocity vs Perelman's flow (2.40)", fontsize=10)
    fig.tight_layout()
    return save_figure_atomic(fig, Path(path))
