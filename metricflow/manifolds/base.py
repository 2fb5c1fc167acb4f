"""The abstract :class:`Manifold`: where a flow lives.

A manifold provides points with quadrature weights (``integrate``), the reference
metric and its volume density at the points (the fixed measure dμ of section 2.1
and the metric that flows are compared with), the jets of a field (the metric and
its derivatives at the points, which the compiled kernels of
:mod:`metricflow.symbolic.codegen` evaluate), and ``settings()`` — the JSON record
of what identifies it (name and resolution) that every checkpoint stores.

Implementations: :class:`~metricflow.manifolds.torus.Torus` (grid, spectral jets),
:class:`~metricflow.manifolds.sphere.Sphere` (spherical harmonics; its flows evolve a
conformal factor and use the spectral Laplacian, not jets), and
:class:`~metricflow.manifolds.pointcloud.PointCloud` (Monte Carlo points of a
hypersurface; a field given by its *values* at points has no derivatives, so models
supply their derivatives by autodiff). A new manifold is one subclass in one module
plus its flow systems (:func:`metricflow.flows.registry.register`); docs/extending.md
walks through how the point cloud was added.
"""

from __future__ import annotations

import abc

import numpy as np

from metricflow.errors import InvalidInputError


class Manifold(abc.ABC):
    """What the flow engine needs of a manifold. Subclasses are immutable (frozen
    dataclasses), so a manifold can be a static argument of a jitted function."""

    #: why :meth:`jets` is not available (subclasses with jets override :meth:`jets`)
    no_jets_reason = "it has no derivative operator for fields"

    @property
    @abc.abstractmethod
    def name(self) -> str:
        """The name the command line uses (``torus2``, ``sphere2``, ``quintic``…)."""

    @property
    @abc.abstractmethod
    def shape(self) -> tuple[int, ...]:
        """Shape of a scalar field on the points (grid axes, or ``(N,)`` on a point cloud)."""

    @property
    def npoints(self) -> int:
        """Number of points."""
        return int(np.prod(self.shape))

    @property
    @abc.abstractmethod
    def points(self) -> np.ndarray:
        """The points: grid coordinates, unit vectors in R³, or homogeneous coordinates."""

    @property
    @abc.abstractmethod
    def weights(self) -> np.ndarray:
        """Quadrature weights of :meth:`integrate`, shape :attr:`shape`, all positive."""

    def integrate(self, density):
        """``Σ weights · density`` over the point axes (numpy or JAX; trailing axes kept):
        the quadrature of ``∫ density dμ`` for the measure each subclass documents."""
        if type(density).__module__.startswith("jax"):
            import jax.numpy as xp
        else:
            xp = np
        w = xp.asarray(self.weights)
        extra = density.ndim - w.ndim
        axes = tuple(range(w.ndim))
        return xp.sum(density * w.reshape(w.shape + (1,) * extra), axis=axes)

    def jets(self, field, order: int = 2):
        """``(F, ∂F, ∂²F)`` up to ``order`` at every point (derivative indices last,
        docs/conventions.md). Refused where the manifold has no derivative operator."""
        raise InvalidInputError("field", f"{self.name} offers no jets: {self.no_jets_reason}")

    @abc.abstractmethod
    def reference_metric(self) -> np.ndarray:
        """The reference metric at the points, shape ``shape + (k, k)`` (real symmetric,
        or complex hermitian on a Kähler manifold)."""

    @abc.abstractmethod
    def volume_form(self) -> np.ndarray:
        """The volume density of :meth:`reference_metric` at the points, shape :attr:`shape`."""

    @abc.abstractmethod
    def settings(self) -> dict:
        """JSON dict identifying the manifold and its resolution; the keys are the
        command line's option names (``manifold``, ``n``, ``lmax``, ``n_points``…), so
        that a checkpoint refusing a resume names the option."""
