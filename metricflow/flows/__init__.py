"""The flow engine: velocities of metric flows and their integration.

``run_flow`` integrates a :class:`~metricflow.flows.systems.FlowSystem` built by
:func:`~metricflow.flows.systems.flow_system` from the registry
(:mod:`metricflow.flows.registry`): Ricci (eq. 2.39), Perelman (eq. 2.40, with the
F-minimising dilaton) or the descent flow of a functional on the tori
(:mod:`~metricflow.flows.torus`), Ricci and Perelman on the 2-sphere
(:mod:`~metricflow.flows.sphere`), the σ-measure flow (B.11) on point clouds of
hypersurfaces (:mod:`~metricflow.flows.pointcloud`) — with any kernel of
:mod:`metricflow.kernels.base` the manifold supports. Finite networks trained by
gradient descent (2.1–2.2) are in :mod:`metricflow.flows.network`, integrated by the
one parameter-space training loop :func:`metricflow.flows.training.train`.
"""

from metricflow.flows.integrate import FlowResult, run_flow
from metricflow.flows.torus import diagnostics, initial_metric, ricci_velocity

__all__ = ["FlowResult", "run_flow", "diagnostics", "initial_metric", "ricci_velocity"]
