"""The flow engine: velocities of metric flows and their integration.

This release contains the *local* flows on the flat tori T² and T³ (eq. 2.14 with
the Ricci-flow loss, eq. 2.39); the semi-local, non-local and neural-network flows of
sections 2.2–2.4 build on the same integrator.
"""

from metricflow.flows.integrate import FlowResult, run_flow
from metricflow.flows.local import diagnostics, initial_metric, ricci_velocity

__all__ = ["FlowResult", "run_flow", "diagnostics", "initial_metric", "ricci_velocity"]
