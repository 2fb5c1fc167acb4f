"""The program store (metricflow._programs): stored programs give the plain jit's results,
are found again by a fresh wrapper (as in a new process) without tracing, and are
separated by everything that determines them."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from metricflow import _programs


def make(counter, key="test.f", **kw):
    def f(scale, x):
        counter.append(1)          # runs once per trace
        return {"y": jnp.sin(x["a"]) * scale + x["b"].sum()}

    return _programs.jit(f, key=key, **kw)


ARGS = (jnp.asarray(2.0), {"a": jnp.linspace(0.0, 1.0, 7), "b": jnp.arange(3.0)})


def test_outside_a_store_it_is_jax_jit(tmp_path):
    traces = []
    f = make(traces)
    out = f(*ARGS)
    f(*ARGS)
    assert len(traces) == 1 and not any(tmp_path.iterdir())
    np.testing.assert_array_equal(out["y"], jax.jit(f.__wrapped__)(*ARGS)["y"])


def test_stored_program_is_loaded_without_tracing_and_gives_identical_results(tmp_path):
    traces = []
    plain = make([])(*ARGS)["y"]
    with _programs.stored(tmp_path):
        first = make(traces)(*ARGS)["y"]
        files = sorted(tmp_path.iterdir())
        again = make(traces)          # a fresh wrapper: a new process would see only the file
        second = again(*ARGS)["y"]
        again(*ARGS)
    assert len(traces) == 1 and len(files) == 1 and files[0].suffix == _programs.SUFFIX
    assert sorted(tmp_path.iterdir()) == files
    np.testing.assert_array_equal(first, plain)
    np.testing.assert_array_equal(second, plain)


def test_key_shapes_dtypes_and_statics_select_different_programs(tmp_path):
    def g(n, x):
        return x * n

    with _programs.stored(tmp_path):
        f = _programs.jit(g, key="test.g", static_argnums=(0,))
        assert float(f(2, jnp.ones(3))[0]) == 2.0
        assert float(f(3, jnp.ones(3))[0]) == 3.0          # another static value
        f(2, jnp.ones(4))                                   # another shape
        f(2, jnp.ones(3, dtype=jnp.int32))                  # another dtype
        _programs.jit(g, key="test.h", static_argnums=(0,))(2, jnp.ones(3))  # another key
    assert len(list(tmp_path.iterdir())) == 5


def test_a_corrupt_or_unwritable_store_costs_time_only(tmp_path):
    traces = []
    with _programs.stored(tmp_path):
        make(traces)(*ARGS)
    (path,) = tmp_path.iterdir()
    path.write_bytes(b"not a program")
    with _programs.stored(tmp_path):
        out = make(traces)(*ARGS)["y"]
    assert len(traces) == 2 and path.stat().st_size > 100          # exported again, rewritten
    np.testing.assert_array_equal(out, make([])(*ARGS)["y"])
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with _programs.stored(blocker / "sub"):                         # cannot be created
        np.testing.assert_array_equal(make([])(*ARGS)["y"], out)


def test_no_key_or_a_trace_bypasses_the_store(tmp_path):
    traces = []
    with _programs.stored(tmp_path):
        make(traces, key=None)(*ARGS)
        inner = make(traces)
        jax.jit(lambda s, x: inner(s, x))(*ARGS)
    assert not any(tmp_path.iterdir()) and len(traces) == 2


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_run_flow_in_a_store_is_bit_identical(tmp_path, method):
    from metricflow.flows.integrate import run_flow
    from metricflow.flows.torus import initial_metric
    from metricflow.manifolds import Torus

    T = Torus(2, 8)
    g0 = initial_metric(T, "bumpy", seed=1)
    kw = dict(flow="ricci", kernel="gaussian:0.3", steps=4, dt=1e-3, method=method, record_every=2)
    plain = run_flow(T, g0, **kw)
    for _ in range(2):   # exports, then loads
        with _programs.stored(tmp_path):
            stored = run_flow(T, g0, **kw)
        np.testing.assert_array_equal(stored.final, plain.final)
        assert stored.history == plain.history
    assert any(p.suffix == _programs.SUFFIX for p in tmp_path.iterdir())
