"""Stepper: frame count and order (forward = execution order, backward = the engine's visiting order),
values and gradients per frame, navigation, the saved page, and that stepping changes nothing."""
import html
import json
import re

import numpy as np
import pytest
from _vizdot import Dot, svg_texts

import autograd as ag
import viz


def graph():
    """A graph with a fan-out (u used twice) so the backward order is not just the reverse of a chain."""
    a = ag.tensor([0.5, -1.0], requires_grad=True, name="a")
    b = ag.tensor([2.0, 3.0], requires_grad=True, name="b")
    u = a * b
    u.name = "u"
    v = u.exp()
    w = u.sin()
    out = (v + w).sum()
    return a, b, u, out


def test_frame_count_and_forward_order_is_execution_order():
    _, _, _, out = graph()
    s = viz.Stepper(out)
    ops = viz._walk.collect_ops([out])
    assert len(ops) == 5
    assert len(s) == 10
    fwd = [f for f in s.frames if f.phase == "forward"]
    assert [f.op for f in fwd] == sorted(ops, key=lambda op: op.order)
    assert [f.op.name for f in fwd] == ["multiply", "exp", "sin", "add", "sum"]
    assert [f.index for f in s.frames] == list(range(10))


def test_forward_order_matches_recording_of_the_forward_pass():
    with viz.record() as rec:
        _, _, _, out = graph()
    s = viz.Stepper(out)
    assert [f.op for f in s.frames if f.phase == "forward"] == rec.forward


def test_backward_order_is_the_engines_order():
    _, _, _, out = graph()
    s = viz.Stepper(out)
    with viz.record() as rec:
        out.backward()  # the real thing, after the Stepper ran its own backward with retain_graph
    assert [f.op for f in s.frames if f.phase == "backward"] == rec.backward
    assert next(f.op.name for f in s.frames if f.phase == "backward") == "sum"


def test_frames_show_values_and_gradients():
    _a, _b, _u, out = graph()
    s = viz.Stepper(out)
    uval = np.array([1.0, -3.0])
    first = s.frames[0]
    assert first.title == "forward 1/5: multiply -> (2,) float32"
    np.testing.assert_allclose(np.array(eval(first.details.split("= ")[1])), uval)
    # later ops are faded and carry no value yet; the current op is highlighted
    d0 = Dot(first.drawing.source)
    assert d0.nodes["op0"]["class"] == "current"
    assert d0.nodes["op4"]["fontcolor"] == "#9a9a9a" and len(d0.lines("t4")) == 1
    # backward: the multiply step receives du = exp(u) + cos(u) and sends it times b and times a
    bw = {f.op.name: f for f in s.frames if f.phase == "backward"}
    du = np.exp(uval) + np.cos(uval)
    got = np.array(eval(bw["multiply"].title.split("receives grad ")[1]))
    np.testing.assert_allclose(got, du, rtol=1e-3)
    dlast = Dot(bw["multiply"].drawing.source)
    a_node = next(n for n in dlast.nodes if dlast.lines(n)[0] == "a")
    grad_line = dlast.lines(a_node)[-1]
    np.testing.assert_allclose(np.array(eval(grad_line[5:])), du * np.array([2.0, 3.0]), rtol=1e-3)
    assert all(e.get("dir") == "back" for s_, d_, e in dlast.edges if d_ == "op0")


def test_fan_out_gradient_accumulates_across_frames():
    _, _, _u, out = graph()
    s = viz.Stepper(out)
    uval = np.array([1.0, -3.0])
    bw = [f for f in s.frames if f.phase == "backward"]
    seen = []
    for f in bw:
        d = Dot(f.drawing.source)
        (un,) = [n for n in d.nodes if d.lines(n)[0] == "u"]
        lines = [line for line in d.lines(un) if line.startswith("grad ")]
        seen.append(lines[0][5:] if lines else None)
    # u gets exp(u) from the exp step and cos(u) from the sin step: after both, the sum
    final = np.array(eval(seen[-1]))
    np.testing.assert_allclose(final, np.exp(uval) + np.cos(uval), rtol=1e-3)
    partial = next(x for x in seen if x is not None)
    assert not np.allclose(np.array(eval(partial)), final)


