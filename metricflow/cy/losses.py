"""Losses of the Calabi–Yau metric networks (issue 15), on batches of points prepared
once by :func:`prepare` (all float64; conventions of docs/cy.md and
:mod:`metricflow.cy.measures`).

With r = det g / det g_FS and the Monte Carlo weights w = |Omega|^2 / det g_FS at points
drawn from the FS volume form:

* ``sigma`` (Monge–Ampère, L1): Σ|w - r/κ| / Σw with κ = Σr/Σw (B.10, B.11) — exactly
  :func:`metricflow.cy.sigma` on the batch;
* ``kahler``: mean over points of Σ_{abc} |∂_c g_{a bbar} - ∂_a g_{c bbar}|^2 (dJ = 0 for
  J = i g_{a bbar} dx^a ∧ dx̄^b; its ∂̄ part is the conjugate), zero by construction for the
  potential model and skipped there. The derivatives in the local coordinates x of the
  point's chart go through the eliminated coordinate z_e(x) by the implicit function
  theorem in closed form (dz_e/dx_a = -P_{c_a}/P_e, a ``custom_jvp`` whose rule is itself
  differentiable, so that ∂g, which involves ∂J, is exact; no root solve);
* ``transition``: mean of |T^T g conj(T) - g'|_F^2 / |g'|_F^2, the model's metric at the
  point in its own chart carried to a second chart by the transition T = dx/dx'
  (:func:`metricflow.cy.chart_transition`) against the model evaluated in that chart
  (the patch of the second-largest |z_i|, its best eliminated coordinate); zero by
  construction for the potential model and skipped there;
* ``volume``: (mean r - 1)^2, the volume ∫ det g / Vol_FS of the Kähler class of g_FS.
"""

from __future__ import annotations

import math

import numpy as np

from metricflow.errors import InvalidInputError

TERMS = ("sigma", "kahler", "transition", "volume")
DEFAULT_WEIGHTS = {"sigma": 1.0, "kahler": 1.0, "transition": 1.0, "volume": 1.0}


