"""Cross-check metricflow.kernels.mlp against neural-tangents' stax kernels (issue 5).

Run by .ci/nt_crosscheck.sh inside the separate jax<0.5 + neural-tangents 0.6.5
environment; not collected by pytest (no test_ prefix).  Prints one JSON object with
the maximum relative error over all cases and exits 1 if it exceeds the tolerance.

Tolerance 1e-6 relative (the issue's requirement); in float64 both sides evaluate the
same closed forms, so agreement at ~1e-13 is expected and anything above 1e-6 means a
formula or parameterisation mismatch, not round-off.
"""

from __future__ import annotations

import itertools
import json
import platform
import sys

import jax
import numpy as np

TOL = 1e-6


def empirical_check(nt) -> float:
    """Our empirical NTK (Jacobian and NTK-vector products) against
    ``nt.empirical_ntk_fn`` for a finite stax network with 3 outputs; max rel. error."""
    from neural_tangents import stax

    from metricflow.kernels.empirical import empirical_ntk

    # the adapter's network with a 3-output head (metric-like vector output)

    init_fn, apply_fn, _ = stax.serial(
        stax.Dense(64, W_std=1.3, b_std=0.2, parameterization="ntk"),
        stax.Gelu(approximate=False),
        stax.Dense(64, W_std=1.3, b_std=0.2, parameterization="ntk"),
        stax.Gelu(approximate=False),
        stax.Dense(3, W_std=1.3, b_std=0.2, parameterization="ntk"))
    rng = np.random.default_rng(1)
    x1, x2 = rng.normal(size=(6, 4)), rng.normal(size=(5, 4))
    _, params = init_fn(jax.random.PRNGKey(0), x1.shape)
    params = jax.tree_util.tree_map(lambda a: np.asarray(a, np.float64), params)
    ref = nt.empirical_ntk_fn(apply_fn, trace_axes=(), vmap_axes=0)(x1, x2, params)
    ref = np.asarray(ref).transpose(2, 3, 0, 1)          # (n1, n2, I, J) -> (I, J, n1, n2)
    f = lambda p, x: apply_fn(p, x[None])[0]
    worst = 0.0
    for method in ("jacobian", "ntvp"):
        ours = empirical_ntk(f, params, x1, x2, method=method, block_size=4)
        worst = max(worst, float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref))))
    return worst


def main() -> int:
    import neural_tangents as nt
    from jax.experimental import enable_x64

    from metricflow.kernels.mlp import mlp_kernels
    from metricflow.kernels.nt_adapter import available, mlp_kernels_nt

    assert available()
    rng = np.random.default_rng(0)
    x1 = rng.normal(size=(7, 3))
    x2 = rng.normal(size=(5, 3)) * 1.7
    cases = []
    worst = 0.0
    with enable_x64():
        for act, depth, (w_std, b_std) in itertools.product(
                ["relu", "erf", "gelu"], [1, 2, 3], [(1.0, 0.0), (1.5, 0.1), (0.8, 0.5)]):
            for a, b in [(x1, None), (x1, x2)]:
                ref = mlp_kernels_nt(a, b, activation=act, depth=depth, w_std=w_std,
                                     b_std=b_std)
                ours = mlp_kernels(a, b, activation=act, depth=depth, w_std=w_std, b_std=b_std)
                errs = {}
                for key, val in (("nngp", ref["nngp"]), ("ntk", ref["ntk"])):
                    val = np.asarray(val)
                    assert val.dtype == np.float64, val.dtype
                    errs[key] = float(np.max(np.abs(ours[key] - val)) / np.max(np.abs(val)))
                worst = max(worst, *errs.values())
                cases.append({"activation": act, "depth": depth, "w_std": w_std,
                              "b_std": b_std, "cross": b is not None, **errs})
        empirical = empirical_check(nt)
    doc = {
        "check": "metricflow.kernels.mlp vs neural_tangents.stax (nngp, ntk), float64",
        "neural_tangents": nt.__version__, "jax": jax.__version__,
        "python": platform.python_version(), "cases": len(cases),
        "max_rel_error": worst, "tolerance": TOL,
        "empirical_ntk_max_rel_error_vs_nt_empirical_ntk_fn": empirical,
        "ok": worst <= TOL and empirical <= TOL,
        "worst_cases": sorted(cases, key=lambda c: -max(c["nngp"], c["ntk"]))[:3],
    }
    print(json.dumps(doc, indent=2))
    n_bad = sum(max(c["nngp"], c["ntk"]) > TOL for c in cases) + (empirical > TOL)
    # a plain closing line, so CI logs end with the count of this run too
    print(f"nt-crosscheck: {len(cases) + 1 - n_bad} passed, {n_bad} failed")
    return 0 if doc["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
