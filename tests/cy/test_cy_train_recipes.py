"""The accuracy recipes of the Calabi–Yau networks (issue 15): Adam's schedules, the
full-batch L-BFGS phase (exact resume across it) and the potential network on top of an
algebraic metric (``cy train --base``)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from metricflow import cy
from metricflow._x64 import x64
from metricflow.cy import algebraic as alg
from metricflow.cy import losses as L
from metricflow.cy import networks as nw
from metricflow.errors import InvalidInputError
from metricflow.experiments import cy_optim
from metricflow.experiments.cy_networks import TrainConfig, run_training


@pytest.fixture(scope="module")
def points():
    return cy.sample("fermat-quintic", n=60, seed=5)


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory):
    """A degree-2 algebraic metric with a random hermitian positive-definite H (not the
    balanced one: nothing below may rely on a special H), saved like 'cy donaldson --out'."""
    X = cy.hypersurface("fermat-quintic")
    E = alg.AlgebraicMetric.identity(X, 2).basis
    rng = np.random.default_rng(0)
    A = rng.normal(size=(len(E), len(E))) + 1j * rng.normal(size=(len(E), len(E)))
    H = np.eye(len(E)) + 0.05 * (A @ np.conj(A.T))
    d = tmp_path_factory.mktemp("base")
    alg.save_metric(alg.AlgebraicMetric(X, 2, E, H), d)
    return d


def test_schedules():
    import optax  # noqa: F401  (the schedules are optax's)

    nb, epochs = 10, 5
    lr = cy_optim.learning_rate("cosine", 1e-2, 1e-4, 1, epochs, nb)
    assert float(lr(0)) == 0.0 and abs(float(lr(nb)) - 1e-2) < 1e-9  # the warm-up ends at the peak
    assert abs(float(lr(epochs * nb)) - 1e-4) < 1e-9  # ... and the decay at lr_final
    ex = cy_optim.learning_rate("exponential", 1e-2, 1e-4, 0, epochs, nb)
    assert abs(float(ex(epochs * nb)) / 1e-4 - 1) < 1e-5  # float32 schedule arithmetic: relative 1e-5
    assert float(ex(nb - 1)) == float(ex(0))  # one rate per epoch (staircase)
    assert cy_optim.learning_rate("constant", 3e-3, 3e-3, 0, epochs, nb) == 3e-3
    assert cy_optim.check_schedule("cosine", 1e-3, None, 0, 5) == (1e-5, 0)
    for args, name in [(("linear", 1e-3, None, 0, 5), "schedule"), (("cosine", 1e-3, 2e-3, 0, 5), "lr_final"),
                       (("cosine", 1e-3, None, 5, 5), "warmup"), (("constant", 1e-3, 1e-4, 0, 5), "lr_final")]:
        with pytest.raises(InvalidInputError) as exc:
            cy_optim.check_schedule(*args)
        assert exc.value.argument == name


def test_full_batch_loss_is_the_loss_on_all_points(points):
    """The chunked full-batch loss of the L-BFGS phase is the batch loss on all its points
    (σ with one κ, not a mean of chunk σ's)."""
    import jax
    import jax.numpy as jnp

    arch = nw.Architecture("mult", (8,), "gelu", 5)
    w = L.check_weights({})
    X = points.surface
    with x64():
        p = nw.init_params(arch, jax.random.PRNGKey(1))
        data = {k: jnp.asarray(v) for k, v in L.prepare(points).items()}
        E, c = X.exponents, jnp.asarray(X.coefficients)
        whole = L.losses(arch, p, data, E, c, w)
        full = cy_optim.full_loss(lambda b: L.terms(arch, p, b, E, c, w), cy_optim.chunked(data, 60, 20), w)
    for key in ("sigma", "kahler", "transition", "volume", "total"):
        # the same sums regrouped in chunks of 20: round-off of O(1) sums of 60 terms
        assert abs(float(whole[key]) - float(full[key])) < 1e-13 * max(1.0, abs(float(whole[key])))


def test_phi_on_base_is_kahler_and_reduces_to_the_base(points, base_dir):
    import jax
    import jax.numpy as jnp

    base = alg.load_metric(base_dir)
    G = alg.ambient_form(base)
    arch = nw.Architecture("phi", (16, 16), "gelu", 5)
    X = points.surface
    with x64():
        p = nw.init_params(arch, jax.random.PRNGKey(2))
        data = {k: jnp.asarray(v) for k, v in L.prepare(points, base=base).items()}
        # the pulled-back ambient form is the algebraic metric's closed form (the same B.1 by two routes)
        pulled = jax.vmap(lambda z, j: j.T @ G(z) @ jnp.conj(j))(data["z"], data["jac"])
        assert np.abs(np.asarray(pulled) - base(points)).max() < 1e-12  # entries O(1): round-off
        # the trained metric from the precomputed base equals the ambient route of the Kähler measure
        g_fast = nw.batch_metric(arch, p, data["z"], data["jac"], data["g_base"])
        g_amb = jax.vmap(lambda z, j: nw.point_metric(arch, p, z, j, G))(data["z"], data["jac"])
        assert np.abs(np.asarray(g_fast - g_amb)).max() < 1e-12
        coeffs = jnp.asarray(X.coefficients)
        dj = jax.jit(lambda q, d: L.kahler_measure(arch, q, X.exponents, coeffs, d, G))(p, data)
        tr = jax.jit(lambda q, d: L.transition_measure(arch, q, d, base_fn=G))(p, data)
        zero = jax.tree_util.tree_map(jnp.zeros_like, p)
        g0 = nw.batch_metric(arch, zero, data["z"], data["jac"], data["g_base"])
    # dJ of ∂∂̄(K_H + φ): |∂g|² is O(1–100) here, so round-off leaves ~1e-28 per term; a non-Kähler
    # metric gives O(1e-3) or more (the mult model's is > 1e-8 at initialisation, test_cy_networks)
    assert np.asarray(dj).max() < 1e-20 and np.asarray(tr).max() < 1e-20
    assert np.array_equal(np.asarray(g0), np.asarray(data["g_base"]))  # φ = 0: exactly the base
    net = nw.NetworkMetric(X, arch, [{k: np.asarray(v) for k, v in layer.items()} for layer in p], base)
    assert np.abs(net(points) - np.asarray(g_fast)).max() < 1e-12  # the saved model's evaluation: the same
    assert np.linalg.eigvalsh(net(points)).min() > 0


CFG = dict(model="mult", hidden=(16, 16), activation="gelu", epochs=2, n_points=300, n_test=100, batch_size=100,
           lr=3e-3, n_diagnostic=20, weights={"transition": 0.0}, schedule="cosine", lbfgs_steps=7,
           lbfgs_points=200, precision="float32")  # the recipes' precision: the L-BFGS state is float32


def test_lbfgs_phase_lowers_the_loss_and_resumes_bit_for_bit(tmp_path, kill_at):
    full = run_training(TrainConfig(**CFG), out=tmp_path / "a")
    h = full["history"]
    assert len(h) == 2 + 2 + 1  # epoch 0, two Adam epochs, two L-BFGS records (5 + 2 iterations)
    # L-BFGS decreases its full-batch objective at every accepted step (the zoom line search's Armijo condition)
    assert h[-1]["loss"] < h[-2]["loss"] < h[2]["loss"]
    assert full["sigma_train_final"] < full["sigma_train_initial"]

    with pytest.raises(kill_at.Killed):  # killed inside the L-BFGS phase: its state is in the checkpoint
        run_training(TrainConfig(**CFG), out=tmp_path / "b", callback=kill_at(3))
    resumed = run_training(TrainConfig(**CFG), out=tmp_path / "b", resume=True)
    assert resumed["epochs_run_here"] == 0 and resumed["lbfgs_seconds_here"] > 0
    for a, b in zip(full["state"]["params"], resumed["state"]["params"], strict=True):
        assert np.array_equal(np.asarray(a["W"]), np.asarray(b["W"]))
    assert full["sigma_test_final"] == resumed["sigma_test_final"]
    for key, value in [("lbfgs_steps", 9), ("schedule", "exponential"), ("lbfgs_points", 100)]:
        with pytest.raises(InvalidInputError) as exc:
            run_training(TrainConfig(**{**CFG, key: value}), out=tmp_path / "b", resume=True)
        assert exc.value.argument == key


def test_phi_on_base_trains_saves_and_reloads(tmp_path, run_cli, base_dir):
    import shutil

    out, mine = tmp_path / "run", tmp_path / "base"
    shutil.copytree(base_dir, mine)
    args = ["cy", "train", "--model", "phi", "--base", str(mine), "--hidden", "16,16", "--epochs", "2", "--n-points",
            "300", "--n-test", "200", "--batch-size", "100", "--lr", "3e-3", "--schedule", "exponential", "--seed",
            "4", "--out", str(out), "--json"]
    code, text, err = run_cli(args)
    assert code == 0, err
    doc = json.loads(text)
    base_sigma = doc["sigma_test_initial"]
    from metricflow.experiments.cy_networks import _seeds

    test_ps = cy.sample("fermat-quintic", n=200, seed=_seeds(4)[1])
    # at initialisation the network is a small perturbation of the base: σ close to the base's own σ
    assert abs(base_sigma - cy.sigma(test_ps, alg.load_metric(base_dir))["sigma"]) < 0.05
    assert doc["sigma_train_final"] < doc["sigma_train_initial"]
    net = nw.load_network(out)
    assert net.base is not None and net.base.k == 2
    assert abs(cy.sigma(test_ps, net)["sigma"] - doc["sigma_test_final"]) < 1e-12  # reloaded: the same metric
    pts = tmp_path / "p.npz"
    assert run_cli(["cy", "sample", "--n", "100", "--out", str(pts)])[0] == 0
    code, text, err = run_cli(["cy", "sigma", "--points", str(pts), "--metric", str(out), "--json"])
    assert code == 0, err
    assert 0 < json.loads(text)["sigma"] < 1
    # the same folder now holding another metric (its H differs): the resume is refused, naming the option
    alg.save_metric(alg.AlgebraicMetric.identity(cy.hypersurface("fermat-quintic"), 2), mine)
    code, text, err = run_cli([*args, "--resume"])
    assert code == 2 and "--base" in err


@pytest.mark.parametrize("args,option", [
    (["--schedule", "linear"], "--schedule"), (["--schedule", "cosine", "--lr-final", "0"], "--lr-final"),
    (["--schedule", "cosine", "--lr-final", "1"], "--lr-final"), (["--lr-final", "1e-5"], "--lr-final"),
    (["--schedule", "cosine", "--warmup", "-1"], "--warmup"), (["--warmup", "2"], "--warmup"),
    (["--schedule", "cosine", "--epochs", "3", "--warmup", "3"], "--warmup"),
    (["--lbfgs-steps", "-1"], "--lbfgs-steps"), (["--lbfgs-steps", "x"], "--lbfgs-steps"),
    (["--lbfgs-points", "10"], "--lbfgs-points"), (["--n-points", "500", "--lbfgs-points", "600"], "--lbfgs-points"),
    (["--model", "phi", "--base", "/nonexistent"], "--base"), (["--model", "mult", "--base", "."], "--base"),
])
def test_hostile_recipe_options(tmp_path, run_cli, args, option):
    code, out, err = run_cli(["cy", "train", "--out", str(tmp_path / "o"), *args])
    assert code == 2 and option in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "o").exists()  # validated before any work


