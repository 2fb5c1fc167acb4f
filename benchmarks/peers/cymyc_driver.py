"""cymyc (Justin-Tan/cymyc) driven through its public API; runs in its own venv
(benchmarks/peers/setup.sh). Prints ONE JSON object.

    python cymyc_driver.py train [--n-points 100000] [--n-test 10000] [--epochs 5]
                                  [--hidden 64,64,64] [--batch-size 1000] [--lr 1e-3] [--seed 0]
    python cymyc_driver.py sample [--n-points 100000] [--repeats 3] [--seed 0]

train: cymyc's φ-model, g = g_FS + ∂∂̄φ_NN (``models.LearnedVector_spectral_nn`` with its
spectral input layer, gelu, ``models.ddbar_phi_model``), on the Fermat quintic
Σ z_i⁵ = 0. Points from ``utils.pointgen.sample_intersect_hypersurface``, weights and
|Ω|² from ``alg_geo.compute_integration_weights`` and κ = vol_g / vol_Ω as in cymyc's
``utils/pointgen.py``; inputs cast to float32 as cymyc's ``dataloading`` does; the
training step is cymyc's ``approx.train.train_step`` (Monge–Ampère loss) with its
optimiser chain (clip_by_global_norm(1) + adamw), at the learning rate given; σ with
``approx.measures.sigma_measure`` on the test points before and after.

sample: the task of the sampling table of docs/cy.md — points, weights, |Ω|² and the
pulled-back FS metric, then σ_FS — cold (import + first call in this fresh process,
interpreter start-up excluded) and warm (best of ``--repeats`` later calls).
"""

from __future__ import annotations

import time
from functools import partial

T_START = time.perf_counter()

from _peerlib import Clock, log, per_epoch, run_main, sample_report, versions  # noqa: E402

REPO = "Justin-Tan/cymyc"
VERSIONS = ("cymyc", "jax", "jaxlib", "numpy", "flax", "optax")


def quintic():
    import numpy as np
    from cymyc import alg_geo

    monomials, coefficients = 5 * np.eye(5, dtype=np.int64), np.ones(5)
    return monomials, coefficients, alg_geo.dQdz_poly(5, monomials, coefficients)


def sample(key, n, monomials, coefficients, dqdz):
    """Points (real [Re | Im]), weights, pull-backs, |Ω|², FS metric volume ratio: cymyc's recipe."""
    import jax
    import numpy as np
    from cymyc import alg_geo, fubini_study
    from cymyc.utils import math_utils, pointgen

    p = pointgen.sample_intersect_hypersurface(key, n, 3, monomials, coefficients)
    w, pb, dvol_omega, _ = jax.vmap(alg_geo.compute_integration_weights, in_axes=(0, None, None, None))(
        p, *dqdz, 3)
    p_real = math_utils.to_real(p)
    det_fs = jax.vmap(fubini_study.det_fubini_study_pb)(p_real, pb)
    return np.asarray(p_real), np.asarray(w), np.asarray(pb), np.asarray(dvol_omega), np.asarray(det_fs)


