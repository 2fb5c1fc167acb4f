"""Compiled kernels of the potential's jet, and a flat complex torus to run them on.

:func:`compile_potential_kernel` turns an exact element of a
:class:`~metricflow.symbolic.kahler_functionals.PotentialGeometry` (a Lagrangian, a
variation ``E_φ``, a flow velocity) into a JAX / numpy / numba function of the jet
of the potential: a dict ``{alpha: array}`` with ``alpha`` a multi-index over
``(z^1..z^n, z̄^1..z̄^n)`` (``(1, 1)`` is ``∂_z∂̄_z̄ u`` in complex dimension 1).
The holomorphic top form is ``Ω = dz^1∧…∧dz^n`` (``Ω(z) = 1``) unless jets of Ω are given.

:class:`FlatTorus` is ``C^n / (Z^n + i Z^n)`` with the flat reference potential
``K_0 = Σ g0_{ab̄} z^a z̄^b`` and a periodic correction φ on an ``N^{2n}`` grid;
jets are spectral (FFT) derivatives, ``∂_z = ½(∂_x − i∂_y)``, Nyquist modes zeroed
so that every derivative is exactly skew-adjoint for the grid sum (discrete
integration by parts is exact).  The torus has area 1 in ``d^{2n}x``.
"""

from __future__ import annotations

import itertools

import numpy as np
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


