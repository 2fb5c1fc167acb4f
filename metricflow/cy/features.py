"""The inputs of the potential network φ_NN (issue 15): real functions on P^n, that is,
functions of z invariant under z -> λz, so that g_base + ∂∂̄φ_NN stays in the base's
Kähler class and is one tensor in every chart (:mod:`metricflow.cy.networks`).

Three families, named by the ``inputs`` of a :class:`~metricflow.cy.networks.Architecture`:

* ``u`` (the default): u_ij = z_i conj(z_j)/|z|^2 — the n+1 real diagonal entries, then Re
  and Im of the upper triangle: (n+1)^2 reals of degree (1, 1).
* ``monomials:K``: t_α = |z^α|^2/|z|^{2K} for every degree-K monomial z^α (C(K+n, n) of
  them), each divided by its Fubini–Study mean α! n!/(K+n)! (the moments of the uniform
  measure on the simplex of |z_i|^2/|z|^2) and less 1, so that every input is O(1) with
  mean 0 under μ_FS. The sections' diagonal (K, K) forms: any hypersurface.
* ``invariant:K`` (Fermat hypersurfaces Σ_i c z_i^d only): the functions of degree (K, K)
  invariant under the Fermat group G (permutations and the phases z_i -> ω^{a_i} z_i,
  ω^d = 1; :mod:`metricflow.cy.symmetry`) and complex conjugation — the class sums
  q_c = Σ_{α ∈ c} |z^α|^2/|z|^{2K} over the permutation classes of exponents, each over
  its μ_FS mean, less 1, then the coupling sums Re Σ_{(α, β) ∈ o} z^α conj(z^β)/|z|^{2K} over
  the permutation orbits o of congruent pairs (α ≡ β mod d, α ≠ β), each over
  Σ_{(α, β) ∈ o} (m_α m_β)^{1/2} (m the means: Cauchy–Schwarz bounds its mean size by 1).
  These are the invariant forms s_all† D s_all of the symmetric algebraic ansatz at degree K
  (:mod:`metricflow.cy.ansatz`) before the reduction by the ideal; a Fermat-invariant metric
  (the Ricci-flat one is) has an invariant potential correction, so nothing is lost.

Why the degree-K inputs: the residual of an optimal algebraic metric of degree k lies in
harmonics of degree above k (Donaldson; Headrick–Nassar), and an MLP of the degree-one u
learns such high-degree polynomials of u last (its spectral bias), while the class and
coupling sums of degree K > k give them to the first layer. Every family is a polynomial
in u over |z|-powers, so each is a function on P^n (tested: λ-invariance and the FS means).
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

import numpy as np

from metricflow.errors import InvalidInputError

MAX_DEGREE = 12  # C(12 + n, n) monomials: 1820 at n = 4
FAMILIES = ("u", "monomials:K", "invariant:K")
MAX_MONOMIALS = 4096  # the degree-K monomials a family may use (per point: jets of that many terms)
_SPEC = re.compile(r"(monomials|invariant):([1-9][0-9]?)")


def parse_inputs(text) -> tuple[str, int]:
    """``"u"`` -> ("u", 1); ``"monomials:8"`` -> ("monomials", 8); ``"invariant:10"`` ->
    ("invariant", 10); InvalidInputError naming ``inputs`` otherwise (nothing evaluated)."""
    if text == "u":
        return "u", 1
    m = _SPEC.fullmatch(text) if isinstance(text, str) else None
    if m is None or not 1 <= int(m.group(2)) <= MAX_DEGREE:
        raise InvalidInputError("inputs", f"expected {', '.join(FAMILIES[:-1])} or {FAMILIES[-1]} with K in "
                                f"[1, {MAX_DEGREE}], got {text!r}")
    return m.group(1), int(m.group(2))


@dataclass(frozen=True)
class Tables:
    """One input family as sesquilinear forms in the degree-K monomials s_α = z^α: input l is
    f_l = Σ_{r: label_r = l} coef_r s_{p_r} conj(s_{q_r}) / |z|^{2K} − shift_l (real: every form is
    hermitian). numpy, built once per family."""

    degree: int  # K
    exponents: np.ndarray  # (M, n+1) the monomials s_α
    p: np.ndarray  # (P,) left monomial of each term
    q: np.ndarray  # (P,) right monomial
    coef: np.ndarray  # (P,) complex
    label: np.ndarray  # (P,) the input each term belongs to
    shift: np.ndarray  # (F,)

    @property
    def size(self) -> int:
        return len(self.shift)


def fs_means(E: np.ndarray) -> np.ndarray:
    """∫ |z^α|^2/|z|^{2K} dμ_FS = α! n!/(K + n)! over P^n (μ_FS of volume 1) for each row α of E:
    under μ_FS the t_i = |z_i|^2/|z|^2 are uniform on the simplex (Dirichlet(1, ..., 1))."""
    E = np.asarray(E)
    n, K = E.shape[1] - 1, int(E[0].sum())
    lf = np.vectorize(math.lgamma)
    return np.exp(lf(E + 1.0).sum(axis=1) + math.lgamma(n + 1.0) - math.lgamma(K + n + 1.0))


def _u_tables(n1: int) -> Tables:
    """u_ii, Re u_ij, Im u_ij (i < j) in the order of ``kernels.metric.to_components(u, "hermitian")``:
    Re u_ij = ½(z_i z̄_j + z_j z̄_i)/|z|^2, Im u_ij = (−i/2 z_i z̄_j + i/2 z_j z̄_i)/|z|^2."""
    iu = np.triu_indices(n1, 1)
    u = len(iu[0])
    diag = np.arange(n1)
    p = np.concatenate([diag, iu[0], iu[1], iu[0], iu[1]])
    q = np.concatenate([diag, iu[1], iu[0], iu[1], iu[0]])
    coef = np.concatenate([np.ones(n1), np.full(2 * u, 0.5), np.full(u, -0.5j), np.full(u, 0.5j)])
    re, im = n1 + np.arange(u), n1 + u + np.arange(u)
    label = np.concatenate([diag, re, re, im, im])
    return Tables(1, np.eye(n1, dtype=np.int64), p, q, coef.astype(np.complex128), label, np.zeros(n1 * n1))


@functools.lru_cache(maxsize=16)
def tables(inputs: str, n_ambient: int, poly_degree: int) -> Tables:
    """The tables of ``inputs`` in n+1 = ``n_ambient`` variables; ``poly_degree`` is the d of the
    Fermat group (used by ``invariant:K`` only)."""
    from metricflow.cy.sections import monomials
    from metricflow.cy.symmetry import coupling_orbits, exponent_classes

    family, K = parse_inputs(inputs)
    if family == "u":
        return _u_tables(n_ambient)
    if math.comb(K + n_ambient - 1, K) > MAX_MONOMIALS:
        raise InvalidInputError("inputs", f"{inputs!r} in {n_ambient} coordinates means "
                                f"{math.comb(K + n_ambient - 1, K)} monomials, more than {MAX_MONOMIALS}: "
                                "lower K")
    E = monomials(n_ambient, K)
    m = fs_means(E)
    diag = np.arange(len(E))
    if family == "monomials":
        return Tables(K, E, diag, diag, (1.0 / m).astype(np.complex128), diag, np.ones(len(E)))
    labels, classes = exponent_classes(E)
    orbits = coupling_orbits(E, poly_degree)
    class_mean = np.bincount(labels, weights=m, minlength=len(classes))
    pairs = np.concatenate([np.stack([diag, diag], axis=1), *orbits])
    label = np.concatenate([labels, *[np.full(len(o), len(classes) + i) for i, o in enumerate(orbits)]])
    scale = np.concatenate([class_mean, [np.sqrt(m[o[:, 0]] * m[o[:, 1]]).sum() for o in orbits]])
    shift = np.concatenate([np.ones(len(classes)), np.zeros(len(orbits))])
    order = np.argsort(label, kind="stable")  # each input's terms contiguous, classes first
    pairs, label = pairs[order], label[order]
    return Tables(K, E, pairs[:, 0], pairs[:, 1], (1.0 / scale[label]).astype(np.complex128), label, shift)


def n_inputs(inputs: str, n_ambient: int, poly_degree: int) -> int:
    """The number of reals the family gives the network."""
    return tables(inputs, n_ambient, poly_degree).size


def _monomials_and_gradients(E: np.ndarray, z):
    """s_α = z^α (M,) and ∂s_α/∂z_i (M, n+1) at one point, without division (exclusive products)."""
    import jax.numpy as jnp

    n1, K = E.shape[1], int(E[0].sum())
    p = jnp.arange(K + 1)
    powers = jnp.stack([jnp.ones_like(z)] + [z**j for j in range(1, K + 1)], axis=1)  # (n+1, K+1)
    dpowers = jnp.concatenate([jnp.zeros_like(z)[:, None], p[1:] * powers[:, :-1]], axis=1)
    rows = jnp.arange(n1)[None, :]
    G, dG = powers[rows, E], dpowers[rows, E]  # (M, n+1)
    ones = jnp.ones_like(G[:, :1])
    before = jnp.cumprod(jnp.concatenate([ones, G[:, :-1]], axis=1), axis=1)
    after = jnp.flip(jnp.cumprod(jnp.concatenate([ones, jnp.flip(G[:, 1:], axis=1)], axis=1), axis=1), axis=1)
    return jnp.prod(G, axis=1), dG * before * after


def jets(inputs: str, n_ambient: int, poly_degree: int, z, jac):
    """The inputs f (F,) at one point z (n+1,), their derivatives ∂_a f (F, m) along the
    holomorphic directions v_a = jac[:, a] (jac (n+1, m)), and ``contract``, the function
    w ↦ Σ_l w_l ∂_a∂̄_b f_l (m, m) for real weights w (F,) — all in closed form (JAX, float64
    like z; tested against autodiff of :func:`evaluate`). With Q the sesquilinear sums and
    N = |z|^2, f = Q N^{-K} − shift:
        ∂_a f = N^{-K}(∂_a Q − K Q ∂_a N/N),
        ∂_a∂̄_b f = N^{-K}[∂_a∂̄_b Q − K(∂_a Q ∂̄_b N + ∂_a N ∂̄_b Q)/N − K Q ∂_a∂̄_b N/N
                          + K(K+1) Q ∂_a N ∂̄_b N/N^2],
    ∂_a Q = Σ c ∂_a s_p s̄_q, ∂̄_b Q = Σ c s_p conj(∂_b s_q), ∂_a∂̄_b Q = Σ c ∂_a s_p conj(∂_b s_q),
    ∂_a N = v_a·z̄, ∂_a∂̄_b N = v_a·v̄_b. The second derivatives are only ever needed contracted
    with the network's gradient (:func:`metricflow.cy.networks.potential_ddbar`), so the
    (F, m, m) array is never formed: ``contract`` sums over the terms once, O(terms · m^2)."""
    import jax
    import jax.numpy as jnp

    T = tables(inputs, n_ambient, poly_degree)
    K, F = T.degree, T.size
    s, grad = _monomials_and_gradients(T.exponents, z)
    ds = grad @ jac  # (M, m)
    c, lab = jnp.asarray(T.coef), jnp.asarray(T.label)
    sp, sq, dp, dq = s[T.p], jnp.conj(s[T.q]), ds[T.p], jnp.conj(ds[T.q])
    Qd = jax.ops.segment_sum(c[:, None] * jnp.concatenate([(sp * sq)[:, None], sq[:, None] * dp], axis=1), lab, F)
    Q, dQ = jnp.real(Qd[:, 0]), Qd[:, 1:]
    N = jnp.sum(jnp.abs(z) ** 2)
    dN = jac.T @ jnp.conj(z)  # (m,)
    ddN = jac.T @ jnp.conj(jac)  # (m, m)
    NK = N ** (-K)
    f = Q * NK - jnp.asarray(T.shift)
    df = NK * (dQ - K * Q[:, None] * dN[None, :] / N)

    def contract(w):
        wr = w.astype(c.dtype)[lab] * c  # each term's weight
        ddQ = (dp * wr[:, None]).T @ dq  # Σ_l w_l ∂_a∂̄_b Q_l
        dQw = dp.T @ (wr * sq)  # Σ_l w_l ∂_a Q_l
        dbQw = dq.T @ (wr * sp)  # Σ_l w_l ∂̄_b Q_l
        Qw = jnp.real(jnp.sum(wr * sp * sq))
        dNb = jnp.conj(dN)
        return NK * (ddQ - K * (dQw[:, None] * dNb[None, :] + dN[:, None] * dbQw[None, :]) / N
                     - K * Qw * ddN / N + K * (K + 1) * Qw * (dN[:, None] * dNb[None, :]) / N**2)

    return f, df, contract


def evaluate(inputs: str, n_ambient: int, poly_degree: int, z):
    """The inputs (F,) at one point z (n+1,) complex (JAX, differentiable; the value of :func:`jets`)."""
    import jax
    import jax.numpy as jnp

    T = tables(inputs, n_ambient, poly_degree)
    s = _monomials_and_gradients(T.exponents, z)[0]
    Q = jnp.real(jax.ops.segment_sum(jnp.asarray(T.coef) * s[T.p] * jnp.conj(s[T.q]), jnp.asarray(T.label), T.size))
    return Q / jnp.sum(jnp.abs(z) ** 2) ** T.degree - jnp.asarray(T.shift)


__all__ = ["FAMILIES", "MAX_DEGREE", "MAX_MONOMIALS", "Tables", "evaluate", "fs_means", "jets", "n_inputs",
           "parse_inputs", "tables"]
