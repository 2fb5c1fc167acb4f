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

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from metricflow.errors import InvalidInputError, NumericalError

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


def _advance_fn(system, method: str, dt: float, nsteps: int, key: str | None = None):
    """A jitted function advancing the state by ``nsteps`` steps of size ``dt``; ``key``
    identifies the system (manifold, flow and kernel settings) for the program store of
    :mod:`metricflow._programs`."""
    import jax

    from metricflow import _programs

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

        def advance(s):
            sol = diffrax.diffeqsolve(term, solver, t0=0.0, t1=dt * nsteps, dt0=dt, y0=s,
                                      stepsize_controller=controller, max_steps=100_000,
                                      saveat=diffrax.SaveAt(t1=True), throw=False)
            return refresh(jax.tree_util.tree_map(lambda y: y[-1], sol.ys))
    else:
        raise InvalidInputError("method", f"expected one of {METHODS}, got {method!r}")

    if method != "adaptive":
        def advance(s):
            return jax.lax.fori_loop(0, nsteps, lambda i, x: step(x), s)

    return _programs.jit(advance, key=None if key is None else f"advance|{key}|{method}|{dt!r}|{nsteps}")


def check_run(*, steps, dt, method, record_every, checkpoint_every=1) -> None:
    """Refuse bad integration settings before any work (each error names its argument)."""
    import math

    for name, val in (("steps", steps), ("record_every", record_every), ("checkpoint_every", checkpoint_every)):
        if isinstance(val, bool) or not isinstance(val, int | np.integer) or val < 1:
            raise InvalidInputError(name, f"expected a positive integer, got {val!r}")
    if isinstance(dt, bool) or not isinstance(dt, int | float | np.floating) or not (math.isfinite(dt) and dt > 0):
        raise InvalidInputError("dt", f"expected a finite positive time step, got {dt!r}")
    if method not in METHODS:
        raise InvalidInputError("method", f"expected one of {METHODS}, got {method!r}")


