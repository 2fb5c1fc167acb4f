"""Kähler geometry from a potential (Appendix B, eqs. B.1-B.4, B.10-B.11), checked exactly."""

import pytest
import sympy as sp

from metricflow.errors import InvalidInputError
from metricflow.symbolic.kahler import ComplexCoordinates, KahlerMetric


def fubini_study(n):
    zs = [f"z{i}" for i in range(1, n + 1)]
    return " ".join(zs), "log(1 + " + " + ".join(f"{z}*conjugate({z})" for z in zs) + ")"


@pytest.mark.parametrize("n", [1, 2, 3])
def test_fubini_study_is_kahler_einstein(n):
    """CP^n with K = log(1 + Σ|z|²): R_{ab̄} = (n+1) g_{ab̄} (B.3), exactly; R = n(n+1)."""
    m = KahlerMetric(*fubini_study(n))
    A = m.A
    assert all(A.is_zero(m.ricci_form_el[a][b] - (n + 1) * m.g_el[a][b]) for a in range(n) for b in range(n))
    assert m.scalar == n * (n + 1)
    assert m.positivity == "proven"


def test_metric_output_uses_conjugate_and_parses():
    m = KahlerMetric(*fubini_study(2))
    z1, z2 = sp.symbols("z1 z2")
    g = m.metric
    expected = sp.Matrix([[1 + z2 * sp.conjugate(z2), -sp.conjugate(z1) * z2],
                          [-z1 * sp.conjugate(z2), 1 + z1 * sp.conjugate(z1)]]) / (
        1 + z1 * sp.conjugate(z1) + z2 * sp.conjugate(z2)) ** 2
    parsed = sp.Matrix(sp.sympify([[str(x) for x in row] for row in g.tolist()]))
    assert sp.simplify(parsed - expected) == sp.zeros(2, 2)
    assert sp.simplify(m.kahler_form - sp.I / 2 * expected) == sp.zeros(2, 2)


@pytest.mark.parametrize("coords, K", [
    ("z", "z*conjugate(z)"),
    ("z", "2*z*conjugate(z) - (z - conjugate(z))**2/4"),       # a skewed flat torus metric
    ("z1 z2", "z1*conjugate(z1) + z2*conjugate(z2) + (z1*conjugate(z2) + z2*conjugate(z1))/3"),
    ("z", "z*conjugate(z) + z**3 + conjugate(z)**3"),          # + pluriharmonic: same metric
])
def test_flat_metrics_are_ricci_flat(coords, K):
    m = KahlerMetric(coords, K)
    assert m.ricci_form == sp.zeros(m.n, m.n) and m.scalar == 0


@pytest.mark.parametrize("coords, K", [
    fubini_study(1),
    ("z", "z*conjugate(z) + (z*conjugate(z))**2/4 + (z**2*conjugate(z) + z*conjugate(z)**2)/10"),
    ("z", "z*conjugate(z) + exp(z + conjugate(z))/5"),
    fubini_study(2),
])
def test_riemannian_route_gives_the_same_ricci_tensor(coords, K):
    """The real metric ds² = g_{ab̄}dz^a dz̄^b (real form of g/2, a `Metric` in x, y):
    its Riemannian Ricci tensor is the real form of the Ricci form (B.3) and its scalar
    curvature is 4 g^{ab̄}R_{ab̄}, exactly."""
    m = KahlerMetric(coords, K)
    real = m.riemannian_metric()
    assert real.is_zero(real.ricci - m.realify(m.ricci_form))
    xs, ys = m.real_coords()
    assert real.is_zero(real.scalar - 4 * m.cc.realify(m.cc.to_internal(m.scalar), xs, ys))


def test_kahler_ricci_flow_of_fubini_study_closed_form():
    """(B.4) on CP^1 and CP^2 from Fubini–Study: g(t) = (1 − (n+1)t) g_FS solves
    ∂_t g = ∂∂̄ log det g exactly (Ric is scale invariant), collapsing at t = 1/(n+1);
    on the potential, ∂_t K(t) − log det g(t) (= −n log(1 − (n+1)t)) depends on t only."""
    t = sp.Symbol("t")
    for n in (1, 2):
        coords, K = fubini_study(n)
        m = KahlerMetric(coords, f"(1 - {n + 1}*t)*" + K)
        assert m.positivity == "unchecked"  # a parameter: positive only for t < 1/(n+1)
        flow = m.kahler_ricci_flow
        assert m.A.is_zero(m.element(sp.diff(m.metric[0, 0], t) - flow[0, 0]))
        assert all(m.A.is_zero(m.element(sp.diff(m.metric[a, b], t) - flow[a, b]))
                   for a in range(n) for b in range(n))
        pot = sp.diff(m.cc.to_user(m.potential), t) - m.kahler_ricci_potential_flow
        pel = m.element(pot)
        assert all(m.A.is_zero(m.A.D(pel, i)) for i in range(2 * n))


def test_potential_flow_ddbar_equals_metric_flow():
    m = KahlerMetric("z", "z*conjugate(z) + (z*conjugate(z))**2/4 + (z**2*conjugate(z) + z*conjugate(z)**2)/10")
    assert m.A.is_zero(m.element(m.ddbar(m.kahler_ricci_potential_flow)[0, 0] - m.kahler_ricci_flow[0, 0]))


def test_eta_and_sigma():
    """η = det g / (κ|Ω|²) (B.11): 1 for the flat metric with κ = 1, Ω = dz."""
    flat = KahlerMetric("z1 z2", "z1*conjugate(z1) + z2*conjugate(z2)")
    assert flat.eta("1", 1) == 1 and flat.sigma("1", 1) == 0
    m = KahlerMetric("z", "z*conjugate(z) + (z*conjugate(z))**2")
    z = sp.Symbol("z")
    assert sp.simplify(m.eta("2*z", 3) - (1 + 4 * z * sp.conjugate(z)) / (12 * z * sp.conjugate(z))) == 0
    with pytest.raises(InvalidInputError, match="holomorphic"):
        m.eta("conjugate(z)")


def test_conjugation_and_undefined_functions():
    cc = ComplexCoordinates("z")
    u = cc.parse("u(z, conjugate(z))")
    z, zb = cc.zs[0], cc.zbs[0]
    e = sp.I * z**2 * sp.Derivative(u, z)
    assert cc.conjugate(e) == -sp.I * zb**2 * sp.Derivative(u, zb)
    m = KahlerMetric("z", "u(z, conjugate(z))")
    assert m.positivity == "unchecked"
    assert str(m.metric[0, 0]) == "Derivative(u(z, z__bar), z, z__bar)"


@pytest.mark.parametrize("K, needle", [
    ("z**2*conjugate(z)", "not Hermitian"),
    ("-z*conjugate(z)", "not positive definite"),
    ("z*conjugate(z) - (z*conjugate(z))**2/10", "not positive definite at z ="),
    ("z + conjugate(z)", "degenerate"),
    ("log(1 + z*conjugate(w))", "cannot interpret"),
    ("log(1 + z*conjugate(z)", "cannot parse"),
])
def test_bad_potentials(K, needle):
    with pytest.raises(InvalidInputError, match=needle):
        KahlerMetric("z", K)


def test_sampled_positivity_and_bad_coords():
    assert KahlerMetric("z", "z*conjugate(z) + cos(z + conjugate(z))/10").positivity in ("sampled", "proven")
    with pytest.raises(InvalidInputError, match="distinct"):
        KahlerMetric("z z", "z*conjugate(z)")
    with pytest.raises(InvalidInputError, match="coords"):
        KahlerMetric("1z", "z*conjugate(z)")
