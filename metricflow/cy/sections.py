"""A basis of the degree-k sections of O(k) on a hypersurface X = {P = 0} in P^n.

By the restriction sequence 0 -> O(k - d) --P--> O(k) -> O_X(k) -> 0 (and H^1(O(k - d)) = 0
on P^n, n >= 2), the sections of O_X(k) are the degree-k part of C[z_0..z_n]/(P):
homogeneous polynomials of degree k modulo multiples of P.  A principal ideal (P) has
{P} as its Groebner basis for every monomial order, so the *standard monomials* (the
degree-k monomials not divisible by the leading monomial LM(P)) form a basis of that
quotient.  Their number is the Hilbert function

    N_k = C(k + n, n) - C(k - d + n, n)        (C(m, n) = 0 for m < n),

e.g. N_k = C(k + 4, 4) - C(k - 1, 4) for the quintic (d = 5, n = 4).  The monomial order
is lexicographic with z_0 > z_1 > ... > z_n; for the Fermat quintic LM(P) = z_0^5.

These are the sections s(z) of the algebraic Kahler potential K = (1/k) log(s^dagger H s)
(issue 16; Donaldson, "Some numerical results in complex differential geometry",
math/0512625; Douglas-Karp-Lukic-Reinbacher, hep-th/0612075).
"""

from __future__ import annotations

import itertools
import math

import numpy as np

from metricflow.cy.hypersurface import Hypersurface
from metricflow.errors import InvalidInputError


def monomials(n_ambient: int, k: int) -> np.ndarray:
    """All exponent vectors of degree ``k`` in ``n_ambient`` variables, (C(k+n, n), n+1),
    in decreasing lexicographic order (z_0^k first)."""
    if k < 0:
        raise InvalidInputError("k", f"need a degree k >= 0, got {k}")
    rows = [c for c in itertools.product(range(k, -1, -1), repeat=n_ambient) if sum(c) == k]
    return np.array(rows, dtype=np.int64).reshape(-1, n_ambient)


def leading_monomial(X: Hypersurface) -> np.ndarray:
    """The lexicographically largest exponent vector of P (z_0 > z_1 > ... > z_n)."""
    rows = sorted(X.exponents.tolist(), reverse=True)
    return np.array(rows[0], dtype=np.int64)


def hilbert_function(n_ambient: int, degree: int, k: int) -> int:
    """dim of the degree-k part of C[z_0..z_n]/(P) for deg P = ``degree``."""
    n = n_ambient - 1
    total = math.comb(k + n, n)
    return total - (math.comb(k - degree + n, n) if k >= degree else 0)


def section_basis(X: Hypersurface, k: int) -> np.ndarray:
    """Exponents (N_k, n+1) of the standard monomials of degree ``k`` modulo P: a basis of
    the sections of O_X(k), in decreasing lexicographic order."""
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise InvalidInputError("k", f"need an integer degree k >= 1, got {k!r}")
    E = monomials(X.n_ambient, int(k))
    lm = leading_monomial(X)
    keep = ~np.all(E >= lm[None, :], axis=1)
    return E[keep]


def n_sections(X: Hypersurface, k: int) -> int:
    """N_k, the number of sections (equal to :func:`hilbert_function`)."""
    return int(section_basis(X, k).shape[0])


__all__ = ["hilbert_function", "leading_monomial", "monomials", "n_sections", "section_basis"]
