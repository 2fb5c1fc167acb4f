"""Float64 inside library functions only (docs/conventions.md, "Numbers"); the one way
metricflow switches JAX to 64 bits.

``x64()`` is a context manager that switches JAX's 64-bit mode on for the block and
restores the previous state afterwards.  It works with current JAX (``jax.enable_x64``)
and with the jax 0.4 line (``jax.experimental.enable_x64``) that the neural-tangents
cross-check environment pins.
"""

from __future__ import annotations

import jax


def x64():
    """Return a context manager enabling float64 in JAX for the enclosed block."""
    state = getattr(jax, "enable_x64", None)
    if state is not None and callable(state):
        try:
            return state(True)
        except TypeError:  # pragma: no cover - unexpected signature
            pass
    from jax.experimental import enable_x64  # jax < 0.5

    return enable_x64()
