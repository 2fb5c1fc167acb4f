"""The one parameter-space training loop (metricflow.flows.training) on a toy flow: a
pytree of parameters descending a quadratic, the metric diag(1 − s, 1) it represents."""

import functools

import numpy as np
import pytest

from metricflow.errors import InvalidInputError, NumericalError
from metricflow.flows import checkpoint as ck
from metricflow.flows.training import train

DT = 0.1
SETTINGS = {"lr": DT, "seed": 0}


@pytest.fixture(autouse=True)
def float64():
    """Float64 as in the library's flows (the exact comparisons below are in float64)."""
    from metricflow._x64 import x64

    with x64():
        yield


def _state0():
    import jax.numpy as jnp

    return {"w": jnp.array([1.0, -2.0, 0.5]), "s": [jnp.array(0.0)]}


@functools.lru_cache(maxsize=4)
def _advance(rate):
    """k steps of θ ← θ − dt ∇(|w|²/2) and s ← s + rate dt (jitted once per rate)."""
    import jax

    @jax.jit
    def advance(state, k):
        def step(_, st):
            return {"w": st["w"] - DT * st["w"], "s": [st["s"][0] + rate * DT]}

        return jax.lax.fori_loop(0, k, step, state)

    return advance


def _metric(state):
    return np.diag([1.0 - float(state["s"][0]), 1.0])


def _record(state, t, g):
    w = np.asarray(state["w"])
    return state, {"loss": float(0.5 * w @ w), "g00": float(g[0, 0])}, {"w": w}


def _run(rate=1.0, **kw):
    return train(_state0(), advance=lambda s, k: _advance(rate)(s, k), record=_record, metric=_metric,
                 steps=7, record_every=3, dt=DT, settings=SETTINGS, label="toy", **kw)


def test_records_on_the_schedule():
    res = _run()
    assert [h["step"] for h in res.history] == [0, 3, 6, 7]
    np.testing.assert_allclose(res.times, [0.0, 0.3, 0.6, 0.7], rtol=1e-15)
    assert res.arrays["w"].shape == (4, 3) and res.steps_done == 7
    np.testing.assert_allclose(res.arrays["w"][-1], np.array([1.0, -2.0, 0.5]) * 0.9**7, rtol=1e-12)
    assert [list(h) for h in res.history][0] == ["t", "step", "loss", "g00"]
    losses = [h["loss"] for h in res.history]
    assert all(a > b for a, b in zip(losses, losses[1:], strict=False))


def test_killed_run_resumes_bit_for_bit(tmp_path, kill_at):
    full = _run()
    path = tmp_path / "ck.npz"
    with pytest.raises(kill_at.Killed):
        _run(checkpoint=path, callback=kill_at(3))
    seen = []
    resumed = _run(checkpoint=path, resume=True, callback=seen.append)
    assert [r["step"] for r in seen] == [6, 7]
    assert resumed.history == full.history
    np.testing.assert_array_equal(resumed.arrays["w"], full.arrays["w"])
    np.testing.assert_array_equal(np.asarray(resumed.state["w"]), np.asarray(full.state["w"]))
    # a finished run resumes to itself without a step
    again = _run(checkpoint=path, resume=True, callback=seen.append)
    assert again.history == full.history and len(seen) == 2


def test_a_checkpoint_of_other_settings_is_refused_by_name(tmp_path):
    path = tmp_path / "ck.npz"
    _run(checkpoint=path)
    with pytest.raises(InvalidInputError, match="written with seed = 0") as exc:
        train(_state0(), advance=_advance(1.0), record=_record, metric=_metric, steps=7, record_every=3, dt=DT,
              settings={**SETTINGS, "seed": 1}, checkpoint=path, resume=True)
    assert exc.value.argument == "seed"


def test_an_inconsistent_checkpoint_is_refused(tmp_path):
    path = tmp_path / "ck.npz"
    _run(checkpoint=path)
    saved = ck.load(path, SETTINGS)
    ck.save(path, settings=SETTINGS, arrays=saved.arrays, progress={**saved.progress, "done": 6})
    with pytest.raises(InvalidInputError, match="disagree") as exc:
        _run(checkpoint=path, resume=True)
    assert exc.value.argument == "checkpoint"
    ck.save(path, settings=SETTINGS, arrays=saved.arrays, progress={**saved.progress, "done": 99})
    with pytest.raises(InvalidInputError, match="done counter"):
        _run(checkpoint=path, resume=True)


def test_a_metric_losing_positivity_stops_and_keeps_the_last_good_state(tmp_path):
    """s grows by 2 dt per step: g00 = 1 − s is 0.4 at step 3 and negative at step 6."""
    path = tmp_path / "ck.npz"
    with pytest.raises(NumericalError, match=r"toy: the metric is no longer positive definite at t = 0.6.*"
                                             r"reduce --lr; last good state \(t = 0.3\) kept in") as exc:
        _run(rate=2.0, checkpoint=path)
    good = exc.value.result
    assert [h["step"] for h in good.history] == [0, 3] and good.arrays["w"].shape == (2, 3)
    assert float(good.state["s"][0]) == pytest.approx(0.6)
    assert ck.load(path, SETTINGS).progress["done"] == 3


def test_a_nan_record_stops_the_run():
    def record(state, t, g):
        return state, {"loss": float("nan") if t > 0 else 1.0}, {}

    with pytest.raises(NumericalError, match=r"toy: the record became NaN/inf at t = 0.3"):
        train(_state0(), advance=_advance(1.0), record=record, steps=7, record_every=3, dt=DT, label="toy")


@pytest.mark.parametrize("kw, argument", [({"steps": 0}, "steps"), ({"record_every": 1.5}, "record_every")])
def test_bad_schedule_names_the_argument(kw, argument):
    with pytest.raises(InvalidInputError) as exc:
        train(_state0(), advance=_advance(1.0), record=_record, **{"steps": 7, "record_every": 3, "dt": DT, **kw})
    assert exc.value.argument == argument
