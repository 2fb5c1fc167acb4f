"""Closed-form small-matrix algebra (metricflow._linalg) against jnp.linalg on a batch of
3 × 3 metrics: warm, jitted wall time of the inverse, the eigenvalues and the determinant.

The closed forms exist to keep LAPACK custom calls out of compiled flow programs (they can
deadlock XLA's CPU pool, docs/flows.md); this measures what they cost or save. Prints one
JSON object with the times, the ratios and the machine.

    python benchmarks/linalg_small.py [--n 32] [--repeats 20] [--out results/linalg_small_cpu2.json]
"""

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _machine import emit, machine  # noqa: E402


def best_of(fn, repeats: int) -> float:
    fn()  # compile and warm
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=32, help="grid points per direction (an n³ batch of 3 × 3 metrics)")
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--out", default=None, help="also write the JSON here (benchmarks/results/…)")
    args = ap.parse_args()
    import jax
    import jax.numpy as jnp

    from metricflow import _linalg as la
    from metricflow._x64 import x64

    rng = np.random.default_rng(0)
    with x64():
        a = rng.normal(size=(args.n,) * 3 + (3, 3))
        g = jnp.asarray(np.einsum("...ij,...kj->...ik", a, a) + 3 * np.eye(3))   # symmetric positive definite
        pairs = {"inverse": (la.inv, jnp.linalg.inv), "eigenvalues": (la.eigvalsh, jnp.linalg.eigvalsh),
                 "determinant": (la.det, jnp.linalg.det)}
        rows = {}
        for name, (ours, lapack) in pairs.items():
            f, h = jax.jit(ours), jax.jit(lapack)
            t_ours = best_of(lambda f=f: f(g).block_until_ready(), args.repeats)
            t_lapack = best_of(lambda h=h: h(g).block_until_ready(), args.repeats)
            diff = float(jnp.max(jnp.abs(f(g) - h(g))))
            rows[name] = {"closed_form_ms": 1e3 * t_ours, "jnp_linalg_ms": 1e3 * t_lapack,
                          "jnp_over_closed_form": t_lapack / t_ours, "max_abs_difference": diff}
    emit({"benchmark": "linalg_small", "batch": f"{args.n}^3 of 3 x 3", "repeats": args.repeats,
          "rows": rows, "machine": machine() | {"jax": jax.__version__}}, args.out)


if __name__ == "__main__":
    main()
