"""Exception hierarchy of metricflow.

Every error says what was wrong, with which value, and what was expected.  The
command line turns :class:`InvalidInputError` into one line on stderr and exit
status 2, and :class:`NumericalError` into one line and exit status 1.
"""

from __future__ import annotations


class MetricflowError(Exception):
    """Base class of every error raised on purpose by metricflow."""


class InvalidInputError(MetricflowError, ValueError):
    """An argument has the wrong value, type or shape.

    Parameters
    ----------
    argument:
        The name of the offending argument, as the caller spelled it (a Python
        parameter name; the command line maps it to its ``--option``).
    message:
        What was wrong and what was expected.
    """

    def __init__(self, argument: str, message: str):
        self.argument = argument
        self.message = message
        super().__init__(f"{argument}: {message}")


class NumericalError(MetricflowError, ArithmeticError):
    """A computation produced NaN/inf or left its domain (e.g. a metric update
    that is no longer positive definite).  The message says where and when."""


class UnsupportedExpressionError(InvalidInputError):
    """A symbolic input uses a construct the exact engine cannot represent."""
