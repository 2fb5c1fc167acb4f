"""The Perelman realization: the cos-net velocity tends to −2(R + ∇∇f) as N → ∞ and σ → 0."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from metricflow._x64 import x64
from metricflow.cli import cli
from metricflow.errors import InvalidInputError
from metricflow.flows.realization import (
    _structure,
    perelman_check,
    perelman_density,
    realized_velocity,
    relative_error,
    smooth_metric,
)
from metricflow.manifolds import Torus


def test_tensor_rescaling_sums_to_the_symmetric_product_of_metrics():
    """Σ_P M^P_ij M^P_kl = ½(g_ik g_jl + g_il g_jk): the pairing of Perelman's gradient flow."""
    T = Torus(2, 8)
    g, _ = smooth_metric(T, amplitude=0.3, seed=4)
    M = _structure(g)
    lhs = np.einsum("...pij,...pkl->...ijkl", M, M)
    rhs = 0.5 * (np.einsum("...ik,...jl->...ijkl", g, g) + np.einsum("...il,...jk->...ijkl", g, g))
    np.testing.assert_allclose(lhs, rhs, atol=1e-14)


def test_infinite_width_velocity_tends_to_perelman_like_sigma_squared():
    T = Torus(2, 64)
    g, f = smooth_metric(T, seed=1)
    with x64():
        _, target = perelman_density(T, g, f)
        sigmas = np.array([0.2, 0.1, 0.05])
        errs = [relative_error(T, realized_velocity(T, g, f, sigma=s, width=None), target) for s in sigmas]
    slope = np.polyfit(np.log(sigmas), np.log(errs), 1)[0]
    assert 1.9 < slope < 2.1, (slope, errs)
    assert errs[-1] < 5e-3


def test_finite_width_velocity_tends_to_infinite_width_like_inverse_sqrt_width():
    """Monte Carlo over neurons: the error against the frozen kernel falls like N^(-1/2);
    three seeds per width, slope within ±0.15 of −1/2."""
    T = Torus(2, 48)
    g, f = smooth_metric(T, seed=2)
    widths = [1_000, 10_000, 100_000, 1_000_000]
    with x64():
        v_inf = realized_velocity(T, g, f, sigma=0.4, width=None)
        errs = [np.mean([relative_error(T, realized_velocity(T, g, f, sigma=0.4, width=w, seed=s), v_inf)
                         for s in range(3)]) for w in widths]
    slope = np.polyfit(np.log(widths), np.log(errs), 1)[0]
    assert -0.65 < slope < -0.35, (slope, errs)


def test_same_seed_same_network():
    T = Torus(2, 48)
    g, f = smooth_metric(T)
    with x64():
        a = realized_velocity(T, g, f, sigma=0.4, width=1000, seed=5)
        b = realized_velocity(T, g, f, sigma=0.4, width=1000, seed=5)
    np.testing.assert_array_equal(a, b)


def test_bad_arguments():
    T = Torus(2, 16)
    g, f = smooth_metric(T)
    with x64():
        with pytest.raises(InvalidInputError, match="aliases"):
            realized_velocity(T, g, f, sigma=0.2, width=100)
        with pytest.raises(InvalidInputError, match="sigma"):
            realized_velocity(T, g, f, sigma=0.0, width=None)
        with pytest.raises(InvalidInputError, match="width"):
            realized_velocity(T, g, f, sigma=1.0, width=0)


def test_perelman_check_small_settings_json_keys():
    doc = perelman_check(2, widths=(1000, 10000), sigma_for_widths=0.4, sigmas=(0.8, 0.4),
                         width_for_sigmas=10000, finest=(0.3, 100000), seeds=1)
    assert {"rows", "width_slope", "sigma_slope"} <= set(doc)
    assert all({"width", "sigma", "rel_error"} <= set(r) for r in doc["rows"])


@pytest.mark.slow
def test_perelman_check_cli_default_meets_the_bar(tmp_path):
    result = CliRunner().invoke(cli, ["perelman-check", "--dim", "2", "--json", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.output)
    assert doc["finest"]["rel_error"] < 1e-2
    assert -0.65 < doc["width_slope"] < -0.35 and 1.8 < doc["sigma_slope"] < 2.2
