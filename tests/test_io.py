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


# ---------------------------------------------------------------- output paths and failures
def test_prepare_output_dir_refuses_a_file_parent(tmp_path):
    from metricflow.errors import InvalidInputError
    from metricflow.io import prepare_output_dir, prepare_output_file

    (tmp_path / "f").write_text("x")
    for target in (tmp_path / "f", tmp_path / "f" / "sub", tmp_path / "f" / "a" / "b"):
        with pytest.raises(InvalidInputError) as exc:
            prepare_output_dir(target, argument="outdir")
        assert exc.value.argument == "outdir" and "is a file" in exc.value.message
    with pytest.raises(InvalidInputError, match="is a folder"):
        prepare_output_file(tmp_path)
    with pytest.raises(InvalidInputError, match="is a file"):
        prepare_output_file(tmp_path / "f" / "p.npz")
    with pytest.raises(InvalidInputError, match="not a regular file"):
        prepare_output_file("/dev/null")  # would otherwise be replaced by a regular file
    assert prepare_output_dir(tmp_path / "new" / "deep").is_dir()
    assert sorted(p.name for p in (tmp_path / "new" / "deep").iterdir()) == []  # probe removed


def test_prepare_output_dir_refuses_an_unwritable_folder(tmp_path, monkeypatch):
    """Simulated (the tests may run as root, who can write anywhere): creating the probe
    file fails with EACCES."""
    import errno
    import tempfile

    from metricflow.errors import InvalidInputError
    from metricflow.io import prepare_output_dir

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(InvalidInputError, match="Permission denied"):
        prepare_output_dir(tmp_path / "ro")


def test_full_disk_leaves_nothing_and_says_so(tmp_path, monkeypatch):
    """ENOSPC during a write: a MetricflowError (not an InvalidInputError: the path is fine),
    the old file untouched, no temporary file left."""
    import errno

    from metricflow.errors import InvalidInputError, MetricflowError

    target = write_json_atomic(tmp_path / "r.json", {"ok": 1})

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    with pytest.raises(MetricflowError) as exc:
        save_npz_atomic(tmp_path / "p.npz", a=np.eye(2))
    assert not isinstance(exc.value, InvalidInputError)
    assert "No space left" in str(exc.value) and "nothing was written" in str(exc.value)
    monkeypatch.setattr("os.fsync", full)
    with pytest.raises(MetricflowError, match="No space left"):
        write_json_atomic(target, {"new": 2})
    assert json.loads(target.read_text()) == {"ok": 1}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.json"]


def test_writer_under_a_file_is_bad_input(tmp_path):
    from metricflow.errors import InvalidInputError

    (tmp_path / "f").write_text("x")
    with pytest.raises(InvalidInputError) as exc:
        write_json_atomic(tmp_path / "f" / "sub" / "r.json", {})
    assert exc.value.argument == "out"
    (tmp_path / "d").mkdir()
    with pytest.raises(InvalidInputError, match="not a regular file"):
        write_json_atomic(tmp_path / "d", {})


def test_remove_stale_temporaries_only_removes_the_writers_pattern(tmp_path):
    from metricflow.io import prepare_output_dir, remove_stale_temporaries, temporary_pattern

    keep = ["checkpoint.npz", ".checkpoint.npz.tmp", ".checkpoint.npz.abc.tmp", "x.tmp",
            ".checkpoint.npz.ABCDEFGH.tmp", ".other.npz.abcdefgh.tmpx", "notes.abcdefgh.tmp"]
    keep += [".notes.abcdefgh.tmp", ".x.swp.abcdefgh.tmp"]  # not a metricflow output suffix
    stale = [".checkpoint.npz.ab_d1234.tmp", ".history.json.zzzzzzzz.tmp"]
    for name in keep + stale:
        (tmp_path / name).write_text("x")
    (tmp_path / ".run.json.abcdefgh.tmp").mkdir()  # a folder of that name is not touched
    assert temporary_pattern("checkpoint.npz").fullmatch(stale[0])
    removed = remove_stale_temporaries(tmp_path, ["checkpoint.npz"])
    assert [p.name for p in removed] == [stale[0]]
    prepare_output_dir(tmp_path)  # outputs=None: every temporary of the writers' pattern
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(keep + [".run.json.abcdefgh.tmp"])


def test_killed_writer_temporary_matches_the_pattern(tmp_path, monkeypatch):
    """The name a real writer uses is the one remove_stale_temporaries recognises: a write
    interrupted before its rename (kill -9 simulated by making os.replace never return and
    skipping the clean-up) leaves exactly one file, and it is removed."""
    import os

    from metricflow.io import remove_stale_temporaries

    class Killed(BaseException):
        pass

    def killed(*args):
        raise Killed

    monkeypatch.setattr(os, "replace", killed)
    monkeypatch.setattr(os, "unlink", lambda p: None)  # a killed process cleans nothing up
    with pytest.raises(Killed):
        save_npz_atomic(tmp_path / "checkpoint.npz", a=np.eye(2))
    monkeypatch.undo()
    (orphan,) = list(tmp_path.iterdir())
    assert remove_stale_temporaries(tmp_path, ["checkpoint.npz"]) == [orphan]
    assert list(tmp_path.iterdir()) == []
