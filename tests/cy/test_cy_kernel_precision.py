"""The float32 option of the Gaussian-in-d kernel sums (issue 14, "Speed"): equal to the float64
reference within the bound derived in kernels.cloud_sums.float32_weight_error."""

import contextlib
import json

import numpy as np
import pytest

from metricflow import cy
from metricflow.errors import InvalidInputError
from metricflow.kernels.cloud_sums import U32, CloudKernel, FrameCache, _symmetric_total, _total, float32_weight_error
from metricflow.kernels.pointcloud import BLOCK, _unit
from metricflow.manifolds import PointCloud


@pytest.fixture(scope="module")
def cloud():
    return PointCloud.sample("fermat-quintic", 600, seed=7)


def _bound(K, dK, absflat, terms):
    """|Σ_j K̂_ij f̂_j − Σ_j K_ij f_j| for float32 weights K̂ (|K̂ − K| ≤ dK) and f̂ = fl32(f), summed
    by float32 products of ``terms`` terms (Higham: γ_terms) accumulated in float64: the weights'
    error, the rounding of f (u) and the product's (γ), plus 1e-10 of Σ K|f| for the float64
    reference itself (fs_distance_matrix: d to 1e-13 absolute, so K to 2d·1e-13/(2σ²) ≤ 1e-10
    relative for σ ≥ 0.05, and the float64 sums to ~1e-15)."""
    gamma = terms * U32 / (1 - terms * U32)
    return dK @ absflat + ((K + dK) @ absflat) * (U32 + gamma * (1 + U32)) + 1e-10 * (K @ absflat)


@pytest.mark.parametrize("sigma", [0.1, 0.3, 30.0])
def test_float32_sum_within_the_derived_bound(cloud, sigma):
    """The training sum by symmetric float32 tiles and the target sum by float32 blocks (then a
    float64 product) against the float64 reference on the stable distances; the error is really
    float32's (not zero) and under the bound, which stays small (≤ 3·10⁻⁴ of Σ K|f| at σ = 0.1)."""
    rng = np.random.default_rng(3)
    flat = rng.standard_normal((cloud.npoints, 25))
    ker = CloudKernel("gaussian", sigma=sigma, form="gaussian", precision="float32")
    frames = FrameCache(cloud)
    targets = _unit(cy.sample("fermat-quintic", 150, seed=8).points)
    for tu, got in [(_unit(cloud.points), _symmetric_total(ker, frames, ("tiles",), None, None)(flat)),
                    (targets, _total(ker, frames, ("rows",), targets, None, None, None)(flat))]:
        D = cy.fs_distance_matrix(tu, cloud.points)
        K = np.exp(-(D**2) / (2.0 * sigma**2))
        ref = K @ flat
        bound = _bound(K, float32_weight_error(D, sigma), np.abs(flat), BLOCK)
        err = np.abs(got - ref)
        assert np.all(err <= bound), np.max(err / bound)
        assert np.max(err) > 1e-9 * np.max(np.abs(ref))               # computed in float32 indeed
        scale = K @ np.abs(flat)
        assert np.max(bound / scale) < (3e-4 if sigma == 0.1 else 1e-4)


def test_float32_weight_error_is_an_upper_bound_of_the_blocks(cloud):
    """Pair by pair, the float32 blocks against exp(−d²/(2σ²)) on the stable float64 distances."""
    ker = CloudKernel("gaussian", sigma=0.2, form="gaussian", precision="float32")
    u = _unit(cloud.points)
    K32 = ker.weights(u, u)
    assert K32.dtype == np.float32
    D = cy.fs_distance_matrix(u)
    K = np.exp(-(D**2) / (2.0 * 0.2**2))
    # + 1e-10 K: the reference's own error (test above)
    assert np.all(np.abs(K32 - K) <= float32_weight_error(D, 0.2) + 1e-10 * K)


def test_float64_blocks_match_the_stable_distances(cloud):
    """The default (float64) blocks from the one real product cos 2d: float32_weight_error's
    analysis with u = 2⁻⁵³ gives ε ≈ 84 u ≈ 1e-14 and Δ ≈ ε/(4σ²) ≈ 2.3e-13 at σ = 0.1; the
    reference's own error is ≤ 2d·1e-13/(2σ²) ≤ 1.6e-11 relative (fs_distance_matrix: d to 1e-13)
    — hence 1e-10 (measured: 7e-14)."""
    u = _unit(cloud.points)
    K = CloudKernel("gaussian", sigma=0.1, form="gaussian").weights(u, u)
    ref = np.exp(-cy.fs_distance_matrix(u) ** 2 / (2.0 * 0.1**2))
    np.testing.assert_allclose(K, ref, rtol=1e-10, atol=1e-300)


@pytest.mark.parametrize("kw", [{"kind": "relu"}, {"kind": "gaussian", "form": "printed"}, {"kind": "gaussian"}])
def test_float32_only_for_the_gaussian_in_d(kw):
    with pytest.raises(InvalidInputError):
        CloudKernel(**kw, precision="float32")
    with pytest.raises(InvalidInputError):
        CloudKernel("gaussian", form="gaussian", precision="float16")


def test_float32_flow_equals_the_float64_flow():
    """Ten Gaussian-in-d steps with float32 blocks: each update differs from float64's by under
    the sum bound (≤ 3·10⁻⁴ of Σ K|f| at σ = 0.1, test above), a first-order change of each step's
    σ decrease of the same relative size; 1e-3 on the gains (measured: 1.2e-7 train, 9e-12 test)."""
    from metricflow.experiments.cy_kernels import run_kernel_flow

    kw = dict(n_train=150, n_test=30, steps=10, seed=1, form="gaussian", sigma=0.1)
    r64 = run_kernel_flow("gaussian", **kw)
    r32 = run_kernel_flow("gaussian", precision="float32", **kw)
    assert r32["precision"] == "float32" and r64["train_gain"] > 1.05
    for key in ("train_gain", "test_gain"):
        assert r32[key] == pytest.approx(r64[key], rel=1e-3), (key, r32[key] / r64[key] - 1)
    assert r32["train_gain"] != r64["train_gain"]                      # float32 blocks were used


def test_cli_precision(tmp_path, capsys):
    from metricflow.cli import main

    base = ["cy", "kernel-flow", "--kernel", "gaussian", "--n-train", "60", "--n-test", "20", "--steps", "1",
            "--out", str(tmp_path), "--json", "--precision", "float32"]
    with pytest.raises(SystemExit) as exc:
        main(base)                                                     # the printed (3.5): float64 only
    assert exc.value.code == 2 and "--precision" in capsys.readouterr().err
    with contextlib.suppress(SystemExit):
        main([*base, "--form", "gaussian", "--sigma", "0.1"])
    assert json.loads(capsys.readouterr().out)["precision"] == "float32"
