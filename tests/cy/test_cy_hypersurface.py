"""Hypersurfaces: parsing, homogeneity, singular members, exact volumes, derivatives."""

import cmath
import math

import numpy as np
import pytest
import sympy

from metricflow.cy import hypersurface
from metricflow.cy.hypersurface import find_singular_point, from_monomials
from metricflow.errors import InvalidInputError


def test_builtins():
    q = hypersurface("fermat-quintic")
    assert (q.n_ambient, q.degree, q.dim, q.is_calabi_yau) == (5, 5, 3, True)
    k3 = hypersurface("quartic-k3")
    assert (k3.n_ambient, k3.degree, k3.dim) == (4, 4, 2)
    c = hypersurface("cubic-curve")
    assert (c.n_ambient, c.degree, c.dim) == (3, 3, 1)
    d = hypersurface("dwork:0.5")
    assert d.exponents.shape == (6, 5)
    # Wirtinger: Vol = d pi^(n-1)/(n-1)!  (exact numbers)
    assert q.fs_volume() == pytest.approx(5 * math.pi**3 / 6, rel=1e-15)
    assert c.fs_volume() == pytest.approx(3 * math.pi, rel=1e-15)


def test_sympy_string_matches_builtin():
    a = hypersurface("z0**5 + z1**5 + z2**5 + z3**5 + z4**5")
    b = hypersurface("fermat-quintic")
    z = np.random.default_rng(0).standard_normal((7, 5)) + 0j
    assert np.allclose(a.evaluate(z), b.evaluate(z), rtol=1e-13)
    e = hypersurface(b.expression())  # round trip through the printed expression
    assert np.allclose(e.evaluate(z), b.evaluate(z), rtol=1e-13)


@pytest.mark.parametrize("text", ["z0**5 + z1**4 + z2**5", "z0**3 + z1 + z2**3", "z0**2 + 1"])
def test_non_homogeneous_refused(text):
    with pytest.raises(InvalidInputError) as exc:
        hypersurface(text)
    assert exc.value.argument == "poly"
    assert "homogeneous" in exc.value.message or "P^2" in exc.value.message


@pytest.mark.parametrize("text", ["z0**3 + a*z1**3 + z2**3", "sin(z0)+z1+z2", "nonsense((", "foo"])
def test_bad_expressions_refused(text):
    with pytest.raises(InvalidInputError) as exc:
        hypersurface(text)
    assert exc.value.argument == "poly"


def test_dwork_singular_members_refused():
    for psi in (1, cmath.exp(2j * math.pi / 5), cmath.exp(-4j * math.pi / 5)):
        with pytest.raises(InvalidInputError, match="singular"):
            spec = f"dwork:{psi.real}{psi.imag:+}j" if isinstance(psi, complex) else "dwork:1"
            hypersurface(spec)
    hypersurface("dwork:0.9")  # smooth


def test_numerical_singularity_detection_on_strings():
    """The general path (Levenberg-Marquardt from random starts) finds the conifold
    points of the Dwork family when it is typed as a plain polynomial."""
    with pytest.raises(InvalidInputError, match="singular"):
        hypersurface("z0**5+z1**5+z2**5+z3**5+z4**5-5*z0*z1*z2*z3*z4")
    for text in ["z1**2*z2 - z0**3", "z0*z1*z2", "z0**3+z1**3+z2**3-3*z0*z1*z2",
                 "z0**4+z1**4+z2**4+z3**4-4*z0*z1*z2*z3"]:
        with pytest.raises(InvalidInputError, match="singular"):
            hypersurface(text)
    # and it does not flag smooth ones
    for text in ["z0**3+z1**3+z2**3+z0*z1*z2",
                 "z0**5+z1**5+z2**5+z3**5+z4**5-5*0.9*z0*z1*z2*z3*z4"]:
        X = hypersurface(text)
        assert find_singular_point(X) is None


def test_singular_point_returned_is_singular():
    X = from_monomials([[3, 0, 0], [0, 2, 1]], [-1, 1], check_smooth=False)  # cusp
    pt = find_singular_point(X)
    assert pt is not None
    assert np.linalg.norm(X.gradient(pt)) < 1e-9


def test_derivatives_match_sympy():
    text = "z0**4 + 2*z1**4 + z2**4 + z3**4 - (0.3+0.1*I)*z0*z1*z2*z3 + z0**2*z1*z3"
    X = hypersurface(text)
    zs = sympy.symbols("z0:4")
    expr = sympy.sympify(text)
    z = np.array([0.3 + 0.2j, -0.7 + 0.1j, 0.5 - 0.4j, 0.2 + 0.9j])
    sub = dict(zip(zs, z, strict=True))
    grad = np.array([complex(sympy.diff(expr, v).subs(sub)) for v in zs])
    hess = np.array([[complex(sympy.diff(expr, v, w).subs(sub)) for w in zs] for v in zs])
    assert np.allclose(X.evaluate(z), complex(expr.subs(sub)), rtol=1e-13)
    assert np.allclose(X.gradient(z), grad, rtol=1e-13)
    assert np.allclose(X.hessian(z), hess, rtol=1e-13)
