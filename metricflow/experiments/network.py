"""The finite-network experiment: does a network trained by gradient descent on L = −λ
(:func:`metricflow.flows.network.network_flow`, eqs. 2.1–2.2) track Perelman's flow
(eq. 2.40) on T^d, and how does its empirical metric-NTK (eq. 2.8) move? Returns plain
data; the figure is :func:`metricflow.plotting.network.plot_experiment`
(``benchmarks/network_flow.py`` runs both)."""

from __future__ import annotations

import time

import numpy as np

from metricflow.flows.network import discrepancy, network_flow, reference_flows
from metricflow.manifolds.torus import Torus
from metricflow.models.cosnet import grid_for_sigma


def tracking_experiment(dim: int = 2, *, widths=(1_000, 100_000), sigmas=(0.7, 0.5), lr: float = 2e-3,
                        steps: int = 20, records: int = 4, relu_widths=(64, 256, 1024), relu_n: int | None = None,
                        relu_lr: float = 0.05, relu_steps: int = 10, seed: int = 0, progress=None) -> dict:
    """Does the trained network track Perelman's flow on T^dim, and how does its kernel move?

    Cos-nets (``widths`` × ``sigmas``) on the smooth metric of the realization check, on
    the grid resolving the smallest σ: per row the discrepancy against Perelman's flow
    along the trajectory, split into the width error (vs the kernel flow at that σ), the
    σ² error (kernel vs local flow) and the frozen-rescaling error (local vs Perelman).
    ReLU networks (``relu_widths``, depth 1, on the bumpy metric of an ``relu_n`` grid): the
    relative change of the empirical metric-NTK and the distance to the frozen-kernel
    flow; fitted log–log slopes against the width."""
    from metricflow.flows.realization import smooth_metric
    from metricflow.flows.torus import initial_metric

    def tick(msg):
        if progress:
            progress(msg)

    T = Torus(dim, grid_for_sigma(min(sigmas)))
    g0 = smooth_metric(T, seed=seed)[0]
    t0 = time.perf_counter()
    base = reference_flows(T, g0, sigma=min(sigmas), lr=lr, steps=steps, records=records,
                           which=("perelman", "local"))
    ref_s = time.perf_counter() - t0
    per = base["perelman"]["metrics"]
    rescaling = [discrepancy(T, a, b, g0)[0] for a, b in zip(base["local"]["metrics"][1:], per[1:], strict=True)]
    tick(f"T^{dim}: Perelman and local references ({ref_s:.0f} s)")
    rows = []
    for sigma in sigmas:
        kern = reference_flows(T, g0, sigma=sigma, lr=lr, steps=steps, records=records, which=("kernel",))
        sig_err = [discrepancy(T, a, b, g0)[0] for a, b in zip(kern["kernel"]["metrics"][1:], per[1:], strict=True)]
        refs = {"perelman": base["perelman"], "kernel": kern["kernel"]}
        for width in widths:
            t1 = time.perf_counter()
            r = network_flow(T, g0, arch="cosnet", width=width, sigma=sigma, lr=lr, steps=steps, records=records,
                             seed=seed, references=refs)
            rows.append({"arch": "cosnet", "width": int(width), "sigma": sigma,
                         "t": [h["t"] for h in r.history[1:]],
                         "discrepancy_perelman": [h["discrepancy_perelman"] for h in r.history[1:]],
                         "discrepancy_perelman_abs": [h["discrepancy_perelman_abs"] for h in r.history[1:]],
                         "width_error": [h["discrepancy_kernel"] for h in r.history[1:]],
                         "sigma_error": sig_err, "rescaling_error": rescaling,
                         "lambda": [h["F"] for h in r.history], "lambda_perelman": [h["F_perelman"] for h in r.history],
                         "lambda_kernel": [h["F_kernel"] for h in r.history],
                         "seconds": time.perf_counter() - t1})
            tick(f"T^{dim}: cosnet width {width}, σ {sigma}")
    relu_rows = []
    Tr = Torus(dim, relu_n or (16 if dim == 2 else 8))
    gr = initial_metric(Tr, "bumpy", seed=seed)
    for width in relu_widths:
        t1 = time.perf_counter()
        r = network_flow(Tr, gr, arch="relu", width=width, depth=1, lr=relu_lr, steps=relu_steps, records=2,
                         seed=seed, kernel_points=32, references=("kernel",))
        relu_rows.append({"arch": "relu", "width": int(width), "n": Tr.n, "t": [h["t"] for h in r.history],
                          "kernel_change": [h["kernel_change"] for h in r.history],
                          "kernel_spectrum_shift": [h["kernel_spectrum_shift"] for h in r.history],
                          "discrepancy_kernel": [h["discrepancy_kernel"] for h in r.history],
                          "lambda": [h["F"] for h in r.history], "lambda_kernel": [h["F_kernel"] for h in r.history],
                          "seconds": time.perf_counter() - t1})
        tick(f"T^{dim}: relu width {width}")
    out = {"dim": dim, "n": T.n, "lr": lr, "steps": steps, "T": lr * steps, "references_s": ref_s,
           "rows": rows, "relu": relu_rows}
    if len(relu_rows) > 1:
        w = np.log([r["width"] for r in relu_rows])
        out["relu_kernel_change_slope"] = float(np.polyfit(w, np.log([r["kernel_change"][-1] for r in relu_rows]),
                                                           1)[0])
        out["relu_kernel_distance_slope"] = float(np.polyfit(
            w, np.log([r["discrepancy_kernel"][-1] for r in relu_rows]), 1)[0])
    return out
