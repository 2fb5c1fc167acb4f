"""Shared test configuration: hypothesis profiles, the CLI's JAX cache, and the ``kill_at`` fixture.

Property tests run with no per-example deadline (sympy and JIT compilation
times vary with machine load); ``HYPOTHESIS_PROFILE=thorough`` runs more examples.

A test whose examples are expensive never fixes its own count (that would override the
``thorough`` profile); it scales the active profile's count instead:
``@settings(max_examples=settings.default.max_examples * N // 25)`` runs N examples in
the default profile (25) and 12 N in ``thorough`` (300).  ``settings.default`` is the
profile loaded below, since pytest imports this file before any test module.

The CLI's persistent JAX compilation cache is off in tests (``METRICFLOW_JAX_CACHE=off``
unless set): every run compiles as on a clean machine, nothing is written to the user's
cache folder, and in-process CLI calls do not switch the cache on for the test process.
tests/test_cli_jax_cache.py turns it on explicitly where it is the subject.
"""

import os

os.environ.setdefault("METRICFLOW_JAX_CACHE", "off")

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


@pytest.fixture
def run_cli(capsys):
    """``run_cli(args) -> (exit code, stdout, stderr)``: ``metricflow`` run in-process
    (click's SystemExit caught, the output captured)."""
    from metricflow.cli import main

    def run(args):
        try:
            main(args)
            code = 0
        except SystemExit as exc:  # click may exit 0
            code = exc.code or 0
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
