"""The ``ntk`` showcase of ``metricflow demo`` and the example behind ``metricflow ntk metric``.

- cos-net: analytic normalised Gaussian NTK (eqs. 2.35-2.37, corrected) against the
  empirical last-layer NTK at three widths, and the N^(-1/2) convergence slope;
- a Calabi-Yau-style multiplicative metric ansatz ``g = g_FS * (1 + H(phi))`` with a gelu MLP,
  its empirical 9 x 9 x n x n metric-NTK (journal version) and block spectra.
"""

from __future__ import annotations

import functools
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from metricflow._x64 import x64
from metricflow.errors import InvalidInputError
from metricflow.io import save_figure_atomic
from metricflow.kernels import metric as mk
from metricflow.models.mlp import forward, init_params


def fs_metric(x, dim: int):
    """Fubini-Study metric of CP^dim in the affine chart, at real points x = (Re z, Im z)
    of shape (2 dim,): ``g_ij = (delta_ij (1+|z|^2) - conj(z_i) z_j) / (1+|z|^2)^2``
    (hermitian, positive definite) -- the reference metric of the multiplicative ansatz."""
    z = x[:dim] + 1j * x[dim:]
    n = 1 + jnp.sum(jnp.abs(z) ** 2)
    return (jnp.eye(dim) * n - jnp.conj(z)[:, None] * z[None, :]) / n**2


def sym_ref_metric(x, dim: int):
    """A real symmetric positive-definite reference metric ``1 + x x^T`` at x (dim,)."""
    return jnp.eye(dim) + jnp.outer(x, x)


def _ref(kind, dim):
    return (functools.partial(fs_metric, dim=dim) if kind == "hermitian"
            else functools.partial(sym_ref_metric, dim=dim))


def _ansatz_metric(params, x, *, dim, kind, ansatz, act="gelu"):
    """g(x) of the chosen ansatz with phi a gelu MLP (NTK parameterisation)."""
    g_ref = _ref(kind, dim)(x)
    if ansatz == "componentwise":
        comps = jax.vmap(lambda p: forward(p, x, activation=act)[0])(params)
    else:
        comps = forward(params, x, activation=act)
    H = mk.from_components(comps, dim, kind)
    if ansatz == "multiplicative":
        return g_ref * (1 + H)
    return g_ref + H


def _phi_single(p, x):
    return forward(p, x, activation="gelu")


def _phi_stacked(p, x):
    return jax.vmap(lambda q: forward(q, x, activation="gelu")[0])(p)


@functools.lru_cache(maxsize=16)
def _model_fns(dim, kind, ansatz):
    """(components model, phi model), cached so that repeated calls reuse compilations."""
    g_fn = functools.partial(_ansatz_metric, dim=dim, kind=kind, ansatz=ansatz)
    phi = _phi_stacked if ansatz == "componentwise" else _phi_single
    return mk.metric_model(g_fn, kind), phi


def metric_example(*, dim: int = 3, kind: str = "hermitian", ansatz: str = "multiplicative",
                   width: int = 64, depth: int = 3, n_points: int = 10, method: str = "jacobian",
                   seed: int = 0) -> dict:
    """Empirical metric-NTK of a gelu-MLP metric ansatz between ``n_points`` "train" and
    ``n_points`` "test" points (journal version: 3 x 128 gelu, 9 x 9 x 10 x 10), with
    block spectra; for the linear ansaetze also the deviation from
    ``M(x) Theta_phi(x, x') M(x')^T`` (the rescaling identity generalised, exact)."""
    from metricflow.kernels.empirical import empirical_ntk

    if ansatz not in ("multiplicative", "additive", "componentwise"):
        raise InvalidInputError("ansatz", f"unknown ansatz {ansatz!r}")
    if dim < 1 or width < 1 or depth < 0 or n_points < 1:
        raise InvalidInputError("dim", "dim, width, n_points must be >= 1 and depth >= 0")
    nc = mk.n_components(dim, kind)
    d_in = 2 * dim if kind == "hermitian" else dim
    key = jax.random.PRNGKey(seed)
    kx, kp = jax.random.split(key)
    with x64():
        x = 0.5 * np.asarray(jax.random.normal(kx, (2 * n_points, d_in), jnp.float64))
        if ansatz == "componentwise":
            params = jax.vmap(lambda k: init_params(k, d_in, width, depth, 1, jnp.float64))(
                jax.random.split(kp, nc))
        else:
            params = init_params(kp, d_in, width, depth, nc, jnp.float64)
    train, test = x[:n_points], x[n_points:]
    g_fn, phi_fn = _model_fns(dim, kind, ansatz)
    theta = empirical_ntk(g_fn, params, train, test, method=method)
    # phi's own NTK and the linear-map identity
    theta_phi = empirical_ntk(phi_fn, params, train, test, method=method)
    if ansatz == "multiplicative":
        ref = _ref(kind, dim)
        with x64():
            M1 = mk.multiplicative_map(np.asarray(jax.vmap(ref)(jnp.asarray(train))), kind)
            M2 = mk.multiplicative_map(np.asarray(jax.vmap(ref)(jnp.asarray(test))), kind)
    else:
        M1 = np.broadcast_to(np.eye(nc), (n_points, nc, nc))
        M2 = M1
    predicted = mk.linear_ansatz_ntk(M1, theta_phi, M2)
    spectra = mk.block_spectra(theta)
    off = theta.copy()
    off[np.arange(nc), np.arange(nc)] = 0.0
    diag_eigs = np.real(spectra[np.arange(nc), np.arange(nc)])
    return {
        "dim": dim, "kind": kind, "ansatz": ansatz, "width": width, "depth": depth,
        "method": method, "components": mk.component_labels(dim, kind),
        "shape": list(theta.shape),
        "identity_max_abs_error": float(np.max(np.abs(theta - predicted))),
        "theta_max_abs": float(np.max(np.abs(theta))),
        "eig_min": float(diag_eigs.min()), "eig_max": float(diag_eigs.max()),
        "offdiag_max": float(np.max(np.abs(off))),
        "block_spectra_real": np.real(spectra), "block_spectra_imag": np.imag(spectra),
        "block_norms": np.linalg.norm(theta, axis=(2, 3)),
    }


