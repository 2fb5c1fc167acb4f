"""Symbolic NTK derivations (metricflow.symbolic.ntk): eqs. 2.15-2.37.

All checks here are exact (sympy simplification to 0 or 1), except the hypothesis test
of the normalisation, which integrates the lambdified kernel numerically (tolerance
1e-8: adaptive quadrature of a smooth Gaussian, far above its round-off)."""

import math

import numpy as np
import pytest
import scipy.integrate
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from metricflow.errors import InvalidInputError
from metricflow.symbolic import ntk as sym


@pytest.fixture(scope="module")
def cos_general():
    return sym.cosnet()


def test_cosnet_constants_general_d(cos_general):
    d, sw = sym.d_sym, sym.sigma_w
    # corrected (2.36): A = sqrt(2) (sigma_w / sqrt(2 pi d))^(d/2); (2.37) sigma = sqrt(d)/sigma_w
    expected_A = sp.sqrt(2) * (sw / sp.sqrt(2 * sp.pi * d)) ** (d / 2)
    assert sp.simplify(sp.powsimp(cos_general.A / expected_A, force=True)) == 1
    assert sp.simplify(cos_general.sigma - sp.sqrt(d) / sw) == 0
    # (2.35): A^2/2 exp(-sigma_w^2 r^2 / (2 d))
    assert sp.simplify(cos_general.kernel_A - sym.A_sym**2 / 2
                       * sp.exp(-sw**2 * sym.r**2 / (2 * d))) == 0


def test_printed_normalisation_is_square_root_of_correct(cos_general):
    # the printed (2.36) has the power of the normalisation off: A_printed^2 == A_correct
    ratio = sp.powsimp(cos_general.printed_A**2 / cos_general.A, force=True)
    assert sp.simplify(ratio) == 1
    # and so it does not normalise the kernel: int A_p^2/2 exp(-r^2/(2 sigma^2)) = 1/A_correct
    d, sw = sym.d_sym, sym.sigma_w
    integral = cos_general.printed_A**2 / 2 * (2 * sp.pi * d / sw**2) ** (d / 2)
    assert sp.simplify(sp.powsimp(integral * cos_general.A, force=True)) == 1
    res = sym.cosnet(1, 1)                      # e.g. d = 1, sigma_w = 1: integral 1.1196
    assert 1 / float(res.A) == pytest.approx(1.1196, abs=1e-4)


def test_normalised_kernel_integrates_to_one_symbolically(cos_general):
    # int_{R^d} K = prod over coordinates of 1-d Gaussian integrals, times the prefactor
    t = sp.Symbol("t", real=True)
    d, sw = sym.d_sym, sym.sigma_w
    k = cos_general.kernel
    prefactor = k.subs(sym.r, 0)
    one_d = sp.integrate(sp.exp(-sw**2 * t**2 / (2 * d)), (t, -sp.oo, sp.oo))
    assert sp.simplify(sp.powsimp(prefactor * one_d**d, force=True)) == 1


@given(dim=st.integers(1, 7), sigma_w=st.floats(0.2, 8.0))
def test_normalised_kernel_integrates_to_one_numerically(cos_general, dim, sigma_w):
    f = sp.lambdify(sym.r, cos_general.kernel.subs({sym.d_sym: dim, sym.sigma_w: sigma_w}), "math")
    surface = 2 * math.pi ** (dim / 2) / math.gamma(dim / 2)  # area of S^(d-1)
    if dim == 1:
        surface = 2.0
    val, _ = scipy.integrate.quad(lambda rr: surface * rr ** (dim - 1) * f(rr), 0, np.inf,
                                  epsabs=1e-13, epsrel=1e-11)
    assert val == pytest.approx(1.0, rel=1e-8)


@pytest.mark.parametrize("dim", [1, 2, 3])
def test_cosnet_explicit_dims(dim):
    res = sym.cosnet(dim, sp.Rational(3, 2))
    sigma = sp.sqrt(dim) / sp.Rational(3, 2)
    expected = (2 * sp.pi * sigma**2) ** sp.Rational(-dim, 2) * sp.exp(-sym.r**2 / (2 * sigma**2))
    assert sp.simplify(res.kernel - expected) == 0


def test_printed_network_is_not_stationary():
    # eq. (2.32) as printed (sum over j outside the cosine): the kernel depends on x and x'
    # separately, not only on |x - x'|; its diagonal-only form (2.33) is a sum, not a product
    out = sym.cosnet_printed(2, 1)
    k = out["kernel_A"]
    x0, x1 = out["x"]
    y0, y1 = out["y"]
    at = {x0: 0.3, x1: -0.2, y0: 0.3, y1: -0.2}
    shifted = {x0: 1.3, x1: 0.8, y0: 1.3, y1: 0.8}
    value = lambda pt: float(k.subs(pt).subs(sym.A_sym, 1))
    assert abs(value(at) - value(shifted)) > 1e-2
    # the corrected kernel is the product exp(-(dx0^2 + dx1^2)/4) / 2, different again
    corrected = sym.cosnet(2, 1).kernel_A
    diag = out["diagonal_only_A"]
    pt = {x0: 0.5, x1: 0.0, y0: 0.0, y1: 0.5, sym.A_sym: 1}
    assert abs(float(diag.subs(pt)) - float(corrected.subs({sym.r: sp.sqrt(sp.Rational(1, 2)),
                                                             sym.A_sym: 1}))) > 1e-2


def test_gaussnet():
    res = sym.gaussnet()
    d, sw = sym.d_sym, sym.sigma_w
    expected_A = (sw / sp.sqrt(2 * sp.pi * d)) ** (d / 2)
    assert sp.simplify(sp.powsimp(res.A / expected_A, force=True)) == 1
    assert sp.simplify(res.sigma - sp.sqrt(d) / sw) == 0
    # same normalised kernel as the cos-net
    assert sp.simplify(res.kernel - sym.cosnet().kernel) == 0


def test_rescaling_identity():
    out = sym.rescaling_identity()
    assert out["difference"] == 0
    assert out["local_difference"] == 0


def test_manifold_delta_and_rate():
    out = sym.manifold_delta()
    assert out["delta_difference"] == 0          # (2.25)-(2.26)
    assert out["leading_difference"] == 0        # (2.29): Omega = alpha(x, x)
    assert out["odd_terms"] == 0                 # no O(sigma) term: the rate is sigma^2
    assert out["c2_difference"] == 0


def test_kronecker_structure():
    out = sym.kronecker_structure(2)
    m = out["theta_components"]
    comps = out["components"]
    for a in range(len(comps)):
        for b in range(len(comps)):
            assert (m[a, b] == 0) == (a != b)
    # ordered pairs: the symmetric identification gives delta_ik delta_jl + delta_il delta_jk
    th = out["theta_ordered"]
    assert th[(0, 1, 1, 0)] != 0 and th[(0, 1, 1, 0)] == th[(0, 1, 0, 1)]
    assert th[(0, 0, 1, 1)] == 0


def test_full_parameter_cosnet_ntk_not_stationary():
    k = sym.cosnet_full_ntk()
    assert k.has(sp.Symbol("xdotxp", real=True))


def test_bad_inputs():
    with pytest.raises(InvalidInputError):
        sym.cosnet(0, 1)
    with pytest.raises(InvalidInputError):
        sym.cosnet(2, -1)