def state_digest(state: dict) -> str:
    """sha256 of the initial state's fields (names, dtypes, shapes and bytes)."""
    h = hashlib.sha256()
    for k in sorted(state):
        a = np.ascontiguousarray(state[k])
        h.update(f"{k}:{a.dtype.str}:{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def run_flow(manifold, g0, *, flow: str = "ricci", kernel="local", steps: int = 100,
             dt: float = 1e-3,
             method: str = "rk4", record_every: int = 10, checkpoint: str | Path | None = None,
             checkpoint_every: int = 1, resume: bool = False,
             callback: Callable[[dict], None] | None = None, settings: dict | None = None,
             snapshots: int | None = 10) -> FlowResult:
    """Integrate a flow from ``g0`` for ``steps`` steps of size ``dt``.

    Parameters
    ----------
    manifold, g0:
        A :class:`~metricflow.manifolds.Manifold` and the initial field: on a torus the
        metric (shape ``manifold.shape + (d, d)``), on the 2-sphere the conformal factor
        u, on a point cloud the hermitian metric values (N, k, k).
    flow:
        ``"ricci"`` (eq. 2.39), ``"perelman"`` (eq. 2.40 with the dilaton that
        minimises F; records then carry ``F``, ``lambda``, ``dF_dt``),
        ``"functional:NAME"`` (eq. 2.14, tori) or ``"sigma"`` (σ-measure B.11, point
        clouds); :func:`metricflow.flows.registry.offered` lists a manifold's flows.
    kernel:
        A :class:`~metricflow.kernels.base.Kernel` or its spec: ``"local"`` (σ → 0,
        eq. 2.31), ``"gaussian:SIGMA"`` (semi-local, eq. 2.30),
        ``"ntk:ACTIVATION[:DEPTH]"`` (non-local, frozen MLP NTK, eq. 2.12), ``"nearest"``.
    record_every:
        Steps between records (diagnostics, monitors, checkpoints, progress).
    checkpoint, checkpoint_every, resume:
        Path of an ``.npz`` checkpoint (:mod:`metricflow.flows.checkpoint`) written every
        ``checkpoint_every`` records; with ``resume=True`` an existing checkpoint of the
        same run is continued, and one whose settings differ is refused naming the
        setting. The settings are the caller's ``settings`` (the CLI passes ``init``
        and ``seed``), ``flow``, ``kernel``, ``method``, ``dt``, ``record_every``, the
        manifold's :meth:`~metricflow.manifolds.Manifold.settings` and the sha256 of the
        initial state (``initial_state``).
    callback:
        Called with each record (used for progress bars); may raise to stop the run.
    snapshots:
        The main field is kept at ``snapshots + 1`` evenly spaced records (t = 0 and the
        last included); ``None`` keeps it at every record (the network flows compare
        their references record by record).
    """
    import jax

    from metricflow._x64 import x64
    from metricflow.flows.systems import check_record, flow_system
    from metricflow.kernels.base import parse_kernel

    check_run(steps=steps, dt=dt, method=method, record_every=record_every, checkpoint_every=checkpoint_every)
    kernel = parse_kernel(kernel)
    n_records = -(-steps // record_every)
    if snapshots is not None and (isinstance(snapshots, bool) or not isinstance(snapshots, int) or snapshots < 1):
        raise InvalidInputError("snapshots", f"expected a positive integer or None, got {snapshots!r}")
    every = n_records if snapshots is None else min(n_records, snapshots)
    snap_at = set(np.linspace(0, n_records, every + 1).round().astype(int).tolist())
    result = FlowResult()
    ckpt = Path(checkpoint) if checkpoint is not None else None
    with x64():
        system = flow_system(manifold, flow, kernel)
        initial = system.initial(g0)
        run_settings = {**(settings or {}), "flow": system.flow, **kernel.settings(), "method": method,
                        "dt": dt, "record_every": record_every, "snapshots": snapshots, **manifold.settings(),
                        "initial_state": state_digest(initial)}
        program_key = json.dumps({"flow": system.flow, **kernel.settings(), **manifold.settings()}, sort_keys=True)
        start, state = 0, None
        if resume and ckpt is not None and ckpt.exists():
            state, start = _load(ckpt, run_settings, n_records, initial, result)
        if state is None:
            state = initial
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
                advancers[nsteps] = _advance_fn(system, method, dt, nsteps, key=program_key)
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
                    _save(ckpt, state, r, run_settings, result)
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
                _save(ckpt, state, r + 1, run_settings, result)
            if callback:
                callback(rec)
    result.final, result.final_state, result.steps_done = state[main], state, steps
    return result


def _save(path: Path, state: dict, record: int, settings: dict, result: FlowResult) -> None:
    from metricflow.flows import checkpoint as ck

    snaps = np.stack(result.snapshots) if result.snapshots else np.zeros((0,))
    progress = {"record": record, "history": result.history, "snapshot_times": result.snapshot_times}
    ck.save(path, settings=settings, progress=progress,
            arrays={**{f"field/{k}": v for k, v in state.items()}, "snapshots": snaps})


def _load(path: Path, settings: dict, n_records: int, like: dict, result: FlowResult):
    """The state and record counter of a validated checkpoint of this run (settings equal,
    arrays finite, fields of this run's names, shapes and dtypes, counter in range)."""
    from metricflow.flows import checkpoint as ck

    saved = ck.load(path, settings)
    record = ck.counter(saved.progress, "record", n_records, path)
    state = {}
    for k, v in like.items():
        a = saved.arrays.get(f"field/{k}")
        if a is None or a.shape != np.shape(v) or a.dtype != np.asarray(v).dtype:
            raise InvalidInputError("checkpoint", f"{path} does not hold this run's field {k!r} "
                                    f"(shape {np.shape(v)}, {np.asarray(v).dtype}); delete it to start afresh")
        state[k] = a
    history, times = saved.progress.get("history"), saved.progress.get("snapshot_times")
    snaps = saved.arrays.get("snapshots")
    if not (isinstance(history, list) and len(history) == record + 1 and isinstance(times, list)
            and snaps is not None and len(times) == (len(snaps) if snaps.ndim > 1 else 0)):
        raise InvalidInputError("checkpoint", f"{path} has an inconsistent history for its record counter "
                                f"{record}; delete it to start afresh")
    result.history, result.snapshot_times = history, times
    result.snapshots = list(snaps) if snaps.ndim > 1 else []
    return state, record
