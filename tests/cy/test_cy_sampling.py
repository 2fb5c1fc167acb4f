"""Sampling, per-point geometry, charts, and the sampling measure, checked independently."""

import math

import numpy as np
import pytest
from scipy import integrate
from scipy.special import gamma

from metricflow.cy import (
    hypersurface,
    in_chart,
    line_mean,
    load,
    point_geometry,
    sample,
    sample_in_chart,
    save,
    transform_metric,
)
from metricflow.cy.sampling import chart_transition, polynomial_roots
from metricflow.errors import InvalidInputError, NumericalError

POLYS = ["fermat-quintic", "dwork:0.5", "quartic-k3", "cubic-curve",
         "z0**5 + 2*z1**5 + z2**5 + (1+0.5*I)*z3**5 + z4**5 - 0.7*z0**2*z1*z2*z4 + 0.3*z1**3*z3**2"]
EPS = np.finfo(np.float64).eps


@pytest.mark.parametrize("poly", POLYS)
def test_points_on_hypersurface_and_geometry_consistent(poly):
    ps = sample(poly, 600, seed=3)
    X = ps.surface
    z = ps.points
    # round-off: |P| relative to the size of its terms; Aberth stops at corrections 1e-8
    # relative, after which the cubic convergence leaves errors ~1e-16
    scale = np.abs(X.coefficients).sum()
    assert np.max(np.abs(X.evaluate(z))) / scale < 1e-12
    ar = np.arange(len(ps))
    assert np.allclose(z[ar, ps.patch], 1.0)
    # the patch has the largest |z_i|: |z_i| = |w_i / w_p| <= 1 up to one division and one abs
    assert np.all(np.abs(z) <= 1.0 + 4 * EPS)
    grad = X.gradient(z)
    ag = np.abs(grad)
    ag[ar, ps.patch] = -1
    assert np.array_equal(ps.elim, np.argmax(ag, axis=1))  # smallest |Omega|^2
    assert np.allclose(ps.omega2, 1 / np.abs(grad[ar, ps.elim]) ** 2, rtol=1e-13)
    assert np.allclose(ps.omega, 1 / grad[ar, ps.elim], rtol=1e-13)
    assert np.all(ps.det_g_fs > 0)
    # stored as this very division (correctly rounded), so equal to within one rounding
    assert np.allclose(ps.weights, ps.omega2 / ps.det_g_fs, rtol=4 * EPS, atol=0)


def test_deterministic_in_seed():
    a, b = sample("quartic-k3", 300, 7), sample("quartic-k3", 300, 7)
    c = sample("quartic-k3", 300, 8)
    assert np.array_equal(a.points, b.points)
    assert not np.allclose(a.points, c.points)


def _embedding(X, z0, p, e, coords):
    """x -> z(x) in chart (p, e): z_p = 1, z_c = x, z_e by Newton from z0 (independent)."""

    def f(x):
        z = z0.copy()
        z[list(coords)] = x
        for _ in range(30):  # quadratic convergence: stop one step after |step| < 1e-12
            step = X.evaluate(z) / X.gradient(z)[e]
            z[e] -= step
            if abs(step) < 1e-12:
                z[e] -= X.evaluate(z) / X.gradient(z)[e]
                break
        return z

    return f


def _second_difference(f, x0, u, v, h):
    """Central second difference of K(x) = ln|z(x)|^2 along the steps u and v."""
    K = lambda x: math.log(np.sum(np.abs(f(x)) ** 2))
    return (K(x0 + u + v) - K(x0 + u - v) - K(x0 - u + v) + K(x0 - u - v)) / (4 * h * h)