def test_phi_with_section_inputs_starts_at_the_base_and_lowers_sigma(tmp_path, run_cli, base_dir):
    """--inputs invariant:K --out-scale 0: the run starts at the base exactly (σ_test before = the base's
    σ on the same points, to the round-off of two routes to one metric), training lowers σ_train, and the
    saved network (inputs recorded) evaluates to its reported σ."""
    out = tmp_path / "run"
    code, text, err = run_cli(["cy", "train", "--model", "phi", "--base", str(base_dir), "--inputs", "invariant:4",
                               "--out-scale", "0", "--hidden", "16,16", "--epochs", "2", "--n-points", "300",
                               "--n-test", "200", "--batch-size", "100", "--lr", "1e-3", "--seed", "4",
                               "--out", str(out), "--json"])
    assert code == 0, err
    doc = json.loads(text)
    from metricflow.experiments.cy_networks import _seeds

    test_ps = cy.sample("fermat-quintic", n=200, seed=_seeds(4)[1])
    # σ = mean |η/η̄ − 1| of O(1) ratios: two round-offs of one metric differ by ~1e-14
    assert abs(doc["sigma_test_initial"] - cy.sigma(test_ps, alg.load_metric(base_dir))["sigma"]) < 1e-10
    assert doc["sigma_train_final"] < doc["sigma_train_initial"]
    net = nw.load_network(out)
    # the 5 exponent classes of degree 4; no coupling below d = 5
    assert net.arch.inputs == "invariant:4" and net.arch.poly_degree == 5 and net.arch.n_in == 5
    assert abs(cy.sigma(test_ps, net)["sigma"] - doc["sigma_test_final"]) < 1e-12
