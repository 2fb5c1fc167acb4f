"""The symmetry-reduced algebraic ansatz of a Fermat hypersurface, and the reduction of
monomials to the standard-monomial basis (issue 16; Headrick–Nassar, arXiv 0908.2635).

**Reduction.** On X = {P = 0} every degree-k monomial is a combination of the standard
monomials of :func:`metricflow.cy.sections.section_basis`: with LM the leading monomial
of P (lexicographic, coefficient c_L), z^m = z^{m−L} z^L ≡ −(1/c_L) Σ_{t ≠ L} c_t z^{m−L+e_t}
on X, and every term on the right is lexicographically smaller than z^m, so the recursion
ends.  :func:`reduction_matrix` returns R with s_all(x) = R s_std(x) at every x ∈ X, s_all
the vector of all C(k+n, n) degree-k monomials.  A hermitian form D on all monomials is
then the form H = R† D R on the standard basis: s_all† D s_all = s_std† (R† D R) s_std.

**Symmetry.** The Fermat hypersurface Σ_i c z_i^d = 0 (equal coefficients) is invariant
under the permutations of the coordinates and the phases z_i → ω^{a_i} z_i (ω^d = 1).  A
phase multiplies the monomial z^α by ω^{a·α}; for k < d two different degree-k exponents
α ≠ β always differ at some coordinate by less than d, so some phase separates them and
an invariant hermitian form is *diagonal* in the monomials; a permutation maps z^α to
z^{πα}, so the diagonal is constant on the **exponent classes** (the multisets of
exponents: 2 classes at k = 2, 3 at k = 3, 5 at k = 4 on the quintic).  For k ≥ d the
invariant forms also couple z^α with z^{α + d(e_i − e_j)}; we keep only the diagonal part
D = Σ_c h_c 1_c on all monomials (an invariant *sub*-ansatz, exact for k < d), and pass to
the standard basis by R.  Headrick and Nassar's optimal metrics of the quintic use the
same diagonal classes.
"""

from __future__ import annotations

import numpy as np

from metricflow.cy.hypersurface import Hypersurface
from metricflow.cy.sections import leading_monomial, monomials, section_basis


def is_fermat(X: Hypersurface) -> bool:
    """P = c Σ_i z_i^d with one coefficient c: invariant under permutations and phases."""
    E = np.asarray(X.exponents)
    n1, d = X.n_ambient, X.degree
    if E.shape != (n1, n1):
        return False
    rows = sorted(map(tuple, E.tolist()))
    if rows != sorted(tuple(d * int(i == j) for j in range(n1)) for i in range(n1)):
        return False
    c = np.asarray(X.coefficients)
    return bool(np.allclose(c, c[0], rtol=1e-12, atol=0.0))


def reduction_matrix(X: Hypersurface, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(all degree-k exponents (M, n+1), R (M, N_k) complex) with s_all = R s_std on X
    (module docstring); row α of R is the standard-basis expansion of z^α."""
    E_all = monomials(X.n_ambient, k)
    E_std = section_basis(X, k)
    index = {tuple(e): i for i, e in enumerate(E_std.tolist())}
    L = leading_monomial(X)
    terms = [(np.asarray(e), complex(c)) for e, c in zip(X.exponents.tolist(), X.coefficients, strict=True)
             if not np.array_equal(e, L)]
    c_L = complex(X.coefficients[[np.array_equal(e, L) for e in X.exponents.tolist()].index(True)])
    memo: dict[tuple, dict[int, complex]] = {}

    def expand(m: tuple) -> dict[int, complex]:
        if m in index:
            return {index[m]: 1.0 + 0j}
        if m not in memo:
            base = np.asarray(m) - L
            out: dict[int, complex] = {}
            for e, c in terms:
                for j, v in expand(tuple((base + e).tolist())).items():
                    out[j] = out.get(j, 0j) - c / c_L * v
            memo[m] = out
        return memo[m]

    R = np.zeros((E_all.shape[0], E_std.shape[0]), dtype=np.complex128)
    for a, m in enumerate(E_all.tolist()):
        for j, v in expand(tuple(m)).items():
            R[a, j] = v
    return E_all, R


def exponent_classes(E: np.ndarray) -> tuple[np.ndarray, list[tuple[int, ...]]]:
    """The class of each exponent vector under permutations (its sorted exponents, largest
    first): (labels (M,), the classes' exponent multisets in decreasing lexicographic order)."""
    keys = [tuple(sorted(row, reverse=True)) for row in np.asarray(E).tolist()]
    classes = sorted(set(keys), reverse=True)
    where = {c: i for i, c in enumerate(classes)}
    return np.array([where[key] for key in keys], dtype=np.int64), classes


__all__ = ["exponent_classes", "is_fermat", "reduction_matrix"]
