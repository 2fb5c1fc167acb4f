"""Last-layer cos-nets and their Gaussian frozen NTKs (eqs. 2.32–2.37, corrected; docs/ntk.md).

    φ(x) = A/√N Σ_k a_k cos(w_k·x + b_k),   a_k ~ N(0, σ_a²),   b_k ~ U(−π, π),

with only the ``a_k`` trained (eq. 2.33), so that the empirical NTK
``Θ_N(x, x') = A²/N Σ_k cos(w_k·x + b_k) cos(w_k·x' + b_k)`` is frozen at every width and
tends to ``Θ̄ = A²/2 E_w[cos(w·(x − x'))]`` like N^{−1/2}. Two frequency laws:

* :func:`cosnet` — continuous frequencies ``w ~ N(0, σ_w²/d I_d)`` on R^d: Θ̄ is the
  normalised Gaussian of width ``σ = √d/σ_w`` (eqs. 2.35–2.37,
  :func:`metricflow.kernels.gaussian.gaussian_ntk`);
* :func:`torus_cosnet` — *integer* frequencies drawn from the discrete Gaussian
  ``P(w) ∝ e^{−σ²|w|²/2}`` on Z^d (:func:`frequency_grid`), so that φ is periodic on the
  torus T^d = (R/2πZ)^d, and ``A² = 2Z/(2π)^d``, ``Z = Σ_w e^{−σ²|w|²/2}``: by Poisson
  summation Θ̄ is the normalised *periodised* Gaussian of width σ,
  ``Θ̄(x, x') = (2π)^{−d} Σ_w e^{−σ²|w|²/2} cos(w·(x − x'))`` (the Perelman realization,
  section 2.4; docs/flows.md).

On a grid the integer-frequency cos-net has a per-frequency form, exact and cheap for
any width: with ``C_w = Σ_{k: w_k = w} a_k e^{ib_k}``, ``φ = A/√N Re Σ_w C_w e^{iw·x}``
(one inverse FFT), and the neuron draws enter only through the counts ``n_w`` and the
phase sums ``S_w = Σ_{k: w_k = w} e^{2ib_k}`` (:func:`neuron_sums`). Gradient ascent on
``∫ ξ φ`` is ``C_w += η A/(2√N) (S_w ĝ_w + n_w conj ĝ_w)`` with ``ĝ_w = h Σ_x ξ(x) e^{iw·x}``
(:func:`frequency_form`, :func:`frequency_maps`). The grid must resolve the frequencies
up to ``⌈7/σ⌉`` without aliasing (:func:`grid_for_sigma`, :func:`check_grid`).
"""

from __future__ import annotations

import functools
import math

import numpy as np

from metricflow.errors import InvalidInputError
from metricflow.models.base import Model, check_width

#: frequencies |w_k| ≤ ⌈CUTOFF/σ⌉ per axis: the discrete Gaussian's tail beyond is below e^{−24.5}
CUTOFF = 7.0


def _check_positive(name, value) -> float:
    try:
        ok = bool(np.isfinite(value) and value > 0) and not isinstance(value, bool)
    except TypeError:
        ok = False
    if not ok:
        raise InvalidInputError(name, f"expected a positive number, got {value!r}")
    return float(value)


# ------------------------------------------------------------------ the frequency law


def frequency_grid(dim: int, sigma: float):
    """Integer frequencies m ∈ [−M, M]^d (M = ⌈7/σ⌉) with their probabilities
    ``e^{−σ²|m|²/2} / Σ`` and the normalisation ``Z = Σ_m e^{−σ²|m|²/2}``; returns
    ``(w, probs, Z, M)``."""
    m_max = int(np.ceil(CUTOFF / sigma))
    m = np.arange(-m_max, m_max + 1)
    p1 = np.exp(-0.5 * sigma**2 * m**2)
    grids = np.meshgrid(*([m] * dim), indexing="ij")
    w = np.stack([gr.ravel() for gr in grids], axis=-1)
    p = np.exp(-0.5 * sigma**2 * np.sum(w**2, axis=-1))
    return w, p / p.sum(), p1.sum() ** dim, m_max


def min_grid(sigma: float) -> int:
    """Fewest grid points per direction that resolve the frequencies of σ without aliasing."""
    return 2 * int(np.ceil(CUTOFF / _check_positive("sigma", sigma))) + 8


def grid_for_sigma(sigma: float, multiple: int = 8) -> int:
    """The smallest multiple of ``multiple`` that is at least :func:`min_grid` (σ): the
    grid of a cos-net of width σ (the network training uses multiples of 8, the
    realization check multiples of 16)."""
    return int(multiple * np.ceil(min_grid(sigma) / multiple))


