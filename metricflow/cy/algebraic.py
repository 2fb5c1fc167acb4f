"""Algebraic Kahler metrics K_H = (1/k) log(s^dagger H s) on a hypersurface (issue 16).

``s`` is the basis of degree-k sections of :mod:`metricflow.cy.sections` (standard
monomials modulo P), H a hermitian positive-definite N_k x N_k matrix, and

    s^dagger H s = sum_{alpha beta} conj(s_alpha) H_{alpha beta} s_beta

is a degree-(k, k) hermitian form, so K_H - log|z|^2 is a function on P^n (DESIGN.md,
potentials on P^n).  In the affine coordinates of a point's patch (z_p = 1), with
Q = s^dagger H s and holomorphic s, d_i Q = s^dagger H (d_i s) and dbar_j Q =
(d_j s)^dagger H s, hence the metric (B.1, g_{i jbar} = d_i dbar_j K)

    g_{i jbar} = (1/k) [ (d_j s)^dagger H (d_i s) / Q - (s^dagger H d_i s)(d_j s)^dagger H s / Q^2 ].

For k = 1, H = 1, s = z this is delta_ij/|z|^2 - conj(z_i) z_j/|z|^4, the Fubini-Study
metric of docs/cy.md (a test).  The pull-back to X in the point's own chart (p, e) is
g_{a bbar} = J_{ia} g_{i jbar} conj(J_{jb}) with J = dz/dx (``PointSet.jacobian``), i.e.
d_a s = sum_i (d_i s) J_{ia}: the same convention as ``PointSet.g_fs``, so
``cy.sigma(ps, metric)`` works unchanged with an :class:`AlgebraicMetric`.

Everything runs in JAX in float64, blocked over points (the block size keeps the
(block, N_k, n-1) arrays near :data:`BLOCK_BYTES`); determinants by the closed forms of
:mod:`metricflow._linalg` (no batched LAPACK call, see its docstring).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from metricflow.cy.hypersurface import Hypersurface, from_monomials
from metricflow.cy.sections import section_basis
from metricflow.errors import InvalidInputError

FORMAT = "metricflow.cy.algebraic/1"
#: target size of the per-block work arrays (bytes); see :func:`block_size`
BLOCK_BYTES = 32 * 2**20


def block_size(n_sections: int, dim: int, budget: int = BLOCK_BYTES) -> int:
    """Points per block so that s, H s, d s and H d s (complex128: 16 bytes each,
    (2 dim + 2) N_k numbers per point) fill about ``budget`` bytes; a power of two in
    [64, 65536] so that few block shapes are ever compiled."""
    per_point = 16 * n_sections * (2 * dim + 2)
    b = max(64, min(65536, budget // per_point))
    return 1 << (int(b).bit_length() - 1)


def sections_and_derivatives(z, E, with_derivatives: bool):
    """s_alpha(z) = prod_i z_i^E[alpha, i], (B, N_k), and d s_alpha/d z_i, (B, n+1, N_k),
    by a table of powers (no division by z_i, which may vanish)."""
    import jax.numpy as jnp

    kmax = int(E.max()) if E.size else 0
    pw = z[:, :, None] ** jnp.arange(kmax + 1)  # (B, n+1, kmax+1)
    n1 = E.shape[1]
    factors = [pw[:, i, E[:, i]] for i in range(n1)]  # each (B, N_k)
    s = factors[0]
    for f in factors[1:]:
        s = s * f
    if not with_derivatives:
        return s, None
    ds = []
    for i in range(n1):
        lower = np.maximum(E[:, i] - 1, 0)
        d = E[:, i] * pw[:, i, lower]
        for j in range(n1):
            if j != i:
                d = d * factors[j]
        ds.append(d)
    return s, jnp.stack(ds, axis=1)


def _block_metric(z, jac, H, E, k: int):
    """The pulled-back metric (B, m, m), Q = s^dagger H s (B,), for one block of points."""
    import jax.numpy as jnp

    s, ds = sections_and_derivatives(z, E, True)
    u = jnp.einsum("bia,bin->bna", jac, ds)  # d_a s = sum_i J_ia d_i s, (B, N_k, m)
    Hs = s @ H.T  # (H s)_alpha
    Hu = jnp.einsum("nl,bla->bna", H, u)  # H d_a s
    q = jnp.real(jnp.sum(jnp.conj(s) * Hs, axis=1))  # s^dagger H s > 0
    g1 = jnp.einsum("bnc,bna->bac", jnp.conj(u), Hu)  # [a, b] = (d_b s)^dagger H (d_a s)
    v = jnp.einsum("bn,bna->ba", jnp.conj(s), Hu)  # s^dagger H d_a s
    g = (g1 / q[:, None, None] - v[:, :, None] * jnp.conj(v)[:, None, :] / q[:, None, None] ** 2) / k
    return g, q


@functools.lru_cache(maxsize=32)
def _compiled(factory, basis_bytes: bytes, shape: tuple[int, int], k: int):
    import jax

    E = np.frombuffer(basis_bytes, dtype=np.int64).reshape(shape)
    return jax.jit(factory(E, k))


def compiled(factory, basis: np.ndarray, k: int):
    """``jax.jit`` of the block kernel ``factory(E, k)`` (a function of JAX arrays) with the
    basis E and k baked in as constants: one compilation per (kernel, basis, block shape)."""
    E = np.ascontiguousarray(basis, dtype=np.int64)
    return _compiled(factory, E.tobytes(), E.shape, int(k))


def _metric_kernel(E, k):
    return lambda z, jac, H: _block_metric(z, jac, H, E, k)


def blocks(n: int, size: int):
    """(start, stop) of consecutive blocks of ``size`` covering range(n)."""
    return [(a, min(a + size, n)) for a in range(0, n, size)]


def pad_rows(a: np.ndarray, size: int) -> np.ndarray:
    """``a`` padded to ``size`` rows by repeating its first row (keeps one compiled shape)."""
    if a.shape[0] == size:
        return a
    return np.concatenate([a, np.repeat(a[:1], size - a.shape[0], axis=0)])


@dataclass(frozen=True, eq=False)
class AlgebraicMetric:
    """K_H = (1/k) log(s^dagger H s) on ``surface``; ``basis`` the exponents (N_k, n+1)
    of the sections, ``H`` (N_k, N_k) hermitian positive definite.  Calling it on a
    :class:`~metricflow.cy.PointSet` returns g (N, n-1, n-1) in each point's own chart."""

    surface: Hypersurface
    k: int
    basis: np.ndarray
    H: np.ndarray

    @classmethod
    def identity(cls, surface: Hypersurface, k: int) -> AlgebraicMetric:
        E = section_basis(surface, k)
        return cls(surface, int(k), E, np.eye(E.shape[0], dtype=np.complex128))

    @property
    def n_sections(self) -> int:
        return int(self.basis.shape[0])

    def _check_points(self, ps) -> None:
        X = ps.surface
        if not same_polynomial(X, self.surface):
            raise InvalidInputError("metric", f"the metric lives on {self.surface.spec or 'a custom'!r} "
                                    f"hypersurface, the points on {X.spec or 'a custom'!r} one")

    def metric_and_potential(self, ps, block: int | None = None) -> tuple[np.ndarray, np.ndarray]:
        """g (N, m, m) complex and Q = s^dagger H s (N,) at the points (blocked JAX)."""
        from metricflow._x64 import x64

        self._check_points(ps)
        m = self.surface.dim
        size = block or block_size(self.n_sections, m)
        out_g = np.empty((len(ps), m, m), dtype=np.complex128)
        out_q = np.empty(len(ps))
        fn = compiled(_metric_kernel, self.basis, self.k)
        with x64():
            import jax.numpy as jnp

            H = jnp.asarray(self.H, dtype=jnp.complex128)
            for a, b in blocks(len(ps), size):
                zb = pad_rows(ps.points[a:b], size)
                jb = pad_rows(ps.subset(slice(a, b)).jacobian, size)  # per block: bounded memory
                g, q = fn(jnp.asarray(zb), jnp.asarray(jb), H)
                out_g[a:b] = np.asarray(g)[: b - a]
                out_q[a:b] = np.asarray(q)[: b - a]
        return out_g, out_q

    def __call__(self, ps) -> np.ndarray:
        return self.metric_and_potential(ps)[0]

    def geometry(self, ps) -> dict:
        """g, det g (real, closed form), kappa (B.10) and eta = det g/(kappa |Omega|^2) (B.11)."""
        from metricflow._linalg import det

        g = self(ps)
        dg = np.real(det(g))
        r = dg / ps.det_g_fs
        kappa = float(r.sum() / ps.weights.sum())
        return {"g": g, "det": dg, "kappa": kappa, "eta": r / (kappa * ps.weights)}

    def to_arrays(self) -> dict:
        meta = {"format": FORMAT, "k": self.k, "n_sections": self.n_sections,
                "hypersurface": self.surface.to_dict()}
        return {"meta": np.array(json.dumps(meta)), "H": self.H, "basis": self.basis,
                "exponents": self.surface.exponents, "coefficients": self.surface.coefficients}


