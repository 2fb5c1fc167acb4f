"""Closed-form small-matrix algebra (metricflow._linalg) against LAPACK (numpy)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from metricflow import _linalg as la
from metricflow.errors import InvalidInputError


def _batch(seed, d, n=64):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, d, d))
    spd = a @ np.swapaxes(a, -1, -2) + 0.05 * np.eye(d)
    return a, spd


@settings(max_examples=settings.default.max_examples * 30 // 25, deadline=None)
@given(seed=st.integers(0, 2**31), d=st.integers(1, 3))
def test_det_inv_eigvalsh_match_lapack(seed, d):
    a, spd = _batch(seed, d)
    scale = np.max(np.abs(a), axis=(-1, -2)) ** d
    np.testing.assert_allclose(la.det(a), np.linalg.det(a), rtol=0, atol=1e-13 * np.max(scale))
    np.testing.assert_allclose(la.inv(spd) @ spd, np.broadcast_to(np.eye(d), spd.shape),
                               atol=1e-10 * np.max(np.linalg.cond(spd)) * 1e-3 + 1e-12)
    ev = np.linalg.eigvalsh(spd)
    np.testing.assert_allclose(la.eigvalsh(spd), ev, rtol=0, atol=1e-14 * np.max(np.abs(ev)) * 8)


@settings(max_examples=settings.default.max_examples * 30 // 25, deadline=None)
@given(seed=st.integers(0, 2**31), split=st.sampled_from([0.0, 1e-14, 1e-9, 1e-5]))
def test_eigvalsh_keeps_round_off_accuracy_at_nearly_degenerate_spectra(seed, split):
    """Where the closed-form cubic loses half the digits (arccos near ±1), the Jacobi
    sweeps do not: a rotated diag(1, 1 + split, 2) and a perturbed identity."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    for diag in ([1.0, 1.0 + split, 2.0], [1.0, 1.0 + split, 1.0 - split]):
        m = q @ np.diag(diag) @ q.T
        m = 0.5 * (m + m.T)
        np.testing.assert_allclose(la.eigvalsh(m[None])[0], np.linalg.eigvalsh(m), rtol=0, atol=2e-15 * 4)


def test_jax_versions_trace_and_differentiate():
    """Same values under jit, and det's gradient is the cofactor matrix det(a) a^{-T}."""
    import jax
    import jax.numpy as jnp

    from metricflow._x64 import x64

    a, spd = _batch(1, 3, 8)
    with x64():
        np.testing.assert_allclose(np.asarray(jax.jit(la.det)(jnp.asarray(a))), np.linalg.det(a), atol=1e-13)
        np.testing.assert_allclose(np.asarray(jax.jit(la.eigvalsh)(jnp.asarray(spd))), np.linalg.eigvalsh(spd),
                                   atol=1e-13)
        grad = np.asarray(jax.grad(lambda x: la.det(x))(jnp.asarray(spd[0])))
    np.testing.assert_allclose(grad, np.linalg.det(spd[0]) * np.linalg.inv(spd[0]).T, rtol=1e-12)


def test_larger_matrices_fall_back_and_bad_shapes_are_refused():
    a, spd = _batch(2, 5, 4)
    np.testing.assert_allclose(la.det(a), np.linalg.det(a))
    np.testing.assert_allclose(la.eigvalsh(spd), np.linalg.eigvalsh(spd))
    with pytest.raises(InvalidInputError, match="square"):
        la.det(np.ones((4, 2, 3)))
