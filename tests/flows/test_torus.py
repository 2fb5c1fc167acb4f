"""Local Ricci flow on the flat tori: Gauss–Bonnet, decay to flat, monitors, checkpoints."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from metricflow.cli import cli
from metricflow.errors import InvalidInputError, NumericalError
from metricflow.flows import initial_metric, run_flow
from metricflow.manifolds import Torus


def test_spectral_jets_are_exact_for_trigonometric_fields():
    T = Torus(2, 16)
    x = T.points
    f = np.sin(x[..., 0]) * np.cos(2 * x[..., 1])
    F, dF, ddF = T.jets(f)
    # round-off only: 1e-12
    np.testing.assert_allclose(dF[..., 0], np.cos(x[..., 0]) * np.cos(2 * x[..., 1]), atol=1e-12)
    np.testing.assert_allclose(ddF[..., 0, 1], -2 * np.cos(x[..., 0]) * np.sin(2 * x[..., 1]), atol=1e-12)
    np.testing.assert_allclose(ddF[..., 1, 1], -4 * f, atol=1e-12)


def test_flat_torus_is_a_fixed_point():
    T = Torus(2, 16)
    res = run_flow(T, initial_metric(T, "flat"), steps=4, dt=1e-2, record_every=2)
    assert np.max(np.abs(res.final - np.eye(2))) < 1e-14
    assert res.history[-1]["max_abs_scalar_curvature"] < 1e-12


@pytest.mark.parametrize("method", ["euler", "rk4"])
def test_bumpy_torus_flows_towards_flat_keeping_its_area(method):
    """On T², d(area)/dt = -∫R dA = -4πχ = 0 (Gauss–Bonnet), and max|R| decays."""
    T = Torus(2, 24)
    res = run_flow(T, initial_metric(T, "bumpy", seed=3), steps=120, dt=2e-3, method=method, record_every=40)
    a0, a1 = res.history[0]["area"], res.history[-1]["area"]
    # spectral quadrature of a smooth density: the area is conserved to ~1e-10 relative
    assert abs(a1 - a0) < 1e-8 * a0
    # ∫R dA = 0 up to the spectral (aliasing) error of the grid: measured 1.1e-7 at 24²,
    # 1e-10 at 32², 1e-15 at 48² for this metric
    assert all(abs(h["total_scalar_curvature"]) < 1e-6 for h in res.history)
    R = [h["max_abs_scalar_curvature"] for h in res.history]
    assert R[-1] < 0.35 * R[0]
    assert all(b < a for a, b in zip(R, R[1:], strict=False))


def test_euler_rk4_and_adaptive_agree():
    """Three integrators of the same flow agree to their truncation errors (dt = 1e-3, t = 0.02)."""
    T = Torus(2, 16)
    g0 = initial_metric(T, "bumpy", seed=5)
    finals = {m: run_flow(T, g0, steps=20, dt=1e-3, method=m, record_every=20).final
              for m in ("euler", "rk4", "adaptive")}
    assert np.max(np.abs(finals["rk4"] - finals["adaptive"])) < 1e-7
    assert np.max(np.abs(finals["euler"] - finals["rk4"])) < 1e-3


def test_torus3_flow_smooths_curvature():
    T = Torus(3, 8)
    res = run_flow(T, initial_metric(T, "bumpy", seed=1, amplitude=0.2), steps=10, dt=1e-3, record_every=5,
                   method="euler")
    assert res.history[-1]["max_abs_scalar_curvature"] < res.history[0]["max_abs_scalar_curvature"]


def test_resumed_run_equals_uninterrupted_run(tmp_path, kill_at):
    T = Torus(2, 12)
    g0 = initial_metric(T, "bumpy", seed=2)
    full = run_flow(T, g0, steps=60, dt=2e-3, record_every=10)
    ck = tmp_path / "ck.npz"
    with pytest.raises(kill_at.Killed):
        run_flow(T, g0, steps=60, dt=2e-3, record_every=10, checkpoint=ck, callback=kill_at(30))
    resumed = run_flow(T, g0, steps=60, dt=2e-3, record_every=10, checkpoint=ck, resume=True)
    np.testing.assert_array_equal(resumed.final, full.final)
    assert [h["t"] for h in resumed.history] == [h["t"] for h in full.history]
    with pytest.raises(InvalidInputError, match="written with dt") as exc:
        run_flow(T, g0, steps=60, dt=1e-3, record_every=10, checkpoint=ck, resume=True)
    assert exc.value.argument == "dt"


def test_blow_up_stops_with_a_clear_message_and_keeps_the_last_good_state(tmp_path):
    T = Torus(2, 16)
    g0 = initial_metric(T, "bumpy", seed=4, amplitude=0.6)
    with pytest.raises(NumericalError, match="t = ") as exc:
        run_flow(T, g0, steps=50, dt=0.5, method="euler", record_every=1, checkpoint=tmp_path / "c.npz")
    assert exc.value.result.final is not None and np.all(np.isfinite(exc.value.result.final))
    assert (tmp_path / "c.npz").exists()


def test_bad_inputs():
    T = Torus(2, 8)
    with pytest.raises(InvalidInputError, match="shape"):
        run_flow(T, np.eye(2), steps=1)
    bad = initial_metric(T, "flat")
    bad[0, 0, 0, 1] = 0.5
    with pytest.raises(InvalidInputError, match="symmetric"):
        run_flow(T, bad, steps=1)
    with pytest.raises(InvalidInputError, match="dt"):
        run_flow(T, initial_metric(T, "flat"), steps=1, dt=-1)
    with pytest.raises(InvalidInputError, match="init"):
        initial_metric(T, "round")
    with pytest.raises(InvalidInputError):
        Torus(2, 7)


def test_cli_flow_run_json_contract(tmp_path):
    out = tmp_path / "run"
    result = CliRunner().invoke(cli, ["flow", "run", "--manifold", "torus2", "--flow", "ricci", "--kernel", "local",
                                      "--steps", "20", "--dt", "0.002", "--init", "bumpy", "--n", "16",
                                      "--out", str(out), "--json"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert {"t", "area", "max_abs_scalar_curvature"} <= set(doc["history"][0])
    for f in doc["files"]:
        assert (out / f).exists()
    with np.load(out / "trajectory.npz") as data:
        assert data["metrics"].shape[1:] == (16, 16, 2, 2)


def test_snapshots_every_record_or_evenly_spaced():
    T = Torus(2, 8)
    g0 = initial_metric(T, "bumpy", seed=0)
    every = run_flow(T, g0, steps=24, dt=1e-3, record_every=2, snapshots=None)
    assert every.snapshot_times == [r["t"] for r in every.history] and len(every.snapshots) == 13
    some = run_flow(T, g0, steps=24, dt=1e-3, record_every=2, snapshots=3)
    assert len(some.snapshots) == 4 and some.snapshot_times[-1] == every.history[-1]["t"]
    assert np.array_equal(some.final, every.final)
    with pytest.raises(InvalidInputError, match="snapshots"):
        run_flow(T, g0, steps=2, snapshots=0)
