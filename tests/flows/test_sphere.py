"""Ricci flow on S² in the conformal gauge: transforms, closed forms, Gauss–Bonnet, the
two-chart check against the symbolic kernel, Perelman's λ, monitors and the showcase."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metricflow._x64 import x64
from metricflow.errors import InvalidInputError, NumericalError
from metricflow.flows import run_flow
from metricflow.flows.sphere import (
    check_state,
    diagnostics,
    gauss_curvature,
    initial_metric,
    lambda_functional,
    ricci_velocity,
    scalar_curvature,
    scalar_curvature_at,
    scalar_curvature_in_charts,
)
from metricflow.manifolds import Sphere
from metricflow.manifolds.sphere import stereographic, stereographic_inverse

EIGHT_PI = 8 * np.pi
POLES = np.array([[0.0, 0.0, 1.0], [0.0, 0.0, -1.0]])


def _rotation_x(angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


# ------------------------------------------------------------------ the manifold
def test_grid_quadrature_and_harmonics_are_orthonormal():
    S = Sphere(8)
    assert S.name == "sphere2" and S.dim == 2
    assert S.shape == (13, 25) and S.npoints == 13 * 25
    assert abs(S.weights.sum() - 4 * np.pi) < S.npoints * np.finfo(float).eps * 4 * np.pi  # n eps sum|w|
    np.testing.assert_allclose(np.linalg.norm(S.points, axis=-1), 1.0, atol=1e-15)
    idx = np.argwhere(S.coefficient_mask)
    assert len(idx) == (S.lmax + 1) ** 2
    Y = []
    for c, m, l in idx:
        e = np.zeros(S.coefficient_shape)
        e[c, m, l] = 1.0
        Y.append(S.synthesis(e))
    Y = np.array(Y)
    gram = np.einsum("ajk,bjk,jk->ab", Y, Y, S.weights)
    np.testing.assert_allclose(gram, np.eye(len(idx)), atol=1e-13)
    z = S.points[..., 2]
    e = np.zeros(S.coefficient_shape)
    e[0, 0, 1] = 1.0
    np.testing.assert_allclose(S.synthesis(e), np.sqrt(3 / (4 * np.pi)) * z, atol=1e-15)


def test_laplacian_round_trip_and_integrate():
    S = Sphere(10)
    x, y, z = np.moveaxis(S.points, -1, 0)
    f = x * y * z + z**2                       # degrees 3 and 2 (and 0)
    np.testing.assert_allclose(S.project(f), f, atol=1e-14)
    # Δ(xyz) = −12 xyz (l = 3), Δ(z² − 1/3) = −6 (z² − 1/3)
    np.testing.assert_allclose(S.laplacian(f), -12 * x * y * z - 6 * (z**2 - 1 / 3), atol=1e-12)
    tol = S.npoints * np.finfo(float).eps * 4 * np.pi / 3  # n non-negative terms, any order: <= n eps sum
    assert abs(S.integrate(z**2) - 4 * np.pi / 3) < tol
    with x64():
        import jax.numpy as jnp

        assert abs(float(S.integrate(jnp.asarray(z**2))) - 4 * np.pi / 3) < tol


def test_off_grid_evaluation_is_exact_and_smooth_at_the_poles():
    import jax
    import jax.numpy as jnp

    S = Sphere(12)
    rng = np.random.default_rng(1)
    a = rng.normal(size=S.coefficient_shape) * S.coefficient_mask
    f = S.synthesis(a)
    with x64():
        np.testing.assert_allclose(np.asarray(S.evaluate(jnp.asarray(f), S.points)), f, atol=1e-12)
        # the field xz + y: its ambient gradient is (z, 1, x) everywhere, the poles included
        x, y, z = np.moveaxis(S.points, -1, 0)
        h = jnp.asarray(x * z + y)
        grad = jax.vmap(jax.grad(lambda p: S.evaluate(h, p)))(jnp.asarray(POLES))
        np.testing.assert_allclose(np.asarray(grad), [[1, 1, 0], [-1, 1, 0]], atol=1e-12)


def test_stereographic_charts_are_inverse_and_cover_the_sphere():
    S = Sphere(6)
    p = S.points.reshape(-1, 3)
    for chart in ("north", "south"):
        np.testing.assert_allclose(stereographic(stereographic_inverse(p, chart), chart), p, atol=1e-12)
    north = stereographic_inverse(p[p[:, 2] >= 0], "north")
    south = stereographic_inverse(p[p[:, 2] < 0], "south")
    assert np.max(np.linalg.norm(north, axis=-1)) <= 1 and np.max(np.linalg.norm(south, axis=-1)) <= 1


@pytest.mark.parametrize("kwargs, argument", [({"lmax": 1}, "lmax"), ({"lmax": 8, "nlat": 8}, "nlat"),
                                              ({"lmax": 8, "nlon": 16}, "nlon"), ({"lmax": 2.5}, "lmax")])
def test_bad_grids_are_refused(kwargs, argument):
    with pytest.raises(InvalidInputError) as exc:
        Sphere(**kwargs)
    assert exc.value.argument == argument


def test_bad_initial_states_are_refused():
    S = Sphere(8)
    with pytest.raises(InvalidInputError) as exc:
        initial_metric(S, "flat")
    assert exc.value.argument == "init"
    with pytest.raises(InvalidInputError) as exc:
        initial_metric(S, "bumpy", amplitude=0)
    assert exc.value.argument == "amplitude"
    with pytest.raises(InvalidInputError) as exc:
        diagnostics(S, np.zeros((3, 3)))
    assert exc.value.argument == "u"


# --------------------------------------------------------------- closed forms
@pytest.mark.parametrize("r", [0.5, 1.0, 2.0])
def test_round_sphere_of_radius_r_has_K_one_over_r_squared(r):
    S = Sphere(8)
    u = np.full(S.shape, np.log(r))
    np.testing.assert_allclose(gauss_curvature(S, u), 1 / r**2, rtol=1e-12)  # Δ(const): round-off
    d = diagnostics(S, u)
    assert abs(d["area"] - 4 * np.pi * r**2) < 1e-12 * r**2
    assert abs(d["total_scalar_curvature"] - EIGHT_PI) < 1e-12
    assert d["curvature_spread"] < 1e-12
    lam, f = lambda_functional(S, u)
    assert abs(lam - 2 / r**2) < 1e-12
    np.testing.assert_allclose(f, np.log(4 * np.pi * r**2), atol=1e-12)


def test_round_sphere_shrinks_exactly_and_stays_round():
    """u = log r: ∂_t u = −e^{−2u} gives r² = r0² − 2t, area 4π(r0² − 2t)."""
    S = Sphere(6)
    r0 = 1.5
    out = run_flow(S, np.full(S.shape, np.log(r0)), dt=5e-3, steps=100, record_every=25)
    for t, u, h in zip(out.snapshot_times, out.snapshots, out.history, strict=True):
        # RK4 time error of the ODE u' = −e^{−2u} at dt = 5e-3: ~1e-13
        assert abs(np.exp(2 * u[0, 0]) - (r0**2 - 2 * t)) < 1e-11
        assert np.ptp(u) < 1e-13
        assert abs(h["area"] - 4 * np.pi * (r0**2 - 2 * t)) < 1e-10


def test_unit_round_sphere_lambda_is_two():
    S = Sphere(12)
    lam, f = lambda_functional(S, initial_metric(S, "round"))
    assert abs(lam - 2.0) < 1e-13
    np.testing.assert_allclose(f, np.log(4 * np.pi), atol=1e-13)


# ---------------------------------------------------------------- Gauss–Bonnet
@settings(max_examples=settings.default.max_examples * 15 // 25)
@given(seed=st.integers(0, 10_000), amplitude=st.floats(0.05, 1.5))
def test_gauss_bonnet_for_bumpy_metrics(seed, amplitude):
    """∫R dA = 4πχ(S²) = 8π whatever the metric (to round-off: R e^{2u} = 2(1 − Δu) is
    band-limited, so the quadrature is exact)."""
    S = Sphere(12)
    u = initial_metric(S, "bumpy", seed=seed, amplitude=amplitude)
    d = diagnostics(S, u)
    assert abs(d["total_scalar_curvature"] - EIGHT_PI) < 1e-11
    assert abs(np.max(np.abs(u)) - amplitude) < 0.05 * amplitude   # normalised on a finer grid
    assert abs(d["min_eigenvalue"] - np.exp(2 * np.min(u))) < 1e-12


def test_bumpy_state_is_seeded_smooth_and_strongly_non_round():
    S = Sphere(12)
    u0 = initial_metric(S, "bumpy", seed=3)
    np.testing.assert_array_equal(u0, initial_metric(S, "bumpy", seed=3))
    assert not np.allclose(u0, initial_metric(S, "bumpy", seed=4))
    power = S.degree_power(u0)
    assert power[5:].sum() < 1e-25 and power[1:5].min() > 0     # degrees 1–4 only
    assert diagnostics(S, u0)["curvature_spread"] > 2
    # one seed, one metric: the same area at another band limit
    assert abs(diagnostics(Sphere(20), initial_metric(Sphere(20), "bumpy", seed=3))["area"]
               - diagnostics(S, u0)["area"]) < 1e-12


def test_area_decreases_at_minus_eight_pi_and_bumpy_flows_to_round():
    """dA/dt = −∫R dA = −8π (Gauss–Bonnet) along a strongly bumpy flow, measured by finite
    differences of the area between records of an RK4 run; the normalised curvature
    spread decreases monotonically and λ is non-decreasing (Perelman)."""
    S = Sphere(16)
    out = run_flow(S, initial_metric(S, "bumpy", seed=0, amplitude=0.5), flow="perelman", dt=1e-3, steps=240,
                   record_every=40)   # F = λ reported along the Ricci-gauge representative
    h = out.history
    t = np.array([r["t"] for r in h])
    area = np.array([r["area"] for r in h])
    rate = np.diff(area) / np.diff(t)
    # measured |rate + 8π|: 6.6e-8 on the first interval (the Galerkin truncation of K
    # against e^{2u} while high degrees are generated; 2e-6 at lmax 12, 5e-8 at lmax 24),
    # < 2e-10 after t = 0.08
    assert np.max(np.abs(rate + EIGHT_PI)) < 1e-6
    assert all(abs(r["total_scalar_curvature"] - EIGHT_PI) < 1e-10 for r in h)
    spread = [r["curvature_spread"] for r in h]
    assert all(b < a for a, b in zip(spread, spread[1:], strict=False))
    assert spread[-1] < 0.2 * spread[0]
    lam = [r["lambda"] for r in h]
    assert all(b > a for a, b in zip(lam, lam[1:], strict=False))


def test_velocity_is_jittable_and_band_limited():
    import jax
    import jax.numpy as jnp

    S = Sphere(10)
    u = initial_metric(S, "bumpy", seed=2)
    with x64():
        v = np.asarray(jax.jit(lambda w: ricci_velocity(S, w))(jnp.asarray(u)))
    np.testing.assert_allclose(v, S.project(-gauss_curvature(S, u)), atol=1e-13)
    np.testing.assert_allclose(S.project(v), v, atol=1e-13)


# ------------------------------------------------------- the symbolic two-chart check
def test_two_chart_curvature_from_the_symbolic_kernel_matches_the_spectral_formula():
    """R from the compiled `scalar` kernel in the north/south stereographic charts (jets
    by autodiff of the off-grid expansion) equals 2K = 2e^{−2u}(1 − Δu) on the grid and at
    both poles (measured agreement ~1e-13 relative at lmax 24, all 2,701 grid points)."""
    S = Sphere(10)
    u = initial_metric(S, "bumpy", seed=7, amplitude=0.6)
    pts = S.points.reshape(-1, 3)[::3]
    with x64():
        import jax.numpy as jnp

        Rc = np.asarray(scalar_curvature_in_charts(S, jnp.asarray(u), np.concatenate([pts, POLES])))
        Rpole = np.asarray(scalar_curvature_at(S, jnp.asarray(u), POLES))
    R = np.asarray(scalar_curvature(S, u)).reshape(-1)[::3]
    scale = np.max(np.abs(R))
    assert np.max(np.abs(Rc[:-2] - R)) < 1e-10 * scale
    assert np.max(np.abs(Rc[-2:] - Rpole)) < 1e-10 * scale
    # the north and south charts both used, and the poles are not special
    assert (pts[:, 2] > 0).any() and (pts[:, 2] < 0).any()


def test_lambda_is_diffeomorphism_invariant_and_converged():
    """Rotating the metric (a diffeomorphism moving the poles) leaves area, ∫R and λ unchanged."""
    import jax.numpy as jnp

    S = Sphere(12)
    u = initial_metric(S, "bumpy", seed=5, amplitude=0.5)
    with x64():
        rotated = np.asarray(S.evaluate(jnp.asarray(u), S.points @ _rotation_x(0.7).T))
    lam, f = lambda_functional(S, u)
    lam_rot, _ = lambda_functional(S, rotated)
    assert abs(lam - lam_rot) < 1e-10
    assert abs(diagnostics(S, u)["area"] - diagnostics(S, rotated)["area"]) < 1e-10
    assert abs(lambda_functional(S, u, lmax=8)[0] - lam) < 1e-6
    # f = const is a competitor in λ = min F, and F(g, const) = ∫R dA / area = 8π / area
    assert lam < EIGHT_PI / diagnostics(S, u)["area"]
    assert abs(S.integrate(np.exp(-f) * np.exp(2 * u)) - 1.0) < 1e-12


# ------------------------------------------------------------------- monitors
def test_check_state_names_time_and_place():
    S = Sphere(8)
    u = np.zeros(S.shape)
    u[3, 5] = np.nan
    with pytest.raises(NumericalError, match=r"t = 0\.25 .*θ = "):
        check_state(S, u, 0.25)
    with pytest.raises(NumericalError, match="degenerates"):
        check_state(S, np.full(S.shape, 400.0), 1.0)


def test_unstable_time_step_is_stopped():
    S = Sphere(16)
    with pytest.raises(NumericalError, match="reduce --dt"):
        run_flow(S, initial_metric(S, "bumpy", seed=1), dt=2e-2, steps=40, record_every=5)


# -------------------------------------------------------------------- showcase
def test_sphere_showcase_writes_plots_and_measures_the_area_rate(tmp_path):
    from metricflow.experiments.flows import sphere_showcase as showcase

    out = showcase(tmp_path)
    for name in out["plots"]:
        assert (tmp_path / name).stat().st_size > 1000
    assert abs(out["data"]["area_rate"] + EIGHT_PI) < 1e-5
    import json

    json.dumps(out)


# ---------------------------------------------------------------- engine and CLI
def test_cli_sphere_ricci_and_perelman_flows(tmp_path):
    import json

    from click.testing import CliRunner

    from metricflow.cli import cli

    runner = CliRunner()
    out = tmp_path / "s2"
    res = runner.invoke(cli, ["flow", "run", "--manifold", "sphere2", "--flow", "perelman", "--lmax", "12",
                              "--steps", "40", "--dt", "0.002", "--init", "bumpy", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.output)
    h = doc["history"]
    assert {"t", "area", "max_abs_scalar_curvature", "F"} <= set(h[0])
    t = np.array([r["t"] for r in h])
    area = np.array([r["area"] for r in h])
    assert np.max(np.abs(np.diff(area) / np.diff(t) + EIGHT_PI)) < 1e-5   # Gauss–Bonnet (2e-6 measured at lmax 12)
    assert np.all(np.diff([r["F"] for r in h]) > 0)
    for f in doc["files"]:
        assert (out / f).exists()
    res = runner.invoke(cli, ["flow", "run", "--manifold", "sphere2", "--init", "round", "--steps", "10",
                              "--lmax", "6", "--out", str(tmp_path / "round"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.output)["history"][-1]["curvature_spread"] < 1e-12
    res = runner.invoke(cli, ["flow", "run", "--manifold", "sphere2", "--kernel", "ntk:relu", "--init", "bumpy",
                              "--lmax", "8", "--steps", "10", "--dt", "0.01", "--out", str(tmp_path / "ntk"),
                              "--json"])
    assert res.exit_code == 0, res.output
    assert np.all(np.diff([r["area"] for r in json.loads(res.output)["history"]]) < 0)
    bad = runner.invoke(cli, ["flow", "run", "--manifold", "sphere2", "--kernel", "ntk:tanh",
                              "--out", str(tmp_path / "bad")])
    assert bad.exit_code == 2 and "--kernel" in bad.output
    bad = runner.invoke(cli, ["flow", "run", "--manifold", "sphere2", "--init", "flat", "--out", str(tmp_path / "b")])
    assert bad.exit_code == 2 and "--init" in bad.output


def test_semilocal_flow_on_the_sphere_tends_to_the_local_one():
    """gaussian:SIGMA smears ∂_t u with the round heat kernel e^{−σ²l(l+1)/2}: the velocity
    tends to the local one like σ² (eq. 2.30 → 2.31), and the round sphere still shrinks
    exactly (its velocity is constant, l = 0)."""
    from metricflow.flows.systems import flow_system

    S = Sphere(12)
    u = initial_metric(S, "bumpy", seed=2)
    local = np.asarray(flow_system(S, "ricci", "local").velocity({"u": u})["u"])
    errs = [np.max(np.abs(np.asarray(flow_system(S, "ricci", f"gaussian:{s}").velocity({"u": u})["u"]) - local))
            for s in (0.04, 0.02)]
    assert 3.6 < errs[0] / errs[1] < 4.4
    r = run_flow(S, np.zeros(S.shape), kernel="gaussian:0.3", dt=5e-3, steps=20, record_every=20)
    assert abs(r.history[-1]["area"] - 4 * np.pi * (1 - 2 * 0.1)) < 1e-9   # RK4 error 1.2e-10 at dt 5e-3


# ------------------------------------------------------------------ frozen NTK on S²


@pytest.mark.parametrize("activation, depth, tol", [("erf", 1, 1e-12), ("gelu", 2, 1e-12), ("relu", 1, 1e-3),
                                                     ("relu", 3, 1e-3)])
def test_frozen_ntk_flow_is_the_funk_hecke_diagonal_of_the_dense_kernel(activation, depth, tol):
    """ntk:ACT[:DEPTH] on sphere2 applies λ_l per degree (Funk–Hecke). Independent check:
    the dense N × N NTK between the grid points (mlp_kernels on x ∈ R³) times the
    quadrature weights of dA/4π, applied to the band-limited local velocity. Smooth
    kernels (erf, gelu) agree to round-off; the ReLU kernels' l^{-3} spectral tail aliases
    on the grid (measured 2.5e-4 at lmax 12, 3.3e-5 at 24: the dense side converges)."""
    from metricflow.flows.systems import flow_system
    from metricflow.kernels.mlp import mlp_kernels

    errs = []
    for lmax in ((12, 24) if activation == "relu" else (12,)):
        S = Sphere(lmax)
        u = initial_metric(S, "bumpy", seed=1)
        with x64():
            local = np.asarray(flow_system(S, "ricci", "local").velocity({"u": u})["u"])
            v = np.asarray(flow_system(S, "ricci", f"ntk:{activation}:{depth}").velocity({"u": u})["u"])
        x = S.points.reshape(-1, 3)
        theta = mlp_kernels(x, activation=activation, depth=depth, b_std=0.1)["ntk"]
        dense = theta * (S.weights.reshape(-1) / (4 * np.pi))
        ref = (dense @ S.project(local).reshape(-1)).reshape(S.shape)
        errs.append(np.max(np.abs(v - ref)) / np.max(np.abs(ref)))
    assert errs[0] < tol
    if activation == "relu":
        assert errs[1] < errs[0] / 5


@settings(max_examples=settings.default.max_examples * 15 // 25, deadline=None)
@given(activation=st.sampled_from(["relu", "erf", "gelu"]), depth=st.integers(1, 3),
       b_std=st.floats(0.0, 1.0))
def test_zonal_ntk_spectrum_is_positive_and_resums_to_the_kernel(activation, depth, b_std):
    """Mercer on S²: κ(t) = Σ_l (2l + 1) λ_l P_l(t) (addition theorem with dμ = dA/4π), and
    λ_l ≥ 0 (the NTK is positive semi-definite). The resummation is checked away from
    t = ±1, where the truncated series of the non-smooth ReLU kernels converges slowest."""
    from scipy.special import eval_legendre

    from metricflow.kernels.frozen import zonal_ntk_spectrum
    from metricflow.kernels.mlp import mlp_kernels

    lmax = 160
    lam = zonal_ntk_spectrum(lmax, activation=activation, depth=depth, b_std=b_std)
    assert np.all(lam >= -1e-13 * np.max(lam))
    t = np.linspace(-0.9, 0.9, 7)
    x = np.stack([np.sqrt(1 - t**2), np.zeros_like(t), t], axis=-1)
    kappa = mlp_kernels(np.array([[0.0, 0.0, 1.0]]), x, activation=activation, depth=depth, b_std=b_std)["ntk"][0]
    series = (2 * np.arange(lmax + 1) + 1) * lam @ eval_legendre(np.arange(lmax + 1)[:, None], t[None, :])
    tol = 1e-4 if activation == "relu" else 1e-10
    np.testing.assert_allclose(series, kappa, rtol=0, atol=tol * np.max(np.abs(kappa)))


def test_round_sphere_under_the_frozen_ntk_shrinks_at_the_rate_of_lambda_zero():
    """A constant velocity is the l = 0 harmonic: ∂_t u = −λ_0 e^{−2u}, so the area is
    4π(1 − 2λ_0 t) exactly, and the sphere stays round."""
    from metricflow.kernels.frozen import zonal_ntk_spectrum

    S = Sphere(8)
    lam0 = zonal_ntk_spectrum(8, activation="relu", depth=2)[0]
    r = run_flow(S, np.zeros(S.shape), kernel="ntk:relu:2", dt=0.05, steps=40, record_every=40)
    assert abs(r.history[-1]["area"] - 4 * np.pi * (1 - 2 * lam0 * 2.0)) < 1e-8
    assert r.history[-1]["curvature_spread"] < 1e-12


def test_zonal_ntk_spectrum_refuses_bad_band_limits():
    from metricflow.kernels.frozen import zonal_ntk_spectrum

    for bad in (-1, 2.5, True):
        with pytest.raises(InvalidInputError) as exc:
            zonal_ntk_spectrum(bad)
        assert exc.value.argument == "lmax"
