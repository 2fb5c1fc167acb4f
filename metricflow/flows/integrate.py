"""Integrate a metric flow ``∂_t g = V(g)`` on a grid, with monitors and checkpoints.

Methods: ``euler`` (explicit Euler: exactly gradient descent with learning rate dt,
eq. 2.1–2.2), ``rk4`` (classical Runge–Kutta), ``adaptive`` (diffrax's Tsit5 with a
PID step-size controller). The state is checked after every record interval: NaN or
a metric that is no longer positive definite stops the run with a
:class:`~metricflow.errors.NumericalError` naming the time and place, and the last
good state is kept (in the checkpoint, and on the exception as ``exc.result``).
A checkpoint is written atomically every ``checkpoint_every`` records; ``resume=True``
continues from it, and the resumed trajectory is identical to an uninterrupted one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from metricflow.errors import InvalidInputError, NumericalError
from metricflow.io import save_npz_atomic
from metricflow.manifolds.torus import Torus

METHODS = ("euler", "rk4", "adaptive")
VELOCITIES = ("ricci",)


@dataclass
class FlowResult:
    """Trajectory of a flow: ``history`` (one dict per record), ``final`` metric,
    and ``snapshots`` (times and metrics at up to 11 evenly spaced records)."""

    history: list = field(default_factory=list)
    final: np.ndarray | None = None
    snapshot_times: list = field(default_factory=list)
    snapshots: list = field(default_factory=list)
    steps_done: int = 0


def _velocity(name: str, manifold: Torus, kernel: str = "local"):
    from metricflow.flows.local import ricci_velocity
    from metricflow.flows.semilocal import semilocal_ricci_velocity

    if name != "ricci":
        raise InvalidInputError("flow", f"expected one of {VELOCITIES}, got {name!r}")
    if kernel == "local":
        return lambda g: ricci_velocity(manifold, g)
    if kernel.startswith("ntk:"):
        import jax.numpy as jnp

        from metricflow.flows.frozen import frozen_ntk_matrix, frozen_ntk_velocity, parse_ntk_kernel

        K = jnp.asarray(frozen_ntk_matrix(manifold, **parse_ntk_kernel(kernel)))
        return lambda g: frozen_ntk_velocity(manifold, ricci_velocity(manifold, g), K)
    sigma = parse_gaussian_kernel(kernel)
    return lambda g: semilocal_ricci_velocity(manifold, g, sigma)


def parse_gaussian_kernel(kernel: str) -> float:
    """``"gaussian:0.2"`` -> 0.2, with a clear error otherwise."""
    name, _, value = kernel.partition(":")
    if name != "gaussian":
        raise InvalidInputError("kernel", f"expected 'local', 'gaussian:SIGMA' or 'ntk:ACTIVATION[:DEPTH]', "
                                f"got {kernel!r}")
    try:
        sigma = float(value)
    except ValueError:
        raise InvalidInputError("kernel", f"expected gaussian:SIGMA with a number SIGMA, got {kernel!r}") from None
    if not sigma > 0:
        raise InvalidInputError("kernel", f"expected a positive width in {kernel!r}")
    return sigma


def _advance_fn(velocity, method: str, dt: float, nsteps: int):
    """A jitted function advancing the state by ``nsteps`` steps of size ``dt``."""
    import jax

    if method == "euler":
        def step(g):
            return g + dt * velocity(g)
    elif method == "rk4":
        def step(g):
            k1 = velocity(g)
            k2 = velocity(g + 0.5 * dt * k1)
            k3 = velocity(g + 0.5 * dt * k2)
            k4 = velocity(g + dt * k3)
            return g + dt / 6.0 * (k1 + 2 * k2 + 2 * k3 + k4)
    elif method == "adaptive":
        import diffrax

        term = diffrax.ODETerm(lambda t, g, args: velocity(g))
        solver = diffrax.Tsit5()
        controller = diffrax.PIDController(rtol=1e-7, atol=1e-9)

        @jax.jit
        def advance(g):
            sol = diffrax.diffeqsolve(term, solver, t0=0.0, t1=dt * nsteps, dt0=dt, y0=g,
                                      stepsize_controller=controller, max_steps=100_000,
                                      saveat=diffrax.SaveAt(t1=True), throw=False)
            return sol.ys[-1]

        return advance
    else:
        raise InvalidInputError("method", f"expected one of {METHODS}, got {method!r}")

    @jax.jit
    def advance(g):
        return jax.lax.fori_loop(0, nsteps, lambda i, s: step(s), g)

    return advance


def _check(g, t: float) -> None:
    if not np.all(np.isfinite(g)):
        idx = np.argwhere(~np.isfinite(g))[0]
        raise NumericalError(f"the metric became NaN/inf at t = {t:.6g} (grid index {tuple(idx[:-2])}); "
                             "reduce --dt or use --method adaptive")
    eig = np.linalg.eigvalsh(g)
    if np.min(eig) <= 0:
        idx = np.unravel_index(np.argmin(eig[..., 0]), eig.shape[:-1])
        raise NumericalError(f"the metric is no longer positive definite at t = {t:.6g} "
                             f"(smallest eigenvalue {np.min(eig):.3g} at grid index {idx}); "
                             "reduce --dt or stop before the singular time")


def run_flow(manifold: Torus, g0, *, flow: str = "ricci", kernel: str = "local", steps: int = 100,
             dt: float = 1e-3,
             method: str = "rk4", record_every: int = 10, checkpoint: str | Path | None = None,
             checkpoint_every: int = 1, resume: bool = False,
             callback: Callable[[dict], None] | None = None) -> FlowResult:
    """Integrate ``∂_t g = V(g)`` from ``g0`` for ``steps`` steps of size ``dt``.

    Parameters
    ----------
    manifold, g0:
        The grid and the initial metric (shape ``manifold.shape + (d, d)``).
    flow:
        ``"ricci"``: eq. (2.39).
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
    from metricflow.flows.local import diagnostics

    d = manifold.dim
    g0 = np.asarray(g0, dtype=np.float64)
    if g0.shape != manifold.shape + (d, d):
        raise InvalidInputError("g0", f"expected shape {manifold.shape + (d, d)}, got {g0.shape}")
    if not np.allclose(g0, np.swapaxes(g0, -1, -2), atol=1e-12):
        raise InvalidInputError("g0", "the initial metric is not symmetric")
    for name, val in (("steps", steps), ("record_every", record_every), ("checkpoint_every", checkpoint_every)):
        if int(val) != val or val < 1:
            raise InvalidInputError(name, f"expected a positive integer, got {val}")
    if not dt > 0:
        raise InvalidInputError("dt", f"expected a positive time step, got {dt}")
    if method not in METHODS:
        raise InvalidInputError("method", f"expected one of {METHODS}, got {method!r}")
    _check(g0, 0.0)
    meta = {"manifold": manifold.name, "n": manifold.n, "flow": flow, "kernel": kernel, "dt": dt, "method": method,
            "record_every": record_every}
    n_records = -(-steps // record_every)
    snap_at = set(np.linspace(0, n_records, min(n_records, 10) + 1).round().astype(int).tolist())
    result = FlowResult()
    g = g0
    start = 0
    ckpt = Path(checkpoint) if checkpoint is not None else None
    if resume and ckpt is not None and ckpt.exists():
        with np.load(ckpt, allow_pickle=False) as data:
            saved = json.loads(str(data["meta"]))
            if saved != meta:
                raise InvalidInputError("checkpoint", f"{ckpt} was written for a different run {saved}; "
                                        f"this run is {meta}")
            g = np.array(data["g"])
            start = int(data["record"])
            state = json.loads(str(data["state"]))
            result.history = state["history"]
            result.snapshot_times = state["snapshot_times"]
            result.snapshots = list(np.array(data["snapshots"])) if data["snapshots"].size else []
    with x64():
        velocity = _velocity(flow, manifold, kernel)
        if start == 0:
            rec = {"t": 0.0, "step": 0, **diagnostics(manifold, jax.numpy.asarray(g))}
            result.history = [rec]
            result.snapshot_times, result.snapshots = [0.0], [g.copy()]
            if callback:
                callback(rec)
        advancers = {}
        for r in range(start, n_records):
            nsteps = min(record_every, steps - r * record_every)
            if nsteps not in advancers:
                advancers[nsteps] = _advance_fn(velocity, method, dt, nsteps)
            step_done = r * record_every + nsteps
            t = step_done * dt
            g_new = np.asarray(advancers[nsteps](jax.numpy.asarray(g)))
            try:
                _check(g_new, t)
            except NumericalError as exc:
                result.final, result.steps_done = g, r * record_every
                if ckpt is not None:
                    _save(ckpt, g, r, meta, result)
                    exc.args = (exc.args[0] + f"; last good state (t = {r * record_every * dt:.6g}) "
                                f"saved in {ckpt}",)
                exc.result = result
                raise
            g = g_new
            rec = {"t": t, "step": step_done, **diagnostics(manifold, jax.numpy.asarray(g))}
            result.history.append(rec)
            if r + 1 in snap_at:
                result.snapshot_times.append(t)
                result.snapshots.append(g.copy())
            if ckpt is not None and ((r + 1) % checkpoint_every == 0 or r + 1 == n_records):
                _save(ckpt, g, r + 1, meta, result)
            if callback:
                callback(rec)
    result.final, result.steps_done = g, steps
    return result


def _save(path: Path, g, record: int, meta: dict, result: FlowResult) -> None:
    state = {"history": result.history, "snapshot_times": result.snapshot_times}
    snaps = np.stack(result.snapshots) if result.snapshots else np.zeros((0,))
    save_npz_atomic(path, g=g, record=record, meta=json.dumps(meta), state=json.dumps(state), snapshots=snaps)