def same_polynomial(A: Hypersurface, B: Hypersurface) -> bool:
    """The same monomials with proportional coefficients."""
    ka = {tuple(r): c for r, c in zip(A.exponents.tolist(), A.coefficients, strict=True)}
    kb = {tuple(r): c for r, c in zip(B.exponents.tolist(), B.coefficients, strict=True)}
    if A.n_ambient != B.n_ambient or set(ka) != set(kb):
        return False
    ref = next(iter(ka))
    c = kb[ref] / ka[ref]
    return all(abs(kb[key] - c * ka[key]) <= 1e-12 * (abs(kb[key]) + 1.0) for key in ka)


METRIC_FILE = "metric.npz"


def save_metric(metric: AlgebraicMetric, directory: str | Path) -> Path:
    """Write ``metric.npz`` (H, k, the basis and the polynomial) into ``directory`` atomically."""
    from metricflow.io import save_npz_atomic

    return save_npz_atomic(Path(directory) / METRIC_FILE, **metric.to_arrays())


def locate_saved(path, filename: str, argument: str, what: str, command: str) -> Path:
    """``path/filename`` for a directory, else ``path``; InvalidInputError naming ``argument`` if absent."""
    p = Path(path)
    f = p / filename if p.is_dir() else p
    if not f.is_file():
        raise InvalidInputError(argument, f"{str(path)!r} holds no saved {what} ({filename}); write one with "
                                f"'{command}'")
    return f


