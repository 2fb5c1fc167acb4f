"""Metric-NTKs of metric ansaetze over independent real components (eqs. 2.7, 2.19-2.23).

A metric at a point is a ``d x d`` real symmetric or complex hermitian matrix; its
independent real components ``g_I`` are, in this order (docs/ntk.md):

- ``kind="symmetric"``: ``g_ij`` for ``i <= j`` row by row -- ``d(d+1)/2`` components;
- ``kind="hermitian"``: the ``d`` real diagonal entries, then ``Re g_ij`` for ``i < j`` row by
  row, then ``Im g_ij`` for ``i < j`` -- ``d^2`` components (9 for a Calabi-Yau threefold,
  the journal version's multi-indices 1 <= I, J <= 9).

The metric-NTK is ``Theta_IJ(x, x')`` in the layout ``theta[I, J, a, b]``.

Ansaetze whose components are *affine in a network* ``phi`` with a deterministic,
point-dependent linear map ``M(x)`` (``g_I(x) = c_I(x) + M_IK(x) phi_K(x)``) all have

    Theta_IJ(x, x') = M_IK(x) Theta^phi_KL(x, x') M_JL(x'),

the rescaling trick (2.15-2.16) with a matrix instead of a scalar ``h``:

- component-wise independent networks (2.19-2.23): ``M = 1``, ``Theta^phi = delta_KL Theta``;
- additive ``g = g_ref + phi``: ``M = 1``;
- multiplicative ``g = g_ref * (1 + phi)`` (element-wise; with ``phi`` arranged as a
  hermitian matrix for Calabi-Yau metrics as in the cymetric multiplicative model):
  ``M = diag(g_ref_I)`` for real symmetric metrics, and for hermitian ones the
  2 x 2 complex-multiplication block ``[[Re g, -Im g], [Im g, Re g]]`` on each off-diagonal
  (Re, Im) pair.

For infinite-width networks with independent outputs ``Theta^phi_KL = delta_KL Theta_bar``.
"""

from __future__ import annotations

import functools

import jax.numpy as jnp
import numpy as np
import scipy.stats

from metricflow.errors import InvalidInputError

KINDS = ("symmetric", "hermitian")


def n_components(dim: int, kind: str = "symmetric") -> int:
    """Number of independent real components of a ``dim x dim`` metric."""
    _check_kind(kind)
    return dim * (dim + 1) // 2 if kind == "symmetric" else dim * dim


def _check_kind(kind):
    if kind not in KINDS:
        raise InvalidInputError("kind", f"must be one of {list(KINDS)}, got {kind!r}")


def component_labels(dim: int, kind: str = "symmetric") -> list[str]:
    """Human-readable names of the components in order, e.g. ``g00, g01, Re g01, Im g01``."""
    _check_kind(kind)
    if kind == "symmetric":
        return [f"g{i}{j}" for i in range(dim) for j in range(i, dim)]
    upper = [(i, j) for i in range(dim) for j in range(i + 1, dim)]
    return ([f"g{i}{i}" for i in range(dim)] + [f"Re g{i}{j}" for i, j in upper]
            + [f"Im g{i}{j}" for i, j in upper])


def to_components(g, kind: str = "symmetric"):
    """Independent real components (..., n_comp) of metrics (..., d, d) (jnp, traceable)."""
    _check_kind(kind)
    d = g.shape[-1]
    if kind == "symmetric":
        iu = np.triu_indices(d)
        return jnp.real(g[..., iu[0], iu[1]])
    diag = jnp.real(jnp.diagonal(g, axis1=-2, axis2=-1))
    iu = np.triu_indices(d, 1)
    off = g[..., iu[0], iu[1]]
    return jnp.concatenate([diag, jnp.real(off), jnp.imag(off)], axis=-1)


