"""Which recorded ops belong to one call of a fused function (a loss tagged by ``nn._fused.fused``), so every
drawing can show the call as one node: ``draw_graph``, ``draw_backward``, ``draw_model`` and the Stepper."""
from __future__ import annotations

from ._names import function_call


def fused_groups(ops) -> tuple[dict, dict]:
    """``(groups, group_of)``: first op of each call of two or more ops -> ``(call, its ops)``, and every such
    op -> that first op. The outermost call in an op's scope counts (a fused function calling another is one)."""
    calls: dict[int, tuple] = {}
    for op in ops:
        call = next((m for m in op.scope or () if function_call(m) is not None), None)
        if call is not None:
            calls.setdefault(id(call), (call, []))[1].append(op)
    groups, group_of = {}, {}
    for call, members in calls.values():
        if len(members) < 2:
            continue
        groups[members[0]] = (call, members)
        for op in members:
            group_of[op] = members[0]
    return groups, group_of
