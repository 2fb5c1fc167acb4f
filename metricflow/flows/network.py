"""Finite-network metric flows: gradient descent in parameter space (eqs. 2.1–2.2) on
Perelman's loss, with the empirical metric-NTK (eq. 2.8) recorded as it evolves.

The metric is the output of a finite neural network on the torus T^d (d = 2, 3),

    g_θ(x) = g0(x) + s c0(x) Σ_P M0^P(x) (φ_P(x; θ) − φ_P(x; θ0)),

with the *tensor rescaling* of :mod:`metricflow.flows.realization` frozen at the
initial metric (``M0^P`` from ``E = g0^{1/2}``, ``c0² = 2 e^{f0}/√det g0`` with ``f0`` the
minimising dilaton of g0) and the network's initial output subtracted, so that the flow
starts at ``g0`` exactly whatever the random initial function ``φ(·; θ0)`` is (the
subtraction is a constant shift of the output: it changes neither the gradients nor
the NTK). ``s = 1`` for cos-nets (their NTK is normalised to a δ-sequence for d^dx) and
``s = (2π)^{−d/2}`` for ReLU networks (so that their kernel acts with the probability
measure ``dμ = d^dx/(2π)^d`` as the frozen kernels of :mod:`metricflow.flows.frozen`).

The loss is ``L(θ) = −λ(g_θ)``: Perelman's F (eq. 2.41–2.42) at its minimising dilaton
(:mod:`metricflow.flows.dilaton`). Its functional derivative is

    δλ/δg_kl(x) = U^{kl}(x) = −(R^{kl} + ∇^k∇^l f) e^{−f} √g,   f = argmin F,

(the variation of f drops out at the minimiser), so ``∂L/∂θ = −Σ_x ∂g_θ(x)/∂θ : U(x) h``
with the cell volume h: a vector–Jacobian product of the network's grid output with the
cotangent ``ξ_P = c0 M0^P : U``; the eigen-solver is never differentiated. Gradient
descent ``θ ← θ − η ∂L/∂θ`` (eq. 2.1) is the explicit Euler scheme of the parameter
flow (2.2) with dt = η, and ``λ`` is non-decreasing for a small enough η. Through the
empirical NTK the metric moves by eq. (2.8),

    ∂_t g_ij(x) = s² c0 M0^P_ij(x) Σ_x' h Θ^φ_PQ(x, x'; θ_t) ξ_Q(x'),

which at infinite width becomes the frozen-kernel flow (2.12), and for cos-nets at
σ → 0 Perelman's flow (2.40) at t = 0 (the realization; at later times the frozen
rescaling makes it differ at O(|g − g0|)).

Architectures (``arch``):

* ``cosnet`` — one last-layer cos-net per component, ``φ_P = A/√N Σ_k a_k cos(w_k·x + b_k)``
  with integer frequencies (``realization.py``): a *linear model*, whose NTK is frozen
  at every width. It is trained exactly and cheaply per frequency: with
  ``C_w = Σ_{k: w_k = w} a_k e^{i b_k}``, ``φ_P = A/√N Re Σ_w C_w e^{i w·x}`` and gradient
  descent on the a_k is ``C_w ← C_w + η A/(2√N) (S_w ĝ_w + n_w conj ĝ_w)`` with
  ``ĝ_w = h Σ_x ξ(x) e^{i w·x}``, ``n_w`` the number of neurons at frequency w and
  ``S_w = Σ e^{2 i b_k}`` (the same draws as ``realized_velocity`` for the same seed).
* ``relu`` — a fully connected ReLU network (:func:`metricflow.kernels.mlp.mlp_apply`,
  NTK parameterisation, W_std = 1, b_std = 0.1, ``depth`` hidden layers of width N,
  every layer trained) on the periodic features ``(cos x_k, sin x_k)``, one output per
  component: its empirical NTK evolves (feature learning).

References integrated alongside (the three error sources separated):

* ``perelman`` — the exact Perelman flow (2.40) with f = argmin F
  (:func:`metricflow.flows.integrate.run_flow`, RK4);
* ``kernel`` — the infinite-width flow of the same architecture with the same frozen
  rescaling: ``∂_t g = c0 M0 (Θ̄ ⋆ c0 M0 : U)``, Θ̄ the periodised Gaussian of width σ
  (cosnet) or the analytic ReLU NTK (relu); Euler with dt = η (infinite-width GD);
* ``local`` — the σ → 0 limit of the cosnet kernel flow, ``∂_t g = c0² ½(g0⊗g0 +
  g0⊗g0) : U``: equals Perelman's velocity at t = 0, differs later only through the
  frozen rescaling.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from metricflow import _linalg as la
from metricflow.errors import InvalidInputError, NumericalError
from metricflow.flows.dilaton import DILATON_TOLERANCE
from metricflow.manifolds.torus import Torus

ARCHS = ("cosnet", "relu")
#: ReLU network hyper-parameters (NTK parameterisation, as the frozen kernels of frozen.py)
RELU_W_STD, RELU_B_STD = 1.0, 0.1
#: the comparison flows (see :func:`reference_flows`)
REFERENCES = ("perelman", "kernel", "local")


@dataclass
class NetworkFlowResult:
    """A trained-network metric flow.

    ``history``: one dict per record (``t``, ``step``, ``F`` = λ, ``area``,
    ``max_abs_scalar_curvature``, ``min_eigenvalue``, ``discrepancy_perelman`` (relative),
    ``discrepancy_perelman_abs``, ``discrepancy_kernel``/``_abs``, ``discrepancy_local``,
    the references' ``F_perelman``, ``F_kernel``, and for relu ``kernel_change`` and
    ``kernel_spectrum_shift``). ``metrics`` (records, grid, d, d) for the network and
    ``references`` (name -> same shape) for the PDE flows; ``kernels`` (records, P, P, m, m)
    the empirical metric-NTK on ``kernel_points`` (relu only); ``meta`` the settings."""

    history: list = field(default_factory=list)
    times: np.ndarray | None = None
    metrics: np.ndarray | None = None
    references: dict = field(default_factory=dict)
    kernels: np.ndarray | None = None
    kernel_points: np.ndarray | None = None
    block_spectra: np.ndarray | None = None
    meta: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- checks


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidInputError(name, f"expected a positive integer, got {value!r}")
    return int(value)


def _check_positive(name, value):
    try:
        ok = np.isfinite(value) and value > 0
    except TypeError:
        ok = False
    if not ok:
        raise InvalidInputError(name, f"expected a positive number, got {value!r}")
    return float(value)


def check_settings(manifold, *, arch: str, width, sigma, depth, lr, steps, records) -> None:
    """Validate the settings of :func:`network_flow`; errors name the argument."""
    if not isinstance(manifold, Torus) or manifold.dim not in (2, 3):
        raise InvalidInputError("manifold", f"expected a Torus of dimension 2 or 3, got {manifold!r}")
    if arch not in ARCHS:
        raise InvalidInputError("arch", f"expected one of {list(ARCHS)}, got {arch!r}")
    _check_positive_int("width", width)
    _check_positive("lr", lr)
    _check_positive_int("steps", steps)
    _check_positive_int("records", records)
    if arch == "cosnet":
        _check_positive("sigma", sigma)
        need = 2 * int(np.ceil(7.0 / sigma)) + 8
        if need > manifold.n:
            raise InvalidInputError("n", f"a grid of {manifold.n} points per direction aliases the cos-net "
                                    f"frequencies of σ = {sigma}; use at least {need} (grid_for_sigma)")
    else:
        _check_positive_int("depth", depth)


def grid_for_sigma(sigma: float) -> int:
    """Smallest grid (multiple of 8) resolving the integer frequencies of a cos-net of
    width σ (|w_k| ≤ ⌈7/σ⌉) without aliasing."""
    _check_positive("sigma", sigma)
    need = 2 * int(np.ceil(7.0 / sigma)) + 8
    return int(8 * np.ceil(need / 8))


# --------------------------------------------------------------------------- geometry


def _setup(manifold: Torus, g0):
    """Initial dilaton (the minimiser), the frozen rescaling c0, M0, and checks."""
    import jax.numpy as jnp

    from metricflow.flows.realization import _structure
    from metricflow.flows.systems import _torus_initial

    g0 = _torus_initial(manifold, g0)["g"]
    lam, f0, res = _cold_lambda(manifold)(jnp.asarray(g0))
    if not float(res) < DILATON_TOLERANCE:
        raise NumericalError(f"the dilaton (ground state of −4Δ + R) did not converge for the initial metric "
                             f"(relative residual {float(res):.2g})")
    f0 = np.asarray(f0)
    c0 = np.sqrt(2.0 * np.exp(f0) / np.sqrt(np.linalg.det(g0)))
    M0 = _structure(g0)                                               # grid + (P, d, d)
    return g0, np.exp(-0.5 * f0), c0, M0


def _solve(manifold, g, phi, max_iter):
    """Warm-started ground state (as the Perelman flow system does)."""
    import jax.numpy as jnp

    from metricflow.flows.dilaton import ground_state
    from metricflow.flows.local import scalar_curvature

    R = scalar_curvature(manifold, g)
    margin = 1.0 / jnp.max(la.eigvalsh(g))
    return ground_state(manifold, g, R, phi, margin=margin, max_iter=max_iter)


def dlambda_dg(manifold: Torus, g, phi):
    """``U^{kl} = δλ/δg_kl = −(R^{kl} + ∇^k∇^l f) e^{−f} √g`` (a density for d^dx) with
    ``f = −2 log φ`` the minimiser, and the local Perelman velocity ``−2(R + ∇∇f)``
    (eq. 2.40). JAX-traceable."""
    import jax.numpy as jnp

    from metricflow.flows.local import _pointwise

    f = -2.0 * jnp.log(phi)
    V = _pointwise(manifold, "perelman_velocity", *manifold.jets(g), *manifold.jets(f))
    gi = la.inv(g)
    rho = phi**2 * jnp.sqrt(la.det(g))
    U = jnp.einsum("...ka,...lb,...ab->...kl", gi, gi, 0.5 * V) * rho[..., None, None]
    return U, V


# --------------------------------------------------------------------------- models
#
# A model is ``(state0, aux, kind, static, info)``: the trained state, the fixed arrays
# it needs (frequency counts, features, kernel matrix, …), and the key ``(kind, static)``
# of its pure maps ``delta_phi(state, aux) -> grid + (P,)`` and ``grad(state, aux, ξ)``
# (the ascent direction of λ, −∂L/∂θ, for the cotangent ξ_P = c0 M0^P : U). The maps are
# built from the key only, so their compilations are cached and shared between runs.


def _relu_net(params, x):
    """The ReLU network on periodic features (module-level: one compilation per shape)."""
    from metricflow.kernels.mlp import mlp_apply

    return mlp_apply(params, x, activation="relu", w_std=RELU_W_STD, b_std=RELU_B_STD)


def _maps(manifold: Torus, kind: str, static: tuple):
    """``(delta_phi, grad)`` of a model kind (see above)."""
    import jax
    import jax.numpy as jnp

    d, n = manifold.dim, manifold.n
    P = static[0]
    h = manifold.cell_volume
    axes = tuple(range(d))
    if kind == "cosnet":
        def delta_phi(C, aux):
            out = []
            for p in range(P):
                X = jnp.zeros(manifold.shape, dtype=C.dtype).at[aux["plus"]].add(C[p])
                out.append(jnp.real(jnp.fft.ifftn(X, axes=axes)) * n**d * aux["pref"])
            return jnp.stack(out, axis=-1)

        def grad(C, aux, xi):
            ghat = jnp.stack([jnp.fft.fftn(xi[..., p])[aux["minus"]] for p in range(P)]) * h  # Σ h ξ e^{iw·x}
            return 0.5 * aux["pref"] * (aux["S"] * ghat + aux["counts"] * jnp.conj(ghat))

        return delta_phi, grad
    if kind == "relu":
        def delta_phi(params, aux):
            return (aux["scale"] * (_relu_net(params, aux["features"]) - aux["out0"])).reshape(manifold.shape + (P,))

        def grad(params, aux, xi):
            _, vjp = jax.vjp(lambda q: delta_phi(q, aux), params)
            return vjp(xi * h)[0]

        return delta_phi, grad
    # infinite-width references: the state is Δφ itself and φ̇ = Θ̄ ⋆ ξ (eq. 2.12)
    if kind == "gaussian":
        from metricflow.flows.semilocal import smear_fft

        sigma = static[1]
        return (lambda s, aux: s), (lambda s, aux, xi: smear_fft(manifold, xi, sigma))
    if kind == "matrix":
        return (lambda s, aux: s), (lambda s, aux, xi: (aux["K"] @ xi.reshape(manifold.npoints, P)).reshape(
            manifold.shape + (P,)))
    if kind == "local":
        return (lambda s, aux: s), (lambda s, aux, xi: xi)
    raise InvalidInputError("kind", f"unknown model kind {kind!r}")  # pragma: no cover


def _cosnet_model(manifold: Torus, width: int, sigma: float, seed: int, P: int):
    """Exact per-frequency cos-nets (module docstring): state ΔC (P, n_freq) complex.
    The neuron draws are those of ``realized_velocity`` for the same seed, in its order."""
    import jax.numpy as jnp

    from metricflow.flows.realization import _frequency_grid, _neuron_sums

    d, n = manifold.dim, manifold.n
    rng = np.random.default_rng(seed)
    w, probs, Z, _ = _frequency_grid(d, sigma)
    A = np.sqrt(2.0 * Z / (2 * np.pi) ** d)
    counts, S = [], []
    for _ in range(P):
        c_, s_ = _neuron_sums(rng, int(width), probs)
        counts.append(c_)
        S.append(s_)
    aux = {"counts": jnp.asarray(np.array(counts), dtype=float), "S": jnp.asarray(np.array(S)),
           "plus": tuple(jnp.asarray(w[:, k] % n) for k in range(d)),
           "minus": tuple(jnp.asarray((-w[:, k]) % n) for k in range(d)),
           "pref": jnp.asarray(A / np.sqrt(width))}
    state0 = jnp.zeros((P, len(w)), dtype=complex)
    info = {"frequencies_with_neurons": int(np.count_nonzero(np.sum(counts, axis=0))), "A": float(A)}
    return state0, aux, "cosnet", (P,), info


def _relu_model(manifold: Torus, width: int, depth: int, seed: int, P: int):
    """ReLU MLP on (cos x, sin x), all layers trained; output scaled by (2π)^{−d/2}."""
    import jax
    import jax.numpy as jnp

    from metricflow.flows.frozen import periodic_features
    from metricflow.kernels.mlp import mlp_init

    d = manifold.dim
    feats = jnp.asarray(periodic_features(manifold.points.reshape(-1, d)))
    params0 = mlp_init(jax.random.PRNGKey(seed), 2 * d, int(width), int(depth), n_out=P, dtype=jnp.float64)
    scale = (2 * np.pi) ** (-d / 2)
    aux = {"features": feats, "out0": _relu_net(params0, feats), "scale": jnp.asarray(scale)}
    n_params = sum(int(np.prod(a.shape)) for a in jax.tree_util.tree_leaves(params0))
    return params0, aux, "relu", (P,), {"scale": scale, "parameters": n_params}


def _reference_model(manifold: Torus, arch: str, sigma, depth: int, P: int, local: bool = False):
    """The infinite-width flow of the architecture (or its σ → 0 limit, ``local``)."""
    import jax.numpy as jnp

    state0 = jnp.zeros(manifold.shape + (P,))
    if local:
        return state0, {}, "local", (P,), {}
    if arch == "cosnet":
        return state0, {}, "gaussian", (P, float(sigma)), {}
    from metricflow.flows.frozen import frozen_ntk_matrix

    K = jnp.asarray(frozen_ntk_matrix(manifold, activation="relu", depth=depth, w_std=RELU_W_STD,
                                      b_std=RELU_B_STD))
    return state0, {"K": K}, "matrix", (P,), {}


# --------------------------------------------------------------------------- training


@functools.lru_cache(maxsize=32)
def _compiled(manifold: Torus, kind: str, static: tuple):
    """Jitted ``advance(state, phi, lr, nsteps, g0, c0, M0, aux)`` (``nsteps`` GD steps, eq.
    2.1) and ``metric(state, g0, c0, M0, aux)`` of a model kind (cached)."""
    import jax
    import jax.numpy as jnp

    delta_phi, grad = _maps(manifold, kind, static)

    def metric(state, g0, c0, M0, aux):
        return g0 + c0[..., None, None] * jnp.einsum("...pij,...p->...ij", M0, delta_phi(state, aux))

    @jax.jit
    def advance(state, phi, lr, nsteps, g0, c0, M0, aux):
        def step(_, carry):
            state, phi = carry
            g = metric(state, g0, c0, M0, aux)
            phi, _, _ = _solve(manifold, g, phi, 30)
            U, _ = dlambda_dg(manifold, g, phi)
            xi = c0[..., None] * jnp.einsum("...pkl,...kl->...p", M0, U)      # −∂L/∂φ_P density
            ascent = grad(state, aux, xi)
            return jax.tree_util.tree_map(lambda s, a: s + lr * a, state, ascent), phi

        return jax.lax.fori_loop(0, nsteps, step, (state, phi))

    return advance, jax.jit(metric)


@functools.lru_cache(maxsize=8)
def _measures(manifold: Torus):
    """Jitted converged dilaton solve at a record: ``(phi, λ, residual)``."""
    import jax

    return jax.jit(lambda g, phi: _solve(manifold, g, phi, 60))


@functools.lru_cache(maxsize=8)
def _cold_lambda(manifold: Torus):
    import jax

    from metricflow.flows.dilaton import lambda_functional

    return jax.jit(lambda g: lambda_functional(manifold, g))


def _train(manifold, g0, phi0, c0, M0, model, lr, steps, record_every, *, label, on_record=None, observe=None,
           checkpoint=None, resume: bool = False, run_meta: dict | None = None):
    """Run gradient descent from ``phi0`` (the initial dilaton amplitude); returns
    ``(times, metrics, records, observed)`` at every record (t = 0 included), with
    ``observed`` the values of ``observe(state)`` at the records. A NaN or a metric that is
    no longer positive definite raises :class:`NumericalError` naming the time
    (:func:`metricflow.flows.systems.check_metric`).

    With ``checkpoint`` (a path) the parameters, the dilaton, the records and the observed
    values are written atomically after every record; ``resume=True`` continues from a
    checkpoint written by the same run (``run_meta``), and the resumed training is
    bit-for-bit the uninterrupted one (the same jitted steps from the same state)."""
    import jax
    import jax.numpy as jnp

    from metricflow.flows.systems import check_metric

    solve = _measures(manifold)
    state0, aux, kind, static, _ = model
    advance, metric = _compiled(manifold, kind, static)
    g0j, c0j, M0j = jnp.asarray(g0), jnp.asarray(c0), jnp.asarray(M0)
    ckpt = Path(checkpoint) if checkpoint is not None else None
    meta = json.loads(json.dumps(run_meta or {}))

    def record(g, phi):
        from metricflow.flows.local import diagnostics

        phi, lam, res = solve(jnp.asarray(g), phi)
        return phi, {"F": float(lam), "dilaton_residual": float(res), **diagnostics(manifold, jnp.asarray(g))}

    if resume and ckpt is not None and ckpt.exists():
        state, phi, done, times, metrics, recs, observed = _load_training(ckpt, meta, state0)
    else:
        state, observed = state0, []
        phi, rec = record(g0, jnp.asarray(phi0))
        times, metrics, recs, done = [0.0], [np.asarray(g0)], [{"t": 0.0, "step": 0, **rec}], 0
        if observe:
            observed.append(observe(state))
        if on_record:
            on_record(recs[-1])
    while done < steps:
        nsteps = min(record_every, steps - done)
        state, phi = advance(state, phi, lr, nsteps, g0j, c0j, M0j, aux)
        done += nsteps
        t = done * lr
        g = np.asarray(metric(state, g0j, c0j, M0j, aux))
        try:
            check_metric(g, t)
        except NumericalError as exc:
            raise NumericalError(f"{label}: {exc.args[0]}".replace("reduce --dt", "reduce --lr")) from None
        phi, rec = record(g, phi)
        if not rec["dilaton_residual"] < DILATON_TOLERANCE:
            raise NumericalError(f"{label}: the dilaton (ground state of −4Δ + R) did not converge at t = {t:.6g} "
                                 f"(relative residual {rec['dilaton_residual']:.2g}); reduce --lr")
        times.append(t)
        metrics.append(g)
        recs.append({"t": t, "step": done, **rec})
        if observe:
            observed.append(observe(state))
        if ckpt is not None:
            _save_training(ckpt, meta, jax.tree_util.tree_leaves(state), phi, done, times, metrics, recs, observed)
        if on_record:
            on_record(recs[-1])
    return np.array(times), np.stack(metrics), recs, observed


def _save_training(path: Path, meta, leaves, phi, done, times, metrics, recs, observed) -> None:
    from metricflow.io import save_npz_atomic

    info = {"done": done, "times": times, "history": recs, "leaves": len(leaves), "observed": len(observed)}
    arrays = {f"leaf_{i}": np.asarray(v) for i, v in enumerate(leaves)}
    arrays.update({f"observed_{i}": np.asarray(v) for i, v in enumerate(observed)})
    save_npz_atomic(path, meta=json.dumps(meta), info=json.dumps(info), phi=np.asarray(phi),
                    metrics=np.stack(metrics), **arrays)


def _load_training(path: Path, meta: dict, state0):
    import jax
    import jax.numpy as jnp

    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise InvalidInputError("checkpoint", f"{path} is not a readable training checkpoint ({exc})") from None
    with data:
        if "meta" not in data or "info" not in data:
            raise InvalidInputError("checkpoint", f"{path} is not a training checkpoint of network_flow")
        saved = json.loads(str(data["meta"]))
        if saved != meta:
            raise InvalidInputError("checkpoint", f"{path} was written for a different run {saved}; "
                                    f"this run is {meta}")
        info = json.loads(str(data["info"]))
        leaves0, treedef = jax.tree_util.tree_flatten(state0)
        leaves = [jnp.asarray(data[f"leaf_{i}"]) for i in range(info["leaves"])]
        if len(leaves) != len(leaves0) or any(a.shape != b.shape for a, b in zip(leaves, leaves0, strict=True)):
            raise InvalidInputError("checkpoint", f"{path} holds parameters of another shape")
        state = jax.tree_util.tree_unflatten(treedef, leaves)
        observed = [np.array(data[f"observed_{i}"]) for i in range(info["observed"])]
        return (state, jnp.asarray(data["phi"]), int(info["done"]), list(info["times"]),
                list(np.array(data["metrics"])), info["history"], observed)


def _l2(manifold, a):
    """RMS over the grid of the Frobenius norm of a tensor field."""
    return float(np.sqrt(np.mean(np.sum(np.asarray(a) ** 2, axis=(-2, -1)))))


def discrepancy(manifold, g, g_ref, g0):
    """``(relative, absolute)``: ‖g − g_ref‖ / ‖g_ref − g0‖ and ‖g − g_ref‖, both the RMS
    over the grid of the Frobenius norm (0 at t = 0, where both are g0 exactly)."""
    diff = _l2(manifold, g - g_ref)
    disp = _l2(manifold, g_ref - g0)
    return (diff / disp if disp > 0 else 0.0), diff


def network_flow(manifold: Torus, g0, *, arch: str = "cosnet", width: int = 100_000, sigma: float = 0.4,
                 depth: int = 1, lr: float = 1e-3, steps: int = 50, records: int = 10, seed: int = 0,
                 references=REFERENCES, kernel_points: int = 64,
                 pde_dt: float | None = None, progress: bool = False, checkpoint=None, resume: bool = False,
                 callback=None) -> NetworkFlowResult:
    """Train a finite network's metric by gradient descent on ``L = −λ`` (module docstring).

    Parameters
    ----------
    manifold, g0:
        A :class:`~metricflow.manifolds.torus.Torus` (d = 2, 3) and the initial metric.
    arch:
        ``"cosnet"`` (last layer trained, integer frequencies of width σ, exact
        per-frequency training) or ``"relu"`` (ReLU MLP on (cos x, sin x), ``depth``
        hidden layers, all trained, NTK parameterisation).
    width, sigma, depth:
        Neurons per component network (cosnet) or per hidden layer (relu); the frequency
        width σ of the cos-nets; hidden layers of the ReLU network.
    lr, steps, records:
        Learning rate η (= Euler time step, eq. 2.1–2.2), number of GD steps, number of
        record intervals (records are taken every ``ceil(steps/records)`` steps).
    references:
        Names of the flows integrated alongside for comparison (:func:`reference_flows`:
        ``perelman``, ``kernel``, ``local`` — the last for cosnet only), or the dict that
        :func:`reference_flows` returned for the same manifold, g0, lr, steps, records.
    kernel_points:
        Grid points (a fixed random subset) on which the empirical metric-NTK is recorded
        (relu; 0 disables it).
    pde_dt:
        Time step of the local references; default: the largest divisor of η below the
        explicit stability bound 1.5/(d (n/2)²).
    progress:
        Show a tqdm progress bar over records.
    checkpoint, resume:
        Path of an ``.npz`` checkpoint of the network training (parameters, dilaton,
        records, recorded kernels), written atomically after every record; with
        ``resume=True`` a checkpoint of the same run (settings and initial metric) is
        continued, and the result equals the uninterrupted run's bit for bit. The
        references are recomputed (they are deterministic and cheaper than the network).
    callback:
        Called with each network record (a dict) as it is taken.
    """
    import hashlib

    from tqdm import tqdm

    from metricflow._x64 import x64

    check_settings(manifold, arch=arch, width=width, sigma=sigma, depth=depth, lr=lr, steps=steps,
                   records=records)
    if isinstance(kernel_points, bool) or not isinstance(kernel_points, (int, np.integer)) or kernel_points < 0:
        raise InvalidInputError("kernel_points", f"expected a non-negative integer, got {kernel_points!r}")
    d = manifold.dim
    P = d * (d + 1) // 2
    record_every = -(-steps // records)
    n_records = -(-steps // record_every)
    given = references if isinstance(references, dict) else None
    names = list(given) if given is not None else list(references)
    for r in names:
        if r not in REFERENCES:
            raise InvalidInputError("references", f"expected names among {list(REFERENCES)}, got {r!r}")
    if arch != "cosnet" and "local" in names and given is None:
        names.remove("local")
    result = NetworkFlowResult()
    timings = {}
    bar = tqdm(total=(n_records + 1) * (1 + (0 if given else len(names))), desc=f"{arch} flow on {manifold.name}",
               unit="record", disable=not progress, leave=False)
    with x64():
        t0 = time.perf_counter()
        g0, phi0, c0, M0 = _setup(manifold, g0)
        if arch == "cosnet":
            model = _cosnet_model(manifold, int(width), float(sigma), seed, P)
        else:
            model = _relu_model(manifold, int(width), int(depth), seed, P)
        timings["setup_s"] = time.perf_counter() - t0
        ntk = None
        if arch == "relu" and kernel_points:
            ntk, result.kernel_points = _metric_ntk_fn(manifold, c0, M0, model[4]["scale"], kernel_points, seed)
        t0 = time.perf_counter()
        run_meta = {"manifold": manifold.name, "n": manifold.n, "arch": arch, "width": int(width),
                    "sigma": float(sigma), "depth": int(depth), "lr": float(lr), "steps": int(steps),
                    "records": int(records), "seed": int(seed), "kernel_points": int(kernel_points),
                    "g0_sha256": hashlib.sha256(np.ascontiguousarray(g0)).hexdigest()}

        def on_record(rec):
            bar.update(1)
            if callback:
                callback(rec)

        times, metrics, recs, kernels = _train(manifold, g0, phi0, c0, M0, model, lr, steps, record_every,
                                                  label=f"{arch} network", on_record=on_record, observe=ntk,
                                                  checkpoint=checkpoint, resume=resume, run_meta=run_meta)
        timings["network_s"] = time.perf_counter() - t0
        kernels = np.stack(kernels) if kernels else None
    if given is None:
        t0 = time.perf_counter()
        given = reference_flows(manifold, g0, arch=arch, sigma=sigma, depth=depth, lr=lr, steps=steps,
                                records=records, which=tuple(names), pde_dt=pde_dt,
                                on_record=lambda r: bar.update(1))
        timings["references_s"] = time.perf_counter() - t0
    bar.close()
    history = []
    for i, rec in enumerate(recs):
        row = dict(rec)
        for name, ref in given.items():
            if len(ref["times"]) != len(times) or not np.allclose(ref["times"], times, rtol=1e-9, atol=1e-12):
                raise InvalidInputError("references", f"the {name} reference was recorded at other times")
            rel, ab = discrepancy(manifold, metrics[i], ref["metrics"][i], g0)
            row[f"discrepancy_{name}"], row[f"discrepancy_{name}_abs"] = rel, ab
            row[f"F_{name}"] = ref["history"][i]["F"]
        history.append(row)
    if kernels is not None:
        from metricflow.kernels.metric import block_spectra, spectrum_shift

        spectra = np.stack([block_spectra(k) for k in kernels])
        norm0 = np.linalg.norm(kernels[0])
        for i, row in enumerate(history):
            row["kernel_change"] = float(np.linalg.norm(kernels[i] - kernels[0]) / norm0)
            row["kernel_spectrum_shift"] = spectrum_shift(spectra[0], spectra[i])
        result.kernels, result.block_spectra = kernels, spectra
    result.history, result.times, result.metrics = history, times, metrics
    result.references = {k: v["metrics"] for k, v in given.items()}
    result.meta = {"manifold": manifold.name, "n": manifold.n, "arch": arch, "width": int(width),
                   "sigma": float(sigma) if arch == "cosnet" else None,
                   "depth": int(depth) if arch == "relu" else None, "lr": float(lr), "steps": int(steps),
                   "record_every": record_every, "seed": seed, "references": list(given),
                   "timings": timings, **model[4]}
    return result


def reference_flows(manifold: Torus, g0, *, arch: str = "cosnet", sigma: float = 0.4, depth: int = 1,
                    lr: float = 1e-3, steps: int = 50, records: int = 10, which=REFERENCES,
                    pde_dt: float | None = None, on_record=None) -> dict:
    """The comparison flows of :func:`network_flow`, recorded at its record times:
    ``{name: {"times", "metrics", "history"}}`` for ``name`` in ``which``:

    * ``perelman`` — Perelman's flow (2.40) with f = argmin F, RK4 at ``pde_dt``
      (:func:`metricflow.flows.integrate.run_flow`);
    * ``kernel`` — the infinite-width (frozen-kernel, eq. 2.12) flow of the architecture
      with the frozen rescaling, Euler at dt = ``lr`` (gradient descent at infinite width);
    * ``local`` — its σ → 0 limit ``∂_t g = c0² ½(g0⊗g0 + g0⊗g0) : U``, Euler at ``pde_dt``.

    ``pde_dt`` defaults to ``lr/k`` with the smallest integer k that puts it below the
    explicit stability bound 1.5/(d (n/2)²) of the local flows. Computed once, the
    references serve many networks (pass the dict as ``references``)."""
    from metricflow._x64 import x64

    check_settings(manifold, arch=arch, width=1, sigma=sigma if arch == "cosnet" else 1.0, depth=depth, lr=lr,
                   steps=steps, records=records)
    d = manifold.dim
    P = d * (d + 1) // 2
    record_every = -(-steps // records)
    if pde_dt is None:
        sub = max(1, int(np.ceil(lr / (1.5 / (d * (manifold.n / 2) ** 2)))))
    else:
        sub = max(1, int(round(lr / _check_positive("pde_dt", pde_dt))))
    out = {}
    with x64():
        g0, phi0, c0, M0 = _setup(manifold, g0)
        if "perelman" in which:
            from metricflow.flows.integrate import run_flow

            res = run_flow(manifold, g0, flow="perelman", kernel="local", steps=steps * sub, dt=lr / sub,
                           method="rk4", record_every=record_every * sub, callback=on_record)
            out["perelman"] = {"times": np.array(res.snapshot_times), "metrics": np.stack(res.snapshots),
                               "history": res.history, "dt": lr / sub}
        for name in ("kernel", "local"):
            if name not in which:
                continue
            model = _reference_model(manifold, arch, sigma, depth, P, local=name == "local")
            k = sub if name == "local" else 1
            times, metrics, recs, _ = _train(manifold, g0, phi0, c0, M0, model, lr / k, steps * k,
                                                record_every * k, label=f"{name} reference", on_record=on_record)
            out[name] = {"times": times, "metrics": metrics, "history": recs, "dt": lr / k}
    return out


def _metric_ntk_fn(manifold, c0, M0, scale, m, seed):
    """``(ntk(params), points)``: the empirical metric-NTK (eq. 2.7–2.8) of the ReLU metric
    on ``m`` fixed random grid points, ``theta[I, J, a, b]`` over the components g_ij
    (i ≤ j): the NTK of the network outputs by
    :func:`metricflow.kernels.empirical.empirical_ntk`, mapped to the metric by the
    affine ansatz ``Θ_IJ = M_IK Θ^φ_KL M_JL`` (:func:`metricflow.kernels.metric.linear_ansatz_ntk`)
    with ``M_IK(x) = s c0(x) (M0^K)_ij(x)``."""
    from metricflow.flows.frozen import periodic_features
    from metricflow.kernels.empirical import empirical_ntk
    from metricflow.kernels.metric import linear_ansatz_ntk

    d = manifold.dim
    P = d * (d + 1) // 2
    rng = np.random.default_rng(seed + 12345)
    idx = np.sort(rng.choice(manifold.npoints, size=min(m, manifold.npoints), replace=False))
    pts = manifold.points.reshape(-1, d)[idx]
    feats = periodic_features(pts)
    cflat = np.asarray(c0).reshape(-1)[idx]
    Mflat = np.asarray(M0).reshape((-1, P, d, d))[idx]
    iu = np.triu_indices(d)
    Mmap = scale * cflat[:, None, None] * Mflat[:, :, iu[0], iu[1]].transpose(0, 2, 1)   # (m, I, K)

    def ntk(params):
        th = empirical_ntk(_relu_net, params, feats, block_size=16)
        return linear_ansatz_ntk(Mmap, th, Mmap)

    return ntk, pts


# --------------------------------------------------------------------------- output


def save_network_flow(result: NetworkFlowResult, outdir, title: str | None = None) -> list[str]:
    """Write ``history.json``, ``trajectory.npz`` and the PNG plots into ``outdir``
    (atomically, :mod:`metricflow.io`); returns the file names."""
    from metricflow.io import save_npz_atomic, write_json_atomic

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    arrays = {"times": result.times, "metrics": result.metrics, "meta": json.dumps(result.meta)}
    arrays.update({f"reference_{k}": v for k, v in result.references.items()})
    if result.kernels is not None:
        arrays.update(kernels=result.kernels, kernel_points=result.kernel_points, block_spectra=result.block_spectra)
    save_npz_atomic(out / "trajectory.npz", **arrays)
    title = title or _title(result.meta)
    files = ["history.json", "trajectory.npz"] + [p.name for p in plot_network_flow(result.history, out, title)]
    write_json_atomic(out / "history.json", {**result.meta, "history": result.history, "files": files})
    return files


def _title(meta: dict) -> str:
    extra = f"σ={meta['sigma']}" if meta["arch"] == "cosnet" else f"depth {meta['depth']}"
    return (f"{meta['arch']} (width {meta['width']}, {extra}) on {meta['manifold']}, "
            f"η={meta['lr']}, n={meta['n']}")


def plot_network_flow(history: list[dict], outdir, title: str) -> list[Path]:
    """λ(t) of the network and the reference flows, the discrepancies against t and (relu)
    the relative change of the empirical metric-NTK against t."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from metricflow.io import save_figure_atomic

    out = Path(outdir)
    t = [h["t"] for h in history]
    refs = [k[2:] for k in history[0] if k.startswith("F_")]

    def panel(name, xlabel, ylabel, draw, legend=True):
        fig, ax = plt.subplots(figsize=(5.2, 3.6), dpi=120)
        draw(ax)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        if legend:
            ax.legend(fontsize=8)
        ax.set_title(title, fontsize=8)
        fig.tight_layout()
        return save_figure_atomic(fig, out / name)

    def draw_lambda(ax):
        ax.plot(t, [h["F"] for h in history], "o-", ms=3, label="network (GD)")
        for r in refs:
            ax.plot(t, [h[f"F_{r}"] for h in history], "--", label=f"{r} flow")

    def draw_discrepancy(ax):
        for r in refs:
            ax.semilogy(t[1:], [max(h[f"discrepancy_{r}"], 1e-300) for h in history[1:]], "o-", ms=3,
                        label=f"vs {r}")

    paths = [panel("lambda.png", "t = η · step", "λ = min F", draw_lambda)]
    if refs:
        paths.append(panel("discrepancy.png", "t", "‖g_NN − g_ref‖ / ‖g_ref − g0‖", draw_discrepancy))
    if "kernel_change" in history[0]:
        paths.append(panel("kernel_change.png", "t", "‖Θ_t − Θ_0‖ / ‖Θ_0‖ (metric-NTK)",
                           lambda ax: ax.plot(t, [h["kernel_change"] for h in history], "o-", ms=3),
                           legend=False))
    return paths


