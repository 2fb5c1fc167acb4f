"""Kernel metric flows on the quintic (section 3.2, Table 1, Figure 3): the metric values at
the training points descend the σ-measure (B.11) through a frozen kernel, and the metric at
test points is predicted through the same kernel.

One step (Euler, the paper's plain gradient descent, eq. 2.8, first line):

    V = the velocity at the training points   (JAX autodiff, float64)
    g_i ← g_i + lr · Σ_j Θ(x_i, x_j) ω_j V_j^{(i)}                  (kernel_sum; Delta: lr ω_i V_i)

with V the engine's velocity, the FS-natural gradient g_FS (−δσ/δg) g_FS (``sigma_velocity``),
carried between points as in :mod:`metricflow.kernels.pointcloud`; in the paper's one chart
the plain gradient −δσ/δg (``sigma_gradient``), components summed as they are.

Normalisation of the updates (section 3.2: "if the distance d is larger than σ, the updates
are tiny. For this reason, we include the possibility of normalizing the updates such that
they are sizable at least at some points"). With m(x) = Σ_j Θ(x, x_j) ω_j the kernel's mass
at x (the update of a uniform velocity is ≈ m V), ``normalise``:

* ``none`` — the paper's plain update (default);
* ``max`` — Θ / max_i m(x_i) over the training points: the update is sizable (≈ V, the
  local update's size per unit lr) where the kernel has the most mass, and the kernel stays
  one PSD kernel (a constant factor: still a descent direction, predictions still linear in G);
* ``rows`` — Θ(x, ·) / m(x) at every target, training and test (Nadaraya–Watson): sizable
  everywhere; the normalised kernel is no longer symmetric, so descent is no longer
  guaranteed.

The paper does not say which it used; ``max`` is the reading of "at least at some points".

Learning rate vs the engine's dt. The engine's velocity is the functional derivative,
V = −(∂σ/∂g)/ω with ω = Vol_FS/N, and its kernels are normalised against dVol_FS. The
paper's update, lr Σ_j Θ_ij (−∂σ/∂g_j), is therefore the engine's Euler step with:
Delta / local (Θ = δ_ij): dt = lr · Vol_FS / N (Vol_FS = 5π³/6 ≈ 25.8 for the quintic: the
paper's 0.3162 at N = 1000 is dt ≈ 0.0082); the engine's ``gaussian:S`` (Θ_engine =
(2πS²)^{−k} e^{−d²/(2S²)}): dt = lr (2πS²)^k for the paper's unnormalised Gaussian form.
Here the paper's lr is used as it is, with the unnormalised kernels of
:mod:`metricflow.kernels.cloud_sums`.

Test prediction. The kernel is frozen, so the accumulated update is linear in the
accumulated velocities G = Σ_steps lr V: g(x) = g_FS(x) + Σ_j Θ(x, x_j) ω_j G_j^{(x)} at any
point (on the training points this is the trained metric itself). Delta predicts the
nearest training point's accumulated update (:meth:`Nearest.extend
<metricflow.kernels.nearest.Nearest.extend>`).

Positive-definiteness: after every step the training metric is checked (its smallest
eigenvalue at every point); a non-PD step is reported with the step and the point, and then
``on_nonpd="stop"`` stops with the last good metric, ``"clip"`` halves that step until it
is PD (a step-length clip, which keeps the prediction linear in G).
"""

from __future__ import annotations

import time

import numpy as np

from metricflow.errors import InvalidInputError

#: Table 1 of the paper: training points, learning rate and kernel hyperparameters
TABLE1 = {
    "relu": {"n_train": 2500, "lr": 0.1, "w_std": 5.716, "b_std": 80.52},
    "gaussian": {"n_train": 2500, "lr": 0.1583, "sigma": 30.0},
    "delta": {"n_train": 1000, "lr": 0.3162},
}
MODES = ("full", "clustered")
TESTS = ("sample", "noise", "exact")
ON_NONPD = ("stop", "clip")
NORMALISE = ("none", "max", "rows")
CHARTS = ("transport", "one")
#: the chart of the paper's one-chart runs: patch z_0 = 1, z_1 eliminated
ONE_CHART = (0, 1)
#: the paper's cluster size (~5,000 points, section 3.1) and mini-batch size (M = 10,000;
#: capped here at 4,000 so that a mini-batch's distance matrix stays under 128 MiB)
CLUSTER_SIZE = 5000
BATCH_SIZE = 4000
#: halvings of a non-PD step before ``clip`` gives up (2^-30 lr: the step is then negligible)
MAX_HALVINGS = 30


