"""``metricflow ntk``: the acceptance-check commands and their JSON keys."""

import json

import numpy as np
import sympy as sp
from click.testing import CliRunner

from metricflow.cli import cli
from metricflow.kernels.mlp import mlp_kernels


def run(args):
    result = CliRunner().invoke(cli, ["ntk", *args])
    return result


def test_cosnet_json():
    res = run(["cosnet", "--dim", "3", "--sigma-w", "2", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    # corrected (2.36)/(2.37): A = sqrt(2)(sigma_w/sqrt(2 pi d))^(d/2), sigma = sqrt(d)/sigma_w
    assert np.isclose(doc["A"], np.sqrt(2) * (2 / np.sqrt(2 * np.pi * 3)) ** 1.5, rtol=1e-14)
    assert np.isclose(doc["sigma"], np.sqrt(3) / 2, rtol=1e-14)
    r = sp.Symbol("r")
    k = sp.sympify(doc["kernel"], locals={"r": r})
    s2 = 3 / 4
    assert np.isclose(float(k.subs(r, 0.7)),
                      (2 * np.pi * s2) ** -1.5 * np.exp(-0.49 / (2 * s2)), rtol=1e-13)


def test_mlp_json(tmp_path):
    x = np.random.default_rng(0).normal(size=(4, 3))
    path = tmp_path / "x.npy"
    np.save(path, x)
    res = run(["mlp", "--activation", "gelu", "--depth", "2", "--w-std", "1.5", "--b-std",
               "0.1", "--points", str(path), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    ref = mlp_kernels(x, activation="gelu", depth=2, w_std=1.5, b_std=0.1)
    np.testing.assert_array_equal(np.array(doc["ntk"]), ref["ntk"])   # JSON floats round-trip
    np.testing.assert_array_equal(np.array(doc["nngp"]), ref["nngp"])


def test_convergence_json():
    res = run(["convergence", "--arch", "cosnet", "--dim", "2", "--widths", "50,500",
               "--seeds", "2", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert [r["width"] for r in doc["rows"]] == [50, 500]
    assert all(r["rel_error"] > 0 for r in doc["rows"])
    assert doc["slope"] < 0


def test_bad_input_is_usage_error():
    res = run(["cosnet", "--dim", "0", "--json"])
    assert res.exit_code == 2
    assert "--dim" in res.output
    res = run(["convergence", "--widths", "10,x"])
    assert res.exit_code == 2 and "--widths" in res.output


def test_gaussnet_and_metric_commands():
    res = run(["gaussnet", "--dim", "2", "--sigma-w", "3/2", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert np.isclose(doc["A"], (1.5 / np.sqrt(4 * np.pi)) ** 1.0, rtol=1e-14)
    res = run(["metric", "--dim", "2", "--kind", "symmetric", "--width", "4", "--depth", "1",
               "--points", "2", "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    assert doc["shape"] == [3, 3, 2, 2]
    assert doc["identity_max_abs_error"] <= 1e-12 * doc["theta_max_abs"]
    for sub in ["cosnet", "gaussnet", "mlp", "convergence", "metric"]:
        assert run([sub, "--help"]).exit_code == 0
