"""``metricflow derive``: symbolic derivations from the command line (imports sympy only)."""

from __future__ import annotations

import json

import click

from metricflow.cli._main import library_errors
from metricflow.symbolic import registry

COORDS_HELP = 'Coordinate names separated by spaces or commas, e.g. "theta phi".'
METRIC_HELP = ('Metric components as a list of rows, e.g. "[[1,0],[0,sin(theta)**2]]". '
               "Undefined functions of the coordinates (u(x,y)) and parameters are allowed; the text is "
               "read by the expression grammar, never evaluated (docs/reliability.md).")


def _fmt(expr, latex: bool) -> str:
    import sympy as sp

    return sp.latex(expr) if latex else str(expr)


def _matrix(m, latex: bool):
    import sympy as sp

    if latex:
        return sp.latex(sp.Matrix(m))
    return [[str(m[i, j]) for j in range(m.cols)] for i in range(m.rows)]


def _emit(doc: dict, as_json: bool, latex: bool, order: list[str]) -> None:
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    for key in order:
        value = doc[key]
        if isinstance(value, list):
            click.echo(f"{key}:")
            for row in value:
                click.echo("  [" + ", ".join(row) + "]")
        else:
            click.echo(f"{key}: {value}")


def common_options(func):
    func = click.option("--latex", is_flag=True, help="Print LaTeX instead of sympy syntax.")(func)
    func = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(func)
    func = click.option("--lorentzian", is_flag=True,
                        help="Volume density sqrt(-det g) (for Lorentzian signature).")(func)
    func = click.option("--metric", required=True, help=METRIC_HELP)(func)
    func = click.option("--coords", required=True, help=COORDS_HELP)(func)
    return func


@click.group()
def derive():
    """Derive curvature, flows and variations symbolically (exact rational arithmetic)."""


@derive.command()
@common_options
@library_errors
def ricci(coords, metric, lorentzian, as_json, latex):
    """Ricci tensor R_ij and scalar curvature R (signs: docs/conventions.md).

    JSON keys: coords, metric, ricci (rows of strings), scalar.
    """
    from metricflow.symbolic import Metric

    g = Metric(coords, metric, lorentzian=lorentzian)
    doc = {"coords": [str(c) for c in g.coords], "metric": _matrix(g.matrix, False),
           "ricci": _matrix(g.ricci, latex), "scalar": _fmt(g.scalar, latex)}
    _emit(doc, as_json, latex, ["ricci", "scalar"])


@derive.command()
@common_options
@library_errors
def curvature(coords, metric, lorentzian, as_json, latex):
    """Christoffel symbols, Riemann, Ricci, scalar and Einstein tensors.

    JSON keys: christoffel ({"k,i,j": expr} for non-zero Γ^k_ij, i<=j),
    riemann ({"r,s,m,v": expr} for non-zero R^r_smv, m<v), ricci, scalar,
    einstein, volume_density.
    """
    from metricflow.symbolic import Metric

    g = Metric(coords, metric, lorentzian=lorentzian)
    n = g.n
    gam, rie = g.christoffel, g.riemann
    doc = {
        "coords": [str(c) for c in g.coords],
        "christoffel": {f"{k},{i},{j}": _fmt(gam[k, i, j], latex) for k in range(n)
                        for i in range(n) for j in range(i, n) if gam[k, i, j] != 0},
        "riemann": {f"{r},{s},{m},{v}": _fmt(rie[r, s, m, v], latex) for r in range(n)
                    for s in range(n) for m in range(n) for v in range(m + 1, n)
                    if rie[r, s, m, v] != 0},
        "ricci": _matrix(g.ricci, latex),
        "scalar": _fmt(g.scalar, latex),
        "einstein": _matrix(g.einstein, latex),
        "volume_density": _fmt(g.volume_density, latex),
    }
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    for key in ("christoffel", "riemann"):
        click.echo(f"{key} (non-zero components):")
        for k, v in doc[key].items():
            click.echo(f"  [{k}] {v}")
    _emit(doc, False, latex, ["ricci", "scalar", "einstein", "volume_density"])


@derive.command()
@common_options
@click.option("--dilaton", required=True, help='The dilaton f, e.g. "f(x,y)" or "x**2 + y**2".')
@click.option("--from-functional", is_flag=True,
              help="Derive the flow by varying Perelman's F on the generic metric (eq. 2.41) "
                   "and specialising, instead of the closed form -2(R_ij + ∇_i∇_j f); "
                   "slower (seconds in 2D, minutes in 3D).")
