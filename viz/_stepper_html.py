"""The Stepper's page and views: one rendered layout, restyled per frame (classes and gradient text only).

The graph is laid out once; a frame is a small state (the current op, the nodes and edges it touches,
what has not run yet, the gradients that changed). The page embeds the SVG once and the states as
JSON; a script applies them. ``apply_state`` does the same in Python for ``Frame.to_svg`` and the
ipywidgets view, so every frame shows every node where every other frame shows it.
"""
from __future__ import annotations

import html
import json
import re

# Emphasis by class, inside the SVG so a frame's SVG shows it anywhere (page, widget, file).
SVG_CSS = """
g.node.current ellipse, g.node.current polygon, g.node.current path { fill: #ff9f43; stroke: #c0392b;
  stroke-width: 3px; }
g.node.current text { fill: #000000; }
g.node.touched ellipse, g.node.touched polygon, g.node.touched path { stroke: #c0392b; stroke-width: 2px; }
g.node.pending ellipse, g.node.pending polygon, g.node.pending path { fill: #f7f7f7; stroke: #cccccc; }
g.node.pending text { fill: #9a9a9a; }
g.edge.current path { stroke: #c0392b; stroke-width: 2.2px; }
g.edge.current polygon { fill: #c0392b; stroke: #c0392b; }
g.edge.current.back path { stroke-dasharray: 7 4; animation: gg-flow 0.8s linear infinite; }
g.edge.pending path, g.edge.pending polygon { stroke: #cccccc; }
g.edge.pending polygon { fill: #cccccc; }
@keyframes gg-flow { from { stroke-dashoffset: 0; } to { stroke-dashoffset: -22; } }
"""

CSS = """
ROOT { font-family: Helvetica, Arial, sans-serif; }
ROOT .gg-controls { margin: 4px 0; display: flex; align-items: center; gap: 6px; }
ROOT .gg-slider { width: 320px; }
ROOT .gg-body { display: flex; gap: 10px; align-items: flex-start; }
ROOT .gg-view { flex: 1 1 auto; min-width: 0; max-height: 75vh; overflow: auto; border: 1px solid #eeeeee; }
ROOT .gg-view svg { max-width: none; }
ROOT .gg-side { flex: 0 0 44ch; max-height: 75vh; overflow: auto; margin: 0; font-size: 12px;
  white-space: pre-wrap; }
"""

JS = """
(function () {
  var root = document.getElementById("ROOT_ID");
  var data = JSON.parse(root.querySelector(".gg-data").textContent);
  var frames = data.frames, P = data.prefix;
  var view = root.querySelector(".gg-view"), side = root.querySelector(".gg-side");
  var slider = root.querySelector(".gg-slider"), pos = root.querySelector(".gg-pos");
  var nodes = {}, order = {}, gradText = {}, edges = [];
  Array.prototype.forEach.call(view.querySelectorAll("g.node"), function (g) {
    var id = g.id.slice(P.length);
    nodes[id] = g;
    var m = /^(?:op|t)(\\d+)/.exec(id);
    if (m) order[id] = +m[1];
    Array.prototype.forEach.call(g.querySelectorAll("text"), function (t) {
      if (!gradText[id] && t.textContent.indexOf("grad ") === 0) gradText[id] = t;
    });
  });
  Array.prototype.forEach.call(view.querySelectorAll("g.edge"), function (g) {
    edges[+g.id.slice(P.length + 1)] = g;
  });
  function focus(g) {
    // pan only when the current node is not fully in sight, then centre it
    var v = view.getBoundingClientRect(), r = g.getBoundingClientRect();
    var vw = view.clientWidth, vh = view.clientHeight;
    if (r.left < v.left || r.right > v.left + vw) view.scrollLeft += (r.left + r.width / 2) - (v.left + vw / 2);
    if (r.top < v.top || r.bottom > v.top + vh) view.scrollTop += (r.top + r.height / 2) - (v.top + vh / 2);
  }
  function show(i) {
    i = Math.max(0, Math.min(frames.length - 1, i | 0));
    var f = frames[i], id, k;
    for (id in nodes) {
      nodes[id].classList.remove("current", "touched", "pending");
      nodes[id].classList.toggle("pending", f.p >= 0 && order[id] !== undefined && order[id] >= f.p);
    }
    edges.forEach(function (g, k) {
      g.classList.remove("current", "back");
      var ends = data.edges[k];
      g.classList.toggle("pending", f.p >= 0 && ((order[ends[0]] !== undefined && order[ends[0]] >= f.p) ||
                                                 (order[ends[1]] !== undefined && order[ends[1]] >= f.p)));
    });
    f.t.forEach(function (id) { if (nodes[id]) nodes[id].classList.add("touched"); });
    f.e.forEach(function (k) { edges[k].classList.add("current"); if (f.b) edges[k].classList.add("back"); });
    nodes[f.c].classList.remove("touched");
    nodes[f.c].classList.add("current");
    for (id in gradText) gradText[id].textContent = "";
    for (k = 0; k <= i; k++) for (id in frames[k].g) gradText[id].textContent = "grad " + frames[k].g[id];
    side.textContent = "";
    var b = document.createElement("b");
    b.textContent = f.title;
    side.appendChild(b);
    side.appendChild(document.createTextNode(f.details ? "\\n" + f.details : ""));
    slider.value = i;
    pos.textContent = "step " + (i + 1) + " / " + frames.length;
    root.setAttribute("data-current", String(i));
    focus(nodes[f.c]);
  }
  slider.addEventListener("input", function () { show(+slider.value); });
  slider.addEventListener("change", function () { show(+slider.value); });
  root.querySelector(".gg-prev").addEventListener("click", function () { show(+slider.value - 1); });
  root.querySelector(".gg-next").addEventListener("click", function () { show(+slider.value + 1); });
  root.addEventListener("keydown", function (e) {
    if (e.key === "ArrowLeft") show(+slider.value - 1);
    if (e.key === "ArrowRight") show(+slider.value + 1);
  });
  root.gotoFrame = show;
  show(START);
})();
"""


