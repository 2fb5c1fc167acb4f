"""Infinite-width MLP kernels (metricflow.kernels.mlp).

The closed-form dual activations are checked against numerical integration of the
activation itself: 2-d Gauss-Hermite quadrature (120 x 120 nodes) for the smooth erf and
gelu (agreement ~1e-13, tolerance 1e-11); for ReLU, whose kink/step ruins Gauss-Hermite
convergence, adaptive quadrature over the positive quadrant for E[relu relu] and scipy's
bivariate normal CDF (Genz) for E[step step] = P(u > 0, v > 0) (tolerance 1e-7)."""

import jax
import numpy as np
import pytest
import scipy.integrate
import scipy.stats
from numpy.polynomial.hermite_e import hermegauss

from metricflow._x64 import x64
from metricflow.errors import InvalidInputError
from metricflow.kernels import mlp

Z, W = hermegauss(120)
W = W / np.sqrt(2 * np.pi)


def quad2(f, a, b, c):
    L = np.linalg.cholesky(np.array([[a, c], [c, b]]))
    z1, z2 = np.meshgrid(Z, Z, indexing="ij")
    u = L[0, 0] * z1
    v = L[1, 0] * z1 + L[1, 1] * z2
    return float(np.sum(np.outer(W, W) * f(u) * f(v)))


def relu_reference(a, b, c):
    cov = np.array([[a, c], [c, b]])
    pdf = scipy.stats.multivariate_normal(mean=[0, 0], cov=cov).pdf
    e, _ = scipy.integrate.dblquad(lambda v, u: u * v * pdf([u, v]), 0, np.inf, 0, np.inf,
                                   epsabs=1e-12, epsrel=1e-11)
    de = scipy.stats.multivariate_normal(mean=[0, 0], cov=cov, abseps=1e-12,
                                         releps=1e-12).cdf([0, 0])
    return e, de


@pytest.mark.parametrize("cov", [(1.0, 1.0, 0.5), (2.0, 0.5, -0.3), (1.5, 2.5, 1.9)])
def test_relu_dual_matches_quadrature(cov):
    a, b, c = cov
    with x64():
        e, de = mlp._DUAL["relu"](c, a, b)
    qe, qde = relu_reference(a, b, c)
    assert float(e) == pytest.approx(qe, rel=1e-7, abs=1e-9)
    assert float(de) == pytest.approx(qde, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize("act,tol", [("erf", 1e-11), ("gelu", 1e-11)])
@pytest.mark.parametrize("cov", [(1.0, 1.0, 0.5), (2.0, 0.5, -0.3), (0.3, 0.7, 0.2),
                                 (1.5, 2.5, 1.9)])
def test_dual_activation_matches_quadrature(act, tol, cov):
    a, b, c = cov
    with x64():
        phi = mlp.activation_fn(act)
        dphi = jax.vmap(jax.grad(lambda t: phi(t)))
        f = lambda z: np.asarray(phi(jax.numpy.asarray(z)))
        df = lambda z: np.asarray(dphi(jax.numpy.asarray(z.ravel()))).reshape(z.shape)
        e, de = mlp._DUAL[act](c, a, b)
        qe, qde = quad2(f, a, b, c), quad2(df, a, b, c)
    assert float(e) == pytest.approx(qe, rel=tol, abs=tol)
    assert float(de) == pytest.approx(qde, rel=tol, abs=tol)


def test_depth_zero_is_linear_kernel():
    x = np.random.default_rng(0).normal(size=(5, 3))
    out = mlp.mlp_kernels(x, activation="relu", depth=0, w_std=1.3, b_std=0.2)
    expected = 1.3**2 * x @ x.T / 3 + 0.2**2
    # a 3-term dot product, a scaling and a sum, in any order: error <= 8 eps times the sum
    # of the absolute values of the terms (entries near 0 cancel, so no relative tolerance)
    tol = 8 * np.finfo(float).eps * (1.3**2 * np.abs(x) @ np.abs(x).T / 3 + 0.2**2)
    assert np.all(np.abs(out["nngp"] - expected) <= tol) and np.all(np.abs(out["ntk"] - expected) <= tol)


@pytest.mark.parametrize("act", mlp.ACTIVATIONS)
def test_kernels_symmetric_psd_float64(act):
    x = np.random.default_rng(1).normal(size=(8, 2))
    out = mlp.mlp_kernels(x, activation=act, depth=3, w_std=1.4, b_std=0.3)
    for k in out.values():
        assert k.dtype == np.float64
        np.testing.assert_allclose(k, k.T, rtol=1e-13, atol=1e-15)
        assert np.linalg.eigvalsh(k).min() > -1e-10 * np.abs(k).max()
    # NTK >= NNGP entrywise on the diagonal (it adds non-negative terms)
    assert np.all(np.diag(out["ntk"]) >= np.diag(out["nngp"]) - 1e-12)


def test_relu_one_layer_closed_form():
    # one hidden ReLU layer, W_std = 1, b_std = 0, unit-norm inputs in d = 2 at angle t
    t = 0.7
    x = np.array([[np.sqrt(2), 0.0], [np.sqrt(2) * np.cos(t), np.sqrt(2) * np.sin(t)]])
    out = mlp.mlp_kernels(x, activation="relu", depth=1)
    nngp = (np.sin(t) + (np.pi - t) * np.cos(t)) / (2 * np.pi)
    ntk = nngp + (np.pi - t) / (2 * np.pi) * np.cos(t)
    assert out["nngp"][0, 1] == pytest.approx(nngp, rel=1e-13)
    assert out["ntk"][0, 1] == pytest.approx(ntk, rel=1e-13)


def test_bad_inputs():
    x = np.zeros((2, 2))
    with pytest.raises(InvalidInputError, match="activation"):
        mlp.mlp_kernels(x, activation="tanh")
    with pytest.raises(InvalidInputError, match="depth"):
        mlp.mlp_kernels(x, depth=-1)
    with pytest.raises(InvalidInputError, match="w_std"):
        mlp.mlp_kernels(x, w_std=0.0)
    with pytest.raises(InvalidInputError, match="x2"):
        mlp.mlp_kernels(x, np.zeros((2, 3)))
