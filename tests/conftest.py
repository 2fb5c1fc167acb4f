"""Shared test configuration: hypothesis profiles.

Property tests run with no per-example deadline (sympy and JIT compilation
times vary with machine load); ``HYPOTHESIS_PROFILE=thorough`` runs more examples.
"""

import os

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
