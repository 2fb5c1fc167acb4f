"""Closed-form determinant, inverse and symmetric eigenvalues of batches of small matrices.

A metric on a grid is a batch of d × d matrices with d ≤ 3. ``jnp.linalg`` hands such a
batch to LAPACK through a custom call that fans the batch out into XLA's CPU thread pool
and blocks until it is done; two of them running at once inside one compiled program
(the curvature kernel's inverse next to the dilaton operator's determinant, say) can
leave every pool thread waiting for a free one: the deadlock recorded in
``docs/flows.md`` (gdb: ``jax::ParallelBatchMap`` / ``lapack_dtrsm_ffi``). For d ≤ 3 the
closed forms below are a few elementwise products: no custom call, no thread pool,
faster, and differentiable by JAX. Larger d falls back to the library routine.

Each function takes numpy or JAX arrays with the matrix in the last two axes;
:func:`namespace` is the one place that picks ``numpy`` or ``jax.numpy`` for an array.
"""

from __future__ import annotations

import numpy as np


def namespace(a):
    """``jax.numpy`` for a JAX array (or tracer), ``numpy`` otherwise; JAX is imported only then."""
    if type(a).__module__.startswith("jax"):
        import jax.numpy as jnp

        return jnp
    return np


def _dim(a) -> int:
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        from metricflow.errors import InvalidInputError

        raise InvalidInputError("a", f"expected square matrices in the last two axes, got shape {a.shape}")
    return a.shape[-1]


def det(a):
    """``det a`` over the last two axes (closed form for d ≤ 3)."""
    xp = namespace(a)
    d = _dim(a)
    if d == 1:
        return a[..., 0, 0]
    if d == 2:
        return a[..., 0, 0] * a[..., 1, 1] - a[..., 0, 1] * a[..., 1, 0]
    if d == 3:
        c = _cofactor_row0(a)
        return a[..., 0, 0] * c[0] + a[..., 0, 1] * c[1] + a[..., 0, 2] * c[2]
    return xp.linalg.det(a)


def hermitian_det(a):
    """The real ``det a`` of hermitian (or real symmetric) matrices over the last two axes.

    Closed form for d ≤ 3 that reads the upper triangle and the real diagonal (``a_ba =
    conj(a_ab)``), so the result is exactly real; the library routine above. ``|z|²`` is
    written ``Re² + Im²`` (no square root). The pulled-back Fubini–Study metric of a
    Calabi–Yau point (docs/cy.md, eq. B.10's det g) is the main user."""
    xp = namespace(a)
    d = _dim(a)
    ab2 = lambda x: x.real**2 + x.imag**2  # noqa: E731
    if d == 1:
        return xp.array(xp.real(a[..., 0, 0]))  # a copy, not a view into a
    if d == 2:
        return a[..., 0, 0].real * a[..., 1, 1].real - ab2(a[..., 0, 1])
    if d == 3:
        p, e, i = a[..., 0, 0].real, a[..., 1, 1].real, a[..., 2, 2].real
        b, c, f = a[..., 0, 1], a[..., 0, 2], a[..., 1, 2]
        return p * e * i + 2 * (b * f * xp.conj(c)).real - p * ab2(f) - e * ab2(c) - i * ab2(b)
    return xp.real(xp.linalg.det(a))


def _cofactor_row0(a):
    return (a[..., 1, 1] * a[..., 2, 2] - a[..., 1, 2] * a[..., 2, 1],
            a[..., 1, 2] * a[..., 2, 0] - a[..., 1, 0] * a[..., 2, 2],
            a[..., 1, 0] * a[..., 2, 1] - a[..., 1, 1] * a[..., 2, 0])


