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
under the group G of the permutations of the coordinates and the phases z_i → ω^{a_i} z_i
(ω^d = 1), and, its coefficients being real, under complex conjugation.  A phase multiplies
z^α by ω^{a·α}, so an invariant hermitian form D on all monomials couples z^α with z^β only
if α ≡ β (mod d) componentwise (the overall phase is automatic at equal degree): for k < d
two different degree-k exponents differ somewhere by less than d, D is *diagonal*, and the
permutations make it constant on the **exponent classes** (the multisets of exponents: 2
classes at k = 2, 3 at k = 3, 5 at k = 4 on the quintic).  For k ≥ d the congruence blocks
{α ≡ β} (for k < 2d: the five monomials m·z_i^d, m of degree k − d) carry off-diagonal
invariant entries, one value on each permutation orbit of unordered pairs {α, β}
(:func:`coupling_orbits`).  Complex conjugation maps K_H to K_{H̄} (s(z̄) = conj s(z)), so the
invariant forms are the *real* ones: an imaginary part would be allowed by G alone on the
orbits whose transpose is another orbit (none contributes below k = 8 on the quintic, one at
k = 8), and the balanced metric is real (the T-operator commutes with conjugation).

**Invariant forms on the sections.** s_all = R s_std is G-equivariant (ρ_g = L₀ U_g R on the
standard basis, U_g the monomial matrix of g, L₀ the rows of the standard monomials), so an
invariant D gives an invariant H = R† D R; conversely the average L of ρ_g⁻¹ L₀ U_g over G is an
equivariant left inverse of R, and a positive invariant H is R† D R with the positive invariant
D = L†(H − εR†R)L + ε1 (ε small): every invariant H comes from a positive invariant D.  The map
D ↦ R† D R has a kernel (the multiples of P): on the quintic the class forms alone span every
invariant H for k ≤ 6 (7 and 10 dimensions at k = 5, 6), the couplings add 1 dimension at k = 7
and 2 at k = 8 (:func:`independent_couplings`, which keeps the orbits that raise the rank).
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


def _pair_key(a, b) -> tuple:
    """The permutation invariant of the ordered pair (a, b): its sorted columns (a_i, b_i)."""
    return tuple(sorted(zip(a, b, strict=True), reverse=True))


def coupling_orbits(E: np.ndarray, d: int) -> list[np.ndarray]:
    """The permutation orbits of the unordered pairs {α, β} of rows of E with α ≠ β and
    α ≡ β (mod d) componentwise (module docstring): each an (P, 2) array of row indices
    holding every ordered pair of the orbit (both orders), in decreasing order of the key."""
    E = np.asarray(E)
    residue: dict[tuple, list[int]] = {}
    for i, row in enumerate(E.tolist()):
        residue.setdefault(tuple(x % d for x in row), []).append(i)
    orbits: dict[tuple, list[tuple[int, int]]] = {}
    for members in residue.values():
        for x, i in enumerate(members):
            for j in members[x + 1:]:
                a, b = E[i].tolist(), E[j].tolist()
                key = max(_pair_key(a, b), _pair_key(b, a))
                orbits.setdefault(key, []).extend([(i, j), (j, i)])
    return [np.array(orbits[key], dtype=np.int64) for key in sorted(orbits, reverse=True)]


def reduced_forms(R: np.ndarray, labels: np.ndarray, orbits: list[np.ndarray]) -> np.ndarray:
    """The standard-basis forms R† B R of the class indicators 1_c then of the coupling orbits'
    forms B_o = Σ_{(α,β)∈o} E_αβ, flattened: (classes + orbits, N_k²)."""
    rows = [(R[labels == c].conj().T @ R[labels == c]).ravel() for c in range(int(labels.max()) + 1)]
    rows += [(R[o[:, 0]].conj().T @ R[o[:, 1]]).ravel() for o in orbits]
    return np.stack(rows)


def independent_couplings(forms: np.ndarray, n_classes: int, rtol: float = 1e-10) -> list[int]:
    """Indices (among the orbits) of the coupling orbits whose reduced forms raise the rank of
    the span of the class forms, taken greedily in order (module docstring).  Ranks from the
    eigenvalues of the Gram matrix Re(F F†): the forms have small integer entries (R's are 0, ±1
    products of c_t/c_L = 1), so an exact dependence leaves ~1e-16 of the largest eigenvalue and
    an independent form more than 1e-2 of it (measured on the quintic, k ≤ 8): 1e-10 separates them."""
    F = np.concatenate([forms.real, forms.imag], axis=1)
    gram = F @ F.T

    def rank(rows):
        ev = np.linalg.eigvalsh(gram[np.ix_(rows, rows)])
        return int(np.sum(ev > rtol * ev[-1]))

    kept, current = list(range(n_classes)), rank(list(range(n_classes)))
    out = []
    for o in range(forms.shape[0] - n_classes):
        r = rank(kept + [n_classes + o])
        if r > current:
            kept.append(n_classes + o)
            out.append(o)
            current = r
    return out


__all__ = ["coupling_orbits", "exponent_classes", "independent_couplings", "is_fermat", "reduced_forms",
           "reduction_matrix"]
