"""Flow systems: what evolves, how fast, and what is reported — one per manifold, flow
and kernel. The integrator (:mod:`metricflow.flows.integrate`) only sees a
:class:`FlowSystem`.

A state is a dict of grid arrays. On the torus it holds the metric ``g`` (and, for
Perelman's flow, the dilaton's ground-state amplitude ``phi`` = e^{−f/2}); on the
2-sphere the conformal factor ``u`` of ``g = e^{2u} g_round``.

Kernels (how the loss's local velocity V is turned into ∂_t g, eq. 2.12–2.14):
``local`` (σ → 0, eq. 2.31), ``gaussian:SIGMA`` (semi-local, eq. 2.30) and
``ntk:ACTIVATION[:DEPTH]`` (non-local, frozen MLP NTK, eq. 2.12).

Flows: ``ricci`` (eq. 2.39, V = −2 R_ij) and ``perelman`` (eq. 2.40,
V = −2(R_ij + ∇_i∇_j f), with f the minimiser of F — :mod:`metricflow.flows.dilaton`;
then F = λ(g) is reported and is non-decreasing for the local kernel).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from metricflow import _linalg as la
from metricflow.errors import InvalidInputError, NumericalError
from metricflow.flows.dilaton import DILATON_TOLERANCE

FLOWS = ("ricci", "perelman")


@dataclass(frozen=True)
class FlowSystem:
    """``∂_t state = velocity(state)``.

    ``velocity`` and ``refresh`` are pure and JAX-traceable; ``refresh`` is applied
    after every step (it updates auxiliary fields such as the dilaton's warm start and
    leaves the evolved fields alone). ``diagnostics(state)`` returns the record's
    floats, ``check(state, t)`` raises :class:`NumericalError` on a broken state,
    ``main`` names the field that is snapshotted and returned as ``final``."""

    manifold: object
    flow: str
    kernel: str
    main: str
    velocity: Callable
    diagnostics: Callable
    check: Callable
    initial: Callable
    refresh: Callable | None = None
    meta: dict = field(default_factory=dict)


def parse_kernel(kernel: str) -> dict:
    """``local`` | ``gaussian:SIGMA`` | ``ntk:ACTIVATION[:DEPTH]`` -> options, with a clear
    error otherwise."""
    if kernel == "local":
        return {"kind": "local"}
    if kernel.startswith("ntk:"):
        from metricflow.flows.frozen import parse_ntk_kernel

        return {"kind": "ntk", **parse_ntk_kernel(kernel)}
    name, _, value = kernel.partition(":")
    if name != "gaussian":
        raise InvalidInputError("kernel", "expected 'local', 'gaussian:SIGMA' or 'ntk:ACTIVATION[:DEPTH]', "
                                f"got {kernel!r}")
    try:
        sigma = float(value)
    except ValueError:
        raise InvalidInputError("kernel", f"expected gaussian:SIGMA with a number SIGMA, got {kernel!r}") from None
    if not sigma > 0:
        raise InvalidInputError("kernel", f"expected a positive width in {kernel!r}")
    return {"kind": "gaussian", "sigma": sigma}


def parse_flow(flow) -> tuple[str, object]:
    """``ricci`` | ``perelman`` | ``functional:NAME`` | a ``Functional`` -> (name, functional or None)."""
    from metricflow.symbolic.functionals import Functional

    if isinstance(flow, Functional):
        from metricflow.flows.functional import resolve

        return f"functional:{flow.name}", resolve(flow)
    if isinstance(flow, str) and flow.startswith("functional:"):
        from metricflow.flows.functional import resolve

        return flow, resolve(flow.partition(":")[2])
    if flow not in FLOWS:
        raise InvalidInputError("flow", f"expected one of {FLOWS} or functional:NAME, got {flow!r}")
    return flow, None


def flow_system(manifold, flow="ricci", kernel: str = "local") -> FlowSystem:
    """The :class:`FlowSystem` of ``flow`` with ``kernel`` on ``manifold``.

    ``flow``: ``"ricci"`` (2.39), ``"perelman"`` (2.40) or the descent flow of a functional
    (``"functional:volume"``, ``"functional:einstein-hilbert"``, or a
    :class:`~metricflow.symbolic.functionals.Functional`; torus only)."""
    flow, functional = parse_flow(flow)
    spec = parse_kernel(kernel)
    from metricflow.manifolds.torus import Torus

    if isinstance(manifold, Torus):
        return _torus_system(manifold, flow, kernel, spec, functional)
    from metricflow.manifolds.sphere import Sphere

    if isinstance(manifold, Sphere):
        if functional is not None:
            raise InvalidInputError("flow", "functional flows run on the tori; on sphere2 the conformal gauge "
                                    "carries Ricci flow only")
        return _sphere_system(manifold, flow, kernel, spec)
    raise InvalidInputError("manifold", f"expected a Torus or a Sphere, got {type(manifold).__name__}")


# --------------------------------------------------------------------------- torus


def _torus_kernel(manifold, spec: dict):
    """The map V ↦ ∂_t g of the kernel (a function of grid tensor fields)."""
    if spec["kind"] == "local":
        return lambda V: V
    if spec["kind"] == "gaussian":
        from metricflow.flows.semilocal import smear_fft

        return lambda V: smear_fft(manifold, V, spec["sigma"])
    import jax.numpy as jnp

    from metricflow.flows.frozen import frozen_ntk_matrix, frozen_ntk_velocity

    K = jnp.asarray(frozen_ntk_matrix(manifold, activation=spec["activation"], depth=spec["depth"]))
    return lambda V: frozen_ntk_velocity(manifold, V, K)


def check_metric(g, t: float) -> None:
    """NaN/inf or a metric that is no longer positive definite -> :class:`NumericalError`."""
    g = np.asarray(g)
    if not np.all(np.isfinite(g)):
        idx = np.argwhere(~np.isfinite(g))[0]
        raise NumericalError(f"the metric became NaN/inf at t = {t:.6g} (grid index {tuple(idx[:-2])}); "
                             "reduce --dt or use --method adaptive")
    eig = np.linalg.eigvalsh(g)
    if np.min(eig) <= 0:
        idx = np.unravel_index(np.argmin(eig[..., 0]), eig.shape[:-1])
        raise NumericalError(f"the metric is no longer positive definite at t = {t:.6g} "
                             f"(smallest eigenvalue {np.min(eig):.3g} at grid index {idx}); "
                             "reduce --dt or stop before the singular time")


def _torus_initial(manifold, g0):
    d = manifold.dim
    g0 = np.asarray(g0, dtype=np.float64)
    if g0.shape != manifold.shape + (d, d):
        raise InvalidInputError("g0", f"expected shape {manifold.shape + (d, d)}, got {g0.shape}")
    if not np.allclose(g0, np.swapaxes(g0, -1, -2), atol=1e-12):
        raise InvalidInputError("g0", "the initial metric is not symmetric")
    check_metric(g0, 0.0)
    return {"g": g0}


def _torus_system(manifold, flow: str, kernel: str, spec: dict, functional=None) -> FlowSystem:
    from metricflow.flows.local import diagnostics, ricci_velocity

    smear = _torus_kernel(manifold, spec)
    base = {"manifold": manifold.name, "n": manifold.n, "flow": flow, "kernel": kernel}
    if functional is not None:
        from metricflow.flows.functional import action, functional_velocity

        def diag(s):
            return {**diagnostics(manifold, s["g"]), "action": float(action(manifold, functional, s["g"]))}

        return FlowSystem(manifold, flow, kernel, "g",
                          velocity=lambda s: {"g": smear(functional_velocity(manifold, functional, s["g"]))},
                          diagnostics=diag, check=lambda s, t: check_metric(s["g"], t),
                          initial=lambda g0: _torus_initial(manifold, g0), meta=base)
    if flow == "ricci":
        return FlowSystem(manifold, flow, kernel, "g",
                          velocity=lambda s: {"g": smear(ricci_velocity(manifold, s["g"]))},
                          diagnostics=lambda s: diagnostics(manifold, s["g"]),
                          check=lambda s, t: check_metric(s["g"], t),
                          initial=lambda g0: _torus_initial(manifold, g0), meta=base)
    return _torus_perelman(manifold, flow, kernel, smear, base)


def _torus_perelman(manifold, flow, kernel, smear, base) -> FlowSystem:
    """Perelman's flow (2.40) with f = argmin F (the gradient flow of λ)."""
    import jax
    import jax.numpy as jnp

    from metricflow.flows.dilaton import ground_state
    from metricflow.flows.local import _pointwise, diagnostics, scalar_curvature

    def solve(g, phi, max_iter):
        R = scalar_curvature(manifold, g)
        margin = 1.0 / jnp.max(la.eigvalsh(g))   # a quarter of the gap of −4Δ (≈ 4/max g)
        return ground_state(manifold, g, R, phi, margin=margin, max_iter=max_iter)

    def local_velocity(g, phi):
        f = -2.0 * jnp.log(phi)
        return _pointwise(manifold, "perelman_velocity", *manifold.jets(g), *manifold.jets(f))

    def velocity(s):
        phi, _, _ = solve(s["g"], s["phi"], 30)
        return {"g": smear(local_velocity(s["g"], phi)), "phi": jnp.zeros_like(s["phi"])}

    def refresh(s):
        phi, _, _ = solve(s["g"], s["phi"], 60)
        return {"g": s["g"], "phi": phi}

    @jax.jit
    def measures(g, phi):
        phi, lam, res = solve(g, phi, 60)
        f = -2.0 * jnp.log(phi)
        gj, fj = manifold.jets(g), manifold.jets(f)
        density = phi**2 * jnp.sqrt(la.det(g))               # e^{−f} √g
        L = _pointwise(manifold, "perelman_lagrangian", *gj, *fj)     # R + |∇f|² (eq. 2.41)
        V = local_velocity(g, phi)                                   # −2(R + ∇∇f)
        gi = la.inv(g)
        pairing = jnp.einsum("...ik,...jl,...ij,...kl->...", gi, gi, smear(V), V)
        return {"F": manifold.integrate(L * density), "lambda": lam,
                "dF_dt": 0.5 * manifold.integrate(pairing * density),
                "dilaton_mass": manifold.integrate(density), "dilaton_residual": res}

    def diag(s):
        out = measures(jnp.asarray(s["g"]), jnp.asarray(s["phi"]))
        return {**diagnostics(manifold, s["g"]), **{k: float(v) for k, v in out.items()}}

    def check(s, t):
        check_metric(s["g"], t)
        if not np.all(np.isfinite(np.asarray(s["phi"]))):
            raise NumericalError(f"the dilaton became NaN/inf at t = {t:.6g}; reduce --dt")

    def initial(g0):
        from metricflow.flows.dilaton import lambda_functional

        state = _torus_initial(manifold, g0)
        _, f, res = lambda_functional(manifold, state["g"])
        if not float(res) < DILATON_TOLERANCE:
            raise NumericalError(f"the dilaton (ground state of −4Δ + R) did not converge for the initial "
                                 f"metric (relative residual {float(res):.2g})")
        return {**state, "phi": np.exp(-0.5 * np.asarray(f))}

    return FlowSystem(manifold, flow, kernel, "g", velocity=velocity, diagnostics=diag, check=check,
                      initial=initial, refresh=refresh, meta={**base, "dilaton": "minimiser"})


def check_record(record: dict, t: float) -> None:
    """A record whose dilaton solve did not converge stops the run (any system)."""
    res = record.get("dilaton_residual")
    if res is not None and not res < DILATON_TOLERANCE:
        raise NumericalError(f"the dilaton (ground state of −4Δ + R) did not converge at t = {t:.6g} "
                             f"(relative residual {res:.2g}); reduce --dt")


# --------------------------------------------------------------------------- sphere


def _sphere_system(manifold, flow: str, kernel: str, spec: dict) -> FlowSystem:
    """S² in the conformal gauge ``g = e^{2u} g_round`` (:mod:`metricflow.flows.sphere`).

    In 2D Ricci flow preserves the conformal class, so ``∂_t u = −K`` is exact. Perelman's
    flow −2(Ric + ∇∇f) leaves the conformal class, but it is Ricci flow pulled back by the
    flow of ∇f: the engine integrates the Ricci-gauge representative and reports
    ``F = λ(g)`` (diffeomorphism invariant, non-decreasing) along it."""
    from metricflow.flows import sphere as S2

    if spec["kind"] != "local":
        if spec["kind"] == "gaussian":
            # semi-local flow (eq. 2.30) of the conformal factor: the heat kernel of the round
            # sphere at time σ²/2, e^{−σ² l(l+1)/2} per degree (→ δ as σ → 0, like eq. 2.31)
            weights = np.exp(0.5 * spec["sigma"] ** 2 * manifold.laplacian_eigenvalues)
        else:
            # non-local flow (eq. 2.12) with the frozen NTK of an MLP on x ∈ S² ⊂ R³:
            # zonal, so diagonal in the harmonics (Funk–Hecke, frozen.zonal_ntk_spectrum)
            from metricflow.flows.frozen import zonal_ntk_spectrum

            spectrum = zonal_ntk_spectrum(manifold.lmax, activation=spec["activation"], depth=spec["depth"])
            weights = spectrum[manifold.degrees]

        def smear(v):
            return manifold.synthesis(manifold.analysis(v) * weights)
    else:
        def smear(v):
            return v

    def initial(u0):
        u0 = np.asarray(u0, dtype=np.float64)
        if u0.shape != manifold.shape:
            raise InvalidInputError("g0", f"expected the conformal factor u of shape {manifold.shape} "
                                    f"on {manifold.name}, got {u0.shape}")
        S2.check_state(manifold, u0, 0.0)
        return {"u": u0}

    def diagnostics(s):
        rec = S2.diagnostics(manifold, s["u"])
        if flow == "perelman":
            rec["F"] = rec["lambda"] = S2.lambda_functional(manifold, s["u"])[0]
        return rec

    meta = {"manifold": manifold.name, "n": manifold.n, "flow": flow, "kernel": kernel}
    if flow == "perelman":
        meta["gauge"] = "ricci (conformal); F = lambda(g)"
    return FlowSystem(manifold, flow, kernel, "u",
                      velocity=lambda s: {"u": smear(S2.ricci_velocity(manifold, s["u"]))},
                      diagnostics=diagnostics, check=lambda s, t: S2.check_state(manifold, s["u"], t),
                      initial=initial, meta=meta)
