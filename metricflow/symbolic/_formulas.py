"""The textbook formulas of Riemannian geometry, written once, over any differential algebra.

Each function takes an algebra ``A`` (with ``A.D(el, i)``, ``A.zero``, ``A.one``
and field arithmetic on its elements), the metric ``g`` and its inverse ``ginv``
as n × n nested lists of elements.  :class:`~metricflow.symbolic.metric.Metric`
feeds them exact rational functions; code generation feeds them a generic metric
whose inverse is a generator.  Signs and index order: docs/conventions.md.
"""

from __future__ import annotations


def _sum(A, terms):
    """Sum of field elements, adding numerators over equal denominators first
    (one gcd per distinct denominator instead of one per term)."""
    groups: dict = {}
    for t in terms:
        if t:
            key = t.denom
            groups[key] = groups[key] + t.numer if key in groups else t.numer
    out = A.zero
    for den, num in groups.items():
        if num:
            out += A.K.new(num, den)
    return out


def metric_derivatives(A, g):
    """``dg[i][j][k] = ∂_k g_ij`` (symmetric in i, j)."""
    n = len(g)
    dg = [[[None] * n for _ in range(n)] for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            for k in range(n):
                dg[i][j][k] = dg[j][i][k] = A.D(g[i][j], k)
    return dg


def christoffel(A, g, ginv, dg=None):
    """``Γ^k_ij = ½ g^{kl}(∂_i g_jl + ∂_j g_il − ∂_l g_ij)`` as ``Gamma[k][i][j]``."""
    n = len(g)
    dg = metric_derivatives(A, g) if dg is None else dg
    half = A.one / 2
    lower = {}
    for l in range(n):
        for i in range(n):
            for j in range(i, n):
                lower[l, i, j] = half * (dg[j][l][i] + dg[i][l][j] - dg[i][j][l])
    gamma = [[[None] * n for _ in range(n)] for _ in range(n)]
    for k in range(n):
        for i in range(n):
            for j in range(i, n):
                v = _sum(A, (ginv[k][l] * lower[l, i, j]
                             for l in range(n) if ginv[k][l] and lower[l, i, j]))
                gamma[k][i][j] = gamma[k][j][i] = A.reduce(v)
    return gamma


def contracted_christoffel(A, gamma):
    """``Γ^k_ki`` (= ∂_i log √|det g|)."""
    n = len(gamma)
    return [A.reduce(_sum(A, (gamma[k][k][i] for k in range(n)))) for i in range(n)]


def riemann(A, gamma):
    """``R^ρ_σμν = ∂_μ Γ^ρ_νσ − ∂_ν Γ^ρ_μσ + Γ^ρ_μλ Γ^λ_νσ − Γ^ρ_νλ Γ^λ_μσ``.

    Returned as a dict over (ρ, σ, μ, ν) with μ < ν (antisymmetry fills the rest)."""
    n = len(gamma)
    out = {}
    for r in range(n):
        for s in range(n):
            for m in range(n):
                for v in range(m + 1, n):
                    e = A.D(gamma[r][v][s], m) - A.D(gamma[r][m][s], v)
                    e += _sum(A, (gamma[r][m][l] * gamma[l][v][s] - gamma[r][v][l] * gamma[l][m][s]
                                  for l in range(n)))
                    out[r, s, m, v] = A.reduce(e)
    return out


def ricci(A, gamma, trace=None):
    """``R_ij = ∂_k Γ^k_ij − ∂_j Γ^k_ki + Γ^k_kl Γ^l_ij − Γ^k_jl Γ^l_ik`` (symmetric)."""
    n = len(gamma)
    v = contracted_christoffel(A, gamma) if trace is None else trace
    out = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            terms = [-A.D(v[i], j)]
            for k in range(n):
                if gamma[k][i][j]:
                    terms += [A.D(gamma[k][i][j], k), gamma[k][i][j] * v[k]]
            terms += [-(gamma[k][j][l] * gamma[l][i][k]) for k in range(n) for l in range(n)
                      if gamma[k][j][l] and gamma[l][i][k]]
            out[i][j] = out[j][i] = A.reduce(_sum(A, terms))
    return out


def trace(A, ginv, t):
    """``g^{ij} t_ij``."""
    n = len(ginv)
    return A.reduce(_sum(A, (ginv[i][j] * t[i][j] for i in range(n) for j in range(n)
                             if ginv[i][j] and t[i][j])))


def gradient(A, f):
    """``∂_k f``."""
    return [A.D(f, k) for k in range(len(A.coords))]


def hessian(A, gamma, f, df=None):
    """Covariant Hessian ``∇_i∇_j f = ∂_i∂_j f − Γ^k_ij ∂_k f``."""
    n = len(gamma)
    df = gradient(A, f) if df is None else df
    out = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            e = A.D(df[i], j) - _sum(A, (gamma[k][i][j] * df[k] for k in range(n)
                                         if gamma[k][i][j] and df[k]))
            out[i][j] = out[j][i] = A.reduce(e)
    return out


def norm_sq(A, ginv, v, w=None):
    """``g^{ij} v_i w_j`` (w = v by default), e.g. ``|∇f|²``."""
    w = v if w is None else w
    n = len(ginv)
    return A.reduce(_sum(A, (ginv[i][j] * v[i] * w[j] for i in range(n) for j in range(n)
                             if ginv[i][j] and v[i] and w[j])))


def tensor_norm_sq(A, ginv, t):
    """``g^{ia} g^{jb} t_ij t_ab`` of a covariant 2-tensor, e.g. ``|Ric|² = R_ij R^ij``."""
    n = len(ginv)
    up = [[A.reduce(_sum(A, (ginv[i][a] * t[a][b] * ginv[b][j] for a in range(n) for b in range(n)
                             if ginv[i][a] and t[a][b] and ginv[b][j]))) for j in range(n)] for i in range(n)]
    return A.reduce(_sum(A, (t[i][j] * up[i][j] for i in range(n) for j in range(n) if t[i][j] and up[i][j])))


def raise_index(A, ginv, v):
    """``v^i = g^{ij} v_j``."""
    n = len(ginv)
    return [A.reduce(_sum(A, (ginv[i][j] * v[j] for j in range(n) if ginv[i][j] and v[j])))
            for i in range(n)]


def lie_derivative_metric(A, g, X):
    """``(L_X g)_ij = X^k ∂_k g_ij + g_kj ∂_i X^k + g_ik ∂_j X^k`` (coordinate formula,
    independent of the connection: an independent check of ∇_i X_j + ∇_j X_i)."""
    n = len(g)
    dX = [[A.D(X[k], i) for i in range(n)] for k in range(n)]  # dX[k][i] = ∂_i X^k
    out = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            e = _sum(A, (X[k] * A.D(g[i][j], k) for k in range(n) if X[k]))
            e += _sum(A, (g[k][j] * dX[k][i] + g[i][k] * dX[k][j] for k in range(n)))
            out[i][j] = out[j][i] = A.reduce(e)
    return out


def divergence_sym2(A, gamma, ginv, T):
    """``∇^i T_ij`` of a symmetric (0,2) tensor."""
    n = len(gamma)
    out = []
    for j in range(n):
        e = A.zero
        for i in range(n):
            for a in range(n):
                if not ginv[i][a]:
                    continue
                # ∇_a T_ij = ∂_a T_ij − Γ^k_ai T_kj − Γ^k_aj T_ik
                c = A.D(T[i][j], a)
                c -= _sum(A, (gamma[k][a][i] * T[k][j] + gamma[k][a][j] * T[i][k]
                              for k in range(n)))
                e += ginv[i][a] * c
        out.append(A.reduce(e))
    return out
