"""The manifolds offered by name (the command line's ``--manifold``) with their
resolution, default time step and initial metrics, checked before any work.

* ``torus2``, ``torus3``: :class:`~metricflow.manifolds.Torus` with ``n`` points per
  direction (default 32 and 16); initial metrics ``flat``, ``bumpy`` (:mod:`metricflow.flows.torus`);
* ``sphere2``: :class:`~metricflow.manifolds.Sphere` of band limit ``lmax``; ``round``,
  ``bumpy`` (:mod:`metricflow.flows.sphere`);
* ``quintic``, ``quartic-k3``, ``cubic-curve``: :class:`~metricflow.manifolds.PointCloud` of
  ``n_points`` Shiffman–Zelditch points drawn with ``seed``; ``fs`` (:mod:`metricflow.flows.pointcloud`).

Default time steps: 2e-3 on the grids (the explicit stability of the Ricci flows at the
default resolutions, docs/flows.md), 0.1 on the point clouds: the σ-flow's velocity, the
FS-natural gradient g_FS (−δσ/δg) g_FS, is independent of N, and at dt = 0.1 σ decreases at
every record over 50 RK4 steps on the quintic (0.375 → 0.049 measured at N = 2000, seed 0;
→ 0.0038 at dt = 0.2). (Until the velocity was made the natural gradient, the plain −δσ/δg
took 0.01 for the same curve, its time scale ~10 times shorter: tr(g_FS⁻²)/k ≈ 10.)
"""

from __future__ import annotations

from metricflow.errors import InvalidInputError
from metricflow.manifolds.pointcloud import BUILTIN_CLOUDS, MAX_POINTS

GRIDS = ("torus2", "torus3", "sphere2")
MANIFOLDS = GRIDS + tuple(BUILTIN_CLOUDS)
INITS = {"torus2": ("flat", "bumpy"), "torus3": ("flat", "bumpy"), "sphere2": ("round", "bumpy"),
         **{name: ("fs",) for name in BUILTIN_CLOUDS}}

#: refuse a grid whose state, jets and integrator stages would need more than this (bytes)
MAX_MEMORY = 8 * 2**30


def default_dt(manifold: str) -> float:
    return 0.1 if manifold in BUILTIN_CLOUDS else 2e-3


def default_init(manifold: str) -> str:
    return "fs" if manifold in BUILTIN_CLOUDS else "bumpy"


def grid_memory(dim: int, n: int) -> int:
    """Bytes of a Ricci-flow step on ``T^dim`` with ``n`` points per direction: the metric
    and its jets (d²(1 + d + d²) float64 per point) times ~8 copies (RK4 stages, FFT buffers)."""
    return 8 * n**dim * dim * dim * (1 + dim + dim * dim) * 8


def check_manifold(manifold: str, *, n=None, lmax=16, n_points=2000, init=None) -> None:
    """Refuse an unknown manifold, an out-of-range resolution (with the memory estimate)
    or an initial metric it does not offer, before anything is built."""
    if manifold not in MANIFOLDS:
        raise InvalidInputError("manifold", f"expected one of {list(MANIFOLDS)}, got {manifold!r}")
    if manifold.startswith("torus") and n is not None:
        dim = int(manifold[-1])
        if isinstance(n, bool) or not isinstance(n, int) or n < 4 or n % 2:
            raise InvalidInputError("n", f"expected an even number of grid points >= 4, got {n!r}")
        need = grid_memory(dim, n)
        if need > MAX_MEMORY:
            raise InvalidInputError("n", f"{n}^{dim} grid points need about {need / 2**30:.3g} GiB "
                                    f"(limit {MAX_MEMORY / 2**30:g} GiB); use a smaller --n")
    if manifold == "sphere2":
        from metricflow.manifolds.sphere import Sphere

        Sphere(lmax)   # validates lmax (cheap: nothing is tabulated before use)
    if manifold in BUILTIN_CLOUDS and (isinstance(n_points, bool) or not isinstance(n_points, int)
                                       or not 2 <= n_points <= MAX_POINTS):
        raise InvalidInputError("n_points", f"expected 2 <= n_points <= {MAX_POINTS} (the Gaussian kernel costs "
                                f"N² FS distances per velocity), got {n_points!r}")
    if init is not None and init not in INITS[manifold]:
        raise InvalidInputError("init", f"expected one of {INITS[manifold]} on {manifold}, got {init!r}")


def build(manifold: str, *, n=None, lmax=16, n_points=2000, seed=0):
    """The :class:`~metricflow.manifolds.Manifold` named ``manifold`` (see the module docstring)."""
    check_manifold(manifold, n=n, lmax=lmax, n_points=n_points)
    if manifold == "sphere2":
        from metricflow.manifolds import Sphere

        return Sphere(lmax)
    if manifold in BUILTIN_CLOUDS:
        from metricflow.manifolds import PointCloud

        return PointCloud.sample(BUILTIN_CLOUDS[manifold], n=n_points, seed=seed, name=manifold)
    from metricflow.manifolds import Torus

    return Torus(int(manifold[-1]), n if n is not None else (32 if manifold == "torus2" else 16))


def _module(manifold):
    from metricflow.manifolds import PointCloud, Sphere, Torus

    for cls, name in ((Torus, "torus"), (Sphere, "sphere"), (PointCloud, "pointcloud")):
        if isinstance(manifold, cls):
            import importlib

            return importlib.import_module(f"metricflow.flows.{name}")
    raise InvalidInputError("manifold", f"no flows for {type(manifold).__name__}")


def initial_metric(manifold, init: str, seed: int = 0):
    """The named initial metric representation on ``manifold`` (the metric on a torus, the
    conformal factor on S², the metric values on a point cloud)."""
    return _module(manifold).initial_metric(manifold, init, seed=seed)


def curvature_field(manifold, state):
    """A scalar field for plots of a state's main field: R on the tori and S², and on a
    point cloud η = det g/(κ|Ω|²) (1 for the Ricci-flat metric, eq. B.11)."""
    return _module(manifold).curvature_field(manifold, state)
