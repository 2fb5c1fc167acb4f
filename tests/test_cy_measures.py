"""kappa (B.10), sigma (B.11) and their Monte Carlo errors."""

import numpy as np
import pytest

from metricflow.cy import line_mean, sample, sigma, transform_metric
from metricflow.cy.sampling import point_geometry
from metricflow.errors import InvalidInputError


def test_flat_metric_on_cubic_curve_has_sigma_zero_through_a_chart_change():
    """The exact CY metric of an elliptic curve is g = const |Omega|^2 (J = kappa |Omega|^2
    in one dimension).  Written in the single chart (0, 1) and carried to each point's
    own chart by T = dx/dx' (g -> |T|^2 g), it must give sigma = 0 up to round-off:
    this checks the chart transitions against the Poincare residue in every chart."""
    ps = sample("cubic-curve", 3000, seed=1)
    fixed = point_geometry(ps.surface, ps.points, chart=(0, 1))
    # own chart -> (0,1): g' = |T|^2 g; so (0,1) -> own is division by |T|^2
    from metricflow.cy.sampling import chart_transition

    T = chart_transition(ps, (0, 1))[:, 0, 0]
    g_own = (fixed["omega2"] / np.abs(T) ** 2)[:, None, None]
    res = sigma(ps, g_own)
    assert res["sigma"] < 1e-12, res  # round-off only
    assert sigma(ps, "flat")["sigma"] == 0.0
    # and transform_metric agrees with the scalar formula
    back = transform_metric(ps, g_own, (0, 1))[:, 0, 0].real
    assert np.allclose(back, fixed["omega2"], rtol=1e-10)


def test_sigma_invariant_under_scaling_kappa_scales():
    ps = sample("fermat-quintic", 2000, seed=0)
    a = sigma(ps, "fs")
    b = sigma(ps, 3.0 * ps.g_fs)
    assert b["sigma"] == pytest.approx(a["sigma"], rel=1e-12)
    assert b["kappa"] == pytest.approx(27.0 * a["kappa"], rel=1e-12)  # det scales as 3^3
    assert a["volume"] == pytest.approx(ps.surface.fs_volume(), rel=1e-14)


def test_sigma_fs_of_fermat_quintic_and_error_calibration():
    """sigma_FS of the Fermat quintic from independent samples: the spread of the
    estimates matches the reported jackknife standard error (ratio within [0.5, 2]
    for 8 samples: the chi distribution with 7 degrees of freedom lies there with
    probability > 0.99), and all estimates agree with the large-sample value."""
    vals, errs = [], []
    for seed in range(8):
        r = sigma(sample("fermat-quintic", 4000, seed=100 + seed))
        vals.append(r["sigma"])
        errs.append(r["sigma_stderr"])
    ratio = np.std(vals, ddof=1) / np.mean(errs)
    assert 0.5 < ratio < 2.0, (vals, errs)
    big = sigma(sample("fermat-quintic", 60000, seed=1))
    tol = 4 * np.sqrt(np.mean(errs) ** 2 / 8 + big["sigma_stderr"] ** 2)
    assert abs(np.mean(vals) - big["sigma"]) < tol


def test_line_mean_errors():
    rng = np.random.default_rng(0)
    v = rng.standard_normal(10000)
    m, e = line_mean(v, np.arange(10000))
    assert e == pytest.approx(1 / 100, rel=0.05)  # iid: sigma/sqrt(N), 5% ~ 3.5 sd of s.e.
    # perfectly correlated pairs double the variance of the mean
    w = np.repeat(rng.standard_normal(5000), 2)
    m2, e2 = line_mean(w, np.repeat(np.arange(5000), 2))
    assert e2 == pytest.approx(np.sqrt(1 / 5000), rel=0.05)


def test_bad_metric_arguments():
    ps = sample("fermat-quintic", 50, seed=0)
    with pytest.raises(InvalidInputError) as exc:
        sigma(ps, "nope")
    assert exc.value.argument == "metric"
    with pytest.raises(InvalidInputError):
        sigma(ps, "flat")
    with pytest.raises(InvalidInputError):
        sigma(ps, np.zeros((3, 3, 3)))
