"""The one registry of functionals: Riemannian (:mod:`metricflow.symbolic.functionals`,
``S[g, f] = ∫ L dμ``, eq. 2.14 and 2.41) and Kähler (:mod:`metricflow.symbolic.kahler_functionals`,
Appendix B, B.7–B.21).

Each module lists its built-ins in a tuple ``BUILTIN``; a new functional is one entry
there (docs/extending.md, "Add a functional"). Everything that offers a choice of
functional — ``metricflow derive variation``, ``metricflow derive functional``,
``flow run --flow functional:NAME``, :func:`~metricflow.symbolic.functionals.derive_variation`,
:func:`~metricflow.symbolic.kahler_functionals.derive_potential_variation` — reads its
names and looks them up here, so the registry and the choices cannot drift apart. A
functional object of your own (``Functional``, ``KahlerFunctional``) is accepted
wherever a name is.
"""

from __future__ import annotations

import importlib

from metricflow.errors import InvalidInputError

#: kind -> (module, class name, what a user calls it)
KINDS = {
    "riemannian": ("metricflow.symbolic.functionals", "Functional", "functional"),
    "kahler": ("metricflow.symbolic.kahler_functionals", "KahlerFunctional", "Kähler functional"),
}


def _kind(kind: str):
    if kind not in KINDS:
        raise InvalidInputError("kind", f"expected one of {sorted(KINDS)}, got {kind!r}")
    module, cls, label = KINDS[kind]
    mod = importlib.import_module(module)
    return mod, getattr(mod, cls), label


def functionals(kind: str) -> dict:
    """The built-in functionals of ``kind`` (``"riemannian"`` or ``"kahler"``) by name."""
    mod, _, _ = _kind(kind)
    out = {}
    for fn in mod.BUILTIN:
        if fn.name in out:  # pragma: no cover - guarded by tests/symbolic/test_registry.py
            raise RuntimeError(f"two built-in functionals named {fn.name!r}")
        out[fn.name] = fn
    return out


def names(kind: str) -> tuple[str, ...]:
    """The built-in names of ``kind``, in registry order (for the command line's choices)."""
    return tuple(functionals(kind))


def lookup(functional, kind: str, argument: str = "functional"):
    """A built-in name, or a functional object of the right class -> the functional.

    Unknown names and objects of another kind raise :class:`InvalidInputError` naming
    ``argument`` and listing the known names."""
    _, cls, label = _kind(kind)
    if isinstance(functional, cls):
        return functional
    if isinstance(functional, str):
        known = functionals(kind)
        if functional not in known:
            raise InvalidInputError(argument, f"unknown {label} {functional!r}; known: {sorted(known)}")
        return known[functional]
    raise InvalidInputError(argument, f"expected a name or a {cls.__name__} ({label}), got {type(functional).__name__}")
