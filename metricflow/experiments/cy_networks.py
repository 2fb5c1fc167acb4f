"""Training the Calabi–Yau metric networks (issue 15): Adam or SGD (optax) on minibatches of
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
    schedule: str = "constant"  # Adam's learning rate: constant, cosine or exponential (experiments.cy_optim)
    lr_final: float | None = None  # the schedule's last learning rate [default: lr / 100; lr when constant]
    warmup: int = 0  # epochs of linear warm-up of the schedule
    lbfgs_steps: int = 0  # full-batch L-BFGS iterations after the Adam epochs
    lbfgs_points: int | None = None  # training points of the L-BFGS phase [default: all]
    base: str | None = None  # a saved algebraic metric (folder) under the potential network
    parameterization: str = "standard"  # of the network: standard or ntk (metricflow.cy.networks)
    optimizer: str = "adam"  # of the minibatch epochs: adam or sgd (plain, the same learning rate and schedule)
    inputs: str = "u"  # of the potential model: u, monomials:K or invariant:K (metricflow.cy.features)

    def checked(self) -> TrainConfig:
        """The config with defaults filled in; InvalidInputError naming the first bad field."""
        from metricflow.cy.losses import check_weights
        from metricflow.cy.networks import Architecture
        from metricflow.experiments import cy_optim as opt

        def count(name, value, low, high):
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
                raise InvalidInputError(name, f"need an integer in [{low}, {high}], got {value!r}")
            return int(value)

        Architecture(self.model, tuple(self.hidden), self.activation, 5, self.out_scale, self.precision,
                     self.parameterization, self.inputs, 5)  # validates
        if self.optimizer not in opt.OPTIMIZERS:
            raise InvalidInputError("optimizer", f"expected one of {', '.join(opt.OPTIMIZERS)}, "
                                    f"got {self.optimizer!r}")
        count("epochs", self.epochs, 1, 100_000)
        count("n_points", self.n_points, 100, 5_000_000)
        n_test = count("n_test", self.n_test, 100, 5_000_000) if self.n_test is not None \
            else max(100, min(self.n_points // 10, 100_000))
        count("seed", self.seed, 0, 2**32 - 1)
        count("batch_size", self.batch_size, 1, 1_000_000)
        count("n_diagnostic", self.n_diagnostic, 1, 100_000)
        top = opt.MAX_LR[self.optimizer]
        if isinstance(self.lr, bool) or not isinstance(self.lr, (int, float)) or not (math.isfinite(self.lr)
                                                                                      and 0 < self.lr <= top):
            raise InvalidInputError("lr", f"need a learning rate in (0, {top:g}] for {self.optimizer}, got {self.lr!r}")
        weights = check_weights(self.weights)
        lr_final, warmup = opt.check_schedule(self.schedule, self.lr, self.lr_final, self.warmup, self.epochs)
        count("lbfgs_steps", self.lbfgs_steps, 0, 100_000)
        lbfgs_points = count("lbfgs_points", self.lbfgs_points, 100, self.n_points) \
            if self.lbfgs_points is not None else self.n_points
        if self.base is not None and (not isinstance(self.base, str) or self.model != "phi" or self.linear):
            raise InvalidInputError("base", "a base metric (a folder of 'cy donaldson --out') takes --model phi")
        return TrainConfig(**{**asdict(self), "hidden": tuple(int(w) for w in self.hidden), "n_test": n_test,
                              "weights": weights, "lr_final": lr_final, "warmup": warmup,
                              "lbfgs_points": lbfgs_points})

    def architecture(self, surface):
        """The network of this run on ``surface`` (a Hypersurface); InvalidInputError naming ``inputs``
        when they do not fit it (:func:`metricflow.cy.networks.check_inputs`)."""
        from metricflow.cy.networks import Architecture, check_inputs

        arch = Architecture(self.model, tuple(self.hidden), self.activation, surface.n_ambient, self.out_scale,
                            self.precision, self.parameterization, self.inputs, surface.degree)
        check_inputs(arch, surface)
        return arch


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
    """A prepared run: points, data on the device, the architecture, the jitted Adam epoch
    and L-BFGS block (loop step ``e`` < ``epochs`` is an Adam epoch, each later one
    :data:`~metricflow.experiments.cy_optim.LBFGS_PER_RECORD` L-BFGS iterations)."""

    def __init__(self, cfg: TrainConfig):
        from metricflow._x64 import x64

        with x64():  # the geometry and the data in float64 wherever the trainer is built
            self._build(cfg)

    def _build(self, cfg: TrainConfig):
        import jax
        import jax.numpy as jnp
        import optax

        from metricflow import cy
        from metricflow.cy import losses as L
        from metricflow.cy import networks as nw
        from metricflow.cy.networks import init_params
        from metricflow.experiments import cy_optim as opt

        self.cfg = cfg = cfg.checked()
        X = cy.hypersurface(cfg.poly)
        self.arch = cfg.architecture(X)
        self.base, base_fn = load_base(cfg.base, X)
        s_train, s_test = _seeds(cfg.seed)
        self.train_ps = cy.sample(X, cfg.n_points, seed=s_train)
        self.test_ps = cy.sample(X, cfg.n_test, seed=s_test)
        self.surface = X
        w = cfg.weights
        need = w["transition"] > 0 and not self.arch.chart_independent
        self.data = {k: jnp.asarray(v) for k, v in L.prepare(self.train_ps, transition=need, base=self.base).items()}
        test = L.prepare(self.test_ps, transition=False, base=self.base)
        self.values_of = {"train": self.data, "test": {k: jnp.asarray(v) for k, v in test.items()}}
        diag = self.test_ps.subset(slice(0, min(cfg.n_diagnostic, cfg.n_test)))
        self.diag = {k: jnp.asarray(v) for k, v in L.prepare(diag).items()}
        E, coeffs = X.exponents, jnp.asarray(X.coefficients)
        N = len(self.train_ps)
        bs = min(cfg.batch_size, N)
        nb = N // bs
        self.steps = cfg.epochs + -(-cfg.lbfgs_steps // opt.LBFGS_PER_RECORD)
        self.tx = opt.minibatch_optimizer(cfg.optimizer, opt.learning_rate(cfg.schedule, cfg.lr, cfg.lr_final,
                                                                           cfg.warmup, cfg.epochs, nb))
        params = init_params(self.arch, jax.random.PRNGKey(cfg.seed))
        if cfg.linear:
            from metricflow.cy.networks import linearised

            params = linearised(params)
        self.state0 = {"params": params, "opt": self.tx.init(params), "epoch": jnp.zeros((), jnp.int32),
                       "loss": jnp.zeros((), jnp.float64)}
        arch, tx, key = self.arch, self.tx, jax.random.PRNGKey(cfg.seed)
        shard = batch_sharding(bs)

        def epoch(state, data):
            perm = jax.random.permutation(jax.random.fold_in(key, state["epoch"]), N)[: nb * bs].reshape(nb, bs)

            def step(carry, idx):
                params, opt_state = carry
                batch = shard({k: v[idx] for k, v in data.items()})
                loss, grads = jax.value_and_grad(lambda p: L.losses(arch, p, batch, E, coeffs, w)["total"])(params)
                updates, opt_state = tx.update(grads, opt_state, params)
                return (optax.apply_updates(params, updates), opt_state), loss

            (params, opt_state), batch_losses = jax.lax.scan(step, (state["params"], state["opt"]), perm)
            return {**state, "params": params, "opt": opt_state, "epoch": state["epoch"] + 1,
                    "loss": jnp.mean(batch_losses)}

        self._epoch = jax.jit(epoch)
        if cfg.lbfgs_steps:
            ltx = opt.lbfgs()
            self.state0["lbfgs"] = ltx.init(params)
            self.chunks = opt.chunked(self.data, cfg.lbfgs_points, min(bs, cfg.lbfgs_points))

            def lbfgs_block(state, k, chunks):
                def loss_fn(p):
                    return opt.full_loss(lambda b: L.terms(arch, p, b, E, coeffs, w), chunks, w)["total"]

                params, lstate, value = opt.lbfgs_iterations(loss_fn, ltx)(state["params"], state["lbfgs"], k,
                                                                             state["loss"])
                return {**state, "params": params, "lbfgs": lstate, "epoch": state["epoch"] + 1, "loss": value}

            self._lbfgs = jax.jit(lbfgs_block)
        self.batch_metric = jax.jit(lambda p, z, j, gb: nw.batch_metric(arch, p, z, j, gb))
        self._diag = jax.jit(lambda p, d: {
            "kahler": jnp.mean(L.kahler_measure(arch, p, E, coeffs, d, base_fn)),
            "transition": jnp.mean(L.transition_measure(arch, p, d, base_fn=base_fn))})
        self.epoch_seconds: list[float] = []
        self.lbfgs_seconds: list[float] = []

    def metric(self, params):
        """The trained model as a metric of PointSets (a NetworkMetric; the lazy twin's values on its own sets)."""
        from metricflow.cy.networks import NetworkMetric

        if isinstance(params, dict):  # the lazy twin: evaluated by its own (linearised) metric
            return lambda ps: self.values(params, "test" if ps is self.test_ps else "train")
        return NetworkMetric(self.surface, self.arch, [{k: np.asarray(v) for k, v in layer.items()}
                                                       for layer in params], self.base)

    def values(self, params, which: str) -> np.ndarray:
        """g (N, m, m) on the training or test points (``which``), from the arrays prepared once."""
        d = self.values_of[which]
        n, size = d["z"].shape[0], 4096
        return np.concatenate([np.asarray(self.batch_metric(params, d["z"][a:a + size], d["jac"][a:a + size],
                                                            d["g_base"][a:a + size] if "g_base" in d else None))
                               for a in range(0, n, size)])

    def advance(self, state, k: int):
        import jax.numpy as jnp

        from metricflow.experiments.cy_optim import LBFGS_PER_RECORD

        for _ in range(k):
            t0 = time.perf_counter()
            e = int(state["epoch"])
            if e < self.cfg.epochs:
                state = self._epoch(state, self.data)
            else:
                its = min(LBFGS_PER_RECORD, self.cfg.lbfgs_steps - (e - self.cfg.epochs) * LBFGS_PER_RECORD)
                state = self._lbfgs(state, jnp.asarray(its, jnp.int32), self.chunks)
            state["loss"].block_until_ready()
            (self.epoch_seconds if e < self.cfg.epochs else self.lbfgs_seconds).append(time.perf_counter() - t0)
        return state

    def record(self, state, t, g_test, extra=None):
        from metricflow import cy

        tr = cy.sigma(self.train_ps, self.values(state["params"], "train"))
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


def load_base(path, X):
    """(the algebraic metric saved in ``path``, its ambient form) or (None, None); InvalidInputError naming ``base``."""
    if path is None:
        return None, None
    from metricflow.cy.algebraic import ambient_form, load_metric, same_polynomial

    base = load_metric(path, "base")
    if not same_polynomial(base.surface, X):
        raise InvalidInputError("base", f"the metric in {path!r} lives on another hypersurface than --poly")
    return base, ambient_form(base)


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
        if tr.base is not None:  # the base's content, not only its folder's name, determines the run
            import hashlib

            digest = hashlib.sha256(np.ascontiguousarray(tr.base.H).tobytes()).hexdigest()
            settings["base"] = {"path": cfg.base, "k": tr.base.k, "sha256_H": digest}
        ckpt = Path(out) / CHECKPOINT if out is not None else None
        res = train(tr.state0, advance=tr.advance, record=lambda s, t, g: tr.record(s, t, g, extra),
                    metric=lambda s: tr.values(s["params"], "test"), steps=tr.steps, record_every=1,
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
        "lbfgs_steps": cfg.lbfgs_steps, "lbfgs_seconds_here": float(sum(tr.lbfgs_seconds)),
        "train_seconds_here": float(sum(tr.epoch_seconds) + sum(tr.lbfgs_seconds)),
        "sigma_test_after_adam": res.history[min(cfg.epochs, len(res.history) - 1)]["sigma_test"],
        "config": to_jsonable(asdict(cfg)), "history": res.history,
    }
    if out is not None and not cfg.linear:
        summary["network"] = str(save_network(tr.metric(res.state["params"]), out))
        write_json_atomic(Path(out) / "train.json", summary)
    summary["state"] = res.state
    summary["arrays"] = res.arrays
    return summary


__all__ = ["CHECKPOINT", "TrainConfig", "Trainer", "batch_sharding", "load_base", "run_training"]
