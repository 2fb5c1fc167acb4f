"""Parametrisations θ ↦ H of the algebraic ansatz K_H = (1/k) log(s†Hs) (issue 16), each
giving the metric at the points as a differentiable JAX function of θ.

* :class:`SymmetricAnsatz` (Fermat hypersurfaces, :mod:`metricflow.cy.symmetry`): the form
  D = Σ_c e^{θ_c} 1_c on all degree-k monomials, one positive value per exponent class
  (2, 3, 5 parameters at k = 2, 3, 4 on the quintic).  Q = s_all† D s_all is *linear* in
  h = e^θ, and so are its derivatives: with, per point and class,
  q_c = Σ_{α∈c} |s_α|², v_{c,a} = Σ_{α∈c} conj(s_α) ∂_a s_α, G_{c,ab} = Σ_{α∈c} conj(∂_b s_α) ∂_a s_α
  (∂_a s = Σ_i ∂_i s J_ia in the point's chart), Q = h·q, ∂_aQ = h·v_a, ∂_a∂̄_bQ = h·G_ab and

      g_{a b̄} = ∂_a∂̄_b K = (1/k) [ h·G_ab / Q − (h·v_a)(h·v_b)^* / Q² ]

  (the closed form of :mod:`metricflow.cy.algebraic` with H = D).  The per-class sums are
  computed once per point set (:meth:`features`, 13 complex numbers per class and point on
  a threefold), so an optimiser step costs O(N_points · classes) whatever N_k.
* :class:`HermitianAnsatz` (any hypersurface): H = L L† with L lower triangular, its
  diagonal e^θ (positive) and its strictly lower part complex: N_k² real parameters; the
  metric by :func:`metricflow.cy.algebraic._block_metric` (same closed form).

Both map θ to the standard-basis H of an :class:`~metricflow.cy.algebraic.AlgebraicMetric`
(:meth:`to_metric`, which ``save_metric`` writes), and fit θ to a given H (:meth:`fit`,
used to start from the balanced metric).  The overall scale of H (a constant added to K)
does not change g: one flat direction of θ.
"""

from __future__ import annotations

import numpy as np

from metricflow.cy.algebraic import (
    AlgebraicMetric,
    _block_metric,
    block_size,
    blocks,
    compiled,
    pad_rows,
    sections_and_derivatives,
)
from metricflow.cy.sections import section_basis
from metricflow.cy.symmetry import exponent_classes, is_fermat, reduction_matrix
from metricflow.errors import InvalidInputError

ANSATZE = ("auto", "symmetric", "hermitian")


def _class_kernel(E, k):
    labels, classes = exponent_classes(E)
    C = np.zeros((E.shape[0], len(classes)))
    C[np.arange(E.shape[0]), labels] = 1.0

    def block(z, jac):
        import jax.numpy as jnp

        s, ds = sections_and_derivatives(z, E, True)
        u = jnp.einsum("bia,bin->bna", jac, ds)  # d_a s
        q = (jnp.abs(s) ** 2) @ C
        v = jnp.einsum("bn,bna,nc->bca", jnp.conj(s), u, C)
        G = jnp.einsum("bne,bna,nc->bcae", jnp.conj(u), u, C)  # [c, a, b]
        return q, v, G

    return block


