"""Compile derived formulas into JAX and numba kernels of the jet at a point.

The formulas of :mod:`metricflow.symbolic._formulas` are evaluated once on the
*generic jet*: the metric components ``g_ij`` and their derivatives are
independent symbols, and the inverse metric is an independent generator with
``D_k g^{ab} = −g^{ac} ∂_k g_cd g^{db}``.  Curvature is then a polynomial in
``(g^{-1}, ∂g, ∂²g)``; common subexpressions are eliminated and the result is
printed as straight-line code for

* ``backend="jax"``: a function of one point's jet that ``jax.jit`` and
  ``jax.vmap`` accept (the inverse is the closed form of :func:`metricflow._linalg.inv`,
  no LAPACK call);
* ``backend="numba"``: a ``numba.njit(parallel=True)`` function over a batch of
  points (leading axis), with a ``prange`` loop.

Array layout (docs/conventions.md): ``g[i, j]``, ``dg[i, j, k] = ∂_k g_ij``,
``ddg[i, j, k, l] = ∂_k∂_l g_ij``; for a scalar ``f``: ``f``, ``df[k]``, ``ddf[k, l]``.

>>> from metricflow.symbolic.codegen import compile_jet_kernel
>>> ricci = compile_jet_kernel("ricci", 2, backend="jax")   # doctest: +SKIP
>>> ricci(g, dg, ddg)                                      # doctest: +SKIP
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from functools import lru_cache

import sympy as sp
from sympy.printing.pycode import PythonCodePrinter

from metricflow.errors import InvalidInputError
from metricflow.symbolic import _formulas as F
from metricflow.symbolic._algebra import DifferentialAlgebra

#: quantity -> (needs the dilaton jet, output shape as a function of n, equation)
QUANTITIES = {
    "christoffel": (False, lambda n: (n, n, n), "Γ^k_ij, docs/conventions.md"),
    "ricci": (False, lambda n: (n, n), "R_ij"),
    "scalar": (False, lambda n: (), "R"),
    "einstein": (False, lambda n: (n, n), "G_ij"),
    "perelman_velocity": (True, lambda n: (n, n), "eq. (2.40): −2(R_ij + ∇_i∇_j f)"),
    "dilaton_velocity": (True, lambda n: (), "∂_t f = −Δf − R (partner of eq. 2.40)"),
    "perelman_lagrangian": (True, lambda n: (), "eq. (2.41) integrand: R + |∇f|²"),
}


@dataclass(frozen=True)
class JetFormula:
    """A derived quantity as flat sympy expressions of the jet symbols."""

    name: str
    dim: int
    shape: tuple
    exprs: tuple            # flat, row-major
    inputs: dict            # sympy symbol -> (array name, index tuple)
    ginv: tuple             # the inverse-metric symbols [a][b]


def _jet_algebra(n: int, with_dilaton: bool):
    coords = sp.symbols(f"x0:{n}", real=True)
    G = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            G[i][j] = G[j][i] = sp.Function(f"g{i}{j}")(*coords)
    funcs = [G[i][j] for i in range(n) for j in range(i, n)]
    f = sp.Function("f")(*coords) if with_dilaton else None
    if f is not None:
        funcs.append(f)
    declared = [(f"ginv{a}{b}", sp.Symbol(f"ginv{a}{b}")) for a in range(n) for b in range(a, n)]
    A = DifferentialAlgebra(coords, [], jet_order=3, functions=funcs, declared=declared)
    g = [[A.jet(G[i][j], (0,) * n) for j in range(n)] for i in range(n)]
    ginv = [[A.declared(f"ginv{min(a, b)}{max(a, b)}") for b in range(n)] for a in range(n)]
    for a in range(n):
        for b in range(a, n):
            for k in range(n):
                alpha = tuple(int(m == k) for m in range(n))
                rule = A.zero
                for c in range(n):
                    for d in range(n):
                        rule -= ginv[a][c] * A.jet(G[c][d], alpha) * ginv[d][b]
                A.set_rule(f"ginv{a}{b}", ("D", k), rule)
    fe = A.jet(f, (0,) * n) if f is not None else None
    return A, G, g, ginv, f, fe


def _symbol_map(A, G, f, n):
    """Map the algebra's generator symbols to named input symbols and array slots."""
    inputs, subs = {}, {}
    pairs = {G[i][j]: (i, j) for i in range(n) for j in range(i, n)}
    for gen in A.gens:
        if gen.kind == "jet":
            order = sum(gen.alpha)
            if order > 2:
                continue
            ds = tuple(itertools.chain.from_iterable([k] * a for k, a in enumerate(gen.alpha)))
            if gen.func == f:
                name = ["f", "df", "ddf"][order]
                idx = ds
            else:
                i, j = pairs[gen.func]
                name = ["g", "dg", "ddg"][order]
                idx = (i, j) + ds
            sym = sp.Symbol(name + "_" + "_".join(map(str, idx)) if idx else name)
            subs[gen.symbol] = sym
            inputs[sym] = (name, idx)
        elif gen.kind == "declared":
            a, b = int(str(gen.expr)[4]), int(str(gen.expr)[5])
            sym = sp.Symbol(f"ginv_{a}_{b}")
            subs[gen.symbol] = sym
            inputs[sym] = ("ginv", (a, b))
    return inputs, subs