def inline_svg(svg: str, prefix: str) -> str:
    """SVG text ready to inline in HTML: no XML prolog or comments, element ids made unique by ``prefix``."""
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else svg
    svg = re.sub(r"<!--.*?-->\n?", "", svg, flags=re.S)
    return re.sub(r'\bid="', f'id="{prefix}', svg)


def with_style(svg: str) -> str:
    """``svg`` with the emphasis classes' style sheet inside it."""
    m = re.search(r"<svg\b[^>]*>", svg)
    if not m or "g.node.current" in svg:
        return svg
    return svg[:m.end()] + f"\n<style>{SVG_CSS}</style>" + svg[m.end():]


_GROUP = re.compile(r'<g id="([^"]+)" class="(node|edge)">')
_NODE_BODY = re.compile(r'(<g id="([^"]+)" class="node[^"]*">)(.*?</g>)', re.S)
_GRAD_TEXT = re.compile(r"(<text[^>]*>)grad [^<]*(</text>)")


def apply_state(svg: str, classes: dict, grads: dict) -> str:
    """The shared layout's SVG with per-frame ``classes`` (element id -> extra class) and gradient lines:
    ``grads`` (node id -> text) for every node with a reserved ``grad`` line ('' leaves it blank)."""
    def group(m):
        extra = classes.get(m.group(1))
        return m.group(0) if not extra else f'<g id="{m.group(1)}" class="{m.group(2)} {extra}">'

    def node(m):
        if m.group(2) not in grads:
            return m.group(0)
        text = grads[m.group(2)]
        body = _GRAD_TEXT.sub(lambda t: t.group(1) + (html.escape("grad " + text) if text else "") + t.group(2),
                              m.group(3), count=1)
        return m.group(1) + body

    svg = _GROUP.sub(group, svg)
    return _NODE_BODY.sub(node, svg) if grads else svg


