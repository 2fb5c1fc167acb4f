"""The sampling pipeline of :mod:`metricflow.cy.sampling` in JAX (``backend="jax"``).

Same mathematics and the same random lines as the numpy path (the lines are drawn by
numpy's ``default_rng`` and handed over), jitted as one function of a batch of lines:
coefficients of P(a + t b) by batched polynomial products, all roots by the
Aberth-Ehrlich iteration (a ``while_loop`` until every line has converged; converged
lines are frozen), the points, patch, eliminated coordinate, |Omega|^2, dz_e/dx_a, the
pulled-back FS metric, its determinant and the weights.  When JAX sees several
devices the batch of lines is sharded over a 1-D mesh of all of them
(``NamedSharding``), and XLA runs each device's share; the only communication is the
"all converged?" reduction of the root iteration.  Float64 throughout (``x64``).

Batches are padded to a few fixed sizes (8 per power of two, multiples of the device count)
so that the function compiles once per size; the padding repeats the first line and
is dropped.
"""

from __future__ import annotations

import functools

import numpy as np

from metricflow import _linalg as la
from metricflow._x64 import x64
from metricflow.cy.geometry import _chart_table, poly_and_gradient
from metricflow.errors import NumericalError

_MAX_ITER = 60
_RTOL = 1e-8


def _polymul(jnp, p, q):
    out = jnp.zeros((p.shape[0], p.shape[1] + q.shape[1] - 1), dtype=p.dtype)
    for j in range(q.shape[1]):
        out = out.at[:, j : j + p.shape[1]].add(p * q[:, j : j + 1])
    return out


def _line_coefficients(jnp, exponents, coefficients, a, b):
    """(L, d+1) coefficients, increasing powers, of P(a + t b) (as sampling.line_coefficients)."""
    L = a.shape[0]
    d = int(exponents[0].sum())
    powers = {}

    def power(i, e):
        if (i, e) not in powers:
            if e == 0:
                powers[(i, e)] = jnp.ones((L, 1), dtype=a.dtype)
            else:
                prev = power(i, e - 1)
                out = jnp.zeros((L, e + 1), dtype=a.dtype)
                out = out.at[:, :e].set(prev * a[:, i : i + 1])
                out = out.at[:, 1:].add(prev * b[:, i : i + 1])
                powers[(i, e)] = out
        return powers[(i, e)]

    coef = jnp.zeros((L, d + 1), dtype=a.dtype)
    for row, c in zip(exponents, coefficients, strict=True):
        poly = None
        for i in np.flatnonzero(row):
            f = power(int(i), int(row[i]))
            poly = f if poly is None else _polymul(jnp, poly, f)
        coef = coef + complex(c) * poly
    return coef


def _roots(jax, jnp, coef):
    """All roots (L, d) and a converged flag per line (as sampling.polynomial_roots)."""
    L, d1 = coef.shape
    d = d1 - 1
    p = (coef[:, :-1] / coef[:, -1:]).T  # (d, L), monic
    r = jnp.abs(p[0]) ** (1.0 / d)
    r = jnp.where(jnp.isfinite(r) & (r > 0), r, 1.0)
    ang = 2 * np.pi * np.arange(d) / d + 0.4
    z0 = jnp.asarray(np.exp(1j * ang))[:, None] * r[None, :]
    off = jnp.asarray(~np.eye(d, dtype=bool))[:, :, None]

    def sweep(state):
        z, done, it = state
        pv = jnp.ones_like(z)
        dp = jnp.zeros_like(z)
        for j in range(d - 1, -1, -1):
            dp = dp * z + pv
            pv = pv * z + p[j]
        ratio = pv / dp
        diff = z[:, None, :] - z[None, :, :]
        s = jnp.sum(jnp.where(off, 1.0 / jnp.where(off, diff, 1.0), 0.0), axis=1)
        w = ratio / (1.0 - ratio * s)
        w = jnp.where(jnp.isfinite(w) & ~done[None, :], w, 0.0)
        z = z - w
        done = done | jnp.all(jnp.abs(w) <= _RTOL * jnp.abs(z), axis=0)
        return z, done, it + 1

    def more(state):
        _, done, it = state
        return (it < _MAX_ITER) & ~jnp.all(done)

    z, done, _ = jax.lax.while_loop(more, sweep, (z0, jnp.zeros(L, dtype=bool), 0))
    return z.T, done


