"""The registry's Kähler functionals and flow velocities on a Calabi–Yau hypersurface, at
any order, from their definitions evaluated by automatic differentiation of K_H (issue 16).

**Why a second evaluator.** :mod:`metricflow.cy.functionals` feeds the registry's Lagrangians,
expanded by :mod:`metricflow.symbolic` into rational functions of the jets of u and Ω and
compiled by :func:`~metricflow.symbolic.codegen_potential.compile_potential_kernel`, the
metric at the points.  That is fast for the ultra-local functionals; for those with
derivatives on a threefold the expanded expression explodes: in n = 3 the JAX gradient of
``einstein-hilbert-cy``'s kernel (−½∫μ_CY R, B.17) took 330 s to compile and run once on 1,000
points, the process peaking at 12.8 GB; ``hn-two-derivative`` (B.15) spent 55 s in exact algebra
and expanded to 5.5·10⁴ operations.  Here the
*same definitions* — the ``lagrangian`` and ``paper_flow`` of each
:class:`~metricflow.symbolic.kahler_functionals.KahlerFunctional`, written against the
geometry's vocabulary (``det``, ``eta``, ``w``, ``R``, ``norm_sq``, …) — are evaluated by
:class:`JetGeometry`, the numeric twin of
:class:`~metricflow.symbolic.kahler_functionals.PotentialGeometry` at one point, whose
fields are JAX functions of the local coordinates and whose ∂, ∂̄ are forward-mode
derivatives.  The two evaluators agree on every registry functional in n = 1, 2 to
round-off (tests), where both are cheap.

**The jets at a point.** With the point's chart (:mod:`metricflow.cy.curvature`), local
coordinates d and the conjugate variable y, the sections' quadratic Taylor model is
s(d) = S φ(d), φ(d) = (1, d_a, d_a d_b) and S = (s₀, ∂_a s, ½∂_a∂_b s) (N_k × J,
J = 1 + m + m²), so that

    K(d, y) = (1/k) log φ(y)ᵀ M φ(d),   M = S† H S   (J × J per point),

and Ω(d) = Ω₀ + ∂_aΩ d_a (the Poincaré residue 1/(∂P/∂z_e) and its derivative through the
implicit z_e).  These models are exact for up to two ∂ and two ∂̄ of K and one ∂ of Ω at
d = y = 0 — the 4-jets of every registry Lagrangian (R = −g^{ab̄}∂_a∂̄_b log det g has
(2, 2)).  :class:`Field` counts the derivatives applied and refuses (``InvalidInputError``
naming the argument ``functional``) anything beyond, e.g. the Calabi functional's L²
variation (order (3, 3)).

Evaluated as in :mod:`metricflow.cy.functionals`: E / ∫|Ω|² = Σ_p ℒ_p/det g_FS,p / Σ_p w_p
over FS-distributed points, κ = ∫det g/∫|Ω|² (B.10) from the same points.
"""

from __future__ import annotations

import operator
from functools import lru_cache

import numpy as np

from metricflow.errors import InvalidInputError

#: derivatives (holomorphic, antiholomorphic) of each ingredient at which the jets are exact
EXACT = {"u": (2, 2), "om": (1, 1)}
_WHAT = {"u": "the Kähler potential K_H (beyond its 4-jet)", "om": "Omega (beyond its first derivative)"}


def _merge(*orders: dict) -> dict:
    out: dict = {}
    for o in orders:
        for key, (p, q) in o.items():
            a, b = out.get(key, (0, 0))
            out[key] = (max(a, p), max(b, q))
    return out