def _choice(value, options, name):
    if value not in options:
        raise InvalidInputError(name, f"expected one of {', '.join(options)}, got {value!r}")
    return value


def sample_points(poly, n: int, seed: int, charts: str):
    """Shiffman–Zelditch points, all in the chart (0, 1) for the paper's ``charts="one"``
    (rejection sampling, section 3.1), else each in its best chart."""
    from metricflow import cy

    if charts == "one":
        return cy.sample_in_chart(poly, n, seed=seed, chart=ONE_CHART)
    return cy.sample(poly, n=n, seed=seed)


def make_test_points(cloud, n_test: int, test: str, distance, seed: int, charts: str = "transport"):
    """The test PointSet: fresh samples, the paper's noised training points, or exact ones."""
    from metricflow.experiments.cy_test_points import displaced_points, noisy_points

    ps = cloud.pointset
    chart = ONE_CHART if charts == "one" else None
    if test == "sample":
        return sample_points(cloud.surface, n_test, seed + 1_000_003, charts)
    base = ps.subset(np.arange(min(n_test, len(ps))))
    if distance is None:
        raise InvalidInputError("test-distance", f"--test {test} needs --test-distance")
    if test == "noise":
        return noisy_points(base, distance, seed=seed + 1, chart=chart)
    return displaced_points(base, distance, seed=seed + 1, chart=chart)


class KernelFlow:
    """The training state and the frozen kernel of one run (module docstring)."""

    def __init__(self, cloud, kernel, lr: float, mode: str = "full", cluster_size: int = CLUSTER_SIZE,
                 charts: str = "transport", normalise: str = "none"):
        from metricflow import cy
        from metricflow.flows.pointcloud import sigma_measure
        from metricflow.kernels.cloud_sums import FrameCache

        self.cloud, self.kernel, self.lr, self.mode, self.charts = cloud, kernel, float(lr), mode, charts
        self.normalise = _choice(normalise, NORMALISE, "normalise")
        self.frames = FrameCache(cloud)
        self.measure = sigma_measure(cloud)
        self.labels = None
        if mode == "clustered" and kernel.kind != "delta":
            C = max(1, round(cloud.npoints / cluster_size))
            self.labels = (np.zeros(cloud.npoints, dtype=np.int64) if C == 1 else
                           cy.batched_clustering(cloud.points, min(BATCH_SIZE, cloud.npoints), C))
        self._velocity = None
        self._max_mass = None

    def velocity(self, g):
        """The FS-natural gradient (frames), or the plain gradient (the paper's one chart), in float64."""
        from metricflow._x64 import x64

        with x64():
            if self._velocity is None:
                import jax

                from metricflow.flows.pointcloud import sigma_gradient, sigma_velocity

                self._velocity = jax.jit((sigma_gradient if self.charts == "one" else sigma_velocity)(self.cloud))
            return np.asarray(self._velocity(g))

    def mass(self, targets, target_labels=None):
        """Σ_j Θ(t, x_j) ω_j at the PointSet ``targets`` (Delta: ω of the nearest point, i.e. ω)."""
        from metricflow.kernels.cloud_sums import kernel_mass

        if self.kernel.kind == "delta":
            return np.full(len(targets), self.cloud.weights[0])
        return kernel_mass(self.kernel, self.cloud, targets, frames=self.frames, source_labels=self.labels,
                           target_labels=target_labels, charts=self.charts)

    def apply(self, values, targets, target_labels=None):
        """Σ_j Θ(t, x_j) ω_j values_j at the PointSet ``targets`` (Delta: the nearest point's ω values),
        normalised as chosen (module docstring)."""
        out = self._sum(values, targets, target_labels)
        if self.normalise == "max":
            if self._max_mass is None:
                self._max_mass = float(np.max(self.mass(self.cloud.pointset, self.labels)))
            return out / self._max_mass
        if self.normalise == "rows":
            return out / self.mass(targets, target_labels)[:, None, None]
        return out

    def _sum(self, values, targets, target_labels):
        from metricflow.kernels.cloud_sums import kernel_sum

        if self.kernel.kind == "delta":
            from metricflow.kernels.nearest import Nearest
            from metricflow.kernels.pointcloud import nearest_indices

            scaled = self.cloud.weights[:, None, None] * values
            if self.charts == "one":            # the paper's: the nearest point's components as they are
                return scaled[nearest_indices(self.cloud, targets)]
            return Nearest().extend(self.cloud, scaled, targets)
        return kernel_sum(self.kernel, self.cloud, values, targets, frames=self.frames,
                          source_labels=self.labels, target_labels=target_labels, charts=self.charts)

    def train_update(self, V):
        if self.kernel.kind == "delta" and self.normalise == "none":
            return self.cloud.weights[:, None, None] * V
        return self.apply(V, self.cloud.pointset, self.labels)

    def test_labels(self, targets):
        if self.labels is None:
            return None
        from metricflow.kernels.pointcloud import nearest_indices

        return self.labels[nearest_indices(self.cloud, targets)]