def page_fragment(uid: str, svg: str, frames: list[dict], edges: list, start: int = 0) -> str:
    """The stepper as one HTML fragment: the SVG once, the per-frame states as JSON, controls, a script."""
    n = len(frames)
    data = json.dumps({"prefix": f"{uid}_", "frames": frames, "edges": edges}, ensure_ascii=False,
                      separators=(",", ":")).replace("</", "<\\/")
    return (f'<div class="gg-stepper" id="{uid}" data-current="{start}" tabindex="0">\n'
            f'<style>{CSS.replace("ROOT", "#" + uid)}</style>\n'
            f'<div class="gg-controls"><button type="button" class="gg-prev">&#9664;</button> '
            f'<input type="range" class="gg-slider" min="0" max="{n - 1}" value="{start}" step="1"> '
            f'<button type="button" class="gg-next">&#9654;</button> '
            f'<span class="gg-pos">step {start + 1} / {n}</span></div>\n'
            f'<div class="gg-body"><div class="gg-view">{inline_svg(with_style(svg), uid + "_")}</div>'
            f'<pre class="gg-side"></pre></div>\n'
            f'<script type="application/json" class="gg-data">{data}</script>\n'
            f'<script>{JS.replace("ROOT_ID", uid).replace("START", str(start))}</script>\n</div>')


_NUM = r"(-?[\d.]+(?:e-?\d+)?)"
_VIEWBOX = re.compile(rf'viewBox="{_NUM} {_NUM} {_NUM} {_NUM}"')
_TRANSFORM = re.compile(rf'<g id="[^"]*graph0" class="graph" transform="scale\({_NUM} {_NUM}\) rotate\(0\) '
                        rf'translate\({_NUM} {_NUM}\)"')
_CURRENT = re.compile(r'<g id="[^"]*" class="node current[^"]*">(.*?)</g>', re.S)
_ELLIPSE = re.compile(rf'<ellipse[^>]*\bcx="{_NUM}" cy="{_NUM}" rx="{_NUM}" ry="{_NUM}"')
_POLYGON = re.compile(r'<polygon[^>]*\bpoints="([^"]+)"')


def current_box(svg: str):
    """``(x0, y0, x1, y1)`` of the highlighted node in viewBox coordinates, or None."""
    tf, cur = _TRANSFORM.search(svg), _CURRENT.search(svg)
    if not (tf and cur):
        return None
    sx, sy, tx, ty = map(float, tf.groups())
    ell = _ELLIPSE.search(cur.group(1))
    if ell:
        cx, cy, rx, ry = map(float, ell.groups())
        xs, ys = [cx - rx, cx + rx], [cy - ry, cy + ry]
    else:
        poly = _POLYGON.search(cur.group(1))
        if not poly:
            return None
        pts = [p.split(",") for p in poly.group(1).split()]
        xs, ys = [float(p[0]) for p in pts], [float(p[1]) for p in pts]
    return sx * (min(xs) + tx), sy * (min(ys) + ty), sx * (max(xs) + tx), sy * (max(ys) + ty)


def _window(lo: float, length: float, size: float, a: float, b: float) -> tuple[float, float]:
    """Start and size of a window of ``size`` over ``[lo, lo + length]`` holding ``[a, b]``: one of a fixed set
    of half-overlapping tiles when one holds it (so neighbouring steps share a view), else centred on it."""
    if length <= size:
        return lo, length
    stride = size / 2
    top = lo + length - size
    start = min(max(lo + round(((a + b) / 2 - size / 2 - lo) / stride) * stride, lo), top)
    if a < start or b > start + size:
        start = min(max((a + b) / 2 - size / 2, lo), top)
    return start, size


def focus_svg(svg: str, height: float = 480.0, width: float = 720.0) -> str:
    """A graph larger than ``width`` x ``height`` points cut to a window of at most that size holding the
    highlighted node, in both directions (for the ipywidgets view, which cannot scroll by script).

    Returns ``svg`` unchanged when it fits or has no highlighted node. The scale never changes, so text
    keeps its size from frame to frame.
    """
    box, cur = _VIEWBOX.search(svg), current_box(svg)
    if not (box and cur):
        return svg
    x0, y0, w, h = map(float, box.groups())
    if h <= height and w <= width:
        return svg
    left, new_w = _window(x0, w, width, cur[0], cur[2])
    top, new_h = _window(y0, h, height, cur[1], cur[3])
    svg = svg.replace(box.group(0), f'viewBox="{left:.2f} {top:.2f} {new_w:.2f} {new_h:.2f}"', 1)
    svg = re.sub(r'(<svg[^>]*?\bwidth=")[^"]*(")', rf"\g<1>{new_w:.0f}pt\g<2>", svg, count=1)
    return re.sub(r'(<svg[^>]*?\bheight=")[^"]*(")', rf"\g<1>{new_h:.0f}pt\g<2>", svg, count=1)
