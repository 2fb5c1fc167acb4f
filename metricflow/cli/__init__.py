"""The ``metricflow`` command line: a thin shell over the library.

Subcommands live in their own modules and are imported only when invoked, so
``metricflow derive ...`` never imports JAX.  To add a command group, add one
line to :data:`metricflow.cli._main.COMMANDS`.
"""

from metricflow.cli._main import cli, main

__all__ = ["cli", "main"]
