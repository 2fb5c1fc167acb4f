"""Curvature of known metrics, exactly (docs/conventions.md for the signs)."""

import pytest
import sympy as sp

from metricflow.errors import InvalidInputError
from metricflow.symbolic import Metric
from metricflow.symbolic.catalogue import KERR


def round_sphere(n, radius="rho"):
    """S^n of radius rho in hyperspherical coordinates."""
    names = " ".join(f"t{i}" for i in range(n))
    coords = sp.symbols(names, real=True)
    coords = coords if isinstance(coords, tuple) else (coords,)
    rho = sp.Symbol(radius, positive=True)
    diag, factor = [], rho**2
    for c in coords:
        diag.append(factor)
        factor = factor * sp.sin(c) ** 2
    return Metric(coords, sp.diag(*diag)), rho


@pytest.mark.parametrize("n", [2, 3, 4])
def test_round_sphere_is_einstein(n):
    g, rho = round_sphere(n)
    assert g.is_zero(g.ricci - sp.Rational(n - 1) / rho**2 * g.matrix)
    assert sp.simplify(g.scalar - n * (n - 1) / rho**2) == 0


def test_two_sphere_output_is_readable():
    g = Metric("theta phi", "[[1,0],[0,sin(theta)**2]]")
    assert g.ricci == sp.Matrix([[1, 0], [0, sp.sin(sp.Symbol("theta", real=True)) ** 2]])
    assert g.scalar == 2


def test_hyperbolic_plane_and_space():
    H2 = Metric("x y", "[[1/y**2,0],[0,1/y**2]]")
    assert H2.scalar == -2
    H3 = Metric("x y z", "[[1/z**2,0,0],[0,1/z**2,0],[0,0,1/z**2]]")
    assert H3.is_zero(H3.ricci + 2 * H3.matrix)


def test_flat_space_in_polar_and_spherical_coordinates():
    polar = Metric("r theta", "[[1,0],[0,r**2]]")
    assert polar.ricci == sp.zeros(2, 2)
    assert polar.christoffel[0, 1, 1] == -sp.Symbol("r", real=True)
    sph = Metric("r theta phi", "[[1,0,0],[0,r**2,0],[0,0,r**2*sin(theta)**2]]")
    assert all(x == 0 for x in sp.flatten(sph.riemann.tolist()))


def test_schwarzschild_is_ricci_flat_and_not_flat():
    g = Metric("t r theta phi", "[[-(1-2*M/r),0,0,0],[0,1/(1-2*M/r),0,0],[0,0,r**2,0],"
               "[0,0,0,r**2*sin(theta)**2]]", lorentzian=True)
    assert g.ricci == sp.zeros(4, 4)
    assert any(x != 0 for x in sp.flatten(g.riemann.tolist()))


def test_kerr_is_ricci_flat():
    g = Metric("t r theta phi", KERR, lorentzian=True)
    assert g.ricci == sp.zeros(4, 4)
    assert g.scalar == 0


def test_einstein_tensor_and_volume_density():
    g, rho = round_sphere(3)
    G = g.einstein
    assert g.is_zero(G - (g.ricci - g.scalar / 2 * g.matrix))
    t0 = g.coords[0]
    assert sp.simplify(g.volume_density**2 - g.det) == 0
    assert g.is_zero(g.det - rho**6 * sp.sin(t0) ** 4 * sp.sin(g.coords[1]) ** 2)


def test_hessian_laplacian_gradient():
    polar = Metric("r theta", "[[1,0],[0,r**2]]")
    r, th = polar.coords
    # x = r cos(theta) is linear in Cartesian coordinates: its Hessian vanishes
    assert polar.hessian(r * sp.cos(th)) == sp.zeros(2, 2)
    assert polar.is_zero(polar.laplacian(r**2) - 4)
    assert polar.is_zero(polar.grad_norm_sq(r * sp.cos(th)) - 1)


def test_undefined_functions_and_parameters():
    g = Metric("x y", "[[exp(2*u(x,y)),0],[0,exp(2*u(x,y))]]")
    x, y = g.coords
    u = sp.Function("u")(x, y)
    expected = -2 * sp.exp(-2 * u) * (u.diff(x, 2) + u.diff(y, 2))
    assert g.is_zero(g.scalar - expected)


def test_sqrt_atoms_and_hyperbolic_functions():
    # the hyperbolic plane as dr^2 + sinh(r)^2 dθ^2
    g = Metric("r theta", "[[1,0],[0,sinh(r)**2]]")
    assert g.scalar == -2
    # the 2-sphere in the embedding coordinate z, with a square root
    h = Metric("z phi", "[[1/(1-z**2),0],[0,1-z**2]]")
    assert h.scalar == 2


@pytest.mark.parametrize("matrix, message", [
    ("[[1,0],[0,1],[0,0]]", "square"),
    ("[[1,x],[0,1]]", "not symmetric"),
    ("[[1,0,0],[0,1,0],[0,0,1]]", "2 coordinates"),
    ("[[x,x],[x,x]]", "degenerate"),
    ("[[1,0],[0,1", "cannot parse"),
    ("[[1,0],[0]]", "rows have different lengths"),
    ("3", "expected a square matrix"),
])
def test_bad_metrics_are_refused_with_a_clear_message(matrix, message):
    with pytest.raises(InvalidInputError) as exc:
        Metric("x y", matrix)
    assert exc.value.argument == "metric"
    assert message in str(exc.value)


def test_bad_coordinates():
    with pytest.raises(InvalidInputError, match="distinct"):
        Metric("x x", "[[1,0],[0,1]]")
    with pytest.raises(InvalidInputError, match="at least one"):
        Metric("", "[[1]]")
