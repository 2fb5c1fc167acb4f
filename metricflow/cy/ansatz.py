"""Parametrisations θ ↦ H of the algebraic ansatz K_H = (1/k) log(s†Hs) (issue 16), each
giving the metric at the points as a differentiable JAX function of θ.

* :class:`SymmetricAnsatz` (Fermat hypersurfaces, :mod:`metricflow.cy.symmetry`): every
  hermitian form invariant under the Fermat group (permutations, phases, conjugation), as
  H = R† D(θ) R with D on all degree-k monomials.  θ holds first one value per exponent class
  (2, 3, 5, 7, 10 parameters at k = 2…6 on the quintic: there the classes already give every
  invariant H), then one per *coupling* orbit z^α ~ z^β (α ≡ β mod d) that raises the rank after
  the reduction R (1 at k = 7, 2 at k = 8: 14 and 20 parameters).  Positive by construction:
  D(θ) = exp S(θ), S(θ) = Σ_c θ_c 1_c + Σ_o θ_o B_o real symmetric and invariant, so D is
  invariant and positive, and R is injective; D is block diagonal over the congruence classes
  α mod d, so only the blocks a coupling touches are exponentiated (5 × 5 for k < 2d; products
  only) and D = diag(e^θ) elsewhere: without couplings the diagonal ansatz of earlier versions
  bit for bit (``--ansatz diagonal`` keeps it at every k).  Q = s_all† D s_all is *linear* in
  the values w(θ) of D on its forms (the classes and the coupling orbits inside the touched
  blocks, which exp S fills in), and so are its derivatives: with, per point and form F,
  q_F = s_all† F s_all, v_{F,a} = s_all† F ∂_a s_all, G_{F,ab} = (∂_b s_all)† F ∂_a s_all
  (∂_a s = Σ_i ∂_i s J_ia in the point's chart), Q = w·q, ∂_aQ = w·v_a, ∂_a∂̄_bQ = w·G_ab and

      g_{a b̄} = ∂_a∂̄_b K = (1/k) [ w·G_ab / Q − (w·v_a)(w·v_b)^* / Q² ]

  (the closed form of :mod:`metricflow.cy.algebraic` with H = D).  The per-form sums are
  computed once per point set (:meth:`features`, 13 complex numbers per form and point on a
  threefold), so an optimiser step costs O(N_points · forms) whatever N_k (forms = 10, 16, 25
  at k = 6, 7, 8).
* :class:`HermitianAnsatz` (any hypersurface): H = L L† with L lower triangular, its
  diagonal e^θ (positive) and its strictly lower part complex: N_k² real parameters; the
  metric by :func:`metricflow.cy.algebraic._block_metric` (same closed form).

Both map θ to the standard-basis H of an :class:`~metricflow.cy.algebraic.AlgebraicMetric`
(:meth:`to_metric`, which ``save_metric`` writes), and fit θ to a given H (:meth:`fit`,
used to start from the balanced metric).  The overall scale of H (a constant added to K)
does not change g: one flat direction of θ (all class values shifted together).
"""

from __future__ import annotations

import numpy as np

from metricflow.cy._blas import blas_threads
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
from metricflow.cy.symmetry import (
    coupling_orbits,
    exponent_classes,
    independent_couplings,
    is_fermat,
    reduced_forms,
    reduction_matrix,
)
from metricflow.errors import InvalidInputError

ANSATZE = ("auto", "symmetric", "diagonal", "hermitian")


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


def _coupling_kernel(E, k):
    """The class sums of :func:`_class_kernel` followed by the coupling sums over ordered pairs
    (α, β) (``ia``, ``ib``; ``onehot`` (P, couplings)): q_o = Σ conj(s_α) s_β, v_{o,a} = Σ conj(s_α) ∂_a s_β,
    G_{o,ab} = Σ conj(∂_b s_α) ∂_a s_β (real, resp. hermitian, as each orbit holds both orders)."""
    classes = _class_kernel(E, k)

    def block(z, jac, ia, ib, onehot):
        import jax.numpy as jnp

        q, v, G = classes(z, jac)
        s, ds = sections_and_derivatives(z, E, True)
        u = jnp.einsum("bia,bin->bna", jac, ds)
        sa, ua = jnp.conj(s[:, ia]), jnp.conj(u[:, ia])
        qo = jnp.real(sa * s[:, ib]) @ onehot
        vo = jnp.einsum("bp,bpa,po->boa", sa, u[:, ib], onehot)
        Go = jnp.einsum("bpe,bpa,po->boae", ua, u[:, ib], onehot)
        return (jnp.concatenate([q, qo], axis=1), jnp.concatenate([v, vo], axis=1),
                jnp.concatenate([G, Go], axis=1))

    return block


