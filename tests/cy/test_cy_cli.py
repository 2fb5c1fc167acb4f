"""The 'metricflow cy' command group: the acceptance-check contract and bad input."""

import json
import subprocess
import sys

import numpy as np
import pytest

from metricflow.cli import main


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def ok(args, capsys):
    try:
        main(args)
    except SystemExit as exc:  # click may exit 0
        assert exc.code in (0, None)
    return capsys.readouterr().out


def test_sample_sigma_cluster(tmp_path, capsys):
    f = tmp_path / "p.npz"
    ok(["cy", "sample", "--n", "600", "--seed", "3", "--out", str(f)], capsys)
    assert f.exists()
    doc = json.loads(ok(["cy", "sigma", "--points", str(f), "--metric", "fs", "--json"], capsys))
    assert {"sigma", "sigma_stderr"} <= set(doc)
    assert doc["sigma_stderr"] > 0  # sigma itself is pinned in test_cy_measures.py
    assert abs(doc["sigma"] - 0.37318) < 5 * np.hypot(doc["sigma_stderr"], 0.00045)
    out = tmp_path / "cl"
    out.mkdir()
    (out / ".labels.npz.k1ll3d_x.tmp").write_bytes(b"partial")  # left by a killed run
    (out / "notes.txt").write_text("mine")
    ok(["cy", "cluster", "--points", str(f), "--batch-size", "150", "--clusters", "6",
        "--out", str(out)], capsys)
    labels = np.load(out / "labels.npz")["labels"]
    assert labels.shape == (600,) and set(labels.tolist()) <= set(range(6))
    assert (out / "heatmaps.png").stat().st_size > 1000
    assert json.loads((out / "cluster.json").read_text())["clusters"] == 6
    assert sorted(p.name for p in out.iterdir()) == ["cluster.json", "heatmaps.png", "labels.npz", "notes.txt"]


def test_sample_other_polys(tmp_path, capsys):
    for poly in ["dwork:0.3", "quartic-k3", "cubic-curve", "z0**3+z1**3+z2**3+0.5*z0*z1*z2"]:
        doc = json.loads(ok(["cy", "sample", "--n", "50", "--seed", "1", "--poly", poly,
                             "--out", str(tmp_path / "x.npz"), "--json"], capsys))
        assert doc["n"] == 50 and doc["max_residual"] < 1e-10


def test_distances_json(tmp_path, capsys):
    doc = json.loads(ok(["cy", "distances", "--n", "200,400", "--seed", "1", "--json",
                         "--out", str(tmp_path)], capsys))
    assert [r["n"] for r in doc["rows"]] == [200, 400]
    assert {"n", "mean", "min", "max"} <= set(doc["rows"][0])
    assert doc["exponent"] < 0 < doc["prefactor"]
    assert (tmp_path / "nn_distances.png").exists()


def test_sample_backends_give_the_same_points(tmp_path, capsys):
    docs = {}
    for backend in ("numpy", "jax"):
        f = tmp_path / f"{backend}.npz"
        docs[backend] = json.loads(ok(["cy", "sample", "--n", "100", "--seed", "2", "--backend",
                                       backend, "--out", str(f), "--json"], capsys))
    assert docs["jax"]["backend"] == "jax" and docs["numpy"]["backend"] == "numpy"
    a, b = np.load(tmp_path / "numpy.npz")["points"], np.load(tmp_path / "jax.npz")["points"]
    # the same roots, computed in a different operation order: they differ by eps times the
    # roots' condition number (measured: at most 9.4e-14 = 423 eps over 2,000 points)
    assert np.allclose(a, b, rtol=0, atol=1e-12)


@pytest.mark.parametrize("args,needle", [
    (["cy", "sample", "--n", "10", "--backend", "torch", "--out", "X"], "--backend"),
    (["cy", "sample", "--n", "10", "--poly", "z0**5+z1**4+z2**5", "--out", "X"], "--poly"),
    (["cy", "sample", "--n", "10", "--poly", "dwork:1", "--out", "X"], "singular"),
    (["cy", "sample", "--n", "0", "--out", "X"], "--n"),
    (["cy", "sigma", "--points", "no/such.npz"], "--points"),
    (["cy", "sample", "--n", "10", "--chart", "1,1", "--out", "X"], "--chart"),
    (["cy", "distances", "--n", "1,x"], "--n"),
])
def test_bad_input_one_line_exit_2(args, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run(args, capsys)
    assert code == 2
    assert err.strip().count("\n") == 0, err
    assert needle in err


def test_sigma_on_wrong_file(tmp_path, capsys):
    np.savez(tmp_path / "w.npz", a=np.ones(2))
    code, _, err = run(["cy", "sigma", "--points", str(tmp_path / "w.npz")], capsys)
    assert code == 2 and "--points" in err and "not a metricflow point set" in err
    f = tmp_path / "k3.npz"
    ok(["cy", "sample", "--n", "20", "--poly", "quartic-k3", "--out", str(f)], capsys)
    code, _, err = run(["cy", "sigma", "--points", str(f), "--poly", "fermat-quintic"], capsys)
    assert code == 2 and "not on" in err


def test_help_is_fast_and_imports_nothing_heavy():
    code = ("import sys; from metricflow.cli import main\n"
            "try:\n    main(['cy', '--help'])\nexcept SystemExit:\n    pass\n"
            "heavy = ('scipy', 'jax', 'numba', 'sympy', 'matplotlib')\n"
            "print(sorted(m for m in heavy if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
