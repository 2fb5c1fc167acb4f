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


def main() -> int:
    import neural_tangents as nt
    from jax.experimental import enable_x64
    from neural_tangents import stax

    from metricflow.kernels.mlp import mlp_kernels

    rng = np.random.default_rng(0)
    x1 = rng.normal(size=(7, 3))
    x2 = rng.normal(size=(5, 3)) * 1.7
    layers = {"relu": stax.Relu, "erf": stax.Erf, "gelu": lambda: stax.Gelu(approximate=False)}
    cases = []
    worst = 0.0
    with enable_x64():
        for act, depth, (w_std, b_std) in itertools.product(
                ["relu", "erf", "gelu"], [1, 2, 3], [(1.0, 0.0), (1.5, 0.1), (0.8, 0.5)]):
            seq = []
            for _ in range(depth):
                seq += [stax.Dense(512, W_std=w_std, b_std=b_std, parameterization="ntk"),
                        layers[act]()]
            seq.append(stax.Dense(1, W_std=w_std, b_std=b_std, parameterization="ntk"))
            _, _, kernel_fn = stax.serial(*seq)
            for a, b in [(x1, None), (x1, x2)]:
                ref = kernel_fn(np.asarray(a, np.float64),
                                None if b is None else np.asarray(b, np.float64),
                                ("nngp", "ntk"))
                ours = mlp_kernels(a, b, activation=act, depth=depth, w_std=w_std, b_std=b_std)
                errs = {}
                for key, val in (("nngp", ref.nngp), ("ntk", ref.ntk)):
                    val = np.asarray(val)
                    assert val.dtype == np.float64, val.dtype
                    errs[key] = float(np.max(np.abs(ours[key] - val)) / np.max(np.abs(val)))
                worst = max(worst, *errs.values())
                cases.append({"activation": act, "depth": depth, "w_std": w_std,
                              "b_std": b_std, "cross": b is not None, **errs})
    doc = {
        "check": "metricflow.kernels.mlp vs neural_tangents.stax (nngp, ntk), float64",
        "neural_tangents": nt.__version__, "jax": jax.__version__,
        "python": platform.python_version(), "cases": len(cases),
        "max_rel_error": worst, "tolerance": TOL, "ok": worst <= TOL,
        "worst_cases": sorted(cases, key=lambda c: -max(c["nngp"], c["ntk"]))[:3],
    }
    print(json.dumps(doc, indent=2))
    return 0 if worst <= TOL else 1


if __name__ == "__main__":
    sys.exit(main())
