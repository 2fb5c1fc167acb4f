"""The evolution of the empirical metric-NTK during training (journal version, Figure 4):
feature learning measured, not argued.

After every epoch of :func:`metricflow.experiments.cy_networks.run_training` (the
journal's setting: cymetric's multiplicative model, 3 × 128 gelu, 50 epochs), the
empirical metric-NTK (eq. 2.7 over the d^2 = 9 real components of a hermitian 3 × 3
metric, :func:`metricflow.kernels.metric.empirical_metric_ntk`) is taken on 10 fixed
training points and 10 fixed test points together (9 × 9 × 20 × 20). Recorded per epoch:

* the journal's kernel Θ_IJ(x, x') between the 10 training points x and the 10 test
  points x' (9 × 9 × 10 × 10), the eigenvalues of each 10 × 10 block
  (:func:`~metricflow.kernels.metric.block_spectra`; real parts, the blocks being
  non-symmetric), combined over (I, J) into one spectrum of 810 values;
* ``wasserstein``: the 1-Wasserstein distance of that spectrum to the epoch-0 one
  (scipy.stats.wasserstein_distance; 0 at epoch 0);
* ``alignment`` <K_t, K_0>_F / (|K_t|_F |K_0|_F) and ``frobenius_change``
  |K_t - K_0|_F / |K_0|_F of the whole 180 × 180 Gram matrix of the 20 points.

The lazy twin (``lazy_twin=True``) is the same network linearised in its parameters at
the same initialisation (:func:`metricflow.cy.networks.linearised`: a frozen kernel by
construction, so its ``wasserstein`` and ``frobenius_change`` stay 0 to round-off),
trained with the same optimiser on the same data.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

N_FIXED = 10


def kernel_statistics(trainer, n_fixed: int = N_FIXED):
    """``extra(state) -> (values, arrays)`` for :func:`run_training` (module docstring), with
    the epoch-0 kernel computed from the trainer's initial state (so a resume agrees)."""
    import jax.numpy as jnp
    import scipy.stats

    from metricflow.cy.losses import prepare
    from metricflow.cy.networks import packed_metric, packed_point
    from metricflow.kernels.metric import block_spectra, empirical_metric_ntk

    pts = []
    for ps in (trainer.train_ps, trainer.test_ps):
        d = prepare(ps.subset(slice(0, n_fixed)), transition=False)
        pts += [np.asarray(packed_point(jnp.asarray(z), jnp.asarray(j))) for z, j in zip(d["z"], d["jac"],
                                                                                       strict=True)]
    x = np.stack(pts)
    g_fn = packed_metric(trainer.arch)

    def kernel(params):
        theta = np.asarray(empirical_metric_ntk(g_fn, params, x, kind="hermitian"))
        cross = theta[:, :, :n_fixed, n_fixed:]
        spec = np.real(block_spectra(cross, symmetric=False)).ravel()
        nI = theta.shape[0]
        gram = theta.transpose(0, 2, 1, 3).reshape(nI * len(x), nI * len(x))
        return spec, gram

    spec0, gram0 = kernel(trainer.state0["params"])
    norm0 = np.linalg.norm(gram0)

    def extra(state):
        spec, gram = kernel(state["params"])
        values = {"wasserstein": float(scipy.stats.wasserstein_distance(spec, spec0)),
                  "alignment": float(np.sum(gram * gram0) / (np.linalg.norm(gram) * norm0)),
                  "frobenius_change": float(np.linalg.norm(gram - gram0) / norm0)}
        return values, {"spectrum": spec}

    return extra


