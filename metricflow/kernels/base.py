"""The abstract :class:`Kernel` of a metric flow, and :func:`parse_kernel`, the one place
where the command line's ``--kernel`` strings become kernel objects.

A flow's velocity is ``∂_t g = Θ · V`` (eq. 2.12): V the local velocity of the loss
(−2 R_ij for the Ricci loss, −δσ/δg for the σ-measure) and Θ the kernel, acting as

    (Θ · V)(x) = ∫ dμ(x') Θ(x, x') V(x')

with the manifold's measure dμ (its ``weights``). Kernels are component-wise (eq. 2.23):
Θ acts on each component of V alike, after V(x') is written in the coordinates of x
(on a point cloud, the chart of x). Kernels:

* :class:`Local` — ``local``: Θ = δ, the σ → 0 limit (eq. 2.31);
* :class:`~metricflow.kernels.gaussian.Gaussian` — ``gaussian:SIGMA``: semi-local (eq. 2.30);
* :class:`~metricflow.kernels.frozen.FrozenNTK` — ``ntk:ACTIVATION[:DEPTH]``: the frozen NTK
  of an MLP (eq. 2.12);
* :class:`~metricflow.kernels.nearest.Nearest` — ``nearest``: the nearest-neighbour (Delta)
  kernel of a point cloud.

A kernel applies itself on each manifold it supports (:meth:`Kernel.operator`) and
refuses the others with an :class:`InvalidInputError` for the argument ``kernel``.
A new kernel is one subclass and one branch of :func:`parse_kernel` (docs/extending.md).
"""

from __future__ import annotations

import abc
import math
from collections.abc import Callable

from metricflow.errors import InvalidInputError

KERNEL_SPECS = ("local", "gaussian:SIGMA", "ntk:ACTIVATION[:DEPTH]", "nearest")


class Kernel(abc.ABC):
    """A kernel Θ of a metric flow. Subclasses are immutable dataclasses."""

    @property
    @abc.abstractmethod
    def spec(self) -> str:
        """The command line's string for this kernel (``parse_kernel(k.spec) == k``)."""

    def settings(self) -> dict:
        """JSON dict identifying the kernel (stored in checkpoints)."""
        return {"kernel": self.spec}

    @abc.abstractmethod
    def operator(self, manifold) -> Callable:
        """The pure, JAX-traceable map ``V ↦ Θ · V`` on the points of ``manifold``
        (V a field of the manifold's state shape). Refuses an unsupported manifold
        with :meth:`refuse`."""

    def refuse(self, manifold, offered: str):
        """The error for a manifold this kernel does not apply itself on."""
        return InvalidInputError("kernel", f"the kernel {self.spec!r} does not apply on {manifold.name} "
                                 f"({type(manifold).__name__}); it is offered on {offered}")


class Local(Kernel):
    """Θ = δ: the local flow, the σ → 0 limit of the semi-local one (eq. 2.31). Every manifold."""

    @property
    def spec(self) -> str:
        return "local"

    def operator(self, manifold) -> Callable:
        return _identity

    def __eq__(self, other):
        return type(other) is Local

    def __hash__(self):
        return hash("local")

    def __repr__(self):
        return "Local()"


def _identity(v):
    return v


def parse_kernel(text) -> Kernel:
    """``local`` | ``gaussian:SIGMA`` | ``ntk:ACTIVATION[:DEPTH]`` | ``nearest`` -> a :class:`Kernel`
    (a :class:`Kernel` is returned as it is). SIGMA must be a finite positive number;
    anything else is an :class:`InvalidInputError` for ``kernel`` (the CLI's --kernel)."""
    if isinstance(text, Kernel):
        return text
    if not isinstance(text, str):
        raise InvalidInputError("kernel", f"expected a kernel such as {', '.join(KERNEL_SPECS)}, got {text!r}")
    name, _, rest = text.partition(":")
    if text == "local":
        return Local()
    if text == "nearest":
        from metricflow.kernels.nearest import Nearest

        return Nearest()
    if name == "gaussian" and rest:
        try:
            sigma = float(rest)
        except ValueError:
            raise InvalidInputError("kernel", f"expected gaussian:SIGMA with a number SIGMA, got {text!r}") from None
        if not (math.isfinite(sigma) and sigma > 0):
            raise InvalidInputError("kernel", f"expected a finite positive width SIGMA in gaussian:SIGMA, got {text!r}")
        from metricflow.kernels.gaussian import Gaussian

        return Gaussian(sigma)
    if name == "ntk":
        from metricflow.kernels.frozen import FrozenNTK

        return FrozenNTK.parse(text)
    raise InvalidInputError("kernel", f"expected one of {', '.join(KERNEL_SPECS)}, got {text!r}")