def train(args) -> dict:
    with Clock() as c_import:
        import jax
        import numpy as np
        import optax
        from cymyc import dataloading, fubini_study
        from cymyc.approx import measures, models
        from cymyc.approx.train import create_train_state, train_step
    monomials, coefficients, dqdz = quintic()
    key_data, key_init = jax.random.split(jax.random.PRNGKey(args.seed))
    with Clock() as c_sample:
        p, w, _, dvol, det_fs = sample(key_data, args.n_points + args.n_test, monomials, coefficients, dqdz)
    kappa = float(np.mean(w * det_fs / dvol) / np.mean(w))  # vol_g / vol_Omega (cymyc's pointgen)
    f32 = (p.astype(np.float32), w.astype(np.float32), dvol.astype(np.float32))  # cymyc's loader casts
    train_set = tuple(a[:args.n_points] for a in f32)
    test_set = tuple(jax.numpy.asarray(a[args.n_points:]) for a in f32)

    class Config:  # the attributes models.helper_fns reads
        n_hyper, ambient, cy_dim, cdtype = 1, (4,), 3, np.complex64
        dQdz_monomials, dQdz_coeffs = dqdz

    g_fs_fn, g_correction_fn, _ = models.helper_fns(Config)
    model = models.LearnedVector_spectral_nn(5, (4,), tuple(int(h) for h in args.hidden.split(",")))
    optimizer = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(args.lr))
    params, opt_state, _ = create_train_state(key_init, model, optimizer, data_dim=10)
    metric_fn = partial(models.ddbar_phi_model, g_ref_fn=g_fs_fn, g_correction_fn=g_correction_fn)

    def sigma(params_now) -> float:
        return float(measures.sigma_measure(test_set, jax.tree_util.Partial(metric_fn, params=params_now)))

    sigma_fs = float(measures.sigma_measure(test_set, jax.tree_util.Partial(
        lambda x: fubini_study.fubini_study_metric_homo_pb(x, dqdz, cy_dim=3))))
    sigma_initial = sigma(params)
    np_rng = np.random.default_rng(args.seed)
    secs, cpus, sig = [], [], []
    for epoch in range(args.epochs):
        with Clock() as c:
            for batch in dataloading.data_loader(train_set, args.batch_size, np_rng):
                params, opt_state, loss = train_step(batch, params, opt_state, metric_fn, optimizer, kappa)
            jax.block_until_ready(params)
        secs.append(c.wall)
        cpus.append(c.cpu)
        sig.append(sigma(params))
        log(f"cymyc epoch {epoch}: {c.wall:.1f} s, sigma_test {sig[-1]:.4f}")
    leaves = jax.tree_util.tree_leaves(params)
    return {"peer": "cymyc", "repo": REPO, "task": "train", "model": "phi (g_FS + ddbar phi_NN), spectral input, gelu",
            "hidden": args.hidden, "epochs": args.epochs, "n_points": args.n_points, "n_test": args.n_test,
            "batch_size": args.batch_size, "lr": args.lr, "optimizer": "clip_by_global_norm(1) + adamw (cymyc's)",
            "loss": "Monge-Ampere (cymyc approx.losses.objective_function)", "kappa": kappa,
            "param_dtype": str(leaves[0].dtype), "jax_enable_x64": bool(jax.config.jax_enable_x64),
            "sigma_test_fs": sigma_fs, "sigma_test_initial": sigma_initial, "sigma_test_final": sig[-1],
            "sigma_test_per_epoch": sig, "seconds_per_epoch": per_epoch(secs), "epoch_seconds": secs,
            "epoch_cpu_seconds": cpus, "first_epoch_seconds": secs[0], "seconds_import": c_import.wall,
            "seconds_sample": c_sample.wall, "versions": versions(*VERSIONS)}


def sample_task(args) -> dict:
    """The docs/cy.md sampling table: sample (+ weights, |Ω|², g_FS) then σ_FS."""
    with Clock() as c_import:
        import jax
        from cymyc import fubini_study
        from cymyc.approx import measures
    monomials, coefficients, dqdz = quintic()
    g_fs = jax.tree_util.Partial(lambda x: fubini_study.fubini_study_metric_homo_pb(x, dqdz, cy_dim=3))
    runs = []
    for i in range(args.repeats + 1):
        key = jax.random.PRNGKey(args.seed + i)
        with Clock() as c_s:
            p, w, pb, dvol, _ = sample(key, args.n_points, monomials, coefficients, dqdz)
            g = jax.vmap(fubini_study.fubini_study_metric_homo_pb_precompute)(p, pb)
            jax.block_until_ready(g)
        with Clock() as c_sig:
            s = float(measures.sigma_measure((p, w, dvol), g_fs))
        runs.append({"sample_s": c_s.wall, "sample_cpu_s": c_s.cpu, "sigma_s": c_sig.wall,
                     "sigma_cpu_s": c_sig.cpu, "sigma_fs": s})
        log(f"cymyc sample run {i}: {c_s.wall:.3f} s + sigma {c_sig.wall:.3f} s")
    return {"peer": "cymyc", "repo": REPO, "task": "sample", "n_points": args.n_points,
            "computed": "pointgen.sample_intersect_hypersurface; vmap(alg_geo.compute_integration_weights); "
                        "vmap(fubini_study.fubini_study_metric_homo_pb_precompute); approx.measures.sigma_measure",
            **sample_report(runs, c_import.wall), "import_s": c_import.wall, "versions": versions(*VERSIONS),
            "seconds_since_start": time.perf_counter() - T_START}


def main() -> None:
    run_main(__doc__, {"train": train, "sample": sample_task}, training=True)


if __name__ == "__main__":
    main()
