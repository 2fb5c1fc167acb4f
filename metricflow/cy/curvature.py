"""Curvature of an algebraic Kahler metric on the points of a hypersurface: the Chern
curvature, the Ricci form and scalar, the Euler characteristic chi = int c_n and the
Ricci measure (issue 16; conventions: docs/conventions.md "Kahler geometry", docs/cy.md).

**Derivatives without a root solve.**  At a point with chart (p, e) and local coordinates
x (displacements d from the point), the embedding is z(d) = z0 + S d + e_e D(d), S the
selection of the coordinates c_a and D(d) = z_e(x) - z_e(x0) defined implicitly by P = 0.
D is a ``jax.custom_jvp`` whose value is 0 (we only differentiate at d = 0) and whose
tangent is the implicit-function theorem, dD = -(dP . S dd)/P_e at z(d): its own
derivatives follow by differentiating that closed form again, to any order.  With
z-bar treated as an independent holomorphic variable y (the conjugate embedding of the
conjugate polynomial), K(d, y) = (1/k) log(s(zbar(y))^T H s(z(d))) is holomorphic in
(d, y), and all derivatives are holomorphic JAX derivatives (forward over reverse):

    g_{a bbar} = d_a dbar_b K,  G_{,c} = d_c g,  G_{,dbar} = dbar_d g,  G_{,c dbar} = d_c dbar_d g.

**Curvature.**  With G[b, e] = g_{b ebar}, the Chern connection of T^{1,0} is
theta = dG G^{-1} and its curvature Theta = dbar theta, with components

    Theta_{c dbar} = -G_{,c dbar} G^{-1} + G_{,c} G^{-1} G_{,dbar} G^{-1}        (matrices [b, a]).

tr Theta_{c dbar} = -d_c dbar_d log det g = R_{c dbar}, the Ricci form of B.3.

**Chern classes.**  Chern-Weil: c(X) = det(1 + (i/2pi) Theta).  The top class of an
n-fold, with (i/2)^n prod dz^c ^ dzbar^c = d^{2n}x (Lebesgue), is

    c_n = pi^{-n} sum_{rho, sigma, tau in S_n} sgn(rho sigma tau) prod_a Theta_{sigma(a) taubar(a)}[a, rho(a)] d^{2n}x,

so chi(X) = int_X c_n = Vol_FS E[c_n density / det g_FS] over FS-distributed points, for
any metric: -200 for the quintic, 24 for the quartic K3, 0 for a cubic curve (and 2
for a conic, the sphere: a sign check that a Calabi-Yau cannot give).

**Ricci measure.**  R = g^{ab bar} R_{a bbar} (the Kahler scalar; the Riemannian scalar is
4R), and ricci_measure = Vol_K^{1/n} int_X |R| dVol_K / Vol_K with dVol_K = det g d^{2n}x,
the scale-invariant normalisation of Ashmore-He-Ovrut (arXiv 1910.08605, their ||R||) up
to its factor convention for R; zero exactly for a Ricci-flat metric.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np

from metricflow.cy.algebraic import AlgebraicMetric, blocks, compiled, pad_rows, sections_and_derivatives
from metricflow.errors import InvalidInputError, NumericalError


def embedding(P_exponents):
    """``(embed, grad_p)``: z(d) = z0 + S d + e_e D(d) for one point, D implicit in P = 0
    (coefficients ``coef``: those of P for z, their conjugates for zbar), by a custom JVP
    (module docstring); and dP/dz_i at a point z (``grad_p(z, coef)``, (n+1,))."""
    import jax
    import jax.numpy as jnp

    def grad_p(z, coef):
        _, ds = sections_and_derivatives(z[None, :], P_exponents, True)
        return ds[0] @ coef  # dP/dz_i, (n+1,)

    @jax.custom_jvp
    def implicit(d, z0, S, oe, coef):
        return jnp.zeros((), dtype=d.dtype)  # D(0) = 0: only ever evaluated at d = 0

    def embed(d, z0, S, oe, coef):
        return z0 + S @ d + oe * implicit(d, z0, S, oe, coef)

    @implicit.defjvp
    def implicit_jvp(primals, tangents):
        d, z0, S, oe, coef = primals
        grad = grad_p(embed(d, z0, S, oe, coef), coef)
        return implicit(*primals), -(grad @ (S @ tangents[0])) / (grad @ oe)

    return embed, grad_p


def section_jets(E, P_exponents, P_coefficients):
    """``(z0, S, oe) -> (s0, s1, s2)``: the degree-k sections s(z(d)) of the basis E at one
    point and their first and second derivatives in the local coordinates d, at d = 0
    (s1[alpha, a] = d_a s_alpha, s2[alpha, a, c] = d_a d_c s_alpha), through the implicit z_e."""
    import jax
    import jax.numpy as jnp

    embed = embedding(P_exponents)[0]
    coef = jnp.asarray(P_coefficients)

    def section(d, z0, S, oe):
        s, _ = sections_and_derivatives(embed(d, z0, S, oe, coef)[None, :], E, False)
        return s[0]

    s_d = jax.jacfwd(section, holomorphic=True)  # [alpha, a]
    s_dd = jax.jacfwd(s_d, holomorphic=True)  # [alpha, a, c]

    def one(z0, S, oe):
        zero = jnp.zeros(S.shape[1], dtype=jnp.complex128)
        return section(zero, z0, S, oe), s_d(zero, z0, S, oe), s_dd(zero, z0, S, oe)

    return one


def _kernel(E, k, P_exponents, P_coefficients):
    """Per block: g, d_c g, dbar_d g and d_c dbar_d g of K_H at every point.

    These need at most two holomorphic and two antiholomorphic derivatives of K, hence
    only the 2-jets of the sections s(z(d)) (through the implicit z_e): s0, s1 = ds/dd,
    s2 = d^2 s/dd^2, and of their conjugates (the conjugate construction: conj of the
    same jets).  K is then differentiated exactly through its quadratic Taylor model
    s0 + s1 d + d s2 d / 2, whose derivatives up to that order are those of s (this keeps
    the custom JVP two levels deep and the compilation short)."""
    import jax
    import jax.numpy as jnp

    jets_at = section_jets(E, P_exponents, P_coefficients)

    def potential(d, y, jets, H):
        s0, s1, s2 = jets
        s = s0 + s1 @ d + 0.5 * (s2 @ d) @ d
        sb = jnp.conj(s0) + jnp.conj(s1) @ y + 0.5 * (jnp.conj(s2) @ y) @ y
        return jnp.log(sb @ (H @ s)) / k

    dK = jax.grad(potential, argnums=0, holomorphic=True)  # reverse: d_a K
    metric = jax.jacfwd(dK, argnums=1, holomorphic=True)  # [a, b] = d_a dbar_b K
    d_metric = jax.jacfwd(metric, argnums=0, holomorphic=True)  # [a, b, c]
    dbar_metric = jax.jacfwd(metric, argnums=1, holomorphic=True)  # [a, b, d]
    ddbar_metric = jax.jacfwd(d_metric, argnums=1, holomorphic=True)  # [a, b, c, d]

    def one(z0, S, oe, H):
        zero = jnp.zeros(S.shape[1], dtype=jnp.complex128)
        args = (zero, zero, jets_at(z0, S, oe), H)
        return metric(*args), d_metric(*args), dbar_metric(*args), ddbar_metric(*args)

    return jax.vmap(one, in_axes=(0, 0, 0, None))


@functools.lru_cache(maxsize=16)
def _factory(exp_bytes: bytes, shape: tuple[int, int], coef_bytes: bytes):
    """The kernel factory of one polynomial (cached, so that ``compiled`` reuses its jit)."""
    P_exponents = np.frombuffer(exp_bytes, dtype=np.int64).reshape(shape)
    P_coefficients = np.frombuffer(coef_bytes, dtype=np.complex128)
    return lambda E, k: _kernel(E, k, P_exponents, P_coefficients)


def chart_selectors(ps) -> tuple[np.ndarray, np.ndarray]:
    """S (N, n+1, m), selecting each point's local coordinates, and oe (N, n+1), the
    one-hot eliminated coordinate: the chart arguments of the jet kernel."""
    N, n1, m = len(ps), ps.surface.n_ambient, ps.surface.dim
    ar = np.arange(N)
    S = np.zeros((N, n1, m))
    for a in range(m):
        S[ar, ps.coords[:, a].astype(np.intp), a] = 1.0
    oe = np.zeros((N, n1))
    oe[ar, ps.elim.astype(np.intp)] = 1.0
    return S, oe


def jet_function(surface, basis: np.ndarray, k: int):
    """The jitted kernel ``(z, S, oe, H) -> (g, dg, dbg, ddg)`` of :func:`metric_jets` for one
    block of points (JAX-traceable in H, so a flow can differentiate or evaluate it inside a jit)."""
    E_P = np.ascontiguousarray(surface.exponents, dtype=np.int64)
    c_P = np.ascontiguousarray(surface.coefficients, dtype=np.complex128)
    return compiled(_factory(E_P.tobytes(), E_P.shape, c_P.tobytes()), basis, k)


def metric_jets(metric: AlgebraicMetric, ps, block: int = 512) -> dict:
    """g (N, m, m), dg[.., a, b, c] = d_c g_{a bbar}, dbg[.., a, b, d] = dbar_d g_{a bbar} and
    ddg[.., a, b, c, d] = d_c dbar_d g_{a bbar} in each point's own chart (blocked JAX)."""
    import jax.numpy as jnp

    from metricflow._x64 import x64

    metric._check_points(ps)
    N, m = len(ps), metric.surface.dim
    S, oe = chart_selectors(ps)
    fn = jet_function(metric.surface, metric.basis, metric.k)
    out = {"g": np.empty((N, m, m), complex), "dg": np.empty((N, m, m, m), complex),
           "dbg": np.empty((N, m, m, m), complex), "ddg": np.empty((N, m, m, m, m), complex)}
    with x64():
        H = jnp.asarray(metric.H, dtype=jnp.complex128)
        for a, b in blocks(N, block):
            res = fn(jnp.asarray(pad_rows(ps.points[a:b], block)), jnp.asarray(pad_rows(S[a:b], block)),
                     jnp.asarray(pad_rows(oe[a:b], block)), H)
            for key, val in zip(("g", "dg", "dbg", "ddg"), res, strict=True):
                out[key][a:b] = np.asarray(val)[: b - a]
    return out


