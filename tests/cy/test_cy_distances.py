"""FS distance (3.2), stably near 0; exact nearest neighbours; the (3.6) experiment."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metricflow.cy import (
    fs_distance,
    fs_distance_matrix,
    nearest_neighbours,
    nn_distance_scaling,
    projector_embedding,
    sample,
)
from metricflow.errors import InvalidInputError


def _frame(seed, n1=5):
    """Orthonormal u, v (v perpendicular to u) from a seeded QR."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((n1, 2)) + 1j * rng.standard_normal((n1, 2))
    Q, _ = np.linalg.qr(A)
    return Q[:, 0], Q[:, 1]


@pytest.mark.parametrize("t", [1e-7, 1e-9, 1e-12, 1e-3, 0.5, np.pi / 2 - 1e-9])
def test_distance_exact_on_a_geodesic(t):
    """z' = cos t u + sin t v with v orthogonal to u lies at FS distance exactly t.
    Relative error 1e-8 (round-off of the inputs, ~1e-16/t for t near 0 is 1e-9)."""
    u, v = _frame(1)
    lam = 2.5 * np.exp(0.7j)  # projective: any rescaling
    d = fs_distance(lam * u, (np.cos(t) * u + np.sin(t) * v) * np.exp(-1.1j))
    assert d == pytest.approx(t, rel=1e-8)


def test_printed_formula_loses_precision_near_zero():
    """Eq. (3.2) as printed (arccos of the overlap) cannot resolve 1e-7 (eq. 3.4)."""
    u, v = _frame(2)
    t = 1e-7
    w = np.cos(t) * u + np.sin(t) * v
    overlap2 = abs(np.vdot(u, w)) ** 2 / (np.vdot(u, u).real * np.vdot(w, w).real)
    naive = np.arccos(min(1.0, np.sqrt(overlap2)))
    assert abs(naive - t) / t > 1e-3  # what the stable formula fixes
    assert fs_distance(u, w) == pytest.approx(t, rel=1e-8)


@given(st.integers(0, 10_000))
def test_distance_is_a_metric_on_projective_space(seed):
    rng = np.random.default_rng(seed)
    z = rng.standard_normal((3, 4)) + 1j * rng.standard_normal((3, 4))
    a, b, c = z
    dab, dbc, dac = fs_distance(a, b), fs_distance(b, c), fs_distance(a, c)
    assert 0 <= dab <= np.pi / 2 + 1e-15
    assert dab == pytest.approx(fs_distance(b, a), abs=1e-15)
    assert dac <= dab + dbc + 1e-12
    assert fs_distance(a, (1 - 2j) * a) < 1e-7  # same projective point
    ref = np.arccos(min(1.0, abs(np.vdot(a, b)) / np.linalg.norm(a) / np.linalg.norm(b)))
    assert dab == pytest.approx(ref, abs=1e-7)  # agrees with (3.2) away from 0


@pytest.mark.parametrize("poly,n", [("fermat-quintic", 1500), ("cubic-curve", 800),
                                    ("quartic-k3", 1000)])
def test_nearest_neighbours_exact_vs_brute_force(poly, n):
    z = sample(poly, n, seed=4).points
    d, idx = nearest_neighbours(z)
    D = fs_distance_matrix(z)
    np.fill_diagonal(D, np.inf)
    # the matrix uses arccos of the overlap away from 0: error <~ 1e-16/sin d < 1e-13
    assert np.allclose(d, D.min(axis=1), rtol=0, atol=1e-13)
    assert np.allclose(D[np.arange(n), idx], d, atol=1e-13)


def test_distance_matrix_matches_pairwise_stable_formula():
    z = sample("fermat-quintic", 300, seed=5).points
    z = np.vstack([z, z[:3] * 1.5j, z[3:6] + 1e-9])  # exact and near duplicates
    D = fs_distance_matrix(z)
    ref = fs_distance(z[:, None, :], z[None, :, :])
    assert np.allclose(D, ref, rtol=0, atol=1e-13)
    assert D[0, 300] < 1e-7 and 0 < D[3, 303] < 1e-7


def test_nearest_neighbours_with_duplicates():
    z = sample("fermat-quintic", 300, seed=1).points
    z = np.vstack([z, z[:5] * (2 - 1j)])
    d, idx = nearest_neighbours(z)
    assert np.all(d[:5] < 1e-7) and np.all(d[-5:] < 1e-7)


def test_nn_scaling_rows_and_fit():
    res = nn_distance_scaling([200, 400, 800], seed=0)
    assert [r["n"] for r in res["rows"]] == [200, 400, 800]
    for r in res["rows"]:
        assert 0 < r["min"] <= r["mean"] <= r["max"] <= np.pi / 2
    # more points, closer neighbours; a 6-dimensional manifold: exponent near -1/6
    assert res["rows"][0]["mean"] > res["rows"][-1]["mean"]
    assert -0.35 < res["exponent"] < -0.1
    fit = res["prefactor"] * np.array([200, 400, 800]) ** res["exponent"]
    assert np.allclose(fit, [r["mean"] for r in res["rows"]], rtol=0.05)