class Field:
    """A quantity near one point: ``fn(d, y)``, holomorphic in the local coordinates d and the
    conjugate variable y (scalar or matrix valued), with ``orders`` = {ingredient: (∂, ∂̄)
    applied}; refused at construction beyond :data:`EXACT`."""

    __slots__ = ("fn", "orders")

    def __init__(self, fn, orders: dict | None = None):
        orders = dict(orders or {})
        for key, (p, q) in orders.items():
            lp, lq = EXACT[key]
            if p > lp or q > lq:
                raise InvalidInputError("functional", f"needs {p} holomorphic and {q} antiholomorphic derivatives of "
                                        f"{_WHAT[key]}; on the hypersurface the jets are exact up to ({lp}, {lq})")
        self.fn, self.orders = fn, orders

    @staticmethod
    def lift(x) -> Field:
        return x if isinstance(x, Field) else Field(lambda d, y: x)

    def _binary(self, other, op, swap: bool = False) -> Field:
        o = Field.lift(other)
        a, b = (o, self) if swap else (self, o)
        return Field(lambda d, y: op(a.fn(d, y), b.fn(d, y)), _merge(a.orders, b.orders))

    def map(self, f) -> Field:
        """``f`` (holomorphic, elementwise) applied to the field."""
        return Field(lambda d, y: f(self.fn(d, y)), self.orders)

    def __add__(self, o):
        return self._binary(o, operator.add)

    def __radd__(self, o):
        return self._binary(o, operator.add, True)

    def __sub__(self, o):
        return self._binary(o, operator.sub)

    def __rsub__(self, o):
        return self._binary(o, operator.sub, True)

    def __mul__(self, o):
        return self._binary(o, operator.mul)

    def __rmul__(self, o):
        return self._binary(o, operator.mul, True)

    def __truediv__(self, o):
        return self._binary(o, operator.truediv)

    def __rtruediv__(self, o):
        return self._binary(o, operator.truediv, True)

    def __neg__(self):
        return self.map(operator.neg)

    def __pow__(self, p):
        return self.map(lambda v: v**p)


def _shift(orders: dict, dp: int, dq: int) -> dict:
    return {key: (p + dp, q + dq) for key, (p, q) in orders.items()}


class _Reduce:
    """The symbolic geometry's algebra ``A``: here only ``reduce`` (a no-op on numbers)."""

    @staticmethod
    def reduce(el, rationalize: bool = False):
        return el


class JetGeometry:
    """The numeric twin of :class:`~metricflow.symbolic.kahler_functionals.PotentialGeometry`
    at one point (module docstring): ``M`` (J, J) the point's bilinear form S†HS, ``om``
    (1 + n,) = (Ω₀, ∂_aΩ), ``kappa`` (B.10), ``k`` the degree of the sections."""

    A = _Reduce()

    def __init__(self, M, om, kappa, k: int, n: int):
        import jax
        import jax.numpy as jnp

        from metricflow import _linalg as la

        self.n = n
        self.kappa = kappa

        def phi(x):
            return jnp.concatenate([jnp.ones(1, dtype=x.dtype), x, jnp.outer(x, x).ravel()])

        def potential(d, y):
            return jnp.log(phi(y) @ (M @ phi(d))) / k

        metric = jax.jacfwd(jax.jacfwd(potential, argnums=0, holomorphic=True), argnums=1, holomorphic=True)
        self.potential = Field(potential, {"u": (0, 0)})
        self.metric = Field(metric, {"u": (1, 1)})  # [a, b] = ∂_a ∂̄_b K = g_{a b̄}
        self.det = self.metric.map(la.det)
        self.ginv = self.metric.map(la.inv)
        self.w = Field(lambda d, y: (om[0] + om[1:] @ d) * (jnp.conj(om[0]) + jnp.conj(om[1:]) @ y), {"om": (0, 0)})
        self.eta = self.det / (self.kappa * self.w)
        self.sqrt_eta = self.eta.map(jnp.sqrt)
        self.log_eta = self.eta.map(jnp.log)
        self._jax = jax

    # ------------------------------------------------------------------ derivatives
    def _grad(self, f: Field, argnum: int):
        return self._jax.jacfwd(f.fn, argnums=argnum, holomorphic=True)

    def d(self, f: Field, a: int) -> Field:
        """``∂_a f``."""
        g = self._grad(f, 0)
        return Field(lambda d, y: g(d, y)[..., a], _shift(f.orders, 1, 0))

    def dbar(self, f: Field, b: int) -> Field:
        """``∂̄_b f``."""
        g = self._grad(f, 1)
        return Field(lambda d, y: g(d, y)[..., b], _shift(f.orders, 0, 1))

    def ddbar(self, f: Field) -> Field:
        """``[a, b] = ∂_a ∂̄_b f`` (a matrix field)."""
        h = self._jax.jacfwd(self._grad(f, 0), argnums=1, holomorphic=True)
        return Field(h, _shift(f.orders, 1, 1))

    # ------------------------------------------------------------------ geometry
    def trace(self, t: Field) -> Field:
        """``g^{ab̄} t_{ab̄}`` of a matrix field ``t[a, b]``."""
        import jax.numpy as jnp

        gi = self.ginv
        return Field(lambda d, y: jnp.sum(gi.fn(d, y).T * t.fn(d, y)), _merge(gi.orders, t.orders))

    def laplacian(self, f: Field) -> Field:
        """``Δ_∂̄ f = g^{ab̄} ∂_a ∂̄_b f``."""
        return self.trace(self.ddbar(f))

    def norm_sq(self, f: Field, h: Field | None = None) -> Field:
        """``g^{ab̄} ∂_a f ∂̄_b h`` (h = f by default)."""
        h = f if h is None else h
        df, dh, gi = self._grad(f, 0), self._grad(h, 1), self.ginv
        return Field(lambda d, y: dh(d, y) @ (gi.fn(d, y) @ df(d, y)),
                     _merge(_shift(f.orders, 1, 0), _shift(h.orders, 0, 1), gi.orders))

    @property
    def ricci_form(self) -> Field:
        """``R_{ab̄} = −∂_a∂̄_b log det g`` (B.3)."""
        import jax.numpy as jnp

        return -self.ddbar(self.det.map(jnp.log))

    @property
    def R(self) -> Field:
        """``R = g^{ab̄} R_{ab̄}`` (B.8)."""
        return self.trace(self.ricci_form)

    @property
    def mu_J(self) -> Field:
        return self.det

    @property
    def flow_measure(self) -> Field:
        return self.det / self.kappa

    def of_eta(self, F) -> Field:
        """``F(η)`` for a sympy expression F in the symbol ``eta`` (built by the project's grammar)."""
        import sympy as sp

        from metricflow.symbolic.kahler_functionals import ETA

        return self.eta.map(sp.lambdify([ETA], F, modules="jax"))


