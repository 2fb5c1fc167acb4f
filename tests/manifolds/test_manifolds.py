"""The Manifold contract, checked on every implementation: quadrature of constants,
positive weights, reference metric and volume form, settings, and jets (or their refusal)."""

import math

import numpy as np
import pytest

from metricflow import cy
from metricflow.errors import InvalidInputError
from metricflow.manifolds import Manifold, PointCloud, Sphere, Torus


@pytest.fixture(scope="module")
def cloud():
    return PointCloud.sample("fermat-quintic", n=400, seed=3)


def _all(cloud):
    return [Torus(1, 8), Torus(2, 8), Torus(3, 6), Sphere(6), Sphere(5, nlat=8, nlon=13), cloud]


# exact total volumes: (2π)^d for T^d, 4π for S², Vol_FS = 5π³/6 for the quintic
def _volume(M):
    if isinstance(M, Torus):
        return (2 * np.pi) ** M.dim
    if isinstance(M, Sphere):
        return 4 * np.pi
    return M.surface.fs_volume()


def test_the_contract_holds_on_every_manifold(cloud):
    for M in _all(cloud):
        assert isinstance(M, Manifold)
        w = np.asarray(M.weights)
        assert w.shape == M.shape and np.all(w > 0) and M.npoints == int(np.prod(M.shape))
        # a constant integrates to the volume: exact quadrature for constants on the grids;
        # on the point cloud the weights Vol_FS/N sum to Vol_FS by construction (N terms,
        # round-off ~N ε relative)
        assert abs(M.integrate(np.ones(M.shape)) - _volume(M)) < 1e-12 * _volume(M)
        ref, vol = M.reference_metric(), M.volume_form()
        assert ref.shape[: len(M.shape)] == M.shape and vol.shape == M.shape
        assert np.all(np.linalg.eigvalsh(ref) > 0)
        det = np.real(np.linalg.det(ref))
        # the volume density of the reference metric: √det g (Riemannian), det g (Kähler, docs/cy.md)
        np.testing.assert_allclose(vol, det if isinstance(M, PointCloud) else np.sqrt(det), rtol=1e-12)
        s = M.settings()
        assert s["manifold"] == M.name and s == json_round_trip(s)


def json_round_trip(d):
    import json

    return json.loads(json.dumps(d))


def test_jets_exist_on_the_torus_and_are_refused_where_there_are_none(cloud):
    T = Torus(2, 8)
    f = np.sin(T.points[..., 0])[..., None]
    F, dF, ddF = T.jets(f)
    np.testing.assert_allclose(dF[..., 0, 0], np.cos(T.points[..., 0]), atol=1e-13)
    with pytest.raises(InvalidInputError, match="no derivatives; models supply their derivatives by autodiff"):
        cloud.jets(np.asarray(cloud.reference_metric()))
    with pytest.raises(InvalidInputError, match="conformal factor"):
        Sphere(6).jets(np.zeros(Sphere(6).shape))


def test_point_cloud_measures_agree_with_cy(cloud):
    """∫|Ω|² through omega_weights is PointSet.volume_omega; κ_FS = Vol_FS/∫|Ω|² (B.10)."""
    ps = cloud.pointset
    assert cloud.integrate_omega(np.ones(cloud.shape)) == pytest.approx(ps.volume_omega()[0], rel=1e-13)
    assert cloud.integrate(np.ones(cloud.shape)) / cloud.integrate_omega(np.ones(cloud.shape)) == pytest.approx(
        ps.kappa_fs(), rel=1e-13)
    assert cy.sigma(ps)["volume_omega"] == pytest.approx(cloud.integrate_omega(np.ones(cloud.shape)), rel=1e-13)
    # the FS integral of a function: E[f] Vol_FS, e.g. f = |z_0|²/|z|² has mean 1/5 by symmetry
    # of the Fermat quintic under permutations; Monte Carlo error ~0.2/√(N/5) at 400 points
    z = cloud.points
    f = np.abs(z[:, 0]) ** 2 / np.sum(np.abs(z) ** 2, axis=1)
    assert abs(cloud.integrate(f) / _volume(cloud) - 0.2) < 0.05
    assert cloud.name == "quintic" and cloud.dim == 3 and cloud.settings()["n_points"] == 400


def test_point_cloud_refusals():
    with pytest.raises(InvalidInputError, match="PointSet"):
        PointCloud(np.zeros((3, 5)))
    with pytest.raises(InvalidInputError) as exc:
        PointCloud.sample(n=10**9)
    assert exc.value.argument == "n_points"
    assert math.isfinite(PointCloud.sample("cubic-curve", n=30, seed=0).integrate(np.ones(30)))
