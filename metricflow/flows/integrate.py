"""Integrate a metric flow ``∂_t state = V(state)``, with monitors and checkpoints.

Methods: ``euler`` (explicit Euler: exactly gradient descent with learning rate dt,
eq. 2.1–2.2), ``rk4`` (classical Runge–Kutta), ``adaptive`` (diffrax's Tsit5 with a
PID step-size controller). What evolves is a :class:`~metricflow.flows.systems.FlowSystem`
(manifold, flow, kernel). The state is checked after every record interval: NaN, a
metric that is no longer positive definite, or a dilaton solve that did not converge
stops the run with a :class:`~metricflow.errors.NumericalError` naming the time and
place, and the last good state is kept (in the checkpoint, and on the exception as
``exc.result``). A checkpoint is written atomically every ``checkpoint_every``
records; ``resume=True`` continues from it, and the resumed trajectory is identical to
an uninterrupted one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from metricflow.errors import InvalidInputError, NumericalError
from metricflow.io import save_npz_atomic

METHODS = ("euler", "rk4", "adaptive")


@dataclass
class FlowResult:
    """Trajectory of a flow: ``history`` (one dict per record), ``final`` (the main
    field: the metric, or the conformal factor on S²), ``final_state`` (every field),
    and ``snapshots`` (times and main fields at up to 11 evenly spaced records)."""

    history: list = field(default_factory=list)
    final: np.ndarray | None = None
    final_state: dict = field(default_factory=dict)
    snapshot_times: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)
    steps_done: int = 0


def _advance_fn(system, method: str, dt: float, nsteps: int):
    """A jitted function advancing the state by ``nsteps`` steps of size ``dt``."""
    import jax

    velocity = system.velocity
    refresh = system.refresh or (lambda s: s)

    def axpy(a, x, y):  # y + a x over the state dict
        return jax.tree_util.tree_map(lambda xi, yi: yi + a * xi, x, y)

    if method == "euler":
        def step(s):
            return refresh(axpy(dt, velocity(s), s))
    elif method == "rk4":
        def step(s):
            k1 = velocity(s)
            k2 = velocity(axpy(0.5 * dt, k1, s))
            k3 = velocity(axpy(0.5 * dt, k2, s))
            k4 = velocity(axpy(dt, k3, s))
            incr = jax.tree_util.tree_map(lambda a, b, c, d: (a + 2 * b + 2 * c + d) / 6.0, k1, k2, k3, k4)
            return refresh(axpy(dt, incr, s))
    elif method == "adaptive":
        import diffrax

        term = diffrax.ODETerm(lambda t, s, args: velocity(s))
        solver = diffrax.Tsit5()
        controller = diffrax.PIDController(rtol=1e-7, atol=1e-9)

        @jax.jit
        def advance(s):
            sol = diffrax.diffeqsolve(term, solver, t0=0.0, t1=dt * nsteps, dt0=dt, y0=s,
                                      stepsize_controller=controller, max_steps=100_000,
                                      saveat=diffrax.SaveAt(t1=True), throw=False)
            return refresh(jax.tree_util.tree_map(lambda y: y[-1], sol.ys))

        return advance
    else:
        raise InvalidInputError("method", f"expected one of {METHODS}, got {method!r}")

    @jax.jit
    def advance(s):
        return jax.lax.fori_loop(0, nsteps, lambda i, x: step(x), s)

    return advance


def run_flow(manifold, g0, *, flow: str = "ricci", kernel: str = "local", steps: int = 100,
             dt: float = 1e-3,
             method: str = "rk4", record_every: int = 10, checkpoint: str | Path | None = None,
             checkpoint_every: int = 1, resume: bool = False,
             callback: Callable[[dict], None] | None = None) -> FlowResult:
    """Integrate a flow from ``g0`` for ``steps`` steps of size ``dt``.

    Parameters
    ----------
    manifold, g0:
        The grid and the initial field: on a torus the metric (shape
        ``manifold.shape + (d, d)``), on the 2-sphere the conformal factor u.
    flow:
        ``"ricci"`` (eq. 2.39) or ``"perelman"`` (eq. 2.40 with the dilaton that
        minimises F; records then carry ``F``, ``lambda``, ``dF_dt``).
    kernel:
        ``"local"`` (σ → 0, eq. 2.31), ``"gaussian:SIGMA"`` (semi-local, eq. 2.30) or
        ``"ntk:ACTIVATION[:DEPTH]"`` (non-local, frozen MLP NTK, eq. 2.12).
    record_every:
        Steps between records (diagnostics, monitors, checkpoints, progress).
    checkpoint, checkpoint_every, resume:
        Path of an ``.npz`` checkpoint written every ``checkpoint_every`` records;
        with ``resume=True`` an existing checkpoint of the same run is continued.
    callback:
        Called with each record (used for progress bars); may raise to stop the run.
    """
    import jax

    from metricflow._x64 import x64
    from metricflow.flows.systems import check_record, flow_system

    for name, val in (("steps", steps), ("record_every", record_every), ("checkpoint_every", checkpoint_every)):
        if int(val) != val or val < 1:
            raise InvalidInputError(name, f"expected a positive integer, got {val}")
    if not dt > 0:
        raise InvalidInputError("dt", f"expected a positive time step, got {dt}")
    if method not in METHODS:
        raise InvalidInputError("method", f"expected one of {METHODS}, got {method!r}")
    n_records = -(-steps // record_every)
    snap_at = set(np.linspace(0, n_records, min(n_records, 10) + 1).round().astype(int).tolist())
    result = FlowResult()
    ckpt = Path(checkpoint) if checkpoint is not None else None
    with x64():
        system = flow_system(manifold, flow, kernel)
        meta = {**system.meta, "dt": dt, "method": method, "record_every": record_every}
        start, state = 0, None
        if resume and ckpt is not None and ckpt.exists():
            state, start = _load(ckpt, meta, result)
        if state is None:
            state = system.initial(g0)
        main = system.main

        def record(s, t, step):
            rec = {"t": t, "step": step, **system.diagnostics({k: jax.numpy.asarray(v) for k, v in s.items()})}
            check_record(rec, t)
            return rec

        if start == 0:
            rec = record(state, 0.0, 0)
            result.history = [rec]
            result.snapshot_times, result.snapshots = [0.0], [np.array(state[main])]
            if callback:
                callback(rec)
        advancers = {}
        for r in range(start, n_records):
            nsteps = min(record_every, steps - r * record_every)
            if nsteps not in advancers:
                advancers[nsteps] = _advance_fn(system, method, dt, nsteps)
            step_done = r * record_every + nsteps
            t = step_done * dt
            new = advancers[nsteps]({k: jax.numpy.asarray(v) for k, v in state.items()})
            new = {k: np.asarray(v) for k, v in new.items()}
            try:
                system.check(new, t)
                rec = record(new, t, step_done)
            except NumericalError as exc:
                result.final, result.final_state, result.steps_done = state[main], state, r * record_every
                if ckpt is not None:
                    _save(ckpt, state, r, meta, result)
                    exc.args = (exc.args[0] + f"; last good state (t = {r * record_every * dt:.6g}) "
                                f"saved in {ckpt}",)
                exc.result = result
                raise
            state = new
            result.history.append(rec)
            if r + 1 in snap_at:
                result.snapshot_times.append(t)
                result.snapshots.append(np.array(state[main]))
            if ckpt is not None and ((r + 1) % checkpoint_every == 0 or r + 1 == n_records):
                _save(ckpt, state, r + 1, meta, result)
            if callback:
                callback(rec)
    result.final, result.final_state, result.steps_done = state[main], state, steps
    return result


def _save(path: Path, state: dict, record: int, meta: dict, result: FlowResult) -> None:
    info = {"history": result.history, "snapshot_times": result.snapshot_times, "fields": sorted(state)}
    snaps = np.stack(result.snapshots) if result.snapshots else np.zeros((0,))
    save_npz_atomic(path, record=record, meta=json.dumps(meta), state=json.dumps(info), snapshots=snaps,
                    **{f"field_{k}": v for k, v in state.items()})


def _load(path: Path, meta: dict, result: FlowResult):
    with np.load(path, allow_pickle=False) as data:
        saved = json.loads(str(data["meta"]))
        if saved != json.loads(json.dumps(meta)):
            raise InvalidInputError("checkpoint", f"{path} was written for a different run {saved}; "
                                    f"this run is {meta}")
        info = json.loads(str(data["state"]))
        state = {k: np.array(data[f"field_{k}"]) for k in info["fields"]}
        result.history = info["history"]
        result.snapshot_times = info["snapshot_times"]
        result.snapshots = list(np.array(data["snapshots"])) if data["snapshots"].size else []
        return state, int(data["record"])
