"""The potential network's inputs (metricflow.cy.features, issue 15): functions on P^n,
their Fubini–Study normalisation, the Fermat group's invariance, hostile specs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metricflow import cy
from metricflow._x64 import x64
from metricflow.cy import features as F
from metricflow.cy import networks as nw
from metricflow.errors import InvalidInputError

SPECS = ["u", "monomials:3", "invariant:6"]


def _eval(spec, z, d=5):
    import jax
    import jax.numpy as jnp

    with x64():
        return np.asarray(jax.jit(jax.vmap(lambda w: F.evaluate(spec, z.shape[1], d, w)))(jnp.asarray(z)))


def _gaussian(n, n1=5, seed=0):
    """z Gaussian in C^{n+1}: its class [z] is distributed by μ_FS on P^n (unitary invariance)."""
    rng = np.random.default_rng(seed)
    return rng.normal(size=(n, n1)) + 1j * rng.normal(size=(n, n1))


@pytest.mark.parametrize("spec", SPECS)
def test_inputs_are_functions_on_projective_space(spec):
    z = _gaussian(50)
    lam = np.random.default_rng(1).normal(size=(50, 1)) * np.exp(2j * np.pi * np.random.default_rng(2).random((50, 1)))
    a, b = _eval(spec, z), _eval(spec, lam * z)
    assert a.shape == (50, F.n_inputs(spec, 5, 5))
    # entries O(C(K+n, n)) at most; degree-K monomials of a unit vector: round-off ~1e-13 relative
    assert np.abs(a - b).max() < 1e-11 * max(1.0, np.abs(a).max())


def test_counts():
    assert F.n_inputs("u", 5, 5) == 25
    assert F.n_inputs("monomials:8", 5, 5) == 495  # C(12, 4)
    # the permutation classes of degree 8 in 5 variables (18: the partitions of 8 in at most 5 parts) and the
    # coupling orbits of the quintic's congruent pairs (9), as counted by cy.symmetry
    assert F.n_inputs("invariant:8", 5, 5) == 18 + 9


@pytest.mark.parametrize("spec", ["monomials:3", "invariant:6"])
def test_inputs_have_mean_zero_under_fubini_study(spec):
    """Each input is (its sum)/(its μ_FS mean) − 1, or a coupling of mean 0 (phases): the sample means of
    μ_FS points vanish within 5 standard errors (Monte Carlo); the analytic means α! n!/(K+n)! are checked
    this way, so a wrong factorial shows as a mean far from 0."""
    f = _eval(spec, _gaussian(20_000, seed=3))
    mean, se = f.mean(axis=0), f.std(axis=0) / np.sqrt(len(f))
    assert np.all(np.abs(mean) < 5 * se + 1e-12)
    assert np.all(f.std(axis=0) > 0.01)  # not constants (the couplings spread least: 0.04 at K = 6)


def test_fs_means_closed_form():
    E = np.array([[2, 0, 0], [1, 1, 0], [0, 0, 2]])
    # n = 2, K = 2: α! n!/(K+n)! = 2·2/24 and 1·2/24
    np.testing.assert_allclose(F.fs_means(E), [4 / 24, 2 / 24, 4 / 24], rtol=1e-14)


def test_invariant_inputs_are_invariant_under_the_fermat_group():
    rng = np.random.default_rng(4)
    z = _gaussian(30, seed=5)
    base = _eval("invariant:6", z)
    perm = rng.permutation(5)
    phases = np.exp(2j * np.pi * rng.integers(0, 5, size=5) / 5)
    for w in (z[:, perm], z * phases, np.conj(z)):
        np.testing.assert_allclose(_eval("invariant:6", w), base, atol=1e-11 * np.abs(base).max())
    # and the coupling inputs are not invariant under a generic phase (they see the phases mod d)
    generic = _eval("invariant:6", z * np.exp(1j * rng.random(5)))
    assert np.abs(generic[:, 10:] - base[:, 10:]).max() > 1e-3


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=20))
def test_hostile_specs_are_refused_by_name(text):
    try:
        family, K = F.parse_inputs(text)
    except InvalidInputError as exc:
        assert exc.argument == "inputs"
    else:
        assert family in ("u", "monomials", "invariant") and 1 <= K <= F.MAX_DEGREE


@pytest.mark.parametrize("spec", ["invariant:0", "monomials:13", "sections:4", "invariant:4 ", "u:1", "",
                                  "monomials:08", "invariant:\u0661"])
def test_bad_specs(spec):
    with pytest.raises(InvalidInputError, match="inputs"):
        F.parse_inputs(spec)


def test_too_many_monomials_are_refused_before_they_are_built():
    # P^9, degree 12: C(21, 9) = 293,930 monomials
    with pytest.raises(InvalidInputError, match="monomials"):
        F.n_inputs("monomials:12", 10, 10)


def test_inputs_belong_to_the_potential_model_and_invariant_needs_fermat():
    with pytest.raises(InvalidInputError, match="inputs"):
        nw.Architecture("mult", (8,), "gelu", 5, inputs="monomials:2")
    arch = nw.Architecture("phi", (8,), "gelu", 5, inputs="invariant:4", poly_degree=5)
    nw.check_inputs(arch, cy.hypersurface("fermat-quintic"))
    with pytest.raises(InvalidInputError, match="inputs"):
        nw.check_inputs(arch, cy.hypersurface("dwork:0.5"))


def test_network_with_section_inputs_saves_and_loads(tmp_path):
    import jax

    ps = cy.sample("fermat-quintic", n=100, seed=0)
    arch = nw.Architecture("phi", (8, 8), "gelu", 5, out_scale=0.01, inputs="invariant:6", poly_degree=5)
    with x64():
        p = nw.init_params(arch, jax.random.PRNGKey(0))
    metric = nw.NetworkMetric(ps.surface, arch, p)
    nw.save_network(metric, tmp_path)
    back = nw.load_network(tmp_path)
    assert back.arch == arch
    np.testing.assert_array_equal(back(ps), metric(ps))
    g = metric(ps)
    assert np.linalg.eigvalsh(g).min() > 0 and np.abs(g - ps.g_fs).max() > 1e-8


@pytest.mark.parametrize("spec", SPECS)
def test_closed_form_jets_equal_autodiff(spec):
    """∂_a f and Σ_l w_l ∂_a∂̄_b f_l of features.jets against the real derivatives of features.evaluate
    along (v_a, i v_a) (networks.ddbar_pulled for the second): two routes, round-off apart (entries
    O(K^2 C(K+n, n)) at most, so 1e-11 of the largest)."""
    import jax
    import jax.numpy as jnp

    ps = cy.sample("fermat-quintic", n=4, seed=1)
    w = jnp.asarray(np.random.default_rng(0).normal(size=F.n_inputs(spec, 5, 5)))

    def both(z, jac):
        f, df, contract = F.jets(spec, 5, 5, z, jac)
        m = jac.shape[1]
        Jr = jax.jacfwd(lambda t: F.evaluate(spec, 5, 5, z + jac @ t[:m] + 1j * (jac @ t[m:])))(jnp.zeros(2 * m))
        ref_df = 0.5 * (Jr[:, :m] - 1j * Jr[:, m:])  # ∂_a f = ½(D_a − i D_{ia}) for real f
        ref_dd = nw.ddbar_pulled(lambda v: jnp.dot(w, F.evaluate(spec, 5, 5, v)), z, jac)
        return f, F.evaluate(spec, 5, 5, z), df, ref_df, contract(w), ref_dd

    with x64():
        out = [np.asarray(a) for a in jax.jit(jax.vmap(both))(jnp.asarray(ps.points), jnp.asarray(ps.jacobian))]
    for got, ref in zip(out[::2], out[1::2], strict=True):
        np.testing.assert_allclose(got, ref, rtol=0, atol=1e-11 * (1 + np.abs(ref).max()))


@pytest.mark.parametrize("spec", SPECS)
def test_potential_ddbar_equals_the_autodiff_hessian(spec):
    """networks.potential_ddbar (the chain rule through the closed-form jets, 2m Hessian-vector products)
    against the real Hessian of the composed potential (networks.ddbar_pulled): float64 network, so the
    two differ by round-off only."""
    import jax
    import jax.numpy as jnp

    ps = cy.sample("fermat-quintic", n=6, seed=2)
    arch = nw.Architecture("phi", (16, 16), "gelu", 5, out_scale=0.3, inputs=spec, poly_degree=5)
    with x64():
        p = nw.init_params(arch, jax.random.PRNGKey(1))

        def both(z, jac):
            return (nw.potential_ddbar(arch, p, z, jac),
                    nw.ddbar_pulled(lambda v: nw.potential(arch, p, v), z, jac))

        got, ref = (np.asarray(a) for a in jax.jit(jax.vmap(both))(jnp.asarray(ps.points), jnp.asarray(ps.jacobian)))
    assert np.abs(ref).max() > 1e-6
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-11 * np.abs(ref).max())


def test_zero_last_layer_starts_at_the_base_and_is_standard_only():
    ps = cy.sample("fermat-quintic", n=50, seed=0)
    import jax

    arch = nw.Architecture("phi", (8,), "gelu", 5, out_scale=0.0, inputs="invariant:4", poly_degree=5)
    with x64():
        p = nw.init_params(arch, jax.random.PRNGKey(0))
    # the correction is exactly 0; J^T G conj(J) and the stored g_FS are two round-offs of one product (|g| ~ 1)
    np.testing.assert_allclose(nw.NetworkMetric(ps.surface, arch, p)(ps), ps.g_fs, rtol=0, atol=1e-13)
    with pytest.raises(InvalidInputError, match="out_scale"):
        nw.Architecture("phi", (8,), "gelu", 5, out_scale=0.0, parameterization="ntk")
