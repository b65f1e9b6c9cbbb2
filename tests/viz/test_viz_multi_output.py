"""Drawings of nodes with several outputs (split, unbind) and of graphs whose values were freed."""
import numpy as np
import pytest
from _vizdot import Dot

import autograd as ag
import viz


def split_graph(use_all=True):
    x = ag.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True, name="x")
    a, b, c = ag.split(x, 3)
    loss = (a * 2).sum() + (c * 3).sum() + ((b * 4).sum() if use_all else 0)
    return x, (a, b, c), loss


def test_split_is_one_op_node_with_one_tensor_node_per_output():
    _, _, loss = split_graph()
    d = Dot(viz.draw_graph(loss).source)
    (split,) = d.by_label_start("split")
    outs = d.succ(split)
    assert len(outs) == 3
    consumers = [d.succ(o) for o in outs]  # each piece feeds its own multiply
    assert all(len(c) == 1 and d.lines(c[0])[0] == "multiply" for c in consumers)
    assert len({c[0] for c in consumers}) == 3
    assert all("(1, 2) float64" in d.lines(o) for o in outs)


def test_an_unused_output_is_drawn_without_consumers():
    _, _, loss = split_graph(use_all=False)
    d = Dot(viz.draw_graph(loss).source)
    (split,) = d.by_label_start("split")
    used = [o for o in d.succ(split) if d.succ(o)]
    assert len(d.succ(split)) == 3 and len(used) == 2


def test_stepper_through_a_split_shows_each_piece_gradient():
    x, _, loss = split_graph()
    stepper = viz.Stepper(loss)
    backward = [f for f in stepper.frames if f.phase == "backward"]
    split_frame = next(f for f in backward if f.op.name == "split")
    assert "split receives grad" in split_frame.title
    # the recorded gradient of each piece is its constant factor
    received = stepper.recording.received_outputs[split_frame.op]
    np.testing.assert_allclose([g for g in received], [[[2.0, 2.0]], [[4.0, 4.0]], [[3.0, 3.0]]])
    assert x.grad is None  # stepping does not accumulate into .grad


def test_unbind_with_one_output_used_steps_and_draws():
    x = ag.tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
    first, _ = ag.unbind(x)
    loss = (first * first).sum()
    stepper = viz.Stepper(loss)
    frame = next(f for f in stepper.frames if f.phase == "backward" and f.op.name == "unbind")
    received = stepper.recording.received_outputs[frame.op]
    np.testing.assert_allclose(received[0], 2 * x.data[0])
    assert received[1] is None  # the unused row received no gradient
    assert frame.to_svg().startswith("<")


def test_a_freed_graph_draws_shapes_not_zeros():
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    loss = ((x * 3) + 1).sum()  # the intermediates are held by nobody but the graph
    before = Dot(viz.draw_graph(loss).source)
    loss.backward()
    after = Dot(viz.draw_graph(loss).source)
    mul_out = [n for n in after.nodes if n.startswith("t") and "multiply" in after.lines(after.pred(n)[0])[0]]
    (node,) = mul_out
    assert "[3., 6.]" in " ".join(before.lines(node))
    text = " ".join(after.lines(node))
    assert "(2,) float32" in text and "[0., 0.]" not in text and "[3., 6.]" not in text
    assert "freed" in after.nodes[node].get("tooltip", "")
    backward = Dot(viz.draw_backward(loss).source)
    assert any("saved values freed" in " ".join(backward.lines(n)) for n in backward.nodes)


