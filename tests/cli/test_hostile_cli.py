"""Hostile input through the command line: every option of ``metricflow cy`` and
``metricflow ntk`` given out-of-range numbers and strings, and corrupted files.

The contract (issue 13): a bad value is refused before any work with exit status 2 and
one line on stderr naming the option, never a traceback.  The commands run in-process
through :func:`metricflow.cli.main`; an exception escaping it is what a user would see
as a traceback, so the helper lets it propagate and the test fails.
"""

from __future__ import annotations

import contextlib
import io
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metricflow.cli import main

# Each parametrised case draws a fifth of the active profile's examples (5 by default,
# 60 with HYPOTHESIS_PROFILE=thorough): every refusal is cheap, but there are ~40 cases.
EXAMPLES = max(1, settings.default.max_examples // 5)


def invoke(args: list[str]) -> tuple[int, str]:
    """Run the CLI in-process; return (exit status, stderr).  Any other exception escapes."""
    err, out = io.StringIO(), io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            main(args)
        except SystemExit as exc:
            return (0 if exc.code is None else exc.code), err.getvalue()
    return 0, err.getvalue()


def assert_refused(args: list[str], option: str) -> None:
    code, err = invoke(args)
    assert code == 2, (args, code, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("metricflow: error:"), (args, err)
    assert "Traceback" not in err
    assert option in lines[0], (args, err)


# ---------------------------------------------------------------- hostile values
def _not(parse):
    """A filter keeping the texts that ``parse`` (int or float, as click parses) rejects."""

    def rejected(text: str) -> bool:
        try:
            parse(text)
        except ValueError:
            return True
        return False

    return rejected


_not_int, _not_float = _not(int), _not(float)


HOSTILE = ["", " ", "nan", "inf", "-inf", "1e308", "1e-320", "-0", "x", "1,2", "0x10", "__import__('os')",
           "9" * 400]
not_int_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12)).filter(_not_int)
not_float_text = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=12)).filter(_not_float)


def ints_below(minimum: int):
    return st.one_of(st.integers(max_value=minimum - 1).map(str), not_int_text,
                     st.floats(allow_nan=True, allow_infinity=True).map(repr).filter(_not_int))


def ints_outside(minimum: int, maximum: int):
    return st.one_of(ints_below(minimum), st.integers(min_value=maximum + 1).map(str))


def reals_not_positive(allow_zero: bool = False):
    bad = st.floats(max_value=0.0, exclude_max=allow_zero, allow_nan=False)
    return st.one_of(bad.map(repr), st.sampled_from(["nan", "inf", "-inf", "1e999"]), not_float_text)


def bad_lists():
    """Comma-separated integer lists with a non-integer or too small entry."""
    return st.one_of(st.just(""), st.just(","), not_int_text.filter(lambda s: "," not in s),
                     st.lists(st.integers(max_value=1), min_size=1, max_size=3).map(
                         lambda v: ",".join(map(str, [100, *v]))))


SEEDS = ints_outside(0, 2**32 - 1)
CHARTS = st.one_of(st.sampled_from(["", "1", "1,1", "9,0", "-1,0", "0,1,2", "a,b", "0,5"]),
                   st.tuples(st.integers(), st.integers()).filter(
                       lambda t: not (0 <= t[0] < 5 and 0 <= t[1] < 5 and t[0] != t[1])).map(
                       lambda t: f"{t[0]},{t[1]}"))
SCALES = st.sampled_from(["nan", "inf", "-inf", "-1", "0", "-0.5", "0.0", "1e999", "-1e308", ""])


@pytest.fixture(scope="module")
def points_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("hostile") / "p.npz"
    code, err = invoke(["cy", "sample", "--n", "60", "--seed", "1", "--out", str(path)])
    assert code == 0, err
    return path


