"""What a folder given as ``--metric`` holds: a saved algebraic metric
(:func:`metricflow.cy.algebraic.save_metric`, ``metric.npz``) or a trained network
(:mod:`metricflow.cy.networks`, ``network.npz``). Above both modules, so that neither
imports the other."""

from __future__ import annotations

from pathlib import Path

from metricflow.cy.algebraic import METRIC_FILE, load_metric
from metricflow.cy.networks import NETWORK_FILE, load_network


def metric_option(text):
    """The CLI's ``--metric``: for a directory the saved algebraic metric, or the trained
    network when it holds ``network.npz`` (and no ``metric.npz``); else ``text`` unchanged
    (``fs``, ``flat``: see :func:`metricflow.cy.measures.metric_values`)."""
    if isinstance(text, str) and text not in ("fs", "flat") and Path(text).is_dir():
        if (Path(text) / NETWORK_FILE).is_file() and not (Path(text) / METRIC_FILE).is_file():
            return load_network(text)
        return load_metric(text)
    return text


__all__ = ["metric_option"]