#: scaling and squaring of :func:`_expm_symmetric`: 2^-8, then the Taylor polynomial of degree 18
_SQUARINGS, _TAYLOR = 8, 18


def _expm_symmetric(S, xp):
    """exp of real symmetric matrices (..., s, s) by matrix products only (no LAPACK call: see
    :mod:`metricflow._linalg`), differentiable in JAX.  exp S = e^μ (exp((S − μ)/2⁸))^(2⁸) with
    μ = tr S / s; for ‖S − μ‖ ≤ 2⁸ the scaled argument has norm ≤ 1 and the Taylor remainder of
    degree 18 is below e/19! ≈ 2·10⁻¹⁷, and the 8 squarings amplify rounding by at most 2⁸:
    ~6·10⁻¹⁴ relative, far below the Monte Carlo errors (θ spans a few units in practice)."""
    s = S.shape[-1]
    mu = xp.trace(S, axis1=-2, axis2=-1) / s
    eye = xp.eye(s)
    A = (S - mu[..., None, None] * eye) / 2.0 ** _SQUARINGS
    out = eye + A / _TAYLOR
    for j in range(_TAYLOR - 1, 0, -1):  # Horner: 1 + A/1 (1 + A/2 (1 + ...))
        out = eye + (A @ out) / j
    for _ in range(_SQUARINGS):
        out = out @ out
    return xp.exp(mu)[..., None, None] * out