def _cases(points: str, out: str):
    """(base command, option as typed, strategy of invalid values)."""
    sample = ["cy", "sample", "--n", "5", "--out", f"{out}/s.npz"]
    dist = ["cy", "distances", "--n", "20,40", "--out", f"{out}/d"]
    clus = ["cy", "cluster", "--points", points, "--out", f"{out}/c"]
    conv = ["ntk", "convergence", "--widths", "10,20", "--seeds", "1", "--points", "3"]
    met = ["ntk", "metric", "--points", "2", "--width", "4", "--depth", "1"]
    return [
        (sample, "--n", ints_below(1) | st.integers(10**11, 10**40).map(str)),  # memory cap
        (sample, "--seed", SEEDS),
        (sample, "--chart", CHARTS),
        (sample, "--backend", st.text(max_size=8).filter(lambda s: s not in ("numpy", "jax"))),
        (["cy", "sigma", "--points", points], "--metric", st.text(max_size=8).filter(
            lambda s: s not in ("fs", "flat"))),
        (dist, "--n", bad_lists()),
        (dist, "--seed", SEEDS),
        (dist, "--chart", CHARTS),
        (clus, "--batch-size", ints_below(2)),
        (clus, "--clusters", ints_outside(1, 200)),
        (clus, "--heatmap-points", ints_below(10)),
        (clus, "--match", st.text(max_size=8).filter(lambda s: s not in ("greedy", "optimal"))),
        (["ntk", "cosnet"], "--dim", ints_outside(1, 1000)),
        (["ntk", "cosnet"], "--sigma-w", SCALES),
        (["ntk", "gaussnet"], "--sigma-b", SCALES),
        (["ntk", "mlp"], "--depth", ints_outside(0, 1000)),
        (["ntk", "mlp"], "--w-std", reals_not_positive()),
        (["ntk", "mlp"], "--b-std", st.one_of(st.floats(max_value=-1e-300).map(repr),
                                              st.sampled_from(["nan", "inf", "-inf"]), not_float_text)),
        (["ntk", "mlp"], "--activation", st.text(max_size=8).filter(lambda s: s not in ("relu", "erf", "gelu"))),
        (conv, "--widths", bad_lists()),
        (conv, "--seeds", ints_outside(1, 1000)),
        (conv, "--points", ints_below(1)),
        (conv, "--dim", ints_below(1)),
        (conv, "--sigma-w", reals_not_positive()),
        (conv, "--depth", ints_outside(1, 1000)),
        (conv, "--seed", SEEDS),
        (met, "--dim", ints_below(1)),
        (met, "--width", ints_below(1) | st.integers(10**9, 10**30).map(str)),  # memory cap
        (met, "--depth", ints_outside(0, 1000)),
        (met, "--points", ints_below(1)),
        (met, "--seed", SEEDS),
    ]


CASE_IDS = [f"{' '.join(base[:2])} {opt}" for base, opt, _ in _cases("P", "O")]


@pytest.mark.parametrize("index", range(len(CASE_IDS)), ids=CASE_IDS)
@settings(max_examples=EXAMPLES)
@given(data=st.data())
def test_out_of_range_option_is_one_line_exit_2(index, data, points_file):
    base, option, values = _cases(str(points_file), str(points_file.parent / "out"))[index]
    value = data.draw(values, label=option)
    assert_refused([*base, f"{option}={value}"], option)


# ---------------------------------------------------------------- the examples of issue 13
@pytest.mark.parametrize("args,option", [
    (["cy", "sample", "--n", "10000000000000"], "--n"),
    (["cy", "cluster", "--heatmap-points", "-1"], "--heatmap-points"),
    (["cy", "cluster", "--heatmap-points", "0"], "--heatmap-points"),
    (["ntk", "cosnet", "--sigma-w", "nan"], "--sigma-w"),
    (["ntk", "cosnet", "--sigma-w", "inf"], "--sigma-w"),
    (["ntk", "cosnet", "--sigma-w", "-2"], "--sigma-w"),
    (["ntk", "cosnet", "--dim", "100000"], "--dim"),
    (["ntk", "cosnet", "--dim", "60", "--sigma-w", "1e308"], "--sigma-w"),
    (["ntk", "metric", "--seed", "-1"], "--seed"),
    (["ntk", "convergence", "--seed", "-1"], "--seed"),
    (["cy", "sample", "--n", "5", "--seed", "-1"], "--seed"),
])
def test_issue_examples_refused(args, option, points_file, tmp_path):
    if args[1] == "cluster":
        args = [*args, "--points", str(points_file), "--out", str(tmp_path / "c")]
    if args[1] == "sample":
        args = [*args, "--out", str(tmp_path / "s.npz")]
    assert_refused(args, option)


