"""Colours and shapes shared by the drawings, so a parameter looks the same everywhere."""
from __future__ import annotations

FONT = "Helvetica"

GRAPH = {"fontname": FONT, "fontsize": "11", "nodesep": "0.25", "ranksep": "0.35", "bgcolor": "white"}
NODE = {"fontname": FONT, "fontsize": "10", "margin": "0.08,0.04", "height": "0.3"}
EDGE = {"fontname": FONT, "fontsize": "9", "arrowsize": "0.7", "color": "#555555"}

OP = {"shape": "ellipse", "style": "filled", "fillcolor": "#dbe9f6", "color": "#4a78a8"}
TENSOR = {"shape": "box", "style": "filled", "fillcolor": "#ffffff", "color": "#777777"}
PARAM = {"shape": "box", "style": "filled,bold", "fillcolor": "#fde9b8", "color": "#b07d00"}
BUFFER = {"shape": "box", "style": "filled,dashed", "fillcolor": "#efe6d2", "color": "#8a7440", "fontsize": "9"}
INPUT = {"shape": "box", "style": "filled", "fillcolor": "#ddf0d8", "color": "#4d8a3d"}
CONST = {"shape": "box", "style": "filled,dashed", "fillcolor": "#f3f3f3", "color": "#aaaaaa", "fontsize": "9",
         "fontcolor": "#444444"}
OUTPUT = {"penwidth": "2.2", "color": "#2b6e2b"}

BACKWARD_OP = {"shape": "box", "style": "rounded,filled", "fillcolor": "#f8dede", "color": "#a84a4a"}
ACCUMULATE = {"shape": "box", "style": "filled,bold", "fillcolor": "#fde9b8", "color": "#b07d00"}
SEED = {"shape": "box", "style": "filled", "fillcolor": "#eeeeee", "color": "#777777"}
FREED = {"style": "rounded,filled,dashed"}

CURRENT = {"fillcolor": "#ff9f43", "color": "#c0392b", "penwidth": "3", "fontcolor": "#000000"}
TOUCHED = {"color": "#c0392b", "penwidth": "2"}  # tensors the current step reads or writes
PENDING = {"fillcolor": "#f7f7f7", "color": "#cccccc", "fontcolor": "#9a9a9a"}
CURRENT_EDGE = {"color": "#c0392b", "penwidth": "2.2"}
PENDING_EDGE = {"color": "#cccccc"}
GRAD_EDGE = {"color": "#a84a4a"}

MODULE_CLUSTER = {"style": "rounded,filled", "fillcolor": "#f6f8fb", "color": "#8da2bf", "fontsize": "10",
                  "labeljust": "l"}
MODULE_BOX = {"shape": "box3d", "style": "filled", "fillcolor": "#e6e0f3", "color": "#6a55a0"}
REPEAT_CLUSTER = {"style": "dashed,rounded", "color": "#6a55a0", "fontcolor": "#6a55a0", "fontsize": "10",
                  "labeljust": "r"}

POSITIVE = "#1f77b4"
NEGATIVE = "#d62728"



# Keys to the colours, as plain text under a drawing (every renderer draws it; the in-process
# WebAssembly Graphviz has no HTML-like labels, so coloured swatches are not portable).
# Two left-justified lines (Graphviz's \l), so a small graph is not widened by its key.
FORWARD_LEGEND = ("amber box: parameter (a leaf that requires grad) \u00b7 green box: input\\l"
                  "grey dashed box: constant \u00b7 blue ellipse: operation \u00b7 white box: tensor \u00b7 "
                  "bold green border: output\\l")
# Added under a forward drawing when backward has freed some of its nodes (their values are gone).
FREED_LEGEND = ("dashed blue ellipse: backward() has run and freed that op's values (shape and dtype kept)\\l"
                "to keep the numbers, run the forward and backward inside `with viz.record():`, "
                "or draw before backward()\\l")
BACKWARD_LEGEND = ("grey: start gradient \u00b7 amber: accumulate into a leaf's .grad\\l"
                   "pink: backward function (dashed once its saved values are freed); its rule: the local "
                   "derivative; edge labels: the gradient sent to each input\\l")
