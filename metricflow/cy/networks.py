"""Finite networks for Calabi–Yau metrics on any hypersurface (issue 15; the paper's
section 3 and the journal version's Figure 4), in JAX, float64 like the geometry.

Three models, all written as an *ambient* hermitian form G_{i jbar}(z) on C^{n+1} pulled
back to X in each point's own chart (p, e) exactly as the Fubini–Study metric and the
algebraic metrics are (:mod:`metricflow.cy.algebraic`): g_{a bbar} = J_{ia} G_{i jbar}
conj(J_{jb}), J = dz/dx the closed-form Jacobian of the embedding (dz_e/dx_a =
-P_{c_a}/P_e, no root solve). With G^FS_{i jbar} = delta_ij/|z|^2 - conj(z_i) z_j/|z|^4
(K = log|z|^2, eq. B.1):

* ``mult``: G = G^FS ⊙ (1 + H_NN) (element-wise), the cymetric multiplicative model;
* ``add``:  G = G^FS + H_NN, the cymetric additive model;
* ``phi``:  G = G^FS + ∂∂̄φ_NN, Kähler by construction.

H_NN is the hermitian assembly of (n+1)^2 real outputs in the layout of
:func:`metricflow.kernels.metric.from_components` (the diagonal, then Re and Im of the
upper triangle). The inputs of ``mult``/``add`` are Re and Im of the normalised
homogeneous coordinates z/|z| (z scaled so that z_p = 1), as in cymetric. The potential
φ is a function of ``Architecture.inputs`` (:mod:`metricflow.cy.features`): by default
u_{ij} = z_i conj(z_j)/|z|^2 (the n+1 real diagonal entries and Re, Im of the upper
triangle), or the degree-K forms ``monomials:K`` / ``invariant:K``; all are invariant under
z -> λz, so φ is a function on P^n (DESIGN.md) and g is a metric in the Kähler class of the
base. Since z(x) is holomorphic, the pull-back of ∂∂̄φ is J^T (∂∂̄φ) conj(J): no derivative
of J; :func:`potential_ddbar` takes it along the tangent directions v_a = J[:, a] by the
chain rule through the inputs' closed-form jets, and :func:`ddbar_pulled` (the real Hessian
of the composed φ in (Re, Im) of those directions, ∂_a ∂̄_b = ¼[H_xx + H_yy + i(H_xy −
H_yx)]_ab) is its independent check.

``precision="float32"`` runs the network (parameters and arithmetic) in float32 and
everything else in float64; the default is float64 throughout. The networks are
standard-parameterised MLPs (Glorot-normal weights, zero biases, as
cymetric) whose last layer starts scaled by ``out_scale`` so that the initial metric is
an O(out_scale) perturbation of g_FS (positive definite at initialisation); ``out_scale``
0 (standard parameterisation only) starts from a zero last layer, at the base metric
exactly — the right start on an accurate base, where inputs of degree K have second
derivatives O(K^2) and any random start would undo the base.

``parameterization="ntk"`` is the NTK parameterisation of :mod:`metricflow.models.mlp`
(eqs. 2.9–2.12): every weight N(0, 1), zero biases, and each layer's pre-activation
W h/√fan_in + b, the last layer's multiplied by ``out_scale`` in the forward pass (not in
its weights), so that the initial metric is the same O(out_scale) perturbation while the
metric-NTK has a finite deterministic limit as the width grows and, trained by gradient
descent at a width-independent step, the network approaches its linearisation (the lazy
regime). The stored parameters are the raw N(0, 1)-scale ones; a saved network records
its parameterisation (files without it are standard).
"""

from __future__ import annotations

import functools
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from metricflow.cy.features import n_inputs, parse_inputs
from metricflow.errors import InvalidInputError

KINDS = ("mult", "add", "phi")
PRECISIONS = ("float64", "float32")
ACTIVATIONS = ("relu", "gelu")
PARAMETERIZATIONS = ("standard", "ntk")
FORMAT = "metricflow.cy.network/1"
NETWORK_FILE = "network.npz"
MAX_WIDTH = 4096
MAX_LAYERS = 8


