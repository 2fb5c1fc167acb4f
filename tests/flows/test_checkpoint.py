"""The one checkpoint format (metricflow.flows.checkpoint) and the shared monitors."""

import numpy as np
import pytest

from metricflow.errors import InvalidInputError, NumericalError
from metricflow.flows import checkpoint as ck
from metricflow.flows.monitors import check_finite, check_metric

SETTINGS = {"manifold": "torus2", "n": 16, "seed": 0, "dt": 0.002, "kernel": "local", "shape": (2, 3)}


def test_round_trip(tmp_path):
    path = tmp_path / "c.npz"
    arrays = {"g": np.eye(2)[None].repeat(3, 0), "phi": np.arange(3.0)}
    ck.save(path, settings=SETTINGS, arrays=arrays, progress={"record": 2, "history": [{"t": 0.0}]})
    got = ck.load(path, dict(SETTINGS))
    assert got.progress == {"record": 2, "history": [{"t": 0.0}]}
    assert sorted(got.arrays) == ["g", "phi"]
    assert np.array_equal(got.arrays["g"], arrays["g"]) and got.arrays["phi"].dtype == np.float64
    assert ck.counter(got.progress, "record", 5, path) == 2
    with pytest.raises(InvalidInputError, match="record counter"):
        ck.counter(got.progress, "record", 1, path)
    with pytest.raises(InvalidInputError, match="record counter"):
        ck.counter({"record": -1}, "record", 5, path)


@pytest.mark.parametrize("key, value", [("seed", 1), ("dt", 0.001), ("kernel", "gaussian:0.3"), ("extra", 1)])
def test_a_changed_setting_is_refused_by_name(tmp_path, key, value):
    path = tmp_path / "c.npz"
    ck.save(path, settings=SETTINGS, arrays={"g": np.ones(2)}, progress={"record": 0})
    with pytest.raises(InvalidInputError) as exc:
        ck.load(path, {**SETTINGS, key: value})
    assert exc.value.argument == key and "written with" in exc.value.message


def test_truncated_and_foreign_files_are_refused(tmp_path):
    path = tmp_path / "c.npz"
    ck.save(path, settings=SETTINGS, arrays={"g": np.ones(1000)}, progress={"record": 0})
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InvalidInputError, match="not a usable metricflow checkpoint"):
        ck.load(path, SETTINGS)
    np.savez(path, x=np.ones(3))
    with pytest.raises(InvalidInputError, match="format/settings/progress"):
        ck.load(path, SETTINGS)
    path.write_text("not a zip")
    with pytest.raises(InvalidInputError, match="not a usable"):
        ck.load(path, SETTINGS)


def test_a_nan_state_is_never_resumed(tmp_path):
    path = tmp_path / "c.npz"
    ck.save(path, settings=SETTINGS, arrays={"g": np.array([1.0, np.nan])}, progress={"record": 1})
    with pytest.raises(InvalidInputError, match="NaN or inf"):
        ck.load(path, SETTINGS)


def test_pytree_leaves_round_trip(tmp_path):
    import jax.numpy as jnp

    tree = {"w": jnp.ones((2, 3)), "b": [jnp.zeros(3), jnp.arange(4.0)]}
    path = tmp_path / "c.npz"
    ck.save(path, settings={}, arrays=ck.tree_to_arrays(tree, "params"), progress={})
    back = ck.tree_from_arrays(ck.load(path, {}).arrays, "params", tree, path)
    assert all(np.array_equal(a, b) for a, b in zip(
        __import__("jax").tree_util.tree_leaves(back), __import__("jax").tree_util.tree_leaves(tree), strict=True))
    with pytest.raises(InvalidInputError, match="does not match"):
        ck.tree_from_arrays(ck.load(path, {}).arrays, "params", {"w": jnp.ones((2, 2)), "b": tree["b"]}, path)


def test_monitors_name_time_and_place():
    g = np.broadcast_to(np.eye(2), (4, 4, 2, 2)).copy()
    check_metric(g, 0.1)
    g[1, 2] = [[1.0, 2.0], [2.0, 1.0]]
    with pytest.raises(NumericalError, match=r"positive definite at t = 0.1 .*point index \(1, 2\)"):
        check_metric(g, 0.1)
    g[1, 2, 0, 0] = np.nan
    with pytest.raises(NumericalError, match=r"NaN/inf at t = 0.1 \(point index \(1, 2\)\); reduce --dt"):
        check_metric(g, 0.1)
    h = np.array([[[2.0, 1j], [-1j, 2.0]], [[1.0, 2j], [-2j, 1.0]]])  # hermitian; the second is indefinite
    with pytest.raises(NumericalError, match=r"point index \(1,\)"):
        check_metric(h, 0.0)
    with pytest.raises(NumericalError, match="dilaton became NaN"):
        check_finite("dilaton", [0.0, np.inf], 0.5)
