"""Functional derivatives (Euler operator) and the flows they generate, checked exactly."""

import pytest
import sympy as sp

from metricflow.errors import InvalidInputError
from metricflow.symbolic import Metric
from metricflow.symbolic import _formulas as F
from metricflow.symbolic.functionals import (
    closed_form_check,
    derive_variation,
    dilaton_velocity,
    generic_metric,
    gradient_flow,
    perelman_flow,
)

X, Y, Z = sp.symbols("x y z", real=True)


@pytest.mark.parametrize("name", ["perelman", "einstein-hilbert", "volume"])
def test_variation_on_generic_2d_metric_matches_closed_form(name):
    """Eq. (2.40)-(2.41): varying F with e^{-f}dV fixed gives V_ij = -(R_ij + ∇_i∇_j f),
    exactly, for a completely generic 2D metric g_ij(x, y)."""
    assert closed_form_check(derive_variation(name, 2))


def test_variation_on_generic_1d_metric():
    for name in ("perelman", "einstein-hilbert", "volume"):
        assert closed_form_check(derive_variation(name, 1))


@pytest.mark.slow
@pytest.mark.exhaustive  # > 20 min on 2 shared cores (issue 13 note): run with `make test-exhaustive`
def test_einstein_hilbert_variation_generic_3d():
    assert closed_form_check(derive_variation("einstein-hilbert", 3))


def test_unknown_functional():
    with pytest.raises(InvalidInputError, match="unknown functional"):
        derive_variation("nope", 2)


def test_derived_gradient_flow_equals_closed_form_perelman_flow():
    g = Metric("x y", "[[exp(2*u(x,y)), 0], [0, exp(2*u(x,y))]]")
    f = sp.Function("f")(X, Y)
    derived = gradient_flow("perelman", g, f)
    closed = perelman_flow(g, f)
    assert g.is_zero(derived - closed)


def test_derived_gradient_flow_on_a_concrete_metric():
    g = Metric("x y", "[[1 + x**2, x*y], [x*y, 2 + y**2]]")
    f = X**2 - Y
    assert Metric(g.coords, g.matrix, fields=[f]).is_zero(gradient_flow("perelman", g, f) - perelman_flow(g, f))


@pytest.mark.parametrize("metric, coords", [
    ([[sp.Function("a")(X, Y), sp.Function("b")(X, Y)], [sp.Function("b")(X, Y), sp.Function("c")(X, Y)]], (X, Y)),
    (sp.exp(2 * sp.Function("u")(X, Y, Z)) * sp.eye(3), (X, Y, Z)),
])
def test_perelman_flow_is_ricci_flow_plus_lie_derivative(metric, coords):
    """-2(R + ∇∇f) - (-2R) = -L_{∇f} g, exactly, for a generic 2D metric and a generic 3D
    conformal metric with an arbitrary dilaton."""
    f = sp.Function("f")(*coords)
    g = Metric(coords, metric, fields=[f])
    lie = g.lie_derivative(g.gradient_vector(f))
    assert g.is_zero(perelman_flow(g, f) - (-2 * g.ricci) + lie)


def test_dilaton_flow_keeps_the_measure_fixed_pointwise_in_perelman_gauge():
    """½ g^{ij} ∂_t g_ij - ∂_t f = 0: e^{-f}√g is constant along (2.40) with ∂_t f = -Δf - R."""
    f = sp.Function("f")(X, Y)
    g = Metric((X, Y), [[sp.Function("a")(X, Y), 0], [0, sp.Function("c")(X, Y)]], fields=[f])
    flow = perelman_flow(g, f)
    A = g.A
    half_trace = F.trace(A, g.ginv_el, [[g.element(flow[i, j]) for j in range(2)] for i in range(2)]) / 2
    assert A.is_zero(half_trace - g.element(dilaton_velocity(g, f)))


def test_dilaton_flow_in_ricci_gauge_conserves_total_measure():
    """Along Ricci flow with ∂_t f = -Δf + |∇f|² - R: ∂_t(e^{-f}√g)/√g = -Δ(e^{-f}), a divergence."""
    f = sp.Function("f")(X, Y)
    g = Metric((X, Y), sp.exp(2 * sp.Function("u")(X, Y)) * sp.eye(2), fields=[f, sp.exp(-f)])
    A = g.A
    half_trace = F.trace(A, g.ginv_el, [[-2 * g.ricci_el[i][j] for j in range(2)] for i in range(2)]) / 2
    rate = sp.exp(-f) * (g.A.expr(half_trace) - dilaton_velocity(g, f, gauge="ricci"))
    assert g.is_zero(rate + g.laplacian(sp.exp(-f)))


def test_generic_metric_rejects_large_dimension():
    with pytest.raises(InvalidInputError):
        generic_metric(7)


def test_user_defined_functional_cosmological_constant():
    """Your own functional: ∫ (R − 2Λ) dV has V_ij = −G_ij − Λ g_ij."""
    from metricflow.symbolic.functionals import Functional

    fn = Functional("EH-Lambda", lambda geo: geo.R - 6 * geo.A.one)
    var = derive_variation(fn, 2)
    m, A = var.metric, var.metric.A
    assert all(A.is_zero(var.lowered[i][j] + m.einstein_el[i][j] + 3 * m.g_el[i][j])
               for i in range(2) for j in range(2))
    with pytest.raises(InvalidInputError, match="expected a name or a Functional"):
        derive_variation(42, 2)


@pytest.mark.slow
def test_user_defined_functional_r_squared_in_2d():
    """A user's own functional, ∫ R² dV.  The textbook variation is
    δ∫R²√g = ∫√g (2R R_ij − ½R² g_ij − 2∇_i∇_j R + 2 g_ij ΔR) δg^{ij}; with
    δg^{ij} = −g^{ia}g^{jb}δg_ab the lowered variation is its negative."""
    from metricflow.symbolic.functionals import Functional

    fn = Functional("R2", lambda geo: geo.R ** 2)
    var = derive_variation(fn, 2)
    expected = _textbook_r_squared_variation(var.metric)
    assert all(var.metric.A.is_zero(var.lowered[i][j] - expected[i][j]) for i in range(2) for j in range(2))


def _textbook_r_squared_variation(m):
    """The lowered variation of ∫R² dV (docstring above): 2∇∇R − 2gΔR − 2R Ric + ½R²g."""
    A, R = m.A, m.scalar_el
    H = F.hessian(A, m.christoffel_el, R)
    lap = F.trace(A, m.ginv_el, H)
    return [[2 * H[i][j] - 2 * m.g_el[i][j] * lap - 2 * R * m.ricci_el[i][j] + m.g_el[i][j] * R**2 / 2
             for j in range(m.n)] for i in range(m.n)]


@pytest.mark.slow
def test_ricci_squared_varies_like_half_r_squared_in_2d():
    """A Lagrangian built from the Ricci tensor: in 2D ∫|Ric|² dV = ½ ∫R² dV, so the derived
    variation of ∫|Ric|² is half the textbook variation of ∫R², exactly, on the generic metric."""
    from metricflow.symbolic.functionals import Functional

    var = derive_variation(Functional("ric2", lambda geo: geo.ricci_sq), 2)
    expected = _textbook_r_squared_variation(var.metric)
    assert all(var.metric.A.is_zero(var.lowered[i][j] - expected[i][j] / 2) for i in range(2) for j in range(2))