def test_stepping_changes_no_gradient_and_keeps_the_graph_usable(tmp_path):
    a, b, u, out = graph()
    u.retain_grad()
    a.grad = ag.tensor([10.0, 10.0])
    s = viz.Stepper(out)
    s.save_html(tmp_path / "page.html")
    np.testing.assert_array_equal(a.grad.data, [10.0, 10.0])
    assert b.grad is None and u.grad is None
    out.backward()
    uval = np.array([1.0, -3.0])
    np.testing.assert_allclose(a.grad.data, 10.0 + (np.exp(uval) + np.cos(uval)) * [2.0, 3.0], rtol=1e-5)
    assert len(s) == 10


def test_navigation():
    _, _, _, out = graph()
    s = viz.Stepper(out)
    assert s.position == -1 and s.current is s.frames[0]
    assert s.step() is s.frames[0]
    assert s.step(3) is s.frames[3]
    assert s.step(-10) is s.frames[0]
    assert s.step(100) is s.frames[-1]
    assert s.goto(-2) is s.frames[8]
    with pytest.raises(IndexError):
        s.goto(10)
    with pytest.raises(TypeError):
        s.step(1.5)
    s.reset()
    assert s.position == -1
    assert list(s) == s.frames and s[2] is s.frames[2]
    assert "5 forward and 5 backward" in repr(s)
    assert "multiply" in svg_texts(viz.to_svg(s))


def test_forward_only_and_errors():
    _, _, _, out = graph()
    assert len(viz.Stepper(out, backward=False)) == 5
    with pytest.raises(TypeError):
        viz.Stepper([out])
    with pytest.raises(ValueError, match="not produced by recorded operations"):
        viz.Stepper(ag.tensor([1.0]))
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    y = x * 3.0
    with pytest.raises(ValueError, match="gradient="):
        viz.Stepper(y)
    s = viz.Stepper(y, gradient=np.array([1.0, -1.0], np.float32))
    assert s.frames[-1].title == "backward 1/1: multiply receives grad [ 1., -1.]"
    with pytest.raises(ValueError, match="shape"):
        viz.Stepper(y, gradient=np.ones(3))
    z = (x * x).sum()
    z.backward()
    with pytest.raises(RuntimeError, match="retain_graph"):
        viz.Stepper(z)
    assert len(viz.Stepper(z, backward=False)) == 2


def test_saved_page_is_self_contained(tmp_path):
    _, _, _, out = graph()
    s = viz.Stepper(out)
    page = s.save_html(tmp_path / "steps.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") == 1  # the drawing once; frames are states applied to it
    assert 'type="range"' in page and 'max="9"' in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing fetched from the network
    ids = re.findall(r'\bid="([^"]+)"', page)
    assert len(ids) == len(set(ids))  # element ids unique
    data = json.loads(html.unescape(re.search(r'class="gg-data">(.*?)</script>', page, re.S).group(1))
                      .replace("<\\/", "</"))
    assert [f["title"] for f in data["frames"]] == [f.title for f in s.frames]
    assert [f["c"] for f in data["frames"]] == [f.node for f in s.frames]
    assert data["frames"][0]["title"] == "forward 1/5: multiply -> (2,) float32"


def test_repr_html_is_the_same_widget_fragment():
    _, _, _, out = graph()
    s = viz.Stepper(out, backward=False)
    frag = s._repr_html_()
    assert frag.count("<svg") == 1 and "<script>" in frag and "gg-slider" in frag and 'max="4"' in frag


