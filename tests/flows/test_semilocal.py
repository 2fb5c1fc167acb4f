"""Semi-local flow (eq. 2.30): FFT, blocked and dense smearing agree; σ → 0 gives the local flow."""

import jax.numpy as jnp
import numpy as np
import pytest
from click.testing import CliRunner

from metricflow._x64 import x64
from metricflow.cli import cli
from metricflow.errors import InvalidInputError
from metricflow.flows import initial_metric, run_flow
from metricflow.flows.semilocal import semilocal_ricci_velocity, smear_blocked, smear_dense, smear_fft
from metricflow.flows.torus import ricci_velocity
from metricflow.manifolds import Torus


def test_fft_blocked_and_dense_smearing_agree():
    """The periodised Gaussian's Fourier series is e^{-σ²k²/2}; the grid sum of the periodised
    Gaussian equals it up to aliasing of modes beyond Nyquist (e^{-σ²(n/2)²/2} ~ 1e-14 here)."""
    T = Torus(2, 24)
    rng = np.random.default_rng(0)
    x = T.points
    field = np.cos(x[..., 0] + 2 * x[..., 1])[..., None] * rng.normal(size=3)
    sigma = 0.5
    with x64():
        pts = jnp.asarray(x.reshape(-1, 2))
        vals = jnp.asarray(field.reshape(-1, 3))
        w = jnp.full(pts.shape[0], T.cell_volume)
        fft = smear_fft(T, field, sigma).reshape(-1, 3)
        blocked = np.asarray(smear_blocked(pts, vals, w, sigma, block=100))
        dense = np.asarray(smear_dense(pts, vals, w, sigma))
    np.testing.assert_allclose(blocked, dense, atol=1e-12)
    np.testing.assert_allclose(fft, dense, atol=1e-10)
    # a pure Fourier mode is an eigenfunction: multiplier e^{-σ²|k|²/2}
    np.testing.assert_allclose(fft, field.reshape(-1, 3) * np.exp(-0.5 * sigma**2 * 5), atol=1e-12)


def test_semilocal_velocity_tends_to_local_like_sigma_squared():
    T = Torus(2, 32)
    g = initial_metric(T, "bumpy", seed=1)
    with x64():
        g = jnp.asarray(g)
        local = np.asarray(ricci_velocity(T, g))
        sigmas = np.array([0.08, 0.04, 0.02])
        errs = [np.sqrt(np.mean((np.asarray(semilocal_ricci_velocity(T, g, s)) - local) ** 2)) for s in sigmas]
    slope = np.polyfit(np.log(sigmas), np.log(errs), 1)[0]
    assert 1.9 < slope < 2.1, (slope, errs)


def test_semilocal_flow_smooths_and_cli_accepts_gaussian_kernel(tmp_path):
    T = Torus(2, 16)
    res = run_flow(T, initial_metric(T, "bumpy", seed=2), kernel="gaussian:0.3", steps=40, dt=2e-3, record_every=20)
    R = [h["max_abs_scalar_curvature"] for h in res.history]
    assert R[-1] < R[0]
    result = CliRunner().invoke(cli, ["flow", "run", "--kernel", "gaussian:0.3", "--steps", "10", "--n", "16",
                                      "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("kernel", ["gaussian:x", "gaussian:-1", "cauchy:1"])
def test_bad_kernel_strings(kernel):
    T = Torus(2, 8)
    with pytest.raises(InvalidInputError, match="kernel"):
        run_flow(T, initial_metric(T, "flat"), kernel=kernel, steps=1)


def test_frozen_ntk_flow_is_the_kernel_applied_to_the_local_velocity(tmp_path):
    """Eq. (2.12): one Euler step of the frozen-NTK flow equals K @ (−2 Ric) on the grid, with K the
    (positive semi-definite) NTK matrix of the periodic features; the flat torus stays flat."""
    from metricflow.kernels.base import parse_kernel
    from metricflow.kernels.frozen import frozen_ntk_matrix

    T = Torus(2, 12)
    g0 = initial_metric(T, "bumpy", seed=3)
    ntk = parse_kernel("ntk:relu:2")
    K = frozen_ntk_matrix(T, activation=ntk.activation, depth=ntk.depth)
    assert np.min(np.linalg.eigvalsh(K)) > -1e-12 * np.max(np.abs(K))
    dt = 1e-3
    res = run_flow(T, g0, kernel="ntk:relu:2", steps=1, dt=dt, method="euler", record_every=1)
    with x64():
        V = np.asarray(ricci_velocity(T, jnp.asarray(g0))).reshape(T.npoints, 4)
    expected = g0 + dt * (K @ V).reshape(g0.shape)
    np.testing.assert_allclose(res.final, expected, atol=1e-13)
    flat = run_flow(T, initial_metric(T, "flat"), kernel="ntk:erf", steps=2, dt=1e-2, record_every=1)
    assert np.max(np.abs(flat.final - np.eye(2))) < 1e-14
    result = CliRunner().invoke(cli, ["flow", "run", "--kernel", "ntk:gelu", "--steps", "4", "--n", "12",
                                      "--out", str(tmp_path), "--json"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("kernel", ["ntk:tanh", "ntk:relu:0", "ntk:relu:x", "ntk"])
def test_bad_ntk_kernel_strings(kernel):
    T = Torus(2, 8)
    with pytest.raises(InvalidInputError, match="kernel"):
        run_flow(T, initial_metric(T, "flat"), kernel=kernel, steps=1)
