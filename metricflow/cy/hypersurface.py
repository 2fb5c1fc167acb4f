"""Hypersurfaces ``{P = 0}`` in P^n from a homogeneous polynomial (paper eq. 3.1).

A :class:`Hypersurface` is the exponent matrix and the coefficient vector of
``P(z) = sum_m c_m prod_i z_i^{E[m, i]}``.  It is built from a sympy string, from
monomials and coefficients, or from a built-in name (:func:`hypersurface`):

- ``fermat-quintic``: ``z0^5 + ... + z4^5`` (eq. 3.1), a Calabi-Yau threefold;
- ``dwork:PSI``: ``z0^5 + ... + z4^5 - 5 PSI z0 z1 z2 z3 z4`` (singular iff PSI^5 = 1);
- ``quartic-k3``: ``z0^4 + ... + z3^4`` in P^3, a K3 surface;
- ``cubic-curve``: ``z0^3 + z1^3 + z2^3`` in P^2, an elliptic curve (a flat torus).

Non-homogeneous and singular polynomials are refused with
:class:`~metricflow.errors.InvalidInputError`.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import numpy as np

from metricflow.errors import InvalidInputError

BUILTINS = ("fermat-quintic", "dwork:PSI", "quartic-k3", "cubic-curve")


@dataclass(frozen=True, eq=False)
class Hypersurface:
    """The hypersurface ``{P(z) = 0}`` in P^n, ``P`` homogeneous of degree ``degree``.

    Attributes
    ----------
    exponents: int array (M, n+1), one row per monomial.
    coefficients: complex array (M,).
    name: a short label (the built-in name or ``"custom"``).
    """

    exponents: np.ndarray
    coefficients: np.ndarray
    name: str = "custom"
    spec: str = field(default="")

    @property
    def n_ambient(self) -> int:
        """Number of homogeneous coordinates, n + 1."""
        return int(self.exponents.shape[1])

    @property
    def dim(self) -> int:
        """Complex dimension of the hypersurface, n - 1."""
        return self.n_ambient - 2

    @property
    def degree(self) -> int:
        return int(self.exponents[0].sum())

    @property
    def is_calabi_yau(self) -> bool:
        """Degree n + 1 in P^n: the anticanonical class, c_1 = 0."""
        return self.degree == self.n_ambient

    def expression(self) -> str:
        """The polynomial as a sympy-readable string in z0, ..., zn."""
        terms = []
        for row, c in zip(self.exponents, self.coefficients, strict=True):
            mono = "*".join(f"z{i}**{e}" if e > 1 else f"z{i}" for i, e in enumerate(row) if e)
            cs = _format_complex(c)
            terms.append(f"({cs})*{mono}" if mono else f"({cs})")
        return " + ".join(terms)

    def fs_volume(self) -> float:
        """Exact Fubini-Study volume of the hypersurface.

        With K = ln|z|^2 and the volume form J^k/k! (k = n - 1), P^n has volume
        pi^n/n! and a degree-d hypersurface has volume d pi^(n-1)/(n-1)! (Wirtinger:
        the volume of a complex submanifold is its degree times that of a linear one).
        """
        k = self.dim
        return self.degree * math.pi**k / math.factorial(k)

    def to_dict(self) -> dict:
        return {"name": self.name, "spec": self.spec, "expression": self.expression(),
                "n_ambient": self.n_ambient, "degree": self.degree}

    # -- numpy evaluation (small batches; the samplers use the numba kernels) --
    def evaluate(self, z: np.ndarray) -> np.ndarray:
        """P(z) for z of shape (..., n+1)."""
        z = np.asarray(z, dtype=np.complex128)
        return np.einsum("m,...m->...", self.coefficients, _monomials(z, self.exponents))

    def gradient(self, z: np.ndarray) -> np.ndarray:
        """dP/dz_i, shape (..., n+1)."""
        z = np.asarray(z, dtype=np.complex128)
        out = []
        for i in range(self.n_ambient):
            e = self.exponents.copy()
            mult = e[:, i].astype(np.complex128) * self.coefficients
            e[:, i] = np.maximum(e[:, i] - 1, 0)
            out.append(np.einsum("m,...m->...", mult, _monomials(z, e)))
        return np.stack(out, axis=-1)

    def hessian(self, z: np.ndarray) -> np.ndarray:
        """d^2P/dz_i dz_j, shape (..., n+1, n+1)."""
        z = np.asarray(z, dtype=np.complex128)
        n1 = self.n_ambient
        out = np.zeros(z.shape + (n1,), dtype=np.complex128)
        for i in range(n1):
            for j in range(i, n1):
                e = self.exponents.copy()
                mult = self.coefficients * e[:, i]
                e[:, i] = np.maximum(e[:, i] - 1, 0)
                mult = mult * e[:, j]
                e[:, j] = np.maximum(e[:, j] - 1, 0)
                val = np.einsum("m,...m->...", mult.astype(np.complex128), _monomials(z, e))
                out[..., i, j] = val
                out[..., j, i] = val
        return out


def _format_complex(c: complex) -> str:
    c = complex(c)
    if c.imag == 0:
        return repr(float(c.real))
    return f"{c.real!r}{c.imag:+.17g}*I"


def _monomials(z: np.ndarray, exponents: np.ndarray) -> np.ndarray:
    """prod_i z_i^E[m, i], shape (..., M)."""
    out = np.ones(z.shape[:-1] + (exponents.shape[0],), dtype=np.complex128)
    for i in range(exponents.shape[1]):
        col = exponents[:, i]
        if np.any(col):
            out = out * z[..., i : i + 1] ** col
    return out


# ---------------------------------------------------------------- construction
def from_monomials(exponents, coefficients, name: str = "custom", spec: str = "",
                   check_smooth: bool = True) -> Hypersurface:
    """Hypersurface from an exponent matrix (M, n+1) and coefficients (M,).

    Raises InvalidInputError (argument ``poly``) for a non-homogeneous or empty
    polynomial, fewer than 3 homogeneous coordinates, or a singular member.
    """
    E = np.asarray(exponents)
    c = np.asarray(coefficients, dtype=np.complex128).reshape(-1)
    if E.ndim != 2 or E.shape[0] != c.shape[0] or E.shape[0] == 0:
        raise InvalidInputError("poly", f"need exponents of shape (M, n+1) and M coefficients, "
                                f"got {E.shape} and {c.shape}")
    if not np.all(np.isfinite(c)):
        raise InvalidInputError("poly", "coefficients must be finite numbers")
    if np.any(E < 0) or np.any(E != np.round(E)):
        raise InvalidInputError("poly", "exponents must be non-negative integers")
    E = E.astype(np.int64)
    keep = c != 0
    E, c = E[keep], c[keep]
    if E.shape[0] == 0:
        raise InvalidInputError("poly", "the polynomial is zero")
    degrees = E.sum(axis=1)
    if np.any(degrees != degrees[0]):
        raise InvalidInputError("poly", f"the polynomial is not homogeneous: monomial degrees "
                                f"{sorted(set(degrees.tolist()))}; a hypersurface in P^n needs "
                                "all monomials of the same degree")
    if E.shape[1] < 3:
        raise InvalidInputError("poly", f"need at least 3 homogeneous coordinates (P^2), "
                                f"got {E.shape[1]}")
    if degrees[0] < 2:
        raise InvalidInputError("poly", "degree must be at least 2 (a hyperplane is not sampled)")
    X = Hypersurface(E, c, name=name, spec=spec or name)
    if check_smooth:
        point = find_singular_point(X)
        if point is not None:
            pretty = np.array2string(point, precision=4, suppress_small=True, max_line_width=10**6)
            raise InvalidInputError("poly", f"the hypersurface {spec or name!r} is singular "
                                    f"(dP = 0 near z = {pretty}); choose a smooth member")
    return X


def from_sympy(text: str, check_smooth: bool = True) -> Hypersurface:
    """Hypersurface from a polynomial in the variables z0, z1, ..., zn (a string read by
    the expression grammar of :mod:`metricflow.symbolic.grammar`, ``I`` the imaginary
    unit, or a sympy expression).

    Variables are ordered by their index; any other symbol is an error (give
    parameters numerically, e.g. ``psi`` as a number).
    """
    import sympy

    from metricflow.symbolic.parsing import parse_scalar

    expr = parse_scalar(text, (), "poly", allow_complex=True)
    _check_size(expr, text)
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    bad = [s.name for s in symbols if not re.fullmatch(r"z\d+", s.name)]
    if bad:
        raise InvalidInputError("poly", f"unknown symbol(s) {bad} in {text!r}; write the "
                                "polynomial in z0, z1, ..., zn with numeric coefficients")
    if not symbols:
        raise InvalidInputError("poly", f"{text!r} has no variables z0, z1, ...")
    n1 = max(int(s.name[1:]) for s in symbols) + 1
    zs = sympy.symbols(f"z0:{n1}")
    try:
        poly = sympy.Poly(sympy.expand(expr), *zs)
    except sympy.PolynomialError as exc:
        raise InvalidInputError("poly", f"{text!r} is not a polynomial in z0..z{n1 - 1}") from exc
    terms = poly.terms()
    E = np.array([t[0] for t in terms], dtype=np.int64)
    try:
        c = np.array([complex(t[1]) for t in terms])
    except TypeError as exc:
        raise InvalidInputError("poly", f"coefficients of {text!r} must be numbers") from exc
    return from_monomials(E, c, name="custom", spec=text, check_smooth=check_smooth)


#: Largest number of monomials a polynomial given as text may expand to.
MAX_MONOMIALS = 100_000


def _degree_bound(e) -> int:
    """An upper bound of the total degree of a sympy expression read as a polynomial."""
    if e.is_Symbol:
        return 1
    if e.is_Add:
        return max(_degree_bound(a) for a in e.args)
    if e.is_Mul:
        return sum(_degree_bound(a) for a in e.args)
    if e.is_Pow and e.exp.is_Integer:
        return _degree_bound(e.base) * abs(int(e.exp))
    return 0  # numbers; anything else is refused as "not a polynomial" after expansion


def _check_size(expr, text) -> None:
    """Refuse, before expanding, a polynomial that may have more than MAX_MONOMIALS monomials
    (``C(d + n, n)`` bounds those of degree d in n + 1 variables)."""
    nvars = len(expr.free_symbols)
    d = _degree_bound(expr)
    if nvars and math.comb(d + nvars - 1, nvars - 1) > MAX_MONOMIALS:
        raise InvalidInputError("poly", f"{_short(text)} has degree up to {d} in {nvars} variables: up to "
                                f"{math.comb(d + nvars - 1, nvars - 1):.3g} monomials; at most "
                                f"{MAX_MONOMIALS} are accepted")


def _short(text) -> str:
    s = repr(str(text))
    return s if len(s) <= 60 else s[:59] + "…"


def fermat(n_ambient: int, degree: int | None = None) -> Hypersurface:
    """Fermat hypersurface z0^d + ... + zn^d (degree n+1 by default: Calabi-Yau)."""
    d = n_ambient if degree is None else degree
    E = d * np.eye(n_ambient, dtype=np.int64)
    return from_monomials(E, np.ones(n_ambient), name=f"fermat-{n_ambient}-{d}",
                          check_smooth=False)


def dwork(psi: complex) -> Hypersurface:
    """Dwork quintic z0^5+...+z4^5 - 5 psi z0 z1 z2 z3 z4; singular iff psi^5 = 1.

    The gradient vanishes iff z_i^4 = psi prod_{j!=i} z_j for all i; multiplying
    gives prod z_i^4 (1 - psi^5) = 0 (with all z_i != 0 forced), hence psi^5 = 1.
    """
    psi = complex(psi)
    if abs(psi**5 - 1) < 1e-10:
        raise InvalidInputError("poly", f"the Dwork quintic at psi = {psi} is singular "
                                "(psi^5 = 1: the conifold points); choose another psi")
    E = np.vstack([5 * np.eye(5, dtype=np.int64), np.ones((1, 5), dtype=np.int64)])
    c = np.array([1, 1, 1, 1, 1, -5 * psi], dtype=np.complex128)
    return from_monomials(E, c, name="dwork", spec=f"dwork:{_format_complex(psi)}",
                          check_smooth=False)


def hypersurface(spec: str | Hypersurface = "fermat-quintic",
                 check_smooth: bool = True) -> Hypersurface:
    """Parse ``spec``: a built-in name (see :data:`BUILTINS`) or a sympy polynomial."""
    if isinstance(spec, Hypersurface):
        return spec
    if not isinstance(spec, str) or not spec.strip():
        raise InvalidInputError("poly", f"expected a polynomial name or expression, got {spec!r}")
    s = spec.strip()
    key = s.lower()
    if key in ("fermat-quintic", "quintic"):
        X = fermat(5)
        return Hypersurface(X.exponents, X.coefficients, name="fermat-quintic",
                            spec="fermat-quintic")
    if key in ("quartic-k3", "k3"):
        X = fermat(4)
        return Hypersurface(X.exponents, X.coefficients, name="quartic-k3", spec="quartic-k3")
    if key in ("cubic-curve", "cubic"):
        X = fermat(3)
        return Hypersurface(X.exponents, X.coefficients, name="cubic-curve", spec="cubic-curve")
    if key.startswith("dwork"):
        _, _, arg = s.partition(":")
        try:
            psi = complex(arg.replace(" ", "").replace("i", "j")) if arg else 0j
        except ValueError as exc:
            raise InvalidInputError("poly", f"cannot read psi from {s!r}; write e.g. "
                                    "dwork:0.5 or dwork:0.3+0.2j") from exc
        return dwork(psi)
    if not re.search(r"z\d", s):
        raise InvalidInputError("poly", f"unknown polynomial {s!r}; use one of {list(BUILTINS)} "
                                "or a sympy expression in z0, z1, ...")
    return from_sympy(s, check_smooth=check_smooth)


# ---------------------------------------------------------------- singularity
def find_singular_point(X: Hypersurface, starts: int = 256, iterations: int = 60,
                        seed: int = 0, tol: float = 1e-9) -> np.ndarray | None:
    """A point of P^n where dP = 0 (a singular point of X), or None.

    Numerical and one-sided: Levenberg-Marquardt on the system dP(z) = 0 with the
    normalisation <a, z> = 1, from ``starts`` random starts, all vectorised.  A
    returned point is certain to be (near) singular; None means none was found,
    not a proof of smoothness.  Built-in families are decided exactly instead.
    """
    rng = np.random.default_rng(seed)
    n1 = X.n_ambient
    z = rng.standard_normal((starts, n1)) + 1j * rng.standard_normal((starts, n1))
    a = z / np.sum(np.abs(z) ** 2, axis=1, keepdims=True)  # <conj(a), z> = 1 at the start
    lam = np.full(starts, 1e-3)
    scale = max(1.0, float(np.abs(X.coefficients).max()))

    def residual(z):
        g = X.gradient(z) / scale
        return np.concatenate([g, (np.sum(np.conj(a) * z, axis=1) - 1)[:, None]], axis=1)

    r = residual(z)
    cost = np.sum(np.abs(r) ** 2, axis=1)
    eye = np.eye(n1)
    for _ in range(iterations):
        J = np.concatenate([X.hessian(z) / scale, np.conj(a)[:, None, :]], axis=1)
        JH = np.conj(np.swapaxes(J, 1, 2))
        JHJ = JH @ J
        diag = np.real(np.diagonal(JHJ, axis1=1, axis2=2)).max(axis=1)
        A = JHJ + (lam * (diag + 1.0))[:, None, None] * eye
        step = -np.linalg.solve(A, (JH @ r[..., None]))[..., 0]
        z_new = z + step
        r_new = residual(z_new)
        cost_new = np.sum(np.abs(r_new) ** 2, axis=1)
        better = cost_new < cost
        z = np.where(better[:, None], z_new, z)
        r = np.where(better[:, None], r_new, r)
        cost = np.where(better, cost_new, cost)
        lam = np.clip(np.where(better, lam * 0.3, lam * 10.0), 1e-12, 1e12)
    # a singular point: gradient tiny relative to the size of z^(d-1)
    rel = np.sqrt(np.sum(np.abs(X.gradient(z)) ** 2, axis=1)) / scale
    norm = np.sqrt(np.sum(np.abs(z) ** 2, axis=1)) ** (X.degree - 1)
    ok = np.isfinite(rel) & (norm > 1e-6)
    rel = np.where(ok, rel / np.where(ok, norm, 1.0), np.inf)
    best = int(np.argmin(rel))
    if rel[best] < tol:
        zb = z[best]
        return zb / zb[np.argmax(np.abs(zb))]
    return None