class SymmetricAnsatz:
    """The invariant forms of the Fermat group on all degree-k monomials (module docstring)."""

    def __init__(self, surface, k: int, couplings: bool = True):
        if not is_fermat(surface):
            raise InvalidInputError("ansatz", "the symmetric ansatz needs a Fermat hypersurface c Σ z_i^d "
                                    "(permutations and phases); use --ansatz hermitian")
        self.surface, self.k = surface, int(k)
        self.exponents, self.R = reduction_matrix(surface, k)
        self.labels, self.classes = exponent_classes(self.exponents)
        self.basis = section_basis(surface, k)
        self.kind = "symmetric" if couplings else "diagonal"
        orbits = coupling_orbits(self.exponents, surface.degree) if couplings else []
        chosen = []
        if orbits:
            with blas_threads(1):
                chosen = independent_couplings(reduced_forms(self.R, self.labels, orbits), len(self.classes))
        self.couplings = [orbits[o] for o in chosen]
        self._blocks(orbits)

    def _blocks(self, orbits) -> None:
        """The congruence blocks touched by the chosen couplings, stacked by size, with the static
        tensors T (params, blocks, s, s) of S(θ) = Σ_p θ_p T_p; the coupling orbits inside them
        (``active``, whose weights exp S(θ) fills in); and where each weight is read."""
        E, d, C = self.exponents, self.surface.degree, len(self.classes)
        residue = [tuple(x % d for x in row) for row in E.tolist()]
        touched = {residue[int(o[0, 0])] for o in self.couplings}
        members: dict[tuple, list[int]] = {}
        for i, r in enumerate(residue):
            if r in touched:
                members.setdefault(r, []).append(i)
        self.active = [o for o in orbits if residue[int(o[0, 0])] in touched]
        pair_param = {(int(a), int(b)): C + p for p, o in enumerate(self.couplings) for a, b in o}
        self._groups, where = [], {}
        for size in sorted({len(m) for m in members.values()}):
            idx = np.array([m for m in members.values() if len(m) == size], dtype=np.int64)
            T = np.zeros((self.n_params, idx.shape[0], size, size))
            for b, row in enumerate(idx):
                for i, a in enumerate(row):
                    T[self.labels[a], b, i, i] = 1.0
                    where.setdefault(("c", int(self.labels[a])), (len(self._groups), b, i, i))
                    for j, c in enumerate(row):
                        if (int(a), int(c)) in pair_param:
                            T[pair_param[int(a), int(c)], b, i, j] = 1.0
                        where[("p", int(a), int(c))] = (len(self._groups), b, i, j)
            self._groups.append(T)
        self._read = [where.get(("c", c)) for c in range(C)]
        self._read += [where["p", int(o[0, 0]), int(o[0, 1])] for o in self.active]
        pairs = [(o, p) for p, o in enumerate(self.active)]
        self._pairs = (np.concatenate([o[:, 0] for o, _ in pairs]) if pairs else np.zeros(0, np.int64),
                       np.concatenate([o[:, 1] for o, _ in pairs]) if pairs else np.zeros(0, np.int64),
                       np.concatenate([np.full(len(o), p) for o, p in pairs]) if pairs else np.zeros(0, np.int64))

    @property
    def n_params(self) -> int:
        return len(self.classes) + len(self.couplings)

    @property
    def n_features(self) -> int:
        """Forms summed per point: the classes and the coupling orbits that exp S(θ) fills in."""
        return len(self.classes) + len(self.active)

    def weights(self, theta, xp=np):
        """The values of D(θ) = exp S(θ) on the forms (classes, then the active couplings): e^{θ_c} on
        the classes outside the coupled blocks (all of them when there are no couplings, k < 7 on the
        quintic: the diagonal ansatz unchanged), entries of the blocks' exponentials otherwise."""
        h = xp.exp(theta[:len(self.classes)])
        if not self.couplings:
            return h
        E = [_expm_symmetric(xp.einsum("p,pbij->bij", theta, T), xp) for T in self._groups]
        vals = [h[c] if at is None else E[at[0]][at[1:]] for c, at in enumerate(self._read)]
        return xp.stack(vals)

    def features(self, ps) -> dict:
        """q (N, F), v (N, F, m), G (N, F, m, m) at the points for the F forms (module docstring), numpy."""
        from metricflow._x64 import x64

        n_forms, m = self.n_features, self.surface.dim
        size = block_size(self.exponents.shape[0], m)
        ia, ib, oid = self._pairs
        onehot = np.zeros((ia.size, len(self.active)))
        onehot[np.arange(ia.size), oid] = 1.0
        fn = compiled(_coupling_kernel if self.active else _class_kernel, self.exponents, self.k)
        out = {"q": np.empty((len(ps), n_forms)), "v": np.empty((len(ps), n_forms, m), complex),
               "G": np.empty((len(ps), n_forms, m, m), complex)}
        with x64():
            import jax.numpy as jnp

            extra = tuple(map(jnp.asarray, (ia, ib, onehot))) if self.active else ()
            for a, b in blocks(len(ps), size):
                zb = pad_rows(ps.points[a:b], size)
                jb = pad_rows(ps.subset(slice(a, b)).jacobian, size)
                for key, val in zip(("q", "v", "G"), fn(jnp.asarray(zb), jnp.asarray(jb), *extra), strict=True):
                    out[key][a:b] = np.asarray(val)[: b - a].real if key == "q" else np.asarray(val)[: b - a]
        return out

    def metric(self, theta, feats):
        """(g (N, m, m), Q (N,)) as JAX functions of θ."""
        import jax.numpy as jnp

        h = self.weights(theta, jnp)
        Q = feats["q"] @ h
        V = jnp.einsum("c,nca->na", h, feats["v"])
        G = jnp.einsum("c,ncab->nab", h, feats["G"])
        g = (G / Q[:, None, None] - V[:, :, None] * jnp.conj(V)[:, None, :] / Q[:, None, None] ** 2) / self.k
        return g, Q

    def _H(self, theta, xp):
        w = self.weights(theta, xp)
        DR = w[self.labels][:, None] * self.R
        if self.active:
            ia, ib, oid = self._pairs
            add = w[len(self.classes) + oid][:, None] * self.R[ib]
            if xp is np:
                np.add.at(DR, ia, add)
            else:
                DR = DR.at[ia].add(add)
        return xp.conj(self.R.T) @ DR

    def H_jax(self, theta):
        """H(θ) = R† D(θ) R as a JAX function of θ."""
        import jax.numpy as jnp

        return self._H(theta, jnp)

    def H(self, theta) -> np.ndarray:
        """The standard-basis H = R† D(θ) R."""
        H = self._H(np.asarray(theta, dtype=np.float64), np)
        return 0.5 * (H + H.conj().T)

    def fit(self, H: np.ndarray) -> np.ndarray:
        """θ whose R† D(θ) R is closest to H (Frobenius, after tr H = N_k).  Without couplings a
        linear least-squares problem in h = e^θ, h clipped at 1e-6 of its largest value to stay
        positive; with couplings that solution (couplings 0) starts Levenberg–Marquardt on the
        nonlinear θ ↦ D(θ), the residual written with the Gram matrix of the reduced forms."""
        H = np.asarray(H) * H.shape[0] / np.real(np.trace(H))
        C = len(self.classes)
        forms = reduced_forms(self.R, self.labels, self.active)
        h = np.linalg.lstsq(_real_stack(forms[:C]).T, _real_stack(H.ravel()[None]).ravel(), rcond=None)[0]
        h = np.maximum(h, 1e-6 * np.max(np.abs(h)))
        if not self.couplings:
            return np.log(h)
        return _levenberg_marquardt(lambda t: self.weights(t, _jnp()), np.concatenate(
            [np.log(h), np.zeros(len(self.couplings))]), forms, H)

    def to_metric(self, theta) -> AlgebraicMetric:
        return AlgebraicMetric(self.surface, self.k, self.basis, self.H(theta))

    def describe(self) -> dict:
        def word(e):
            return "".join(map(str, e))

        E = self.exponents
        return {"ansatz": self.kind, "n_params": self.n_params,
                "classes": [word(c).rstrip("0") for c in self.classes],
                "couplings": [f"{word(E[o[0, 0]])}~{word(E[o[0, 1]])}" for o in self.couplings]}


