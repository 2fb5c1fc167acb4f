"""Compile elements of the generic Kähler potential's algebra into kernels of the potential's jet.

The potential-side twin of :mod:`metricflow.symbolic.codegen`: :func:`compile_potential_kernel`
turns an exact element of a
:class:`~metricflow.symbolic.kahler_functionals.PotentialGeometry` (a Lagrangian, a
variation ``E_φ`` (B.12–B.13), a flow velocity (B.19–B.21)) into a JAX / numpy / numba
function of the jet of the potential ``u = K_0 + φ`` (B.6): a dict ``{alpha: array}`` with
``alpha`` a multi-index over ``(z^1..z^n, z̄^1..z̄^n)`` (``(1, 1)`` is ``∂_z∂̄_z̄ u`` in
complex dimension 1).  The holomorphic top form is ``Ω = dz^1∧…∧dz^n`` (``Ω(z) = 1``)
unless jets of Ω are given.

The kernels are elementwise and precision-agnostic: the JAX one computes in JAX's current
precision (wrap calls in :func:`metricflow._x64.x64` for float64, as
:class:`metricflow.flows.kahler.TorusFunctional` does); the numpy and numba ones in float64.
A manifold that provides potential jets is :class:`metricflow.manifolds.complex_torus.ComplexTorus`.
"""

from __future__ import annotations

import sympy as sp

from metricflow.errors import InvalidInputError


def _jet_symbol(name: str, alpha) -> sp.Symbol:
    return sp.Symbol(f"{name}_" + "_".join(map(str, alpha)))


def jet_expression(geo, el) -> tuple[sp.Expr, dict]:
    """The element as a sympy expression of named jet symbols; returns (expr, {symbol: (func, alpha)})."""
    expr = geo.A.expr(el, pretty=False)
    rep, inputs = {}, {}
    names = {geo.u: "u", geo.Om: "Om", geo.Omb: "Omb"}
    if geo.psi is not None:
        names[geo.psi] = "psi"
    for func, alpha, _ in geo.A.jet_generators():
        full = tuple(alpha)
        if func == geo.Om:
            full = tuple(alpha) + (0,) * geo.n
        elif func == geo.Omb:
            full = (0,) * geo.n + tuple(alpha)
        sym = _jet_symbol(names[func], full)
        if sum(alpha) == 0:
            node = func
        else:
            node = sp.Derivative(func, *[(func.args[k], a) for k, a in enumerate(alpha) if a])
        rep[node] = sym
        inputs[sym] = (names[func], full)
    out = expr.xreplace(rep)
    used = {s: inputs[s] for s in out.free_symbols if s in inputs}
    return out, used


def compile_potential_kernel(geo, el, backend: str = "jax", omega_one: bool = True):
    """Compile an element of the generic potential's algebra into ``kernel(ujet, kappa)``.

    ``ujet``: dict ``alpha -> array`` of the jets of the total potential ``u = K_0 + φ``
    (arrays broadcast; the kernel is elementwise, so a grid or a batch of points works
    and ``jax.jit``/``jax.vmap`` apply).  ``omega_one``: ``Ω(z) = 1`` (flat torus);
    otherwise the kernel takes ``(ujet, omjet, ombjet, kappa)``.
    ``backend``: ``"jax"``, ``"numpy"`` or ``"numba"`` (``numba.njit`` of the numpy code).
    The kernel's ``.alphas`` lists the jets it reads.
    """
    expr, used = jet_expression(geo, el)
    kappa = sp.Symbol("kappa", positive=True)
    if omega_one:
        sub = {}
        for s, (name, alpha) in used.items():
            if name in ("Om", "Omb"):
                sub[s] = 1 if sum(alpha) == 0 else 0
        expr = expr.xreplace(sub)
        used = {s: v for s, v in used.items() if v[0] not in ("Om", "Omb")}
    syms = sorted(used, key=str)
    modules = {"jax": "jax", "numpy": "numpy", "numba": "numpy"}.get(backend)
    if modules is None:
        raise InvalidInputError("backend", f"expected 'jax', 'numpy' or 'numba', got {backend!r}")
    fn = sp.lambdify(syms + [kappa], expr, modules=modules, cse=True)
    if backend == "numba":
        import numba

        fn = numba.njit(fn)
    keys = [used[s] for s in syms]

    def kernel(ujet, *rest):
        if omega_one:
            (kap,) = rest
            jets = {"u": ujet}
        else:
            omjet, ombjet, kap = rest
            jets = {"u": ujet, "Om": omjet, "Omb": ombjet}
        return fn(*[jets[name][alpha] for name, alpha in keys], kap)

    kernel.alphas = sorted({alpha for name, alpha in keys if name == "u"})
    kernel.expr = expr
    return kernel


__all__ = ["compile_potential_kernel", "jet_expression"]