def read_saved(f: Path) -> tuple[dict, dict, Hypersurface]:
    """The arrays, the JSON ``meta`` and the hypersurface (``exponents``, ``coefficients``)
    of a saved metric file; raises KeyError, ValueError, OSError... for the caller to name."""
    with np.load(f, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    meta = json.loads(str(arrays["meta"]))
    X = from_monomials(arrays["exponents"], arrays["coefficients"], name=meta["hypersurface"].get("name", "custom"),
                       spec=meta["hypersurface"].get("spec", ""), check_smooth=False)
    return arrays, meta, X


def load_metric(path: str | Path, argument: str = "metric") -> AlgebraicMetric:
    """Read a metric saved by :func:`save_metric` (a directory or its ``metric.npz``);
    InvalidInputError naming ``argument`` for anything else or an inconsistent file."""
    f = locate_saved(path, METRIC_FILE, argument, "algebraic metric", "metricflow cy donaldson --out DIR")
    try:
        arrays, meta, X = read_saved(f)
        H, E = arrays["H"], arrays["basis"]
        k = int(meta["k"])
    except (KeyError, ValueError, TypeError, OSError, json.JSONDecodeError) as exc:
        raise InvalidInputError(argument, f"cannot read {str(f)!r} as an algebraic metric: {exc}") from exc
    if meta.get("format") != FORMAT:
        raise InvalidInputError(argument, f"{str(f)!r} has format {meta.get('format')!r}, expected {FORMAT!r}")
    return checked_metric(X, k, E, H, f, argument)


def checked_metric(X: Hypersurface, k: int, E: np.ndarray, H: np.ndarray, f, argument: str) -> AlgebraicMetric:
    """The metric read from file ``f`` after checking that E is the degree-k basis and H
    hermitian positive definite; InvalidInputError naming ``argument`` otherwise."""
    expected = section_basis(X, k)
    if E.shape != expected.shape or not np.array_equal(E, expected):
        raise InvalidInputError(argument, f"{str(f)!r}: the stored basis is not the degree-{k} section basis")
    N = E.shape[0]
    ok = H.shape == (N, N) and np.issubdtype(H.dtype, np.number) and bool(np.all(np.isfinite(H)))
    if not ok or not np.allclose(H, np.conj(H.T), atol=1e-12 * np.abs(H).max()):
        raise InvalidInputError(argument, f"{str(f)!r}: H must be a finite hermitian {N} x {N} matrix")
    if np.linalg.eigvalsh(H).min() <= 0:
        raise InvalidInputError(argument, f"{str(f)!r}: H is not positive definite")
    return AlgebraicMetric(X, k, E, H.astype(np.complex128))


def ambient_form(metric: AlgebraicMetric):
    """``G(z)``: the ambient hermitian form ∂_i ∂̄_j (1/k) log(s^dagger H s) (n+1, n+1) at one
    point z (n+1,), in JAX (differentiable in z), whose pull-back J^T G conj(J) is the
    metric of the module docstring (B.1); for a potential network on this base."""
    import jax.numpy as jnp

    E, k, H0 = np.asarray(metric.basis), metric.k, np.asarray(metric.H, dtype=np.complex128)

    def G(z):
        H = jnp.asarray(H0, dtype=z.dtype)  # here, not above: the caller's precision (x64) applies
        s, ds = sections_and_derivatives(z[None], E, True)
        s, ds = s[0], ds[0]  # (N_k,), (n+1, N_k)
        Hs, Hds = H @ s, ds @ H.T  # (H s)_alpha, (H d_i s)_alpha
        q = jnp.real(jnp.vdot(s, Hs))
        g1 = Hds @ jnp.conj(ds).T  # [i, j] = (d_j s)^dagger H (d_i s)
        v = Hds @ jnp.conj(s)  # s^dagger H d_i s
        return (g1 / q - v[:, None] * jnp.conj(v)[None, :] / q**2) / k

    return G


__all__ = ["AlgebraicMetric", "BLOCK_BYTES", "ambient_form", "block_size", "checked_metric", "load_metric",
           "sections_and_derivatives", "same_polynomial", "save_metric"]
