"""draw_graph / draw_backward: DOT structure for known graphs, gradients shown, SVG well-formed."""
import itertools

import numpy as np
import pytest
from _vizdot import Dot, svg_texts
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import viz


def small_graph():
    """loss = sum(tanh(W @ x + b) ** 2) / 2 with named leaves; returns all the pieces."""
    x = ag.tensor([1.0, 2.0], name="x")
    w = ag.tensor([[0.5, -1.0], [2.0, 0.1]], requires_grad=True, name="W")
    b = ag.tensor([0.1, 0.2], requires_grad=True, name="b")
    h = (w @ x + b).tanh()
    h.name = "h"
    loss = (h * h).sum() / 2.0
    return x, w, b, h, loss


def hand_values():
    """The same computation in float64 NumPy, with gradients by the chain rule."""
    x = np.array([1.0, 2.0])
    w = np.array([[0.5, -1.0], [2.0, 0.1]])
    b = np.array([0.1, 0.2])
    z = w @ x + b
    h = np.tanh(z)
    loss = (h * h).sum() / 2
    dh = h                    # d(sum h^2 / 2)/dh
    dz = dh * (1 - h ** 2)
    return {"z": z, "h": h, "loss": loss, "dh": dh, "dz": dz, "dW": np.outer(dz, x), "db": dz}


def test_forward_dot_nodes_labels_and_edges():
    _, _, _, _, loss = small_graph()
    d = Dot(viz.draw_graph(loss).source)
    ops = [n for n in d.nodes if n.startswith("op")]
    assert [d.lines(n)[0] for n in ops] == ["matmul", "add", "tanh", "multiply", "sum", "divide"]
    # leaves: parameters amber and bold, the data input green, the constant 2.0 grey and dashed
    (wn,) = d.by_label_start("W")
    (bn,) = d.by_label_start("b")
    (xn,) = d.by_label_start("x")
    assert d.nodes[wn]["fillcolor"] == d.nodes[bn]["fillcolor"] == "#fde9b8"
    assert d.nodes[xn]["fillcolor"] == "#ddf0d8"
    assert d.lines(wn)[1] == "(2, 2) float32"
    assert d.lines(xn)[1:] == ["(2,) float32", "[1., 2.]"]
    consts = [n for n in d.nodes if n.startswith("c")]
    assert len(consts) == 1 and d.label(consts[0]) == "2.0" and "dashed" in d.nodes[consts[0]]["style"]
    # wiring: W and x feed matmul in argument order, h feeds multiply twice
    assert sorted((s, e["label"]) for s, t, e in d.edges if t == "op0") == [(wn, "0"), (xn, "1")]
    (hn,) = d.by_label_start("h")
    assert d.pred("op3") == [hn, hn]
    assert d.succ("op0") == ["t0"] and d.pred("op1") == ["t0", bn]
    # values of intermediate tensors, checked against NumPy
    ref = hand_values()
    z_text = d.lines("t1")[-1]
    np.testing.assert_allclose(np.array(eval(z_text)), ref["z"], rtol=1e-4)
    np.testing.assert_allclose(float(d.lines("t5")[-1]), ref["loss"], rtol=1e-3)
    # the output is emphasised
    assert d.nodes["t5"]["penwidth"] == "2.2"


def test_forward_options_rankdir_values_and_names():
    _x, w, _b, _, loss = small_graph()
    src = viz.draw_graph(loss, rankdir="LR", show_values=False, names={"weights": w}).source
    assert "rankdir=LR" in src
    d = Dot(src)
    assert d.by_label_start("weights") and not d.by_label_start("W")
    assert all(len(d.lines(n)) == 1 for n in d.nodes if n.startswith("t") and n != "t2")  # no value lines
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_graph(loss, rankdir="XY")
    with pytest.raises(ValueError, match="max_value_elements"):
        viz.draw_graph(loss, max_value_elements=-1)
    with pytest.raises(TypeError, match="draw_graph"):
        viz.draw_graph("not a tensor")


def test_large_values_show_shape_not_elements():
    a = ag.tensor(np.arange(12.0, dtype=np.float32).reshape(3, 4), requires_grad=True)
    y = (a * 2.0).sum()
    d = Dot(viz.draw_graph(y, max_value_elements=4).source)
    (leaf,) = [n for n in d.nodes if n.startswith("in")]
    assert d.lines(leaf) == ["parameter", "(3, 4) float32"]


def test_svg_is_wellformed_and_has_labels():
    _, _, _, _, loss = small_graph()
    texts = svg_texts(viz.to_svg(viz.draw_graph(loss)))
    for expected in ("matmul", "add", "tanh", "multiply", "divide", "W", "b", "x", "h", "(2, 2) float32"):
        assert expected in texts


def test_drawing_is_a_digraph_that_pipes_svg():
    import graphviz

    _, _, _, _, loss = small_graph()
    d = viz.draw_graph(loss)
    assert isinstance(d, graphviz.Digraph)
    svg = d.pipe(format="svg").decode()
    assert "matmul" in svg_texts(svg)
    bundle = d._repr_mimebundle_()
    assert "matmul" in svg_texts(bundle["image/svg+xml"])