# --------------------------------------------------------------------------- experiments


def tracking_experiment(dim: int = 2, *, widths=(1_000, 100_000), sigmas=(0.7, 0.5), lr: float = 2e-3,
                        steps: int = 20, records: int = 4, relu_widths=(64, 256, 1024), relu_n: int | None = None,
                        relu_lr: float = 0.05, relu_steps: int = 10, seed: int = 0, progress=None) -> dict:
    """Does the trained network track Perelman's flow on T^dim, and how does its kernel move?

    Cos-nets (``widths`` × ``sigmas``) on the smooth metric of the realization check, on
    the grid resolving the smallest σ: per row the discrepancy against Perelman's flow
    along the trajectory, split into the width error (vs the kernel flow at that σ), the
    σ² error (kernel vs local flow) and the frozen-rescaling error (local vs Perelman).
    ReLU networks (``relu_widths``, depth 1, on the bumpy metric of an ``relu_n`` grid): the
    relative change of the empirical metric-NTK and the distance to the frozen-kernel
    flow; fitted log–log slopes against the width."""
    from metricflow.flows.local import initial_metric
    from metricflow.flows.realization import smooth_metric

    def tick(msg):
        if progress:
            progress(msg)

    T = Torus(dim, grid_for_sigma(min(sigmas)))
    g0 = smooth_metric(T, seed=seed)[0]
    t0 = time.perf_counter()
    base = reference_flows(T, g0, sigma=min(sigmas), lr=lr, steps=steps, records=records,
                           which=("perelman", "local"))
    ref_s = time.perf_counter() - t0
    per = base["perelman"]["metrics"]
    rescaling = [discrepancy(T, a, b, g0)[0] for a, b in zip(base["local"]["metrics"][1:], per[1:], strict=True)]
    tick(f"T^{dim}: Perelman and local references ({ref_s:.0f} s)")
    rows = []
    for sigma in sigmas:
        kern = reference_flows(T, g0, sigma=sigma, lr=lr, steps=steps, records=records, which=("kernel",))
        sig_err = [discrepancy(T, a, b, g0)[0] for a, b in zip(kern["kernel"]["metrics"][1:], per[1:], strict=True)]
        refs = {"perelman": base["perelman"], "kernel": kern["kernel"]}
        for width in widths:
            t1 = time.perf_counter()
            r = network_flow(T, g0, arch="cosnet", width=width, sigma=sigma, lr=lr, steps=steps, records=records,
                             seed=seed, references=refs)
            rows.append({"arch": "cosnet", "width": int(width), "sigma": sigma,
                         "t": [h["t"] for h in r.history[1:]],
                         "discrepancy_perelman": [h["discrepancy_perelman"] for h in r.history[1:]],
                         "discrepancy_perelman_abs": [h["discrepancy_perelman_abs"] for h in r.history[1:]],
                         "width_error": [h["discrepancy_kernel"] for h in r.history[1:]],
                         "sigma_error": sig_err, "rescaling_error": rescaling,
                         "lambda": [h["F"] for h in r.history], "lambda_perelman": [h["F_perelman"] for h in r.history],
                         "lambda_kernel": [h["F_kernel"] for h in r.history],
                         "seconds": time.perf_counter() - t1})
            tick(f"T^{dim}: cosnet width {width}, σ {sigma}")
    relu_rows = []
    Tr = Torus(dim, relu_n or (16 if dim == 2 else 8))
    gr = initial_metric(Tr, "bumpy", seed=seed)
    for width in relu_widths:
        t1 = time.perf_counter()
        r = network_flow(Tr, gr, arch="relu", width=width, depth=1, lr=relu_lr, steps=relu_steps, records=2,
                         seed=seed, kernel_points=32, references=("kernel",))
        relu_rows.append({"arch": "relu", "width": int(width), "n": Tr.n, "t": [h["t"] for h in r.history],
                          "kernel_change": [h["kernel_change"] for h in r.history],
                          "kernel_spectrum_shift": [h["kernel_spectrum_shift"] for h in r.history],
                          "discrepancy_kernel": [h["discrepancy_kernel"] for h in r.history],
                          "lambda": [h["F"] for h in r.history], "lambda_kernel": [h["F_kernel"] for h in r.history],
                          "seconds": time.perf_counter() - t1})
        tick(f"T^{dim}: relu width {width}")
    out = {"dim": dim, "n": T.n, "lr": lr, "steps": steps, "T": lr * steps, "references_s": ref_s,
           "rows": rows, "relu": relu_rows}
    if len(relu_rows) > 1:
        w = np.log([r["width"] for r in relu_rows])
        out["relu_kernel_change_slope"] = float(np.polyfit(w, np.log([r["kernel_change"][-1] for r in relu_rows]),
                                                           1)[0])
        out["relu_kernel_distance_slope"] = float(np.polyfit(
            w, np.log([r["discrepancy_kernel"][-1] for r in relu_rows]), 1)[0])
    return out


