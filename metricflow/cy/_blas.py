"""Run small matrix products with one BLAS thread.

OpenBLAS's threads busy-wait; on a loaded 2-core machine the many small complex
products of the nearest-neighbour search ran 5x slower with 2 threads than with one
(measured: 3.3 ms vs 0.64 ms for (30 x 5) @ (5 x 9000)).  This finds the OpenBLAS that
numpy's wheel bundles and sets its thread count for the duration of a block; where it
is not found (another BLAS), nothing changes.
"""

from __future__ import annotations

import contextlib
import ctypes
from pathlib import Path

import numpy as np

_FUNCS: tuple | None = None


def _openblas():
    global _FUNCS
    if _FUNCS is None:
        _FUNCS = ()
        libdir = Path(np.__file__).resolve().parent.parent / "numpy.libs"
        for lib in sorted(libdir.glob("libscipy_openblas*.so*")):
            try:
                handle = ctypes.CDLL(str(lib))
                get = handle.scipy_openblas_get_num_threads64_
                set_ = handle.scipy_openblas_set_num_threads64_
            except (OSError, AttributeError):
                continue
            get.restype = ctypes.c_int
            set_.argtypes = [ctypes.c_int]
            _FUNCS = (get, set_)
            break
    return _FUNCS


@contextlib.contextmanager
def blas_threads(n: int = 1):
    """Context manager: numpy's bundled OpenBLAS uses ``n`` threads inside the block."""
    funcs = _openblas()
    if not funcs:
        yield
        return
    get, set_ = funcs
    old = get()
    set_(int(n))
    try:
        yield
    finally:
        set_(old)
