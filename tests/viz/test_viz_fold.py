"""A fused loss is one node and one step (expandable): its internal where/log1p/mask ops are folded away,
and the folded step sends the gradient the loss's rule gives."""
import numpy as np
import pytest
from _vizdot import Dot

import autograd as ag
import nn
import viz


def net_and_loss():
    ag.manual_seed(0)
    mlp = nn.MLP([2, 3, 1])
    x = ag.randn(4, 2)
    t = ag.tensor([[1.0], [0.0], [1.0], [0.0]])
    logits = mlp(x)
    return mlp, logits, t, nn.functional.binary_cross_entropy_with_logits(logits, t)


def test_the_fused_loss_is_one_step_and_expand_shows_its_ops():
    """Defect: 18 of the 32 steps of a 2-3-1 net with BCE-with-logits were the loss's internal nodes."""
    _, _, _, loss = net_and_loss()
    expanded = viz.Stepper(loss, expand=True)
    folded = viz.Stepper(loss)
    internal = sum(1 for f in expanded.frames if f.op.scope and hasattr(f.op.scope[-1], "function_name"))
    assert internal >= 10
    n_loss_ops = internal // 2
    assert len(folded) == len(expanded) - 2 * (n_loss_ops - 1)
    names = [f.title.split(": ")[1].split(" ")[0] for f in folded.frames]
    assert names.count("binary_cross_entropy_with_logits") == 2  # once forward, once backward


def test_folded_backward_step_sends_sigmoid_minus_target_over_n():
    _, logits, t, loss = net_and_loss()
    s = viz.Stepper(loss)
    (f,) = [f for f in s.frames if f.phase == "backward" and "binary_cross_entropy_with_logits" in f.title]
    assert f is [g for g in s.frames if g.phase == "backward"][0]  # the first backward step
    assert "rule: \u2202L/\u2202x = \u03c3(x) \u2212 t" in f.details
    assert "folded: " in f.details
    line = next(ln for ln in f.details.splitlines() if ln.startswith("  input"))
    sent = np.array(eval(line.split(" = ")[-1]))
    expected = (1 / (1 + np.exp(-logits.data)) - t.data) / 4
    np.testing.assert_allclose(sent, expected, rtol=1e-3, atol=1e-4)
    svg = f.to_svg()
    assert f'<g id="{f.node}" class="node current">' in svg


def test_draw_graph_folds_the_loss_into_one_box_and_expand_draws_its_ops():
    _, _, _, loss = net_and_loss()
    folded = Dot(viz.draw_graph(loss).source)
    full = Dot(viz.draw_graph(loss, expand=True).source)
    boxes = [n for n, a in folded.nodes.items() if a.get("label", "").startswith("binary_cross_entropy_with_logits")]
    assert len(boxes) == 1 and folded.nodes[boxes[0]]["shape"] == "box3d"
    assert not any(a.get("label", "").startswith(("log1p", "where")) for a in folded.nodes.values())
    assert any(a.get("label", "").startswith("log1p") for a in full.nodes.values())
    (box,) = boxes
    assert len(folded.succ(box)) == 1  # the loss value
    assert folded.pred(box)  # fed by the logits (and the target)
    assert len(folded.nodes) < len(full.nodes)


