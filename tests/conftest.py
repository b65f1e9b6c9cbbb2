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


def pytest_terminal_summary(terminalreporter):
    """After a run that included tests/fuzz, report how many distinct cases the fuzz suite enumerates."""
    ran = any(getattr(r, "nodeid", "").startswith("tests/fuzz/")
              for reports in terminalreporter.stats.values() for r in reports)
    if not ran:
        return
    import sys

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "fuzz"))
    import _fuzz_count

    counts = _fuzz_count.case_counts()
    parts = ", ".join(f"{k} {v}" for k, v in counts.items())
    terminalreporter.write_line(f"fuzz: {sum(counts.values())} distinct cases ({parts}), plus hypothesis-drawn ones")