def feature_learning(cfg, lazy_twin: bool = False, callback=None, keep_test_metric: bool = False) -> dict:
    """Train ``cfg`` (a :class:`~metricflow.experiments.cy_networks.TrainConfig`) with the
    kernel statistics every epoch, and with ``lazy_twin`` its linearised twin from the
    same initialisation on the same data. Returns per-epoch lists and the spectra (and
    with ``keep_test_metric`` the final and initial metrics on the test points, ``g_test``
    and ``g_test_initial``)."""
    from metricflow._x64 import x64
    from metricflow.experiments.cy_networks import Trainer, run_training

    runs = {}
    for name, linear in [("network", False)] + ([("lazy_twin", True)] if lazy_twin else []):
        with x64():
            tr = Trainer(replace(cfg, linear=linear))
            extra = kernel_statistics(tr)
        res = run_training(tr.cfg, trainer=tr, extra=extra,
                           callback=(lambda row, n=name: callback(n, row)) if callback else None)
        h = res["history"]
        runs[name] = {key: [row[key] for row in h] for key in ("sigma_train", "sigma_test", "loss", "wasserstein",
                                                                "alignment", "frobenius_change")}
        runs[name]["spectra"] = res["arrays"]["spectrum"]
        runs[name]["seconds_per_epoch"] = res["seconds_per_epoch"]
        if keep_test_metric:
            with x64():
                runs[name]["g_test"] = tr.values(res["state"]["params"], "test")
                runs[name]["g_test_initial"] = tr.values(tr.state0["params"], "test")
    return runs


def width_scan(cfg, widths, callback=None) -> list[dict]:
    """:func:`feature_learning` with its lazy twin at hidden layers (w, ..., w) for each
    width w (the depth of ``cfg.hidden``): the final kernel change of the network and the
    gap of σ_test between the network and its twin, and ``metric_gap`` the RMS over the test
    points of |g_twin − g_network|_F / |g_network|_F (the twins' distance as functions,
    not through σ), ``metric_gap_over_change`` that distance over the network's own change
    |g_network − g_initial| on the test points (the share of the learned change that the
    linearisation misses). As the width grows the kernel change should shrink and the twins
    approach each other (the lazy regime)."""
    rows = []
    for w in widths:
        runs = feature_learning(replace(cfg, hidden=(int(w),) * len(cfg.hidden)), lazy_twin=True, callback=callback,
                                keep_test_metric=True)
        net, twin = runs["network"], runs["lazy_twin"]
        g, gap = net["g_test"], twin["g_test"] - net["g_test"]
        diff = np.linalg.norm(gap, axis=(1, 2)) / np.linalg.norm(g, axis=(1, 2))
        moved = np.linalg.norm(g - net["g_test_initial"])
        rows.append({"width": int(w), "frobenius_change": net["frobenius_change"][-1],
                     "wasserstein": net["wasserstein"][-1], "alignment": net["alignment"][-1],
                     "sigma_test": net["sigma_test"][-1], "sigma_test_lazy_twin": twin["sigma_test"][-1],
                     "twin_gap": twin["sigma_test"][-1] - net["sigma_test"][-1],
                     "sigma_test_initial": net["sigma_test"][0], "frobenius_per_epoch": net["frobenius_change"],
                     "metric_gap": float(np.sqrt(np.mean(diff**2))),
                     "metric_gap_over_change": float(np.linalg.norm(gap) / moved) if moved > 0 else None})
    return rows


def width_exponents(rows) -> dict:
    """The exponents p of least-squares fits log y = p log w + c against the width of a
    :func:`width_scan`'s final Frobenius change, Wasserstein distance, |twin gap| and metric gap (None
    where a value is 0). The NTK theory in the NTK parameterisation with a width-independent
    gradient-descent step bounds the kernel change by O(1/√w) (Lee et al. 2019: p ≤ −1/2);
    its rate is O(1/w) at leading order (Dyer & Gur-Ari 2019, Huang & Yau 2019: p ≈ −1); the
    network's distance to its linearisation is O(1/√w) (Lee et al. 2019)."""
    w = np.log(np.array([r["width"] for r in rows], float))
    out = {}
    for key in ("frobenius_change", "wasserstein", "twin_gap", "metric_gap"):
        y = np.abs(np.array([r[key] for r in rows], float))
        out[key] = float(np.polyfit(w, np.log(y), 1)[0]) if len(rows) > 1 and np.all(y > 0) else None
    return out


__all__ = ["N_FIXED", "feature_learning", "kernel_statistics", "width_exponents", "width_scan"]