def test_backward_graph_structure_and_gradients_after_record():
    _, w, _b, _, loss = small_graph()
    with viz.record() as rec:
        loss.backward()
    assert [op.name for op in rec.backward] == ["divide", "sum", "multiply", "tanh", "add", "matmul"]
    ref = hand_values()
    np.testing.assert_allclose(w.grad.data, ref["dW"], rtol=1e-5)
    d = Dot(viz.draw_backward(loss).source)
    names = {d.lines(n)[0]: n for n in d.nodes}
    for op in ("divide", "sum", "multiply", "tanh", "add", "matmul"):
        assert f"{op} backward" in names
    # edges follow the gradient: seed -> divide -> sum -> multiply -> tanh -> add -> matmul -> W
    chain = ["start: \u2202output/\u2202output", "divide backward", "sum backward", "multiply backward",
             "tanh backward", "add backward", "matmul backward", "accumulate into W"]
    for a, c in itertools.pairwise(chain):
        assert names[c] in d.succ(names[a]), (a, c)
    assert names["accumulate into b"] in d.succ(names["add backward"])
    assert not any("accumulate into x" in d.label(n) for n in d.nodes)  # x does not require grad
    # every intermediate gradient recorded: the tanh node received dL/dh, add received dL/dz
    tanh_grad = next(line for line in d.lines(names["tanh backward"]) if line.startswith("grad "))
    np.testing.assert_allclose(np.array(eval(tanh_grad[5:])), ref["dh"], rtol=1e-3)
    add_grad = next(line for line in d.lines(names["add backward"]) if line.startswith("grad "))
    np.testing.assert_allclose(np.array(eval(add_grad[5:])), ref["dz"], rtol=1e-3, atol=1e-4)
    w_grad = " ".join(d.lines(names["accumulate into W"])[2:])[5:]
    np.testing.assert_allclose(np.array(eval(w_grad)), ref["dW"], rtol=1e-3, atol=1e-4)
    # the backward freed saved values: nodes are dashed and say so
    assert "dashed" in d.nodes[names["tanh backward"]]["style"]
    assert "saved values freed" in d.lines(names["tanh backward"])


def test_backward_graph_without_recording_shows_retain_grad_and_leaf_grads():
    x = ag.tensor([3.0], requires_grad=True, name="x")
    y = x * x
    y.name = "y"
    y.retain_grad()
    z = (y * 2.0).sum()
    d0 = Dot(viz.draw_backward(z).source)
    assert any(line == "grad: none yet" for n in d0.nodes for line in d0.lines(n))
    z.backward()
    d = Dot(viz.draw_backward(z).source)
    (yn,) = [n for n in d.nodes if "(for y)" in d.lines(n)]
    assert "grad [2.]" in d.lines(yn)   # dz/dy = 2, kept by retain_grad
    (acc,) = [n for n in d.nodes if n.startswith("acc")]
    assert d.lines(acc)[-1] == "grad [12.]"   # d(2x^2)/dx = 4x = 12


def test_backward_large_gradient_shows_shape_and_norm():
    a = ag.tensor(np.ones((4, 5), np.float32), requires_grad=True, name="A")
    s = (a * 3.0).sum()
    s.backward()
    d = Dot(viz.draw_backward(s, max_value_elements=4).source)
    (acc,) = [n for n in d.nodes if n.startswith("acc")]
    norm = float(d.lines(acc)[-1].split("=")[-1])
    assert norm == pytest.approx(np.sqrt(20 * 9.0), rel=1e-3)


def test_backward_rejects_constant_output():
    with pytest.raises(ValueError, match="does not require grad"):
        viz.draw_backward(ag.tensor([1.0]) * 2.0)


def test_drawing_changes_nothing():
    x, w, b, _h, loss = small_graph()
    before = [t.data.copy() for t in (x, w, b)]
    loss.backward(retain_graph=True)
    grads = [w.grad.data.copy(), b.grad.data.copy()]
    ops_before = [(op.name, op.order, op.freed) for op in viz._walk.collect_ops([loss])]
    viz.to_svg(viz.draw_graph(loss, show_grads=True))
    viz.to_svg(viz.draw_backward(loss))
    for t, v in zip((x, w, b), before):
        np.testing.assert_array_equal(t.data, v)
    np.testing.assert_array_equal(w.grad.data, grads[0])
    np.testing.assert_array_equal(b.grad.data, grads[1])
    assert [(op.name, op.order, op.freed) for op in viz._walk.collect_ops([loss])] == ops_before
    loss.backward()  # the graph is still usable
    np.testing.assert_allclose(w.grad.data, 2 * grads[0], rtol=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["sin", "tanh", "sigmoid", "mul", "add"]), min_size=1, max_size=8))
