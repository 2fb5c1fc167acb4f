"""Shared checks of the (init, apply, kernel) triples of metricflow.models."""

import jax
import numpy as np
import pytest

from metricflow._x64 import x64
from metricflow.kernels.empirical import empirical_ntk


def _ntk_error(model, x, width, seed):
    params, frozen = model.init(jax.random.PRNGKey(seed), x.shape[1], width)
    theta = empirical_ntk(model.apply, params, x, frozen=frozen)[0, 0]
    exact = model.kernel(x)
    return float(np.linalg.norm(theta - exact) / np.linalg.norm(exact))


@pytest.fixture
def ntk_errors():
    """``ntk_errors(model, x, widths, seeds)``: the mean over ``seeds`` draws of the relative
    Frobenius error of the empirical NTK (eq. 2.7) against ``model.kernel`` (eq. 2.9), per width."""

    def run(model, x, widths, seeds=4):
        return [float(np.mean([_ntk_error(model, x, w, s) for s in range(seeds)])) for w in widths]

    return run


def _shapes_and_seeds(model, d_in, width=7, n_out=3):
    """init/apply shapes at a point and on a batch, the kernel's shape and symmetry, and
    determinism by seed (the same key gives the same network, another key another)."""
    x = np.random.default_rng(0).normal(size=(4, d_in))
    with x64():
        params, frozen = model.init(jax.random.PRNGKey(1), d_in, width, n_out=n_out)
        assert np.asarray(model.apply(params, x[0], frozen)).shape == (n_out,)
        out = np.asarray(model.apply(params, x, frozen))
        assert out.shape == (4, n_out)
        np.testing.assert_allclose(out[2], np.asarray(model.apply(params, x[2], frozen)), rtol=1e-13, atol=1e-13)
        again = model.init(jax.random.PRNGKey(1), d_in, width, n_out=n_out)
        other = model.init(jax.random.PRNGKey(2), d_in, width, n_out=n_out)
        other_out = np.asarray(model.apply(other[0], x, other[1]))
    same = [np.array_equal(a, b) for a, b in zip(jax.tree_util.tree_leaves((params, frozen)),
                                                 jax.tree_util.tree_leaves(again), strict=True)]
    assert all(same)
    assert not np.array_equal(out, other_out)
    k = model.kernel(x)
    assert k.shape == (4, 4)
    np.testing.assert_allclose(k, k.T, rtol=1e-12, atol=1e-14)
    assert model.kernel(x[:2], x).shape == (2, 4)


@pytest.fixture
def check_shapes_and_seeds():
    """``check_shapes_and_seeds(model, d_in)``: see :func:`_shapes_and_seeds`."""
    return _shapes_and_seeds