@pytest.mark.parametrize("poly", ["dwork:0.5", "cubic-curve"])
def test_jacobian_and_fs_metric_by_finite_differences(poly):
    """J = dz/dx and g_{a bbar} = d_a dbar_b ln|z(x)|^2 by central differences.

    Tolerance 1e-6: truncation O(h^2) ~ 1e-8 with h = 1e-4, round-off ~ eps/h^2 ~ 1e-8."""
    ps = sample(poly, 8, seed=11)
    X = ps.surface
    J = ps.jacobian
    h = 1e-4
    for q in range(2):
        p, e, c = int(ps.patch[q]), int(ps.elim[q]), ps.coords[q]
        f = _embedding(X, ps.points[q].copy(), p, e, c)
        x0 = ps.points[q][list(c)]
        k = len(c)
        for a in range(k):
            dx = np.zeros(k, complex)
            dx[a] = h
            jfd = (f(x0 + dx) - f(x0 - dx)) / (2 * h)
            assert np.allclose(jfd, J[q, :, a], atol=1e-7)
        g = np.zeros((k, k), complex)
        for a in range(k):
            for b in range(k):
                d2 = lambda u, v, f=f, x0=x0: _second_difference(f, x0, u, v, h)
                ea = np.zeros(k, complex)
                ea[a] = h
                eb = np.zeros(k, complex)
                eb[b] = h
                ss, tt = d2(ea, eb), d2(1j * ea, 1j * eb)
                st, ts = d2(ea, 1j * eb), d2(1j * ea, eb)
                g[a, b] = 0.25 * (ss + tt + 1j * (st - ts))
        assert np.allclose(g, ps.g_fs[q], atol=1e-6), (g, ps.g_fs[q])


def test_chart_transition_of_fs_metric_and_omega():
    """The FS pull-back written in another chart by T = dx/dx' equals the pull-back
    computed directly there, and |Omega'|^2 = |Omega|^2 |det T|^2 (Poincare residue)."""
    ps = sample("fermat-quintic", 400, seed=5)
    for chart in [(0, 1), (3, 2), (4, 0)]:
        other = point_geometry(ps.surface, ps.points, chart=chart)
        g2 = transform_metric(ps, ps.g_fs, chart)
        assert np.allclose(g2, other["g_fs"], rtol=1e-9, atol=1e-12 * np.abs(other["g_fs"]).max())
        T = chart_transition(ps, chart)
        detT = np.linalg.det(T)
        assert np.allclose(other["omega2"], ps.omega2 * np.abs(detT) ** 2, rtol=1e-9)


def test_rejection_sampling_into_one_chart():
    ps = sample_in_chart("fermat-quintic", 150, seed=1, chart=(2, 4))
    assert len(ps) == 150
    assert np.all(ps.patch == 2) and np.all(ps.elim == 4)
    full = sample("fermat-quintic", 2000, seed=1)
    sub = in_chart(full, (2, 4))
    # each of the 20 charts of the symmetric Fermat quintic holds ~1/20 of the points
    assert abs(len(sub) / 2000 - 1 / 20) < 4 * math.sqrt(0.05 * 0.95 / 2000) * 2.3
    with pytest.raises(InvalidInputError, match="chart"):
        sample_in_chart("fermat-quintic", 10, chart=(1, 1))


def test_cubic_curve_omega_volume_exact():
    """int |Omega|^2 over the Fermat cubic, with Omega = dx/(dP/dy), equals
    (1/9) int |u|^(-4/3) |1+u|^(-4/3) d^2u = (pi/9) (Gamma(1/3)/Gamma(2/3))^3
    (substitute u = x^3 and use the complex beta integral).  Monte Carlo agreement
    within 4 standard errors (errors clustered by line)."""
    exact = math.pi / 9 * (gamma(1 / 3) / gamma(2 / 3)) ** 3
    ps = sample("cubic-curve", 20000, seed=2)
    vol, err = ps.volume_omega()
    assert abs(vol - exact) < 4 * err, (vol, err, exact)
    assert err / exact < 0.01


