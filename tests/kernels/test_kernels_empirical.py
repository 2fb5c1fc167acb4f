"""Empirical NTK (eq. 2.7): Jacobian contraction vs NTK-vector products, blocking, the
rescaling identity (2.15-2.16) and the finite-width -> infinite-width limit (2.9).

Identities that hold exactly in exact arithmetic are checked at 1e-12 relative (a few
hundred float64 roundings of O(1) terms)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metricflow._x64 import x64
from metricflow.errors import InvalidInputError
from metricflow.kernels import gaussian
from metricflow.kernels.convergence import convergence
from metricflow.kernels.empirical import empirical_ntk, ntk_vector_product, rescale
from metricflow.models.mlp import forward, init_params


def _gelu_net(p, x):
    return forward(p, x, activation="gelu", w_std=1.2, b_std=0.3)


def _h(x, shift):
    return jnp.exp(shift * x[..., 0]) + 0.5 * jnp.sin(x[..., 1])


def _rescaled_net(p, x, fr):
    """h(x) phi(x) with a deterministic h (eq. 2.15); h's parameter travels as frozen."""
    return _h(x, fr["shift"]) * _gelu_net(p, x)


def small_net(seed=0, n_out=3, d=2, width=16, depth=2):
    # module-level model functions: empirical_ntk's compilations are reused across tests
    with x64():
        params = init_params(jax.random.PRNGKey(seed), d, width, depth, n_out, jnp.float64)
    return _gelu_net, params


def test_jacobian_equals_ntvp_and_blocking():
    f, params = small_net()
    rng = np.random.default_rng(0)
    x1, x2 = rng.normal(size=(6, 2)), rng.normal(size=(4, 2))
    full = empirical_ntk(f, params, x1, x2, block_size=100)
    assert full.shape == (3, 3, 6, 4)
    blocked = empirical_ntk(f, params, x1, x2, block_size=2)
    ntvp = empirical_ntk(f, params, x1, x2, method="ntvp", block_size=2, chunk=4)
    scale = np.abs(full).max()
    np.testing.assert_allclose(blocked, full, rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(ntvp, full, rtol=0, atol=1e-12 * scale)
    # symmetric case (upper blocks mirrored): Theta_IJ(x, x') = Theta_JI(x', x), and equal
    # to the unblocked kernel
    sym = empirical_ntk(f, params, x1, block_size=2)
    np.testing.assert_allclose(sym, sym.transpose(1, 0, 3, 2), rtol=0, atol=1e-12 * scale)
    np.testing.assert_allclose(sym, empirical_ntk(f, params, x1, x1, block_size=100), rtol=0,
                               atol=1e-12 * scale)


def test_ntk_vector_product_matches_matrix():
    f, params = small_net(1)
    rng = np.random.default_rng(1)
    x1, x2 = rng.normal(size=(4, 2)), rng.normal(size=(6, 2))
    v = rng.normal(size=(6, 3))
    theta = empirical_ntk(f, params, x1, x2)
    with x64():
        out = np.asarray(ntk_vector_product(f, params, jnp.asarray(x1), jnp.asarray(x2),
                                            jnp.asarray(v)))
    expected = np.einsum("IJab,bJ->aI", theta, v)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())


@settings(max_examples=settings.default.max_examples * 5 // 25)
@given(seed=st.integers(0, 2**16), shift=st.floats(-1.0, 1.0))
def test_rescaling_identity_empirical(seed, shift):
    """Theta_{h phi}(x, x') = h(x) h(x') Theta_phi(x, x') for the empirical NTK (2.16)."""
    f, params = small_net(seed % 7, n_out=1)
    x = np.random.default_rng(seed).normal(size=(5, 2))
    t_phi = empirical_ntk(f, params, x)
    t_h = empirical_ntk(_rescaled_net, params, x, frozen={"shift": shift})
    with x64():
        hv = np.asarray(_h(jnp.asarray(x), shift))
    np.testing.assert_allclose(t_h, rescale(t_phi, hv, hv), rtol=1e-12,
                               atol=1e-12 * np.abs(t_h).max())


@settings(max_examples=settings.default.max_examples * 10 // 25)
@given(sigma_w=st.floats(0.3, 5.0), dim=st.integers(1, 4), seed=st.integers(0, 1000))
def test_rescaling_identity_analytic(sigma_w, dim, seed):
    x = np.random.default_rng(seed).normal(size=(6, dim))
    h = lambda pts: 1.0 + np.sum(pts**2, axis=1)
    base = gaussian.gaussian_ntk(x, sigma_w=sigma_w)
    resc = gaussian.gaussian_ntk(x, sigma_w=sigma_w, h=h)
    hv = h(x)
    np.testing.assert_allclose(resc, hv[:, None] * base * hv[None, :], rtol=1e-13, atol=0)


def test_convergence_rate_cosnet():
    """Finite-width cos-net NTK -> analytic with error ~ N^(-1/2).

    The empirical last-layer NTK is a mean of N i.i.d. bounded terms, so its relative
    Frobenius error has mean c N^(-1/2) exactly up to the seed average; with 6 seeds per
    width over a factor 64 in N, the fitted slope's spread is ~0.05 (measured with other
    seeds), so [-0.62, -0.38] cannot be met by a wrong rate (e.g. -1 or 0)."""
    out = convergence("cosnet", dim=2, widths=[100, 1000, 10000], seeds=6, n_points=10)
    assert -0.62 < out["slope"] < -0.38, out
    errs = [r["rel_error"] for r in out["rows"]]
    assert all(a > b for a, b in zip(errs, errs[1:], strict=False))


def test_convergence_rate_mlp():
    """Same for a one-hidden-layer erf MLP with all parameters trained (NTK
    parameterisation): the analytic NTK is the N -> infinity limit (2.9)."""
    out = convergence("mlp", dim=2, widths=[100, 1000, 10000], seeds=4, n_points=8,
                      activation="erf", depth=1, w_std=1.5, b_std=0.2)
    assert -0.7 < out["slope"] < -0.35, out


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["cosnet", "gaussnet"])
def test_convergence_rate_many_seeds(arch):
    out = convergence(arch, dim=3, widths=[100, 1000, 10000, 100000], seeds=10)
    assert -0.58 < out["slope"] < -0.42, out


def test_bad_inputs():
    f, params = small_net()
    with pytest.raises(InvalidInputError, match="method"):
        empirical_ntk(f, params, np.zeros((2, 2)), method="magic")
    with pytest.raises(InvalidInputError, match="x1"):
        empirical_ntk(f, params, np.zeros(3))
    with pytest.raises(InvalidInputError, match="widths"):
        convergence("cosnet", widths=[10])