def check_grid(n: int, sigma: float) -> None:
    """Refuse (on ``n``) a grid of ``n`` points per direction that aliases the
    frequencies of σ."""
    need = min_grid(sigma)
    if need > n:
        raise InvalidInputError("n", f"a grid of {n} points per direction aliases the cos-net frequencies "
                                f"of σ = {sigma}; use at least {need} (grid_for_sigma)")


def neuron_sums(rng, width: int, probs, chunk: int = 5_000_000):
    """For ``width`` neurons with iid frequencies (probabilities ``probs``) and phases
    b ~ U(−π, π) drawn from the numpy generator ``rng``: the count n_w and
    ``S_w = Σ_{k: w_k = w} e^{2 i b_k}`` of each frequency. The counts are one multinomial
    draw; the phases are drawn in chunks (exactly the distribution of drawing every
    neuron, in O(chunk) memory)."""
    counts = rng.multinomial(width, probs)
    S = np.zeros(len(probs), dtype=complex)
    nz = np.flatnonzero(counts)
    start = 0
    while start < len(nz):
        stop, total = start, 0
        while stop < len(nz) and (total + counts[nz[stop]] <= chunk or stop == start):
            total += counts[nz[stop]]
            stop += 1
        block = nz[start:stop]
        phases = np.exp(2j * rng.uniform(-np.pi, np.pi, size=total))
        offsets = np.concatenate([[0], np.cumsum(counts[block])[:-1]])
        S[block] = np.add.reduceat(phases, offsets)
        start = stop
    return counts, S


# ------------------------------------------------------------------ the (init, apply, kernel) triples


def apply(params, x, frozen):
    """``φ(x) = A/√N cos(x·wᵀ + b) a``: (n_out,) at a point (d,), (n, n_out) on a batch."""
    import jax.numpy as jnp

    feats = jnp.cos(x @ frozen["w"].T + frozen["b"])
    return frozen["A"] / jnp.sqrt(params["a"].shape[0]) * (feats @ params["a"])


def draw(key, width: int, n_out: int, w_draw, b_draw, sigma_a: float = 1.0):
    """The last-layer random-feature draws shared by the cos-net and the Gauss-net:
    ``{"a": (width, n_out)}`` trained and ``{"w", "b"}`` frozen, with
    ``w = w_draw(key_w, width)`` and ``b = b_draw(key_b, width)`` (float64)."""
    import jax
    import jax.numpy as jnp

    from metricflow._x64 import x64

    width, n_out = check_width(width), check_width(n_out, "n_out")
    with x64():
        ka, kw, kb = jax.random.split(key, 3)
        a = sigma_a * jax.random.normal(ka, (width, n_out), jnp.float64)
        return {"a": a}, {"w": w_draw(kw, width), "b": b_draw(kb, width)}


def _uniform_phases(key, width):
    import jax
    import jax.numpy as jnp

    return jax.random.uniform(key, (width,), jnp.float64, -jnp.pi, jnp.pi)


@functools.lru_cache(maxsize=32)
def cosnet(sigma_w: float = 1.0, sigma_a: float = 1.0) -> Model:
    """The cos-net on R^d with frequencies ``w ~ N(0, σ_w²/d I_d)`` and the normalising
    ``A(d, σ_w)`` of eq. 2.36 (corrected): its kernel is the normalised Gaussian of width
    ``σ = √d/σ_w`` (eq. 2.35–2.37)."""
    from metricflow.kernels import gaussian

    sigma_w = _check_positive("sigma_w", sigma_w)

    def init(key, d_in: int, width: int, n_out: int = 1, dtype=None):
        import jax
        import jax.numpy as jnp

        A = gaussian.constants("cosnet", d_in, sigma_w)["A"]
        params, frozen = draw(key, width, n_out, lambda k, n: sigma_w / math.sqrt(d_in) * jax.random.normal(
            k, (n, d_in), jnp.float64), _uniform_phases, sigma_a)
        return params, {**frozen, "A": A}

    def kernel(x1, x2=None):
        return gaussian.gaussian_ntk(x1, x2, arch="cosnet", sigma_w=sigma_w)

    return Model("cosnet", init, apply, kernel, (("sigma_w", sigma_w), ("sigma_a", sigma_a)))


def torus_normalisation(dim: int, sigma: float) -> float:
    """``A = √(2Z/(2π)^d)``: the integer-frequency cos-net's NTK integrates to 1 over T^d."""
    Z = frequency_grid(dim, sigma)[2]
    return float(np.sqrt(2.0 * Z / (2 * np.pi) ** dim))