def test_memory_estimate_in_the_message(tmp_path):
    code, err = invoke(["cy", "sample", "--n", "10000000000000", "--out", str(tmp_path / "s.npz")])
    assert code == 2 and "bytes per point" in err and "PiB of memory" in err
    assert list(tmp_path.iterdir()) == []  # refused before anything was written


# ---------------------------------------------------------------- --out that cannot be written
@pytest.mark.parametrize("args", [
    ["cy", "sample", "--n", "5", "--out", "{f}/sub/p.npz"],
    ["cy", "distances", "--n", "20,40", "--out", "{f}/sub"],
    ["cy", "cluster", "--points", "{p}", "--out", "{f}/sub"],
    ["demo", "--only", "cy", "--out", "{f}/sub"],
])
def test_out_under_a_regular_file_is_refused_before_work(args, points_file, tmp_path, monkeypatch):
    """``--out FILE/sub``: refused with exit 2 before anything is computed (the compute
    functions are replaced by ones that fail the test if called)."""
    import metricflow.cy.distances as dist
    import metricflow.cy.sampling as sampling
    import metricflow.experiments.demo as demo

    def computed(*a, **k):
        raise AssertionError("computed before refusing --out")

    for mod, name in ((sampling, "sample"), (dist, "nn_distance_scaling"), (demo, "run_demo")):
        monkeypatch.setattr(mod, name, computed)
    monkeypatch.setattr("metricflow.cy.clustering.batched_clustering", computed)
    blocker = tmp_path / "f"
    blocker.write_text("x")
    argv = [a.format(f=blocker, p=points_file) for a in args]
    assert_refused(argv, "--out")


