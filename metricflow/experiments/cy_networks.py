"""Training the Calabi–Yau metric networks (issue 15): Adam (optax) on minibatches of
points with a validation set, through the one parameter-space training loop
(:func:`metricflow.flows.training.train`: records, monitors, a checkpoint every epoch
with exact resume).

The trained state is the pytree ``{"params", "opt", "epoch", "loss"}``; an epoch is one
jitted pass over a permutation of the training points drawn from
``fold_in(PRNGKey(seed), epoch)``, so a resumed run repeats the uninterrupted one bit for
bit. Records (epoch 0 and after every epoch): σ (B.11, :func:`metricflow.cy.sigma`) of
the network's metric on all training and all test points, the mean training loss of the
epoch, and on the first ``n_diagnostic`` test points the Kähler and transition measures
of :mod:`metricflow.cy.losses`. Training and test points are independent samples
(seeds spawned from ``seed`` by ``numpy.random.SeedSequence``). On several devices each
batch is split over them (:func:`batch_sharding`, ``jax.sharding``): the same code runs
data-parallel on a multi-GPU machine.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from metricflow.errors import InvalidInputError, NumericalError

CHECKPOINT = "checkpoint.npz"


@dataclass(frozen=True)
class TrainConfig:
    """Everything that determines a training run (all of it goes into the checkpoint's settings)."""

    model: str = "mult"
    hidden: tuple = (64, 64, 64)
    activation: str = "gelu"
    epochs: int = 10
    n_points: int = 10_000
    n_test: int | None = None
    seed: int = 0
    batch_size: int = 1000
    lr: float = 1e-3
    poly: str = "fermat-quintic"
    weights: dict = field(default_factory=dict)
    out_scale: float = 0.1
    precision: str = "float64"
    n_diagnostic: int = 500
    linear: bool = False  # the lazy twin: the network linearised in its parameters at initialisation

    def checked(self) -> TrainConfig:
        """The config with defaults filled in; InvalidInputError naming the first bad field."""
        from metricflow.cy.losses import check_weights
        from metricflow.cy.networks import Architecture

        def count(name, value, low, high):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
                raise InvalidInputError(name, f"need an integer in [{low}, {high}], got {value!r}")
            return int(value)

        Architecture(self.model, tuple(self.hidden), self.activation, 5, self.out_scale, self.precision)  # validates
        count("epochs", self.epochs, 1, 100_000)
        count("n_points", self.n_points, 100, 5_000_000)
        n_test = count("n_test", self.n_test, 100, 5_000_000) if self.n_test is not None \
            else max(100, min(self.n_points // 10, 100_000))
        count("seed", self.seed, 0, 2**32 - 1)
        count("batch_size", self.batch_size, 1, 1_000_000)
        count("n_diagnostic", self.n_diagnostic, 1, 100_000)
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or not (math.isfinite(self.lr)
                                                                                      and 0 < self.lr <= 1):
            raise InvalidInputError("lr", f"need a learning rate in (0, 1], got {self.lr!r}")
        weights = check_weights(self.weights)
        return TrainConfig(**{**asdict(self), "hidden": tuple(int(w) for w in self.hidden), "n_test": n_test,
                              "weights": weights})


def batch_sharding(batch_size: int):
    """Data parallelism over ``jax.devices()``: a function that constrains a batch's arrays to
    be split along the points over a one-axis mesh (GSPMD then all-reduces the gradients);
    the identity on one device or when the batch does not split evenly."""
    import jax

    devices = jax.devices()
    if len(devices) < 2 or batch_size % len(devices):
        return lambda batch: batch
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    spec = NamedSharding(Mesh(np.array(devices), ("points",)), PartitionSpec("points"))
    return lambda batch: {k: jax.lax.with_sharding_constraint(v, spec) for k, v in batch.items()}


def _seeds(seed: int) -> tuple[int, int]:
    a, b = np.random.SeedSequence(int(seed)).spawn(2)
    return int(a.generate_state(1)[0]), int(b.generate_state(1)[0])


class Trainer:
    """A prepared run: points, data on the device, the architecture, the jitted epoch."""

    def __init__(self, cfg: TrainConfig):
        import jax
        import jax.numpy as jnp
        import optax

        from metricflow import cy
        from metricflow.cy import losses as L
        from metricflow.cy import networks as nw
        from metricflow.cy.networks import Architecture, init_params

        self.cfg = cfg = cfg.checked()
        X = cy.hypersurface(cfg.poly)
        self.arch = Architecture(cfg.model, cfg.hidden, cfg.activation, X.n_ambient, cfg.out_scale, cfg.precision)
        s_train, s_test = _seeds(cfg.seed)
        self.train_ps = cy.sample(X, cfg.n_points, seed=s_train)
        self.test_ps = cy.sample(X, cfg.n_test, seed=s_test)
        self.surface = X
        w = cfg.weights
        need = w["transition"] > 0 and not self.arch.chart_independent
        self.data = {k: jnp.asarray(v) for k, v in L.prepare(self.train_ps, transition=need).items()}
        diag = self.test_ps.subset(slice(0, min(cfg.n_diagnostic, cfg.n_test)))
        self.diag = {k: jnp.asarray(v) for k, v in L.prepare(diag).items()}
        E, coeffs = X.exponents, jnp.asarray(X.coefficients)
        self.tx = optax.adam(cfg.lr)
        params = init_params(self.arch, jax.random.PRNGKey(cfg.seed))
        if cfg.linear:
            from metricflow.cy.networks import linearised

            params = linearised(params)
        self.state0 = {"params": params, "opt": self.tx.init(params), "epoch": jnp.zeros((), jnp.int32),
                       "loss": jnp.zeros((), jnp.float64)}
        N = len(self.train_ps)
        bs = min(cfg.batch_size, N)
        nb = N // bs
        arch, tx, key = self.arch, self.tx, jax.random.PRNGKey(cfg.seed)

        shard = batch_sharding(bs)

        def epoch(state, data):
            perm = jax.random.permutation(jax.random.fold_in(key, state["epoch"]), N)[: nb * bs].reshape(nb, bs)

            def step(carry, idx):
                params, opt = carry
                batch = shard({k: v[idx] for k, v in data.items()})
                loss, grads = jax.value_and_grad(lambda p: L.losses(arch, p, batch, E, coeffs, w)["total"])(params)
                updates, opt = tx.update(grads, opt, params)
                return (optax.apply_updates(params, updates), opt), loss

            (params, opt), batch_losses = jax.lax.scan(step, (state["params"], state["opt"]), perm)
            return {"params": params, "opt": opt, "epoch": state["epoch"] + 1, "loss": jnp.mean(batch_losses)}

        self._epoch = jax.jit(epoch)
        self.batch_metric = jax.jit(lambda p, z, j: nw.batch_metric(arch, p, z, j))
        self._diag = jax.jit(lambda p, d: {
            "kahler": jnp.mean(L.kahler_measure(arch, p, E, coeffs, d)),
            "transition": jnp.mean(L.transition_measure(arch, p, d))})
        self.epoch_seconds: list[float] = []

    def metric(self, params):
        from metricflow.cy.networks import NetworkMetric

        if isinstance(params, dict):  # the lazy twin: evaluated by its own (linearised) metric
            return _TwinMetric(self, params)
        return NetworkMetric(self.surface, self.arch, [{k: np.asarray(v) for k, v in layer.items()}
                                                       for layer in params])

    def advance(self, state, k: int):
        for _ in range(k):
            t0 = time.perf_counter()
            state = self._epoch(state, self.data)
            state["loss"].block_until_ready()
            self.epoch_seconds.append(time.perf_counter() - t0)
        return state

    def record(self, state, t, g_test, extra=None):
        from metricflow import cy

        net = self.metric(state["params"])
        tr = cy.sigma(self.train_ps, net)
        te = cy.sigma(self.test_ps, g_test)
        d = {k: float(v) for k, v in self._diag(state["params"], self.diag).items()}
        values = {"sigma_train": tr["sigma"], "sigma_test": te["sigma"], "sigma_test_stderr": te["sigma_stderr"],
                  "loss": float(state["loss"]), "kahler_test": d["kahler"], "transition_test": d["transition"],
                  "volume_test": te["volume"] / self.surface.fs_volume()}
        arrays = {}
        if extra is not None:
            more, arrays = extra(state)
            values.update(more)
        if not all(math.isfinite(v) for v in values.values()):
            raise NumericalError(f"a record is not finite: {values}")
        return state, values, arrays


class _TwinMetric:
    """The lazy twin's metric at a PointSet (blocked, jitted)."""

    def __init__(self, trainer: Trainer, params):
        self.trainer, self.params = trainer, params

    def __call__(self, ps) -> np.ndarray:
        import jax.numpy as jnp

        from metricflow.cy.losses import prepare

        fn = self.trainer.batch_metric
        d = prepare(ps, transition=False)
        return np.concatenate([np.asarray(fn(self.params, jnp.asarray(d["z"][a:a + 4096]),
                                                jnp.asarray(d["jac"][a:a + 4096])))
                               for a in range(0, len(ps), 4096)])


def run_training(cfg: TrainConfig, out: str | Path | None = None, resume: bool = False, callback=None,
                 extra=None, trainer: Trainer | None = None) -> dict:
    """Train (module docstring); with ``out`` write ``checkpoint.npz`` every epoch, and at
    the end ``network.npz`` (loadable by ``cy sigma --metric out``) and ``train.json``.
    ``extra(state) -> (values, arrays)`` adds to every record (the metric-NTK diagnostics
    of Figure 4). Returns the summary with the issue's keys and the history."""
    from metricflow._x64 import x64
    from metricflow.cy.networks import save_network
    from metricflow.flows.training import train
    from metricflow.io import to_jsonable, write_json_atomic

    with x64():
        tr = trainer or Trainer(cfg)
        cfg = tr.cfg
        settings = {**to_jsonable(asdict(cfg)), "format": "metricflow.cy.train/1"}
        ckpt = Path(out) / CHECKPOINT if out is not None else None
        res = train(tr.state0, advance=tr.advance, record=lambda s, t, g: tr.record(s, t, g, extra),
                    metric=lambda s: tr.metric(s["params"])(tr.test_ps), steps=cfg.epochs, record_every=1,
                    dt=1.0, settings=settings, checkpoint=ckpt, resume=resume, callback=callback,
                    label="cy train", hint="reduce --lr")
    h0, h1 = res.history[0], res.history[-1]
    secs = tr.epoch_seconds[1:] if len(tr.epoch_seconds) > 1 else tr.epoch_seconds  # the first one compiles
    summary = {
        "sigma_train_initial": h0["sigma_train"], "sigma_train_final": h1["sigma_train"],
        "sigma_test_initial": h0["sigma_test"], "sigma_test_final": h1["sigma_test"],
        "sigma_test_final_stderr": h1["sigma_test_stderr"],
        "test_gain": h0["sigma_test"] / h1["sigma_test"],
        "seconds_per_epoch": float(np.median(secs)) if secs else float("nan"),
        "first_epoch_seconds": tr.epoch_seconds[0] if tr.epoch_seconds else float("nan"),
        "kahler_test_final": h1["kahler_test"], "transition_test_final": h1["transition_test"],
        "volume_test_final": h1["volume_test"], "epochs": cfg.epochs, "epochs_run_here": len(tr.epoch_seconds),
        "config": to_jsonable(asdict(cfg)), "history": res.history,
    }
    if out is not None and not cfg.linear:
        summary["network"] = str(save_network(tr.metric(res.state["params"]), out))
        write_json_atomic(Path(out) / "train.json", summary)
    summary["state"] = res.state
    summary["arrays"] = res.arrays
    return summary


__all__ = ["CHECKPOINT", "TrainConfig", "Trainer", "batch_sharding", "run_training"]