@lru_cache(maxsize=8)
def _jet_quantities(n: int, with_dilaton: bool):
    """Every quantity of :data:`QUANTITIES` on the generic jet, from one shared computation."""
    A, G, g, ginv, f, fe = _jet_algebra(n, with_dilaton)
    gamma = F.christoffel(A, g, ginv)
    Ric = F.ricci(A, gamma)
    R = F.trace(A, ginv, Ric)
    out = {
        "christoffel": [gamma[k][i][j] for k in range(n) for i in range(n) for j in range(n)],
        "ricci": [Ric[i][j] for i in range(n) for j in range(n)],
        "scalar": [R],
        "einstein": [Ric[i][j] - R * g[i][j] / 2 for i in range(n) for j in range(n)],
    }
    if with_dilaton:
        H = F.hessian(A, gamma, fe)
        grad2 = F.norm_sq(A, ginv, F.gradient(A, fe))
        out["perelman_velocity"] = [-2 * (Ric[i][j] + H[i][j]) for i in range(n) for j in range(n)]
        out["dilaton_velocity"] = [-F.trace(A, ginv, H) - R]   # Perelman gauge: e^{-f} dV fixed
        out["perelman_lagrangian"] = [R + grad2]
    inputs, subs = _symbol_map(A, G, f, n)
    exprs = {}
    for name, flat in out.items():
        exprs[name] = tuple(
            (el.numer.as_expr() / el.denom.as_expr()).xreplace(subs) if el else sp.Integer(0)
            for el in flat)
    return exprs, inputs


@lru_cache(maxsize=64)
def derive_jet_formula(name: str, dim: int) -> JetFormula:
    """Derive ``name`` (a key of :data:`QUANTITIES`) on the generic jet in ``dim`` dimensions."""
    if name not in QUANTITIES:
        raise InvalidInputError("name", f"unknown quantity {name!r}; known: {sorted(QUANTITIES)}")
    if not 1 <= dim <= 4:
        raise InvalidInputError("dim", f"expected 1 to 4, got {dim}")
    needs_f, shape_fn, _ = QUANTITIES[name]
    exprs, inputs = _jet_quantities(dim, needs_f)
    ginv_syms = tuple(tuple(sp.Symbol(f"ginv_{min(a, b)}_{max(a, b)}") for b in range(dim))
                      for a in range(dim))
    return JetFormula(name, dim, shape_fn(dim), exprs[name], inputs, ginv_syms)


class _Printer(PythonCodePrinter):
    def _print_Symbol(self, expr):
        return self._slot.get(expr, super()._print_Symbol(expr))