def test_full_disk_is_one_line_exit_1_and_leaves_nothing(tmp_path, monkeypatch):
    import errno

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "savez", full)
    code, err = invoke(["cy", "sample", "--n", "5", "--out", str(tmp_path / "p.npz")])
    assert code == 1 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert "No space left on device" in err and "nothing was written" in err
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- files given by users
def _corruptions(good: bytes):
    """(name, bytes) of broken versions of a valid file."""
    yield "empty", b""
    yield "truncated-half", good[: len(good) // 2]
    yield "truncated-tail", good[:-10]
    yield "text", b"not a numpy file\n"
    flipped = bytearray(good)
    for i in range(len(flipped) // 3, len(flipped) // 3 + 64):
        flipped[i] ^= 0xFF
    yield "bytes-flipped", bytes(flipped)


@pytest.mark.parametrize("kind", ["empty", "truncated-half", "truncated-tail", "text", "bytes-flipped"])
def test_corrupted_point_set_is_refused_naming_the_file(kind, points_file, tmp_path):
    broken = dict(_corruptions(points_file.read_bytes()))[kind]
    path = tmp_path / f"{kind}.npz"
    path.write_bytes(broken)
    for cmd in (["cy", "sigma", "--points", str(path)],
                ["cy", "cluster", "--points", str(path), "--out", str(tmp_path / "c")]):
        code, err = invoke(cmd)
        assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, (kind, err)
        assert "--points" in err and str(path) in err, err


@pytest.mark.parametrize("kind", ["empty", "truncated-half", "truncated-tail", "text", "bytes-flipped"])
def test_corrupted_npy_for_ntk_mlp_is_refused(kind, tmp_path):
    good = tmp_path / "good.npy"
    np.save(good, np.random.default_rng(0).normal(size=(50, 3)))
    path = tmp_path / f"{kind}.npy"
    path.write_bytes(dict(_corruptions(good.read_bytes()))[kind])
    code, err = invoke(["ntk", "mlp", "--points", str(path)])
    if kind == "bytes-flipped" and code == 0:
        return  # flipped bytes inside the data block are still 150 valid (finite) numbers
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, (kind, err)
    assert "--points" in err


def _edit(points_file, tmp_path, **changes):
    with np.load(points_file) as f:
        data = {k: f[k] for k in f.files}
    for key, fn in changes.items():
        data[key] = fn(data[key])
    path = tmp_path / "edited.npz"
    np.savez(path, **data)
    return path


@pytest.mark.parametrize("key,fn,needle", [
    ("weights", lambda w: -w, "weights must be real and positive"),
    ("weights", lambda w: 0 * w, "weights must be real and positive"),
    ("weights", lambda w: 2 * w, "weights differ"),
    ("weights", lambda w: np.where(np.arange(w.size) == 3, np.nan, w), "NaN or infinite"),
    ("det_g_fs", lambda d: -d, "det_g_fs must be real and positive"),
    ("omega2", lambda o: np.inf * o, "NaN or infinite"),
    ("points", lambda z: z + 1e-3 * np.eye(1, z.shape[1]), "do not satisfy the stored polynomial"),
    ("points", lambda z: z.astype(str), "points must be numeric"),
    ("patch", lambda p: p.astype(np.float64), "patch must hold non-negative integers"),
    ("elim", lambda e: e + 7, "coordinate index"),
    ("line", lambda v: -v - 1, "line must hold non-negative integers"),
    ("coefficients", lambda c: np.full_like(c, np.nan), "coefficients must be"),
    ("exponents", lambda e: -e, "exponents must be"),
    ("meta", lambda m: np.array("[1, 2]"), "not a metricflow point-set description"),
    ("meta", lambda m: np.array("{not json"), "unreadable metadata"),
])
def test_edited_point_set_is_refused(key, fn, needle, points_file, tmp_path):
    """`cy sigma` on a file with negated weights printed a negative sigma (issue 13)."""
    path = _edit(points_file, tmp_path, **{key: fn})
    code, err = invoke(["cy", "sigma", "--points", str(path)])
    assert code == 2 and "Traceback" not in err and len(err.strip().splitlines()) == 1, err
    assert needle in err and "--points" in err


def test_npz_member_that_is_not_an_array_is_refused(points_file, tmp_path):
    """A zip archive with a member that is not a .npy file."""
    path = tmp_path / "odd.npz"
    with zipfile.ZipFile(points_file) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item)
            dst.writestr(item, b"garbage" if item.filename == "weights.npy" else data)
    code, err = invoke(["cy", "sigma", "--points", str(path)])
    assert code == 2 and "--points" in err and "Traceback" not in err, err


def test_a_valid_file_still_loads(points_file):
    from metricflow.cy import load, sigma

    code, err = invoke(["cy", "sigma", "--points", str(points_file)])
    assert code == 0, err
    assert 0 < sigma(load(points_file))["sigma"] < 1


def test_an_internal_error_is_one_line_unless_debugging(monkeypatch, capsys):
    import pytest

    from metricflow.cli import _main

    def boom(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(_main.cli, "main", boom)
    monkeypatch.delenv("METRICFLOW_DEBUG", raising=False)
    with pytest.raises(SystemExit) as exc:
        _main.main(["flow", "run"])
    err = capsys.readouterr().err
    assert exc.value.code == 1 and err.count("\n") == 1 and "RuntimeError: boom" in err and "Traceback" not in err
    monkeypatch.setenv("METRICFLOW_DEBUG", "1")
    with pytest.raises(RuntimeError, match="boom"):
        _main.main(["flow", "run"])