def test_every_frame_svg_is_one_layout_with_nodes_in_place():
    """Defect: gradient labels widened boxes, so each frame was laid out again and nodes moved."""
    _, _, _, out = graph()
    s = viz.Stepper(out)
    def geometry(svg):
        return re.findall(r'<(?:ellipse|polygon|path)[^>]*?(?:cx="[^"]*" cy="[^"]*"|points="[^"]*"|d="[^"]*")', svg)

    def shapes(svg):
        return [re.sub(r'(fill|stroke)="[^"]*"', "", g) for g in geometry(svg)]

    def sizes(svg):
        return set(re.findall(r'font-size="([^"]+)"', svg))

    first = s.frames[0].to_svg()
    for f in s.frames:
        svg = f.to_svg()
        assert shapes(svg) == shapes(first)
        assert sizes(svg) == sizes(first)
        assert re.search(r'viewBox="[^"]*"', svg).group(0) == re.search(r'viewBox="[^"]*"', first).group(0)
        assert f'<g id="{f.node}" class="node current">' in svg
    # the gradient u has received so far is written into its reserved line, frame by frame
    u_id = "t0"  # u, the output of the first op
    texts = [re.findall(r">grad ([^<]*)<", re.search(rf'<g id="{u_id}" class="node[^"]*">(.*?)</g>', f.to_svg(),
                                                        re.S).group(1)) for f in s.frames]
    assert texts[0] == [] and texts[-1] != []


def test_captions_of_multi_line_values_do_not_repeat_lines():
    """Defect: a value spanning several lines was repeated in the caption (title assumed to be one line)."""
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, name="x")
    s = viz.Stepper((x * x).sum())
    for f in s.frames:
        assert "\n" not in f.title
        lines = f.text.splitlines()
        assert len(lines) == len(set(lines)), lines
        assert f.text == f.title + ("\n" + f.details if f.details else "")
    assert s.frames[0].details == "value = [[ 1.,  4.], [ 9., 16.]]"  # the 2-D value on one line


def test_leaf_drawn_once_per_use_shows_its_total_gradient_everywhere():
    w = ag.tensor([0.9], requires_grad=True, name="w")
    h = ag.tensor([1.0], name="h0")
    for _ in range(10):
        h = h * w
    s = viz.Stepper(h.sum())
    last = Dot(s.frames[-1].drawing.source)
    copies = last.by_label_start("w")
    assert len(copies) == 10
    for n in copies:
        assert float(eval(last.lines(n)[-1][5:])[0]) == pytest.approx(10 * 0.9 ** 9, rel=1e-4)


def test_jupyter_widget_slider_and_buttons_drive_the_frame():
    pytest.importorskip("ipywidgets")
    _, _, _, out = graph()
    s = viz.Stepper(out)
    box = s.widget()
    (prev, slider, nxt, count), view, caption = box.children[0].children, box.children[1], box.children[2]
    assert (slider.min, slider.max, slider.value) == (1, 10, 1)  # counts steps from 1, as the captions do
    assert count.value == "of 10"
    assert "multiply" in view.value and 'class="node current"' in view.value
    assert "step 1 / 10" in caption.value
    slider.value = 7
    assert s.position == 6 and html.escape(s.frames[6].details) in caption.value
    assert "step 7 / 10" in caption.value
    nxt.click()
    assert slider.value == 8 and s.position == 7
    prev.click()
    prev.click()
    assert s.position == 5 and html.escape(s.frames[5].details) in caption.value


def test_step_and_goto_move_a_displayed_widget():
    """Defect: Stepper.step()/goto() changed the cursor but not the widget already on screen."""
    pytest.importorskip("ipywidgets")
    _, _, _, out = graph()
    s = viz.Stepper(out)
    box = s.widget()
    slider, caption = box.children[0].children[1], box.children[2]
    assert s.position == 0  # showing the widget shows the first step
    s.step(3)
    assert slider.value == 4 and html.escape(s.frames[3].title) in caption.value
    s.goto(-1)
    assert slider.value == 10 and html.escape(s.frames[9].title) in caption.value
    s.reset()
    assert slider.value == 1


