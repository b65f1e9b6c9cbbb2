"""Tag the ops of one call of a composite function (a fused loss) so drawings can fold them into one node.

``@fused(rule=...)`` runs the function inside the scope of a ``FunctionCall`` (as ``module_scope`` would):
every op it records carries that call in ``node.scope`` (after the modules it ran in). ``viz`` draws the call
as one node, with ``rule`` as its derivative; nothing else reads the tag.
"""
from __future__ import annotations

import functools

from autograd.mode import state


class FunctionCall:
    """One call of a composite function, as a scope entry: its ``function_name`` and derivative ``rule``."""

    __slots__ = ("function_name", "rule", "__weakref__")

    def __init__(self, function_name: str, rule: str):
        self.function_name = function_name
        self.rule = rule

    def __repr__(self):
        return f"<call of {self.function_name}>"


def fused(rule: str):
    """Decorator: the ops of each call of the function are tagged as one ``FunctionCall``."""
    def wrap(fn):
        @functools.wraps(fn)
        def call(*args, **kwargs):
            prev = state.push_scope(FunctionCall(fn.__name__, rule))  # (module_scope's work, without its object)
            try:
                return fn(*args, **kwargs)
            finally:
                state.pop_scope(prev)
        return call
    return wrap
