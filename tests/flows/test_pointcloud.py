"""The σ-measure flow on a point cloud (metricflow.flows.pointcloud) and the flow registry."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metricflow import cy
from metricflow._x64 import x64
from metricflow.errors import InvalidInputError, NumericalError
from metricflow.flows import run_flow
from metricflow.flows.pointcloud import diagnostics, initial_metric, sigma_gradient, sigma_measure, sigma_velocity
from metricflow.flows.registry import lookup, offered
from metricflow.flows.systems import flow_system
from metricflow.manifolds import PointCloud, Sphere, Torus


@pytest.fixture(scope="module")
def cloud():
    return PointCloud.sample("fermat-quintic", n=500, seed=2)


def test_registry_offers_and_refuses(cloud):
    assert offered(Torus) == ["functional:NAME", "perelman", "ricci"]
    assert offered(Sphere) == ["perelman", "ricci"]
    assert offered(PointCloud) == ["sigma"]
    for flow in ("ricci", "perelman"):
        with pytest.raises(InvalidInputError, match="no derivatives") as exc:
            flow_system(cloud, flow, "local")
        assert exc.value.argument == "flow" and "it offers sigma" in exc.value.message
    with pytest.raises(InvalidInputError, match=r"not offered on torus2 \(Torus\); it offers functional:NAME"):
        flow_system(Torus(2, 8), "sigma")
    with pytest.raises(InvalidInputError, match="sphere2"):
        flow_system(Sphere(6), "functional:volume")
    with pytest.raises(InvalidInputError, match="Manifold"):
        flow_system(object(), "ricci")
    assert lookup(PointCloud, "sigma") is lookup(type(cloud), "sigma")


def test_sigma_and_kappa_are_cy_sigma(cloud):
    g = initial_metric(cloud)
    ref = cy.sigma(cloud.pointset)
    d = diagnostics(cloud, g)
    # the same sums in the same formula (B.10-B.11): round-off only
    assert d["sigma"] == pytest.approx(ref["sigma"], rel=1e-12) and d["kappa"] == pytest.approx(ref["kappa"], rel=1e-12)
    g2 = g * (1 + 0.3 * np.abs(cloud.points[:, 1]) ** 2)[:, None, None]
    assert diagnostics(cloud, g2)["sigma"] == pytest.approx(cy.sigma(cloud.pointset, g2)["sigma"], rel=1e-12)


def test_autodiff_velocity_is_the_functional_derivative(cloud):
    """V_i = −(∂σ/∂Re g_i + i ∂σ/∂Im g_i)/ω_i (hermitian part): checked against central
    differences of σ along hermitian perturbations at a few points. The step h = 1e-6
    is far from the kinks of |w − r/κ| (min |w − r/κ| ≈ 1e-4 relative here), so the
    difference quotient is exact up to O(h²) and round-off ~1e-16/h. The flow's velocity
    is the FS-natural gradient g_FS V g_FS."""
    with x64():
        g = jnp.asarray(initial_metric(cloud))
        V = np.asarray(sigma_gradient(cloud)(g))
        G = cloud.reference_metric()
        natural = G @ V @ G
        np.testing.assert_allclose(np.asarray(sigma_velocity(cloud)(g)), natural, atol=1e-13 * np.abs(natural).max())
        measure = jax.jit(lambda x: sigma_measure(cloud)(x)[0])
        rng = np.random.default_rng(0)
        for i in (0, 17, 333):
            A = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))
            E = np.zeros((cloud.npoints, 3, 3), complex)
            E[i] = A + A.conj().T
            h = 1e-6
            fd = (float(measure(g + h * E)) - float(measure(g - h * E))) / (2 * h)
            # dσ = Σ_i ω_i Re⟨−V_i, δg_i⟩ with the real inner product Σ Re(conj(V) δg)
            pred = -cloud.weights[i] * np.sum(np.real(np.conj(V[i]) * E[i]))
            assert fd == pytest.approx(pred, rel=1e-6, abs=1e-12)
    assert np.allclose(V, np.conj(np.swapaxes(V, 1, 2)))


@pytest.mark.parametrize("kernel", ["local", "gaussian:0.35"])
def test_sigma_decreases_over_fifty_steps(cloud, kernel):
    # dt = 0.1: the time scale of the FS-natural gradient (catalog.default_dt; the plain
    # gradient, the velocity before, took dt = 0.01 for the same fall, measured 0.16 and 0.78)
    res = run_flow(cloud, initial_metric(cloud), flow="sigma", kernel=kernel, steps=50, dt=0.1, record_every=10)
    s = [h["sigma"] for h in res.history]
    assert all(b < a for a, b in zip(s, s[1:], strict=False)), s
    assert s[-1] < (0.5 if kernel == "local" else 0.9) * s[0]   # measured 0.12 and 0.81
    assert res.final.shape == (500, 3, 3) and res.history[-1]["min_eigenvalue"] > 0


@pytest.fixture(scope="module")
def small_cloud():
    return PointCloud.sample("fermat-quintic", n=200, seed=7)


@settings(max_examples=10, deadline=None)
@given(sigma=st.floats(0.05, 0.5), bend=st.floats(0.0, 0.6), seed=st.integers(0, 2**16))
def test_the_gaussian_velocity_is_a_descent_direction_across_charts(small_cloud, sigma, bend, seed):
    """kernels.pointcloud (★): dσ along Θ·M is −Σ_ij ω_i ω_j K_ij ⟨A_i, A_j⟩ ≤ 0 for a PSD
    kernel (the Gaussian of the FS distance is PSD on the quintic for σ ≤ 0.5: its smallest
    eigenvalue on 400 points is +1.6e-4 of the largest at σ = 0.5, −7e-3 at σ = 1), whatever
    the charts of the points. At a metric bent away from g_FS (so that the velocity varies),
    both the first-order change and a small finite step decrease σ."""
    from metricflow.kernels.gaussian import Gaussian

    cloud = small_cloud
    assert len(cloud.chart_groups()) >= 8           # the points lie in many charts
    rng = np.random.default_rng(seed)
    c = rng.normal(size=cloud.points.shape[1]) + 1j * rng.normal(size=cloud.points.shape[1])
    u = cloud.points / np.linalg.norm(cloud.points, axis=1, keepdims=True)
    g = initial_metric(cloud) * (1 + bend * np.abs(u @ c) ** 2 / np.sum(np.abs(c) ** 2))[:, None, None]
    with x64():
        V = np.asarray(sigma_gradient(cloud)(jnp.asarray(g)))
        M = np.asarray(sigma_velocity(cloud)(jnp.asarray(g)))
    U = Gaussian(sigma).extend(cloud, M, cloud.pointset)       # Θ·M at the cloud's own points
    rate = float(np.sum(cloud.weights * np.real(np.einsum("iab,iba->i", V, U))))    # −dσ/dt
    assert rate > 0, rate
    measure = sigma_measure(cloud)
    h = 1e-4 / np.max(np.abs(U) / np.abs(g).max())             # a step of 1e-4 relative to g
    # σ is piecewise linear in the step only past a kink of |w − r/κ|; at 1e-4 of g the second
    # order term is ~1e-8 relative, below the first-order decrease h·rate in every example drawn
    assert float(measure(g + h * U)[0]) < float(measure(g)[0])


def test_a_huge_step_is_stopped_by_the_positive_definiteness_monitor(cloud, tmp_path):
    with pytest.raises(NumericalError, match="positive definite|NaN") as exc:
        run_flow(cloud, initial_metric(cloud), flow="sigma", steps=10, dt=50.0, method="euler", record_every=1,
                 checkpoint=tmp_path / "c.npz")
    good = exc.value.result.final
    assert np.all(np.isfinite(good)) and np.min(np.linalg.eigvalsh(good)) > 0


def test_sigma_flow_resumes_bit_identically_and_refuses_other_settings(cloud, tmp_path, kill_at):
    g0 = initial_metric(cloud)
    kw = dict(flow="sigma", kernel="gaussian:0.5", steps=30, dt=1e-2, record_every=10)
    full = run_flow(cloud, g0, **kw)
    ck = tmp_path / "ck.npz"
    with pytest.raises(kill_at.Killed):
        run_flow(cloud, g0, **kw, checkpoint=ck, callback=kill_at(20), settings={"seed": 2})
    resumed = run_flow(cloud, g0, **kw, checkpoint=ck, resume=True, settings={"seed": 2})
    np.testing.assert_array_equal(resumed.final, full.final)
    assert resumed.history == full.history
    other = PointCloud.sample("fermat-quintic", n=500, seed=3)
    for change, key in [({"dt": 2e-2}, "dt"), ({"kernel": "local"}, "kernel"), ({"record_every": 5}, "record_every"),
                        ({"method": "euler"}, "method"), ({"settings": {"seed": 3}}, "seed")]:
        with pytest.raises(InvalidInputError) as exc:
            run_flow(cloud, g0, **{**kw, "settings": {"seed": 2}, **change}, checkpoint=ck, resume=True)
        assert exc.value.argument == key
    with pytest.raises(InvalidInputError) as exc:   # another point set: its digest differs
        run_flow(other, initial_metric(other), **kw, checkpoint=ck, resume=True, settings={"seed": 2})
    assert exc.value.argument == "points"
    with pytest.raises(InvalidInputError) as exc:   # a Python caller with another initial metric
        run_flow(cloud, 1.5 * g0, **kw, checkpoint=ck, resume=True, settings={"seed": 2})
    assert exc.value.argument == "initial_state"
