"""nn refuses to run on top of an ``autograd`` that is not graphgrad's (e.g. PyPI's HIPS autograd)."""
import os
import subprocess
import sys
import types

import pytest

import nn
from nn._compat import check_autograd


def test_graphgrad_autograd_passes():
    check_autograd("nn")  # the real package defines __graphgrad__ = True


def test_foreign_autograd_in_sys_modules_is_rejected(monkeypatch):
    fake = types.ModuleType("autograd")
    fake.__file__ = "/site-packages/autograd/__init__.py"
    monkeypatch.setitem(sys.modules, "autograd", fake)
    with pytest.raises(ImportError) as exc:
        check_autograd("nn")
    msg = str(exc.value)
    assert "HIPS autograd" in msg
    assert "/site-packages/autograd/__init__.py" in msg
    assert "pip uninstall autograd" in msg
    assert "separate virtual environment" in msg


def test_marker_must_be_exactly_true(monkeypatch):
    fake = types.ModuleType("autograd")
    fake.__graphgrad__ = "yes"
    monkeypatch.setitem(sys.modules, "autograd", fake)
    with pytest.raises(ImportError, match="different package"):
        check_autograd("viz")


def test_import_nn_with_shadowing_package_fails_early(tmp_path):
    """A HIPS-like ``autograd`` earlier on sys.path makes ``import nn`` raise the explanatory ImportError."""
    shadow = tmp_path / "autograd"
    shadow.mkdir()
    (shadow / "__init__.py").write_text("from numpy import *  # stands in for HIPS autograd\n")
    nn_parent = os.path.dirname(os.path.dirname(nn.__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), nn_parent]))
    proc = subprocess.run([sys.executable, "-c", "import nn"], check=False, capture_output=True, text=True, env=env,
                          cwd=str(tmp_path), timeout=120)
    assert proc.returncode != 0
    assert "ImportError" in proc.stderr
    assert "pip uninstall autograd" in proc.stderr
