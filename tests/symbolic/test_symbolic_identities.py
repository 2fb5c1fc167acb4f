"""Property tests: curvature identities on random metrics (hypothesis), checked exactly."""

import itertools

import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from metricflow.symbolic import Metric

X, Y, Z = sp.symbols("x y z", real=True)
small = st.integers(-2, 2)


@st.composite
def polynomial_metrics(draw, dim=2):
    """g = I + P with P symmetric, entries random polynomials of degree <= 2."""
    coords = (X, Y, Z)[:dim]
    monomials = [sp.Integer(1)] + list(coords) + [a * b for a, b in
                                                  itertools.combinations_with_replacement(coords, 2)]
    m = sp.eye(dim)
    for i in range(dim):
        for j in range(i, dim):
            coeffs = draw(st.lists(small, min_size=len(monomials), max_size=len(monomials)))
            p = sum(sp.Rational(c, 4) * mono for c, mono in zip(coeffs, monomials, strict=True))
            m[i, j] += p
            if i != j:
                m[j, i] += p
    if m.det() == 0:
        m += sp.eye(dim) * 3
    return Metric(coords, m)


@st.composite
def conformal_metrics(draw, dim=3):
    """g = e^{2u} δ with u a random polynomial (and sin of a coordinate)."""
    coords = (X, Y, Z)[:dim]
    c = draw(st.lists(small, min_size=dim + 1, max_size=dim + 1))
    u = sum(ci * x for ci, x in zip(c, coords, strict=False)) / 3 + c[-1] * sp.sin(coords[0]) / 5
    return Metric(coords, sp.exp(2 * u) * sp.eye(dim))


def lowered_riemann(g):
    n, A = g.n, g.A
    R = {}
    for r, s, m, v in itertools.product(range(n), repeat=4):
        R[r, s, m, v] = A.reduce(sum((g.g_el[r][a] * g.riemann_component(a, s, m, v) for a in range(n)),
                                     A.zero))
    return R


def check_riemann_identities(g):
    n, A = g.n, g.A
    R = lowered_riemann(g)
    for r, s, m, v in itertools.product(range(n), repeat=4):
        assert A.is_zero(R[r, s, m, v] + R[r, s, v, m])          # antisymmetric in the last pair
        assert A.is_zero(R[r, s, m, v] + R[s, r, m, v])          # antisymmetric in the first pair
        assert A.is_zero(R[r, s, m, v] - R[m, v, r, s])          # pair symmetry
        # first Bianchi identity R_r[smv] = 0
        assert A.is_zero(R[r, s, m, v] + R[r, m, v, s] + R[r, v, s, m])
    # Ricci is the contraction R^r_{s r v}, and symmetric
    for s, v in itertools.product(range(n), repeat=2):
        contraction = A.reduce(sum((g.riemann_component(r, s, r, v) for r in range(n)), A.zero))
        assert A.is_zero(contraction - g.ricci_el[s][v])
        assert A.is_zero(g.ricci_el[s][v] - g.ricci_el[v][s])


@given(polynomial_metrics(dim=2))
def test_riemann_identities_2d(g):
    check_riemann_identities(g)


@given(conformal_metrics(dim=3))
def test_riemann_identities_3d_conformal(g):
    check_riemann_identities(g)


@given(conformal_metrics(dim=3))
def test_contracted_bianchi_identity(g):
    """∇^i G_ij = 0."""
    div = g.divergence(g.einstein)
    assert all(g.is_zero(d) for d in div)


@given(polynomial_metrics(dim=2))
def test_contracted_bianchi_identity_polynomial_2d(g):
    div = g.divergence(g.einstein)
    assert all(g.is_zero(d) for d in div)


@settings(max_examples=settings.default.max_examples * 5 // 25)  # ~4 s each: pull-back + exact comparison
@given(polynomial_metrics(dim=2), small, small)
def test_scalar_curvature_is_invariant_under_coordinate_changes(g, a, b):
    """R'(y) = R(x(y)) for x = y + polynomial change of variables."""
    u, v = sp.symbols("u v", real=True)
    xs = [u + sp.Rational(a, 5) * v**2, v + sp.Rational(b, 7) * u**2 + u / 3]
    h = g.pullback("u v", xs)
    R_old = g.scalar.subs({X: xs[0], Y: xs[1]}, simultaneous=True)
    assert h.is_zero(h.scalar - R_old)


@settings(max_examples=settings.default.max_examples * 10 // 25)
@given(polynomial_metrics(dim=2), st.integers(1, 4))
def test_scalar_curvature_scales_inversely_with_constant_rescaling(g, c):
    scaled = Metric(g.coords, c * g.matrix)
    assert g.is_zero(scaled.scalar * c - g.scalar)
