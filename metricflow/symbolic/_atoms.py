"""Normal forms of the atoms the exact engine (:mod:`metricflow.symbolic._algebra`) works with.

:func:`normalize_expr` rewrites tan/cot/sec/csc (and the hyperbolic ones) through sin/cos,
expands multiple angles and makes roots of fractions monic; :func:`exp_factors` splits
``exp(arg)`` -- and a power ``b**e`` with a symbolic exponent, read as ``exp(e log b)`` --
into integer and rational powers of bases and integer powers of primitive exponentials.

The sizes are bounded so that a hostile or careless expression is refused instead of
hanging: integer powers up to ``LIMITS.max_exponent`` (the grammar's bound,
docs/reliability.md) and multiple angles up to :data:`MAX_ANGLE_MULTIPLE`.
"""

from __future__ import annotations

import math

import sympy as sp

from metricflow.errors import UnsupportedExpressionError
from metricflow.symbolic.grammar import LIMITS

#: Largest integer multiple n in sin(n x), cos(n x), ... that is expanded (a polynomial of degree n).
MAX_ANGLE_MULTIPLE = 256

_TRIG_REWRITE = {
    sp.tan: lambda a: sp.sin(a) / sp.cos(a),
    sp.cot: lambda a: sp.cos(a) / sp.sin(a),
    sp.sec: lambda a: 1 / sp.cos(a),
    sp.csc: lambda a: 1 / sp.sin(a),
    sp.tanh: lambda a: sp.sinh(a) / sp.cosh(a),
    sp.coth: lambda a: sp.cosh(a) / sp.sinh(a),
    sp.sech: lambda a: 1 / sp.cosh(a),
    sp.csch: lambda a: 1 / sp.sinh(a),
}


def normalize_expr(expr: sp.Expr) -> sp.Expr:
    """Rewrite tan/cot/sec/csc (and hyperbolic) via sin/cos, expand multiple angles."""
    expr = sp.sympify(expr, strict=True)
    for func, rule in _TRIG_REWRITE.items():
        if expr.has(func):
            expr = expr.replace(func, rule)
    trig = expr.atoms(sp.sin, sp.cos, sp.sinh, sp.cosh)
    for atom in trig:
        for term in sp.Add.make_args(atom.args[0]):
            c = term.as_coeff_Mul()[0]
            if c.is_Rational and abs(c.p) > MAX_ANGLE_MULTIPLE:
                raise UnsupportedExpressionError(
                    "expression", f"{atom}: multiple angles above {MAX_ANGLE_MULTIPLE} are not expanded")
    if trig:
        expr = sp.expand_trig(expr)

    # b**(p/q) with a rational base n/d becomes (n d**(q-1))**(p/q) / d**p, so that the
    # relation of the root generator, x**q = n d**(q-1), is monic
    def _split_root(e):
        base, ex = e.args
        n, d = sp.fraction(sp.together(base))
        if d == 1:
            return e
        return sp.Pow(sp.expand(n * d ** (ex.q - 1)), ex) / d**ex.p

    expr = expr.replace(lambda e: e.is_Pow and e.exp.is_Rational and not e.exp.is_Integer,
                        _split_root)
    return expr


def check_power(n, what) -> int:
    """An integer exponent of the engine, within the grammar's bound."""
    n = int(n)
    if abs(n) > LIMITS.max_exponent:
        raise UnsupportedExpressionError(
            "expression", f"{what}: the power {n} exceeds the limit {LIMITS.max_exponent}")
    return n


#: Largest number of terms an integer power ``(a + b + …)**n`` may expand to (the bound
#: ``C(n + t - 1, t - 1)`` for t terms).
MAX_EXPANDED_TERMS = 10**6


def check_expansion(terms: int, n: int, what) -> None:
    """Refuse ``p**n`` for a polynomial p of ``terms`` terms whose expansion may exceed
    :data:`MAX_EXPANDED_TERMS` terms (computed before expanding)."""
    n = abs(n)
    if terms > 1 and n > 1 and math.comb(n + terms - 1, terms - 1) > MAX_EXPANDED_TERMS:
        raise UnsupportedExpressionError(
            "expression", f"{what}: expanding it may give {math.comb(n + terms - 1, terms - 1):.3g} terms; "
            f"at most {MAX_EXPANDED_TERMS:.0e} are accepted")


def exp_factors(arg: sp.Expr) -> list[tuple]:
    """Split ``exp(arg)`` into factors, term by term of the expanded ``arg``:

    * ``("pow", b, c)`` for a term ``c log b`` with c rational: the power ``b**c`` (an
      integer power of b, or a power of the root generator ``b**(1/q)``);
    * ``("exp", m, k)`` for any other term: ``exp(m)**k`` with a primitive exponent m
      (``exp(2u - f)`` gives ``exp(u)**2`` and ``exp(f)**-1``; a coefficient p/q uses the
      primitive ``exp(m/q)``).

    ``b**e`` with a symbolic exponent is ``exp(e log b)``; splitting off ``c log b`` keeps
    ``(1+x)**(1-k)`` from turning back into itself (sympy evaluates ``exp(log(1+x))`` to
    ``1+x``): it is ``(1+x) * exp(k log(1+x))**-1``."""
    out = []
    for t in sp.Add.make_args(sp.expand(arg)):
        c, m = t.as_coeff_Mul()
        if isinstance(m, sp.log) and c.is_Rational:
            out.append(("pow", m.args[0], c))
        elif c.is_Rational and m != 1:
            out.append(("exp", m / c.q, check_power(c.p, f"exp({arg})")))
        else:
            out.append(("exp", t, 1))
    return out
