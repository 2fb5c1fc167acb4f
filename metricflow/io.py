"""Results on disk: JSON, ``.npz`` and PNG written atomically, and output folders
checked before any work.

Atomic writes: each file is written to a temporary ``.NAME.XXXXXXXX.tmp`` next to
``NAME`` (``XXXXXXXX``: eight characters of :mod:`tempfile`'s alphabet), flushed,
fsynced and renamed over ``NAME``.  A crash mid-write never leaves a truncated file
under the final name; a killed process (kill -9) can leave the temporary file, which
:func:`remove_stale_temporaries` recognises by that exact pattern and removes.

Failures while writing never surface as tracebacks: a path that cannot hold the
output (a parent that is a regular file, an unwritable or read-only folder, a name
too long) raises :class:`~metricflow.errors.InvalidInputError` naming the ``--out``
argument (exit status 2); a full disk or another I/O failure raises
:class:`~metricflow.errors.MetricflowError` saying that nothing was written under
the final name (exit status 1).  Commands call :func:`prepare_output_dir` or
:func:`prepare_output_file` *before* computing, so a bad ``--out`` is refused at once.
"""

from __future__ import annotations

import errno
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from metricflow.errors import InvalidInputError, MetricflowError

#: errno values that mean "this path cannot hold the output" (bad input, exit 2);
#: any other OSError while writing (ENOSPC, EDQUOT, EIO, ...) is a failure of the disk.
_BAD_PATH_ERRNOS = frozenset({errno.ENOTDIR, errno.EEXIST, errno.EISDIR, errno.EACCES, errno.EPERM,
                              errno.EROFS, errno.ENAMETOOLONG, errno.ENOENT, errno.ELOOP})
#: tempfile's alphabet for the random part of a name (``tempfile._RandomNameSequence``).
_TMP_RANDOM = r"[a-z0-9_]{8}"
#: The suffixes of the files metricflow writes; with ``outputs=None``,
#: :func:`remove_stale_temporaries` only removes temporaries of names with these suffixes.
OUTPUT_SUFFIXES = ("npz", "npy", "json", "png", "md", "txt")


def to_jsonable(obj: Any) -> Any:
    """Convert numpy scalars/arrays, paths and tuples to plain JSON types."""
    if isinstance(obj, dict):
        return {str(k): to_jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return to_jsonable(obj.tolist())
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, Path):
        return str(obj)
    if isinstance(obj, float) and (obj != obj or obj in (float("inf"), float("-inf"))):
        return str(obj)
    return obj


# ---------------------------------------------------------------- output paths, before any work
def _blocking_file(path: Path) -> Path | None:
    """The nearest existing ancestor of ``path`` (or ``path`` itself) that is not a folder."""
    for p in (path, *path.parents):
        if p.exists() or p.is_symlink():
            return None if p.is_dir() else p
    return None


def _refuse(argument: str, path: Path, exc: OSError) -> InvalidInputError:
    return InvalidInputError(argument, f"cannot write in {str(path)!r}: {exc.strerror or exc}")


def prepare_output_dir(path: str | os.PathLike, argument: str = "out",
                       outputs: tuple[str, ...] | None = None) -> Path:
    """Make sure ``path`` is a folder this process can write, before any computing.

    Creates the folder (and its parents), creates and removes a temporary file in it,
    and removes stale temporaries of earlier killed runs (:func:`remove_stale_temporaries`;
    of the names in ``outputs``, or every metricflow temporary when ``outputs`` is None).
    Raises :class:`InvalidInputError` naming ``argument`` (the command's ``--out``
    option, as the CLI maps it) when ``path`` or one of its parents is a regular file,
    when the folder cannot be created or written, or when the name is too long.
    Returns the folder as a :class:`~pathlib.Path`.
    """
    if str(path).strip() == "":
        raise InvalidInputError(argument, "need a folder name, got an empty string")
    path = Path(path)
    blocker = _blocking_file(path)
    if blocker is not None:
        what = "is a file, not a folder" if blocker == path else f"cannot be created: {str(blocker)!r} is a file"
        raise InvalidInputError(argument, f"{str(path)!r} {what}")
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(dir=path, prefix=".metricflow-write-test.", suffix=".tmp")
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        raise _refuse(argument, path, exc) from exc
    remove_stale_temporaries(path, outputs)
    return path


