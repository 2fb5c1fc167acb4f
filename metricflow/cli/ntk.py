"""``metricflow ntk``: neural tangent kernels, analytic and empirical (issue 5).

A thin shell: each command parses its options, calls :mod:`metricflow.symbolic.ntk` or
:mod:`metricflow.kernels`, and prints JSON (``--json``) or a short summary.  JAX and
sympy are imported inside the commands so that ``--help`` stays fast.
"""

from __future__ import annotations

import json

import click

from metricflow.cli._main import library_errors
from metricflow.errors import InvalidInputError


def _echo(doc: dict, as_json: bool, summary: list[str]) -> None:
    from metricflow.io import to_jsonable

    if as_json:
        click.echo(json.dumps(to_jsonable(doc), indent=2))
    else:
        for line in summary:
            click.echo(line)


def _sympy_number(value: str, name: str):
    """A finite positive real number, read by the expression grammar (``3/2``, ``sqrt(2)``;
    decimals become exact rationals)."""
    import sympy as sp

    from metricflow.symbolic.parsing import parse_scalar

    expr = parse_scalar(value, (), name)
    if expr.free_symbols or not expr.is_number:
        raise InvalidInputError(name, f"must be a number such as 3/2 or sqrt(2), got {value!r}")
    expr = sp.nsimplify(expr, rational=True) if expr.has(sp.Float) else expr
    if not (expr.is_extended_real and expr.is_finite and expr.is_positive):
        raise InvalidInputError(name, f"must be a finite positive real number, got {value!r}")
    return expr


#: cos-/Gauss-net --dim: the exact constants have about (d/2) log10(2 d / sigma_w^2) digits
#: (1,650 at d = 1000); Python refuses to print integers of more than 4,300 digits.
DIM_MAX = 1000
#: mlp --depth: each hidden layer is one step of the kernel recursion (~1 ms per layer
#: here); 100,000 layers took 75 s.  Deeper kernels have long reached their fixed point.
DEPTH_MAX = 1000
#: convergence --seeds: draws per width (the error of the mean shrinks as 1/sqrt(seeds)).
SEEDS_MAX = 1000
#: The analytic kernels multiply inputs (x . x'); beyond ~1e150 the products overflow float64.
POINT_MAX = 1e150


def _scale_option(text: str, name: str):
    """A positive finite scale (``--sigma-w``/``--sigma-b``) as an exact sympy number.

    A plain decimal is checked first (``float`` parses text, it evaluates nothing): nan,
    inf and numbers <= 0 are refused before the expression parser sees them; the parsed
    value is then checked again (an expression may still denote 0, a negative number or
    an infinite one).
    """
    import math

    try:
        value = float(text)
    except ValueError:
        value = None
    if value is not None and not (math.isfinite(value) and value > 0):
        raise InvalidInputError(name, f"must be a positive finite number, got {text!r}")
    expr = _sympy_number(text, name)
    try:
        value = float(expr)
    except (TypeError, ValueError, OverflowError) as exc:
        raise InvalidInputError(name, f"must be a positive finite number, got {text!r}") from exc
    if not (math.isfinite(value) and value > 0):
        raise InvalidInputError(name, f"must be a positive finite number, got {text!r}")
    return expr


