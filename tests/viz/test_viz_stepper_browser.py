"""The saved Stepper page in a real headless Chromium: moving the slider changes the highlighted node."""
import html
import json
import re
import shutil
import subprocess

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
    var shown = Array.prototype.filter.call(root.querySelectorAll(".gg-frame"),
      function (f) { return getComputedStyle(f).display !== "none"; });
    var g = shown.length === 1 ? shown[0].querySelector("g.node.current") : null;
    var box = g ? g.getBoundingClientRect() : null;
    return {shown: shown.length, index: shown.length ? +shown[0].getAttribute("data-index") : -1,
            node: g ? g.querySelector("title").textContent : null, width: box ? box.width : 0,
            position: root.querySelector(".gg-pos").textContent};
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
        assert st["shown"] == 1  # exactly one frame visible
        assert st["node"] == expected_nodes[st["index"]]  # the highlighted node is that frame's op
        assert st["width"] > 0  # and it is actually laid out on screen
        assert st["position"] == f"{st['index'] + 1} / {len(s)}"
    assert len({st["node"] for st in states[:2]}) == 2  # moving the slider moved the highlight


# Walk every frame of a tall graph in a small window: the highlighted node must be inside the visible
# part of its frame's scrolled view, and the step's title shown above it.
_VISIBLE = """
<script>
(function () {
  var root = document.querySelector(".gg-stepper");
  var out = [];
  for (var i = 0; i < root.querySelectorAll(".gg-frame").length; i++) {
    root.gotoFrame(i);
    var frame = root.querySelectorAll(".gg-frame")[i];
    var view = frame.querySelector(".gg-svg").getBoundingClientRect();
    var r = frame.querySelector("g.node.current").getBoundingClientRect();
    out.push({inside: r.top >= view.top - 1 && r.bottom <= view.bottom + 1 && r.height > 0,
              title: frame.querySelector(".gg-caption b").textContent});
  }
  var pre = document.createElement("pre");
  pre.id = "gg-test-result";
  pre.textContent = JSON.stringify(out);
  document.body.appendChild(pre);
})();
</script>
"""


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
    states = _run_page(s, _VISIBLE, tmp_path, "--window-size=900,500")
    assert len(states) == len(s)
    assert [st["title"] for st in states] == [f.title for f in s.frames]
    assert all(st["inside"] for st in states), [i for i, st in enumerate(states) if not st["inside"]]