def test_forward_graph_has_one_op_node_per_op_in_execution_order(ops):
    x = ag.tensor([0.3, -0.2], requires_grad=True)
    y = x
    for name in ops:
        y = y * 1.5 if name == "mul" else y + x if name == "add" else getattr(y, name)()
    d = Dot(viz.draw_graph(y).source)
    op_nodes = [n for n in d.nodes if n.startswith("op")]
    expected = ["multiply" if n == "mul" else n for n in ops]
    assert [d.lines(n)[0] for n in op_nodes] == expected
    assert len([n for n in d.nodes if n.startswith("in")]) == 1  # x, shared by every add


def test_two_thousand_node_graph_draws_and_renders():
    x = ag.tensor(np.float32(0.5), requires_grad=True)
    y = x
    for _ in range(1000):
        y = y * 0.999  # 1000 ops + 1000 tensors + the leaf and constants
    d = viz.draw_graph(y)
    parsed = Dot(d.source)
    assert len(parsed.nodes) >= 2000
    svg = viz.to_svg(d)
    assert svg.count('class="node"') == len(parsed.nodes)


def test_leaf_used_by_many_ops_is_drawn_once_per_use():
    w = ag.tensor([0.9], requires_grad=True, name="w")
    h = ag.tensor([1.0], requires_grad=True, name="h0")
    for _ in range(300):
        h = h * w
    d = Dot(viz.draw_graph(h).source)
    copies = d.by_label_start("w")
    assert len(copies) == 300 and all(len(d.succ(n)) == 1 for n in copies)
    assert len(d.by_label_start("h0")) == 1
    assert len(svg_texts(viz.to_svg(viz.draw_graph(h)))) > 0  # lays out quickly: no node with 300 edges
    few = ag.tensor([1.0], requires_grad=True)
    y = few * w * w * w
    assert len(Dot(viz.draw_graph(y).source).by_label_start("w")) == 1


def test_a_leaf_alone_is_one_node():
    d = Dot(viz.draw_graph(ag.tensor([1.0, 2.0], name="x")).source)
    assert list(d.nodes) == ["in0"] and d.lines("in0") == ["x", "(2,) float32", "[1., 2.]"]
    assert d.nodes["in0"]["penwidth"] == "2.2"


def test_names_with_markup_characters_are_plain_text():
    x = ag.tensor([1.0], requires_grad=True, name='<w "1" \\ b>')
    assert svg_texts(viz.to_svg(viz.draw_graph(x * 2.0, legend=False)))[0] == '<w "1" \\ b>'


def test_legend_is_plain_text_every_renderer_draws():
    x = ag.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = (x * x).sum()
    y.backward()
    fwd = svg_texts(viz.to_svg(viz.draw_graph(y)))
    assert "amber box: parameter (a leaf that requires grad) \u00b7 green box: input" in fwd
    assert "grey dashed box: constant \u00b7 blue ellipse: operation \u00b7 white box: tensor \u00b7 " \
        "bold green border: output" in fwd
    bwd = svg_texts(viz.to_svg(viz.draw_backward(y)))
    assert any(t.startswith("pink: backward function (dashed once its saved values are freed)") for t in bwd)
    assert not any("amber box" in t for t in svg_texts(viz.to_svg(viz.draw_graph(y, legend=False))))
    assert not any("pink:" in t for t in svg_texts(viz.to_svg(viz.draw_backward(y, legend=False))))


def test_after_backward_the_legend_explains_dashed_ops_and_how_to_keep_values():
    x = ag.tensor([1.0, 2.0], requires_grad=True, name="x")
    y = (x * 3.0).sum()
    before = svg_texts(viz.to_svg(viz.draw_graph(y)))
    assert not any("dashed blue ellipse" in t for t in before)  # nothing freed yet: no such entry
    y.backward()
    after = " ".join(svg_texts(viz.to_svg(viz.draw_graph(y))))
    assert "dashed blue ellipse: backward() has run and freed" in after
    assert "`with viz.record():`" in after
    assert "[3., 6.]" not in after  # the product's values are gone (never drawn as zeros)


def test_values_recorded_inside_record_survive_backward():
    x = ag.tensor([1.0, 2.0], requires_grad=True, name="x")
    with viz.record():
        y = (x * 3.0).sum()
        y.backward()
    d = Dot(viz.draw_graph(y).source)
    assert d.nodes["op0"]["style"] == "filled,dashed"  # still freed ...
    assert "[3., 6.]" in d.lines("t0")  # ... but the numbers are drawn


def test_share_limit_counts_ops_not_uses():
    """x + x is one op reading x: eight such adds keep one x (share_limit=8 ops), a ninth op draws it per use."""
    x = ag.tensor([0.3, -0.2], requires_grad=True)
    y = x
    for _ in range(8):
        y = y + x  # the first is x + x
    assert len([n for n in Dot(viz.draw_graph(y).source).nodes if n.startswith("in")]) == 1
    y = y + x
    assert len([n for n in Dot(viz.draw_graph(y).source).nodes if n.startswith("in")]) == 10
