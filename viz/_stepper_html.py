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
