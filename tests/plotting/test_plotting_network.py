"""Outputs of the finite-network flows (metricflow.plotting.network)."""

import json
from pathlib import Path

from metricflow.plotting.network import plot_experiment


def test_experiment_plot_from_a_recorded_benchmark(tmp_path):
    """plot_experiment draws the recorded T³ benchmark (benchmarks/results) into one PNG."""
    doc = json.loads((Path(__file__).parents[2] / "benchmarks/results/network_flow_T3_cpu2.json").read_text())
    exp = doc["experiments"][0]
    assert exp["dim"] == 3 and {"rows", "relu"} <= set(exp)
    paths = plot_experiment(exp, tmp_path)
    assert [p.name for p in paths] == ["network_flow_T3.png"]
    assert paths[0].stat().st_size > 10_000
