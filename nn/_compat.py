"""Guard against PyPI's HIPS ``autograd`` shadowing graphgrad's package of the same name."""
from __future__ import annotations

import importlib


def check_autograd(package: str = "nn") -> None:
    """Raise ImportError unless ``import autograd`` gives graphgrad's engine.

    Both graphgrad and the unrelated HIPS project install a top-level ``autograd`` package; when
    the wrong one wins, every later error would be baffling, so say so at import time.
    """
    try:
        autograd = importlib.import_module("autograd")
    except ImportError as e:
        raise ImportError(f"{package} needs graphgrad's 'autograd' package, which could not be imported: {e}. "
                          "Reinstall graphgrad (pip install graphgrad).") from e
    if getattr(autograd, "__graphgrad__", False) is not True:
        where = getattr(autograd, "__file__", None) or "an unknown location"
        raise ImportError(
            f"{package} needs graphgrad's 'autograd' package, but 'import autograd' found a different package at "
            f"{where} (most likely PyPI's HIPS autograd, which uses the same name). Fix: run "
            "'pip uninstall autograd' in this environment and then 'pip install --force-reinstall graphgrad', "
            "or install graphgrad in a separate virtual environment.")