def chern_curvature(jets: dict) -> np.ndarray:
    """Theta[.., c, d, b, a] = R^a_{b c dbar} (module docstring), (N, m, m, m, m); numpy or JAX."""
    from metricflow._linalg import inv, namespace

    xp = namespace(jets["g"])
    Gi = inv(jets["g"])[:, None]
    dg = xp.moveaxis(jets["dg"], 3, 1)  # [.., c, a, b] = G_{,c}
    dbg = xp.moveaxis(jets["dbg"], 3, 1)  # [.., d, a, b] = G_{,dbar}
    ddg = xp.moveaxis(jets["ddg"], (3, 4), (1, 2))  # [.., c, d, a, b]
    A = dg @ Gi  # G_{,c} G^{-1}
    B = dbg @ Gi  # G_{,dbar} G^{-1}
    return -ddg @ Gi[:, None] + A[:, :, None] @ B[:, None, :]


def _sign(perm) -> int:
    n = len(perm)
    return (-1) ** sum(perm[i] > perm[j] for i in range(n) for j in range(i + 1, n))


def top_chern_density(theta: np.ndarray) -> np.ndarray:
    """c_n / d^{2n}x = pi^{-n} sum sgn(rho sigma tau) prod_a Theta_{sigma(a) taubar(a)}[a, rho(a)]
    ((n!)^3 products of n arrays: 216 for a threefold)."""
    n = theta.shape[1]
    perms = [(p, _sign(p)) for p in itertools.permutations(range(n))]
    out = np.zeros(theta.shape[0], dtype=theta.dtype)
    for rho, s_rho in perms:
        for sig, s_sig in perms:
            for tau, s_tau in perms:
                term = theta[:, sig[0], tau[0], 0, rho[0]]
                for a in range(1, n):
                    term = term * theta[:, sig[a], tau[a], a, rho[a]]
                out += (s_rho * s_sig * s_tau) * term
    return out / np.pi**n