def _jnp():
    import jax.numpy as jnp

    return jnp


def _real_stack(rows: np.ndarray) -> np.ndarray:
    """Complex rows (r, n) as real rows (r, 2n): the Frobenius inner product's real part."""
    return np.concatenate([rows.real, rows.imag], axis=1)


def _levenberg_marquardt(weights, theta0, forms, H, iterations: int = 100) -> np.ndarray:
    """min_θ ‖Σ_j w_j(θ) F_j − H‖²_F = w·Gw − 2 w·b + const (G = Re F F†, b = Re F H†): Gauss–Newton
    steps (JᵀGJ + λ diag) δ = −Jᵀ(Gw − b), J = ∂w/∂θ, λ adapted; stops when the objective no longer
    falls by 1e-14 of ‖H‖² (round-off of the Gram products)."""
    import jax

    from metricflow._x64 import x64

    F = _real_stack(forms)
    G, b = F @ F.T, F @ _real_stack(H.ravel()[None]).ravel()
    scale = float(np.sum(np.abs(H) ** 2))

    def objective(w):
        return float(w @ G @ w - 2 * w @ b) + scale

    with x64():
        wfn = jax.jit(weights)
        jac = jax.jit(jax.jacfwd(weights))
        theta = np.asarray(theta0, dtype=np.float64)
        w = np.asarray(wfn(theta))
        value, lam = objective(w), 1e-3
        for _ in range(iterations):
            J = np.asarray(jac(theta))
            A, g = J.T @ G @ J, J.T @ (G @ w - b)
            while lam < 1e12:
                trial = theta - np.linalg.solve(A + lam * np.diag(np.diag(A) + 1e-300), g)
                w_trial = np.asarray(wfn(trial))
                v_trial = objective(w_trial)
                if np.isfinite(v_trial) and v_trial <= value:
                    break
                lam *= 10.0
            else:
                break
            done = value - v_trial < 1e-14 * scale
            theta, w, value, lam = trial, w_trial, v_trial, max(lam / 10.0, 1e-12)
            if done:
                break
    return theta


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
    """``symmetric`` (Fermat hypersurfaces: every invariant form), ``diagonal`` (Fermat: the class
    values only, the sub-ansatz of earlier versions, kept for comparison), ``hermitian`` (any),
    or ``auto``: symmetric when the hypersurface is Fermat, else hermitian."""
    if kind not in ANSATZE:
        raise InvalidInputError("ansatz", f"expected one of {ANSATZE}, got {kind!r}")
    if kind == "diagonal":
        return SymmetricAnsatz(surface, k, couplings=False)
    if kind == "symmetric" or (kind == "auto" and is_fermat(surface)):
        return SymmetricAnsatz(surface, k)
    return HermitianAnsatz(surface, k)


__all__ = ["ANSATZE", "HermitianAnsatz", "SymmetricAnsatz", "make_ansatz"]