class SymmetricAnsatz:
    """One positive value per exponent class on all degree-k monomials (module docstring)."""

    kind = "symmetric"

    def __init__(self, surface, k: int):
        if not is_fermat(surface):
            raise InvalidInputError("ansatz", "the symmetric ansatz needs a Fermat hypersurface c Σ z_i^d "
                                    "(permutations and phases); use --ansatz hermitian")
        self.surface, self.k = surface, int(k)
        self.exponents, self.R = reduction_matrix(surface, k)
        self.labels, self.classes = exponent_classes(self.exponents)
        self.basis = section_basis(surface, k)

    @property
    def n_params(self) -> int:
        return len(self.classes)

    def features(self, ps) -> dict:
        """q (N, C), v (N, C, m), G (N, C, m, m) at the points (module docstring), numpy."""
        from metricflow._x64 import x64

        n_cls, m = self.n_params, self.surface.dim
        size = block_size(self.exponents.shape[0], m)
        fn = compiled(_class_kernel, self.exponents, self.k)
        out = {"q": np.empty((len(ps), n_cls)), "v": np.empty((len(ps), n_cls, m), complex),
               "G": np.empty((len(ps), n_cls, m, m), complex)}
        with x64():
            import jax.numpy as jnp

            for a, b in blocks(len(ps), size):
                zb = pad_rows(ps.points[a:b], size)
                jb = pad_rows(ps.subset(slice(a, b)).jacobian, size)
                for key, val in zip(("q", "v", "G"), fn(jnp.asarray(zb), jnp.asarray(jb)), strict=True):
                    out[key][a:b] = np.asarray(val)[: b - a].real if key == "q" else np.asarray(val)[: b - a]
        return out

    def metric(self, theta, feats):
        """(g (N, m, m), Q (N,)) as JAX functions of θ."""
        import jax.numpy as jnp

        h = jnp.exp(theta)
        Q = feats["q"] @ h
        V = jnp.einsum("c,nca->na", h, feats["v"])
        G = jnp.einsum("c,ncab->nab", h, feats["G"])
        g = (G / Q[:, None, None] - V[:, :, None] * jnp.conj(V)[:, None, :] / Q[:, None, None] ** 2) / self.k
        return g, Q

    def H_jax(self, theta):
        """H(θ) = R† D R as a JAX function of θ."""
        import jax.numpy as jnp

        d = jnp.exp(theta)[self.labels]
        return jnp.conj(self.R.T) @ (d[:, None] * self.R)

    def H(self, theta) -> np.ndarray:
        """The standard-basis H = R† D R (D = diag(e^θ) on the classes)."""
        d = np.exp(np.asarray(theta, dtype=np.float64))[self.labels]
        H = self.R.conj().T @ (d[:, None] * self.R)
        return 0.5 * (H + H.conj().T)

    def fit(self, H: np.ndarray) -> np.ndarray:
        """θ whose R† D R is closest to H (Frobenius, after tr H = N_k): a linear least-squares
        problem in h = e^θ; h is clipped at 1e-6 of its largest value to stay positive."""
        H = np.asarray(H) * H.shape[0] / np.real(np.trace(H))
        cols = []
        for c in range(self.n_params):
            Rc = self.R[self.labels == c]
            cols.append((Rc.conj().T @ Rc).ravel())
        A = np.stack(cols, axis=1)
        A2 = np.concatenate([A.real, A.imag])
        b2 = np.concatenate([H.ravel().real, H.ravel().imag])
        h = np.linalg.lstsq(A2, b2, rcond=None)[0]
        h = np.maximum(h, 1e-6 * np.max(np.abs(h)))
        return np.log(h)

    def to_metric(self, theta) -> AlgebraicMetric:
        return AlgebraicMetric(self.surface, self.k, self.basis, self.H(theta))

    def describe(self) -> dict:
        return {"ansatz": self.kind, "n_params": self.n_params,
                "classes": ["".join(map(str, c)).rstrip("0") for c in self.classes]}


class HermitianAnsatz:
    """H = L L†, L lower triangular with diagonal e^θ (module docstring)."""

    kind = "hermitian"

    def __init__(self, surface, k: int):
        self.surface, self.k = surface, int(k)
        self.basis = section_basis(surface, k)
        N = self.basis.shape[0]
        self._rows, self._cols = np.tril_indices(N, -1)

    @property
    def n_params(self) -> int:
        N = self.basis.shape[0]
        return N * N

    def _L(self, theta, xp):
        N = self.basis.shape[0]
        n_off = self._rows.size
        off = theta[N:N + n_off] + 1j * theta[N + n_off:]
        L = xp.zeros((N, N), dtype=complex)
        if xp is np:
            L[self._rows, self._cols] = off
            L[np.arange(N), np.arange(N)] = np.exp(theta[:N])
            return L
        L = L.at[self._rows, self._cols].set(off)
        return L.at[np.arange(N), np.arange(N)].set(xp.exp(theta[:N]))

    def features(self, ps) -> dict:
        return {"z": np.asarray(ps.points), "jac": np.asarray(ps.jacobian)}

    def metric(self, theta, feats):

        return _block_metric(feats["z"], feats["jac"], self.H_jax(theta), self.basis, self.k)

    def H_jax(self, theta):
        """H(θ) = L L† as a JAX function of θ."""
        import jax.numpy as jnp

        L = self._L(theta, jnp)
        return L @ jnp.conj(L.T)

    def H(self, theta) -> np.ndarray:
        L = self._L(np.asarray(theta, dtype=np.float64), np)
        H = L @ L.conj().T
        return 0.5 * (H + H.conj().T)

    def fit(self, H: np.ndarray) -> np.ndarray:
        """θ of the Cholesky factor of H (after tr H = N_k)."""
        H = np.asarray(H) * H.shape[0] / np.real(np.trace(H))
        L = np.linalg.cholesky(0.5 * (H + H.conj().T))
        off = L[self._rows, self._cols]
        return np.concatenate([np.log(np.real(np.diag(L))), off.real, off.imag])

    def to_metric(self, theta) -> AlgebraicMetric:
        return AlgebraicMetric(self.surface, self.k, self.basis, self.H(theta))

    def describe(self) -> dict:
        return {"ansatz": self.kind, "n_params": self.n_params}


def make_ansatz(surface, k: int, kind: str = "auto"):
    """``symmetric`` (Fermat hypersurfaces), ``hermitian`` (any), or ``auto``: symmetric
    when the hypersurface is Fermat, else hermitian."""
    if kind not in ANSATZE:
        raise InvalidInputError("ansatz", f"expected one of {ANSATZE}, got {kind!r}")
    if kind == "symmetric" or (kind == "auto" and is_fermat(surface)):
        return SymmetricAnsatz(surface, k)
    return HermitianAnsatz(surface, k)


__all__ = ["ANSATZE", "HermitianAnsatz", "SymmetricAnsatz", "make_ansatz"]
