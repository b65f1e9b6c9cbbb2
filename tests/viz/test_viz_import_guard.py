"""viz refuses to run on top of another package called ``autograd`` (PyPI's HIPS autograd) and says how to fix it."""
import importlib
import sys
import types

import pytest


def test_foreign_autograd_is_reported_with_the_fix(monkeypatch):
    saved = {k: v for k, v in sys.modules.items() if k == "viz" or k.startswith("viz.")}
    fake = types.ModuleType("autograd")
    fake.__file__ = "/site-packages/autograd/__init__.py"
    try:
        for k in saved:
            monkeypatch.delitem(sys.modules, k)
        monkeypatch.setitem(sys.modules, "autograd", fake)
        with pytest.raises(ImportError) as e:
            importlib.import_module("viz")
        msg = str(e.value)
        assert "HIPS" in msg and "pip uninstall autograd" in msg and "/site-packages/autograd" in msg
    finally:
        for k in [k for k in sys.modules if k == "viz" or k.startswith("viz.")]:
            del sys.modules[k]
        sys.modules.update(saved)


def test_graphgrad_autograd_is_accepted():
    import autograd
    import viz

    assert autograd.__graphgrad__ is True
    assert callable(viz.draw_graph)