def pointwise_curvature(metric: AlgebraicMetric, ps, block: int = 512, chunk: int = 16384) -> dict:
    """Per point: ``c_n`` (the top Chern density over d^{2n}x, complex: its imaginary part is
    round-off), ``det`` (det g), ``ricci_scalar`` (R = g^{a bbar} R_{a bbar}); computed in
    chunks of ``chunk`` points so that the jets (N m^4 numbers) never exist for all N."""
    from metricflow._linalg import det, inv

    N = len(ps)
    out = {"c_n": np.empty(N, complex), "det": np.empty(N), "ricci_scalar": np.empty(N)}
    for a, b in blocks(N, chunk):
        jets = metric_jets(metric, ps.subset(np.arange(a, b)), block)
        theta = chern_curvature(jets)
        ricci = np.trace(theta, axis1=3, axis2=4)  # [.., c, d] = R_{c dbar}
        out["c_n"][a:b] = top_chern_density(theta)
        out["det"][a:b] = np.real(det(jets["g"]))
        out["ricci_scalar"][a:b] = np.real(np.einsum("ndc,ncd->n", inv(jets["g"]), ricci))
    return out


def curvature_report(metric, ps, block: int = 512) -> dict:
    """chi = int c_n with its standard error (points of a line as one cluster), the Ricci
    measure (module docstring), the volume, the mean Ricci scalar and the largest
    |Im c_n| relative to max |Re c_n| (a round-off check).  ``metric``: ``"fs"`` or an
    :class:`~metricflow.cy.algebraic.AlgebraicMetric`."""
    from metricflow.cy.measures import line_mean

    if isinstance(metric, str):
        if metric != "fs":
            raise InvalidInputError("metric", f"unknown metric {metric!r}: use fs or a saved algebraic metric")
        metric = AlgebraicMetric.identity(ps.surface, 1)  # K = log|z|^2, exactly FS (tested)
    pw = pointwise_curvature(metric, ps, block)
    f = pw["c_n"] / ps.det_g_fs
    if not np.all(np.isfinite(f)):
        raise NumericalError("the curvature is not finite at some point")
    vol_fs = ps.surface.fs_volume()
    chi, err = line_mean(f.real, ps.line)
    r = pw["det"] / ps.det_g_fs  # dVol_K / dVol_FS
    vol_k = vol_fs * r.mean()
    n = ps.surface.dim
    ricci_measure = vol_k ** (1.0 / n) * vol_fs * float(np.mean(np.abs(pw["ricci_scalar"]) * r)) / vol_k
    return {"euler_characteristic": vol_fs * chi, "euler_stderr": vol_fs * err,
            "ricci_measure": ricci_measure, "volume": vol_k, "n_points": len(ps),
            "max_imag_relative": float(np.max(np.abs(f.imag)) / max(np.max(np.abs(f.real)), 1e-300)),
            "ricci_scalar_mean": float(np.mean(pw["ricci_scalar"] * r) / r.mean())}


__all__ = ["chart_selectors", "chern_curvature", "curvature_report", "embedding", "jet_function", "metric_jets",
           "pointwise_curvature", "section_jets", "top_chern_density"]