@library_errors
def perelman(coords, metric, lorentzian, dilaton, from_functional, as_json, latex):
    """Perelman's flow dg_ij/dt = -2(R_ij + ∇_i∇_j f) (eq. 2.40) and the dilaton's flow.

    JSON keys: flow (rows of strings: dg_ij/dt), dilaton_flow (df/dt = -Δf - R, which
    with `flow` keeps e^{-f} dV fixed pointwise), dilaton_flow_ricci_gauge
    (df/dt = -Δf + |∇f|² - R, the partner of Ricci flow), ricci_flow (-2 R_ij),
    lie_derivative_term (flow - ricci_flow, equal to -L_{∇f} g),
    is_ricci_flow_plus_diffeo (exact check of that equality).
    """
    from metricflow.symbolic import Metric
    from metricflow.symbolic.functionals import dilaton_velocity, gradient_flow, perelman_flow
    from metricflow.symbolic.parsing import parse_scalar

    g0 = Metric(coords, metric, lorentzian=lorentzian)
    f = parse_scalar(dilaton, g0.coords, "dilaton")
    g = Metric(g0.coords, g0.matrix, lorentzian=lorentzian, fields=[f])
    flow = gradient_flow("perelman", g, f) if from_functional else perelman_flow(g, f)
    ricci_flow = -2 * g.ricci
    diff = (flow - ricci_flow).applyfunc(g.normal_form)
    lie = g.lie_derivative(g.gradient_vector(f))
    doc = {
        "coords": [str(c) for c in g.coords],
        "dilaton": str(f),
        "flow": _matrix(flow, latex),
        "dilaton_flow": _fmt(dilaton_velocity(g, f), latex),
        "dilaton_flow_ricci_gauge": _fmt(dilaton_velocity(g, f, gauge="ricci"), latex),
        "ricci_flow": _matrix(ricci_flow, latex),
        "lie_derivative_term": _matrix(diff, latex),
        "is_ricci_flow_plus_diffeo": bool(g.is_zero(diff + lie)),
        "derived_from_functional": bool(from_functional),
    }
    _emit(doc, as_json, latex, ["flow", "dilaton_flow", "is_ricci_flow_plus_diffeo"])


@derive.command()
@click.argument("name", type=click.Choice(registry.names("riemannian")))
@click.option("--dim", type=click.IntRange(1, 3), default=2, show_default=True,
              help="Dimension of the generic metric g_ij(x).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--latex", is_flag=True, help="Print LaTeX instead of sympy syntax.")
@library_errors
def variation(name, dim, as_json, latex):
    """First variation of a functional on the generic metric g_ij = gIJ(x) (Euler operator).

    JSON keys: functional, dim, variation (V_ij, indices lowered, with respect to the
    functional's measure), matches_closed_form (exact check against -(R_ij + ∇_i∇_j f)
    for perelman, -(R_ij - R g_ij / 2) for einstein-hilbert, g_ij/2 for volume).
    """
    from metricflow.symbolic.functionals import closed_form_check, derive_variation

    var = derive_variation(name, dim)
    doc = {"functional": name, "dim": dim,
           "description": var.functional.description,
           "variation": _matrix(var.lowered_matrix(), latex),
           "matches_closed_form": closed_form_check(var)}
    _emit(doc, as_json, latex, ["description", "variation", "matches_closed_form"])


@derive.command()
@common_options
@click.option("--flow", "flow_name", type=click.Choice(["ricci", "perelman"]), default="ricci",
              show_default=True)
@click.option("--dilaton", default=None, help="Dilaton for --flow perelman.")
@click.option("--unknowns", required=True,
              help='The ansatz functions, e.g. "psi(r)" or "a(t) b(t)" (functions of time only '
                   "are constants in space).")
@library_errors
def ansatz(coords, metric, lorentzian, flow_name, dilaton, unknowns, as_json, latex):
    """The PDE/ODE system a flow imposes on the functions of a metric ansatz.

    JSON keys: preserved (bool), equations ({function: its time derivative}),
    obstructions (components the ansatz cannot follow, with the required dg_ij/dt).
    """
    from metricflow.symbolic.ansatz import ansatz_flow

    res = ansatz_flow(coords, metric, unknowns, flow=flow_name, dilaton=dilaton,
                      lorentzian=lorentzian)
    doc = {"preserved": res.preserved,
           "equations": {str(k): _fmt(v, latex) for k, v in res.equations.items()},
           "obstructions": [{"component": list(c), "required": _fmt(e, latex)}
                            for c, e in res.obstructions]}
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(f"ansatz preserved by the {flow_name} flow: {res.preserved}")
    for k, v in doc["equations"].items():
        click.echo(f"  d/dt {k} = {v}")
    for o in doc["obstructions"]:
        click.echo(f"  component {tuple(o['component'])} needs dg/dt = {o['required']}, "
                   "which the ansatz cannot produce")


@derive.command()
@click.option("--coords", required=True, help='Holomorphic coordinate names, e.g. "z1 z2".')
@click.option("--potential", required=True,
              help='Kähler potential K; conjugates as conjugate(z1), e.g. "log(1 + z1*conjugate(z1))".')
