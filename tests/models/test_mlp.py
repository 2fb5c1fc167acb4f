"""Fully connected networks (metricflow.models.mlp) and their analytic NTK."""

import jax
import numpy as np
import pytest

from metricflow._x64 import x64
from metricflow.errors import InvalidInputError
from metricflow.models.mlp import init_params, mlp

# N^(-1/2) predicts 0.1 between widths 100 and 10^4 (0.125 between 16 and 1024); 4-seed
# means fluctuate by about a factor 2 (measured 0.04-0.2); 0.3 excludes N^(-1/4).
RATIO = 0.3


@pytest.mark.parametrize("activation, depth", [("relu", 1), ("erf", 2), ("gelu", 3)])
def test_shapes_and_seeds(check_shapes_and_seeds, activation, depth):
    check_shapes_and_seeds(mlp(activation, depth, 1.3, 0.2), 3)


@pytest.mark.parametrize("activation, depth, widths", [("relu", 1, (100, 10_000)), ("erf", 2, (16, 1024)),
                                                       ("gelu", 2, (16, 1024))])
def test_ntk_tends_to_the_analytic_kernel(ntk_errors, activation, depth, widths):
    x = np.random.default_rng(0).normal(size=(6, 2))
    small, large = ntk_errors(mlp(activation, depth), x, widths)
    assert large < RATIO * small


def test_every_parameter_trains_and_bad_widths_are_refused():
    with x64():
        params, frozen = mlp("relu", 2).init(jax.random.PRNGKey(0), 3, 5, n_out=2)
    assert frozen == {}
    assert [p["W"].shape for p in params] == [(3, 5), (5, 5), (5, 2)]
    with pytest.raises(InvalidInputError) as exc:
        mlp().init(jax.random.PRNGKey(0), 3, 0)
    assert exc.value.argument == "width"
    with pytest.raises(InvalidInputError):
        init_params(jax.random.PRNGKey(0), 3, 4, depth=-1)
