"""Symbolic derivations for the metric neural tangent kernel (paper section 2.1-2.3.2).

Plain sympy, no numerics.  Each function *derives* its result (expectations are
integrated, limits expanded), so that the numeric kernels in
:mod:`metricflow.kernels` lambdify formulas instead of re-typing them.

Contents
--------
- :func:`cosnet` -- frozen (last-layer) NTK of the cos-net, eqs. (2.32)-(2.37), with the
  *corrected* network ``phi(x) = A/sqrt(N) sum_i a_i cos(sum_j w_ij x_j + b_i)`` and the
  corrected normalisation ``A = sqrt(2) (sigma_w / sqrt(2 pi d))^(d/2)``.
- :func:`cosnet_printed` -- the kernel of the network exactly as printed in (2.32), with the
  sum over input dimensions outside the cosine, for small explicit ``d``: it is not a
  function of ``|x - x'|`` (the slip recorded in docs/ntk.md).
- :func:`gaussnet` -- the Gauss-net of Halverson-Maiti-Stoner (arXiv 2008.08601) in NTK
  parameterisation, same treatment.
- :func:`rescaling_identity` -- eqs. (2.15)-(2.18).
- :func:`manifold_delta` -- eqs. (2.25)-(2.29): delta on R^d versus on (X, g~), and the
  small-sigma expansion of ``int Theta_sigma f dV`` with its O(sigma^2) coefficient.
- :func:`kronecker_structure` -- eqs. (2.19)-(2.23) for component-wise independent networks.

Conventions: ``r = |x - x'|``; the volume density is ``sqrt(det g~)`` (docs/conventions.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import sympy as sp

from metricflow.errors import InvalidInputError

# Symbols shared by the derivations (all real; widths positive).
r = sp.Symbol("r", nonnegative=True)          #: distance |x - x'|
d_sym = sp.Symbol("d", positive=True, integer=True)
sigma_w = sp.Symbol("sigma_w", positive=True)
sigma_b = sp.Symbol("sigma_b", positive=True)
A_sym = sp.Symbol("A", positive=True)


def _check_dim(dim) -> None:
    if not isinstance(dim, (int, sp.Integer)) or isinstance(dim, bool) or int(dim) < 1:
        raise InvalidInputError("dim", f"must be a positive integer, got {dim!r}")


def _check_sigma(value, name: str = "sigma_w") -> sp.Expr:
    """A width: a string is read by the expression grammar (never evaluated), numbers and
    sympy objects are taken as they are; a numeric width must be finite and positive."""
    if isinstance(value, str):
        from metricflow.symbolic.parsing import parse_scalar

        expr = parse_scalar(value, (), name)
    else:
        try:
            expr = sp.sympify(value, strict=True)  # numbers and sympy objects only
        except sp.SympifyError:
            raise InvalidInputError(name, f"expected a number or sympy expression, got {value!r}") from None
    if expr.is_number and not (expr.is_extended_real and expr.is_finite and expr.is_positive):
        raise InvalidInputError(name, f"must be positive, got {value!r}")
    return expr


def expect_uniform_phase(expr: sp.Expr, b: sp.Symbol) -> sp.Expr:
    """E over b ~ U(-pi, pi) of ``expr``, by integration: (1/2pi) int_{-pi}^{pi} expr db."""
    return sp.simplify(sp.integrate(sp.expand_trig(expr), (b, -sp.pi, sp.pi)) / (2 * sp.pi))


def expect_gaussian(expr: sp.Expr, w: sp.Symbol, var: sp.Expr) -> sp.Expr:
    """E over w ~ N(0, var) of ``expr``, by integration against the Gaussian density."""
    density = sp.exp(-w**2 / (2 * var)) / sp.sqrt(2 * sp.pi * var)
    return sp.simplify(sp.integrate(expr * density, (w, -sp.oo, sp.oo), conds="none"))


@lru_cache(maxsize=1)
def _gaussian_mgf() -> sp.Lambda:
    """E[exp(k w)] for w ~ N(0, s2), integrated once: exp(s2 k^2 / 2).  Entire in k, so it
    also gives E[exp(i t w)] (the characteristic function) by analytic continuation."""
    w, k = sp.symbols("w k", real=True)
    s2 = sp.Symbol("s2", positive=True)
    return sp.Lambda((k, s2), expect_gaussian(sp.exp(k * w), w, s2))


def expect_gaussian_exp(expr: sp.Expr, w: sp.Symbol, var: sp.Expr) -> sp.Expr:
    """E over w ~ N(0, var) of a sum of terms ``c * exp(k w + rest)`` (cos/sin are first
    rewritten as exponentials), term by term with the derived moment generating function.
    Equivalent to :func:`expect_gaussian` for such integrands, and much faster."""
    mgf = _gaussian_mgf()
    total = sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr.rewrite(sp.exp))):
        term = sp.powsimp(term, combine="exp")
        coeff, exps = sp.Integer(1), sp.Integer(0)
        for factor in sp.Mul.make_args(term):
            if isinstance(factor, sp.exp):
                exps += factor.args[0]
            elif factor.has(w):
                raise InvalidInputError("expr", f"factor {factor} is not exp(linear in {w})")
            else:
                coeff *= factor
        exps = sp.expand(exps)
        k = exps.coeff(w, 1)
        rest = sp.expand(exps - k * w)
        if rest.has(w):
            raise InvalidInputError("expr", f"exponent {exps} is not linear in {w}")
        total += coeff * sp.exp(rest) * mgf(k, var)
    return sp.simplify(total.rewrite(sp.cos))


@lru_cache(maxsize=1)
def _cos_phase_average() -> sp.Expr:
    """E_b[cos(u + b) cos(v + b)] = cos(u - v)/2 for b ~ U(-pi, pi) (derived)."""
    u, v, b = sp.symbols("u v b", real=True)
    res = expect_uniform_phase(sp.cos(u + b) * sp.cos(v + b), b)
    return sp.Lambda((u, v), res)


@lru_cache(maxsize=1)
def _gaussian_char_function() -> sp.Lambda:
    """E_w[cos(w t)] for w ~ N(0, s2): exp(-s2 t^2 / 2) (derived, one coordinate)."""
    w, t = sp.symbols("w t", real=True)
    s2 = sp.Symbol("s2", positive=True)
    res = expect_gaussian(sp.cos(w * t), w, s2)
    return sp.Lambda((t, s2), res)


@dataclass(frozen=True)
class GaussianNTK:
    """Result of a Gaussian-kernel network derivation.

    Attributes
    ----------
    A:
        Normalisation constant of the network that makes the kernel a normalised Gaussian.
    sigma:
        Width of that Gaussian (its standard deviation per coordinate).
    kernel:
        The normalised kernel as an expression in ``r`` (integrates to 1 over R^d).
    kernel_A:
        The kernel for a general normalisation ``A`` (the symbol :data:`A_sym`).
    printed_A:
        The normalisation constant as printed in the paper (None where the paper prints none).
    """

    A: sp.Expr
    sigma: sp.Expr
    kernel: sp.Expr
    kernel_A: sp.Expr
    printed_A: sp.Expr | None = None


def _normalise(kernel_A: sp.Expr, dim, sw) -> tuple[sp.Expr, sp.Expr, sp.Expr]:
    """Solve for A > 0 so that kernel_A(r=0) equals the peak of a normalised Gaussian
    whose width sigma is read off from the exponent: kernel_A = c A^2 exp(-r^2/(2 sigma^2))."""
    exponent = sp.expand(sp.log(kernel_A.subs(A_sym, 1)).expand(force=True))
    coeff_r2 = sp.simplify(exponent.coeff(r, 2))           # = -1/(2 sigma^2)
    sigma = sp.sqrt(sp.simplify(-1 / (2 * coeff_r2)))
    target = (2 * sp.pi * sigma**2) ** (-sp.Rational(1, 1) * dim / 2)
    sols = [s for s in sp.solve(sp.Eq(kernel_A.subs(r, 0), target), A_sym)
            if s.is_positive is not False]
    if len(sols) != 1:  # pragma: no cover - guarded by the derivations being Gaussians
        raise ArithmeticError(f"normalisation not unique: {sols}")
    A = sp.simplify(sols[0])
    kernel = sp.simplify(kernel_A.subs(A_sym, A))
    return A, sp.simplify(sigma), kernel


def cosnet(dim: int | sp.Symbol = d_sym, sw=sigma_w) -> GaussianNTK:
    """Frozen NTK of the cos-net, eqs. (2.32)-(2.37), derived with the corrected network.

    Network (corrected: the sum over input dimensions sits *inside* the cosine)::

        phi(x) = A/sqrt(N) sum_i a_i cos(w_i . x + b_i),
        a ~ N(0, sigma_a^2),  w_i ~ N(0, sigma_w^2/d I_d),  b ~ U(-pi, pi).

    Only ``a`` is trained, so ``Theta(x, x') = A^2/N sum_k cos(w_k.x + b_k) cos(w_k.x' + b_k)``
    (eq. 2.33) and, by the law of large numbers, ``Theta_bar = A^2 E[...]`` (eq. 2.34).
    The expectation over b is integrated (gives cos(w.(x-x'))/2), the expectation over
    each Gaussian coordinate of w is integrated (the characteristic function), and the
    product over the d coordinates gives ``A^2/2 exp(-sigma_w^2 r^2 / (2 d))`` (eq. 2.35).
    Normalising to ``(2 pi sigma^2)^(-d/2) exp(-r^2/(2 sigma^2))`` gives
    ``sigma = sqrt(d)/sigma_w`` (eq. 2.37) and ``A = sqrt(2) (sigma_w/sqrt(2 pi d))^(d/2)``;
    the printed (2.36), ``2^(1/4) (sigma_w/sqrt(2 pi d))^(d/4)``, is the square root of it.

    ``dim`` may be a positive integer or the symbol ``d``; ``sw`` a positive number or symbol.
    """
    if dim is not d_sym:
        _check_dim(dim)
    sw = _check_sigma(sw)
    u, v = sp.symbols("u v", real=True)
    phase = _cos_phase_average()(u, v)                    # cos(u - v)/2
    # E_w[cos(w.(x-x'))] = prod_j E[cos(w_j t_j)] = prod_j exp(-s2 t_j^2/2) = exp(-s2 r^2/2)
    t = sp.Symbol("t", real=True)
    s2 = sw**2 / dim
    char1 = _gaussian_char_function()(t, s2)
    # one factor per coordinate: exponent is additive in t_j^2, sum_j t_j^2 = r^2
    per_coord_exponent = sp.simplify(sp.log(char1).expand(force=True) / t**2)
    gauss = sp.exp(per_coord_exponent * r**2)
    # phase(u, v) = c cos(u - v) with c derived (= 1/2); the cosine's expectation is `gauss`
    z = sp.Symbol("z", real=True)
    c = sp.simplify(phase.subs({u: z, v: 0}) / sp.cos(z))
    if c.has(z):  # pragma: no cover - the phase average is a multiple of cos(u - v)
        raise ArithmeticError(f"unexpected phase average {phase}")
    kernel_A = sp.simplify(A_sym**2 * c * gauss)
    A, sigma, kernel = _normalise(kernel_A, dim, sw)
    printed = 2 ** sp.Rational(1, 4) * (sw / sp.sqrt(2 * sp.pi * dim)) ** (dim / sp.Integer(4))
    return GaussianNTK(A=A, sigma=sigma, kernel=kernel, kernel_A=kernel_A, printed_A=printed)


def gaussnet(dim: int | sp.Symbol = d_sym, sw=sigma_w, sb=sigma_b) -> GaussianNTK:
    """Frozen NTK of the Gauss-net (Halverson-Maiti-Stoner, arXiv 2008.08601) in NTK
    parameterisation, the exponential analogue of the cos-net mentioned after (2.37).

    Network::

        phi(x) = A/sqrt(N) sum_i a_i exp(w_i.x + b_i) / exp(sigma_b^2 + sigma_w^2 |x|^2 / d),
        a ~ N(0, sigma_a^2),  w_i ~ N(0, sigma_w^2/d I_d),  b ~ N(0, sigma_b^2),

    i.e. the Gauss-net's ``exp(W0 x + b0) / sqrt(exp[2(sigma_b^2 + sigma_W^2 |x|^2/d)])``
    with the last layer scaled by ``A/sqrt(N)``.  Training only ``a``:
    ``Theta_bar = A^2 E[exp(w.(x+x') + 2b)] exp(-2 sigma_b^2 - sigma_w^2(|x|^2+|x'|^2)/d)
    = A^2 exp(-sigma_w^2 r^2/(2 d))``: the same width as the cos-net, and
    ``A = (sigma_w/sqrt(2 pi d))^(d/2)`` (no factor sqrt(2): there is no phase average).
    """
    if dim is not d_sym:
        _check_dim(dim)
    sw = _check_sigma(sw)
    sb = _check_sigma(sb, "sigma_b")
    w, bb = sp.symbols("w b", real=True)
    p, q = sp.symbols("p q", real=True)              # coordinates of x and x' (one axis)
    s2 = sw**2 / dim
    # one coordinate of E_w[exp(w (p + q))], and E_b[exp(2 b)]: both integrated
    e_w = expect_gaussian(sp.exp(w * (p + q)), w, s2)
    e_b = expect_gaussian(sp.exp(2 * bb), bb, sb**2)
    norm_coord = sp.exp(-s2 * (p**2 + q**2))         # per-coordinate part of the normaliser
    per_coord = sp.simplify(sp.powsimp(e_w * norm_coord, combine="exp"))
    # per_coord = exp(-s2 (p - q)^2 / 2): check it is a function of p - q only, read exponent
    exponent = sp.simplify(sp.log(per_coord).expand(force=True))
    coeff = sp.simplify(sp.expand(exponent).coeff(p, 2))
    if sp.simplify(exponent - coeff * (p - q) ** 2) != 0:  # pragma: no cover
        raise ArithmeticError(f"Gauss-net coordinate factor not stationary: {per_coord}")
    bias = sp.simplify(e_b * sp.exp(-2 * sb**2))     # == 1
    kernel_A = sp.simplify(A_sym**2 * bias * sp.exp(coeff * r**2))
    A, sigma, kernel = _normalise(kernel_A, dim, sw)
    return GaussianNTK(A=A, sigma=sigma, kernel=kernel, kernel_A=kernel_A, printed_A=None)


def cosnet_printed(dim: int, sw=sigma_w) -> dict:
    """The kernel of the network *as printed* in eq. (2.32), for an explicit small ``dim``.

    Printed network: ``phi(x) = A/sqrt(N) sum_i sum_j a_i cos(w_ij x_j + b_i)`` (the sum over
    the input dimension j outside the cosine).  Its frozen NTK is
    ``A^2 sum_{j,l} E[cos(w_j x_j + b) cos(w_l x'_l + b)]``, which this derives term by term.
    Returns the kernel in coordinates ``x0.., y0..`` and the diagonal-only sum that the
    printed (2.33) writes; neither is a function of ``|x - x'|`` for ``dim >= 2``.
    """
    _check_dim(dim)
    sw = _check_sigma(sw)
    xs = sp.symbols(f"x0:{dim}", real=True)
    ys = sp.symbols(f"y0:{dim}", real=True)
    same, cross = _printed_terms()
    s2 = sw**2 / dim
    p, q, s2_sym = sp.symbols("p q s2", real=True)
    total = sp.Integer(0)
    diagonal = sp.Integer(0)
    for j in range(dim):
        for l in range(dim):
            term = (same if j == l else cross).subs({p: xs[j], q: ys[l], s2_sym: s2})
            total += term
            if j == l:
                diagonal += term
    return {"kernel_A": sp.simplify(A_sym**2 * total),
            "diagonal_only_A": sp.simplify(A_sym**2 * diagonal),
            "x": xs, "y": ys}


@lru_cache(maxsize=1)
def _printed_terms() -> tuple[sp.Expr, sp.Expr]:
    """E[cos(w p + b) cos(w q + b)] (same weight) and E[cos(w p + b) cos(w2 q + b)]
    (independent weights), for w, w2 ~ N(0, s2), b ~ U(-pi, pi): integrated once."""
    u, v, w, w2 = sp.symbols("u v w w2", real=True)
    p, q = sp.symbols("p q", real=True)
    s2 = sp.Symbol("s2", positive=True)
    phase = _cos_phase_average()(u, v)
    same = expect_gaussian_exp(phase.subs({u: w * p, v: w * q}), w, s2)
    # independent weights: the expanded product is linear in each of cos/sin(w p) and
    # cos/sin(w2 q), so each factor is replaced by its own (integrated) expectation
    cross = sp.expand(sp.expand_trig(phase.subs({u: w * p, v: w2 * q})))
    moments = {}
    for fn in (sp.cos, sp.sin):
        moments[fn(w * p)] = expect_gaussian_exp(fn(w * p), w, s2)
        moments[fn(w2 * q)] = expect_gaussian_exp(fn(w2 * q), w2, s2)
    cross = sp.simplify(cross.subs(moments))
    s2r = sp.Symbol("s2", real=True)
    return same.subs(s2, s2r), cross.subs(s2, s2r)


def rescaling_identity() -> dict:
    """Eqs. (2.15)-(2.18): ``Theta_{h phi}(x, x') = h(x) h(x') Theta_phi(x, x')``.

    Derived for a generic network ``phi(x; t1, t2, t3)`` (an undefined sympy function of
    the input and three parameters) and a deterministic ``h``; the NTK is the sum over
    parameters of ``d phi(x)/dt d phi(x')/dt`` (eq. 2.7 for a scalar).  Also derives the
    local version (2.18): with ``Theta_phi = delta(x - x') Omega(x)``, integrating against
    a test function ``f`` gives ``h(x)^2 Omega(x) f(x)``.

    Returns a dict of expressions whose ``*_difference`` entries simplify to 0.
    """
    x, y = sp.symbols("x y", real=True)
    ts = sp.symbols("t1:4", real=True)
    F = sp.Function("phi")
    h = sp.Function("h")

    def ntk(net):
        return sum(sp.diff(net(x), t) * sp.diff(net(y), t) for t in ts)

    phi = lambda z: F(z, *ts)
    phi_t = lambda z: h(z) * F(z, *ts)
    theta, theta_t = ntk(phi), ntk(phi_t)
    difference = sp.simplify(theta_t - h(x) * h(y) * theta)
    Omega, f = sp.Function("Omega"), sp.Function("f")
    local = sp.integrate(h(x) * h(y) * sp.DiracDelta(x - y) * Omega(y) * f(y), (y, -sp.oo, sp.oo))
    local_difference = sp.simplify(local - h(x) ** 2 * Omega(x) * f(x))
    return {"theta": theta, "theta_rescaled": theta_t, "difference": difference,
            "local": local, "local_difference": local_difference}


def manifold_delta(order: int = 2) -> dict:
    """Eqs. (2.25)-(2.29), in one coordinate, and the small-sigma rate.

    - (2.25)/(2.26): with ``delta_R(x - x') = sqrt(g~(x')) delta(x - x')``,
      ``int dx' sqrt(g~(x')) delta(x - x') f(x') = f(x)``.
    - (2.28)/(2.29): the rescaled kernel
      ``Theta_sigma = N_sigma(x - x') (g~(x) g~(x'))^(-1/4) alpha(x, x')`` integrated against
      ``f`` with ``dV = sqrt(g~) dx'`` is, expanding ``x' = x + sigma t`` and integrating the
      Gaussian moments, ``alpha(x,x) f(x) + sigma^2 c_2(x) + O(sigma^4)``: it tends to
      ``Omega(x) f(x)`` with ``Omega = alpha(x, x)`` at rate sigma^2.  In d dimensions the
      coefficient is ``c_2 = g~(x)^(-1/4) Lap_{x'} G / 2`` with
      ``G(x') = g~(x')^(1/4) alpha(x, x') f(x')`` (the Laplacian is the flat one, a sum of
      one-coordinate terms like the one derived here).

    Returns the expressions; ``*_difference`` entries simplify to 0.
    """
    x, xp, t = sp.symbols("x xp t", real=True)
    sigma = sp.Symbol("sigma", positive=True)
    g, f, alpha = sp.Function("g"), sp.Function("f"), sp.Function("alpha")
    # (2.25)/(2.26)
    delta_manifold = sp.DiracDelta(x - xp) / sp.sqrt(g(xp))       # delta = delta_R / sqrt(g~)
    lhs = sp.integrate(sp.sqrt(g(xp)) * delta_manifold * f(xp), (xp, -sp.oo, sp.oo))
    # (2.28)/(2.29): G(x') = g~(x')^(1/4) alpha(x, x') f(x'); smear with N_sigma
    G = lambda z: g(z) ** sp.Rational(1, 4) * alpha(x, z) * f(z)
    # Taylor expansion of G(x + sigma t) in sigma up to `order`, then Gaussian moments of t
    series = sp.Integer(0)
    for k in range(order + 1):
        deriv = sp.diff(G(xp), xp, k).subs(xp, x)
        series += deriv * (sigma * t) ** k / sp.factorial(k)
    gauss_t = sp.exp(-t**2 / 2) / sp.sqrt(2 * sp.pi)
    # Gaussian moments E[t^k], integrated once each; the series is a polynomial in t
    poly = sp.Poly(sp.expand(series), t)
    smeared = sp.Integer(0)
    for (k,), coeff in poly.terms():
        smeared += coeff * sp.integrate(t**k * gauss_t, (t, -sp.oo, sp.oo))
    smeared = sp.expand(smeared)
    integral = sp.expand(g(x) ** sp.Rational(-1, 4) * smeared)
    leading = integral.coeff(sigma, 0)
    c2 = sp.simplify(integral.coeff(sigma, 2))
    c2_expected = sp.simplify(g(x) ** sp.Rational(-1, 4) * sp.diff(G(xp), xp, 2).subs(xp, x) / 2)
    return {
        "delta_identity": lhs,
        "delta_difference": sp.simplify(lhs - f(x)),
        "leading": sp.simplify(leading),
        "leading_difference": sp.simplify(leading - alpha(x, x) * f(x)),
        "odd_terms": sp.simplify(integral.coeff(sigma, 1)),
        "c2": c2,
        "c2_difference": sp.simplify(c2 - c2_expected),
        "symbols": {"x": x, "xp": xp, "sigma": sigma, "g": g, "f": f, "alpha": alpha},
    }


def kronecker_structure(dim: int = 2) -> dict:
    """Eqs. (2.19)-(2.23): component-wise independent networks give
    ``Theta_IJ(x, x') = delta_IJ Theta^I(x, x')`` over the independent components I, J.

    Each independent component ``I = (i <= j)`` of a symmetric ``dim x dim`` metric is a
    network ``phi_I(x; t_I1, t_I2)`` with its own parameters (2.19); the metric-NTK over
    ordered index pairs follows from (2.7) by differentiation.  Returns the metric-NTK
    over independent components (a matrix, off-diagonal entries 0) and the one over
    ordered pairs (ij), (kl), where the symmetric identification ``g_ji = g_ij`` turns the
    paper's ``delta_ik delta_jl`` (2.23) into ``delta_ik delta_jl + delta_il delta_jk`` off the
    diagonal (``delta_ik delta_jl`` alone holds for the ordered pairs with i <= j, k <= l).
    """
    _check_dim(dim)
    x, y = sp.symbols("x y", real=True)
    comps = [(i, j) for i in range(dim) for j in range(i, dim)]
    params = {c: sp.symbols(f"t_{c[0]}{c[1]}_1:3", real=True) for c in comps}
    nets = {c: sp.Function(f"phi_{c[0]}{c[1]}") for c in comps}
    allp = [t for c in comps for t in params[c]]

    def g(i, j, z):
        c = (min(i, j), max(i, j))
        return nets[c](z, *params[c])

    def theta(i, j, k, l):
        return sum(sp.diff(g(i, j, x), t) * sp.diff(g(k, l, y), t) for t in allp)

    comp_matrix = sp.Matrix(len(comps), len(comps),
                            lambda a, b: theta(*comps[a], *comps[b]))
    ordered = {(i, j, k, l): theta(i, j, k, l)
               for i in range(dim) for j in range(dim) for k in range(dim) for l in range(dim)}
    return {"components": comps, "theta_components": comp_matrix, "theta_ordered": ordered,
            "component_ntk": {c: theta(*c, *c) for c in comps}}


def cosnet_full_ntk(dim: int | sp.Symbol = d_sym, sw=sigma_w) -> sp.Expr:
    """Frozen NTK of the corrected cos-net when *all* parameters are trained (a, w, b),
    with w in NTK parameterisation ``w = sigma_w/sqrt(d) w_hat``, ``w_hat ~ N(0, 1)``.

    Derived: the ``a`` part is :func:`cosnet`; the ``w_hat`` and ``b`` parts are
    ``A^2 E[a^2] E[sin(w.x+b) sin(w.x'+b)] (sigma_w^2/d x.x' + 1)`` with
    ``E_b[sin(u+b) sin(v+b)] = cos(u-v)/2`` (integrated).  The result,
    ``K(r) (1 + sigma_a^2 (1 + sigma_w^2 x.x'/d))``, is no longer translation invariant,
    which is why section 2.3.2 freezes w and b.  Returned in symbols ``xdotxp`` and
    ``sigma_a``.
    """
    base = cosnet(dim, sw)
    u, v, b = sp.symbols("u v b", real=True)
    sin_phase = expect_uniform_phase(sp.sin(u + b) * sp.sin(v + b), b)
    cos_phase = _cos_phase_average()(u, v)
    ratio = sp.simplify(sin_phase / cos_phase)       # == 1: same Gaussian factor
    sa = sp.Symbol("sigma_a", positive=True)
    xdot = sp.Symbol("xdotxp", real=True)
    return sp.simplify(base.kernel_A * (1 + ratio * sa**2 * (1 + sw**2 / dim * xdot)))
