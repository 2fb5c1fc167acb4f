"""The figures of plotting/ draw from plain data (lists and arrays) and write PNGs."""

import numpy as np

from metricflow.plotting.cy import heatmaps, nn_scaling_plot
from metricflow.plotting.kahler import hn_flow_plot
from metricflow.plotting.ntk import ntk_figure
from metricflow.plotting.symbolic import berger_flow_plot


def _png(path):
    data = path.read_bytes()
    return data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 1000


def test_figures_from_plain_data(tmp_path):
    t = np.linspace(0, 1, 20)
    assert _png(berger_flow_plot(t, 1 - t / 2, 0.4 + 0 * t, tmp_path / "b.png"))
    runs = {"a": {"energy": [1.0, 0.5, 0.25], "sigma_max": [0.5, 0.4, 0.3]}}
    assert _png(hn_flow_plot(runs, 0.1, tmp_path / "k.png"))
    rows = [{"width": w, "rel_error": w**-0.5} for w in (10, 100, 1000)]
    xs = np.linspace(-1, 1, 11)
    assert _png(ntk_figure(xs, {10: np.exp(-xs**2)}, np.exp(-xs**2), 2.0, rows, -0.5,
                           np.ones((3, 3)), ["a", "b", "c"], tmp_path / "n.png"))
    nn = {"rows": [{"n": n, "mean": n**-0.2, "min": 0.5 * n**-0.2, "max": 2 * n**-0.2} for n in (100, 1000)],
          "prefactor": 1.0, "exponent": -0.2}
    assert _png(nn_scaling_plot(nn, tmp_path / "nn.png"))
    d = np.abs(np.subtract.outer(np.arange(6.0), np.arange(6.0))) / 10
    assert _png(heatmaps(d, np.array([0, 1, 0, 1, 0, 1]), None, tmp_path / "h.png", title="t"))