def _sigma(measure, g):
    return float(measure(g)[0])


def run_kernel_flow(kernel: str = "gaussian", *, n_train: int | None = None, n_test: int = 1000, steps: int = 50,
                    seed: int = 0, lr: float | None = None, sigma: float | None = None, form: str = "printed",
                    mode: str = "full", test: str = "sample", test_distance: float | None = None,
                    on_nonpd: str = "stop", record_every: int = 1, cluster_size: int = CLUSTER_SIZE,
                    charts: str = "transport", poly: str = "fermat-quintic", progress=None,
                    evaluate=(), w_std: float | None = None, b_std: float | None = None,
                    normalise: str = "none", precision: str = "float64") -> dict:
    """One kernel flow (module docstring); returns the gains, σ curves and events (JSON-able).

    ``evaluate``: further test sets ``(test, distance)`` (as ``test``/``test_distance``) on which the
    trained kernel is evaluated at the end, reported under ``evaluations`` (Figure 3). ``precision``:
    the Gaussian in d's blocks in float32 (:func:`metricflow.kernels.cloud_sums.float32_weight_error`)."""
    from metricflow.experiments.cy_test_points import mean_nearest_distance
    from metricflow.flows.pointcloud import sigma_measure
    from metricflow.kernels.cloud_sums import CloudKernel
    from metricflow.manifolds import PointCloud

    _choice(kernel, tuple(TABLE1), "kernel")
    _choice(mode, MODES, "mode")
    _choice(test, TESTS, "test")
    _choice(on_nonpd, ON_NONPD, "on_nonpd")
    _choice(charts, CHARTS, "charts")
    _choice(normalise, NORMALISE, "normalise")
    hp = TABLE1[kernel]
    n_train = hp["n_train"] if n_train is None else n_train
    lr = hp["lr"] if lr is None else lr
    ker = CloudKernel(kernel, sigma=hp.get("sigma", 30.0) if sigma is None else sigma, form=form,
                      w_std=hp.get("w_std", 5.716) if w_std is None else w_std,
                      b_std=hp.get("b_std", 80.52) if b_std is None else b_std, precision=precision)
    t0 = time.perf_counter()
    cloud = PointCloud(sample_points(poly, n_train, seed, charts))
    test_ps = make_test_points(cloud, n_test, test, test_distance, seed, charts)
    flow = KernelFlow(cloud, ker, lr, mode, cluster_size, charts, normalise)
    test_measure = sigma_measure(PointCloud(test_ps))
    test_labels = flow.test_labels(test_ps)
    g0_test = np.array(test_ps.g_fs)

    g = np.array(cloud.reference_metric(), dtype=np.complex128)
    G = np.zeros_like(g)
    curve = {"step": [0], "sigma_train": [_sigma(flow.measure, g)], "sigma_test": [_sigma(test_measure, g0_test)]}
    events = []
    done = 0
    for step in range(1, steps + 1):
        V = flow.velocity(g)
        U = lr * flow.train_update(V)
        scale = 1.0
        for _ in range(MAX_HALVINGS + 1):
            eig = np.linalg.eigvalsh(g + scale * U)[:, 0]
            if np.min(eig) > 0:
                break
            if not events or events[-1]["step"] != step:
                events.append({"step": step, "point": int(np.argmin(eig)), "min_eigenvalue": float(np.min(eig)),
                               "action": on_nonpd})
            if on_nonpd == "stop":
                break
            scale *= 0.5
        if np.min(eig) <= 0:
            break
        if scale < 1.0:
            events[-1]["step_scale"] = scale
        g = g + scale * U
        G = G + scale * lr * V
        done = step
        if step % record_every == 0 or step == steps:
            curve["step"].append(step)
            curve["sigma_train"].append(_sigma(flow.measure, g))
            curve["sigma_test"].append(_sigma(test_measure, g0_test + flow.apply(G, test_ps, test_labels)))
            if progress:
                progress(step, curve)
    if curve["step"][-1] != done:
        curve["step"].append(done)
        curve["sigma_train"].append(_sigma(flow.measure, g))
        curve["sigma_test"].append(_sigma(test_measure, g0_test + flow.apply(G, test_ps, test_labels)))
    g_test = g0_test + flow.apply(G, test_ps, test_labels)
    test_nonpd = int(np.sum(np.linalg.eigvalsh(g_test)[:, 0] <= 0))
    evaluations = [evaluate_test_set(flow, G, n_test, kind, dist, seed, charts) for kind, dist in evaluate]
    s = curve
    return {
        "kernel": kernel, "form": form if kernel == "gaussian" else None, "mode": mode, "charts": charts, "lr": lr,
        "normalise": normalise, "precision": precision,
        "sigma": ker.sigma if kernel == "gaussian" else None,
        "w_std": ker.w_std if kernel == "relu" else None, "b_std": ker.b_std if kernel == "relu" else None,
        "n_train": n_train, "n_test": len(test_ps), "steps": steps, "steps_done": done, "seed": seed,
        "test": test, "test_distance": test_distance,
        "mean_test_train_distance": mean_nearest_distance(test_ps, cloud.pointset),
        "max_test_residual": float(np.max(test_ps.residual)),
        "n_clusters": None if flow.labels is None else int(np.max(flow.labels) + 1),
        "sigma_train_initial": s["sigma_train"][0], "sigma_train_final": s["sigma_train"][-1],
        "sigma_test_initial": s["sigma_test"][0], "sigma_test_final": s["sigma_test"][-1],
        "train_gain": s["sigma_train"][0] / s["sigma_train"][-1],
        "test_gain": s["sigma_test"][0] / s["sigma_test"][-1],
        "nonpd_events": events, "test_points_not_pd": test_nonpd, "curve": curve, "evaluations": evaluations,
        "seconds": time.perf_counter() - t0,
    }


def evaluate_test_set(flow: KernelFlow, G, n_test: int, test: str, distance, seed: int, charts: str) -> dict:
    """σ gain of the trained kernel (accumulated velocities G) on one more test set."""
    from metricflow.experiments.cy_test_points import mean_nearest_distance
    from metricflow.flows.pointcloud import sigma_measure
    from metricflow.manifolds import PointCloud

    ps = make_test_points(flow.cloud, n_test, test, distance, seed, charts)
    measure = sigma_measure(PointCloud(ps))
    g0 = np.array(ps.g_fs)
    s0 = _sigma(measure, g0)
    s1 = _sigma(measure, g0 + flow.apply(G, ps, flow.test_labels(ps)))
    return {"test": test, "test_distance": distance, "n_test": len(ps),
            "mean_test_train_distance": mean_nearest_distance(ps, flow.cloud.pointset),
            "max_test_residual": float(np.max(ps.residual)),
            "sigma_test_initial": s0, "sigma_test_final": s1, "test_gain": s0 / s1}
