"""``python -m metricflow`` is the same as the ``metricflow`` command."""

from metricflow.cli import main

main()
