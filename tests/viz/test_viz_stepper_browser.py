"""The saved Stepper page in a real headless Chromium: moving the slider changes the highlighted node."""
import html
import json
import re
import shutil
import subprocess

import numpy as np
import pytest

import autograd as ag
import viz

CHROMIUM = next((shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome") if shutil.which(n)), None)


def _run_page(stepper, script, tmp_path, *extra_flags):
    """Save the stepper's page with ``script`` appended, load it in headless Chromium, return what it wrote."""
    page = stepper.save_html(tmp_path / "stepper.html").read_text(encoding="utf-8")
    driven = tmp_path / "driven.html"
    driven.write_text(page.replace("</body>", script + "</body>"), encoding="utf-8")
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
           "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
           *extra_flags, f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", driven.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    m = re.search(r'<pre id="gg-test-result">(.*?)</pre>', proc.stdout, re.DOTALL)
    assert m, f"no result from chromium (exit {proc.returncode}): {proc.stderr[-2000:]}"
    return json.loads(html.unescape(m.group(1)))


# Appended to a copy of the page: drive the controls like a user would, then write what is on screen.
_DRIVER = """
<script>
(function () {
  var root = document.querySelector(".gg-stepper");
  var slider = root.querySelector(".gg-slider");
  function state() {
    var g = root.querySelectorAll("g.node.current");
    var box = g.length === 1 ? g[0].getBoundingClientRect() : null;
    return {current: g.length, index: +root.getAttribute("data-current"),
            node: g.length === 1 ? g[0].querySelector("title").textContent : null, width: box ? box.width : 0,
            position: root.querySelector(".gg-pos").textContent,
            caption: root.querySelector(".gg-side b").textContent};
  }
  var out = [state()];
  slider.value = 3; slider.dispatchEvent(new Event("input", {bubbles: true})); out.push(state());
  slider.value = 7; slider.dispatchEvent(new Event("input", {bubbles: true})); out.push(state());
  root.querySelector(".gg-next").click(); out.push(state());
  root.querySelector(".gg-prev").click(); root.querySelector(".gg-prev").click(); out.push(state());
  var pre = document.createElement("pre");
  pre.id = "gg-test-result";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)")
def test_slider_moves_the_highlight_in_chromium(tmp_path):
    a = ag.tensor([0.5, -1.0], requires_grad=True, name="a")
    b = ag.tensor([2.0, 3.0], requires_grad=True, name="b")
    out = ((a * b).exp() + (a * b).sin()).sum()
    s = viz.Stepper(out)
    states = _run_page(s, _DRIVER, tmp_path)
    expected_nodes = [f.node for f in s.frames]
    assert [st["index"] for st in states] == [0, 3, 7, 8, 6]
    for st in states:
        assert st["current"] == 1  # exactly one highlighted node
        assert st["node"] == expected_nodes[st["index"]]  # the highlighted node is that frame's op
        assert st["width"] > 0  # and it is actually laid out on screen
        assert st["position"] == f"step {st['index'] + 1} / {len(s)}"  # counted from 1, as the captions
        assert st["caption"] == s.frames[st["index"]].title
    assert len({st["node"] for st in states[:2]}) == 2  # moving the slider moved the highlight


# Walk every frame in a small window: the highlighted node must be inside the visible part of the
# scrolled view (both directions), every node at the same place in the drawing, the text the same size.
_VISIBLE = """
<script>
(function () {
  var root = document.querySelector(".gg-stepper");
  var view = root.querySelector(".gg-view"), svg = view.querySelector("svg");
  var n = JSON.parse(root.querySelector(".gg-data").textContent).frames.length;
  var out = [];
  for (var i = 0; i < n; i++) {
    root.gotoFrame(i);
    var v = view.getBoundingClientRect(), s = svg.getBoundingClientRect();
    var cur = root.querySelectorAll("g.node.current");
    var r = cur[0].getBoundingClientRect();
    var places = {};
    Array.prototype.forEach.call(svg.querySelectorAll("g.node"), function (g) {
      var b = g.getBoundingClientRect();  // relative to the drawing, so scrolling does not count
      places[g.querySelector("title").textContent] = [Math.round(b.left - s.left), Math.round(b.top - s.top)];
    });
    var t = svg.querySelector("g.node text").getBoundingClientRect();
    out.push({current: cur.length, node: cur[0].querySelector("title").textContent,
              inside: r.left >= v.left - 1 && r.right <= v.left + view.clientWidth + 1 &&
                      r.top >= v.top - 1 && r.bottom <= v.top + view.clientHeight + 1 && r.height > 0,
              places: places, text: Math.round(t.height * 10) / 10,
              title: root.querySelector(".gg-side b").textContent});
  }
  var pre = document.createElement("pre");
  pre.id = "gg-test-result";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


def _check_every_frame(s, states):
    assert len(states) == len(s)
    assert [st["title"] for st in states] == [f.title for f in s.frames]
    assert [st["node"] for st in states] == [f.node for f in s.frames]
    assert all(st["current"] == 1 for st in states)
    assert all(st["inside"] for st in states), [i for i, st in enumerate(states) if not st["inside"]]
    first = states[0]
    moved = [i for i, st in enumerate(states) if st["places"] != first["places"]]
    assert not moved, f"nodes moved in frames {moved}"
    assert {st["text"] for st in states} == {first["text"]}  # the text keeps its size


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)")
def test_current_node_scrolled_into_view_in_a_tall_graph(tmp_path):
    ag.manual_seed(0)
    x = ag.randn(4, 2)
    h = x
    params = [ag.randn(2, 2, requires_grad=True) for _ in range(6)]
    for w in params:
        h = (h @ w).tanh()
    s = viz.Stepper(h.sum())
    _check_every_frame(s, _run_page(s, _VISIBLE, tmp_path, "--window-size=900,500"))


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (make test installs it)")
def test_mid_size_model_every_frame_keeps_the_node_in_sight_and_in_place(tmp_path):
    """Linear-BatchNorm-ReLU-Dropout x2 -> Linear(128, 10) with cross-entropy (label smoothing, so the loss is
    several ops): about 70 frames with the loss's ops expanded. The highlighted node used to leave the view
    sideways in 28 of them, and nodes moved when gradient labels widened the boxes."""
    import nn

    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(16, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.2),
                          nn.Linear(128, 128), nn.BatchNorm1d(128), nn.ReLU(), nn.Dropout(0.2), nn.Linear(128, 10))
    x = ag.randn(8, 16)
    loss = nn.functional.cross_entropy(model(x), ag.tensor(np.arange(8) % 10), label_smoothing=0.1)
    s = viz.Stepper(loss, expand=True)
    assert len(s) >= 60
    _check_every_frame(s, _run_page(s, _VISIBLE, tmp_path, "--window-size=700,500"))
    folded = viz.Stepper(loss)  # the loss as one step
    assert len(folded) < len(s)
    (tmp_path / "folded").mkdir()
    _check_every_frame(folded, _run_page(folded, _VISIBLE, tmp_path / "folded", "--window-size=700,500"))
    plain = viz.Stepper(nn.functional.cross_entropy(model(x), ag.tensor(np.arange(8) % 10)))  # one loss node
    (tmp_path / "plain").mkdir()
    _check_every_frame(plain, _run_page(plain, _VISIBLE, tmp_path / "plain", "--window-size=700,500"))