def _source(formula: JetFormula, backend: str) -> str:
    n = formula.dim
    needs_f = QUANTITIES[formula.name][0]
    args = ["g", "dg", "ddg"] + (["f", "df", "ddf"] if needs_f else [])
    replacements, reduced = sp.cse(list(formula.exprs), symbols=sp.numbered_symbols("t"))
    printer = _Printer({"fully_qualified_modules": False})
    pt = "[p]" if backend == "numba" else ""
    slot = {}
    for sym, (arr, idx) in formula.inputs.items():
        if arr == "ginv":
            slot[sym] = f"ginv[{idx[0]}, {idx[1]}]"
        elif arr == "f":
            slot[sym] = f"f{pt}"
        else:
            prefix = "p, " if backend == "numba" else ""
            slot[sym] = f"{arr}[{prefix}{', '.join(map(str, idx))}]"
    printer._slot = slot
    body = [f"{printer.doprint(s)} = {printer.doprint(e)}" for s, e in replacements]
    outs = [printer.doprint(e) for e in reduced]
    size = max(1, len(outs))
    lines = []
    if backend == "jax":
        lines.append(f"def kernel({', '.join(args)}):")
        lines.append("    ginv = small_inv(g)")
        lines += ["    " + b for b in body]
        lines.append("    out = jnp.stack(jnp.broadcast_arrays(" + ", ".join(outs) + ", g[0, 0]))[:-1]")
        lines.append(f"    return out.reshape({formula.shape!r})")
    else:
        lines.append(f"def kernel({', '.join(args)}):")
        lines.append("    npts = g.shape[0]")
        lines.append(f"    out = np.empty((npts, {size}))")
        lines.append("    for p in prange(npts):")
        lines.append("        ginv = np.linalg.inv(g[p])")
        lines += ["        " + b for b in body]
        lines += [f"        out[p, {k}] = {o}" for k, o in enumerate(outs)]
        lines.append(f"    return out.reshape((npts,) + {formula.shape!r})")
    del n
    return "\n".join(lines) + "\n"


@lru_cache(maxsize=64)
def compile_jet_kernel(name: str, dim: int, backend: str = "jax"):
    """Compile the derived quantity ``name`` in ``dim`` dimensions.

    ``backend="jax"``: returns ``kernel(g, dg, ddg[, f, df, ddf])`` for ONE point
    (jit/vmap it).  ``backend="numba"``: returns a parallel ``njit`` kernel over a
    batch (every argument with a leading point axis; ``f`` of shape ``(npts,)``).
    Output shape: :data:`QUANTITIES` (``(n, n)`` for ``ricci``; batch axis first for numba).
    """
    formula = derive_jet_formula(name, dim)
    src = _source(formula, backend)
    if backend == "jax":
        import jax.numpy as jnp

        from metricflow._linalg import inv as small_inv

        namespace = {"jnp": jnp, "small_inv": small_inv}
        exec(compile(src, f"<metricflow.codegen {name} {dim}d jax>", "exec"), namespace)
        kernel = namespace["kernel"]
    elif backend == "numba":
        import numba
        import numpy as np

        namespace = {"np": np, "prange": numba.prange}
        exec(compile(src, f"<metricflow.codegen {name} {dim}d numba>", "exec"), namespace)
        kernel = numba.njit(parallel=True, fastmath=False)(namespace["kernel"])
    else:
        raise InvalidInputError("backend", f"expected 'jax' or 'numba', got {backend!r}")
    kernel.__doc__ = (f"{name} ({QUANTITIES[name][2]}) of the {dim}-dimensional metric jet; "
                      "generated by metricflow.symbolic.codegen.")
    kernel.source = src
    return kernel


def lambdify(coords, exprs, backend: str = "jax"):
    """Compile concrete expressions of the coordinates (e.g. ``Metric.ricci``) with
    ``sympy.lambdify`` (common subexpressions eliminated) for ``"jax"`` or ``"numpy"``;
    ``"numba"`` wraps the numpy version in ``numba.njit``."""
    modules = {"jax": "jax", "numpy": "numpy", "numba": "numpy"}.get(backend)
    if modules is None:
        raise InvalidInputError("backend", f"expected 'jax', 'numpy' or 'numba', got {backend!r}")
    fn = sp.lambdify(list(coords), exprs, modules=modules, cse=True)
    if backend == "numba":
        import numba

        fn = numba.njit(fn)
    return fn
