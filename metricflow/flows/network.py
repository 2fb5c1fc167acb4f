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
measure ``dμ = d^dx/(2π)^d`` as the frozen kernels of :mod:`metricflow.kernels.frozen`).

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
  with integer frequencies (:func:`metricflow.models.cosnet.torus_cosnet`): a *linear
  model*, whose NTK is frozen at every width. It is trained exactly and cheaply per
  frequency (:func:`metricflow.models.cosnet.frequency_form`): with
  ``C_w = Σ_{k: w_k = w} a_k e^{i b_k}``, ``φ_P = A/√N Re Σ_w C_w e^{i w·x}`` and gradient
  descent on the a_k is ``C_w ← C_w + η A/(2√N) (S_w ĝ_w + n_w conj ĝ_w)`` with
  ``ĝ_w = h Σ_x ξ(x) e^{i w·x}``, ``n_w`` the number of neurons at frequency w and
  ``S_w = Σ e^{2 i b_k}`` (the same draws as ``realized_velocity`` for the same seed).
* ``relu`` — a fully connected ReLU network (:func:`metricflow.models.mlp.mlp`,
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

The networks as trainable states on the grid (and the infinite-width references) are
:mod:`metricflow.flows.network_models`; every trajectory (network and references) is
integrated by the one parameter-space training loop :func:`metricflow.flows.training.train`
(monitors, checkpoints, records).
Saving and plots: :mod:`metricflow.plotting.network`; the tracking experiment:
:mod:`metricflow.experiments.network`.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, field

import numpy as np

from metricflow import _linalg as la
from metricflow.errors import InvalidInputError, NumericalError
from metricflow.flows.dilaton import DILATON_TOLERANCE
from metricflow.flows.network_models import cosnet_state, maps, reference_state, relu_state
from metricflow.manifolds.torus import Torus
from metricflow.models.cosnet import check_grid

ARCHS = ("cosnet", "relu")
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
        check_grid(manifold.n, _check_positive("sigma", sigma))
    else:
        _check_positive_int("depth", depth)


# --------------------------------------------------------------------------- geometry


def _setup(manifold: Torus, g0):
    """Initial dilaton (the minimiser), the frozen rescaling c0, M0, and checks."""
    import jax.numpy as jnp

    from metricflow.flows.realization import _structure
    from metricflow.flows.torus import initial_state

    g0 = initial_state(manifold, g0)["g"]
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
    from metricflow.flows.torus import scalar_curvature

    R = scalar_curvature(manifold, g)
    margin = 1.0 / jnp.max(la.eigvalsh(g))
    return ground_state(manifold, g, R, phi, margin=margin, max_iter=max_iter)


def dlambda_dg(manifold: Torus, g, phi):
    """``U^{kl} = δλ/δg_kl = −(R^{kl} + ∇^k∇^l f) e^{−f} √g`` (a density for d^dx) with
    ``f = −2 log φ`` the minimiser, and the local Perelman velocity ``−2(R + ∇∇f)``
    (eq. 2.40). JAX-traceable."""
    import jax.numpy as jnp

    from metricflow.flows.torus import _pointwise

    f = -2.0 * jnp.log(phi)
    V = _pointwise(manifold, "perelman_velocity", *manifold.jets(g), *manifold.jets(f))
    gi = la.inv(g)
    rho = phi**2 * jnp.sqrt(la.det(g))
    U = jnp.einsum("...ka,...lb,...ab->...kl", gi, gi, 0.5 * V) * rho[..., None, None]
    return U, V


# --------------------------------------------------------------------------- training


@functools.lru_cache(maxsize=32)
def _compiled(manifold: Torus, kind: str, static: tuple):
    """Jitted ``advance(state, phi, lr, nsteps, g0, c0, M0, aux)`` (``nsteps`` GD steps, eq.
    2.1) and ``metric(state, g0, c0, M0, aux)`` of a model kind (cached)."""
    import jax
    import jax.numpy as jnp

    delta_phi, grad = maps(manifold, kind, static)

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


def _train(manifold, g0, phi0, c0, M0, model, lr, steps, record_every, *, label, callback=None, observe=None,
           checkpoint=None, resume: bool = False, settings: dict | None = None):
    """Gradient descent from ``phi0`` (the initial dilaton amplitude) by the one training
    loop (:func:`metricflow.flows.training.train`); the state is ``(parameters, φ)``.
    Returns its result: ``history``, ``times``, ``arrays["metric"]`` (records, grid, d, d)
    and ``arrays["kernel"]`` the values of ``observe(parameters)`` at the records. A NaN,
    a metric that is no longer positive definite or a dilaton that does not converge
    raises :class:`NumericalError` naming ``label`` and the time."""
    import jax.numpy as jnp

    from metricflow.flows.torus import diagnostics
    from metricflow.flows.training import train

    solve = _measures(manifold)
    state0, aux, kind, static, _ = model
    advance, metric = _compiled(manifold, kind, static)
    g0j, c0j, M0j = jnp.asarray(g0), jnp.asarray(c0), jnp.asarray(M0)

    def record(state, t, g):
        phi, lam, res = solve(jnp.asarray(g), state[1])
        if t > 0 and not float(res) < DILATON_TOLERANCE:
            raise NumericalError(f"the dilaton (ground state of −4Δ + R) did not converge at t = {t:.6g} "
                                 f"(relative residual {float(res):.2g}); reduce --lr")
        kept = {"metric": g} if observe is None else {"metric": g, "kernel": observe(state[0])}
        return (state[0], phi), {"F": float(lam), "dilaton_residual": float(res),
                                 **diagnostics(manifold, jnp.asarray(g))}, kept

    return train((state0, jnp.asarray(phi0)), advance=lambda s, k: advance(*s, lr, k, g0j, c0j, M0j, aux),
                 metric=lambda s: metric(s[0], g0j, c0j, M0j, aux), record=record, steps=steps,
                 record_every=record_every, dt=lr, settings=settings, checkpoint=checkpoint, resume=resume,
                 callback=callback, label=label)


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
                 pde_dt: float | None = None, checkpoint=None, resume: bool = False,
                 callback=None, reference_callback=None) -> NetworkFlowResult:
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
    checkpoint, resume:
        Path of the checkpoint of the network training (parameters, dilaton, records,
        recorded kernels; :mod:`metricflow.flows.checkpoint`), written atomically after
        every record; with ``resume=True`` a checkpoint of the same run is continued, and
        the result equals the uninterrupted run's bit for bit. A checkpoint written with
        other settings is refused naming the setting (``lr``, ``seed``, …; ``sha256_g0``
        for another initial metric). The references are recomputed (they are
        deterministic and cheaper than the network).
    callback, reference_callback:
        Called with each record (a dict) of the network, of the references, as it is
        taken (progress bars).
    """
    import hashlib

    from metricflow._x64 import x64

    check_settings(manifold, arch=arch, width=width, sigma=sigma, depth=depth, lr=lr, steps=steps,
                   records=records)
    if isinstance(kernel_points, bool) or not isinstance(kernel_points, (int, np.integer)) or kernel_points < 0:
        raise InvalidInputError("kernel_points", f"expected a non-negative integer, got {kernel_points!r}")
    d = manifold.dim
    P = d * (d + 1) // 2
    record_every = -(-steps // records)
    given = references if isinstance(references, dict) else None
    names = list(given) if given is not None else list(references)
    for r in names:
        if r not in REFERENCES:
            raise InvalidInputError("references", f"expected names among {list(REFERENCES)}, got {r!r}")
    if arch != "cosnet" and "local" in names and given is None:
        names.remove("local")
    result = NetworkFlowResult()
    timings = {}
    with x64():
        t0 = time.perf_counter()
        g0, phi0, c0, M0 = _setup(manifold, g0)
        if arch == "cosnet":
            model = cosnet_state(manifold, int(width), float(sigma), seed, P)
        else:
            model = relu_state(manifold, int(width), int(depth), seed, P)
        timings["setup_s"] = time.perf_counter() - t0
        ntk = None
        if arch == "relu" and kernel_points:
            ntk, result.kernel_points = _metric_ntk_fn(manifold, c0, M0, model[4]["scale"], kernel_points, seed,
                                                       model[3][1])
        t0 = time.perf_counter()
        # the hash of g0 is checked after the settings that make it (it sorts after seed)
        settings = {"manifold": manifold.name, "n": manifold.n, "arch": arch, "width": int(width),
                    "sigma": float(sigma), "depth": int(depth), "lr": float(lr), "steps": int(steps),
                    "records": int(records), "seed": int(seed), "kernel_points": int(kernel_points),
                    "sha256_g0": hashlib.sha256(np.ascontiguousarray(g0)).hexdigest()}
        run = _train(manifold, g0, phi0, c0, M0, model, lr, steps, record_every, label=f"{arch} network",
                     callback=callback, observe=ntk, checkpoint=checkpoint, resume=resume, settings=settings)
        times, metrics, recs, kernels = run.times, run.arrays["metric"], run.history, run.arrays.get("kernel")
        timings["network_s"] = time.perf_counter() - t0
    if given is None:
        t0 = time.perf_counter()
        given = reference_flows(manifold, g0, arch=arch, sigma=sigma, depth=depth, lr=lr, steps=steps,
                                records=records, which=tuple(names), pde_dt=pde_dt, on_record=reference_callback)
        timings["references_s"] = time.perf_counter() - t0
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
                           method="rk4", record_every=record_every * sub, callback=on_record, snapshots=None)
            out["perelman"] = {"times": np.array(res.snapshot_times), "metrics": np.stack(res.snapshots),
                               "history": res.history, "dt": lr / sub}
        for name in ("kernel", "local"):
            if name not in which:
                continue
            model = reference_state(manifold, arch, sigma, depth, P, local=name == "local")
            k = sub if name == "local" else 1
            run = _train(manifold, g0, phi0, c0, M0, model, lr / k, steps * k, record_every * k,
                         label=f"{name} reference", callback=on_record)
            out[name] = {"times": run.times, "metrics": run.arrays["metric"], "history": run.history, "dt": lr / k}
    return out


def _metric_ntk_fn(manifold, c0, M0, scale, m, seed, apply):
    """``(ntk(params), points)``: the empirical metric-NTK (eq. 2.7–2.8) of the ReLU metric
    ``apply`` on ``m`` fixed random grid points, ``theta[I, J, a, b]`` over the components g_ij
    (i ≤ j): the NTK of the network outputs by
    :func:`metricflow.kernels.empirical.empirical_ntk`, mapped to the metric by the
    affine ansatz ``Θ_IJ = M_IK Θ^φ_KL M_JL`` (:func:`metricflow.kernels.metric.linear_ansatz_ntk`)
    with ``M_IK(x) = s c0(x) (M0^K)_ij(x)``."""
    from metricflow.kernels.empirical import empirical_ntk
    from metricflow.kernels.frozen import periodic_features
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
        th = empirical_ntk(apply, params, feats, frozen={}, block_size=16)
        return linear_ansatz_ntk(Mmap, th, Mmap)

    return ntk, pts