def test_sampling_measure_is_fubini_study_on_the_cubic():
    """P(|z0| < |z2|/2) from the sampler vs the FS volume of that region, computed
    independently: x = z0/z2, y^3 = -1 - x^3, density (|Z|^2|Z'|^2 - |<Z',Z>|^2)/|Z|^4
    of Z = (x, y, 1), integrated by scipy quadrature, over Vol = 3 pi."""
    def rho(r, th):
        x = r * np.exp(1j * th)
        y = (-1 - x**3 + 0j) ** (1 / 3)
        dy = -(x**2) / y**2
        Z = np.array([x, y, 1])
        dZ = np.array([1, dy, 0])
        n2 = np.sum(np.abs(Z) ** 2)
        return (n2 * np.sum(np.abs(dZ) ** 2) - abs(np.sum(dZ * np.conj(Z))) ** 2) / n2**2 * r

    prob = 3 * integrate.dblquad(rho, 0, 2 * np.pi, 0, 0.5, epsabs=1e-11)[0] / (3 * math.pi)
    ps = sample("cubic-curve", 30000, seed=4)
    ind = (np.abs(ps.points[:, 0]) < 0.5 * np.abs(ps.points[:, 2])).astype(float)
    mean, err = line_mean(ind, ps.line)
    assert abs(mean - prob) < 4 * err, (mean, err, prob)


def test_roots_match_numpy():
    rng = np.random.default_rng(0)
    coef = rng.standard_normal((50, 6)) + 1j * rng.standard_normal((50, 6))
    ours = polynomial_roots(coef)
    for c, r in zip(coef, ours, strict=True):
        ref = np.roots(c[::-1])
        # every reference root is matched to 1e-10 (conditioning of random quintics)
        assert np.all(np.min(np.abs(ref[:, None] - r[None, :]), axis=1) < 1e-10)


def test_save_load_roundtrip_and_errors(tmp_path):
    ps = sample("quartic-k3", 200, seed=9)
    f = save(ps, tmp_path / "k3.npz")
    back = load(f, poly="quartic-k3")
    assert np.array_equal(back.points, ps.points) and np.array_equal(back.g_fs, ps.g_fs)
    assert back.meta["seed"] == 9 and back.surface.name == "quartic-k3"
    with pytest.raises(InvalidInputError, match="holds points on"):
        load(f, poly="fermat-quintic")
    with pytest.raises(InvalidInputError, match="no such file") as exc:
        load(tmp_path / "missing.npz")
    assert exc.value.argument == "points"
    (tmp_path / "text.npz").write_text("not an npz")
    with pytest.raises(InvalidInputError, match="cannot read"):
        load(tmp_path / "text.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(InvalidInputError, match="not a metricflow point set"):
        load(tmp_path / "other.npz")
    with np.load(f) as data:
        d = {k: data[k] for k in data.files}
    bad = dict(d, weights=d["weights"][:-1])
    np.savez(tmp_path / "short.npz", **bad)
    with pytest.raises(InvalidInputError, match="inconsistent"):
        load(tmp_path / "short.npz")
    pts = d["points"].copy()
    pts[:, 0] *= 1.01
    moved = dict(d, points=pts)
    np.savez(tmp_path / "moved.npz", **moved)
    with pytest.raises(InvalidInputError, match="do not satisfy"):
        load(tmp_path / "moved.npz")


def test_bad_arguments():
    with pytest.raises(InvalidInputError) as exc:
        sample("fermat-quintic", 0)
    assert exc.value.argument == "n"
    with pytest.raises(InvalidInputError) as exc:
        sample("fermat-quintic", 10, seed=-1)
    assert exc.value.argument == "seed"
    with pytest.raises(InvalidInputError):
        sample("dwork:1", 10)


def test_nearly_singular_member_is_reported():
    # psi^5 = 1 + 1e-13: passes the exact test's tolerance 1e-10? no -> refused up front
    with pytest.raises((InvalidInputError, NumericalError)):
        sample(hypersurface("dwork:1.00000000000002"), 1000, seed=0)
