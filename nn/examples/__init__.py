"""Runnable examples on real data that ships with scikit-learn (no downloads):
``python -m nn.examples.digits --out DIR`` (the README demo) and ``python -m nn.examples.breast_cancer``."""
