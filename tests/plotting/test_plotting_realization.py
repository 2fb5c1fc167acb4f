"""The Perelman realization check's figure (metricflow.plotting.realization)."""

from metricflow.plotting.realization import plot_perelman_check


def test_plot_from_a_result(tmp_path):
    rows = [{"sweep": "width", "width": w, "sigma": 0.2, "rel_error": 0.1 + e, "rel_error_vs_infinite_width": e}
            for w, e in ((1_000, 0.3), (10_000, 0.1), (100_000, 0.03))]
    rows += [{"sweep": s, "width": 10**7, "sigma": sg, "rel_error": 2 * e, "rel_error_infinite_width": e}
             for s, sg, e in (("sigma", 0.4, 0.1), ("sigma", 0.2, 0.025), ("finest", 0.07, 0.003))]
    path = plot_perelman_check({"rows": rows, "width_slope": -0.5, "sigma_slope": 2.0}, tmp_path / "p.png")
    assert path.name == "p.png" and path.stat().st_size > 10_000
