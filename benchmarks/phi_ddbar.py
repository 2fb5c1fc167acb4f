"""Benchmark: the pulled-back ∂∂̄φ of the potential network (issue 15), two routes side by side.
Prints ONE JSON object.

* ``autodiff``: ``networks.ddbar_pulled`` — the real Hessian of the composed potential
  φ(z + J t) in the 2m real directions (v_a, i v_a), the route before ``cy.features``;
* ``jets``: ``networks.potential_ddbar`` — the chain rule through the inputs' closed-form
  jets (``features.jets``) and 2m Hessian-vector products of the network in its inputs.

For each input family and precision: seconds of one jitted loss-and-gradient (Σ|∂∂̄φ|² over
1000 Fermat-quintic points, 3 × 64 gelu; the gradient in the parameters, as in training),
the median of ``--repeats`` calls after the compilation, the ratio autodiff / jets, and the
largest difference of the two ∂∂̄φ over 50 points against their size.

    python benchmarks/phi_ddbar.py [--repeats 5] [--out F]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _machine import emit, machine  # noqa: E402

CASES = [("u", "float64"), ("u", "float32"), ("invariant:8", "float32"), ("invariant:10", "float32"),
         ("monomials:6", "float32")]


def measure(spec: str, precision: str, repeats: int) -> dict:
    import jax
    import jax.numpy as jnp

    from metricflow import cy
    from metricflow._x64 import x64
    from metricflow.cy import networks as nw

    with x64():
        ps = cy.sample("fermat-quintic", n=1000, seed=0)
        arch = nw.Architecture("phi", (64, 64, 64), "gelu", 5, 0.1, precision, inputs=spec, poly_degree=5)
        p = nw.init_params(arch, jax.random.PRNGKey(0))
        z, J = jnp.asarray(ps.points), jnp.asarray(ps.jacobian)
        routes = {"autodiff": lambda p, a, b: nw.ddbar_pulled(lambda w: nw.potential(arch, p, w), a, b),
                  "jets": lambda p, a, b: nw.potential_ddbar(arch, p, a, b)}
        out = {"inputs": spec, "precision": precision, "n_inputs": arch.n_in}
        g = {k: jax.jit(jax.vmap(lambda a, b, f=f: f(p, a, b)))(z[:50], J[:50]) for k, f in routes.items()}
        out["max_difference"] = float(jnp.abs(g["autodiff"] - g["jets"]).max())
        out["max_entry"] = float(jnp.abs(g["autodiff"]).max())
        for name, fn in routes.items():
            step = jax.jit(jax.value_and_grad(
                lambda p, fn=fn: jnp.sum(jnp.abs(jax.vmap(lambda a, b: fn(p, a, b))(z, J)) ** 2)))
            t0 = time.perf_counter()
            jax.block_until_ready(step(p))
            out[f"{name}_compile_and_first_seconds"] = time.perf_counter() - t0
            times = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                jax.block_until_ready(step(p))
                times.append(time.perf_counter() - t0)
            out[f"{name}_seconds_per_batch"] = statistics.median(times)
        out["speedup"] = out["autodiff_seconds_per_batch"] / out["jets_seconds_per_batch"]
    print(f"{spec} {precision}: {out['speedup']:.2f}x", file=sys.stderr, flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", default=None, help="also write the JSON here")
    args = ap.parse_args()
    t0 = time.perf_counter()
    doc = {"benchmark": "phi_ddbar", "poly": "fermat-quintic", "batch": 1000, "hidden": [64, 64, 64],
           "machine": machine(), "cases": [measure(s, p, args.repeats) for s, p in CASES]}
    doc["seconds_total"] = time.perf_counter() - t0
    emit(doc, args.out)


if __name__ == "__main__":
    main()
