"""Finite networks for Calabi–Yau metrics (issue 15): models, losses, training, resume, CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest

from metricflow import cy
from metricflow._x64 import x64
from metricflow.cy import losses as L
from metricflow.cy import networks as nw
from metricflow.errors import InvalidInputError
from metricflow.experiments.cy_networks import TrainConfig, run_training


@pytest.fixture(scope="module")
def points():
    return cy.sample("fermat-quintic", n=200, seed=3)


def _params(kind, scale=1.0, seed=0):
    import jax

    arch = nw.Architecture(kind, (16, 16), "gelu", 5, out_scale=scale)
    with x64():
        return arch, nw.init_params(arch, jax.random.PRNGKey(seed))


@pytest.mark.parametrize("kind", nw.KINDS)
def test_models_hermitian_positive_at_init(points, kind):
    arch, p = _params(kind, scale=0.1)
    g = nw.NetworkMetric(points.surface, arch, p)(points)
    # assembled as A + A^dagger and J^T G conj(J): hermitian to round-off (|g| ~ 1)
    assert np.abs(g - np.conj(np.swapaxes(g, 1, 2))).max() < 1e-13
    assert np.linalg.eigvalsh(g).min() > 0
    # an O(0.1) perturbation of g_FS: not g_FS itself (the network is active)
    assert 1e-4 < np.abs(g - points.g_fs).max() < 1.0


def test_ddbar_of_log_norm_is_fubini_study(points):
    import jax.numpy as jnp

    with x64():
        for z in points.points[:5]:
            z = jnp.asarray(z)
            # the reference route (real Hessian along v_a, i v_a) in all n+1 coordinate directions
            G = nw.ddbar_pulled(lambda w: jnp.log(jnp.sum(jnp.abs(w) ** 2)), z, jnp.eye(5, dtype=z.dtype))
            # entries O(1); autodiff Hessian of a smooth closed form: round-off
            assert np.abs(G - nw.fs_ambient(z)).max() < 1e-13


def test_phi_model_invariant_kahler_and_chart_independent(points):
    import jax
    import jax.numpy as jnp

    arch, p = _params("phi")
    arch_m, pm = _params("mult")
    X = points.surface
    with x64():
        z = jnp.asarray(points.points[:10])
        lam = 0.7 - 1.9j
        pot = jax.jit(jax.vmap(lambda a: nw.potential(arch, p, a)))
        assert np.allclose(pot(z), pot(lam * z), rtol=0, atol=1e-13)  # u_ij exactly invariant: round-off only
        data = {k: jnp.asarray(v) for k, v in L.prepare(points.subset(slice(0, 20))).items()}
        coeffs = jnp.asarray(X.coefficients)
        dj = jax.jit(lambda q, d: L.kahler_measure(arch, q, X.exponents, coeffs, d))(p, data)
        tr = jax.jit(lambda q, d: L.transition_measure(arch, q, d))(p, data)
        dj_m = jax.jit(lambda q, d: L.kahler_measure(arch_m, q, X.exponents, coeffs, d))(pm, data)
    # |∂g|^2 ~ O(1): dJ of a potential vanishes to round-off squared; the mult model's does not
    dj, tr, dj_m = np.asarray(dj), np.asarray(tr), np.asarray(dj_m)   # float64, reduced outside x64 by numpy
    assert dj.dtype == np.float64 and dj.max() < 1e-24 and tr.max() < 1e-24
    assert dj_m.mean() > 1e-8


def test_sigma_loss_equals_cy_sigma(points):
    import jax.numpy as jnp

    arch, p = _params("add", scale=0.1)
    net = nw.NetworkMetric(points.surface, arch, p)
    with x64():
        data = {k: jnp.asarray(v) for k, v in L.prepare(points, transition=False).items()}
        sig, _ = L.sigma_and_volume(nw.batch_metric(arch, p, data["z"], data["jac"]), data["w"], data["det_fs"])
    # the same formula on the same determinants: agreement to round-off of sums of ~200 terms
    assert abs(float(sig) - cy.sigma(points, net)["sigma"]) < 1e-12


CFG = dict(model="mult", hidden=(16, 16), activation="gelu", epochs=3, n_points=400, n_test=100, batch_size=100,
           lr=3e-3, n_diagnostic=20, weights={"transition": 0.0})


def _test_seed(seed):
    from metricflow.experiments.cy_networks import _seeds

    return _seeds(seed)[1]


class Stop(Exception):
    pass


def test_training_lowers_sigma_saves_a_metric_and_resumes_bit_for_bit(tmp_path):
    full = run_training(TrainConfig(**CFG), out=tmp_path / "a")
    assert full["sigma_train_final"] < full["sigma_train_initial"]
    assert set(json.loads((tmp_path / "a" / "train.json").read_text())) >= {"sigma_test_final", "test_gain"}
    from metricflow.cy.saved import metric_option

    net = metric_option(str(tmp_path / "a"))
    assert isinstance(net, nw.NetworkMetric)
    ps = cy.sample("fermat-quintic", n=100, seed=_test_seed(0))  # the run's test points
    assert abs(cy.sigma(ps, net)["sigma"] - full["sigma_test_final"]) < 1e-12  # the same metric, reloaded

    def kill(row):
        if row["step"] == 1:
            raise Stop

    with pytest.raises(Stop):
        run_training(TrainConfig(**CFG), out=tmp_path / "b", callback=kill)
    resumed = run_training(TrainConfig(**CFG), out=tmp_path / "b", resume=True)
    assert resumed["epochs_run_here"] == 2
    for a, b in zip(full["state"]["params"], resumed["state"]["params"], strict=True):
        assert np.array_equal(np.asarray(a["W"]), np.asarray(b["W"]))
    assert full["sigma_test_final"] == resumed["sigma_test_final"]
    with pytest.raises(InvalidInputError, match="lr"):
        run_training(TrainConfig(**{**CFG, "lr": 1e-2}), out=tmp_path / "b", resume=True)


def test_cli_contract_and_sigma_metric(tmp_path, run_cli):
    code, out, err = run_cli(["cy", "train", "--model", "phi", "--hidden", "8,8", "--activation", "relu", "--epochs",
                              "1", "--n-points", "200", "--seed", "1", "--out", str(tmp_path), "--batch-size", "100",
                              "--precision", "float32", "--json"])
    assert code == 0, err
    doc = json.loads(out)
    for key in ("sigma_train_initial", "sigma_train_final", "sigma_test_initial", "sigma_test_final", "test_gain",
                "seconds_per_epoch"):
        assert np.isfinite(doc[key])
    pts = tmp_path / "p.npz"
    assert run_cli(["cy", "sample", "--n", "100", "--out", str(pts)])[0] == 0
    code, out, err = run_cli(["cy", "sigma", "--points", str(pts), "--metric", str(tmp_path), "--json"])
    assert code == 0, err
    assert 0 < json.loads(out)["sigma"] < 1
    net = nw.load_network(tmp_path)  # the float32 network reloads in float32
    assert net.arch.precision == "float32" and net.params[0]["W"].dtype == np.float32


@pytest.mark.parametrize("args,option", [
    (["--hidden", "0,4"], "--hidden"), (["--hidden", "1e3"], "--hidden"), (["--epochs", "-1"], "--epochs"),
    (["--lr", "inf"], "--lr"), (["--weights", "sigma=__import__('os')"], "--weights"),
    (["--weights", "kahler=-1"], "--weights"), (["--n-points", "10"], "--n-points"),
    (["--activation", "tanh"], "--activation"), (["--poly", "z0**2+z1"], "--poly"), (["--seed", "-3"], "--seed"),
    (["--out", "/proc/forbidden"], "--out"), (["--precision", "float16"], "--precision"),
    (["--model", "phi", "--inputs", "invariant:99"], "--inputs"), (["--inputs", "monomials:4"], "--inputs"),
    (["--model", "phi", "--inputs", "invariant:6", "--poly", "dwork:0.5"], "--inputs"),
    (["--model", "phi", "--inputs", "eval('1')"], "--inputs"), (["--out-scale", "-1"], "--out-scale"),
])
def test_hostile_options(tmp_path, run_cli, args, option):
    code, out, err = run_cli(["cy", "train", "--out", str(tmp_path / "o"), *args])
    assert code == 2 and option in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()  # validated before any work


def test_fig4_kernel_evolves_and_lazy_twin_is_frozen(tmp_path):
    import click
    from click.testing import CliRunner

    from metricflow.cli.reproduce_fig4 import fig4

    group = click.Group("reproduce", commands={"fig4": fig4})
    r = CliRunner().invoke(group, ["fig4", "--out", str(tmp_path), "--hidden", "16,16", "--epochs", "2",
                                   "--n-points", "300", "--batch-size", "100", "--lr", "1e-2", "--lazy-twin", "--json"])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.output[r.output.index("{"):])
    w = doc["wasserstein"]
    assert len(w) == 3 and w[0] == 0.0 and w[-1] > 0  # the finite network's kernel moves
    assert doc["frobenius_change"][-1] > 1e-3
    # the linearised twin's tangent kernel is the initial one: frozen to round-off (relative 1e-12)
    assert max(doc["lazy_twin"]["frobenius_change"]) < 1e-12
    for name in ("fig4_spectra.png", "fig4_wasserstein.png", "fig4_kernel_change.png", "fig4_spectra.npz"):
        assert (tmp_path / name).is_file()
    r = CliRunner().invoke(group, ["fig4", "--out", str(tmp_path), "--hidden", "x"])
    assert r.exit_code == 2 and "--hidden" in r.output
    r = CliRunner().invoke(group, ["fig4", "--out", str(tmp_path / "w"), "--widths", "0,64"])
    assert r.exit_code == 2 and "--widths" in r.output and not (tmp_path / "w").exists()


SHARDED = """
import json, jax, jax.numpy as jnp
from metricflow.experiments.cy_networks import TrainConfig, batch_sharding, run_training
shard = batch_sharding(100)
f = jax.jit(jax.grad(lambda w, x: jnp.sum(jnp.tanh(shard({"x": x})["x"] @ w))))
hlo = f.lower(jnp.ones(3), jnp.ones((100, 3))).compile().as_text()
cfg = TrainConfig(model="add", hidden=(8, 8), epochs=1, n_points=400, n_test=100, batch_size=100, n_diagnostic=10,
                  weights={"transition": 0.0})
print(json.dumps({"devices": len(jax.devices()), "all_reduce": "all-reduce" in hlo,
                  "sigma": run_training(cfg)["sigma_train_final"]}))
"""


@pytest.mark.slow  # a subprocess with 4 host devices compiling the epoch: ~40 s on the loaded 2-core CPU
def test_data_parallel_over_four_host_devices():
    import os
    import subprocess
    import sys

    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=4"}
    out = subprocess.run([sys.executable, "-c", SHARDED], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    doc = json.loads(out.stdout.strip().splitlines()[-1])
    assert doc["devices"] == 4 and doc["all_reduce"]  # the batch is split and the gradient reduced
    one = run_training(TrainConfig(model="add", hidden=(8, 8), epochs=1, n_points=400, n_test=100, batch_size=100,
                                   n_diagnostic=10, weights={"transition": 0.0}))
    # the same mathematics with sums split over devices: agreement to round-off of O(1) sums
    assert abs(doc["sigma"] - one["sigma_train_final"]) < 1e-10
