"""The registry of flow systems: which flows each kind of manifold offers.

``@register(ManifoldClass, "name")`` registers a builder ``builder(manifold, kernel,
functional) -> FlowSystem`` for the flow ``name`` (``functional`` is the resolved
:class:`~metricflow.symbolic.functionals.Functional` for ``functional:NAME``, else None);
:func:`flow_system` looks the flow up along the manifold's MRO and refuses an unknown
combination, listing what that manifold offers. Builders live in the manifold's flow
module (:mod:`metricflow.flows.torus`, :mod:`~metricflow.flows.sphere`,
:mod:`~metricflow.flows.pointcloud`, :mod:`~metricflow.flows.kahler` for the complex torus),
imported here on first use.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from metricflow.errors import InvalidInputError
from metricflow.manifolds.base import Manifold

#: flows whose velocity is computed from jets (derivatives) of the metric
JET_FLOWS = ("ricci", "perelman", "functional")

_BUILDERS: dict[tuple[type, str], Callable] = {}
_RESOLVERS: dict[tuple[type, str], Callable] = {}

#: the modules whose import registers the built-in flow systems
MODULES = ("metricflow.flows.torus", "metricflow.flows.sphere", "metricflow.flows.pointcloud",
           "metricflow.flows.kahler", "metricflow.flows.algebraic")


def register(manifold_class: type, name: str, resolve: Callable | None = None):
    """Decorator: ``builder`` is the flow ``name`` (``ricci``, ``functional``…) on
    ``manifold_class`` and its subclasses. For ``name="functional"``, ``resolve(name or
    Functional)`` returns the functional from the registry that manifold's functionals
    live in (default: the Riemannian one, :func:`metricflow.flows.functional.resolve`;
    a Kähler manifold passes the Kähler registry's lookup)."""
    def decorate(builder):
        _BUILDERS[(manifold_class, name)] = builder
        if resolve is not None:
            _RESOLVERS[(manifold_class, name)] = resolve
        return builder

    return decorate


def _load() -> None:
    for module in MODULES:
        importlib.import_module(module)


def offered(manifold_class: type) -> list[str]:
    """The flows registered for ``manifold_class`` (``functional`` as ``functional:NAME``)."""
    _load()
    names = {name for cls in manifold_class.__mro__ for (c, name) in _BUILDERS if c is cls}
    return sorted(f"{n}:NAME" if n == "functional" else n for n in names)


def lookup(manifold_class: type, flow: str, name: str | None = None) -> Callable:
    """The builder of ``flow`` (``functional:NAME`` looks up ``functional``) on ``manifold_class``
    (``name``: the manifold's name, for the error message)."""
    _load()
    key = flow.partition(":")[0] if flow.startswith("functional:") else flow
    for cls in manifold_class.__mro__:
        if (cls, key) in _BUILDERS:
            return _BUILDERS[(cls, key)]
    where = f"{name} ({manifold_class.__name__})" if name else manifold_class.__name__
    why = ""
    if key in JET_FLOWS and getattr(manifold_class, "jets", None) is Manifold.jets:
        why = f" (it needs jets of the metric, and {manifold_class.no_jets_reason})"
    raise InvalidInputError("flow", f"the flow {flow!r} is not offered on {where}{why}; it offers "
                            f"{', '.join(offered(manifold_class)) or 'no flow'}")


def resolver(manifold_class: type) -> Callable:
    """The functional resolver of ``manifold_class``'s ``functional`` flow (see :func:`register`)."""
    for cls in manifold_class.__mro__:
        if (cls, "functional") in _RESOLVERS:
            return _RESOLVERS[(cls, "functional")]
    from metricflow.flows.functional import resolve

    return resolve
