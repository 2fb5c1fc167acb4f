"""Traced programs kept between runs: :mod:`jax.export` artifacts on disk.

JAX's persistent compilation cache keeps XLA's compiled code, but every new process still
traces and lowers each program before it can look the code up; for a short flow on T²
that is most of a warm run (the RK4 step alone traces the compiled curvature kernels and
the dilaton solve four times). Inside :func:`stored` (the CLI enters it when the
compilation cache is on), a function made with :func:`jit` is exported once, the
serialized StableHLO is kept in the store folder, and later processes deserialize it and
call it: no tracing, and the compilation is found in the persistent cache.

A stored program is found by a sha256 of: the caller's ``key`` (which must determine the
function given the shapes of its arguments: the manifold, flow, kernel, step sizes…), the
values of the static arguments, the pytree structure, shapes and dtypes of the others,
the x64 switch, the backend, the JAX and jaxlib versions, and the source text of the
metricflow package (any edit gives new programs). Outside :func:`stored`, and when
called under a transformation, :func:`jit` is exactly :func:`jax.jit`. A store that
cannot be read or written is skipped silently: it only ever saves time.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import os
from functools import cache, partial
from pathlib import Path

_UNSTORABLE = object()
_STORE: contextvars.ContextVar[Path | None] = contextvars.ContextVar("metricflow_program_store", default=None)
SUFFIX = ".jaxexport"


@contextlib.contextmanager
def stored(directory):
    """Within this context, :func:`jit` programs are kept in and loaded from ``directory``."""
    token = _STORE.set(None if directory is None else Path(directory))
    try:
        yield
    finally:
        _STORE.reset(token)


@cache
def source_digest() -> str:
    """sha256 of every ``.py`` file of the package (names and contents)."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _environment() -> str:
    import jax
    import jaxlib

    device = jax.devices()[0]
    return "|".join([jax.__version__, jaxlib.__version__, device.platform, getattr(device, "device_kind", ""),
                     str(jax.config.jax_enable_x64), source_digest()])


def jit(fn, *, key: str | None, static_argnums: tuple[int, ...] = ()):
    """``jax.jit(fn, static_argnums=...)``, kept on disk inside :func:`stored`.

    ``key`` names the program and everything it closes over (``None``: never stored); the
    static arguments enter the lookup through their ``repr`` (so they must have a
    faithful one, as the manifolds' dataclasses do)."""
    import jax

    plain = jax.jit(fn, static_argnums=static_argnums)
    loaded: dict[str, object] = {}

    def call(*args):
        store = _STORE.get()
        if store is None or key is None:
            return plain(*args)
        statics = tuple(args[i] for i in static_argnums)
        dynamic = tuple(a for i, a in enumerate(args) if i not in static_argnums)
        leaves, tree = jax.tree_util.tree_flatten(dynamic)
        if any(isinstance(leaf, jax.core.Tracer) for leaf in leaves):
            return plain(*args)
        avals = tuple((tuple(jax.numpy.shape(x)), str(jax.numpy.result_type(x))) for x in leaves)
        ident = "\n".join([key, repr(statics), str(tree), repr(avals), _environment()])
        digest = hashlib.sha256(ident.encode()).hexdigest()
        program = loaded.get(digest)
        if program is None:
            program = loaded[digest] = _load_or_export(store / f"{digest}{SUFFIX}", fn, args, static_argnums)
        if program is _UNSTORABLE:
            return plain(*args)
        return program(*dynamic)

    call.__wrapped__ = fn
    call.__doc__ = fn.__doc__
    call.lower = plain.lower          # inspection (``.lower(...).as_text()``) as for jax.jit
    return call


def _load_or_export(path: Path, fn, args, static_argnums):
    import jax
    from jax import export

    try:
        exported = export.deserialize(bytearray(path.read_bytes()))
    except Exception:  # absent, truncated or from another JAX: export afresh
        exported = None
    if exported is None:
        dynamic_positions = [i for i in range(len(args)) if i not in static_argnums]

        def bound(*dynamic):
            full = list(args)
            for i, value in zip(dynamic_positions, dynamic, strict=True):
                full[i] = value
            return fn(*full)

        dynamic = tuple(args[i] for i in dynamic_positions)
        exported = export.export(jax.jit(bound))(*jax.tree_util.tree_map(_spec, dynamic))
        try:
            blob = exported.serialize()
        except Exception:  # a program JAX cannot serialize (host callbacks…): run it plainly
            return _UNSTORABLE
        _write(path, blob)
    return jax.jit(partial(_call, exported))


def _call(exported, *dynamic):
    return exported.call(*dynamic)


def _spec(x):
    import jax

    return jax.ShapeDtypeStruct(jax.numpy.shape(x), jax.numpy.result_type(x))


def _write(path: Path, blob) -> None:
    """Atomic write; a store that cannot be written is skipped (it only saves time)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(bytes(blob))
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
