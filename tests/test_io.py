"""Atomic writes leave either the old file or the new one, never a partial one."""

import json

import numpy as np
import pytest

from metricflow.io import save_npz_atomic, to_jsonable, write_json_atomic


def test_json_roundtrip_with_numpy(tmp_path):
    path = write_json_atomic(tmp_path / "a" / "r.json", {"x": np.float64(1.5), "v": np.arange(3)})
    assert json.loads(path.read_text()) == {"x": 1.5, "v": [0, 1, 2]}
    assert [p.name for p in path.parent.iterdir()] == ["r.json"]


def test_failed_write_keeps_old_file(tmp_path):
    target = tmp_path / "r.json"
    write_json_atomic(target, {"ok": 1})

    class Boom:
        pass

    with pytest.raises(TypeError):
        write_json_atomic(target, {"bad": Boom()})
    assert json.loads(target.read_text()) == {"ok": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_npz_roundtrip(tmp_path):
    path = save_npz_atomic(tmp_path / "p.npz", a=np.eye(2))
    with np.load(path) as data:
        assert np.array_equal(data["a"], np.eye(2))


def test_to_jsonable_nonfinite():
    assert to_jsonable([float("nan"), float("inf")]) == ["nan", "inf"]


def test_written_files_are_world_readable(tmp_path):
    import stat

    path = write_json_atomic(tmp_path / "r.json", {"a": 1})
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