class FlatTorus:
    """``T^{2n} = C^n/(Z^n + iZ^n)``, ``K_0 = Σ g0_{ab̄} z^a z̄^b``, φ on an ``N^{2n}`` grid.

    Axes of a grid function: ``(x^1..x^n, y^1..y^n)``.  ``κ = det g0`` makes
    ``∫ η μ_CY = ∫ μ_CY`` for Ω = dz^1∧…∧dz^n (exact on the grid: the mean of
    ``det(g0 + ∂∂̄φ) − det g0`` is a sum of total derivatives)."""

    def __init__(self, n: int = 1, N: int = 32, g0=None):
        if n < 1 or N < 4 or N % 2:
            raise InvalidInputError("N", f"expected n >= 1 and an even N >= 4, got n={n}, N={N}")
        import jax

        jax.config.update("jax_enable_x64", True)
        import jax.numpy as jnp

        self.n, self.N = n, N
        self.g0 = np.eye(n) if g0 is None else np.asarray(g0, dtype=complex)
        self.kappa = float(np.linalg.det(self.g0).real)
        k = np.fft.fftfreq(N, 1.0 / N)
        k[np.abs(k) == N // 2] = 0.0  # Nyquist: zero, so derivatives are exactly skew
        grids = np.meshgrid(*([k] * (2 * n)), indexing="ij")
        kx, ky = grids[:n], grids[n:]
        self._mz = [jnp.asarray(np.pi * (1j * kx[a] + ky[a])) for a in range(n)]
        self._mzb = [jnp.asarray(np.pi * (1j * kx[a] - ky[a])) for a in range(n)]
        self._jnp = jnp
        x = np.arange(N) / N
        self.points = np.meshgrid(*([x] * (2 * n)), indexing="ij")

    def derivatives(self, f, alphas):
        """``{alpha: ∂^alpha f}`` of a periodic grid function (spectral, complex arrays)."""
        jnp = self._jnp
        n = self.n
        fh = jnp.fft.fftn(f)
        out = {}
        for alpha in alphas:
            m = 1.0
            for a in range(n):
                m = m * self._mz[a] ** alpha[a] * self._mzb[a] ** alpha[n + a]
            out[alpha] = jnp.fft.ifftn(m * fh)
        return out

    def jets(self, phi, alphas):
        """``{alpha: ∂^alpha u}`` for ``u = K_0 + φ`` (only orders >= 2 are meaningful:
        lower jets of the non-periodic K_0 are replaced by those of φ; the kernels of
        this module never read them, see tests)."""
        n = self.n
        out = self.derivatives(phi, alphas)
        for alpha, val in out.items():
            if sum(alpha) == 2:
                hol = [a for a in range(n) if alpha[a]]
                anti = [b for b in range(n) if alpha[n + b]]
                if len(hol) == 1 and len(anti) == 1:
                    val = val + self.g0[hol[0], anti[0]]
            out[alpha] = val
        return out

    def integrate(self, f):
        """``∫ f d^{2n}x`` (area 1): the grid mean (spectrally accurate for smooth f)."""
        return self._jnp.mean(f)

    def random_phi(self, seed: int, size: float = 0.3, kmax: int = 2):
        """A real, band-limited random φ: Fourier modes ``|k_i| <= kmax`` with normal
        coefficients, scaled so that ``max |∂_a∂̄_b φ| = size`` (``size < min eig g0``
        keeps ``g0 + ∂∂̄φ`` positive definite in complex dimension 1)."""
        rng = np.random.default_rng(seed)
        phi = np.zeros((self.N,) * (2 * self.n))
        ks = range(-kmax, kmax + 1)
        for kv in itertools.product(ks, repeat=2 * self.n):
            if not any(kv):
                continue
            c, s = rng.normal(size=2)
            arg = sum(2 * np.pi * kk * p for kk, p in zip(kv, self.points, strict=True))
            phi = phi + c * np.cos(arg) + s * np.sin(arg)
        n = self.n
        mixed = [tuple(int(i == a) for i in range(n)) + tuple(int(i == b) for i in range(n))
                 for a in range(n) for b in range(n)]
        scale = max(float(np.max(np.abs(np.asarray(v))))
                    for v in self.derivatives(self._jnp.asarray(phi), mixed).values())
        return self._jnp.asarray(phi * (size / scale))


class TorusFunctional:
    """A derived Kähler functional on a :class:`FlatTorus`: value, variation, flow velocities."""

    def __init__(self, variation, torus: FlatTorus):
        if variation.geo.n != torus.n:
            raise InvalidInputError("torus", f"complex dimension {torus.n} does not match the "
                                    f"variation's {variation.geo.n}")
        geo = variation.geo
        self.torus = torus
        self.variation = variation
        self._L = compile_potential_kernel(geo, variation.density)
        self._E = compile_potential_kernel(geo, variation.euler)
        self._v = compile_potential_kernel(geo, variation.l2_velocity)
        self._p = (compile_potential_kernel(geo, variation.paper_velocity)
                   if variation.paper_velocity is not None else None)
        self._eta = compile_potential_kernel(geo, geo.eta)
        self.alphas = sorted(set(self._L.alphas) | set(self._E.alphas) | set(self._v.alphas)
                             | set(self._p.alphas if self._p else []) | set(self._eta.alphas))

    def _jets(self, phi):
        return self.torus.jets(phi, self.alphas)

    def value(self, phi):
        """The discretised functional ``Σ ℒ / N^{2n}``."""
        return self.torus.integrate(self._L(self._jets(phi), self.torus.kappa)).real

    def euler(self, phi):
        """``E_φ`` on the grid: ``δE ≈ ∫ E_φ δφ``."""
        return self._E(self._jets(phi), self.torus.kappa).real

    def velocity(self, phi, kind: str = "paper"):
        """``∂_t φ``: ``"l2"`` (−E_φ/ρ) or ``"paper"`` (the corrected paper flow)."""
        k = self._v if kind == "l2" else self._p
        if k is None:
            raise InvalidInputError("kind", f"{self.variation.functional.name} has no paper flow")
        return k(self._jets(phi), self.torus.kappa).real

    def eta(self, phi):
        return self._eta(self._jets(phi), self.torus.kappa).real

    def directional_fd(self, phi, psi, eps: float = 1e-5):
        """Central finite difference ``(E[φ + εψ] − E[φ − εψ]) / 2ε`` of the discretised functional."""
        return (self.value(phi + eps * psi) - self.value(phi - eps * psi)) / (2 * eps)

    def pairing(self, phi, psi):
        """``∫ E_φ ψ`` (the derived first variation along ψ)."""
        return self.torus.integrate(self.euler(phi) * psi)