def showcase(outdir: Path) -> dict:
    """``metricflow demo`` section: cos-net kernel vs width, convergence, 9x9 metric-NTK."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from metricflow.kernels import gaussian
    from metricflow.kernels.convergence import convergence
    from metricflow.kernels.empirical import empirical_ntk
    from metricflow.models.cosnet import cosnet
    from metricflow.symbolic import ntk as sym

    outdir = Path(outdir)
    dim, sw = 1, 2.0
    res = sym.cosnet(dim, 2)
    consts = gaussian.constants("cosnet", dim, sw)
    xs = np.linspace(-3, 3, 121)[:, None]
    x0 = np.zeros((1, 1))
    exact = gaussian.gaussian_ntk(x0, xs, sigma_w=sw)[0]
    curves = {}
    model = cosnet(sigma_w=sw)
    for width in (100, 1000, 10000):
        params, frozen = model.init(jax.random.PRNGKey(width), dim, width)
        curves[width] = empirical_ntk(model.apply, params, x0, xs, frozen=frozen)[0, 0, 0]
    conv = convergence("cosnet", dim=2, widths=[100, 1000, 10000], seeds=3)
    ex = metric_example(dim=3, kind="hermitian", ansatz="multiplicative", width=32, depth=3,
                        n_points=10)
    fig, axes = plt.subplots(1, 3, figsize=(14, 4))
    ax = axes[0]
    for width, c in curves.items():
        ax.plot(xs[:, 0], c, lw=1, label=f"empirical N={width}")
    ax.plot(xs[:, 0], exact, "k--", lw=2, label="analytic (2.35-2.37)")
    ax.set_xlabel("x' (x = 0)")
    ax.set_title(f"cos-net NTK, d=1, sigma_w={sw:g}")
    ax.legend(fontsize=7)
    ax = axes[1]
    w = [r["width"] for r in conv["rows"]]
    e = [r["rel_error"] for r in conv["rows"]]
    ax.loglog(w, e, "o-", label=f"slope {conv['slope']:.3f}")
    ax.loglog(w, e[0] * (np.array(w) / w[0]) ** -0.5, "k:", label="N^-1/2")
    ax.set_xlabel("width N")
    ax.set_ylabel("||Theta_N - Theta_bar|| / ||Theta_bar||")
    ax.legend()
    ax.set_title("finite width -> infinite width")
    ax = axes[2]
    norms = np.asarray(ex["block_norms"])
    im = ax.imshow(np.log10(norms + 1e-300), cmap="viridis")
    labels = ex["components"]
    ax.set_xticks(range(len(labels)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=7)
    fig.colorbar(im, ax=ax, label="log10 ||Theta_IJ|| (10x10 block)")
    ax.set_title("metric-NTK blocks, multiplicative CY ansatz")
    fig.tight_layout()
    png = "ntk.png"
    save_figure_atomic(fig, outdir / png, dpi=90)
    summary = [
        f"cos-net d=1 sigma_w=2: A = {res.A} = {consts['A']:.6g} "
        f"(printed eq. 2.36 gives {float(res.printed_A):.6g}), sigma = {consts['sigma']:.6g}",
        f"empirical -> analytic: slope {conv['slope']:.3f} (expected -0.5) over N=100..10000",
        f"multiplicative CY ansatz, 3x32 gelu MLP: metric-NTK {ex['shape']}, "
        f"|Theta - M Theta_phi M^T| = {ex['identity_max_abs_error']:.2e}",
    ]
    md = (
        "Cos-net frozen NTK with the corrected network and normalisation (docs/ntk.md): the "
        "empirical last-layer NTK approaches the normalised Gaussian as the width grows, with "
        f"relative error falling like N^{conv['slope']:.2f}. Right: norms of the 81 10x10 "
        "blocks of the empirical metric-NTK Theta_IJ(x, x') of a multiplicative "
        "Calabi-Yau-style ansatz g = g_FS * (1 + H(phi)) (journal version's 9 x 9 x n x n "
        "layout): a shared network mixes components.\n\n"
        + "\n".join(f"- {s}" for s in summary)
    )
    return {"title": "Metric neural tangent kernels", "markdown": md, "plots": [png],
            "data": {"summary_lines": summary, "A": consts["A"], "sigma": consts["sigma"],
                     "slope": conv["slope"],
                     "rows": [{k: r[k] for k in ("width", "rel_error")} for r in conv["rows"]],
                     "metric_ntk_shape": ex["shape"],
                     "identity_max_abs_error": ex["identity_max_abs_error"]}}


__all__ = ["fs_metric", "metric_example", "showcase"]