def _dummy(n: int):
    import jax.numpy as jnp

    J = 1 + n + n * n
    return jnp.eye(J, dtype=complex), jnp.ones(1 + n, dtype=complex)


def element_of(functional, what: str = "lagrangian"):
    """``geo -> Field``: the registry functional's (a name or a
    :class:`~metricflow.symbolic.kahler_functionals.KahlerFunctional`) ``lagrangian`` or
    ``paper_flow``, with its name."""
    from metricflow.symbolic.registry import lookup

    fn = lookup(functional, "kahler") if isinstance(functional, str) else functional
    build = fn.lagrangian if what == "lagrangian" else fn.paper_flow
    if build is None:
        raise InvalidInputError("flow", f"{fn.name!r} has no flow of the potential in the registry")
    return build, fn


def pointwise(build, n: int, k: int):
    """``(M (N, J, J), om (N, 1 + n), kappa) -> (N,)`` complex: the field ``build(geo)`` at the
    points (JAX, differentiable in M).  The derivative orders are checked here, before any
    computation (``InvalidInputError`` if the jets are not exact for it)."""
    import jax
    import jax.numpy as jnp

    build(JetGeometry(*_dummy(n), 1.0, k, n))  # validates the orders (construction only)

    def one(M, om, kappa):
        zero = jnp.zeros(n, dtype=M.dtype)
        return build(JetGeometry(M, om, kappa, k, n)).fn(zero, zero)

    return jax.vmap(one, in_axes=(0, 0, None))


def metric_at(n: int, k: int):
    """``M (N, J, J) -> g (N, n, n)``: g_{ab̄} = ∂_a∂̄_b K at the points (JAX)."""
    import jax
    import jax.numpy as jnp

    def one(M):
        zero = jnp.zeros(n, dtype=M.dtype)
        return JetGeometry(M, jnp.ones(1 + n, dtype=M.dtype), 1.0, k, n).metric.fn(zero, zero)

    return jax.vmap(one)


def compile_value(functional, n: int, k: int):
    """``(M, data) -> E / ∫|Ω|²`` (module docstring) for a registry functional of any order;
    ``data``: :func:`jet_point_data`.  Pure JAX, differentiable in M."""
    import jax.numpy as jnp

    from metricflow import _linalg as la

    build, _ = element_of(functional)
    dens, metric = pointwise(build, n, k), metric_at(n, k)

    def value(M, data):
        r = jnp.real(la.det(metric(M))) / data["det_fs"]
        kappa = jnp.sum(r) / jnp.sum(data["w"])
        return jnp.sum(jnp.real(dens(M, data["om"], kappa)) / data["det_fs"]) / jnp.sum(data["w"])

    return value


def bilinear(S, H):
    """M = S† H S per point: S (N, N_k, J), H (N_k, N_k) -> (N, J, J)."""
    import jax.numpy as jnp

    return jnp.einsum("nia,ij,njb->nab", jnp.conj(S), H, S)


