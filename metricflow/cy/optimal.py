"""Optimal algebraic metrics: minimise a functional over H, starting from the balanced
metric (Headrick–Nassar, arXiv 0908.2635; issue 16).

The functional (σ, B.11, or a Kähler functional of the registry evaluated from its derived
Lagrangian, :func:`metricflow.cy.functionals.ansatz_value`) is a Monte Carlo
sum over *training* points (seed stream [seed, 2]); the parameters θ of
:mod:`metricflow.cy.ansatz` are moved by optax (``adam``, or ``lbfgs`` with its
zoom line search).  The balanced metric of degree k (Donaldson's T-iteration on its own
points, stream [seed, 0]) is fitted by the ansatz to start.  σ is reported on a *fresh*
point set (stream [seed, 1]) that neither the T-iteration nor the optimiser saw, with its
jackknife error (:func:`metricflow.cy.sigma`); the final θ is the best of the recorded
ones by the training value (a choice made on the training points only).
"""

from __future__ import annotations

import time

import numpy as np

from metricflow.errors import InvalidInputError

OPTIMIZERS = ("adam", "lbfgs")


def _check(k, steps, seed, n_points, record_every, learning_rate, optimizer):
    for name, value, low in (("k", k, 1), ("steps", steps, 1), ("seed", seed, 0), ("n_points", n_points, 100),
                             ("record_every", record_every, 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise InvalidInputError(name, f"need an integer >= {low}, got {value!r}")
    if not (isinstance(learning_rate, (int, float)) and np.isfinite(learning_rate) and learning_rate > 0):
        raise InvalidInputError("learning_rate", f"need a finite number > 0, got {learning_rate!r}")
    if optimizer not in OPTIMIZERS:
        raise InvalidInputError("optimizer", f"expected one of {OPTIMIZERS}, got {optimizer!r}")


def balanced_start(X, k: int, seed: int, iterations: int = 5, n_points: int | None = None):
    """Donaldson's balanced H of degree k: ``iterations`` T-steps from H = 1 on the
    recommended number of points (stream [seed, 0]); returns (metric, seconds)."""
    from metricflow import cy
    from metricflow.cy.algebraic import AlgebraicMetric
    from metricflow.cy.donaldson import recommended_points, seed_stream, t_step

    t0 = time.perf_counter()
    metric = AlgebraicMetric.identity(X, k)
    pts = cy.sample(X, n_points or recommended_points(metric.n_sections), seed=seed_stream(seed, 0))
    for _ in range(iterations):
        metric = t_step(metric, pts)
    return metric, time.perf_counter() - t0


def _optimizer(name: str, learning_rate: float):
    import optax

    if name == "adam":
        return optax.adam(learning_rate)
    return optax.lbfgs(learning_rate=None if learning_rate == 1.0 else learning_rate)


def minimise(loss, theta0, steps: int, optimizer: str = "adam", learning_rate: float = 0.05,
             record_every: int = 10, on_record=None, aux=None) -> tuple[np.ndarray, list[dict]]:
    """Minimise ``loss(θ, aux)`` (JAX, float64) from θ0 for ``steps`` optax steps; records every
    ``record_every`` steps (and at 0 and the end): ``step``, ``functional``.  Returns the best
    recorded θ and the records.  ``aux`` (the point data) is an *argument* of the jitted
    step, not a closure: XLA would otherwise constant-fold the large arrays (minutes)."""
    import jax
    import jax.numpy as jnp
    import optax

    from metricflow._x64 import x64

    with x64():
        opt = _optimizer(optimizer, learning_rate)
        theta = jnp.asarray(theta0, dtype=jnp.float64)
        state = opt.init(theta)
        if optimizer == "lbfgs":
            @jax.jit
            def step(theta, state, aux):
                fn = lambda t: loss(t, aux)  # noqa: E731
                value, grad = optax.value_and_grad_from_state(fn)(theta, state=state)
                updates, state = opt.update(grad, state, theta, value=value, grad=grad, value_fn=fn)
                return optax.apply_updates(theta, updates), state, value
        else:
            @jax.jit
            def step(theta, state, aux):
                value, grad = jax.value_and_grad(loss)(theta, aux)
                updates, state = opt.update(grad, state, theta)
                return optax.apply_updates(theta, updates), state, value

        value_of = jax.jit(loss)
        records, best = [], (np.inf, np.asarray(theta0, dtype=np.float64))
        t0 = time.perf_counter()
        for i in range(steps + 1):
            if i % record_every == 0 or i == steps:
                v = float(value_of(theta, aux))
                if not np.isfinite(v):
                    break
                rec = {"step": i, "functional": v, "seconds": time.perf_counter() - t0}
                records.append(rec)
                if v < best[0]:
                    best = (v, np.asarray(theta))
                if on_record is not None:
                    on_record(rec)
            if i < steps:
                theta, state, _ = step(theta, state, aux)
    return best[1], records


def optimise(poly="fermat-quintic", k: int = 2, functional: str = "sigma", n_points: int = 20_000,
             steps: int = 200, seed: int = 0, optimizer: str = "adam", learning_rate: float = 0.05,
             ansatz: str = "auto", n_validation: int | None = None, record_every: int = 10,
             balanced_iterations: int = 5, balanced_points: int | None = None, on_record=None) -> dict:
    """The optimal metric of degree k for ``functional`` (module docstring).

    Returns ``metric`` (the optimum, :class:`~metricflow.cy.algebraic.AlgebraicMetric`),
    ``sigma_balanced`` (the balanced metric), ``sigma_initial`` (its fit by the ansatz, the
    start), ``sigma_final`` (each with ``_stderr``, on the fresh points), ``functional``
    (the training value per record), ``functional_initial``/``functional_final`` on the
    fresh points, ``records``, the ansatz, the sizes and the seconds of each stage.
    ``balanced_points`` caps the T-iteration's points (default 10 N_k² + 50,000: 470,250 at
    k = 6, which costs minutes a step on two cores; the start need not be converged)."""
    from metricflow import cy
    from metricflow._x64 import x64
    from metricflow.cy import functionals as fl
    from metricflow.cy.ansatz import make_ansatz
    from metricflow.cy.donaldson import seed_stream

    _check(k, steps, seed, n_points, record_every, learning_rate, optimizer)
    X = cy.hypersurface(poly)
    if not X.is_calabi_yau:
        raise InvalidInputError("poly", f"degree {X.degree} in P^{X.n_ambient - 1} is not Calabi-Yau: "
                                "|Omega|^2, the measure of every functional here, is not a volume form")
    fl.check_minimisable(functional)  # an unknown name or a constant functional is refused before computing
    A = make_ansatz(X, k, ansatz)
    n_validation = min(max(n_points, 20_000), 100_000) if n_validation is None else int(n_validation)
    bal, sec_bal = balanced_start(X, k, seed, balanced_iterations, balanced_points)
    t0 = time.perf_counter()
    train = cy.sample(X, n_points, seed=seed_stream(seed, 2))
    valid = cy.sample(X, n_validation, seed=seed_stream(seed, 1))
    with x64():
        aux, loss = fl.ansatz_value(functional, A, train)
    sec_features = time.perf_counter() - t0

    theta0 = A.fit(bal.H)
    t0 = time.perf_counter()
    theta, records = minimise(loss, theta0, steps, optimizer, learning_rate, record_every, on_record, aux)
    sec_opt = time.perf_counter() - t0
    out = {"metric": A.to_metric(theta), "functional_name": getattr(functional, "name", functional),
           "functional": [r["functional"] for r in records], "records": records, **A.describe(),
           "k": int(k), "n_sections": int(A.basis.shape[0]), "n_points": int(n_points),
           "n_validation": int(n_validation), "optimizer": optimizer, "learning_rate": learning_rate,
           "steps": int(steps), "seconds_balanced": sec_bal, "seconds_features": sec_features,
           "seconds_optimise": sec_opt, "theta": np.asarray(theta).tolist() if A.n_params <= 64 else None}
    for label, metric in (("balanced", bal), ("initial", A.to_metric(theta0)), ("final", out["metric"])):
        res = cy.sigma(valid, metric)
        out[f"sigma_{label}"], out[f"sigma_{label}_stderr"] = res["sigma"], res["sigma_stderr"]
        if label != "balanced":
            out[f"functional_{label}"] = fl.metric_value(functional, metric, valid)
    return out


__all__ = ["OPTIMIZERS", "balanced_start", "minimise", "optimise"]
