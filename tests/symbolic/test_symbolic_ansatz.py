"""Flows of ansätze: the ODE/PDE systems, and when an ansatz is not preserved."""

import pytest
import sympy as sp

from metricflow.errors import InvalidInputError
from metricflow.symbolic.ansatz import ansatz_flow

r = sp.Symbol("r", real=True)
psi, phi = sp.Function("psi")(r), sp.Function("phi")(r)
t = sp.Symbol("t")
a, b = sp.Function("a")(t), sp.Function("b")(t)

BERGER = ("theta phi psi", "[[a(t)**2,0,0],[0,a(t)**2*sin(theta)**2+b(t)**2*cos(theta)**2,b(t)**2*cos(theta)],"
          "[0,b(t)**2*cos(theta),b(t)**2]]")


def test_warped_product_with_fixed_radial_gauge_is_not_preserved():
    res = ansatz_flow("r theta", "[[1,0],[0,psi(r)**2]]", "psi(r)")
    assert not res.preserved
    (comp, required), = res.obstructions
    assert comp == (0, 0)
    assert sp.simplify(required - 2 * psi.diff(r, 2) / psi) == 0


def test_general_warped_product_is_preserved_with_gauss_curvature_equations():
    res = ansatz_flow("r theta", "[[phi(r)**2,0],[0,psi(r)**2]]", "phi(r) psi(r)")
    assert res.preserved
    K = -(psi.diff(r) / phi).diff(r) / (phi * psi)  # Gauss curvature; Ric = K g in 2D
    assert sp.simplify(res.equations[phi] + K * phi) == 0
    assert sp.simplify(res.equations[psi] + K * psi) == 0


def test_berger_sphere_ricci_flow_ode():
    res = ansatz_flow(*BERGER, "a(t) b(t)")
    assert res.preserved
    # Ricci of a²(σ1²+σ2²) + b²σ3²: d(a²)/dt = b²/a² - 2, d(b²)/dt = -b⁴/a⁴
    assert sp.simplify(2 * a * res.equations[a] - (b**2 / a**2 - 2)) == 0
    assert sp.simplify(2 * b * res.equations[b] + b**4 / a**4) == 0


def test_round_three_sphere_radius_follows_closed_form():
    """a = b = ρ/2 is the round S³ of radius ρ: d(ρ²)/dt = -4 (ρ² = ρ0² - 4t)."""
    res = ansatz_flow(*BERGER, "a(t) b(t)")
    rho = sp.Symbol("rho", positive=True)
    da = res.equations[a].subs({a: rho / 2, b: rho / 2})
    db = res.equations[b].subs({a: rho / 2, b: rho / 2})
    assert sp.simplify(da - db) == 0
    assert sp.simplify(2 * rho * (2 * da) + 4) == 0


def test_perelman_flow_on_warped_product_with_dilaton():
    res = ansatz_flow("r theta", "[[phi(r)**2,0],[0,psi(r)**2]]", "phi(r) psi(r)", flow="perelman",
                      dilaton="h(r)")
    assert res.preserved
    assert phi in res.equations and psi in res.equations


def test_ansatz_errors():
    with pytest.raises(InvalidInputError, match="unknowns"):
        ansatz_flow("r theta", "[[1,0],[0,r**2]]", "r**2")
    with pytest.raises(InvalidInputError, match="dilaton"):
        ansatz_flow("r theta", "[[1,0],[0,psi(r)**2]]", "psi(r)", flow="perelman")


def test_three_sphere_flow_integrated_numerically():
    """The derived Berger ODE, compiled (lambdify) and integrated with diffrax: the round
    S³ follows ρ² = ρ0² − 4t to the integrator's tolerance up to near extinction, and a
    squashed Berger sphere rounds out (b/a → 1) as it shrinks (Hamilton's S³ theorem)."""
    import diffrax
    import jax.numpy as jnp

    from metricflow._x64 import x64

    res = ansatz_flow(*BERGER, "a(t) b(t)")
    A, B = sp.symbols("A B", positive=True)
    rhs = sp.lambdify((A, B), [res.equations[u].subs({a: A, b: B}) for u in (a, b)], "jax")
    with x64():
        def solve(a0, b0, t1):
            ts = jnp.linspace(0.0, t1, 41)
            sol = diffrax.diffeqsolve(diffrax.ODETerm(lambda t, y, _: jnp.stack(rhs(y[0], y[1]))),
                                      diffrax.Dopri8(), 0.0, t1, 1e-3, jnp.array([a0, b0]),
                                      saveat=diffrax.SaveAt(ts=ts),
                                      stepsize_controller=diffrax.PIDController(rtol=1e-12, atol=1e-12))
            return ts, sol.ys

        rho0 = 2.0   # a = b = ρ/2; extinction at t = ρ0²/4 = 1
        ts, ys = solve(rho0 / 2, rho0 / 2, 0.95)
        assert float(jnp.max(jnp.abs((2 * ys[:, 0]) ** 2 - (rho0**2 - 4 * ts)))) < 1e-9
        assert float(jnp.max(jnp.abs(ys[:, 0] - ys[:, 1]))) < 1e-12
        ts, ys = solve(1.0, 0.4, 0.45)
        ratio = ys[:, 1] / ys[:, 0]
        assert bool(jnp.all(jnp.diff(ratio) > 0)) and float(ratio[-1]) > 0.55
