"""The one way plotting modules get ``matplotlib.pyplot``: the Agg backend, imported on use."""

from __future__ import annotations


def pyplot():
    """``matplotlib.pyplot`` with the non-interactive Agg backend (files only, no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt
