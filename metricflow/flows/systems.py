"""Flow systems: what evolves, how fast, and what is reported — one per manifold, flow
and kernel. The integrator (:mod:`metricflow.flows.integrate`) only sees a
:class:`FlowSystem`; :func:`flow_system` builds one from the registry
(:mod:`metricflow.flows.registry`) of the flows each kind of manifold offers.

A state is a dict of arrays on the manifold's points: on a torus the metric ``g`` (and,
for Perelman's flow, the dilaton's ground-state amplitude ``phi`` = e^{−f/2}); on the
2-sphere the conformal factor ``u`` of ``g = e^{2u} g_round``; on a point cloud the
hermitian metric values ``g`` (N, k, k), each in its point's chart.

Kernels (:mod:`metricflow.kernels.base`, how the loss's local velocity V is turned into
∂_t g, eq. 2.12–2.14): ``local`` (σ → 0, eq. 2.31), ``gaussian:SIGMA`` (semi-local,
eq. 2.30), ``ntk:ACTIVATION[:DEPTH]`` (non-local, frozen MLP NTK, eq. 2.12) and
``nearest`` (point clouds).

Flows: ``ricci`` (eq. 2.39, V = −2 R_ij), ``perelman`` (eq. 2.40, V = −2(R_ij + ∇_i∇_j f),
with f the minimiser of F — :mod:`metricflow.flows.dilaton`; then F = λ(g) is reported
and is non-decreasing for the local kernel), ``functional:NAME`` (eq. 2.14, tori) and
``sigma`` (descent of the σ-measure B.11, point clouds).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from metricflow.errors import InvalidInputError, NumericalError
from metricflow.flows.dilaton import DILATON_TOLERANCE

FLOWS = ("ricci", "perelman", "sigma", "kahler-ricci", "calabi")


@dataclass(frozen=True)
class FlowSystem:
    """``∂_t state = velocity(state)``.

    ``velocity`` and ``refresh`` are pure and JAX-traceable; ``refresh`` is applied
    after every step (it updates auxiliary fields such as the dilaton's warm start and
    leaves the evolved fields alone). ``diagnostics(state)`` returns the record's
    floats, ``check(state, t)`` raises :class:`NumericalError` on a broken state,
    ``main`` names the field that is snapshotted and returned as ``final``;
    ``kernel`` is the kernel's spec string."""

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


def parse_flow(flow, resolve=None) -> tuple[str, object]:
    """``ricci`` | ``perelman`` | ``sigma`` | ``functional:NAME`` | a ``Functional`` -> (name, functional or None).

    ``resolve`` looks a functional up (default: the Riemannian registry,
    :func:`metricflow.flows.functional.resolve`; the registry gives each manifold's own)."""
    if resolve is None:
        from metricflow.flows.functional import resolve
    if isinstance(flow, str) and flow.startswith("functional:"):
        return flow, resolve(flow.partition(":")[2])
    if not isinstance(flow, str):
        functional = resolve(flow)
        return f"functional:{functional.name}", functional
    if flow not in FLOWS:
        raise InvalidInputError("flow", f"expected one of {FLOWS} or functional:NAME, got {flow!r}")
    return flow, None


def flow_system(manifold, flow="ricci", kernel="local") -> FlowSystem:
    """The :class:`FlowSystem` of ``flow`` with ``kernel`` on ``manifold``.

    ``flow``: ``"ricci"`` (2.39), ``"perelman"`` (2.40), the descent flow of a functional
    (``"functional:volume"``, ``"functional:einstein-hilbert"``, or a
    :class:`~metricflow.symbolic.functionals.Functional`; tori) or ``"sigma"`` (point
    clouds); ``kernel``: a :class:`~metricflow.kernels.base.Kernel` or its spec string.
    An unknown combination is refused, listing what the manifold offers."""
    from metricflow.flows.registry import lookup, resolver
    from metricflow.kernels.base import parse_kernel
    from metricflow.manifolds.base import Manifold

    if not isinstance(manifold, Manifold):
        raise InvalidInputError("manifold", f"expected a metricflow Manifold (Torus, Sphere, PointCloud), "
                                f"got {type(manifold).__name__}")
    kernel = parse_kernel(kernel)
    builder = lookup(type(manifold), flow if isinstance(flow, str) else "functional:", manifold.name)
    name, functional = parse_flow(flow, resolver(type(manifold)))
    return builder(manifold, kernel, functional, name)


def check_record(record: dict, t: float) -> None:
    """A record whose dilaton solve did not converge stops the run (any system)."""
    res = record.get("dilaton_residual")
    if res is not None and not res < DILATON_TOLERANCE:
        raise NumericalError(f"the dilaton (ground state of −4Δ + R) did not converge at t = {t:.6g} "
                             f"(relative residual {res:.2g}); reduce --dt")