def check_weights(weights: dict) -> dict:
    """Finite non-negative weights by term name; unknown names refused (argument ``weights``)."""
    out = dict(DEFAULT_WEIGHTS)
    for name, value in weights.items():
        if name not in TERMS:
            raise InvalidInputError("weights", f"unknown loss term {name!r}; use {', '.join(TERMS)}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise InvalidInputError("weights", f"the weight of {name} must be a finite number >= 0, got {value!r}")
        out[name] = float(value)
    if out["sigma"] == 0 and out["volume"] == 0:
        raise InvalidInputError("weights", "sigma and volume both weigh 0: nothing ties the metric to Ricci-flatness")
    return out


def _second_charts(ps) -> np.ndarray:
    """(p', e') per point: the patch of the second-largest |z_i| and the best eliminated
    coordinate there (largest |dP/dz_j|, j != p')."""
    z = ps.points
    order = np.argsort(-np.abs(z), axis=1)
    p2 = order[:, 1]
    grad = np.abs(ps.surface.gradient(z))
    grad[np.arange(len(ps)), p2] = -1.0
    return np.stack([p2, np.argmax(grad, axis=1)], axis=1)


def _chart_arrays(patch, elim, coords, dxe, n1: int) -> dict:
    """One-hot patch ``op`` and eliminated coordinate ``oe`` (N, n+1), the coordinate
    embedding ``C`` (N, n+1, m) and the Jacobian J = C + oe ⊗ dz_e/dx (N, n+1, m)."""
    N, m = coords.shape
    ar = np.arange(N)
    op = np.zeros((N, n1))
    op[ar, patch.astype(np.intp)] = 1.0
    oe = np.zeros((N, n1))
    oe[ar, elim.astype(np.intp)] = 1.0
    C = np.zeros((N, n1, m))
    for a in range(m):
        C[ar, coords[:, a].astype(np.intp), a] = 1.0
    return {"op": op, "oe": oe, "C": C, "jac": C + oe[:, :, None] * dxe[:, None, :]}


def prepare(ps, transition: bool = True, base=None) -> dict:
    """The arrays a batch needs (numpy, float64/complex128): points ``z``, Jacobians
    ``jac``, ``w``, ``det_fs``, the chart (one-hot ``op``, ``oe``, ``C``), with
    ``transition`` the second chart's points ``z2``, Jacobians ``jac2`` and ``T``, and with
    a ``base`` metric (an :class:`~metricflow.cy.algebraic.AlgebraicMetric`) its values
    ``g_base`` (N, m, m) at the points, computed once."""
    from metricflow import cy

    N, n1, m = len(ps), ps.surface.n_ambient, ps.surface.dim
    data = {"z": ps.points.astype(np.complex128), "w": ps.weights.astype(np.float64),
            "det_fs": ps.det_g_fs.astype(np.float64),
            **_chart_arrays(ps.patch, ps.elim, ps.coords, ps.dxe, n1)}
    if transition:
        charts = _second_charts(ps)
        z2, jac2 = np.empty_like(data["z"]), np.empty_like(data["jac"])
        T = np.empty((N, m, m), dtype=np.complex128)
        keys = charts[:, 0] * n1 + charts[:, 1]
        for key in np.unique(keys):
            idx = np.flatnonzero(keys == key)
            chart = (int(key // n1), int(key % n1))
            geo = cy.point_geometry(ps.surface, ps.points[idx], chart=chart)
            z2[idx] = geo["points"]
            jac2[idx] = _chart_arrays(geo["patch"], geo["elim"], geo["coords"], geo["dxe"], n1)["jac"]
            T[idx] = cy.chart_transition(ps.subset(idx), chart)
        data.update(z2=z2, jac2=jac2, T=T)
    if base is not None:
        data["g_base"] = base(ps)
    return data


def sigma_and_volume(g, w, det_fs):
    """(σ, mean r) of metrics g (B, m, m) on a batch (B.10, B.11; κ from the batch)."""
    import jax.numpy as jnp

    from metricflow._linalg import det

    r = jnp.real(det(g)) / det_fs
    return sigma_of_ratio(r, w), jnp.mean(r)


def sigma_of_ratio(r, w):
    """σ = Σ|w - r/κ|/Σw, κ = Σr/Σw (B.10, B.11) of r = det g/det g_FS and the weights w."""
    import jax.numpy as jnp

    kappa = jnp.sum(r) / jnp.sum(w)
    return jnp.sum(jnp.abs(w - r / kappa)) / jnp.sum(w)


def _poly_grad(E: np.ndarray, coeffs: np.ndarray, z):
    """dP/dz_i (n+1,) at one point by a table of powers (exact at z_i = 0)."""
    import jax.numpy as jnp

    kmax = int(E.max())
    pw = [jnp.ones_like(z)]
    for _ in range(kmax):
        pw.append(pw[-1] * z)
    pw = jnp.stack(pw, axis=1)  # (n+1, kmax+1)
    n1 = E.shape[1]
    factors = [pw[i, E[:, i]] for i in range(n1)]  # (M,) each
    grads = []
    for i in range(n1):
        d = E[:, i] * pw[i, np.maximum(E[:, i] - 1, 0)]
        for j in range(n1):
            if j != i:
                d = d * factors[j]
        grads.append(jnp.sum(coeffs * d))
    return jnp.stack(grads)


def local_derivative(arch, params, E, coeffs, z0, op, oe, C, base_fn=None):
    """∂_c g_{a bbar} (m, m, m) at one point in its own chart (module docstring); ``base_fn``
    the ambient form of a base metric under the potential model (``point_metric``)."""
    import jax
    import jax.numpy as jnp

    from metricflow.cy.networks import point_metric

    m = C.shape[1]

    @jax.custom_jvp
    def z_elim(x):
        return jnp.sum(z0 * oe)  # the value at the base point: only derivatives at x0 are taken

    def embed(x):
        z = op + C @ x + oe * z_elim(x)
        grad = _poly_grad(E, coeffs, z)
        return z, grad

    @z_elim.defjvp
    def _jvp(primals, tangents):
        (x,), (dx,) = primals, tangents
        _, grad = embed(x)
        return z_elim(x), -(grad @ (C @ dx)) / (grad @ oe)

    def g_of(uv):
        z, grad = embed(uv[:m] + 1j * uv[m:])
        J = C + oe[:, None] * (-(C.T @ grad) / (grad @ oe))[None, :]
        return point_metric(arch, params, z, J, base_fn)

    x0 = C.T @ z0
    dg = jax.jacfwd(g_of)(jnp.concatenate([jnp.real(x0), jnp.imag(x0)]))  # (m, m, 2m)
    return 0.5 * (dg[..., :m] - 1j * dg[..., m:])


def kahler_measure(arch, params, E, coeffs, batch, base_fn=None):
    """Σ_{abc} |∂_c g_{a bbar} - ∂_a g_{c bbar}|^2 per point (B,)."""
    import jax
    import jax.numpy as jnp

    def one(z, op, oe, C):
        d = local_derivative(arch, params, E, coeffs, z, op, oe, C, base_fn)
        return jnp.sum(jnp.abs(d - jnp.transpose(d, (2, 1, 0))) ** 2)

    return jax.vmap(one)(batch["z"], batch["op"], batch["oe"], batch["C"])


def transition_measure(arch, params, batch, g=None, base_fn=None):
    """|T^T g conj(T) - g'|_F^2 / |g'|_F^2 per point (B,); ``base_fn`` as in :func:`local_derivative`."""
    import jax
    import jax.numpy as jnp

    from metricflow.cy.networks import point_metric

    def metric(z, jac):
        return jax.vmap(lambda a, b: point_metric(arch, params, a, b, base_fn))(z, jac)

    if g is None:
        g = metric(batch["z"], batch["jac"])
    g2 = metric(batch["z2"], batch["jac2"])
    T = batch["T"]
    gt = jnp.swapaxes(T, 1, 2) @ g @ jnp.conj(T)
    return jnp.sum(jnp.abs(gt - g2) ** 2, axis=(1, 2)) / jnp.sum(jnp.abs(g2) ** 2, axis=(1, 2))


def terms(arch, params, batch, E, coeffs, weights: dict):
    """``(r, sums)`` on a batch: r = det g/det g_FS (B,) and the sums over its points of the
    weighted Kähler and transition measures (not computed where their weight is 0 or the
    model makes them vanish by construction). With ``batch["g_base"]`` the potential
    model sits on that base metric (:func:`metricflow.cy.networks.batch_metric`)."""
    import jax.numpy as jnp

    from metricflow._linalg import det
    from metricflow.cy.networks import batch_metric

    g = batch_metric(arch, params, batch["z"], batch["jac"], batch.get("g_base"))
    r = jnp.real(det(g)) / batch["det_fs"]
    sums = {}
    if weights["kahler"] > 0 and not arch.kahler_by_construction:
        sums["kahler"] = jnp.sum(kahler_measure(arch, params, E, coeffs, batch))
    if weights["transition"] > 0 and "z2" in batch and not arch.chart_independent:
        sums["transition"] = jnp.sum(transition_measure(arch, params, batch, g))
    return r, sums


def combine(r, w, sums: dict, n: int, weights: dict) -> dict:
    """Every term from r (n,), the weights w (n,) and the measures' sums over the n points,
    and their weighted sum ``total``: σ with one κ over the n points (B.10, B.11)."""
    import jax.numpy as jnp

    out = {"sigma": sigma_of_ratio(r, w), "volume": (jnp.mean(r) - 1.0) ** 2}
    out.update({k: v / n for k, v in sums.items()})
    out["total"] = sum(weights[k] * v for k, v in out.items())
    return out


def losses(arch, params, batch, E, coeffs, weights: dict) -> dict:
    """Every weighted term on a batch and their weighted sum ``total`` (terms of weight 0,
    and ``kahler``/``transition`` for the potential model, are not computed)."""
    r, sums = terms(arch, params, batch, E, coeffs, weights)
    return combine(r, batch["w"], sums, r.shape[0], weights)


__all__ = ["DEFAULT_WEIGHTS", "TERMS", "check_weights", "combine", "kahler_measure", "local_derivative", "losses",
           "prepare", "sigma_and_volume", "sigma_of_ratio", "terms", "transition_measure"]
