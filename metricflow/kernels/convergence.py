"""Finite-width empirical NTK -> infinite-width analytic NTK (eq. 2.9), error ~ N^(-1/2).

For each width N and seed the empirical NTK (eq. 2.7, via
:func:`metricflow.kernels.empirical.empirical_ntk`) of a freshly drawn network of
:mod:`metricflow.models` is compared with the model's analytic kernel on fixed points:
``rel_error = ||Theta_N - Theta_bar||_F / ||Theta_bar||_F``.  The empirical NTK is an average
of N i.i.d. terms (cos-net, Gauss-net) or concentrates at the same rate (MLPs), so its
fluctuation is O(N^(-1/2)); ``slope`` is the least-squares slope of log(mean rel_error)
against log N and should be close to -1/2.
"""

from __future__ import annotations

import jax
import numpy as np

from metricflow._x64 import x64
from metricflow.errors import InvalidInputError
from metricflow.kernels.empirical import empirical_ntk
from metricflow.models import get_model

#: the models of R^d studied here (:data:`metricflow.models.MODELS`)
ARCHS = ("cosnet", "gaussnet", "mlp")


def _check_widths(widths, seeds):
    widths = [int(w) for w in widths]
    if len(widths) < 2 or any(w < 1 for w in widths):
        raise InvalidInputError("widths", f"need at least two positive widths, got {widths}")
    if not isinstance(seeds, (int, np.integer)) or seeds < 1:
        raise InvalidInputError("seeds", f"must be a positive integer, got {seeds!r}")
    return widths


def convergence(arch: str = "cosnet", *, dim: int = 2, widths=(100, 1000, 10000), seeds: int = 5,
                n_points: int = 12, sigma_w: float = 1.0, sigma_b: float = 0.1,
                activation: str = "relu",
                depth: int = 1, w_std: float = 1.0, b_std: float = 0.0, seed: int = 0) -> dict:
    """Relative error of the empirical NTK against the analytic one, per width.

    Points: ``n_points`` draws from N(0, I_dim) (key ``seed``); networks: keys
    ``(seed, width, s)`` for s < ``seeds``.  ``sigma_b`` is the Gauss-net bias width: the
    kernel does not depend on it, but the fluctuations grow like exp(sigma_b^2) (heavy-tailed
    exponential features), so a small value keeps the asymptotic regime within reach.
    ``arch`` is ``cosnet`` / ``gaussnet`` (only the last layer trained, eq. 2.33;
    normalised kernel) or ``mlp`` (all parameters; NTK
    parameterisation with ``activation``, ``depth``, ``w_std``, ``b_std``).

    Returns ``{"rows": [{"width", "rel_error", "rel_error_std", "errors"}...], "slope",
    "slope_stderr", ...}``.
    """
    if arch not in ARCHS:
        raise InvalidInputError("arch", f"must be one of {list(ARCHS)}, got {arch!r}")
    widths = _check_widths(widths, seeds)
    if not isinstance(dim, (int, np.integer)) or dim < 1:
        raise InvalidInputError("dim", f"must be a positive integer, got {dim!r}")
    if arch == "mlp":
        model = get_model("mlp", activation=activation, depth=depth, w_std=w_std, b_std=b_std)
    elif arch == "gaussnet":
        model = get_model("gaussnet", sigma_w=sigma_w, sigma_b=sigma_b)
    else:
        model = get_model("cosnet", sigma_w=sigma_w)
    base = jax.random.PRNGKey(seed)
    with x64():
        x = np.asarray(jax.random.normal(jax.random.fold_in(base, 0), (n_points, dim),
                                         dtype="float64"))
    exact = model.kernel(x)
    rows = []
    for width in widths:
        errs = []
        for s in range(seeds):
            key = jax.random.fold_in(jax.random.fold_in(base, 1 + width), s)
            params, frozen = model.init(key, dim, width)
            theta = empirical_ntk(model.apply, params, x, frozen=frozen)[0, 0]
            errs.append(float(np.linalg.norm(theta - exact) / np.linalg.norm(exact)))
        rows.append({"width": width, "rel_error": float(np.mean(errs)),
                     "rel_error_std": float(np.std(errs)), "errors": errs})
    lw = np.log([r["width"] for r in rows])
    le = np.log([r["rel_error"] for r in rows])
    if len(rows) > 2:
        coef, cov = np.polyfit(lw, le, 1, cov=True)
        stderr = float(np.sqrt(cov[0, 0]))
    else:
        coef, stderr = np.polyfit(lw, le, 1), float("nan")
    slope = float(coef[0])
    return {"arch": arch, "dim": dim, "sigma_w": sigma_w, "n_points": n_points, "seeds": seeds,
            "rows": rows, "slope": slope, "slope_stderr": stderr, "expected_slope": -0.5}
