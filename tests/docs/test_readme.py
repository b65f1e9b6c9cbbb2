"""The README's Python examples run as written (in a fresh interpreter, so their registry entry and
global switches do not leak into other tests)."""
import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), flags=re.S)


def test_readme_has_examples():
    assert len(python_blocks()) >= 4


def test_readme_examples_run(tmp_path):
    script = "\n\n".join(python_blocks()) + "\nprint('README examples ran')\n"
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "README examples ran" in done.stdout
