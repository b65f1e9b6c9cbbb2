"""Make the fuzz harness ``_fuzz`` importable (pytest runs with --import-mode=importlib); tests/conftest.py reports
how many distinct fuzz cases ran."""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