def from_components(c, dim: int, kind: str = "symmetric"):
    """Inverse of :func:`to_components`: (..., n_comp) -> (..., d, d)."""
    _check_kind(kind)
    c = jnp.asarray(c)
    batch = c.shape[:-1]
    if kind == "symmetric":
        iu = np.triu_indices(dim)
        g = jnp.zeros(batch + (dim, dim), c.dtype).at[..., iu[0], iu[1]].set(c)
        diag = jnp.diagonal(g, axis1=-2, axis2=-1)[..., None, :]
        return g + jnp.swapaxes(g, -1, -2) - jnp.eye(dim) * diag
    iu = np.triu_indices(dim, 1)
    m = len(iu[0])
    diag, re, im = c[..., :dim], c[..., dim:dim + m], c[..., dim + m:]
    cdtype = jnp.result_type(c.dtype, jnp.complex64)
    upper = jnp.zeros(batch + (dim, dim), cdtype).at[..., iu[0], iu[1]].set(re + 1j * im)
    return upper + jnp.conj(jnp.swapaxes(upper, -1, -2)) + jnp.eye(dim) * diag[..., None, :]


@functools.lru_cache(maxsize=64)
def metric_model(g_fn, kind: str = "symmetric"):
    """Turn ``g_fn(params, x) -> (d, d)`` into ``f(params, x) -> (n_comp,)`` for
    :func:`metricflow.kernels.empirical.empirical_ntk` (eq. 2.7 over components).
    Cached, so the same ``g_fn`` always gives the same function (and compilations are
    reused)."""
    _check_kind(kind)
    return lambda params, x: to_components(g_fn(params, x), kind)


def empirical_metric_ntk(g_fn, params, x1, x2=None, *, kind: str = "symmetric", **kwargs):
    """Empirical metric-NTK ``theta[I, J, a, b]`` of a metric model (eq. 2.7): the
    components are those of :func:`to_components`; keywords go to ``empirical_ntk``."""
    from metricflow.kernels.empirical import empirical_ntk

    return empirical_ntk(metric_model(g_fn, kind), params, x1, x2, **kwargs)


def multiplicative_map(g_ref, kind: str = "symmetric") -> np.ndarray:
    """``M(x)`` of the multiplicative ansatz ``g = g_ref * (1 + phi)`` (element-wise), for
    reference metrics ``g_ref`` of shape (n, d, d): returns (n, n_comp, n_comp) with
    ``d g_I / d phi_K``.  For ``kind="hermitian"`` ``phi`` holds the components of a hermitian
    matrix ``H`` (same order as :func:`to_components`) and ``g = g_ref * (1 + H)``."""
    _check_kind(kind)
    g_ref = np.asarray(g_ref)
    if g_ref.ndim != 3 or g_ref.shape[1] != g_ref.shape[2]:
        raise InvalidInputError("g_ref", f"must have shape (n, d, d), got {g_ref.shape}")
    n, d, _ = g_ref.shape
    nc = n_components(d, kind)
    M = np.zeros((n, nc, nc))
    if kind == "symmetric":
        iu = np.triu_indices(d)
        vals = np.real(g_ref[:, iu[0], iu[1]])
        M[:, np.arange(nc), np.arange(nc)] = vals
        return M
    M[:, np.arange(d), np.arange(d)] = np.real(np.diagonal(g_ref, axis1=1, axis2=2))
    iu = np.triu_indices(d, 1)
    m = len(iu[0])
    re = np.real(g_ref[:, iu[0], iu[1]])
    im = np.imag(g_ref[:, iu[0], iu[1]])
    for k in range(m):
        r_, i_ = d + k, d + m + k
        M[:, r_, r_] = re[:, k]
        M[:, r_, i_] = -im[:, k]
        M[:, i_, r_] = im[:, k]
        M[:, i_, i_] = re[:, k]
    return M


