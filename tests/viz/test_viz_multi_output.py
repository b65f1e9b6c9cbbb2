"""Drawings of nodes with several outputs (split, unbind) and of graphs whose values were freed."""
import numpy as np
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