@click.option("--omega", default=None,
              help='Holomorphic top form Ω = omega(z) dz^1..dz^n: also print η = det g/(κ|Ω|²) (B.11).')
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--latex", is_flag=True, help="Print LaTeX instead of sympy syntax.")
@library_errors
def kahler(coords, potential, omega, as_json, latex):
    """Kähler metric g_ab̄ = ∂_a∂̄_b K (B.1), Ricci form R_ab̄ = -∂_a∂̄_b log det g (B.3),
    scalar R = g^ab̄ R_ab̄, and the Kähler–Ricci flow (B.4).

    JSON keys: coords, potential, metric and ricci_form (rows a, columns b̄, in coordinate
    order; strings in sympy syntax, conjugates written conjugate(z)), scalar,
    det, kahler_form ((i/2) g_ab̄, B.2), kahler_ricci_flow (dg_ab̄/dt = -R_ab̄),
    positivity (proven | sampled | unchecked), riemannian_scalar (4R) and, with
    --omega, eta (with the constant kappa). Conventions: docs/kahler.md.
    """
    from metricflow.symbolic.kahler import KahlerMetric

    m = KahlerMetric(coords, potential)
    doc = {"coords": [str(z) for z in m.coords], "potential": _fmt(m.cc.to_user(m.potential), latex),
           "metric": _matrix(m.metric, latex), "ricci_form": _matrix(m.ricci_form, latex),
           "scalar": _fmt(m.scalar, latex), "det": _fmt(m.det, latex),
           "kahler_form": _matrix(m.kahler_form, latex),
           "kahler_ricci_flow": _matrix(m.kahler_ricci_flow, latex),
           "positivity": m.positivity, "riemannian_scalar": _fmt(4 * m.scalar, latex)}
    order = ["metric", "ricci_form", "scalar", "positivity"]
    if omega is not None:
        doc["eta"] = _fmt(m.eta(omega), latex)
        order.append("eta")
    _emit(doc, as_json, latex, order)


@derive.command()
@click.argument("name", type=click.Choice(registry.names("kahler")))
@click.option("--dim", type=click.IntRange(1, 2), default=1, show_default=True,
              help="Complex dimension n of the generic potential u(z, zb). n = 2 takes seconds for "
                   "hn-ultralocal/hn-entropy; it did not finish in 4 minutes for hn-two-derivative "
                   "nor in 13 minutes for perelman-eta (measured on 2 shared cores).")
@click.option("--F", "F", default=None,
              help='For hn-ultralocal: your own convex F(eta), e.g. "cosh(eta - 1)" (default (eta-1)**2).')
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--latex", is_flag=True, help="Print LaTeX instead of sympy syntax.")
@library_errors
def functional(name, dim, F, as_json, latex):
    """Variation and flows of a Calabi–Yau functional of Appendix B (B.7-B.21), derived.

    The functional E = ∫ L d^{2n}x is varied with the Euler operator on the generic potential
    u(z, zb) = K_0 + φ (g_ab̄ = ∂_a∂̄_b u, so δφ = δu), with Ω = Omega(z) dz^1..dz^n
    holomorphic and η = det g / (kappa Omega(z) Omegab(zb)).  zb stands for conjugate(z).

    JSON keys: functional, equation, description, dim, lagrangian, variation (E_φ with
    δE = ∫ E_φ δφ d^{2n}x), flow_measure, l2_flow (dφ/dt = -E_φ/ρ), paper_flow and
    paper_flow_equation / paper_flow_note (the paper's flow, corrected: docs/kahler.md),
    checks (exact closed-form checks, each true/false).
    """
    from metricflow.errors import InvalidInputError
    from metricflow.symbolic.kahler_functionals import closed_form_checks, derive_potential_variation, ultralocal

    if F is not None:
        if name != "hn-ultralocal":
            raise InvalidInputError("F", f"--F applies to hn-ultralocal only, not {name}")
        name = ultralocal(F)
    v = derive_potential_variation(name, dim)
    name = v.functional.name
    fn = v.functional
    doc = {"functional": name, "equation": fn.equation, "description": fn.description, "dim": dim,
           "lagrangian": _fmt(v.expr(v.density), latex), "variation": _fmt(v.expr(v.euler), latex),
           "flow_measure": "det g (mu_J)" if fn.measure == "mu_J" else "det g / kappa (eta mu_CY)",
           "l2_flow": _fmt(v.expr(v.l2_velocity), latex),
           "paper_flow": _fmt(v.expr(v.paper_velocity), latex) if v.paper_velocity is not None else None,
           "paper_flow_equation": fn.paper_flow_equation, "paper_flow_note": fn.paper_flow_description,
           "checks": closed_form_checks(v.functional, dim)}
    _emit(doc, as_json, latex, ["description", "lagrangian", "variation", "l2_flow", "paper_flow",
                                "paper_flow_note", "checks"])
