"""The flow engine: velocities of metric flows and their integration.

``run_flow`` integrates a :class:`~metricflow.flows.systems.FlowSystem` — Ricci (eq. 2.39),
Perelman (eq. 2.40, with the F-minimising dilaton) or the descent flow of a functional —
on the tori (``Torus``) or the 2-sphere (``Sphere``), with the local, semi-local (2.30)
or frozen-NTK (2.12) kernel. Finite networks trained by gradient descent (2.1–2.2) are in
:mod:`metricflow.flows.network`.
"""

from metricflow.flows.integrate import FlowResult, run_flow
from metricflow.flows.torus import diagnostics, initial_metric, ricci_velocity

__all__ = ["FlowResult", "run_flow", "diagnostics", "initial_metric", "ricci_velocity"]
