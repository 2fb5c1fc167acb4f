"""Shared test configuration: hypothesis profiles, and the ``kill_at`` fixture.

Property tests run with no per-example deadline (sympy and JIT compilation
times vary with machine load); ``HYPOTHESIS_PROFILE=thorough`` runs more examples.

A test whose examples are expensive never fixes its own count (that would override the
``thorough`` profile); it scales the active profile's count instead:
``@settings(max_examples=settings.default.max_examples * N // 25)`` runs N examples in
the default profile (25) and 12 N in ``thorough`` (300).  ``settings.default`` is the
profile loaded below, since pytest imports this file before any test module.
"""

import os

import pytest
from hypothesis import HealthCheck, settings

settings.register_profile(
    "default",
    deadline=None,
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
settings.register_profile(
    "thorough",
    deadline=None,
    max_examples=300,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


class Killed(Exception):
    """Raised by a ``kill_at`` callback: the run was killed mid-way."""


@pytest.fixture
def kill_at():
    """``kill_at(step)`` is a run callback that raises :class:`Killed` at the record of
    that step, as a killed process would stop (checkpoint/resume tests);
    ``kill_at.Killed`` is the exception."""

    def factory(step):
        def callback(record):
            if record["step"] == step:
                raise Killed

        return callback

    factory.Killed = Killed
    return factory
