"""The Stepper's self-contained page: inline SVG frames, a range slider, buttons, no network."""
from __future__ import annotations

import re


def inline_svg(svg: str, prefix: str) -> str:
    """SVG text ready to inline in HTML: no XML prolog, element ids made unique per frame."""
    start = svg.find("<svg")
    svg = svg[start:] if start >= 0 else svg
    return re.sub(r'\bid="', f'id="{prefix}', svg)


CSS = """
ROOT { font-family: Helvetica, Arial, sans-serif; }
ROOT .gg-controls { margin: 4px 0; display: flex; align-items: center; gap: 6px; }
ROOT .gg-slider { width: 320px; }
ROOT .gg-caption { margin: 4px 0; font-size: 12px; white-space: pre-wrap; }
ROOT .gg-svg { max-height: 75vh; overflow: auto; }
ROOT svg { max-width: 100%; height: auto; }
"""

JS = """
(function () {
  var root = document.getElementById("ROOT_ID");
  var frames = root.querySelectorAll(".gg-frame");
  var slider = root.querySelector(".gg-slider");
  var pos = root.querySelector(".gg-pos");
  function focusCurrent(frame) {
    // a tall graph scrolls inside its frame: bring the highlighted node to the middle of the view
    var view = frame.querySelector(".gg-svg");
    var node = frame.querySelector("g.node.current");
    if (!view || !node) return;
    var v = view.getBoundingClientRect(), r = node.getBoundingClientRect();
    view.scrollTop += (r.top + r.height / 2) - (v.top + view.clientHeight / 2);
    view.scrollLeft += (r.left + r.width / 2) - (v.left + view.clientWidth / 2);
  }
  function show(i) {
    i = Math.max(0, Math.min(frames.length - 1, i | 0));
    for (var k = 0; k < frames.length; k++) {
      var on = (k === i);
      frames[k].style.display = on ? "" : "none";
      frames[k].classList.toggle("gg-visible", on);
    }
    focusCurrent(frames[i]);
    slider.value = i;
    pos.textContent = (i + 1) + " / " + frames.length;
    root.setAttribute("data-current", String(i));
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
  show(0);
})();
"""


_NUM = r"(-?[\d.]+(?:e-?\d+)?)"
_VIEWBOX = re.compile(rf'viewBox="{_NUM} {_NUM} {_NUM} {_NUM}"')
_TRANSFORM = re.compile(rf'<g id="graph0" class="graph" transform="scale\({_NUM} {_NUM}\) rotate\(0\) '
                        rf'translate\({_NUM} {_NUM}\)"')
_CURRENT = re.compile(r'<g id="[^"]*" class="node current">(.*?)</g>', re.S)
_ELLIPSE = re.compile(rf'<ellipse[^>]*\bcx="{_NUM}" cy="{_NUM}"')
_POLYGON = re.compile(r'<polygon[^>]*\bpoints="([^"]+)"')


def focus_svg(svg: str, height: float = 480.0) -> str:
    """A graph taller than ``height`` points cut to a window of that height centred on the highlighted node.

    For the ipywidgets view, which cannot run a script to scroll: the slider stays on screen and the
    current node is always in sight. Returns ``svg`` unchanged when it is short or has no highlighted node.
    """
    box, tf, cur = _VIEWBOX.search(svg), _TRANSFORM.search(svg), _CURRENT.search(svg)
    if not (box and tf and cur):
        return svg
    x0, y0, w, h = map(float, box.groups())
    if h <= height:
        return svg
    ell = _ELLIPSE.search(cur.group(1))
    if ell:
        cy = float(ell.group(2))
    else:
        poly = _POLYGON.search(cur.group(1))
        if not poly:
            return svg
        ys = [float(p.split(",")[1]) for p in poly.group(1).split()]
        cy = (min(ys) + max(ys)) / 2
    sy, ty = float(tf.group(2)), float(tf.group(4))
    centre = sy * (cy + ty)
    top = min(max(centre - height / 2, y0), y0 + h - height)
    svg = svg.replace(box.group(0), f'viewBox="{x0:.2f} {top:.2f} {w:.2f} {height:.2f}"', 1)
    return re.sub(r'(<svg[^>]*?\bheight=")[^"]*(")', rf"\g<1>{height:.0f}pt\g<2>", svg, count=1)