@dataclass(frozen=True)
class Architecture:
    """A model: ``kind`` (mult, add, phi), hidden widths, activation, n+1 ambient
    coordinates, the initial scale of the last layer, the precision and the
    parameterisation (``standard`` or ``ntk``, module docstring)."""

    kind: str
    hidden: tuple
    activation: str
    n_ambient: int
    out_scale: float = 0.1
    precision: str = "float64"  # of the network's parameters and arithmetic; the geometry stays float64
    parameterization: str = "standard"  # or "ntk": N(0, 1) weights, 1/sqrt(fan_in) in the forward pass
    inputs: str = "u"  # of the potential model: u, monomials:K or invariant:K (metricflow.cy.features)
    poly_degree: int = 0  # the hypersurface's degree d: the Fermat group of invariant:K inputs (0: not needed)

    def __post_init__(self):
        if self.kind not in KINDS:
            raise InvalidInputError("model", f"expected one of {', '.join(KINDS)}, got {self.kind!r}")
        if self.activation not in ACTIVATIONS:
            raise InvalidInputError("activation", f"expected one of {', '.join(ACTIVATIONS)}, got {self.activation!r}")
        h = self.hidden
        if (not isinstance(h, tuple) or not 1 <= len(h) <= MAX_LAYERS
                or any(isinstance(w, bool) or not isinstance(w, (int, np.integer)) or not 1 <= w <= MAX_WIDTH
                       for w in h)):
            raise InvalidInputError("hidden", f"need 1 to {MAX_LAYERS} widths in [1, {MAX_WIDTH}], got {h!r}")
        low = 0.0 if self.parameterization == "standard" else None  # 0: a zero last layer, g = the base at the start
        if not (isinstance(self.out_scale, (int, float)) and math.isfinite(self.out_scale)
                and (self.out_scale > 0 or self.out_scale == low)):
            raise InvalidInputError("out_scale", "need a finite number > 0 (or 0 in the standard parameterisation: "
                                    f"a zero last layer), got {self.out_scale!r}")
        if self.precision not in PRECISIONS:
            raise InvalidInputError("precision", f"expected one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        if self.parameterization not in PARAMETERIZATIONS:
            raise InvalidInputError("parameterization", f"expected one of {', '.join(PARAMETERIZATIONS)}, "
                                    f"got {self.parameterization!r}")
        family, _ = parse_inputs(self.inputs)
        if family != "u" and self.kind != "phi":
            raise InvalidInputError("inputs", f"{self.inputs!r} are inputs of the potential model (phi); "
                                    f"the {self.kind!r} model takes the coordinates (inputs u)")
        if family == "invariant" and (isinstance(self.poly_degree, bool) or not isinstance(self.poly_degree, int)
                                      or self.poly_degree < 2):
            raise InvalidInputError("inputs", f"{self.inputs!r} needs the Fermat hypersurface's degree, "
                                    f"got {self.poly_degree!r}")

    @property
    def n_in(self) -> int:
        n1 = self.n_ambient
        return 2 * n1 if self.kind in ("mult", "add") else n_inputs(self.inputs, n1, self.poly_degree)

    @property
    def n_out(self) -> int:
        return self.n_ambient**2 if self.kind in ("mult", "add") else 1

    @property
    def kahler_by_construction(self) -> bool:
        return self.kind == "phi"

    @property
    def chart_independent(self) -> bool:
        """g_FS + ∂∂̄φ with φ a function on P^n is one tensor in every chart (transition loss 0, tested)."""
        return self.kind == "phi"

    def to_dict(self) -> dict:
        d = asdict(self)
        d["hidden"] = list(self.hidden)
        return d


def init_params(arch: Architecture, key) -> list:
    """Glorot-normal weights, zero biases; the last layer scaled by ``arch.out_scale``. In
    the NTK parameterisation: N(0, 1) weights (the same normal draws), zero biases, nothing
    scaled (:func:`mlp` applies 1/√fan_in and ``out_scale``)."""
    import jax
    import jax.numpy as jnp

    sizes = [arch.n_in, *arch.hidden, arch.n_out]
    keys = jax.random.split(key, len(sizes) - 1)
    dtype = jnp.dtype(arch.precision)
    params = []
    ntk = arch.parameterization == "ntk"
    for i, (k, a, b) in enumerate(zip(keys, sizes[:-1], sizes[1:], strict=True)):
        W = jax.random.normal(k, (a, b), jnp.float64)
        if not ntk:
            W = W * math.sqrt(2.0 / (a + b))
            if i == len(sizes) - 2:
                W = W * arch.out_scale
        params.append({"W": W.astype(dtype), "b": jnp.zeros(b, dtype)})
    return params


def mlp(params, x, activation: str, ntk_out_scale: float | None = None):
    """The network at one input (d,) -> (n_out,), in the precision of its parameters; the
    output is returned in the precision of ``x`` (the geometry's float64). With
    ``ntk_out_scale`` (a float) the NTK parameterisation: h W/√fan_in + b in every layer,
    the last layer's times ``ntk_out_scale`` (module docstring)."""
    import jax

    act = jax.nn.relu if activation == "relu" else (lambda t: jax.nn.gelu(t, approximate=False))
    h = x.astype(params[0]["W"].dtype)
    for i, layer in enumerate(params):
        if i > 0:
            h = act(h)
        if ntk_out_scale is None:
            h = h @ layer["W"] + layer["b"]
        else:
            h = h @ layer["W"] * (1.0 / math.sqrt(layer["W"].shape[0])) + layer["b"]
            if i == len(params) - 1:
                h = h * ntk_out_scale
    return h.astype(x.dtype)


def network(arch: Architecture, params, x):
    """The MLP of ``arch`` at one input, in its parameterisation (:func:`mlp`)."""
    return mlp(params, x, arch.activation, arch.out_scale if arch.parameterization == "ntk" else None)


def fs_ambient(z):
    """G^FS_{i jbar} = delta_ij/|z|^2 - conj(z_i) z_j/|z|^4 at one point z (n+1,)."""
    import jax.numpy as jnp

    n2 = jnp.sum(jnp.abs(z) ** 2)
    return jnp.eye(z.shape[0]) / n2 - jnp.conj(z)[:, None] * z[None, :] / n2**2


def invariant_features(arch: Architecture, z):
    """The potential network's inputs at one point, functions on P^n (:mod:`metricflow.cy.features`):
    by default Re and Im of u_ij = z_i conj(z_j)/|z|^2 (diagonal, then Re, Im of i < j)."""
    from metricflow.cy.features import evaluate

    return evaluate(arch.inputs, arch.n_ambient, arch.poly_degree, z)


def potential(arch: Architecture, params, z):
    """φ_NN(z), a function on P^n (module docstring)."""
    return network(arch, params, invariant_features(arch, z))[0]


def ddbar_pulled(f, z, jac):
    """J^T (∂∂̄f) conj(J) (m, m): ∂_a ∂̄_b f along the holomorphic directions v_a = J[:, a]
    by the real Hessian in the 2m real directions v_a and i v_a only (not all 2(n+1)):
    with D_a, D_{ia} the real derivatives along v_a and i v_a, ∂_a = ½(D_a - i D_{ia}) and
    ∂̄_b = ½(D_b + i D_{ib}), so ∂_a ∂̄_b f = ¼[D_a D_b + D_{ia} D_{ib} + i(D_a D_{ib} - D_{ia} D_b)]."""
    import jax
    import jax.numpy as jnp

    m = jac.shape[1]
    Hr = jax.hessian(lambda t: f(z + jac @ t[:m] + 1j * (jac @ t[m:])))(jnp.zeros(2 * m, dtype=jnp.real(z).dtype))
    a, b, c, d = Hr[:m, :m], Hr[:m, m:], Hr[m:, :m], Hr[m:, m:]
    return 0.25 * (a + d + 1j * (b - c))


def potential_ddbar(arch: Architecture, params, z, jac):
    """∂_a ∂̄_b φ_NN (m, m) along the holomorphic directions v_a = jac[:, a], by the chain rule
    through the inputs' closed-form jets f, ∂_a f, ∂_a∂̄_b f (:func:`metricflow.cy.features.jets`;
    they do not depend on the parameters):
        ∂_a∂̄_b φ = Σ_ij φ_ij ∂_a f_i conj(∂_b f_j) + Σ_i φ_i ∂_a∂̄_b f_i,
    φ_i, φ_ij the network's gradient and Hessian in its inputs. With ∂_a f = R_a + i I_a the first
    term is R_a·Φ R_b + I_a·Φ I_b + i(I_a·Φ R_b − R_a·Φ I_b): 2m Hessian-vector products
    (forward over reverse), never the F × F Hessian. Equal to :func:`ddbar_pulled` of
    :func:`potential` (tested) at a fraction of its cost for inputs of high degree."""
    import jax
    import jax.numpy as jnp

    from metricflow.cy.features import jets

    f, df, contract = jets(arch.inputs, arch.n_ambient, arch.poly_degree, z, jac)
    m = jac.shape[1]
    grad_fn = jax.grad(lambda x: network(arch, params, x)[0])
    grad, hvp = jax.linearize(grad_fn, f)
    R = jnp.concatenate([jnp.real(df), jnp.imag(df)], axis=1).T  # (2m, F): R_a, then I_a
    M = R @ jax.vmap(hvp)(R).T  # M_kl = R_k·Φ R_l
    first = M[:m, :m] + M[m:, m:] + 1j * (M[m:, :m] - M[:m, m:])
    return first + contract(grad)


def ambient_metric(arch: Architecture, params, z, base_fn=None):
    """The model's ambient hermitian form G_{i jbar}(z), (n+1, n+1); ``base_fn(z)`` the
    ambient form of a base metric replacing G^FS under the potential model
    (:func:`metricflow.cy.algebraic.ambient_form`)."""
    import jax.numpy as jnp

    from metricflow.kernels.metric import from_components

    _check_base(arch, base_fn)
    G = fs_ambient(z) if base_fn is None else base_fn(z)
    if arch.kind == "phi":
        return G + potential_ddbar(arch, params, z, jnp.eye(arch.n_ambient, dtype=z.dtype))
    zn = z / jnp.sqrt(jnp.sum(jnp.abs(z) ** 2))
    out = network(arch, params, jnp.concatenate([jnp.real(zn), jnp.imag(zn)]))
    H = from_components(out, arch.n_ambient, "hermitian")
    return G * (1.0 + H) if arch.kind == "mult" else G + H


def check_inputs(arch: Architecture, surface, argument: str = "inputs") -> None:
    """InvalidInputError naming ``argument`` when ``arch``'s inputs do not fit the hypersurface:
    ``invariant:K`` needs a Fermat one of the architecture's degree, and no family may need more
    than ``features.MAX_MONOMIALS`` monomials (:mod:`metricflow.cy.features`)."""
    from metricflow.cy.symmetry import is_fermat

    n_inputs(arch.inputs, arch.n_ambient, arch.poly_degree)  # builds the tables: too many monomials refused here
    if arch.inputs.startswith("invariant:") and not (is_fermat(surface) and surface.degree == arch.poly_degree):
        raise InvalidInputError(argument, f"{arch.inputs!r} inputs are invariant under the Fermat group: they need "
                                f"a Fermat hypersurface (sum of c z_i^d) of degree {arch.poly_degree}; use "
                                f"monomials:K on {surface.spec or 'this'!r}")


def _check_base(arch: Architecture, base) -> None:
    if base is not None and arch.kind != "phi":
        raise InvalidInputError("base", f"a base metric takes the potential model (phi), not {arch.kind!r}")


def point_metric(arch: Architecture, params, z, jac, base_fn=None):
    """g_{a bbar} = J_ia G_{i jbar} conj(J_jb) at one point (z (n+1,), jac (n+1, m)).

    ``params`` of :func:`linearised` give the lazy twin: the first-order Taylor
    expansion g(θ0) + ∂_θ g(θ0)·(θ - θ0) in the parameters (frozen tangent kernel)."""
    import jax
    import jax.numpy as jnp

    if isinstance(params, dict) and "theta0" in params:
        theta0 = jax.lax.stop_gradient(params["theta0"])
        delta = jax.tree_util.tree_map(lambda a, b: a - b, params["theta"], theta0)
        g0, dg = jax.jvp(lambda p: point_metric(arch, p, z, jac, base_fn), (theta0,), (delta,))
        return g0 + dg
    if arch.kind == "phi":  # ∂∂̄φ in the tangent directions only (potential_ddbar): m, not n+1
        G = fs_ambient(z) if base_fn is None else base_fn(z)
        return jac.T @ G @ jnp.conj(jac) + potential_ddbar(arch, params, z, jac)
    return jac.T @ ambient_metric(arch, params, z, base_fn) @ jnp.conj(jac)


def linearised(params) -> dict:
    """The parameters of the lazy twin linearised at ``params`` (its value there equals the network's);
    θ0 gets no gradient, so Adam leaves it in place exactly."""
    import jax

    return {"theta0": params, "theta": jax.tree_util.tree_map(lambda a: a, params)}


def packed_point(z, jac):
    """One point as a real vector (Re z, Im z, Re J, Im J) for the kernels of :mod:`metricflow.kernels`."""
    import jax.numpy as jnp

    return jnp.concatenate([jnp.real(z), jnp.imag(z), jnp.real(jac).ravel(), jnp.imag(jac).ravel()])


def _unpacked_metric(arch: Architecture, params, x):
    n1, m = arch.n_ambient, arch.n_ambient - 2
    z = x[:n1] + 1j * x[n1:2 * n1]
    k = n1 * m
    jac = (x[2 * n1:2 * n1 + k] + 1j * x[2 * n1 + k:]).reshape(n1, m)
    return point_metric(arch, params, z, jac)


@functools.lru_cache(maxsize=32)
def packed_metric(arch: Architecture):
    """``g_fn(params, x) -> (m, m)`` on :func:`packed_point` vectors (one function per
    architecture, so that the empirical metric-NTK compiles once)."""
    return functools.partial(_unpacked_metric, arch)


def batch_metric(arch: Architecture, params, z, jac, g_base=None):
    """:func:`point_metric` over a batch (B, n+1), (B, n+1, m) -> (B, m, m); with the
    values ``g_base`` (B, m, m) of a base metric at the points (computed once: they do not
    depend on the parameters), the potential model on it, g_base + J^T (∂∂̄φ) conj(J)."""
    import jax

    if g_base is None:
        return jax.vmap(lambda a, b: point_metric(arch, params, a, b))(z, jac)
    _check_base(arch, g_base)

    return g_base + jax.vmap(lambda a, b: potential_ddbar(arch, params, a, b))(z, jac)


BLOCK = 4096


@functools.lru_cache(maxsize=32)
def _jitted(arch: Architecture):
    """One compiled batch metric per architecture."""
    import jax

    return jax.jit(lambda p, z, j, gb: batch_metric(arch, p, z, j, gb))


@dataclass(frozen=True, eq=False)
class NetworkMetric:
    """A trained network on ``surface``: calling it on a :class:`~metricflow.cy.PointSet`
    returns g (N, m, m) in each point's own chart, like :class:`~metricflow.cy.algebraic.AlgebraicMetric`,
    so that ``cy.sigma(ps, metric)`` and ``cy sigma --metric DIR`` take it unchanged.
    ``base``: the algebraic metric under a potential network (g = g_base + ∂∂̄φ), or None
    (g_FS)."""

    surface: object
    arch: Architecture
    params: list
    base: object = None

    def __call__(self, ps) -> np.ndarray:
        from metricflow._x64 import x64
        from metricflow.cy.algebraic import blocks, pad_rows, same_polynomial

        if not same_polynomial(ps.surface, self.surface):
            raise InvalidInputError("metric", f"the network lives on {self.surface.spec or 'a custom'!r} "
                                    f"hypersurface, the points on {ps.surface.spec or 'a custom'!r} one")
        _check_base(self.arch, self.base)
        m = self.surface.dim
        out = np.empty((len(ps), m, m), dtype=np.complex128)
        size = min(BLOCK, max(len(ps), 1))
        gbase = self.base(ps) if self.base is not None else None
        with x64():
            import jax.numpy as jnp

            fn = _jitted(self.arch)
            params = [{k: jnp.asarray(v) for k, v in layer.items()} for layer in self.params]
            for a, b in blocks(len(ps), size):
                zb = pad_rows(ps.points[a:b], size)
                jb = pad_rows(ps.subset(slice(a, b)).jacobian, size)
                gb = None if gbase is None else jnp.asarray(pad_rows(gbase[a:b], size))
                out[a:b] = np.asarray(fn(params, jnp.asarray(zb), jnp.asarray(jb), gb))[: b - a]
        return out


def save_network(metric: NetworkMetric, directory: str | Path) -> Path:
    """Write ``network.npz`` (parameters, architecture, polynomial) into ``directory`` atomically."""
    from metricflow.io import save_npz_atomic

    X = metric.surface
    meta = {"format": FORMAT, "architecture": metric.arch.to_dict(), "hypersurface": X.to_dict(),
            "layers": len(metric.params)}
    arrays = {f"W{i}": np.asarray(layer["W"]) for i, layer in enumerate(metric.params)}
    arrays.update({f"b{i}": np.asarray(layer["b"]) for i, layer in enumerate(metric.params)})
    if metric.base is not None:  # the algebraic metric under the potential, in the file: one self-contained model
        meta["base"] = {"k": metric.base.k}
        arrays.update(base_H=np.asarray(metric.base.H), base_basis=np.asarray(metric.base.basis))
    return save_npz_atomic(Path(directory) / NETWORK_FILE, meta=np.array(json.dumps(meta)),
                           exponents=X.exponents, coefficients=X.coefficients, **arrays)


def load_network(path: str | Path, argument: str = "metric") -> NetworkMetric:
    """Read a network saved by :func:`save_network` (a directory or its ``network.npz``);
    InvalidInputError naming ``argument`` for anything else or an inconsistent file."""
    from metricflow.cy.algebraic import locate_saved, read_saved

    f = locate_saved(path, NETWORK_FILE, argument, "network", "metricflow cy train --out DIR")
    try:
        arrays, meta, X = read_saved(f)
        if meta.get("format") != FORMAT:
            raise ValueError(f"format {meta.get('format')!r}, expected {FORMAT!r}")
        a = meta["architecture"]
        arch = Architecture(str(a["kind"]), tuple(int(w) for w in a["hidden"]), str(a["activation"]),
                            int(a["n_ambient"]), float(a["out_scale"]), str(a.get("precision", "float64")),
                            str(a.get("parameterization", "standard")), str(a.get("inputs", "u")),
                            int(a.get("poly_degree", 0)))
        params = [{key: np.asarray(arrays[f"{key}{i}"], dtype=arch.precision) for key in ("W", "b")}
                  for i in range(int(meta["layers"]))]
        base = meta.get("base")
        if base is not None:
            base = (int(base["k"]), arrays["base_basis"], arrays["base_H"])
    except (KeyError, ValueError, TypeError, OSError, json.JSONDecodeError) as exc:
        raise InvalidInputError(argument, f"cannot read {str(f)!r} as a saved network: {exc}") from exc
    if base is not None:
        from metricflow.cy.algebraic import checked_metric

        if arch.kind != "phi":
            raise InvalidInputError(argument, f"{str(f)!r}: a base metric under a {arch.kind!r} network")
        base = checked_metric(X, base[0], base[1], base[2], f, argument)
    check_inputs(arch, X, argument)
    sizes = [arch.n_in, *arch.hidden, arch.n_out]
    shapes = [(layer["W"].shape, layer["b"].shape) for layer in params]
    if arch.n_ambient != X.n_ambient or shapes != [((a, b), (b,)) for a, b in zip(sizes[:-1], sizes[1:], strict=True)]:
        raise InvalidInputError(argument, f"{str(f)!r}: the parameters do not match the stored architecture")
    if not all(np.all(np.isfinite(v)) for layer in params for v in layer.values()):
        raise InvalidInputError(argument, f"{str(f)!r}: the parameters hold NaN or inf")
    return NetworkMetric(X, arch, params, base)


__all__ = ["ACTIVATIONS", "Architecture", "KINDS", "NetworkMetric", "PARAMETERIZATIONS", "ambient_metric",
           "batch_metric", "check_inputs", "ddbar_pulled", "fs_ambient", "init_params", "invariant_features",
           "linearised", "load_network", "mlp", "network", "packed_metric", "packed_point", "point_metric", "potential",
           "potential_ddbar", "save_network"]
