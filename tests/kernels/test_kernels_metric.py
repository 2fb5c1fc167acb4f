"""Metric-NTKs over independent components (eqs. 2.19-2.23) and the ansatz identities.

Block diagonality of the component-wise metric-NTK is exact: the gradient of one
component with respect to another component's parameters is identically zero, so the
off-diagonal blocks are compared with 0.0 exactly.  Linear-ansatz identities are exact
up to float64 round-off (1e-12 relative)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metricflow._x64 import x64
from metricflow.errors import InvalidInputError
from metricflow.kernels import metric as mk
from metricflow.kernels import mlp
from metricflow.kernels.showcase import metric_example
from metricflow.models.mlp import forward, init_params


@pytest.mark.parametrize("kind,dim", [("symmetric", 3), ("hermitian", 3), ("hermitian", 2)])
def test_components_roundtrip(kind, dim):
    rng = np.random.default_rng(0)
    a = rng.normal(size=(4, dim, dim))
    if kind == "hermitian":
        a = a + 1j * rng.normal(size=(4, dim, dim))
    g = a + np.conj(np.swapaxes(a, 1, 2))
    with x64():
        c = mk.to_components(jnp.asarray(g), kind)
        back = np.asarray(mk.from_components(c, dim, kind))
    assert c.shape == (4, mk.n_components(dim, kind))
    assert len(mk.component_labels(dim, kind)) == c.shape[1]
    np.testing.assert_allclose(back, g, atol=1e-14)
    assert mk.n_components(3, "hermitian") == 9


def _componentwise_metric(params, x):
    """A 2 x 2 symmetric metric whose three independent components are three independent
    small erf networks (stacked parameters, eq. 2.19)."""
    comps = jax.vmap(lambda p: forward(p, x, activation="erf")[0])(params)
    return mk.from_components(comps, 2, "symmetric")


@settings(max_examples=settings.default.max_examples * 5 // 25)
@given(seed=st.integers(0, 10_000))
def test_componentwise_metric_ntk_exactly_block_diagonal(seed):
    with x64():
        params = jax.vmap(lambda k: init_params(k, 2, 8, 1, 1, jnp.float64))(
            jax.random.split(jax.random.PRNGKey(seed), 3))
    x = np.random.default_rng(seed).normal(size=(3, 2))
    theta = mk.empirical_metric_ntk(_componentwise_metric, params, x, kind="symmetric")
    off = theta.copy()
    off[np.arange(3), np.arange(3)] = 0.0
    assert np.all(off == 0.0)                         # exactly, not approximately
    assert np.all(np.abs(theta[np.arange(3), np.arange(3)]) > 0)


@pytest.mark.parametrize("kind,dim", [("symmetric", 2), ("hermitian", 3)])
def test_multiplicative_ansatz_identity(kind, dim):
    """Empirical metric-NTK of g = g_ref * (1 + phi) equals M(x) Theta_phi M(x')^T; the
    hermitian 3 x 3 case has the journal version's 9 x 9 x n x n layout."""
    ex = metric_example(dim=dim, kind=kind, ansatz="multiplicative", width=6, depth=2,
                        n_points=3, seed=3)
    nc = mk.n_components(dim, kind)
    assert ex["shape"] == [nc, nc, 3, 3]
    assert np.asarray(ex["block_spectra_real"]).shape == (nc, nc, 3)
    assert ex["identity_max_abs_error"] <= 1e-12 * ex["theta_max_abs"]
    assert ex["offdiag_max"] > 0  # a shared network mixes components at finite width


def test_analytic_ansatz_kernels():
    x = np.random.default_rng(2).normal(size=(5, 2))
    k = mlp.mlp_kernels(x, activation="gelu", depth=2)["ntk"]
    comp = mk.ansatz_ntk(k, dim=2, kind="symmetric", ansatz="componentwise")
    assert comp.shape == (3, 3, 5, 5)
    np.testing.assert_array_equal(comp[0, 1], 0.0)
    np.testing.assert_array_equal(comp[2, 2], k)
    g_ref = np.stack([np.eye(2) + np.outer(p, p) for p in x])
    mult = mk.ansatz_ntk(k, dim=2, kind="symmetric", ansatz="multiplicative", g_ref1=g_ref)
    # component (0,1): g_ref01(x) g_ref01(x') K(x, x')  (the rescaling trick per component)
    h = g_ref[:, 0, 1]
    np.testing.assert_allclose(mult[1, 1], h[:, None] * k * h[None, :], rtol=1e-14)
    spec = mk.full_spectrum(mult)
    assert spec.min() > -1e-10 * spec.max()
    assert mk.block_spectra(comp).shape == (3, 3, 5)


def test_hermitian_multiplicative_map_is_complex_multiplication():
    rng = np.random.default_rng(5)
    a = rng.normal(size=(1, 2, 2)) + 1j * rng.normal(size=(1, 2, 2))
    g_ref = a @ np.conj(np.swapaxes(a, 1, 2)) + np.eye(2)
    phi = rng.normal(size=4)
    with x64():
        H = np.asarray(mk.from_components(jnp.asarray(phi), 2, "hermitian"))
        lin = np.asarray(mk.to_components(jnp.asarray(g_ref[0] * H), "hermitian"))
    M = mk.multiplicative_map(g_ref, "hermitian")[0]
    np.testing.assert_allclose(M @ phi, lin, atol=1e-13)


def test_spectrum_shift_and_errors():
    assert mk.spectrum_shift([0.0, 1.0], [0.0, 1.0]) == 0.0
    assert mk.spectrum_shift([0.0], [2.0]) == pytest.approx(2.0)
    with pytest.raises(InvalidInputError, match="kind"):
        mk.n_components(2, "complex")
    with pytest.raises(InvalidInputError, match="g_ref"):
        mk.multiplicative_map(np.eye(2), "symmetric")


def test_metric_ntk_of_model_via_jax_pytree():
    # any pytree of parameters: a dict with a matrix and a tuple
    params = {"m": jnp.ones((2, 2)), "t": (jnp.array(0.5), jnp.array([1.0, 2.0]))}

    def g(p, x):
        s = jnp.sin(p["m"] @ x) * p["t"][0]
        return jnp.eye(2) + jnp.outer(s, s) + jnp.diag(p["t"][1] * x)

    theta = mk.empirical_metric_ntk(g, params, np.array([[0.1, 0.2], [0.3, -0.4]]))
    assert theta.shape == (3, 3, 2, 2)
    np.testing.assert_allclose(theta, theta.transpose(1, 0, 3, 2), atol=1e-14)