def _load_points(path: str):
    """The ``--points`` file of ``ntk mlp``: one real (n, d) array saved by ``numpy.save``."""
    import numpy as np

    from metricflow.cli import _checks

    try:
        x = np.load(path, allow_pickle=False)
    except Exception as exc:  # noqa: BLE001 - any unreadable file is bad input
        raise InvalidInputError("points", f"cannot read {path!r} as a .npy array: {exc}") from exc
    if not isinstance(x, np.ndarray):
        x.close()
        raise InvalidInputError("points", f"{path!r} is an .npz archive; give one (n, d) array "
                                "saved with numpy.save (.npy)")
    if x.dtype.kind == "c":
        raise InvalidInputError("points", f"{path!r} holds complex values; the kernels take real "
                                "inputs (put real and imaginary parts in separate columns)")
    if x.dtype.kind not in "iuf":
        raise InvalidInputError("points", f"{path!r} must hold real numbers, got dtype {x.dtype}")
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise InvalidInputError("points", f"{path!r} must hold an (n, d) array with n, d >= 1, "
                                f"got shape {x.shape}")
    x = x.astype(np.float64)
    if not np.all(np.isfinite(x)):
        raise InvalidInputError("points", f"{path!r} holds NaN or infinite values")
    if np.max(np.abs(x)) > POINT_MAX:
        raise InvalidInputError("points", f"{path!r} holds values beyond {POINT_MAX:g} in magnitude "
                                "(the kernels' products x . x' would overflow)")
    # NNGP and NTK matrices and the per-layer intermediates: about 6 n x n float64
    _checks.fits_in_memory("points", 48.0 * x.shape[0] ** 2, f"the kernels of {x.shape[0]:,} points")
    return x


@click.group()
def ntk():
    """Metric neural tangent kernels: cos-net/Gauss-net derivations (eqs. 2.32-2.37),
    infinite-width MLP kernels, finite-width convergence."""


def _gaussian_cmd(arch: str, dim: int, sigma_w: str, sigma_b: str | None, as_json: bool):

    from metricflow.cli import _checks
    from metricflow.symbolic import ntk as sym

    _checks.integer(dim, "dim", 1, DIM_MAX, "the exact constants grow by ~log10(2d)/2 digits per dimension")
    sw = _scale_option(sigma_w, "sigma_w")
    if arch == "cosnet":
        res = sym.cosnet(dim, sw)
    else:
        res = sym.gaussnet(dim, sw, _scale_option(sigma_b, "sigma_b"))
    try:
        _gaussian_doc(arch, dim, sw, res, as_json)
    except ValueError as exc:  # str() of an integer of more than 4,300 digits
        raise InvalidInputError("sigma_w", f"the exact constants for --dim {dim} and this value have "
                                "too many digits to print; use a smaller --dim or a simpler value") from exc


def _gaussian_doc(arch, dim, sw, res, as_json):
    import sympy as sp

    doc = {
        "arch": arch, "dim": dim, "sigma_w": str(sw),
        "A": float(res.A), "A_exact": str(res.A),
        "sigma": float(res.sigma), "sigma_exact": str(res.sigma),
        "kernel": str(res.kernel), "kernel_unnormalised": str(res.kernel_A),
        "variable": "r = |x - x'|",
    }
    if res.printed_A is not None:
        doc["A_printed_eq_2_36"] = float(res.printed_A)
        doc["A_printed_exact"] = str(sp.nsimplify(res.printed_A))
    _echo(doc, as_json, [f"A     = {doc['A_exact']}  (= {doc['A']:.12g})",
                         f"sigma = {doc['sigma_exact']}  (= {doc['sigma']:.12g})",
                         f"Theta(r) = {doc['kernel']}"])