def plot_experiment(exp: dict, outdir) -> list[Path]:
    """'Beyond the paper' plots of :func:`tracking_experiment`: discrepancy against t per
    (width, σ) with the σ² floor, λ(t) of networks and flows, and the ReLU kernel change."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from metricflow.io import save_figure_atomic

    out = Path(outdir)
    d = exp["dim"]
    fig, axes = plt.subplots(1, 3, figsize=(14, 3.8), dpi=120)
    for r in exp["rows"]:
        line, = axes[0].semilogy(r["t"], r["discrepancy_perelman"], "o-", ms=3,
                                 label=f"N={r['width']:.0e}, σ={r['sigma']}")
        axes[0].semilogy(r["t"], r["sigma_error"], ":", color=line.get_color())
        axes[1].plot([0.0] + r["t"], r["lambda"], "o-", ms=3, color=line.get_color(), label=line.get_label())
    first = exp["rows"][0]
    axes[0].semilogy(first["t"], first["rescaling_error"], "k--", label="frozen rescaling (local vs Perelman)")
    axes[0].set_xlabel("t")
    axes[0].set_ylabel("relative discrepancy vs Perelman")
    axes[0].set_title("solid: network; dotted: σ² floor (kernel vs local)", fontsize=8)
    axes[0].legend(fontsize=7)
    axes[1].plot([0.0] + first["t"], first["lambda_perelman"], "k--", label="Perelman flow")
    axes[1].set_xlabel("t")
    axes[1].set_ylabel("λ")
    axes[1].legend(fontsize=7)
    for r in exp["relu"]:   # the change is 0 at t = 0: plotted from the first record on
        axes[2].plot(r["t"][1:], r["kernel_change"][1:], "o-", ms=3, label=f"ReLU width {r['width']}")
    axes[2].set_xlabel("t")
    axes[2].set_ylabel("‖Θ_t − Θ_0‖ / ‖Θ_0‖")
    axes[2].set_yscale("log")
    axes[2].legend(fontsize=7)
    fig.suptitle(f"Trained networks vs Perelman's flow on T^{d} (non-locality σ, width, feature learning)",
                 fontsize=10)
    fig.tight_layout()
    return [save_figure_atomic(fig, out / f"network_flow_T{d}.png")]
