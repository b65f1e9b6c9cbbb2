"""A small reader for the DOT that viz emits: nodes with attributes, edges, and cluster nesting."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET

_ATTR = re.compile(r'([\w-]+)=("(?:[^"\\]|\\.)*"|[^\s\]]+)')
_NODE = re.compile(r"^\s*(\w+) \[(.*)\]$")
_EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$")


def attrs(text: str | None) -> dict:
    out = {}
    for k, v in _ATTR.findall(text or ""):
        if v.startswith('"'):
            v = v[1:-1].replace('\\"', '"')
        out[k] = v
    return out


class Dot:
    """Parsed ``source``: ``nodes`` {id: attrs}, ``edges`` [(src, dst, attrs)], ``cluster_of`` {id: [labels]}."""

    def __init__(self, source: str):
        self.nodes: dict[str, dict] = {}
        self.edges: list[tuple[str, str, dict]] = []
        self.cluster_of: dict[str, list[str]] = {}
        self.clusters: list[str] = []
        stack: list[str] = []
        pending_label = False
        for line in source.splitlines():
            s = line.strip()
            if s.startswith("subgraph cluster"):
                stack.append("")
                pending_label = True
                continue
            if s == "}":
                if stack:
                    self.clusters.append(stack.pop())
                continue
            if pending_label and stack and "label=" in s and "[" not in s.split("label=")[0]:
                stack[-1] = attrs(s).get("label", "")
                pending_label = False
                continue
            m = _EDGE.match(line)
            if m:
                self.edges.append((m.group(1), m.group(2), attrs(m.group(3))))
                continue
            m = _NODE.match(line)
            if m and m.group(1) not in ("graph", "node", "edge"):
                self.nodes[m.group(1)] = attrs(m.group(2))
                self.cluster_of[m.group(1)] = list(stack)

    def label(self, nid: str) -> str:
        return self.nodes[nid].get("label", nid)

    def lines(self, nid: str) -> list[str]:
        return self.label(nid).split("\\n")

    def by_label_start(self, text: str) -> list[str]:
        return [n for n in self.nodes if self.lines(n)[0] == text]

    def succ(self, nid: str) -> list[str]:
        return [d for s, d, _ in self.edges if s == nid]

    def pred(self, nid: str) -> list[str]:
        return [s for s, d, _ in self.edges if d == nid]


def svg_texts(svg: str) -> list[str]:
    """Parse SVG as XML (raises on malformed output) and return every <text> content."""
    root = ET.fromstring(svg.encode("utf-8"))
    ns = "{http://www.w3.org/2000/svg}"
    assert root.tag == ns + "svg"
    return [t.text or "" for t in root.iter(ns + "text")]