def test_ipython_display_falls_back_to_the_html_page(monkeypatch):
    pytest.importorskip("IPython")
    import builtins

    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj: shown.append(obj))
    real_import = builtins.__import__

    def no_widgets(name, *args, **kwargs):
        if name == "ipywidgets":
            raise ImportError("no ipywidgets")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_widgets)
    _, _, _, out = graph()
    viz.Stepper(out, backward=False)._ipython_display_()
    assert len(shown) == 1 and "gg-slider" in shown[0].data


def test_widget_cuts_a_tall_graph_to_a_window_around_the_current_node():
    pytest.importorskip("ipywidgets")
    import re

    ag.manual_seed(0)
    h = ag.randn(3, 2)
    for _ in range(6):
        h = (h @ ag.randn(2, 2, requires_grad=True)).tanh()
    s = viz.Stepper(h.sum())
    box = s.widget()
    slider, view = box.children[0].children[1], box.children[1]
    for i in (0, len(s) // 2, len(s) - 1):
        slider.value = i
        full = s.frames[i].to_svg()
        full_h = float(re.search(r'viewBox="[\d.]+ [\d.]+ [\d.]+ ([\d.]+)"', full).group(1))
        assert full_h > 480  # tall enough to be cut
        top, height = map(float, re.search(r'viewBox="[\d.]+ ([\d.]+) [\d.]+ ([\d.]+)"', view.value).groups())
        assert height == 480 and 0 <= top <= full_h - 480
        ty = float(re.search(r'translate\([\d.]+ ([\d.]+)\)', full).group(1))
        node = re.search(r'class="node current">.*?<ellipse[^>]*cy="(-?[\d.]+)"', view.value, re.S)
        centre = float(node.group(1)) + ty  # the node's centre in viewBox coordinates
        assert top < centre < top + height
    short = viz.Stepper((ag.tensor([1.0], requires_grad=True) * 2.0).sum())
    assert viz._stepper_html.focus_svg(short.frames[0].to_svg()) == short.frames[0].to_svg()


def _chain(n_steps):
    x = ag.tensor([1.0], requires_grad=True, name="x")
    y = x
    for _ in range(n_steps):
        y = y * 1.0001 + 0.0
    return y.sum()


@pytest.mark.slow
def test_saved_page_of_a_1000_op_graph_is_under_5_mb(tmp_path):
    """Defect: every frame embedded the whole SVG (a 300-op chain gave a 394 MB page)."""
    s = viz.Stepper(_chain(500))  # 1,001 ops: 2,002 frames
    assert len(s) == 2002
    size = s.save_html(tmp_path / "big.html").stat().st_size
    assert size < 5_000_000, f"{size / 1e6:.1f} MB"


def test_widget_view_keeps_the_current_node_in_a_window_of_fixed_scale():
    """Defect: the widget cropped a tall graph vertically only, so in a wide one the node left the view."""
    ag.manual_seed(0)
    h = ag.randn(3, 2)
    branches = [(h @ ag.randn(2, 2, requires_grad=True)).tanh() for _ in range(12)]  # a wide graph
    out = branches[0]
    for b in branches[1:]:
        out = out + b
    s = viz.Stepper(out.sum())
    base = s.base_svg()
    full_w = float(re.search(r'viewBox="[\d.]+ [\d.]+ ([\d.]+)', base).group(1))
    assert full_w > 720  # wider than the window
    scales = set()
    for f in s.frames:
        svg = viz._stepper_html.focus_svg(f.to_svg())
        x0, y0, w, h_ = map(float, re.search(r'viewBox="([\d.]+) ([\d.]+) ([\d.]+) ([\d.]+)"', svg).groups())
        assert w <= 720 and h_ <= 480
        scales.add(round(float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1)) / w, 2))
        bx0, by0, bx1, by1 = viz._stepper_html.current_box(svg)
        assert x0 <= bx0 and bx1 <= x0 + w and y0 <= by0 and by1 <= y0 + h_, f.title
    assert scales == {1.0}  # the text keeps its size
