"""The one training loop for flows in parameter space: gradient descent (eq. 2.1) as the
explicit Euler scheme of the parameter flow (2.2), with records, monitors, checkpoints
and progress reporting shared with the flows of fields (:func:`~metricflow.flows.integrate.run_flow`).

The loop is generic over the trained state (any pytree: a network's parameters, with
whatever travels with them, such as a warm-started dilaton) and over the step:

* ``advance(state, k) -> state`` advances ``k`` steps (jitted by the caller; one
  compilation serves every record interval of the same length);
* ``metric(state) -> g`` (optional): the metric values the state represents, shape
  ``(..., d, d)`` (real symmetric on a grid, hermitian at points); checked after every
  interval by :func:`metricflow.flows.monitors.check_metric` (NaN, not positive definite);
* ``record(state, t, g) -> (state, values, arrays)``: the record at time ``t``: ``values``
  a dict of floats (the history row, after ``t`` and ``step``), ``arrays`` a dict of
  arrays kept at every record (returned stacked and checkpointed). It may update the
  state (a converged solve that warm-starts the next steps) and may raise
  :class:`~metricflow.errors.NumericalError`.

Records are taken at step 0 and every ``record_every`` steps (the last one at ``steps``).
A NaN, a metric that is no longer positive definite or a failing record stops the run
with a :class:`NumericalError` prefixed by ``label``; the last good state is kept (on the
exception as ``exc.result``, and in the checkpoint). With ``checkpoint`` the state, the
history and the kept arrays are written atomically after every record in the one
checkpoint format (:mod:`metricflow.flows.checkpoint`): ``resume=True`` continues from
it, refusing (by the setting's name) a checkpoint written with other ``settings``, and
the resumed run equals the uninterrupted one bit for bit (the same jitted steps from the
same state). ``callback(row)`` is called with every history row as it is taken (progress
bars live in the CLI).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from metricflow.errors import InvalidInputError, NumericalError
from metricflow.flows import checkpoint as ck
from metricflow.flows.monitors import check_finite, check_metric


@dataclass
class TrainingResult:
    """``history`` (one dict per record: ``t``, ``step`` and the record's values),
    ``times`` (records,), ``arrays`` (name -> (records, ...) stacked kept arrays),
    ``state`` (the last good state) and ``steps_done``."""

    history: list = field(default_factory=list)
    times: np.ndarray | None = None
    arrays: dict = field(default_factory=dict)
    state: object = None
    steps_done: int = 0


def _check_count(name, value, minimum=1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise InvalidInputError(name, f"expected an integer >= {minimum}, got {value!r}")
    return int(value)


def _resume(path: Path, settings: dict, state0, steps: int):
    """``(state, done, history, kept)`` from a checkpoint of this run, validated."""
    saved = ck.load(path, settings)
    done = ck.counter(saved.progress, "done", steps, path)
    history = saved.progress.get("history")
    names = saved.progress.get("arrays")
    if (not isinstance(history, list) or not history or not isinstance(names, list)
            or history[-1].get("step") != done
            or any(saved.arrays.get(f"record/{k}", np.zeros(0)).shape[:1] != (len(history),) for k in names)):
        raise InvalidInputError("checkpoint", f"{path} is not a usable metricflow checkpoint (its history, "
                                f"kept arrays and step counter disagree); delete it or choose another output "
                                "folder to start afresh")
    state = ck.tree_from_arrays(saved.arrays, "state", state0, path)
    kept = {k: list(saved.arrays[f"record/{k}"]) for k in names}
    return state, done, history, kept


def train(state, *, advance: Callable, record: Callable, steps: int, record_every: int, dt: float,
          metric: Callable | None = None, settings: dict | None = None, checkpoint=None, resume: bool = False,
          callback: Callable[[dict], None] | None = None, label: str = "training",
          hint: str = "reduce --lr") -> TrainingResult:
    """Run ``steps`` steps of ``advance`` from ``state`` with a record every
    ``record_every`` steps (module docstring); ``t = step · dt``.

    ``settings`` (JSON-able) must hold everything that determines the trajectory: a
    checkpoint written with other settings is refused naming the first setting that
    differs (so that a command line names its ``--option``)."""
    steps = _check_count("steps", steps)
    record_every = _check_count("record_every", record_every)
    ckpt = Path(checkpoint) if checkpoint is not None else None
    settings = dict(settings or {})
    result = TrainingResult(state=state)
    kept: dict = {}

    def take(s, t, done):
        g = None
        if metric is not None:
            g = np.asarray(metric(s))
            check_metric(g, t, hint)
        s, values, arrays = record(s, t, g)
        check_finite("record", [float(v) for v in values.values()], t, hint)
        row = {"t": t, "step": done, **values}
        for name, a in arrays.items():
            kept.setdefault(name, []).append(np.asarray(a))
        return s, row

    def fail(exc: NumericalError, done: int):
        msg = f"{label}: {exc.args[0]}"
        if ckpt is not None and done > 0:
            msg += f"; last good state (t = {done * dt:.6g}) kept in {ckpt}"
        result.times = np.array([h["t"] for h in result.history])
        result.arrays = {k: np.stack(v) for k, v in kept.items()}
        err = NumericalError(msg)
        err.result = result
        return err

    done = 0
    if resume and ckpt is not None and ckpt.exists():
        state, done, result.history, kept = _resume(ckpt, settings, state, steps)
    else:
        try:
            state, row = take(state, 0.0, 0)
        except NumericalError as exc:
            raise fail(exc, 0) from None
        result.history.append(row)
        if callback:
            callback(row)
    result.state = state
    while done < steps:
        k = min(record_every, steps - done)
        t = (done + k) * dt
        try:
            new, row = take(advance(state, k), t, done + k)
        except NumericalError as exc:   # take() keeps a record's arrays only once it passed the monitors
            raise fail(exc, done) from None
        state, done = new, done + k
        result.state, result.steps_done = state, done
        result.history.append(row)
        if ckpt is not None:
            arrays = {**ck.tree_to_arrays(state, "state"), **{f"record/{k}": np.stack(v) for k, v in kept.items()}}
            ck.save(ckpt, settings=settings, arrays=arrays,
                    progress={"done": done, "history": result.history, "arrays": sorted(kept)})
        if callback:
            callback(row)
    result.steps_done = done
    result.times = np.array([h["t"] for h in result.history])
    result.arrays = {k: np.stack(v) for k, v in kept.items()}
    return result