def test_nn_scaling_in_one_chart_is_denser():
    """Rejection-sampled into one of the 20 charts, N points fill ~1/20 of the quintic:
    nearest neighbours are closer than for N points spread over all of it."""
    a = nn_distance_scaling([300], seed=3)
    b = nn_distance_scaling([300], seed=3, chart=(0, 1))
    assert b["chart"] == [0, 1] and b["exponent"] is None
    assert b["rows"][0]["mean"] < 0.9 * a["rows"][0]["mean"]


def _near_copies(z, t, seed):
    """Copies of the points z moved along a geodesic by exactly t (FS distance)."""
    rng = np.random.default_rng(seed)
    u = z / np.linalg.norm(z, axis=1, keepdims=True)
    v = rng.standard_normal(u.shape) + 1j * rng.standard_normal(u.shape)
    v -= np.sum(np.conj(u) * v, axis=1, keepdims=True) * u
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return (np.cos(t) * u + np.sin(t) * v) * np.exp(1j * rng.uniform(0, 6, (len(z), 1)))


def test_projector_embedding_distance_is_sqrt2_sin_d():
    z = sample("fermat-quintic", 200, seed=2).points
    w = np.vstack([z[1:], z[:1]]) * (0.3 - 2j)
    X, Y = projector_embedding(z), projector_embedding(w)
    assert X.shape == (200, 25)
    assert np.allclose(np.linalg.norm(X, axis=1), 1.0, atol=1e-14)
    assert np.allclose(np.linalg.norm(X - Y, axis=1), np.sqrt(2) * np.sin(fs_distance(z, w)),
                       rtol=0, atol=1e-14)


def test_nearest_neighbours_exact_with_near_duplicates():
    """6,000 quintic points and 300 copies at 1e-7 rad (and 20 at 1e-9): the exact
    neighbours of a brute force over all pairs, distances to 1e-13 (matrix) and the
    tiny ones to relative 1e-6."""
    z = sample("fermat-quintic", 6000, seed=8).points
    z = np.vstack([z, _near_copies(z[:300], 1e-7, 1), _near_copies(z[300:320], 1e-9, 2)])
    n = len(z)
    d, idx = nearest_neighbours(z)
    D = fs_distance_matrix(z)
    np.fill_diagonal(D, np.inf)
    assert np.allclose(d, D.min(axis=1), rtol=0, atol=1e-13)
    assert np.allclose(fs_distance(z, z[idx]), d, rtol=1e-9, atol=1e-15)
    assert np.array_equal(idx[:320], np.arange(6000, 6320))
    assert np.array_equal(idx[6000:], np.arange(320))
    assert np.allclose(d[:300], 1e-7, rtol=1e-6) and np.allclose(d[300:320], 1e-9, rtol=1e-5)
    unique = np.sort(D, axis=1)[:, 1] > D.min(axis=1) * (1 + 1e-9)
    assert np.array_equal(idx[unique], np.argmin(D, axis=1)[unique])
    assert unique.sum() > 0.99 * n


@settings(deadline=None)  # the profile's count (25 by default, 300 thorough)
@given(st.integers(2, 5), st.integers(2, 400), st.integers(1, 6), st.integers(2, 60),
       st.integers(0, 2**31 - 1))
def test_nearest_neighbours_matches_brute_force_any_cells(n1, n, fine, coarse, seed):
    """Random clustered points in P^{n1-1}, any cell sizes: the distances of brute force."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((max(1, n // 10), n1)) + 1j * rng.standard_normal((max(1, n // 10), n1))
    z = centres[rng.integers(0, len(centres), n)]
    z = z + rng.uniform(0, 0.3) * (rng.standard_normal((n, n1)) + 1j * rng.standard_normal((n, n1)))
    z[: n // 7] = z[n - n // 7 :] * (1 + 1j)  # exact duplicates
    d, idx = nearest_neighbours(z, seed=seed % 7, fine=fine, coarse=coarse)
    D = fs_distance_matrix(z)
    np.fill_diagonal(D, np.inf)
    assert np.all(idx != np.arange(n))
    assert np.allclose(d, D.min(axis=1), rtol=0, atol=1e-12)


@pytest.mark.parametrize("z,kw,arg", [
    (np.ones((1, 5)), {}, "points"),
    (np.ones(5), {}, "points"),
    (np.array([[1, 0], [np.nan, 1]]), {}, "points"),
    (np.array([[1, 0], [0, 0]]), {}, "points"),
    (np.eye(3), {"fine": 0}, "fine"),
    (np.eye(3), {"coarse": 2.5}, "coarse"),
])
def test_nearest_neighbours_bad_input(z, kw, arg):
    with pytest.raises(InvalidInputError) as e:
        nearest_neighbours(z, **kw)
    assert e.value.argument == arg
