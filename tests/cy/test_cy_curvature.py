"""Curvature of algebraic metrics on hypersurfaces: Euler characteristics by Chern-Weil."""

import json

import numpy as np
import pytest

from metricflow import cy
from metricflow.cy.algebraic import AlgebraicMetric, save_metric
from metricflow.cy.curvature import (
    chern_curvature,
    curvature_report,
    metric_jets,
    pointwise_curvature,
    top_chern_density,
)
from metricflow.cy.sections import section_basis


def test_conic_is_a_round_sphere_with_chi_two():
    """A smooth conic is P^1 embedded by degree 2: its FS metric is round (constant curvature),
    so the c_1 density over det g is constant and chi = 2 at every sample size: a sign and
    normalisation check (pi^{-n}, i/2pi) that a Calabi-Yau (chi = 0 for a curve) cannot give."""
    ps = cy.sample("z0**2 + z1**2 + z2**2", 400, seed=1)
    res = curvature_report("fs", ps)
    assert res["euler_characteristic"] == pytest.approx(2.0, abs=1e-10)
    assert res["ricci_scalar_mean"] == pytest.approx(1.0, abs=1e-10)  # R = 2/2: degree-2 class
    assert res["max_imag_relative"] < 1e-12


def test_cubic_curve_and_quartic_k3_euler_characteristics():
    """chi = 0 (elliptic curve) and 24 (K3) for the FS metric, within 4 standard errors of
    the line-clustered Monte Carlo error (3,000 and 6,000 points: errors ~0.07 and ~0.6)."""
    cubic = curvature_report("fs", cy.sample("cubic-curve", 3000, seed=2))
    assert abs(cubic["euler_characteristic"]) < 4 * cubic["euler_stderr"], cubic
    k3 = curvature_report("fs", cy.sample("quartic-k3", 6000, seed=2))
    assert abs(k3["euler_characteristic"] - 24) < 4 * k3["euler_stderr"], k3
    assert k3["euler_stderr"] < 1.5


def test_curvature_of_an_algebraic_metric_on_the_k3():
    """chi is a topological number: the same 24 for a random algebraic metric of degree 2
    (a non-symmetric hermitian H), whose curvature differs from FS point by point."""
    X = cy.hypersurface("quartic-k3")
    rng = np.random.default_rng(3)
    N = section_basis(X, 2).shape[0]
    A = rng.standard_normal((N, N)) + 1j * rng.standard_normal((N, N))
    m = AlgebraicMetric(X, 2, section_basis(X, 2), A @ A.conj().T / N + np.eye(N))
    ps = cy.sample(X, 6000, seed=4)
    res = curvature_report(m, ps)
    assert abs(res["euler_characteristic"] - 24) < 4 * res["euler_stderr"], res
    # c_1 = 0: int R dVol_K = n int Ric ^ J^(n-1)/n! vanishes for any Kahler metric on a CY
    pw = pointwise_curvature(m, ps)
    mean, se = cy.line_mean(pw["ricci_scalar"] * pw["det"] / ps.det_g_fs, ps.line)
    assert abs(mean) < 4 * se, (mean, se)
    jets = metric_jets(m, ps.subset(np.arange(50)))
    assert np.max(np.abs(jets["g"] - m(ps.subset(np.arange(50))))) < 1e-12  # same metric, two codes
    # the Ricci form is the trace of the curvature and is hermitian: R_{c dbar} = conj(R_{d cbar})
    ricci = np.trace(chern_curvature(jets), axis1=3, axis2=4)
    assert np.max(np.abs(ricci - np.conj(np.swapaxes(ricci, 1, 2)))) < 1e-9 * np.max(np.abs(ricci))


def test_top_chern_density_of_a_diagonal_curvature():
    """For Theta_{c dbar}[b, a] = delta_cd delta_ab lambda_a only rho = 1 and sigma = tau
    survive in the sum, so c_n = n! prod_a lambda_a / pi^n: (i/2pi)^n prod_a (lambda_a
    sum_c dz^c ^ dzbar^c) = n! prod lambda_a prod_c (i/2pi) dz^c ^ dzbar^c, and
    (i/2pi) dz ^ dzbar = d^2x / pi."""
    lam = np.array([[0.5, -2.0, 3.0]])
    theta = np.zeros((1, 3, 3, 3, 3), dtype=complex)
    for a in range(3):
        for c in range(3):
            theta[0, c, c, a, a] = lam[0, a]
    got = top_chern_density(theta)
    assert got[0] == pytest.approx(6 * np.prod(lam) / np.pi**3)


def test_cli_curvature(tmp_path, capsys):
    from metricflow.cli import main

    f = tmp_path / "c.npz"
    cy.save(cy.sample("cubic-curve", 600, seed=5), f)
    X = cy.hypersurface("cubic-curve")
    save_metric(AlgebraicMetric.identity(X, 2), tmp_path / "m")
    for metric in ("fs", str(tmp_path / "m")):
        try:
            main(["cy", "curvature", "--points", str(f), "--metric", metric, "--json"])
        except SystemExit as exc:
            assert exc.code in (0, None)
        doc = json.loads(capsys.readouterr().out)
        assert {"euler_characteristic", "euler_stderr", "ricci_measure"} <= set(doc)
        assert abs(doc["euler_characteristic"]) < 4 * doc["euler_stderr"]
    with pytest.raises(SystemExit) as exc:
        main(["cy", "curvature", "--points", str(f), "--metric", "nonsense"])
    assert exc.value.code == 2 and "--metric" in capsys.readouterr().err
