"""Make the fuzz harness ``_fuzz`` importable (pytest runs with --import-mode=importlib), and report how many
distinct fuzz cases the suite runs when any fuzz test ran."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))


def pytest_terminal_summary(terminalreporter):
    ran = any(getattr(r, "nodeid", "").startswith("tests/fuzz/")
              for reports in terminalreporter.stats.values() for r in reports if hasattr(r, "nodeid"))
    if not ran:
        return
    import _fuzz_count

    counts = _fuzz_count.case_counts()
    total = sum(counts.values())
    parts = ", ".join(f"{k} {v}" for k, v in counts.items())
    terminalreporter.write_line(f"fuzz: {total} distinct cases ({parts}), plus the hypothesis-drawn ones")
