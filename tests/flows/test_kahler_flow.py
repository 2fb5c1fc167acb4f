"""The Kähler functionals' descent flows on the flat complex torus run through the one
engine (run_flow, the registry, the shared checkpoint and monitors)."""

import numpy as np
import pytest

from metricflow.errors import InvalidInputError, NumericalError
from metricflow.flows import run_flow
from metricflow.flows.kahler import TorusFunctional, metric_of
from metricflow.manifolds import ComplexTorus
from metricflow.symbolic.kahler_functionals import derive_potential_variation


@pytest.fixture(scope="module")
def torus():
    return ComplexTorus(n=1, N=8)


def test_l2_descent_decreases_the_functional_and_matches_the_compiled_velocity(torus, tmp_path):
    phi0 = torus.random_phi(seed=3, size=0.3)
    # the L² flow of a two-derivative Lagrangian is fourth order in φ: on N = 8 the largest
    # symbol is ~2 (|k|²/4)² ≈ 6e4 (|k| = 2π·3·√2), so RK4 is stable for dt ≲ 2.8/6e4 ≈ 4e-5
    res = run_flow(torus, phi0, flow="functional:hn-ultralocal", kernel="local", steps=200, dt=1e-5,
                   method="rk4", record_every=50, checkpoint=tmp_path / "c.npz")
    values = [r["functional"] for r in res.history]
    assert all(b < a for a, b in zip(values, values[1:], strict=False)), values
    spread = [r["eta_max"] - r["eta_min"] for r in res.history]
    assert spread[-1] < spread[0]
    # one Euler step is φ + dt · (the derived L² velocity), to round-off
    one = run_flow(torus, phi0, flow="functional:hn-ultralocal", steps=1, dt=1e-5, method="euler", record_every=1)
    tf = TorusFunctional(derive_potential_variation("hn-ultralocal", 1), torus)
    expected = phi0 + 1e-5 * tf.velocity(phi0, "l2")
    assert np.max(np.abs(one.final - expected)) < 1e-12 * max(1.0, np.max(np.abs(expected)))


def test_refusals(torus):
    phi0 = torus.random_phi(seed=1, size=0.3)
    with pytest.raises(InvalidInputError, match="unknown Kähler functional 'volume'"):
        run_flow(torus, phi0, flow="functional:volume", steps=1)
    with pytest.raises(InvalidInputError, match="not offered"):
        run_flow(torus, phi0, flow="ricci", steps=1)
    with pytest.raises(InvalidInputError, match="shape"):
        run_flow(torus, phi0[:4], flow="functional:hn-entropy", steps=1)
    with pytest.raises(NumericalError, match="positive definite"):
        run_flow(torus, torus.random_phi(seed=1, size=1.5), flow="functional:hn-entropy", steps=1)


def test_metric_of_is_g0_plus_ddbar_phi(torus):
    phi = torus.random_phi(seed=2, size=0.2)
    g = metric_of(torus, phi.astype(complex))
    ddbar = torus.derivatives(phi, [(1, 1)])[(1, 1)].real
    assert np.allclose(g[..., 0, 0].real, 1.0 + ddbar, atol=1e-13)
