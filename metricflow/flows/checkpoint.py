"""One checkpoint format for every flow: fields on a manifold (``run_flow``) and a
network's parameters (the parameter-space training loop) alike.

A checkpoint is one ``.npz`` written atomically (:mod:`metricflow.io`) with

* ``format`` — :data:`FORMAT`;
* ``settings`` — JSON of every setting that determines the trajectory (manifold and its
  resolution, flow, kernel, initial metric and seed, integrator, step, record schedule…).
  A resume whose settings differ is refused, naming the first setting that differs;
* ``progress`` — JSON of where the run stands (the record counter, the history…);
* the state as named arrays ``a:NAME`` (a dict of fields, or the flattened leaves of a
  pytree: :func:`tree_to_arrays` / :func:`tree_from_arrays`).

:func:`load` validates before anything is resumed: the file is readable and complete,
the settings match, every floating-point array is finite (a NaN state is never
"the last good state"), and the counters are in range. The contract is written out in
docs/reliability.md ("Checkpoints").
"""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from metricflow.errors import InvalidInputError
from metricflow.io import save_npz_atomic, to_jsonable

FORMAT = "metricflow.checkpoint/1"
_PREFIX = "a:"


@dataclass(frozen=True)
class Checkpoint:
    """What :func:`load` returns: the saved ``arrays`` (name -> array), the ``progress``
    record (JSON) and the ``settings`` it was written with."""

    arrays: dict
    progress: dict
    settings: dict


def normalise(settings: dict) -> dict:
    """Settings as they read back from JSON (tuples become lists, numpy scalars plain)."""
    return json.loads(json.dumps(to_jsonable(settings)))


def save(path: str | Path, *, settings: dict, arrays: dict, progress: dict) -> Path:
    """Write a checkpoint atomically; returns its path."""
    named = {f"{_PREFIX}{k}": np.asarray(v) for k, v in arrays.items()}
    return save_npz_atomic(path, format=FORMAT, settings=json.dumps(normalise(settings)),
                           progress=json.dumps(to_jsonable(progress)), **named)


def _unreadable(path: Path, why: str) -> InvalidInputError:
    return InvalidInputError("checkpoint", f"{path} is not a usable metricflow checkpoint ({why}); "
                             "delete it or choose another output folder to start afresh")


def load(path: str | Path, settings: dict) -> Checkpoint:
    """Read and validate the checkpoint at ``path`` for a run with ``settings``.

    Raises :class:`InvalidInputError` for an unreadable or truncated file, a file of
    another format, a setting that differs (the error's ``argument`` is that setting's
    name, so the command line names its ``--option``), or a non-finite array."""
    path = Path(path)
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise _unreadable(path, f"{type(exc).__name__}: {exc}") from None
    try:
        with data:
            names = set(data.files)
            if not {"format", "settings", "progress"} <= names:
                raise _unreadable(path, "no format/settings/progress entries")
            if str(data["format"]) != FORMAT:
                raise _unreadable(path, f"format {str(data['format'])!r}, expected {FORMAT!r}")
            saved = json.loads(str(data["settings"]))
            progress = json.loads(str(data["progress"]))
            arrays = {k[len(_PREFIX):]: np.array(data[k]) for k in sorted(names) if k.startswith(_PREFIX)}
    except InvalidInputError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        raise _unreadable(path, f"{type(exc).__name__}: {exc}") from None
    check_settings(path, saved, settings)
    for name, arr in arrays.items():
        if arr.dtype.kind in "fc" and not np.all(np.isfinite(arr)):
            raise _unreadable(path, f"its state {name!r} holds NaN or inf")
    if not isinstance(progress, dict):
        raise _unreadable(path, "its progress record is not a JSON object")
    return Checkpoint(arrays=arrays, progress=progress, settings=saved)


def check_settings(path, saved: dict, settings: dict) -> None:
    """Refuse a resume whose settings differ from the checkpoint's, naming the setting.

    Keys are compared in the order of this run's ``settings`` (then keys only the
    checkpoint has), so a caller lists the settings a user chose first and derived ones
    (such as a digest of the initial state) last: the error names what the user changed."""
    now = normalise(settings)
    if not isinstance(saved, dict):
        raise _unreadable(Path(path), "its settings are not a JSON object")
    for key in list(now) + sorted(k for k in saved if k not in now):
        if saved.get(key, "<absent>") != now.get(key, "<absent>"):
            raise InvalidInputError(key, f"the checkpoint {path} was written with {key} = "
                                    f"{saved.get(key, '<absent>')!r}, this run has {now.get(key, '<absent>')!r}; "
                                    "resume with the same settings, or write to another output folder")


def counter(progress: dict, key: str, upper: int, path) -> int:
    """``progress[key]`` as an integer in ``[0, upper]``, or a clear refusal."""
    value = progress.get(key)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= upper:
        raise _unreadable(Path(path), f"its {key} counter is {value!r}, expected an integer in [0, {upper}]")
    return value


def tree_to_arrays(tree, prefix: str) -> dict:
    """The leaves of a pytree as named arrays ``PREFIX/0``, ``PREFIX/1``, …"""
    import jax

    return {f"{prefix}/{i}": np.asarray(leaf) for i, leaf in enumerate(jax.tree_util.tree_leaves(tree))}


def tree_from_arrays(arrays: dict, prefix: str, like, path):
    """The pytree of the structure of ``like`` from :func:`tree_to_arrays`' arrays; refuses
    leaves of another number, shape or dtype."""
    import jax
    import jax.numpy as jnp

    leaves0, treedef = jax.tree_util.tree_flatten(like)
    leaves = [arrays.get(f"{prefix}/{i}") for i in range(len(leaves0))]
    extra = [k for k in arrays if k.startswith(f"{prefix}/") and int(k.rpartition("/")[2]) >= len(leaves0)]
    for i, (a, b) in enumerate(zip(leaves, leaves0, strict=True)):
        if a is None or extra or a.shape != np.shape(b) or a.dtype != np.asarray(b).dtype:
            got = None if a is None else (a.shape, str(a.dtype))
            want = (np.shape(b), str(np.asarray(b).dtype))
            raise _unreadable(Path(path), f"its {prefix} leaf {i} does not match this run's ({got} vs {want})")
    return jax.tree_util.tree_unflatten(treedef, [jnp.asarray(a) for a in leaves])