def test_module_names_and_draw_model_ignore_the_call_tag():
    mlp, _, _, _ = net_and_loss()
    x = ag.randn(4, 2)

    class WithLoss(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = mlp

        def forward(self, x):
            return nn.functional.binary_cross_entropy_with_logits(self.net(x), ag.tensor(np.ones((4, 1))))

    d = viz.draw_model(WithLoss(), x)
    assert "net (MLP)" in d.source and "?" not in d.source


def test_draw_backward_folds_the_loss_into_one_node_whose_edge_carries_sigmoid_minus_target():
    _, logits, t, loss = net_and_loss()
    with viz.record():
        loss.backward()
    folded = Dot(viz.draw_backward(loss).source)
    full = Dot(viz.draw_backward(loss, expand=True).source)
    firsts = {folded.lines(n)[0]: n for n in folded.nodes}
    box = firsts["binary_cross_entropy_with_logits backward"]
    assert "rule: \u2202L/\u2202x = \u03c3(x) \u2212 t" in " ".join(folded.lines(box))
    assert not any(folded.lines(n)[0] in ("log1p backward", "where backward") for n in folded.nodes)
    assert any(full.lines(n)[0] == "log1p backward" for n in full.nodes)
    assert firsts["start: \u2202output/\u2202output"] in folded.pred(box)
    (dst,) = folded.succ(box)  # one edge, into the linear layer that made the logits
    assert folded.lines(dst)[0] == "linear backward"
    edge = next(a["label"] for s, d, a in folded.edges if (s, d) == (box, dst))
    sent = np.array(eval(edge.split(" = ")[-1]))
    np.testing.assert_allclose(sent, (1 / (1 + np.exp(-logits.data)) - t.data) / 4, rtol=1e-3, atol=1e-4)
    assert len(folded.nodes) < len(full.nodes)


class _WithLoss(nn.Module):
    """A model whose forward ends in its loss module (cross-entropy inside an nn.CrossEntropyLoss; with label
    smoothing it is several ops, without it one ``softmax_cross_entropy`` node)."""

    def __init__(self, **loss_options):
        super().__init__()
        self.net = nn.MLP([3, 4, 2])
        self.loss = nn.CrossEntropyLoss(**loss_options)

    def forward(self, x, target):
        return self.loss(self.net(x), target)


def test_draw_model_draws_the_loss_as_one_node_inside_its_module_cluster():
    ag.manual_seed(0)
    model = _WithLoss(label_smoothing=0.1)
    x, target = ag.randn(5, 3), np.array([0, 1, 1, 0, 1])
    d = Dot(viz.draw_model(model, (x, target), depth=3).source)
    calls = [n for n in d.nodes if d.lines(n)[0] == "cross_entropy"]
    assert len(calls) == 1 and "ops folded" in d.lines(calls[0])[1]
    assert "loss (CrossEntropyLoss)" in d.cluster_of[calls[0]]
    assert not any(d.lines(n)[0] in ("log_softmax", "class_pick") for n in d.nodes)
    full = Dot(viz.draw_model(model, (x, target), depth=3, expand=True).source)
    assert any(full.lines(n)[0] == "log_softmax" for n in full.nodes)
    plain = Dot(viz.draw_model(_WithLoss(), (x, target), depth=3).source)  # one node already: nothing to fold
    single = [n for n in plain.nodes if plain.lines(n)[0] == "softmax_cross_entropy"]
    assert len(single) == 1 and "loss (CrossEntropyLoss)" in plain.cluster_of[single[0]]
    drawn = viz.draw_graph(_WithLoss()(x, target)).source  # the op's configuration, not its error wording
    assert "reduction=" in drawn and "x_shape" not in drawn and "fn=" not in drawn


@pytest.mark.parametrize("name, make, grad", [
    ("mse_loss", lambda x, t: nn.functional.mse_loss(x, t), lambda x, t: 2 * (x - t) / x.size),
    ("l1_loss", lambda x, t: nn.functional.l1_loss(x, t), lambda x, t: np.sign(x - t) / x.size),
    ("hinge_loss", lambda x, t: nn.functional.hinge_loss(x, 2 * t - 1),
     lambda x, t: np.where((2 * t - 1) * x < 1, -(2 * t - 1), 0.0) / x.size),
    ("binary_cross_entropy", lambda x, t: nn.functional.binary_cross_entropy(x.sigmoid(), t), None),
    ("nll_loss", lambda x, t: nn.functional.nll_loss(x.reshape(2, 2), np.array([1, 0])),
     lambda x, t: np.array([[0.0, -0.5], [-0.5, 0.0]]).reshape(4, 1)),
    ("multi_margin_loss", lambda x, t: nn.functional.multi_margin_loss(x.reshape(2, 2), np.array([1, 0])), None),
])
def test_every_composite_loss_is_one_step_with_its_rule(name, make, grad):
    x = ag.tensor([[0.3], [-1.2], [2.0], [0.1]], requires_grad=True)
    t = np.array([[1.0], [0.0], [0.0], [1.0]])
    s = viz.Stepper(make(x, t))
    (f,) = [f for f in s.frames if f.phase == "backward" and name in f.title]
    assert "folded: " in f.details and "rule: \u2202L/\u2202" in f.details
    assert sum(1 for g in s.frames if g.phase == "forward" and name in g.title) == 1
    if grad is not None:  # the folded step sends what the rule says, by hand
        line = next(ln for ln in f.details.splitlines() if ln.startswith("  input"))
        sent = np.array(eval(line.split(" = ")[-1])).reshape(4, 1)
        np.testing.assert_allclose(sent, grad(x.data, t), atol=1e-4)