def linear_ansatz_ntk(M1, theta_phi, M2) -> np.ndarray:
    """``Theta_IJ(x, x') = M_IK(x) Theta^phi_KL(x, x') M_JL(x')`` (module docstring).

    ``M1`` (n1, nI, nK), ``theta_phi`` (nK, nK, n1, n2), ``M2`` (n2, nJ, nK)."""
    return np.einsum("aIK,KLab,bJL->IJab", np.asarray(M1), np.asarray(theta_phi), np.asarray(M2))


def componentwise_ntk(scalar_ntk, n_comp: int) -> np.ndarray:
    """Metric-NTK of component-wise independent networks of one architecture,
    ``delta_IJ Theta_bar(x, x')`` (eq. 2.23); also the infinite-width additive ansatz."""
    k = np.asarray(scalar_ntk)
    return np.einsum("IJ,ab->IJab", np.eye(n_comp), k)


def ansatz_ntk(scalar_ntk, *, dim: int, kind: str = "symmetric", ansatz: str = "componentwise",
               g_ref1=None, g_ref2=None) -> np.ndarray:
    """Infinite-width metric-NTK of an ansatz (``componentwise``, ``additive``,
    ``multiplicative``) from the scalar frozen NTK ``scalar_ntk`` (n1, n2) of the network."""
    nc = n_components(dim, kind)
    base = componentwise_ntk(scalar_ntk, nc)
    if ansatz in ("componentwise", "additive"):
        return base
    if ansatz != "multiplicative":
        raise InvalidInputError("ansatz", "must be componentwise, additive or multiplicative, "
                                f"got {ansatz!r}")
    if g_ref1 is None:
        raise InvalidInputError("g_ref1", "the multiplicative ansatz needs reference metrics")
    g_ref2 = g_ref1 if g_ref2 is None else g_ref2
    return linear_ansatz_ntk(multiplicative_map(g_ref1, kind), base,
                             multiplicative_map(g_ref2, kind))


def block_spectra(theta, *, symmetric: bool | None = None) -> np.ndarray:
    """Eigenvalues of each n1 x n2 block ``theta[I, J]`` (the journal version's summary
    statistic).  Blocks are square (n1 == n2).  If every block is symmetric (x1 == x2 and
    I == J, or ``symmetric=True``) real eigenvalues (ascending) are returned, otherwise the
    complex eigenvalues sorted by real part.  Shape (nI, nJ, n)."""
    theta = np.asarray(theta)
    if theta.ndim != 4 or theta.shape[2] != theta.shape[3]:
        raise InvalidInputError("theta", f"must have shape (nI, nJ, n, n), got {theta.shape}")
    if symmetric is None:
        symmetric = bool(np.allclose(theta, np.swapaxes(theta, 2, 3), rtol=1e-12, atol=0))
    if symmetric:
        return np.linalg.eigvalsh(0.5 * (theta + np.swapaxes(theta, 2, 3)))
    ev = np.linalg.eigvals(theta)
    return np.take_along_axis(ev, np.argsort(ev.real, axis=-1), axis=-1)


def full_spectrum(theta) -> np.ndarray:
    """Eigenvalues (ascending) of the whole kernel as an (nI n) x (nI n) Gram matrix, for
    ``theta`` computed with x2 = x1 (symmetric positive semi-definite)."""
    theta = np.asarray(theta)
    nI, nJ, n1, n2 = theta.shape
    if nI != nJ or n1 != n2:
        raise InvalidInputError("theta", f"must be square (nI, nI, n, n), got {theta.shape}")
    gram = theta.transpose(0, 2, 1, 3).reshape(nI * n1, nJ * n2)
    return np.linalg.eigvalsh(0.5 * (gram + gram.T))


def spectrum_shift(spec_a, spec_b) -> float:
    """1-Wasserstein distance between two pooled eigenvalue distributions (real parts),
    as the journal version tracks the evolution of the metric-NTK during training."""
    return float(scipy.stats.wasserstein_distance(np.real(np.ravel(spec_a)),
                                                  np.real(np.ravel(spec_b))))
