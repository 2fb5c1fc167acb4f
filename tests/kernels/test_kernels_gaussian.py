"""Cos-net / Gauss-net numeric kernels (eqs. 2.27-2.37) and the sigma -> 0 limit (2.29)."""

import math

import numpy as np
import pytest
import scipy.integrate
from hypothesis import given, settings
from hypothesis import strategies as st

from metricflow.errors import InvalidInputError
from metricflow.kernels import gaussian


def test_constants_match_corrected_closed_forms():
    for arch, pref in [("cosnet", math.sqrt(2)), ("gaussnet", 1.0)]:
        for d, sw in [(1, 1.0), (2, 2.5), (5, 0.7)]:
            c = gaussian.constants(arch, d, sw)
            assert c["A"] == pytest.approx(pref * (sw / math.sqrt(2 * math.pi * d)) ** (d / 2),
                                           rel=1e-14)
            assert c["sigma"] == pytest.approx(math.sqrt(d) / sw, rel=1e-14)


@settings(max_examples=10)
@given(dim=st.integers(1, 4), sigma_w=st.floats(0.3, 4.0), seed=st.integers(0, 999))
def test_kernel_with_A_equals_normalised_at_the_derived_A(dim, sigma_w, seed):
    x = np.random.default_rng(seed).normal(size=(4, dim))
    for arch in gaussian.ARCHS:
        A = gaussian.constants(arch, dim, sigma_w)["A"]
        np.testing.assert_allclose(gaussian.gaussian_ntk(x, arch=arch, sigma_w=sigma_w, A=A),
                                   gaussian.gaussian_ntk(x, arch=arch, sigma_w=sigma_w),
                                   rtol=1e-13)


def test_local_limit_rate():
    """int Theta_sigma(x, x') f(x') dV(x') -> Omega(x) f(x) as sigma -> 0 (2.28-2.29), 1-d.

    Rescaled kernel (2.28) with g~(x) = (1 + x^2/2)^2, alpha = 1 (so Omega = 1), against
    f = cos; the symbolic expansion (metricflow.symbolic.ntk.manifold_delta) predicts the
    error = sigma^2 c_2(x) + O(sigma^4), c_2 = g~^(-1/4) G''/2, G = g~^(1/4) f.  Quadrature
    error ~1e-13 is far below the smallest error measured (~1e-5), so the ratio
    error/sigma^2 must approach c_2 like sigma^2 (checked to 2 %, and converging)."""
    x0 = 0.4
    gt = lambda x: (1 + x**2 / 2) ** 2
    f = np.cos
    G = lambda x: gt(x) ** 0.25 * f(x)
    # G'' by the symbolic route would need lambdify; finite differences at h = 1e-3 give
    # 1e-6 relative accuracy, ample for the 2 % check
    h = 1e-3
    c2 = gt(x0) ** -0.25 * (G(x0 + h) - 2 * G(x0) + G(x0 - h)) / h**2 / 2
    ratios = []
    for sw in [10.0, 20.0, 40.0]:
        sigma = 1 / sw                                    # d = 1: sigma = 1/sigma_w (2.37)
        def integrand(xp, sw=sw):
            kern = gaussian.gaussian_ntk(np.array([[x0]]), np.array([[xp]]), sigma_w=sw,
                                         h=lambda p: gt(p[:, 0]) ** -0.25)[0, 0]
            return kern * f(xp) * math.sqrt(gt(xp))

        val, _ = scipy.integrate.quad(integrand,
                                      x0 - 12 * sigma, x0 + 12 * sigma, epsabs=1e-14,
                                      epsrel=1e-13, limit=200)
        ratios.append((val - f(x0)) / sigma**2)
    assert ratios[-1] == pytest.approx(c2, rel=0.02)
    assert abs(ratios[-1] - c2) < abs(ratios[0] - c2)


def test_finite_width_apply_shapes_and_errors():
    import jax

    from metricflow.kernels._x64 import x64

    x = np.zeros((2, 3))
    with x64():
        p = gaussian.init(jax.random.PRNGKey(0), arch="gaussnet", dim=3, width=5)
        assert gaussian.apply(p, x, arch="gaussnet").shape == (2,)
    with pytest.raises(InvalidInputError, match="arch"):
        gaussian.constants("tanhnet", 1, 1.0)
    with pytest.raises(InvalidInputError, match="sigma_w"):
        gaussian.gaussian_ntk(x, sigma_w=-1.0)