class MinMax(ag.Function):
    """A user Function with two outputs: the column minima and maxima."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x.min(axis=0), x.max(axis=0)

    @staticmethod
    def backward(ctx, g_min, g_max):
        (x,) = ctx.saved_tensors
        g = np.zeros_like(x)
        cols = np.arange(x.shape[1])
        g[x.argmin(axis=0), cols] += g_min
        g[x.argmax(axis=0), cols] += g_max
        return g


def split_tensor_nodes(d):
    """The tensor nodes of the one split node, in output order."""
    (split,) = d.by_label_start("split")
    return d.succ(split)


def test_show_grads_puts_each_piece_gradient_on_its_own_tensor_node():
    _, _, loss = split_graph(use_all=False)
    with viz.record():
        loss.backward(retain_graph=True)
    d = Dot(viz.draw_graph(loss, show_grads=True).source)
    a, b, c = split_tensor_nodes(d)
    assert d.lines(a)[-1] == "grad [[2., 2.]]" and d.lines(c)[-1] == "grad [[3., 3.]]"
    assert not any(line.startswith("grad") for line in d.lines(b))  # the unused piece received none


def test_backward_drawing_has_one_grad_line_per_output_and_labels_edges_by_output():
    _, _, loss = split_graph(use_all=False)
    with viz.record():
        loss.backward(retain_graph=True)
    d = Dot(viz.draw_backward(loss).source)
    (split,) = d.by_label_start("split backward")
    assert [ln for ln in d.lines(split) if ln.startswith("grad")] == \
        ["grad 0: [[2., 2.]]", "grad 1: (1, 2) float64", "grad 2: [[3., 3.]]"]
    into_split = sorted(e["label"].split("\\n")[0] for s, t, e in d.edges if t == split)
    assert into_split == ["out 0", "out 2"]
    (acc,) = d.by_label_start("accumulate into x")
    assert d.succ(split) == [acc]


def test_forward_frame_of_a_split_lists_every_piece_value():
    _, _, loss = split_graph(use_all=False)
    frame = next(f for f in viz.Stepper(loss).frames if f.phase == "forward" and f.op.name == "split")
    assert frame.title.endswith("-> (1, 2) float64, (1, 2) float64, (1, 2) float64")
    assert frame.details.splitlines() == ["value 0 = [[0., 1.]]", "value 1 = [[2., 3.]]", "value 2 = [[4., 5.]]"]


def test_stepper_through_a_split_with_one_piece_unused_names_the_outputs_that_received_grad():
    x, _, loss = split_graph(use_all=False)
    stepper = viz.Stepper(loss)
    frame = next(f for f in stepper.frames if f.phase == "backward" and f.op.name == "split")
    assert frame.title.endswith("split receives grad [[2., 2.]] at output 0, [[3., 3.]] at output 2")
    (sent,) = [ln for ln in frame.details.splitlines() if ln.startswith("  input 0 (x): ")]
    np.testing.assert_allclose(eval(sent.split(" = ")[-1]), [[2, 2], [0, 0], [3, 3]])
    d = Dot(frame.drawing.source)
    a, b, c = split_tensor_nodes(d)
    assert "grad [[2., 2.]]" in d.lines(a) and "grad [[3., 3.]]" in d.lines(c)
    assert not any(line.startswith("grad") for line in d.lines(b))
    (xn,) = d.by_label_start("x")
    assert d.lines(xn)[-1] == "grad [[2., 2.], [0., 0.], [3., 3.]]"  # the total sent to the leaf, on one line
    assert x.grad is None
    assert all(f.to_svg().startswith("<") for f in stepper.frames)


def test_stepper_from_one_piece_of_a_split_marks_that_piece_as_the_output():
    x = ag.tensor(np.arange(6.0).reshape(3, 2), requires_grad=True)
    _, b, _ = ag.split(x, 3)
    stepper = viz.Stepper(b, gradient=np.ones((1, 2)))
    assert [f.phase for f in stepper.frames] == ["forward", "backward"]
    assert stepper.frames[1].title == "backward 1/1: split receives grad [[1., 1.]] at output 1"
    assert stepper.frames[0].details.splitlines()[1] == "value 1 = [[2., 3.]]"
    d = Dot(viz.draw_graph(b).source)
    assert [n for n in d.nodes if d.nodes[n].get("penwidth") == "2.2"] == ["t0_1"]  # bold border: the output


def test_a_retained_piece_keeps_its_grad_through_the_stepper():
    x = ag.tensor(np.arange(4.0).reshape(2, 2), requires_grad=True)
    first, second = ag.unbind(x)
    second.retain_grad()
    loss = (first * second).sum()
    loss.backward(retain_graph=True)
    before = second.grad.data.copy()
    viz.Stepper(loss)
    np.testing.assert_array_equal(second.grad.data, before)


def test_a_multi_output_function_draws_and_steps_with_edges_from_the_right_output():
    x = ag.tensor(np.array([[3.0, 0.0], [1.0, 5.0], [2.0, 4.0]]), requires_grad=True, name="x")
    lo, hi = MinMax.apply(x)
    hi.name = "hi"
    loss = (hi * 2.0 - lo).sum()
    d = Dot(viz.draw_graph(loss).source)
    (node,) = d.by_label_start("MinMax")
    lo_id, hi_id = d.succ(node)
    assert d.lines(lo_id)[:2] == ["(2,) float64", "[1., 0.]"]
    assert d.lines(hi_id)[:3] == ["hi", "(2,) float64", "[3., 5.]"]
    assert [d.lines(c)[0] for c in d.succ(hi_id)] == ["multiply"]
    assert [d.lines(c)[0] for c in d.succ(lo_id)] == ["subtract"]
    stepper = viz.Stepper(loss)
    frame = next(f for f in stepper.frames if f.phase == "backward" and f.op.name == "MinMax")
    assert frame.title.endswith("MinMax receives grad [-1., -1.] at output 0, [2., 2.] at output 1")
    loss.backward()
    np.testing.assert_allclose(x.grad.data, [[2, -1], [-1, 2], [0, 0]])


def test_a_freed_split_draws_every_piece_as_shape_and_dtype_only():
    x, _, loss = split_graph(use_all=False)
    loss.backward()
    d = Dot(viz.draw_graph(loss, show_grads=True).source)
    for piece in split_tensor_nodes(d):
        assert d.lines(piece)[0] == "(1, 2) float64"
        assert not any(line.startswith("[") for line in d.lines(piece))  # no values, zeros or otherwise
        assert "freed" in d.nodes[piece]["tooltip"]
    np.testing.assert_allclose(x.grad.data, [[2, 2], [0, 0], [3, 3]])


def test_stepper_after_backward_shows_shapes_and_a_freed_note_never_zeros():
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    first, second = ag.unbind(x * 3)
    loss = (first * second).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="retain_graph=True"):
        viz.Stepper(loss)  # the backward frames need the freed values: a clear error, not zeros
    stepper = viz.Stepper(loss, backward=False)
    assert [f.op.name for f in stepper.frames] == ["multiply", "unbind", "multiply", "sum"]
    for frame in stepper.frames[:-1]:
        assert frame.details == "values freed by an earlier backward (shape and dtype shown)"
        assert "float32" in frame.title
    assert stepper.frames[1].title.endswith("-> (2,) float32, (2,) float32")
    assert stepper.frames[-1].details == f"value = {loss.item():.4g}"  # the output tensor still holds its value
    for frame in stepper.frames:
        d = Dot(frame.drawing.source)
        texts = " ".join(d.label(n) for n in d.nodes if n.startswith("t"))
        assert "0., 0." not in texts and "[0." not in texts
        assert "(2,) float32" in texts
        assert frame.to_svg().startswith("<")