def periodic_gaussian(x1, x2=None, *, sigma: float) -> np.ndarray:
    """``(2π)^{−d} Σ_w e^{−σ²|w|²/2} cos(w·(x − x'))`` on the frequency grid: the normalised
    periodised Gaussian of width σ on T^d (Poisson summation), (n1, n2)."""
    a = np.atleast_2d(np.asarray(x1, dtype=np.float64))
    b = a if x2 is None else np.atleast_2d(np.asarray(x2, dtype=np.float64))
    d = a.shape[1]
    w, probs, Z, _ = frequency_grid(d, _check_positive("sigma", sigma))
    weight = probs * Z / (2 * np.pi) ** d
    pa, pb = a @ w.T, b @ w.T
    return (np.cos(pa) * weight) @ np.cos(pb).T + (np.sin(pa) * weight) @ np.sin(pb).T


@functools.lru_cache(maxsize=32)
def torus_cosnet(sigma: float = 0.5, sigma_a: float = 1.0) -> Model:
    """The cos-net on the torus: integer frequencies of width σ (:func:`frequency_grid`),
    ``A = √(2Z/(2π)^d)``; its kernel is the periodised Gaussian (:func:`periodic_gaussian`)."""
    sigma = _check_positive("sigma", sigma)

    def init(key, d_in: int, width: int, n_out: int = 1, dtype=None):
        import jax
        import jax.numpy as jnp

        w, probs, _, _ = frequency_grid(d_in, sigma)

        def w_draw(k, n):
            return jnp.asarray(w, jnp.float64)[jax.random.choice(k, len(probs), (n,), p=jnp.asarray(probs))]

        params, frozen = draw(key, width, n_out, w_draw, _uniform_phases, sigma_a)
        return params, {**frozen, "A": torus_normalisation(d_in, sigma)}

    return Model("torus_cosnet", init, apply, functools.partial(periodic_gaussian, sigma=sigma),
                 (("sigma", sigma), ("sigma_a", sigma_a)))


# ------------------------------------------------------------------ the per-frequency form on a grid


def frequency_form(manifold, width: int, sigma: float, seed: int, n_nets: int):
    """``n_nets`` integer-frequency cos-nets of ``width`` neurons on the grid of
    ``manifold`` (a :class:`~metricflow.manifolds.torus.Torus`) in per-frequency form
    (module docstring): ``(C0, aux, info)`` with the state ``C0 = 0`` (n_nets, n_freq)
    complex (the change of the network since initialisation), the fixed arrays ``aux``
    of :func:`frequency_maps` and ``info``. The neurons are drawn by
    :func:`neuron_sums` from ``numpy.random.default_rng(seed)``, network after network
    (the draws of :func:`metricflow.flows.realization.realized_velocity` for the same seed)."""
    import jax.numpy as jnp

    d, n = manifold.dim, manifold.n
    check_grid(n, sigma)
    rng = np.random.default_rng(seed)
    w, probs, _, _ = frequency_grid(d, sigma)
    A = torus_normalisation(d, sigma)
    counts, S = [], []
    for _ in range(n_nets):
        c_, s_ = neuron_sums(rng, int(width), probs)
        counts.append(c_)
        S.append(s_)
    aux = {"counts": jnp.asarray(np.array(counts), dtype=float), "S": jnp.asarray(np.array(S)),
           "plus": tuple(jnp.asarray(w[:, k] % n) for k in range(d)),
           "minus": tuple(jnp.asarray((-w[:, k]) % n) for k in range(d)),
           "pref": jnp.asarray(A / np.sqrt(width))}
    info = {"frequencies_with_neurons": int(np.count_nonzero(np.sum(counts, axis=0))), "A": float(A)}
    return jnp.zeros((n_nets, len(w)), dtype=complex), aux, info


def frequency_maps(manifold, n_nets: int):
    """``(delta_phi, grad)`` of the per-frequency cos-nets: ``delta_phi(C, aux)`` the change
    of the outputs on the grid (grid + (n_nets,)), and ``grad(C, aux, ξ)`` the gradient of
    ``Σ_x h ξ_P(x) φ_P(x)`` with respect to the state (the ascent direction for the
    cotangent ξ, grid + (n_nets,)). JAX-traceable."""
    import jax.numpy as jnp

    d, n = manifold.dim, manifold.n
    h = manifold.cell_volume
    axes = tuple(range(d))

    def delta_phi(C, aux):
        out = []
        for p in range(n_nets):
            X = jnp.zeros(manifold.shape, dtype=C.dtype).at[aux["plus"]].add(C[p])
            out.append(jnp.real(jnp.fft.ifftn(X, axes=axes)) * n**d * aux["pref"])
        return jnp.stack(out, axis=-1)

    def grad(C, aux, xi):
        ghat = jnp.stack([jnp.fft.fftn(xi[..., p])[aux["minus"]] for p in range(n_nets)]) * h  # Σ h ξ e^{iw·x}
        return 0.5 * aux["pref"] * (aux["S"] * ghat + aux["counts"] * jnp.conj(ghat))

    return delta_phi, grad
