"""Exact differential algebra: the engine under the symbolic layer.

Expressions are elements of a sparse rational-function field over the integers
(``sympy.polys.fields``) whose generators are

* the coordinates ``x^i`` (``D_i x^j = δ_ij``);
* constants (parameters such as ``M`` and ``a``, ``pi``, undefined functions of
  non-coordinates such as ``a(t)``);
* jets of undefined functions of the coordinates, ``u``, ``∂_x u``, ``∂_x∂_y u``, …
  (``D_i`` raises the multi-index, exactly as on jet space);
* atoms: ``sin/cos`` and ``sinh/cosh`` of an argument (one generator each, with
  the relation ``cos² = 1 − sin²`` or ``cosh² = 1 + sinh²``), ``exp``, ``log``,
  rational powers ``b^(1/q)`` (relation ``(b^(1/q))^q = b``) and other
  elementary functions whose derivative is again in the algebra;
* *declared* generators with explicit derivative rules (used for the generic
  metric of code generation and functional derivatives, where ``g^{-1}`` and
  ``√det g`` are generators in their own right).

Derivations (the total derivatives ``D_i`` and partial derivatives with respect
to jet generators) act on polynomials generator by generator, so no rational
simplification happens until the result is assembled; relations are applied by
division with remainder.  The relations' leading terms are pure powers of distinct
generators, hence a Gröbner basis: the reduced numerator is a normal form and the
zero test is exact.  This is what makes Kerr's Ricci tensor an exact zero in well
under a second, where ``simplify`` takes minutes (see ``benchmarks/kerr_ricci.py``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.polys.domains import ZZ
from sympy.polys.fields import FracField
from sympy.polys.orderings import lex

from metricflow.errors import UnsupportedExpressionError
from metricflow.symbolic._atoms import check_expansion, check_power, exp_factors, normalize_expr
from metricflow.symbolic._constants import compress, map_element


@dataclass
class Generator:
    """One generator of the field and how derivations act on it."""

    symbol: sp.Symbol          # the field's generator symbol (a Dummy)
    expr: sp.Expr              # what it stands for, for output
    kind: str                  # coord | const | jet | sin | cos | sinh | cosh | exp | log | root | func | declared
    arg: sp.Expr | None = None  # argument of an atom (as sympy expression)
    func: sp.Expr | None = None  # for jets: the undefined function applied to its coordinates
    alpha: tuple[int, ...] | None = None  # for jets: multi-index over the coordinates
    q: int = 1                 # for roots: b**(1/q)
    partner: int | None = None  # for sin/cos pairs: index of the partner generator
    rules: dict = field(default_factory=dict)  # for declared generators: derivation key -> element


class DifferentialAlgebra:
    """Exact arithmetic and total derivatives for expressions in given coordinates.

    Parameters
    ----------
    coords:
        The coordinate symbols.
    exprs:
        Every expression the computation will start from (the metric entries,
        a dilaton, …); their atoms define the generators.
    jet_order:
        Highest derivative order of undefined functions that derivations may
        reach (beyond it :meth:`D` raises).  The default leaves room for
        second derivatives of curvature.
    declared:
        Extra generators ``(name, output_expr)`` whose derivative rules are set
        afterwards with :meth:`set_rule` (used for generic metrics).
    compress_constants:
        Merge the parameters into the monomials they form when that removes generators
        (exact; :mod:`metricflow.symbolic._constants`).  An expression converted later
        whose parameters leave that lattice raises :class:`UnsupportedExpressionError`,
        so only callers that rebuild on it (the metric classes) should ask for it.
    """

    def __init__(self, coords: Sequence[sp.Symbol], exprs: Iterable[sp.Expr] = (),
                 jet_order: int | None = None, extra_jet_order: int = 4,
                 declared: Sequence[tuple[str, sp.Expr]] = (),
                 functions: Iterable[sp.Expr] = (), compress_constants: bool = False):
        self.coords = tuple(coords)
        self.n = len(self.coords)
        self._coord_index = {c: i for i, c in enumerate(self.coords)}
        self.gens: list[Generator] = []
        self._by_expr: dict = {}
        self._funcs: dict = {}  # applied undefined function -> tuple of coordinate indices
        self._max_seen_order = 0
        exprs = [normalize_expr(e) for e in exprs]
        for c in self.coords:
            self._add(Generator(sp.Dummy(str(c)), c, "coord"))
        for f in functions:
            self._register_function(f)
        for e in exprs:
            self._discover(e)
        order = jet_order if jet_order is not None else self._max_seen_order + extra_jet_order
        self.jet_order = order
        for f, idx in list(self._funcs.items()):
            for alpha in _multi_indices(len(idx), order):
                self._jet(f, idx, alpha)
        for name, out in declared:
            self._add(Generator(sp.Dummy(name), out, "declared"), key=("declared", name))
        self._raw = None
        self._build_field()
        if compress_constants:
            compress(self, exprs)

    # ------------------------------------------------------------------ discovery
    def _add(self, gen: Generator, key=None) -> int:
        key = gen.expr if key is None else key
        if key in self._by_expr:
            return self._by_expr[key]
        self.gens.append(gen)
        self._by_expr[key] = len(self.gens) - 1
        return len(self.gens) - 1

    def _register_function(self, f: sp.Expr) -> tuple[int, ...] | None:
        args = f.args
        if not any(a.free_symbols & set(self.coords) for a in args):
            self._add(Generator(sp.Dummy(str(f.func)), f, "const"))
            return None
        if not all(a in self._coord_index for a in args) or len(set(args)) != len(args):
            raise UnsupportedExpressionError(
                "expression", f"undefined function {f} must take distinct coordinates "
                f"{self.coords} as arguments (or none of them)")
        idx = tuple(self._coord_index[a] for a in args)
        self._funcs.setdefault(f, idx)
        return idx

    def _jet(self, f, idx, alpha) -> int:
        key = ("jet", f, alpha)
        if key in self._by_expr:
            return self._by_expr[key]
        if sum(alpha) == 0:
            expr = f
        else:
            expr = sp.Derivative(f, *[(f.args[k], a) for k, a in enumerate(alpha) if a])
        name = str(f.func) + ("_" + "".join(str(a) for a in alpha) if sum(alpha) else "")
        return self._add(Generator(sp.Dummy(name), expr, "jet", func=f, alpha=alpha), key=key)

    def _discover(self, e: sp.Expr) -> None:
        if e.is_Number or e in self._by_expr:
            return
        if e.is_Symbol:
            if e not in self._coord_index:
                self._add(Generator(sp.Dummy(str(e)), e, "const"))
            return
        if isinstance(e, sp.NumberSymbol) or e is sp.I:
            self._add(Generator(sp.Dummy(str(e)), e, "const"))
            return
        if isinstance(e, AppliedUndef):
            self._register_function(e)
            return
        if isinstance(e, sp.Derivative):
            f = e.expr
            if not isinstance(f, AppliedUndef):
                raise UnsupportedExpressionError("expression", f"cannot represent {e}")
            idx = self._register_function(f)
            if idx is not None:
                order = sum(c for _, c in e.variable_count)
                self._max_seen_order = max(self._max_seen_order, order)
            return
        if e.is_Add or e.is_Mul:
            for a in e.args:
                self._discover(a)
            return
        if e.is_Pow:
            base, ex = e.args
            self._discover(base)
            if ex.is_Integer:
                return
            if ex.is_Rational:
                check_power(ex.q, e)
                self._add(Generator(sp.Dummy("root"), sp.Pow(base, sp.Rational(1, ex.q)),
                                    "root", arg=base, q=int(ex.q)))
                return
            self._discover_exp(ex * sp.log(base))
            return
        if isinstance(e, (sp.sin, sp.cos, sp.sinh, sp.cosh)):
            a = e.args[0]
            self._discover(a)
            hyper = isinstance(e, (sp.sinh, sp.cosh))
            s_f, c_f = (sp.sinh, sp.cosh) if hyper else (sp.sin, sp.cos)
            # the cosine-like generator is eliminated by the relation, so it goes first (lex)
            ic = self._add(Generator(sp.Dummy("ch" if hyper else "c"), c_f(a),
                                     "cosh" if hyper else "cos", arg=a))
            is_ = self._add(Generator(sp.Dummy("sh" if hyper else "s"), s_f(a),
                                      "sinh" if hyper else "sin", arg=a))
            self.gens[ic].partner, self.gens[is_].partner = is_, ic
            return
        if isinstance(e, sp.exp):
            self._discover_exp(e.args[0])
            return
        if isinstance(e, sp.log):
            a = e.args[0]
            self._discover(a)
            self._add(Generator(sp.Dummy("L"), e, "log", arg=a))
            return
        if isinstance(e, sp.Function) and len(e.args) == 1 and not isinstance(e, sp.Abs):
            a = e.args[0]
            self._discover(a)
            t = sp.Dummy("t")
            deriv = e.func(t).diff(t)
            if deriv.has(sp.Derivative, sp.Subs):
                raise UnsupportedExpressionError("expression", f"cannot differentiate {e}")
            self._add(Generator(sp.Dummy(str(e.func)), e, "func", arg=a))
            self._discover(normalize_expr(deriv.subs(t, a)))
            return
        raise UnsupportedExpressionError(
            "expression", f"{e} ({type(e).__name__}) is not supported by the exact engine; "
            "use polynomials, rational functions, sin/cos/sinh/cosh, exp, log, powers and "
            "undefined functions of the coordinates")

    def _discover_exp(self, arg: sp.Expr) -> None:
        """Generators of ``exp(arg)`` (:func:`~metricflow.symbolic._atoms.exp_factors`); an
        exponential generator is keyed by its exponent, since ``sp.exp(m)`` may evaluate."""
        for kind, m, power in exp_factors(arg):
            if kind == "pow":
                self._discover(sp.Pow(m, power))
                continue
            self._discover(m)
            self._add(Generator(sp.Dummy("E"), sp.exp(m), "exp", arg=m), key=("exp", m))

    # ------------------------------------------------------------------ field
    def _build_field(self) -> None:
        # lex order: generators carrying relations first (their powers are reduced)
        relation_kinds = ("cos", "cosh", "root")
        rel = [i for i, g in enumerate(self.gens) if g.kind in relation_kinds or g.expr is sp.I]
        # an outer root (whose base contains other relation generators) must come first
        rel.sort(key=lambda i: -_depth(self.gens[i].expr))
        others = [i for i in range(len(self.gens)) if i not in rel]
        self._order = rel + others
        symbols = [self.gens[i].symbol for i in self._order]
        self.K = FracField(symbols, ZZ, lex)
        self.R = self.K.ring
        self._pos = {i: p for p, i in enumerate(self._order)}  # gen index -> position in ring
        self._gen_elem = [self.K.gens[self._pos[i]] for i in range(len(self.gens))]
        self.zero, self.one = self.K.zero, self.K.one
        self._sym_to_gen = {g.symbol: i for i, g in enumerate(self.gens)}
        self._relations = []
        for i in rel:
            g = self.gens[i]
            x = self.R.gens[self._pos[i]]
            if g.expr is sp.I:
                self._relations.append(x**2 + 1)
            elif g.kind == "cos":
                s = self.R.gens[self._pos[g.partner]]
                self._relations.append(x**2 + s**2 - 1)
            elif g.kind == "cosh":
                s = self.R.gens[self._pos[g.partner]]
                self._relations.append(x**2 - s**2 - 1)
            else:  # root: x**q - base
                base = self.element(g.arg, reduce=False)
                if base.denom != 1:
                    # (n/d)^(1/q) = (n d^(q-1))^(1/q) / d is not used: keep x**q * d - n
                    self._relations.append(x**g.q * base.denom - base.numer)
                else:
                    self._relations.append(x**g.q - base.numer)
        self._arg_elem: dict[int, object] = {}

    def gen(self, expr_or_key) -> object:
        """The field element of a generator, looked up by its expression or key."""
        return self._gen_elem[self._by_expr[expr_or_key]]

    def jet(self, func: sp.Expr, alpha: Sequence[int]) -> object:
        """The field element of ``∂^alpha func`` (alpha over func's arguments)."""
        key = ("jet", func, tuple(alpha))
        if key not in self._by_expr:
            raise UnsupportedExpressionError(
                "jet_order", f"derivative {tuple(alpha)} of {func} exceeds the jet order "
                f"{self.jet_order} this algebra was built with")
        return self._gen_elem[self._by_expr[key]]

    def declared(self, name: str) -> object:
        return self._gen_elem[self._by_expr[("declared", name)]]

    # ------------------------------------------------------------------ conversion
    def element(self, expr, reduce: bool = True):
        """Convert a sympy expression into the field."""
        if self._raw is not None:  # parameters compressed to monomials (_constants)
            out = map_element(self, self._raw.element(expr, reduce=False))
        else:
            out = self._convert(normalize_expr(expr))
        return self.reduce(out) if reduce else out

    def _convert(self, e):
        K = self.K
        if e in self._by_expr:
            return self._gen_elem[self._by_expr[e]]
        if e.is_Integer:
            return K(int(e))
        if e.is_Rational:
            return K(int(e.p)) / K(int(e.q))
        if e.is_Float:
            r = sp.Rational(str(e))
            return K(int(r.p)) / K(int(r.q))
        if e.is_Add:
            out = K.zero
            for a in e.args:
                out += self._convert(a)
            return out
        if e.is_Mul:
            out = K.one
            for a in e.args:
                out *= self._convert(a)
            return out
        if e.is_Pow:
            base, ex = e.args
            if ex.is_Integer:
                b = self._convert(base)
                n = check_power(ex, e)
                check_expansion(max(len(b.numer.terms()), len(b.denom.terms())), n, e)
                return b**n
            if ex.is_Rational:
                r = self._gen_elem[self._by_expr[sp.Pow(base, sp.Rational(1, ex.q))]]
                return r ** check_power(ex.p, e)
            return self._convert_exp(ex * sp.log(base))
        if isinstance(e, AppliedUndef) and e in self._funcs:
            return self.jet(e, (0,) * len(self._funcs[e]))
        if isinstance(e, sp.exp):
            return self._convert_exp(e.args[0])
        if isinstance(e, sp.Derivative):
            f = e.expr
            idx = self._funcs[f]
            alpha = [0] * len(idx)
            for v, c in e.variable_count:
                alpha[f.args.index(v)] += c
            return self.jet(f, alpha)
        raise UnsupportedExpressionError("expression", f"cannot convert {e}")

    def _convert_exp(self, arg: sp.Expr):
        out = self.K.one
        for kind, m, power in exp_factors(arg):
            if kind == "pow":
                out *= self._convert(sp.Pow(m, power))
            else:
                out *= self._gen_elem[self._by_expr[("exp", m)]] ** power
        return out

    def expr(self, el, pretty: bool = True) -> sp.Expr:
        """Convert a field element back into a sympy expression."""
        el = self.reduce(el, rationalize=True)
        subs = {g.symbol: g.expr for g in self.gens}
        num, den = el.numer.as_expr(), el.denom.as_expr()
        if pretty:
            num, den = _tidy(num), _tidy(den)
        return (num / den).xreplace(subs)

    # ------------------------------------------------------------------ relations
    def reduce(self, el, rationalize: bool = False):
        """Apply the relations (normal form of numerator and denominator).

        With ``rationalize``, denominators are also freed of square roots,
        sin/cos pairs and ``i`` by multiplying with the conjugate.
        """
        if not self._relations or not el:
            return el
        n = el.numer.rem(self._relations)
        d = el.denom.rem(self._relations)
        if rationalize:
            for _rel, pos in self._quadratic_relations():
                if d.degree(pos) >= 1:
                    conj = _conjugate(d, pos)
                    n = (n * conj).rem(self._relations)
                    d = (d * conj).rem(self._relations)
        if n == el.numer and d == el.denom:
            return el
        return self.K.new(n, d)

    def _quadratic_relations(self):
        for r in self._relations:
            lead = max(r.monoms())
            pos = next(i for i, e in enumerate(lead) if e)
            if lead[pos] == 2:
                yield r, pos

    def det(self, matrix) -> object:
        """Exact determinant of a square matrix (nested lists) of field elements, reduced."""
        from sympy.polys.matrices import DomainMatrix

        n = len(matrix)
        d = DomainMatrix([list(row) for row in matrix], (n, n), self.K.to_domain()).det()
        return self.reduce(getattr(d, "element", d))

    def inverse(self, matrix) -> list:
        """Exact inverse of a square matrix (nested lists) of field elements, reduced."""
        from sympy.polys.matrices import DomainMatrix

        n = len(matrix)
        inv = DomainMatrix([list(row) for row in matrix], (n, n), self.K.to_domain()).inv()
        return [[self.reduce(getattr(inv[i, j], "element", inv[i, j])) for j in range(n)] for i in range(n)]

    def is_zero(self, el) -> bool:
        """Exact zero test (the numerator's normal form vanishes)."""
        return not el or not el.numer.rem(self._relations)

    # ------------------------------------------------------------------ derivations
    def set_rule(self, name: str, key, value) -> None:
        """Declare ``X(gen) = value`` for a declared generator and derivation key
        (``("D", i)`` for the total derivative along coordinate i, or
        ``("partial", gen_index)`` for a partial derivative)."""
        self.gens[self._by_expr[("declared", name)]].rules[key] = value

    def gen_index(self, el) -> int:
        """Index of the generator whose field element is ``el``."""
        poly = el.numer
        (monom,) = poly.monoms()
        pos = next(i for i, e in enumerate(monom) if e)
        return self._order[pos]

    def _arg(self, i: int):
        if i not in self._arg_elem:
            self._arg_elem[i] = self.element(self.gens[i].arg)
        return self._arg_elem[i]

    def _gen_derivative(self, i: int, key, recurse: Callable) -> object | None:
        """X(generator i) for derivation ``key``; None when it is zero."""
        g = self.gens[i]
        kind = g.kind
        if kind == "coord":
            return self.one if key == ("D", i) else None
        if kind == "const":
            return self.one if key == ("partial", i) else None
        if kind == "declared":
            return g.rules.get(key)
        if kind == "jet":
            if key[0] == "partial":
                return self.one if key[1] == i else None
            idx = self._funcs[g.func]
            coord = key[1]
            if coord not in idx:
                return None
            alpha = list(g.alpha)
            alpha[idx.index(coord)] += 1
            return self.jet(g.func, alpha)
        da = recurse(self._arg(i))
        if not da:
            return None
        x = self._gen_elem[i]
        if kind == "sin":
            return self._gen_elem[g.partner] * da
        if kind == "cos":
            return -self._gen_elem[g.partner] * da
        if kind == "sinh":
            return self._gen_elem[g.partner] * da
        if kind == "cosh":
            return self._gen_elem[g.partner] * da
        if kind == "exp":
            return x * da
        if kind == "log":
            return da / self._arg(i)
        if kind == "root":
            return x * da / (g.q * self._arg(i))
        if kind == "func":
            t = sp.Dummy("t")
            deriv = normalize_expr(g.expr.func(t).diff(t).subs(t, g.arg))
            return self.element(deriv) * da
        raise AssertionError(kind)

    def derive(self, el, key):
        """Apply the derivation ``key`` (see :meth:`set_rule`) to a field element."""
        if not el:
            return self.zero
        memo = {}

        def gen_d(i):
            if i not in memo:
                memo[i] = self._gen_derivative(i, key, lambda a: self.derive(a, key))
            return memo[i]

        def poly_d(p):
            """X(p) for a polynomial p as (polynomial part, rational part)."""
            poly_part = self.R.zero
            frac_part = None
            degs = p.degrees()
            for pos, deg in enumerate(degs):
                if deg <= 0:
                    continue
                xd = gen_d(self._order[pos])
                if xd is None or not xd:
                    continue
                dp = p.diff(self.R.gens[pos])
                if xd.denom == 1:
                    poly_part += dp * xd.numer
                else:
                    term = self.K.new(dp, self.R.one) * xd
                    frac_part = term if frac_part is None else frac_part + term
            return poly_part, frac_part

        n, d = el.numer, el.denom
        dn_p, dn_f = poly_d(n)
        if d == 1:
            out = self.K.new(dn_p, self.R.one)
            if dn_f is not None:
                out += dn_f
            return self.reduce(out)
        dd_p, dd_f = poly_d(d)
        num = dn_p * d - n * dd_p
        out = self.K.new(num, d**2)
        if dn_f is not None:
            out += dn_f / self.K.new(d, self.R.one)
        if dd_f is not None:
            out -= dd_f * self.K.new(n, self.R.one) / self.K.new(d**2, self.R.one)
        return self.reduce(out)

    def D(self, el, i: int):
        """Total derivative ``D_i`` along coordinate ``i`` (chain rule through every atom)."""
        return self.derive(el, ("D", i))

    def partial(self, el, gen_el):
        """Partial derivative with respect to a jet (or coordinate) generator, holding the
        other jets fixed; atoms and declared generators contribute by the chain rule."""
        return self.derive(el, ("partial", self.gen_index(gen_el)))

    def jet_generators(self) -> list[tuple[sp.Expr, tuple[int, ...], object]]:
        """All jet generators as (function, multi-index, element)."""
        return [(g.func, g.alpha, self._gen_elem[i]) for i, g in enumerate(self.gens)
                if g.kind == "jet"]

    def functions(self) -> dict:
        """The undefined functions of the coordinates and the coordinate indices they take."""
        return dict(self._funcs)


def _depth(e: sp.Expr) -> int:
    if not e.args:
        return 0
    return 1 + max(_depth(a) for a in e.args)


def _conjugate(d, pos: int):
    """For d = A + x B (x the generator at ``pos``, reduced to degree 1), return A − x B."""
    out = d.ring.zero
    for monom, coeff in d.terms():
        sign = -1 if monom[pos] % 2 else 1
        out += d.ring({monom: coeff * sign})
    return out


def _tidy(e: sp.Expr) -> sp.Expr:
    """Cheap cosmetic factorisation for output (exact, never a heuristic simplify)."""
    if e.is_number:
        return e
    if len(sp.Add.make_args(e)) <= 40:
        try:
            return _factor_reproducibly(e)
        except sp.PolynomialError:
            return e
    return sp.factor_terms(e)


def _factor_reproducibly(e: sp.Expr) -> sp.Expr:
    """``sp.factor`` with sympy's random generator fixed for the call (and restored after).

    Wang's multivariate factorisation draws random evaluation points from
    ``sympy.core.random.rng``, seeded afresh in every process. The factors do not depend on
    them, but the time does: ``derive functional hn-two-derivative`` took 0.9 s in most
    processes and 40–300 s in about one in six (measured). With the points fixed, every run
    takes the same path."""
    from sympy.core import random as sympy_random

    state = sympy_random.rng.getstate()
    sympy_random.rng.seed(0)
    try:
        return sp.factor(e)
    finally:
        sympy_random.rng.setstate(state)


def _multi_indices(k: int, order: int):
    for total in range(order + 1):
        for combo in itertools.combinations_with_replacement(range(k), total):
            alpha = [0] * k
            for c in combo:
                alpha[c] += 1
            yield tuple(alpha)
