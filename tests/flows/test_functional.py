"""Descent flows of any functional (eq. 2.14): autodiff of the discretised functional,
checked against the compiled symbolic kernels and closed forms."""

import json

import jax.numpy as jnp
import numpy as np
import pytest
from click.testing import CliRunner

from metricflow._x64 import x64
from metricflow.cli import cli
from metricflow.errors import InvalidInputError
from metricflow.flows import initial_metric, run_flow
from metricflow.flows.functional import functional_velocity, resolve
from metricflow.flows.torus import _pointwise
from metricflow.manifolds import Sphere, Torus
from metricflow.symbolic.functionals import Functional


def test_volume_flow_is_exponential_shrinking():
    """δVol = ∫ ½ g^{ij} δg_ij dV, so the descent flow is ∂_t g = −g: g(t) = e^{−t} g0."""
    T = Torus(2, 16)
    g0 = initial_metric(T, "bumpy", seed=3)
    res = run_flow(T, g0, flow="functional:volume", steps=50, dt=1e-2, record_every=25)
    np.testing.assert_allclose(res.final, np.exp(-0.5) * g0, atol=1e-9)   # RK4 error ~ (dt⁴/120) t
    areas = np.array([h["area"] for h in res.history])
    np.testing.assert_allclose(areas, areas[0] * np.exp(-np.array([0.0, 0.25, 0.5])), rtol=1e-9)
    np.testing.assert_allclose([h["action"] for h in res.history], areas, rtol=1e-12)


def test_einstein_hilbert_variation_matches_the_compiled_einstein_tensor():
    """Autodiff of Σ R√g h gives +2(R_ij − ½R g_ij) (descent), converging spectrally to the
    compiled symbolic Einstein kernel; in 2D it vanishes (Gauss–Bonnet)."""
    errs = {}
    with x64():
        for n in (16, 24):
            T = Torus(3, n)
            g = jnp.asarray(initial_metric(T, "bumpy", seed=0, amplitude=0.2))
            v = functional_velocity(T, resolve("einstein-hilbert"), g)
            errs[n] = float(jnp.max(jnp.abs(v - 2 * _pointwise(T, "einstein", *T.jets(g)))))
        T2 = Torus(2, 48)
        g2 = jnp.asarray(initial_metric(T2, "bumpy", seed=0, amplitude=0.2))
        eh2 = float(jnp.max(jnp.abs(functional_velocity(T2, resolve("einstein-hilbert"), g2))))
    # measured: 0.053 (16³), 0.0024 (24³) against |G_ij| ≈ 1; 2D: 1.9e-7 at 48² (0.07 at 16²)
    assert errs[24] < 5e-3 and errs[24] < errs[16] / 10
    assert eh2 < 1e-6


def test_user_functional_is_linear_and_bad_functionals_are_refused():
    lam = 0.7
    cosmo = Functional("cosmological", lambda geo: geo.R + 2 * lam * geo.A.one)
    with x64():
        T = Torus(2, 16)
        g = jnp.asarray(initial_metric(T, "bumpy", seed=1))
        v = functional_velocity(T, resolve(cosmo), g)
        parts = functional_velocity(T, resolve("einstein-hilbert"), g) + 2 * lam * functional_velocity(
            T, resolve("volume"), g)
    np.testing.assert_allclose(np.asarray(v), np.asarray(parts), atol=1e-12)
    with pytest.raises(InvalidInputError, match="dilaton"):
        resolve("perelman")
    with pytest.raises(InvalidInputError, match="known"):
        resolve("calabi")
    with pytest.raises(InvalidInputError, match="geo.R"):
        run_flow(T, np.asarray(g), flow=Functional("ricci2", lambda geo: geo.ricci_sq), steps=1)
    with pytest.raises(InvalidInputError, match="sphere2"):
        run_flow(Sphere(6), np.zeros(Sphere(6).shape), flow="functional:volume", steps=1)


def test_cli_functional_flow(tmp_path):
    res = CliRunner().invoke(cli, ["flow", "run", "--flow", "functional:volume", "--n", "12", "--steps", "10",
                                   "--dt", "0.01", "--out", str(tmp_path / "v"), "--json"])
    assert res.exit_code == 0, res.output
    h = json.loads(res.output)["history"]
    assert abs(h[-1]["area"] / h[0]["area"] - np.exp(-0.1)) < 1e-9
    bad = CliRunner().invoke(cli, ["flow", "run", "--flow", "functional:nope", "--out", str(tmp_path / "b")])
    assert bad.exit_code == 2 and "--flow" in bad.output
