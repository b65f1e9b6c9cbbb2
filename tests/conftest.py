"""Shared test configuration: hypothesis profiles.

"dev" (the default) draws 15 fresh examples per test; "ci" draws 40, derandomized so CI is reproducible.
Select with HYPOTHESIS_PROFILE=ci (chosen automatically when the CI environment variable is set).
"""
import os

from hypothesis import HealthCheck, settings

_COMMON = {"deadline": None, "max_examples": 15, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("dev", **_COMMON)
settings.register_profile("ci", derandomize=True, database=None, print_blob=True, **{**_COMMON, "max_examples": 40})
settings.register_profile("thorough", **{**_COMMON, "max_examples": 200})
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))
