"""Compiled kernels of the jet equal autodiff curvature; numba equals JAX; the Perelman
variation equals the derivative of the discretised functional on a torus."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from metricflow._x64 import x64
from metricflow.errors import InvalidInputError
from metricflow.symbolic.codegen import compile_jet_kernel, derive_jet_formula, lambdify


@pytest.fixture(autouse=True)
def _float64():
    """Every test here runs in float64 without leaking the setting to other modules."""
    with x64():
        yield


def make_metric(n, seed):
    rng = np.random.RandomState(seed)
    A = jnp.asarray(rng.randn(n, n) * 0.4)
    c = jnp.asarray(rng.rand(n) * 0.2)

    def metric(x):
        b = jnp.sin(x @ A)
        return jnp.eye(n) * (1.5 + 0.2 * jnp.cos(x).sum()) + 0.3 * jnp.outer(b, b) + jnp.diag(c * x**2)

    return metric


def dilaton(x):
    return jnp.sin(x).sum() * 0.3 + 0.1 * (x**2).sum()


def jets(fn, x):
    return fn(x), jax.jacfwd(fn)(x), jax.jacfwd(jax.jacfwd(fn))(x)


def autodiff_curvature(metric, x):
    """Christoffel, Ricci and scalar curvature straight from autodiff (no codegen)."""

    def gamma(x):
        g = metric(x)
        dg = jax.jacfwd(metric)(x)
        low = 0.5 * (jnp.einsum("jli->lij", dg) + jnp.einsum("ilj->lij", dg) - jnp.einsum("ijl->lij", dg))
        return jnp.einsum("kl,lij->kij", jnp.linalg.inv(g), low)

    G = gamma(x)
    dG = jax.jacfwd(gamma)(x)
    ric = (jnp.einsum("kijk->ij", dG) - jnp.einsum("kikj->ij", dG)
           + jnp.einsum("kkl,lij->ij", G, G) - jnp.einsum("kjl,lik->ij", G, G))
    R = jnp.einsum("ij,ij->", jnp.linalg.inv(metric(x)), ric)
    return G, ric, R


@pytest.mark.parametrize("n", [2, 3])
def test_jax_ricci_kernel_equals_autodiff(n):
    metric = make_metric(n, seed=n)
    x = jnp.asarray(np.random.RandomState(7).rand(n))
    g, dg, ddg = jets(metric, x)
    G, ric, R = autodiff_curvature(metric, x)
    # float64 round-off on O(1) quantities: 1e-12
    np.testing.assert_allclose(jax.jit(compile_jet_kernel("ricci", n))(g, dg, ddg), ric, atol=1e-12)


def test_jax_kernels_equal_autodiff():
    n = 2
    metric = make_metric(n, seed=n)
    x = jnp.asarray(np.random.RandomState(7).rand(n))
    g, dg, ddg = jets(metric, x)
    G, ric, R = autodiff_curvature(metric, x)
    # float64 round-off on O(1) quantities: 1e-12
    np.testing.assert_allclose(jax.jit(compile_jet_kernel("christoffel", n))(g, dg, ddg), G, atol=1e-12)
    np.testing.assert_allclose(jax.jit(compile_jet_kernel("ricci", n))(g, dg, ddg), ric, atol=1e-12)
    np.testing.assert_allclose(jax.jit(compile_jet_kernel("scalar", n))(g, dg, ddg), R, atol=1e-12)
    ein = jax.jit(compile_jet_kernel("einstein", n))(g, dg, ddg)
    np.testing.assert_allclose(ein, ric - 0.5 * R * g, atol=1e-12)


@pytest.mark.parametrize("n", [2, pytest.param(3, marks=pytest.mark.slow)])
def test_perelman_kernels_equal_autodiff(n):
    metric = make_metric(n, seed=10 + n)
    x = jnp.asarray(np.random.RandomState(3).rand(n))
    g, dg, ddg = jets(metric, x)
    f, df, ddf = jets(dilaton, x)
    G, ric, R = autodiff_curvature(metric, x)
    hess = ddf - jnp.einsum("kij,k->ij", G, df)
    ginv = jnp.linalg.inv(g)
    vel = jax.jit(compile_jet_kernel("perelman_velocity", n))(g, dg, ddg, f, df, ddf)
    np.testing.assert_allclose(vel, -2 * (ric + hess), atol=1e-12)
    dil = jax.jit(compile_jet_kernel("dilaton_velocity", n))(g, dg, ddg, f, df, ddf)
    np.testing.assert_allclose(dil, -jnp.einsum("ij,ij->", ginv, hess) - R, atol=1e-12)
    lag = jax.jit(compile_jet_kernel("perelman_lagrangian", n))(g, dg, ddg, f, df, ddf)
    np.testing.assert_allclose(lag, R + df @ ginv @ df, atol=1e-12)


@pytest.mark.parametrize("name", ["ricci", "scalar", "perelman_velocity"])
def test_numba_kernel_equals_jax_kernel_on_a_batch(name):
    n = 2
    metric = make_metric(n, seed=5)
    xs = jnp.asarray(np.random.RandomState(0).rand(16, n))
    g, dg, ddg = jax.vmap(lambda x: jets(metric, x))(xs)
    f, df, ddf = jax.vmap(lambda x: jets(dilaton, x))(xs)
    extra = (f, df, ddf) if name == "perelman_velocity" else ()
    jk = jax.vmap(compile_jet_kernel(name, n, "jax"))(g, dg, ddg, *extra)
    nk = compile_jet_kernel(name, n, "numba")(*(np.asarray(a) for a in (g, dg, ddg, *extra)))
    np.testing.assert_allclose(nk, jk, atol=1e-12)


def test_formula_is_polynomial_in_inverse_metric_and_jets():
    formula = derive_jet_formula("ricci", 2)
    assert all(sp.fraction(sp.together(e))[1].is_number for e in formula.exprs)
    assert {a for a, _ in formula.inputs.values()} == {"g", "dg", "ddg", "ginv"}


def test_unknown_quantity_and_backend():
    with pytest.raises(InvalidInputError, match="unknown quantity"):
        derive_jet_formula("torsion", 2)
    with pytest.raises(InvalidInputError, match="backend"):
        compile_jet_kernel("ricci", 2, backend="fortran")


def test_lambdify_concrete_expressions_jax_and_numba():
    from metricflow.symbolic import Metric

    g = Metric("theta phi", "[[1,0],[0,sin(theta)**2]]")
    th, ph = g.coords
    fj = lambdify(g.coords, g.ricci[1, 1], "jax")
    fn = lambdify(g.coords, g.ricci[1, 1], "numba")
    assert abs(float(fj(0.3, 0.1)) - np.sin(0.3) ** 2) < 1e-15
    assert abs(fn(0.3, 0.1) - np.sin(0.3) ** 2) < 1e-15


def test_perelman_variation_equals_derivative_of_discretised_functional_on_torus():
    """d/dε F[g + εh, f_ε] at ε = 0 equals ∫ V^{ij} h_ij e^{-f} dV with V = -(R + ∇∇f)
    (the derived variation, compiled), for random smooth periodic h, on T² with the
    constraint e^{-f_ε} dV_ε = e^{-f} dV.  Trapezoid quadrature on a periodic grid is
    spectrally accurate for these smooth periodic integrands: 32² points give 1.4e-14, so
    1e-9 leaves room for other platforms and BLAS orderings."""
    n, N = 2, 32
    rng = np.random.RandomState(42)
    a = jnp.asarray(rng.randn(3, 4) * 0.15)

    def trig(x, c):
        return (c[0] * jnp.sin(x[0]) + c[1] * jnp.cos(x[1]) + c[2] * jnp.sin(x[0] + x[1])
                + c[3] * jnp.cos(2 * x[0] - x[1]))

    def g0(x):
        return jnp.array([[1.3 + trig(x, a[0]), trig(x, a[1]) * 0.5], [trig(x, a[1]) * 0.5, 1.1 + trig(x, a[2])]])

    hb = jnp.asarray(rng.randn(3, 4))

    def h(x):
        return jnp.array([[trig(x, hb[0]), trig(x, hb[1])], [trig(x, hb[1]), trig(x, hb[2])]])

    def f0(x):
        return 0.4 * jnp.sin(x[0]) * jnp.cos(x[1]) + 0.2 * jnp.cos(x[0])

    lag = compile_jet_kernel("perelman_lagrangian", n)
    vel = compile_jet_kernel("perelman_velocity", n)
    t = jnp.arange(N) * 2 * jnp.pi / N
    pts = jnp.stack(jnp.meshgrid(t, t, indexing="ij"), -1).reshape(-1, 2)
    w = (2 * jnp.pi / N) ** 2

    def F(eps):
        def g(x):
            return g0(x) + eps * h(x)

        def f(x):  # e^{-f_ε} √det g_ε = e^{-f} √det g
            return f0(x) + 0.5 * jnp.log(jnp.linalg.det(g(x)) / jnp.linalg.det(g0(x)))

        def density(x):
            L = lag(*jets(g, x), *jets(f, x))
            return L * jnp.exp(-f(x)) * jnp.sqrt(jnp.linalg.det(g(x)))

        return w * jnp.sum(jax.vmap(density)(pts))

    F = jax.jit(F)
    dF = jax.jit(lambda e: jax.jvp(F, (e,), (1.0,))[1])(0.0)

    def pairing(x):
        g = g0(x)
        V = 0.5 * vel(*jets(g0, x), *jets(f0, x))  # V_ij = -(R_ij + ∇_i∇_j f)
        gi = jnp.linalg.inv(g)
        return jnp.einsum("ia,jb,ab,ij->", gi, gi, V, h(x)) * jnp.exp(-f0(x)) * jnp.sqrt(jnp.linalg.det(g))

    predicted = w * jnp.sum(jax.jit(jax.vmap(pairing))(pts))
    # a central finite difference agrees to O(ε²) as an independent cross-check of the jvp
    eps = 1e-4
    fd = (F(eps) - F(-eps)) / (2 * eps)
    assert abs(float(dF)) > 1e-2  # the test is not vacuous
    rel = abs(float(dF - predicted)) / abs(float(dF))
    print(f"relative difference of variation and derivative: {rel:.2e}")
    assert rel < 1e-9
    assert abs(float(fd - dF)) < 1e-6 * abs(float(dF))