def _geometry(jnp, exponents, coefficients, table, z):
    """Patch, eliminated coordinate, |Omega|^2, dz_e/dx_a, FS pull-back, det, weights and
    the relative residual at points z (N, n+1) (as sampling.point_geometry, chart=None)."""
    N, n1 = z.shape
    k = n1 - 2
    cols = jnp.arange(n1)[None, :]
    p = jnp.argmax(z.real**2 + z.imag**2, axis=1)
    is_p = cols == p[:, None]
    zp = jnp.take_along_axis(z, p[:, None], axis=1)
    z = jnp.where(is_p, 1.0 + 0.0j, z / zp)
    val, grad, absval = poly_and_gradient(jnp, exponents, coefficients, z.T)
    grad = grad.T
    ag = jnp.where(is_p, -1.0, grad.real**2 + grad.imag**2)
    e = jnp.argmax(ag, axis=1)
    ge = jnp.take_along_axis(grad, e[:, None], axis=1)[:, 0]
    coords = jnp.asarray(table)[p, e]  # (N, k)
    omega2 = 1.0 / (ge.real**2 + ge.imag**2)
    dxe = jnp.take_along_axis(grad, coords, axis=1) * (-1.0 / ge)[:, None]
    norm2 = jnp.sum(z.real**2 + z.imag**2, axis=1)
    ze = jnp.take_along_axis(z, e[:, None], axis=1)
    u = (jnp.conj(jnp.take_along_axis(z, coords, axis=1)) + dxe * jnp.conj(ze)) / jnp.sqrt(norm2)[:, None]
    g = dxe[:, :, None] * jnp.conj(dxe)[:, None, :] - u[:, :, None] * jnp.conj(u)[:, None, :]
    eye = jnp.eye(k, dtype=bool)[None]
    g = jnp.where(eye, g.real + 1.0, g) / norm2[:, None, None]
    det = la.hermitian_det(g)
    resid = jnp.abs(val) / jnp.where(absval > 0, absval, 1.0)
    return dict(points=z, patch=p.astype(jnp.int8), elim=e.astype(jnp.int8),
                coords=coords.astype(jnp.int8), omega2=omega2, dxe=dxe, g_fs=g, det_g_fs=det,
                weights=omega2 / det, residual=resid)


@functools.lru_cache(maxsize=16)
def _compiled(key, exponents_bytes, shape, coefficients_bytes, what):
    """One jitted function per polynomial and kind ("sample": lines -> geometry,
    "geometry": points -> geometry); jit itself caches one executable per shape."""
    import jax
    import jax.numpy as jnp

    exponents = np.frombuffer(exponents_bytes, dtype=np.int64).reshape(shape)
    coefficients = np.frombuffer(coefficients_bytes, dtype=np.complex128)
    table = _chart_table(shape[1])

    if what == "geometry":
        return jax.jit(lambda z: _geometry(jnp, exponents, coefficients, table, z))

    def run(a, b):
        t, done = _roots(jax, jnp, _line_coefficients(jnp, exponents, coefficients, a, b))
        z = (a[:, None, :] + t[:, :, None] * b[:, None, :]).reshape(-1, a.shape[1])
        return _geometry(jnp, exponents, coefficients, table, z), done

    return jax.jit(run)


def _key(X):
    E = np.ascontiguousarray(X.exponents, dtype=np.int64)
    C = np.ascontiguousarray(X.coefficients, dtype=np.complex128)
    return (E.tobytes(), E.shape, C.tobytes())


def _mesh_sharding():
    """NamedSharding of the batch axis over a 1-D mesh of all devices (None for one)."""
    import jax
    from jax.sharding import Mesh, NamedSharding, PartitionSpec

    devices = jax.devices()
    if len(devices) < 2:
        return None, 1
    mesh = Mesh(np.array(devices), ("batch",))
    return NamedSharding(mesh, PartitionSpec("batch")), len(devices)


def _bucket(L: int, ndev: int) -> int:
    """L rounded up to a multiple of 1/8 of the next power of two (at most 12.5% padding,
    8 sizes per octave) and of the device count."""
    step = max(32, (1 << (int(L) - 1).bit_length()) // 8)
    size = -(-int(L) // step) * step
    return -(-size // ndev) * ndev


def _to_numpy(geo: dict, n: int) -> dict:
    return {k: np.asarray(v)[:n] for k, v in geo.items()}


def lines_geometry(X, a: np.ndarray, b: np.ndarray) -> dict:
    """Points and geometry (numpy arrays, as sampling.point_geometry) of the lines
    a + t b (L, n+1), in JAX, sharded over the devices when there are several."""
    import jax

    L = a.shape[0]
    with x64():
        sharding, ndev = _mesh_sharding()
        size = _bucket(L, ndev)
        pad = size - L
        if pad:
            a = np.concatenate([a, np.repeat(a[:1], pad, axis=0)])
            b = np.concatenate([b, np.repeat(b[:1], pad, axis=0)])
        E, shape, C = _key(X)
        fn = _compiled(None, E, shape, C, "sample")
        if sharding is not None:
            a, b = jax.device_put(a, sharding), jax.device_put(b, sharding)
        geo, done = fn(a, b)
        done = np.asarray(done)[:L]
        out = _to_numpy(geo, L * X.degree)
    if not done.all():
        raise NumericalError(f"root finding did not converge for {int((~done).sum())} of {L} "
                             f"lines within {_MAX_ITER} sweeps")
    return out


def point_geometry(X, z: np.ndarray) -> dict:
    """sampling.point_geometry (best chart per point) of points z (N, n+1) in JAX."""
    import jax

    z = np.asarray(z, dtype=np.complex128)
    N = z.shape[0]
    with x64():
        sharding, ndev = _mesh_sharding()
        size = _bucket(N, ndev)
        if size > N:
            z = np.concatenate([z, np.repeat(z[:1], size - N, axis=0)])
        E, shape, C = _key(X)
        fn = _compiled(None, E, shape, C, "geometry")
        zz = jax.device_put(z, sharding) if sharding is not None else z
        return _to_numpy(fn(zz), N)


def devices() -> list[str]:
    import jax

    return [str(d) for d in jax.devices()]
