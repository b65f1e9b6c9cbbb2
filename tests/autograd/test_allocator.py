"""autograd.allocator: glibc's malloc keeps freed memory for reuse unless the process opts out."""
import os
import subprocess
import sys

import pytest

import autograd

pytestmark = pytest.mark.skipif(not autograd.allocator._glibc(), reason="glibc's mallopt only")

# Eight 3 MiB arrays made and freed per step (below NumPy's 4 MiB huge-page advice, so 4 KiB pages): with the
# default glibc settings the freed heap top is handed back and every step faults its 24 MiB in again.
_STEPS = """
import resource, numpy as np, autograd
def step():
    arrays = [np.ones(3 * 2**20 // 4, np.float32) for _ in range(8)]
step(); step()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    step()
print(autograd.allocator.tuned, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) // 5)
"""


def _huge_pages_always():
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            return "[always]" in f.read()
    except OSError:
        return False


def _run(**env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("MALLOC_", "GRAPHGRAD_MALLOC"))}
    out = subprocess.run([sys.executable, "-c", _STEPS], env={**clean, **env}, capture_output=True, text=True,
                         check=True, cwd=os.path.dirname(os.path.dirname(os.path.dirname(__file__))))
    tuned, faults = out.stdout.split()
    return tuned == "True", int(faults)


def test_freed_memory_is_reused_by_default_and_the_opt_out_restores_glibcs_behaviour():
    tuned, faults = _run()
    assert tuned and faults < 100  # the 24 MiB come back from the heap: (almost) no page is faulted in again
    tuned, faults = _run(GRAPHGRAD_MALLOC="system")
    assert not tuned
    if not _huge_pages_always():  # (transparent huge pages for every mapping would fault 2 MiB at a time)
        assert faults > 3000  # 6,144 pages a step with glibc's defaults


def test_glibcs_own_environment_tuning_is_left_alone():
    tuned, _ = _run(MALLOC_TRIM_THRESHOLD_="1000000")
    assert not tuned


def test_keep_freed_memory_reports_success():
    assert autograd.allocator.keep_freed_memory() is True
