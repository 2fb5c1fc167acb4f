"""The registry's Kähler functionals at any order on a hypersurface (metricflow.cy.jet_geometry):
the automatic-differentiation twin agrees with the symbolic kernels, the jets are right
(Ω by finite differences along X, g and R against the closed form and the Chern curvature),
orders beyond the jets' exactness are refused, and perelman-eta integrates to zero."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metricflow import cy
from metricflow._x64 import x64
from metricflow.cy import functionals as fl
from metricflow.cy import jet_geometry as jg
from metricflow.cy.algebraic import AlgebraicMetric
from metricflow.errors import InvalidInputError


def _metric(X, k, seed, scale=0.2):
    """A random algebraic metric of degree k: H = 1 + scale A A†/N_k (positive definite)."""
    basis = AlgebraicMetric.identity(X, k).basis
    N = basis.shape[0]
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(N, N)) + 1j * rng.normal(size=(N, N))
    return AlgebraicMetric(X, k, basis, np.eye(N) + scale * (A @ A.conj().T) / N)


def _bilinear(metric, ps):
    import jax.numpy as jnp

    f = jg.jet_features(ps, metric.basis)
    return jg.bilinear(jnp.asarray(f["S"]), jnp.asarray(metric.H)), f


@pytest.mark.parametrize("spec", ["cubic-curve", "quartic-k3"])
def test_twin_equals_the_symbolic_kernels(spec):
    """Every registry Lagrangian and paper flow, evaluated (a) by the symbolic kernel on the jets of the
    curvature module (g, dg, dbg, ddg) and (b) by the AD twin on M = S†HS: equal to round-off.  The
    symbolic kernels are polynomials of degree <= 6 in the jets over det g^p, so cancellation costs at
    most a few digits: 1e-9 relative to the largest value."""
    import jax.numpy as jnp

    from metricflow.cy.curvature import metric_jets
    from metricflow.symbolic.codegen_potential import compile_potential_kernel
    from metricflow.symbolic.kahler_functionals import PotentialGeometry
    from metricflow.symbolic.registry import functionals

    X = cy.hypersurface(spec)
    ps = cy.sample(X, 48, seed=3)
    metric = _metric(X, 2, 0)
    jets = metric_jets(metric, ps)
    n, e = X.dim, np.eye(2 * X.dim, dtype=int)
    with x64():
        M, f = _bilinear(metric, ps)
        om, omb = {(0,) * 2 * n: f["om"][:, 0]}, {(0,) * 2 * n: np.conj(f["om"][:, 0])}
        for c in range(n):
            om[tuple(e[c])], omb[tuple(e[n + c])] = f["om"][:, 1 + c], np.conj(f["om"][:, 1 + c])
        uj = fl.u_jets(jets["g"], jets["dg"], jets["dbg"], jets["ddg"])
        checked = 0
        for fn in functionals("kahler").values():
            for build in (fn.lagrangian, fn.paper_flow):
                if build is None:
                    continue
                geo = PotentialGeometry(n, jet_order=fn.order, extra=fn.extra)
                kern = compile_potential_kernel(geo, geo.A.reduce(build(geo)), backend="numpy", omega_one=False)
                ref = np.broadcast_to(kern({a: uj[a] for a in kern.alphas}, om, omb, 0.7), (len(ps),))
                got = np.asarray(jg.pointwise(build, n, 2)(M, jnp.asarray(f["om"]), 0.7))
                assert np.abs(got - ref).max() <= 1e-9 * np.abs(ref).max(), (fn.name, build)
                checked += 1
    assert checked == 10


def test_omega_jets_by_finite_differences_along_the_hypersurface():
    """Ω₀ is PointSet.omega; ∂_aΩ against a central difference of Ω at points moved along the local
    coordinate x_a and put back on X by Newton on z_e (step h = 1e-5: truncation O(h²) ~ 1e-10,
    round-off ~ 1e-16/h ~ 1e-11, relative to |∂Ω|; tolerance 1e-6)."""
    X = cy.hypersurface("fermat-quintic")
    ps = cy.sample(X, 6, seed=11)
    f = jg.jet_features(ps, AlgebraicMetric.identity(X, 1).basis)
    assert np.abs(f["om"][:, 0] - ps.omega).max() < 1e-12 * np.abs(ps.omega).max()
    d = X.degree
    h = 1e-5
    def omega_at(z, e):
        for _ in range(30):  # Newton on the Fermat polynomial in z_e
            z[e] -= np.sum(z**d) / (d * z[e] ** (d - 1))
        return 1.0 / (d * z[e] ** (d - 1))

    for i in range(len(ps)):
        z0, e = ps.points[i].copy(), int(ps.elim[i])
        for a in range(X.dim):
            c = int(ps.coords[i, a])
            zp, zm = z0.copy(), z0.copy()
            zp[c] += h
            zm[c] -= h
            fd = (omega_at(zp, e) - omega_at(zm, e)) / (2 * h)
            assert abs(fd - f["om"][i, 1 + a]) < 1e-6 * max(abs(fd), abs(f["om"][i, 0]))


def test_metric_and_ricci_scalar_against_the_closed_form_and_the_chern_curvature():
    """g from the twin equals AlgebraicMetric's closed form; R = g^{ab̄}R_{ab̄} from the registry's
    definition (−∂∂̄ log det g) equals the trace of the Chern curvature (an independent construction);
    both round-off (1e-9 relative: four derivatives of a log)."""
    import jax.numpy as jnp

    from metricflow.cy.curvature import pointwise_curvature

    X = cy.hypersurface("fermat-quintic")
    ps = cy.sample(X, 40, seed=5)
    metric = _metric(X, 2, 1)
    with x64():
        M, f = _bilinear(metric, ps)
        g = np.asarray(jg.metric_at(3, 2)(M))
        R = np.asarray(jg.pointwise(lambda geo: geo.R, 3, 2)(M, jnp.asarray(f["om"]), 1.0)).real
    ref = metric(ps)
    assert np.abs(g - ref).max() < 1e-12 * np.abs(ref).max()
    Rref = pointwise_curvature(metric, ps)["ricci_scalar"]
    assert np.abs(R - Rref).max() < 1e-9 * np.abs(Rref).max()


def test_orders_beyond_the_jets_are_refused():
    """Δ R needs (3, 3) derivatives of K (the Taylor models are exact to (2, 2)); ∂∂Ω two of Ω."""
    with pytest.raises(InvalidInputError) as exc:
        jg.pointwise(lambda geo: geo.laplacian(geo.R), 3, 2)
    assert exc.value.argument == "functional" and "(2, 2)" in str(exc.value)
    with pytest.raises(InvalidInputError):
        jg.pointwise(lambda geo: geo.d(geo.d(geo.w, 0), 1), 3, 2)


def test_perelman_eta_integrates_to_zero():
    """−∫μ_CY(R + |∂ ln η|²) is the integral of a divergence, (det g/κ) Δ e^{−ln η} (B.18): zero for
    every metric, so its Monte Carlo value must vanish within its error — an end-to-end check of R,
    of ∂Ω (in ∂ ln η) and of the weights.  Each term alone is O(1) (Einstein–Hilbert ≈ 2 at FS).
    The error is the spread of the per-point values over sqrt(N); 5 standard errors."""
    import jax.numpy as jnp

    X = cy.hypersurface("fermat-quintic")
    ps = cy.sample(X, 12_000, seed=7)
    metric = _metric(X, 2, 2, scale=0.5)
    build, _ = jg.element_of("perelman-eta")
    with x64():
        M, f = _bilinear(metric, ps)
        L = np.asarray(jg.pointwise(build, 3, 2)(M, jnp.asarray(f["om"]), 1.0)).real
        EH = np.asarray(jg.pointwise(jg.element_of("einstein-hilbert-cy")[0], 3, 2)(M, jnp.asarray(f["om"]),
                                                                                  1.0)).real
    x = L / ps.det_g_fs / ps.weights.mean()
    se = x.std() / np.sqrt(len(x))
    assert abs(x.mean()) < 5 * se
    # not a trivial zero: its curvature term −∫μ_CY R = 2 E_EH alone is many standard errors away
    assert 2 * np.mean(EH / ps.det_g_fs / ps.weights.mean()) > 10 * se
    # and the blocked evaluator gives the same number
    assert abs(fl.metric_value("perelman-eta", metric, ps) - x.mean()) < 1e-9 * np.abs(x).mean()


@settings(max_examples=5, deadline=None)
@given(seed=st.integers(0, 2**16), scale=st.floats(0.0, 1.0), name=st.sampled_from(["hn-ultralocal", "hn-entropy"]))
def test_ultralocal_functionals_agree_between_the_two_routes(seed, scale, name):
    """An ultra-local functional by the metric-only kernels and by the jets: the same Monte Carlo sum
    (round-off, 1e-10 relative), for random metrics."""
    X = cy.hypersurface("fermat-quintic")
    ps = cy.sample(X, 300, seed=seed % 97)
    metric = _metric(X, 2, seed, scale)
    a = fl.metric_value(name, metric, ps)
    with x64():
        M, f = _bilinear(metric, ps)
        b = float(jg.compile_value(name, 3, 2)(M, jg.jet_point_data(ps, f)))
    assert abs(a - b) <= 1e-10 * abs(a)


def test_constant_functionals_are_refused_for_minimisation():
    fl.check_minimisable("calabi")
    fl.check_minimisable("sigma")
    with pytest.raises(InvalidInputError) as exc:
        fl.check_minimisable("perelman-eta", "flow")
    assert exc.value.argument == "flow" and "vanishing variation" in str(exc.value)
    with pytest.raises(InvalidInputError):
        fl.check_minimisable("no-such-functional")