def prepare_output_file(path: str | os.PathLike, argument: str = "out") -> Path:
    """Like :func:`prepare_output_dir` for a single output file ``path``: refuses a
    folder or an empty name, prepares the parent folder and removes stale temporaries
    of this file name only.  Returns ``path`` as a :class:`~pathlib.Path`."""
    if str(path).strip() == "":
        raise InvalidInputError(argument, "need a file name, got an empty string")
    path = Path(path)
    if path.name in ("", ".", ".."):
        raise InvalidInputError(argument, f"need a file name, got {str(path)!r}")
    if path.is_dir():
        raise InvalidInputError(argument, f"{str(path)!r} is a folder, not a file")
    if path.exists() and not path.is_file():  # a device or a pipe (/dev/null) is never replaced
        raise InvalidInputError(argument, f"{str(path)!r} exists and is not a regular file")
    prepare_output_dir(path.parent, argument, outputs=(path.name,))
    return path


def temporary_pattern(name: str) -> re.Pattern:
    """The names of the temporary files the atomic writers create for output ``name``."""
    return re.compile(rf"\.{re.escape(name)}\.{_TMP_RANDOM}\.tmp")


def remove_stale_temporaries(folder: str | os.PathLike, outputs=None) -> list[Path]:
    """Delete the temporary files ``.NAME.XXXXXXXX.tmp`` that a killed writer left in ``folder``.

    ``outputs``: the output file names (``NAME``) of the run about to start; None means
    every file of the atomic writers' pattern whose ``NAME`` ends in one of
    :data:`OUTPUT_SUFFIXES` (and the write probes of :func:`prepare_output_dir`).  Only
    regular files whose whole name matches the pattern are removed; nothing else is touched.
    Call it when starting a run that owns ``folder``: a second process writing the same
    outputs at the same moment would lose its temporary file.  Returns the removed paths.
    """
    folder = Path(folder)
    if outputs is None:
        suffixes = "|".join(OUTPUT_SUFFIXES)
        pattern = re.compile(rf"\.(.+\.({suffixes})\.{_TMP_RANDOM}|metricflow-write-test\.{_TMP_RANDOM})\.tmp")
        match = pattern.fullmatch
    else:
        patterns = [temporary_pattern(str(name)) for name in outputs]
        match = lambda n: any(p.fullmatch(n) for p in patterns)  # noqa: E731
    removed = []
    try:
        entries = list(folder.iterdir())
    except OSError:
        return removed
    for entry in entries:
        if match(entry.name) and entry.is_file() and not entry.is_symlink():
            try:
                entry.unlink()
            except OSError:
                continue
            removed.append(entry)
    return removed


# ---------------------------------------------------------------- atomic writers
def _write_failed(path: Path, exc: OSError) -> MetricflowError:
    if exc.errno in _BAD_PATH_ERRNOS:
        return InvalidInputError("out", f"cannot write {str(path)!r}: {exc.strerror or exc}")
    return MetricflowError(f"could not write {str(path)!r}: {exc.strerror or exc}; nothing was "
                           "written under that name (its temporary file was removed)")


def _atomic_write(path: str | os.PathLike, mode: str, write) -> Path:
    """Write through ``write(fh)`` into a temporary file next to ``path``, then rename it."""
    path = Path(path)
    if path.exists() and not path.is_file():  # never rename over a folder, device or pipe
        raise InvalidInputError("out", f"{str(path)!r} exists and is not a regular file")
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        os.fchmod(fd, 0o644)  # mkstemp creates 0600; results are ordinary readable files
        with os.fdopen(fd, mode, **({"encoding": "utf-8"} if "b" not in mode else {})) as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        if tmp is not None and os.path.exists(tmp):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _write_failed(path, exc) from exc
        raise
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically; returns the path."""
    return _atomic_write(path, "w", lambda fh: fh.write(text))


def write_json_atomic(path: str | os.PathLike, obj: Any) -> Path:
    """Write ``obj`` (converted with :func:`to_jsonable`) as indented JSON, atomically."""
    return write_text_atomic(path, json.dumps(to_jsonable(obj), indent=2) + "\n")


def save_npz_atomic(path: str | os.PathLike, **arrays: Any) -> Path:
    """``numpy.savez`` to ``path`` atomically (the ``.npz`` suffix is kept as given)."""
    return _atomic_write(path, "wb", lambda fh: np.savez(fh, **arrays))


def save_figure_atomic(fig, path: str | os.PathLike, dpi: int = 120) -> Path:
    """Save a matplotlib figure as PNG atomically and close it; returns the path."""
    try:
        return _atomic_write(path, "wb", lambda fh: fig.savefig(fh, format="png", dpi=dpi))
    finally:
        import matplotlib.pyplot as plt

        plt.close(fig)