@ntk.command()
@click.option("--dim", type=int, default=1, show_default=True, help="Input dimension d.")
@click.option("--sigma-w", default="1", show_default=True,
              help="Weight scale sigma_w (w ~ N(0, sigma_w^2/d)); 3/2 stays exact.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def cosnet(dim, sigma_w, as_json):
    """Cos-net frozen NTK (eqs. 2.32-2.37, corrected): normalisation A, width sigma and the
    normalised Gaussian kernel in r = |x - x'|, derived symbolically."""
    _gaussian_cmd("cosnet", dim, sigma_w, None, as_json)


@ntk.command()
@click.option("--dim", type=int, default=1, show_default=True, help="Input dimension d.")
@click.option("--sigma-w", default="1", show_default=True, help="Weight scale sigma_w.")
@click.option("--sigma-b", default="1", show_default=True, help="Bias scale sigma_b.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def gaussnet(dim, sigma_w, sigma_b, as_json):
    """Gauss-net (arXiv 2008.08601) in NTK parameterisation: A, sigma and kernel."""
    _gaussian_cmd("gaussnet", dim, sigma_w, sigma_b, as_json)


@ntk.command()
@click.option("--activation", type=click.Choice(["relu", "erf", "gelu"]), default="relu",
              show_default=True, help="Activation (gelu is the exact erf-based one).")
@click.option("--depth", type=int, default=1, show_default=True, help="Number of hidden layers L.")
@click.option("--w-std", type=float, default=1.0, show_default=True, help="W_std (NTK param.).")
@click.option("--b-std", type=float, default=0.0, show_default=True, help="b_std (NTK param.).")
@click.option("--points", type=click.Path(exists=True, dir_okay=False), default=None,
              help="(n, d) .npy array of inputs [default: 4 points of a fixed 2-d example].")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def mlp(activation, depth, w_std, b_std, points, as_json):
    """Infinite-width NNGP and NTK (float64) of a fully connected network with L hidden
    layers and one output, neural-tangents' NTK parameterisation."""
    import numpy as np

    from metricflow.cli import _checks
    from metricflow.kernels.mlp import mlp_kernels

    _checks.integer(depth, "depth", 0, DEPTH_MAX, "one kernel-recursion step per layer")
    _checks.real(w_std, "w_std")
    _checks.real(b_std, "b_std", strict=False)
    if points is None:
        x = np.array([[0.0, 1.0], [1.0, 0.0], [0.6, 0.8], [-1.0, 0.5]])
    else:
        x = _load_points(points)
    res = mlp_kernels(x, activation=activation, depth=depth, w_std=w_std, b_std=b_std)
    doc = {"activation": activation, "depth": depth, "w_std": w_std, "b_std": b_std,
           "n": int(res["ntk"].shape[0]), "nngp": res["nngp"], "ntk": res["ntk"]}
    with np.printoptions(precision=6, suppress=True):
        _echo(doc, as_json, [f"NNGP:\n{res['nngp']}", f"NTK:\n{res['ntk']}"])


@ntk.command()
@click.option("--arch", type=click.Choice(["cosnet", "gaussnet", "mlp"]), default="cosnet",
              show_default=True, help="Network family.")
@click.option("--dim", type=int, default=2, show_default=True, help="Input dimension.")
@click.option("--widths", default="100,1000,10000", show_default=True,
              help="Comma-separated widths N.")
@click.option("--seeds", type=int, default=5, show_default=True, help="Draws per width.")
@click.option("--points", "n_points", type=int, default=12, show_default=True,
              help="Number of random input points.")
@click.option("--sigma-w", type=float, default=1.0, show_default=True,
              help="cos-/Gauss-net sigma_w.")
@click.option("--activation", type=click.Choice(["relu", "erf", "gelu"]), default="relu",
              show_default=True, help="For --arch mlp.")
@click.option("--depth", type=int, default=1, show_default=True, help="For --arch mlp.")
@click.option("--seed", type=int, default=0, show_default=True, help="Base random seed.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def convergence(arch, dim, widths, seeds, n_points, sigma_w, activation, depth, seed, as_json):
    """Finite-width empirical NTK -> analytic NTK: relative error per width and the
    log-log slope (expected -1/2)."""
    from metricflow.cli import _checks
    from metricflow.kernels.convergence import convergence as run

    try:
        ws = [int(w) for w in widths.split(",") if w.strip()]
    except ValueError as exc:
        raise InvalidInputError("widths",
                                f"must be comma-separated integers, got {widths!r}") from exc
    if len(ws) < 2:
        raise InvalidInputError("widths", f"need at least two widths for the slope, got {widths!r}")
    for w in ws:  # the key of width N folds in 1 + N, a 32-bit integer
        _checks.integer(w, "widths", 1, 2**32 - 2, "JAX folds 1 + width into a 32-bit key")
    _checks.integer(seeds, "seeds", 1, SEEDS_MAX, "draws per width")
    _checks.integer(n_points, "n_points", 1)
    _checks.integer(dim, "dim", 1)
    _checks.integer(depth, "depth", 1, DEPTH_MAX, "one kernel-recursion step per layer")
    _checks.real(sigma_w, "sigma_w")
    _checks.seed(seed)
    w = max(ws)  # parameters of the widest network; its Jacobian is n_points x parameters
    params = (dim + 1) * w + (depth - 1) * (w * w + w) + w + 1 if arch == "mlp" else (dim + 2) * w
    _checks.fits_in_memory("widths", 24.0 * n_points * params,
                           f"the empirical NTK of width {w:,} on {n_points:,} points")
    doc = run(arch, dim=dim, widths=ws, seeds=seeds, n_points=n_points, sigma_w=sigma_w,
              activation=activation, depth=depth, seed=seed)
    lines = [f"{r['width']:>8d}  rel_error {r['rel_error']:.4g} (+- {r['rel_error_std']:.2g})"
             for r in doc["rows"]]
    _echo(doc, as_json, lines + [f"slope {doc['slope']:.3f} (expected -0.5)"])


@ntk.command()
@click.option("--dim", type=int, default=3, show_default=True,
              help="Metric dimension (3: 9 components).")
@click.option("--kind", type=click.Choice(["hermitian", "symmetric"]), default="hermitian",
              show_default=True, help="Real symmetric or complex hermitian metric.")
@click.option("--ansatz", type=click.Choice(["multiplicative", "additive", "componentwise"]),
              default="multiplicative", show_default=True, help="Metric ansatz.")
@click.option("--width", type=int, default=64, show_default=True, help="Hidden width.")
@click.option("--depth", type=int, default=3, show_default=True, help="Hidden layers.")
@click.option("--points", "n_points", type=int, default=10, show_default=True, help="Points.")
@click.option("--method", type=click.Choice(["jacobian", "ntvp"]), default="jacobian",
              show_default=True, help="Jacobian contraction or NTK-vector products.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@library_errors
def metric(dim, kind, ansatz, width, depth, n_points, method, seed, as_json):
    """Empirical metric-NTK Theta_IJ(x, x') of a gelu MLP metric ansatz on random points
    (the journal version's I, J x n x n layout) and its block spectra."""
    from metricflow.cli import _checks
    from metricflow.experiments.ntk import metric_example
    from metricflow.kernels import metric as mk

    _checks.integer(dim, "dim", 1)
    _checks.integer(width, "width", 1)
    _checks.integer(depth, "depth", 0, DEPTH_MAX, "layers of the network")
    _checks.integer(n_points, "n_points", 1)
    _checks.seed(seed)
    nc, d_in = mk.n_components(dim, kind), 2 * dim if kind == "hermitian" else dim
    params = (d_in + 1) * width + max(depth - 1, 0) * (width * width + width) + (width + 1) * nc
    if ansatz == "componentwise":
        params *= nc
    # Jacobians of the nc components at 2 n points, for the metric and for phi: 2 x 8 bytes each
    _checks.fits_in_memory("width", 16.0 * nc * 2 * n_points * params,
                           f"the metric-NTK Jacobians ({params:,} parameters, {2 * n_points:,} points)")
    doc = metric_example(dim=dim, kind=kind, ansatz=ansatz, width=width, depth=depth,
                         n_points=n_points, method=method, seed=seed)
    _echo(doc, as_json, [f"theta shape {doc['shape']}",
                         f"diagonal-block eigenvalues (real parts; train x test blocks): "
                         f"min {doc['eig_min']:.4g}, "
                         f"max {doc['eig_max']:.4g}",
                         f"off-diagonal block max |theta| {doc['offdiag_max']:.4g}"])
