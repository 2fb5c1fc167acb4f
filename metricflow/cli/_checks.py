"""Option checks shared by the commands, run before any work.

Each check raises :class:`~metricflow.errors.InvalidInputError` with the command's
Python parameter name; :func:`metricflow.cli._main.library_errors` turns it into one
line naming the ``--option`` as the user typed it, with exit status 2.  Sizes are
checked against this machine's memory (:func:`memory_budget`), with the estimate in
the message, so that a mistyped ``--n 10000000000000`` is refused at once instead of
running out of memory (or time) later.
"""

from __future__ import annotations

import math
import os

from metricflow.errors import InvalidInputError

#: Largest seed accepted by every command.  numpy's generators take any non-negative
#: integer, but a JAX PRNG key (without x64) keeps only the low 32 bits of its seed, so
#: that 2**32 would silently repeat the run of seed 0: one rule, 32-bit seeds, for all.
SEED_MAX = 2**32 - 1


def integer(value, name: str, minimum: int, maximum: int | None = None, why: str = "") -> int:
    """``value`` as an int in [minimum, maximum]; ``why`` explains the maximum."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(name, f"need an integer, got {value!r}")
    if value < minimum:
        raise InvalidInputError(name, f"need an integer >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise InvalidInputError(name, f"at most {maximum:,}{f' ({why})' if why else ''}, got {value:,}")
    return value


def seed(value, name: str = "seed") -> int:
    """A random seed: an integer in [0, 2**63 - 1] (the same rule for every command)."""
    return integer(value, name, 0, SEED_MAX, "a 32-bit seed")


def real(value, name: str, minimum: float = 0.0, strict: bool = True, maximum: float | None = None) -> float:
    """A finite float > minimum (``strict``) or >= minimum, and <= ``maximum`` if given."""
    v = float(value)
    if not math.isfinite(v):
        raise InvalidInputError(name, f"need a finite number, got {value!r}")
    if (v <= minimum) if strict else (v < minimum):
        raise InvalidInputError(name, f"need a number {'>' if strict else '>='} {minimum:g}, got {value!r}")
    if maximum is not None and v > maximum:
        raise InvalidInputError(name, f"need a number <= {maximum:g}, got {value!r}")
    return v


def memory_budget() -> int:
    """Bytes of physical memory of this machine (the ceiling for size checks)."""
    try:
        return int(os.sysconf("SC_PHYS_PAGES")) * int(os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 16 * 2**30


def human_bytes(n: float) -> str:
    """1536 -> '1.5 KiB'."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} EiB"  # pragma: no cover


def fits_in_memory(name: str, needed: float, what: str) -> None:
    """Refuse (naming ``name``) when ``needed`` bytes exceed this machine's memory."""
    budget = memory_budget()
    if needed > budget:
        raise InvalidInputError(name, f"{what} needs about {human_bytes(needed)} of memory, more than "
                                f"this machine's {human_bytes(budget)}")
