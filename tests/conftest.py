"""Shared test configuration: hypothesis profiles, and the ``kill_at`` fixture.

Property tests run with no per-example deadline (sympy and JIT compilation
times vary with machine load); ``HYPOTHESIS_PROFILE=thorough`` runs more examples.
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