@lru_cache(maxsize=16)
def _feature_kernel(exp_bytes: bytes, shape: tuple, coef_bytes: bytes, basis_bytes: bytes, basis_shape: tuple):
    import jax
    import jax.numpy as jnp

    from metricflow.cy.curvature import embedding, section_jets

    P_exp = np.frombuffer(exp_bytes, dtype=np.int64).reshape(shape)
    coef = jnp.asarray(np.frombuffer(coef_bytes, dtype=np.complex128))
    E = np.frombuffer(basis_bytes, dtype=np.int64).reshape(basis_shape)
    jets_at = section_jets(E, P_exp, np.frombuffer(coef_bytes, dtype=np.complex128))
    embed, grad_p = embedding(P_exp)

    def one(z0, S, oe):
        zero = jnp.zeros(S.shape[1], dtype=jnp.complex128)
        s0, s1, s2 = jets_at(z0, S, oe)
        m = S.shape[1]
        Smat = jnp.concatenate([s0[:, None], s1, 0.5 * s2.reshape(s2.shape[0], m * m)], axis=1)

        def omega(d):
            return 1.0 / (grad_p(embed(d, z0, S, oe, coef), coef) @ oe)

        om = jnp.concatenate([omega(zero)[None], jax.jacfwd(omega, holomorphic=True)(zero)])
        return Smat, om

    return jax.jit(jax.vmap(one))


def jet_features(ps, basis: np.ndarray, block: int = 256) -> dict:
    """``S`` (N, N_k, J) and ``om`` (N, 1 + m) at the points (module docstring), numpy,
    computed in blocks; memory 16 N N_k J bytes (J = 13 on a threefold)."""
    from metricflow._x64 import x64
    from metricflow.cy.algebraic import blocks, pad_rows
    from metricflow.cy.curvature import chart_selectors

    X = ps.surface
    E_P = np.ascontiguousarray(X.exponents, dtype=np.int64)
    c_P = np.ascontiguousarray(X.coefficients, dtype=np.complex128)
    B = np.ascontiguousarray(basis, dtype=np.int64)
    fn = _feature_kernel(E_P.tobytes(), E_P.shape, c_P.tobytes(), B.tobytes(), B.shape)
    sel, oe = chart_selectors(ps)
    N, m = len(ps), X.dim
    out = {"S": np.empty((N, B.shape[0], 1 + m + m * m), complex), "om": np.empty((N, 1 + m), complex)}
    with x64():
        import jax.numpy as jnp

        for a, b in blocks(N, block):
            S, om = fn(*(jnp.asarray(pad_rows(x[a:b], block)) for x in (ps.points, sel, oe)))
            out["S"][a:b], out["om"][a:b] = np.asarray(S)[: b - a], np.asarray(om)[: b - a]
    return out


def jet_point_data(ps, feats: dict) -> dict:
    """The per-point constants of :func:`compile_value`: det g_FS, w = |Ω|²/det g_FS, Ω jets."""
    return {"det_fs": np.asarray(ps.det_g_fs), "w": np.asarray(ps.weights), "om": feats["om"]}


def evaluate(functional, metric, ps, block: int = 2048) -> float:
    """E / ∫|Ω|² of a registry functional for an
    :class:`~metricflow.cy.algebraic.AlgebraicMetric` on a point set, in blocks of points
    (κ from the metric at all points first; memory bounded by the block)."""
    import jax
    import jax.numpy as jnp

    from metricflow import _linalg as la
    from metricflow._x64 import x64
    from metricflow.cy.algebraic import blocks, pad_rows

    build, _ = element_of(functional)
    n, k = metric.surface.dim, metric.k
    metric._check_points(ps)
    r = np.asarray(la.hermitian_det(metric(ps))) / np.asarray(ps.det_g_fs)
    w = np.asarray(ps.weights)
    kappa = float(r.sum() / w.sum())
    total = 0.0
    with x64():
        dens = jax.jit(pointwise(build, n, k))
        H = jnp.asarray(metric.H)
        for a, b in blocks(len(ps), block):
            sub = ps.subset(np.arange(a, b))
            f = jet_features(sub, metric.basis)
            S, om = (jnp.asarray(pad_rows(f[key], block)) for key in ("S", "om"))
            L = np.asarray(dens(bilinear(S, H), om, kappa))[: b - a]
            total += float(np.sum(L.real / np.asarray(sub.det_g_fs)))
    return total / float(w.sum())


__all__ = ["EXACT", "Field", "JetGeometry", "bilinear", "compile_value", "element_of", "evaluate", "jet_features",
           "jet_point_data", "metric_at", "pointwise"]
