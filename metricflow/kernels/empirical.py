"""Empirical (finite-width) NTK of any JAX model with pytree parameters, eq. (2.7).

For a model ``f(params, x) -> (n_out,)`` (one input point ``x`` of shape (d,); a scalar
output counts as ``n_out = 1``) the empirical NTK is

    Theta_IJ(x, x') = sum_P  d f_I(x)/d theta_P  d f_J(x')/d theta_P,

returned in the layout ``theta[I, J, a, b] = Theta_IJ(x1[a], x2[b])`` (the journal
version's 9 x 9 x n x n for the nine real components of a 3 x 3 hermitian metric).
Two ways, both blocked over points so that memory is bounded by the block size:

- ``method="jacobian"``: per block, the Jacobians ``J1 = df(x1_blk)/dtheta`` and
  ``J2 = df(x2_blk)/dtheta`` are formed (reverse mode, vmapped over points) and contracted
  leaf by leaf.  Memory ~ 2 * block * n_out * P.
- ``method="ntvp"``: matrix-free NTK-vector products.  ``Theta v = J1 (J2^T v)``: one
  vjp over the x2 block per cotangent, then one jvp over the x1 block; the full kernel
  is read off by applying it to the basis vectors of the x2 block, ``chunk`` at a time.
  The x1 Jacobian is never formed.  :func:`ntk_vector_product` exposes the product
  itself for flows that never need the kernel matrix.

With ``x2`` omitted (``x2 = x1``) only the blocks on and above the diagonal are computed
and the others filled by the symmetry ``Theta_IJ(x, x') = Theta_JI(x', x)``.
All computations run in float64 (parameters and inputs are cast).
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from metricflow._x64 import x64
from metricflow.errors import InvalidInputError

METHODS = ("jacobian", "ntvp")


def _as_vector_fn(f, with_frozen: bool):
    if with_frozen:
        return lambda p, x, fr: jnp.atleast_1d(f(p, x, fr))
    return lambda p, x, fr: jnp.atleast_1d(f(p, x))


@functools.lru_cache(maxsize=32)
def _compiled(f, with_frozen: bool, method: str, n_out: int, chunk: int):
    """Jitted kernels for one model function (cached on its identity, so a module-level
    model compiles once per block shape)."""
    fv = _as_vector_fn(f, with_frozen)
    if method == "jacobian":
        jac = jax.jit(jax.vmap(jax.jacrev(fv), in_axes=(None, 0, None)))
        return jac, jax.jit(_contract)
    return jax.jit(functools.partial(_ntvp_block, fv, n_out=n_out, chunk=chunk)), None


def _to64(tree):
    return jax.tree_util.tree_map(lambda a: jnp.asarray(a, jnp.float64), tree)


def _points(x, name):
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] == 0:
        raise InvalidInputError(name, f"must be an (n, d) array of points, got shape {arr.shape}")
    return arr


def _blocks(n, size):
    return [(s, min(s + size, n)) for s in range(0, n, size)]


def empirical_ntk(f, params, x1, x2=None, *, frozen=None, method: str = "jacobian",
                  block_size: int = 128, chunk: int = 64) -> np.ndarray:
    """Empirical NTK ``theta[I, J, a, b]`` of ``f`` at ``params`` (module docstring).

    Parameters
    ----------
    f:
        ``f(params, x)`` for one point ``x`` (d,), returning a scalar or an (n_out,) vector.
    params:
        Any pytree of arrays: the trained parameters.
    frozen:
        Optional pytree of parameters held fixed (not differentiated); then the model is
        called as ``f(params, x, frozen)``.  Keeping ``f`` a module-level function and
        passing the frozen draw here lets one compilation serve many draws.
    x1, x2:
        (n1, d), (n2, d) inputs; ``x2`` defaults to ``x1``.
    method:
        ``"jacobian"`` (contraction) or ``"ntvp"`` (matrix-free NTK-vector products).
    block_size:
        Points per block (memory bound).
    chunk:
        For ``"ntvp"``: basis vectors pushed through one vmapped vjp/jvp at a time.
    """
    if method not in METHODS:
        raise InvalidInputError("method", f"must be one of {list(METHODS)}, got {method!r}")
    if not isinstance(block_size, (int, np.integer)) or block_size < 1:
        raise InvalidInputError("block_size", f"must be a positive integer, got {block_size!r}")
    a = _points(x1, "x1")
    b = a if x2 is None else _points(x2, "x2")
    if a.shape[1] != b.shape[1]:
        raise InvalidInputError("x2", f"has dimension {b.shape[1]}, x1 has {a.shape[1]}")
    with_frozen = frozen is not None
    with x64():
        p = _to64(params)
        fr = _to64(frozen) if with_frozen else None
        fv = _as_vector_fn(f, with_frozen)
        n_out = int(jax.eval_shape(fv, p, jnp.zeros(a.shape[1], jnp.float64), fr).shape[0])
        out = np.empty((n_out, n_out, a.shape[0], b.shape[0]), dtype=np.float64)
        first, contract = _compiled(f, with_frozen, method, n_out, int(chunk))
        b_blocks = _blocks(b.shape[0], block_size)
        symmetric = x2 is None   # Theta_IJ(x_a, x_b) = Theta_JI(x_b, x_a): lower blocks mirrored
        if method == "jacobian":
            for s1, e1 in _blocks(a.shape[0], block_size):
                j1 = first(p, jnp.asarray(a[s1:e1]), fr)
                for s2, e2 in b_blocks:
                    if symmetric and s2 < s1:
                        continue
                    j2 = j1 if symmetric and s2 == s1 else first(p, jnp.asarray(b[s2:e2]), fr)
                    out[:, :, s1:e1, s2:e2] = np.asarray(contract(j1, j2))
        else:
            for s2, e2 in b_blocks:
                for s1, e1 in _blocks(a.shape[0], block_size):
                    if symmetric and s2 < s1:
                        continue
                    res = first(p, jnp.asarray(a[s1:e1]), jnp.asarray(b[s2:e2]), fr)
                    out[:, :, s1:e1, s2:e2] = np.asarray(res)
        if symmetric:
            for s1, e1 in _blocks(a.shape[0], block_size):
                for s2, e2 in b_blocks:
                    if s2 < s1:
                        out[:, :, s1:e1, s2:e2] = out[:, :, s2:e2, s1:e1].transpose(1, 0, 3, 2)
    return out


def _contract(j1, j2):
    """sum over leaves of J1[a, I, ...] J2[b, J, ...] -> [I, J, a, b]."""
    total = None
    for l1, l2 in zip(jax.tree_util.tree_leaves(j1), jax.tree_util.tree_leaves(j2), strict=True):
        m1 = l1.reshape(l1.shape[0], l1.shape[1], -1)
        m2 = l2.reshape(l2.shape[0], l2.shape[1], -1)
        term = jnp.einsum("aIp,bJp->IJab", m1, m2)
        total = term if total is None else total + term
    return total


def ntk_vector_product(f, params, x1, x2, v, frozen=None):
    """Matrix-free ``(Theta v)[a, I] = sum_{b, J} Theta_IJ(x1[a], x2[b]) v[b, J]``.

    ``v`` has shape (n2, n_out).  One vjp through the batch x2 and one jvp through the
    batch x1; neither Jacobian is formed.  Pure and jittable (no x64 switching inside:
    call within float64 mode for float64 results).
    """
    fv = _as_vector_fn(f, frozen is not None)
    batched = jax.vmap(fv, in_axes=(None, 0, None))
    _, vjp = jax.vjp(lambda q: batched(q, x2, frozen), params)
    (ct,) = vjp(v)
    _, tangent_out = jax.jvp(lambda q: batched(q, x1, frozen), (params,), (ct,))
    return tangent_out


def _ntvp_block(fv, params, xa, xb, fr, *, n_out, chunk):
    """Theta block [I, J, a, b] by NTK-vector products with the basis vectors of (xb, J)."""
    nb = xb.shape[0]
    m = nb * n_out
    batched = jax.vmap(fv, in_axes=(None, 0, None))
    _, vjp = jax.vjp(lambda q: batched(q, xb, fr), params)

    def column(e):  # e: (nb, n_out) basis vector -> (na, n_out)
        (ct,) = vjp(e)
        _, t = jax.jvp(lambda q: batched(q, xa, fr), (params,), (ct,))
        return t

    basis = jnp.eye(m, dtype=jnp.float64).reshape(m, nb, n_out)
    n_chunks = math.ceil(m / chunk)
    pad = n_chunks * chunk - m
    basis = jnp.concatenate([basis, jnp.zeros((pad, nb, n_out), basis.dtype)])
    cols = jax.lax.map(jax.vmap(column), basis.reshape(n_chunks, chunk, nb, n_out))
    cols = cols.reshape(n_chunks * chunk, xa.shape[0], n_out)[:m]     # [(b, J), a, I]
    return cols.reshape(nb, n_out, xa.shape[0], n_out).transpose(3, 1, 2, 0)


def rescale(theta: np.ndarray, h1, h2) -> np.ndarray:
    """The rescaling trick (2.15-2.16) on a kernel in the [I, J, a, b] layout:
    ``h(x1[a]) h(x2[b]) theta[I, J, a, b]`` for values ``h1`` (n1,), ``h2`` (n2,)."""
    h1 = np.asarray(h1)[None, None, :, None]
    h2 = np.asarray(h2)[None, None, None, :]
    return np.asarray(theta) * h1 * h2
