"""The flat complex torus: grid, quadrature, spectral potential jets, numpy and JAX alike,
and no process-wide switch of JAX's precision."""

import numpy as np
import pytest

from metricflow.errors import InvalidInputError
from metricflow.manifolds.complex_torus import ComplexTorus


def test_grid_attributes_and_quadrature():
    t = ComplexTorus(2, 4, g0=[[2.0, 0.5j], [-0.5j, 1.0]])
    assert (t.name, t.dim, t.shape, t.npoints) == ("ctorus2", 4, (4, 4, 4, 4), 256)
    assert t.points.shape == (4, 4, 4, 4, 4) and t.cell_volume == 1 / 256
    assert t.kappa == pytest.approx(1.75, abs=1e-15)  # det g0 = 2 - 0.25
    x, y = t.points[..., 0], t.points[..., 2]
    # the grid mean integrates trigonometric polynomials of degree < N exactly (area 1)
    assert abs(t.integrate(3.0 + np.cos(2 * np.pi * x) * np.sin(2 * np.pi * y))) == pytest.approx(3.0, abs=1e-14)


def test_jets_of_a_mode_are_exact_and_add_the_reference_metric():
    """φ = cos(2πx): ∂_z∂̄_z̄ φ = ¼Δφ = −π² cos(2πx) exactly on the grid (round-off 1e-12),
    and the (1, 1) jet of u = K_0 + φ adds g0."""
    t = ComplexTorus(1, 16)
    phi = np.cos(2 * np.pi * t.points[..., 0])
    jets = t.jets(phi, [(1, 1), (2, 0)])
    np.testing.assert_allclose(jets[(1, 1)], 1.0 - np.pi**2 * phi, atol=1e-12)
    # ∂_z² = ¼(∂_x − i∂_y)²: ¼ ∂_x² φ = −π² φ
    np.testing.assert_allclose(jets[(2, 0)], -np.pi**2 * phi, atol=1e-12)


def test_jax_input_gives_the_numpy_result_and_precision_is_not_switched():
    import jax
    import jax.numpy as jnp

    from metricflow._x64 import x64

    before = jax.config.jax_enable_x64
    t = ComplexTorus(1, 8)
    phi = t.random_phi(0, 0.3)
    assert phi.dtype == np.float64 and jax.config.jax_enable_x64 == before
    with x64():
        jj = t.jets(jnp.asarray(phi), [(1, 1)])[(1, 1)]
        assert jj.dtype == jnp.complex128
    np.testing.assert_allclose(np.asarray(jj), t.jets(phi, [(1, 1)])[(1, 1)], atol=1e-13)
    # random_phi is scaled to max |∂∂̄φ| = size
    assert np.max(np.abs(t.derivatives(phi, [(1, 1)])[(1, 1)])) == pytest.approx(0.3, rel=1e-12)


@pytest.mark.parametrize("kwargs", [{"n": 0}, {"N": 7}, {"N": 2}, {"n": 2, "g0": [[1.0]]}])
def test_bad_arguments(kwargs):
    with pytest.raises(InvalidInputError):
        ComplexTorus(**kwargs)