def inv(a):
    """``a⁻¹`` over the last two axes: the adjugate over the determinant for d ≤ 3."""
    xp = namespace(a)
    d = _dim(a)
    if d == 1:
        return 1.0 / a
    if d == 2:
        dt = det(a)[..., None, None]
        adj = xp.stack([xp.stack([a[..., 1, 1], -a[..., 0, 1]], axis=-1),
                        xp.stack([-a[..., 1, 0], a[..., 0, 0]], axis=-1)], axis=-2)
        return adj / dt
    if d == 3:
        c0 = _cofactor_row0(a)
        c1 = (a[..., 0, 2] * a[..., 2, 1] - a[..., 0, 1] * a[..., 2, 2],
              a[..., 0, 0] * a[..., 2, 2] - a[..., 0, 2] * a[..., 2, 0],
              a[..., 0, 1] * a[..., 2, 0] - a[..., 0, 0] * a[..., 2, 1])
        c2 = (a[..., 0, 1] * a[..., 1, 2] - a[..., 0, 2] * a[..., 1, 1],
              a[..., 0, 2] * a[..., 1, 0] - a[..., 0, 0] * a[..., 1, 2],
              a[..., 0, 0] * a[..., 1, 1] - a[..., 0, 1] * a[..., 1, 0])
        dt = (a[..., 0, 0] * c0[0] + a[..., 0, 1] * c0[1] + a[..., 0, 2] * c0[2])[..., None, None]
        # (a⁻¹)_ij = C_ji / det: row i of the inverse is column i of the cofactors
        adj = xp.stack([xp.stack([c0[0], c1[0], c2[0]], axis=-1),
                        xp.stack([c0[1], c1[1], c2[1]], axis=-1),
                        xp.stack([c0[2], c1[2], c2[2]], axis=-1)], axis=-2)
        return adj / dt
    return xp.linalg.inv(a)


def eigvalsh(a, sweeps: int = 5):
    """Ascending eigenvalues of symmetric matrices (the upper triangle is read): the 2 × 2
    formula with ``hypot``, and for 3 × 3 ``sweeps`` cyclic Jacobi sweeps done
    elementwise over the batch. Jacobi converges quadratically (five sweeps reach
    round-off relative to the matrix norm, degenerate and nearly degenerate spectra
    included, where the closed-form cubic loses half the digits)."""
    xp = namespace(a)
    d = _dim(a)
    if d == 1:
        return a[..., 0, :]
    if d == 2:
        m = 0.5 * (a[..., 0, 0] + a[..., 1, 1])
        r = xp.hypot(0.5 * (a[..., 0, 0] - a[..., 1, 1]), a[..., 0, 1])
        return xp.stack([m - r, m + r], axis=-1)
    if d == 3:
        m = {(i, j): a[..., i, j] for i in range(3) for j in range(i, 3)}
        for _ in range(sweeps):
            for p, q, r in ((0, 1, 2), (0, 2, 1), (1, 2, 0)):
                apq, app, aqq = m[(p, q)], m[(p, p)], m[(q, q)]
                # rotate unless a_pq is negligible (then the rotation is the identity to
                # 1e-20 relative, and θ below cannot overflow)
                rotate = xp.abs(apq) > 1e-20 * (xp.abs(app) + xp.abs(aqq))
                theta = (aqq - app) / (2.0 * xp.where(rotate, apq, 1.0))
                t = xp.where(rotate, xp.sign(theta) / (xp.abs(theta) + xp.hypot(theta, 1.0)), 0.0)
                t = xp.where(rotate & (theta == 0), 1.0, t)
                c = 1.0 / xp.sqrt(t**2 + 1.0)
                sn = t * c
                rp, rq = m[tuple(sorted((r, p)))], m[tuple(sorted((r, q)))]
                m[(p, p)], m[(q, q)], m[(p, q)] = app - t * apq, aqq + t * apq, xp.zeros_like(apq)
                m[tuple(sorted((r, p)))] = c * rp - sn * rq
                m[tuple(sorted((r, q)))] = sn * rp + c * rq
        e0, e1, e2 = m[(0, 0)], m[(1, 1)], m[(2, 2)]
        lo = xp.minimum(xp.minimum(e0, e1), e2)
        hi = xp.maximum(xp.maximum(e0, e1), e2)
        return xp.stack([lo, e0 + e1 + e2 - lo - hi, hi], axis=-1)
    return xp.linalg.eigvalsh(a)
