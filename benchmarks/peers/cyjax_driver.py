"""cyjax (ml4physics/cyjax) driven through its public API; runs in its own venv
(benchmarks/peers/setup.sh). Prints ONE JSON object.

    python cyjax_driver.py donaldson [--k 6] [--n-points 100000] [--iterations 4]
                                      [--n-validation 50000] [--seed 0]
    python cyjax_driver.py sample [--n-points 100000] [--repeats 3] [--variant jit|eager] [--seed 0]

donaldson: Donaldson's T-operator iteration on the Fermat quintic at degree k, as in
cyjax's donaldson notebook: ``donaldson.MonomialBasisReduced(Fermat(3), k, None)`` (the
N_k sections modulo the defining polynomial), ``AlgebraicMetric.donaldson_step`` wrapped in
``jax.jit`` with the Monte Carlo integral over ``--n-points`` points in batches of 1000
(cyjax samples fresh points inside every step: its step includes the sampling),
H ← step(H), H ← H / max|H|, from H = 1; seconds per iteration is the median after the
first (compiling) one. σ from ``AlgebraicMetric.sigma_accuracy`` on ``--n-validation``
fresh points. x64 enabled, as the notebook does.

sample: the task of the sampling table of docs/cy.md — ``Fermat.sample_intersect`` with
weights, |Ω|² and the pulled-back FS metric (``induced_fs``), then σ_FS through the degree-1
algebraic metric with H = 1 (FS/π; the factor cancels in σ), either wrapped in ``jax.jit``
by the caller (``--variant jit``) or called as is (``eager``).
"""

from __future__ import annotations

import time

T_START = time.perf_counter()

from _peerlib import Clock, log, run_main, sample_report, versions  # noqa: E402

REPO = "ml4physics/cyjax"
VERSIONS = ("cyjax", "jax", "jaxlib", "numpy", "chex", "flax")


def donaldson(args) -> dict:
    with Clock() as c_import:
        import jax

        jax.config.update("jax_enable_x64", True)
        import cyjax
        import jax.numpy as jnp
        import numpy as np
    from functools import partial

    variety = cyjax.Fermat(3)
    basis = cyjax.donaldson.MonomialBasisReduced(variety, args.k, None)
    metric = cyjax.donaldson.AlgebraicMetric(variety, basis)
    key = jax.random.PRNGKey(args.seed)
    key_vol, key_sigma, *keys = jax.random.split(key, args.iterations + 2)
    with Clock() as c_vol:
        vol_cy = variety.compute_vol(key_vol, None, batch_size=2000)
    batch_size = 1000
    batches = max(1, args.n_points // batch_size)
    step = jax.jit(partial(metric.donaldson_step, params=None, vol_cy=vol_cy, batches=batches,
                           batch_size=batch_size))
    h = jnp.eye(basis.size, dtype=complex)
    secs, cpus, change = [], [], []
    for i in range(args.iterations):
        with Clock() as c:
            new = step(keys[i], h)
            new = new / jnp.max(jnp.abs(new))
            new.block_until_ready()
        secs.append(c.wall)
        cpus.append(c.cpu)
        change.append(float(jnp.max(jnp.abs(new - h)) / jnp.max(jnp.abs(new))))
        h = new
        log(f"cyjax k={args.k} iteration {i}: {c.wall:.2f} s")
    with Clock() as c_sigma:
        sigma = float(metric.sigma_accuracy(key_sigma, None, h, args.n_validation))
    after = secs[1:] if len(secs) > 1 else secs
    return {"peer": "cyjax", "repo": REPO, "task": "donaldson", "poly": "fermat-quintic", "k": args.k,
            "n_sections": int(basis.size), "n_points": batches * batch_size, "batch_size": batch_size,
            "iterations": args.iterations, "seconds_per_iteration": float(np.median(after)),
            "seconds_first_iteration": secs[0], "iteration_seconds": secs, "iteration_cpu_seconds": cpus,
            "relative_H_change_per_iteration": change, "sigma": sigma, "n_validation": args.n_validation,
            "seconds_sigma": c_sigma.wall, "seconds_vol_cy": c_vol.wall, "seconds_import": c_import.wall,
            "includes_sampling": True, "jax_enable_x64": True, "versions": versions(*VERSIONS)}


def sample_task(args) -> dict:
    """The docs/cy.md sampling table: sample (+ weights, |Ω|², g_FS) then σ_FS."""
    with Clock() as c_import:
        import jax

        jax.config.update("jax_enable_x64", True)
        import cyjax
        import jax.numpy as jnp
    variety = cyjax.Fermat(3)
    alg = cyjax.donaldson.AlgebraicMetric(variety, cyjax.donaldson.MonomialBasisFull(4, 1))
    h = jnp.eye(5, dtype=complex)

    def sample(key):
        (zs, patch), w = variety.sample_intersect(key, [], args.n_points, affine=True, weights=True)
        grad = variety.grad_defining(zs, [], patch)
        dep = jnp.argmax(jnp.abs(grad), axis=1)
        omega2, _ = variety.sample_intersect_weights(zs, [], patch, dep, separate=True)
        g_fs = variety.induced_fs(zs, [], patch, dependent=dep)
        return zs, patch, w, grad, dep, omega2, g_fs

    def sigma(zs, patch, w, grad, dep):  # AlgebraicMetric.sigma_accuracy on the points already sampled
        etas = alg.eta(h, zs, [], patch, dep, grad)
        vol_k, vol_cy = jnp.mean(etas * w), jnp.mean(w).real
        return jnp.mean(jnp.abs(1 - etas * vol_cy / vol_k) * w) / vol_cy

    if args.variant == "jit":
        sample, sigma = jax.jit(sample), jax.jit(sigma)
    runs = []
    for i in range(args.repeats + 1):
        key = jax.random.PRNGKey(args.seed + i)
        with Clock() as c_s:
            zs, patch, w, grad, dep, omega2, g_fs = jax.block_until_ready(sample(key))
        with Clock() as c_sig:
            s = float(sigma(zs, patch, w, grad, dep))
        runs.append({"sample_s": c_s.wall, "sample_cpu_s": c_s.cpu, "sigma_s": c_sig.wall,
                     "sigma_cpu_s": c_sig.cpu, "sigma_fs": s})
        log(f"cyjax ({args.variant}) sample run {i}: {c_s.wall:.3f} s + sigma {c_sig.wall:.3f} s")
    return {"peer": "cyjax", "repo": REPO, "task": "sample", "variant": args.variant, "n_points": args.n_points,
            "computed": "Fermat(3).sample_intersect(affine, weights); grad_defining; sample_intersect_weights "
                        "(|Omega|^2); induced_fs; sigma as AlgebraicMetric.sigma_accuracy with the degree-1 "
                        "monomial basis and H = 1 on the points already sampled",
            **sample_report(runs, c_import.wall), "import_s": c_import.wall, "versions": versions(*VERSIONS),
            "seconds_since_start": time.perf_counter() - T_START}


def main() -> None:
    def extra(ap):
        ap.add_argument("--k", type=int, default=6)
        ap.add_argument("--iterations", type=int, default=4)
        ap.add_argument("--n-validation", type=int, default=50_000)
        ap.add_argument("--variant", default="jit", choices=["jit", "eager"])

    run_main(__doc__, {"donaldson": donaldson, "sample": sample_task}, extra=extra)


if __name__ == "__main__":
    main()
