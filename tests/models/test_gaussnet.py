"""The Gauss-net (metricflow.models.gaussnet) and its Gaussian NTK."""

import numpy as np

from metricflow.models.gaussnet import gaussnet

# N^(-1/2): ratio 0.1 between widths 100 and 10^4 (measured 0.15-0.16 for 4-seed means;
# the log-normal features converge late), 0.3 excludes N^(-1/4) and slower.
RATIO = 0.3


def test_shapes_and_seeds(check_shapes_and_seeds):
    check_shapes_and_seeds(gaussnet(), 3)


def test_ntk_tends_to_the_normalised_gaussian(ntk_errors):
    """σ_b = 0.1: the fluctuations grow like exp(σ_b²) (docs/ntk.md)."""
    x = np.random.default_rng(0).normal(size=(6, 2))
    small, large = ntk_errors(gaussnet(sigma_b=0.1), x, (100, 10_000))
    assert large < RATIO * small
