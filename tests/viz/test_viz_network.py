"""draw_network: one circle per neuron, one edge per weight coloured by sign and sized by magnitude."""
import numpy as np
import pytest
from _vizdot import Dot, svg_texts

import nn
import viz


def test_structure_matches_the_weights():
    mlp = nn.MLP([2, 3, 1], output_activation="sigmoid")
    p = Dot(viz.draw_network(mlp).source)
    assert sorted(n for n in p.nodes) == ["n0_0", "n0_1", "n1_0", "n1_1", "n1_2", "n2_0"]
    assert p.clusters == ["input\\n2 neurons", "hidden 1\\n3 neurons\\nReLU", "output\\n1 neuron\\nSigmoid"]
    w1, w2 = mlp.linears[0].weight.data, mlp.linears[1].weight.data
    edges = {(s, t): e for s, t, e in p.edges}
    assert len(edges) == w1.size + w2.size == 9
    wmax = max(np.abs(w1).max(), np.abs(w2).max())
    for (s, t), e in edges.items():
        li, j = map(int, s[1:].split("_"))
        i = int(t.split("_")[1])
        w = (w1 if li == 0 else w2)[i, j]
        assert e["color"] == ("#1f77b4" if w >= 0 else "#d62728")
        assert float(e["penwidth"]) == pytest.approx(0.3 + 3.7 * abs(w) / wmax, abs=1e-3)
        assert float(e["label"]) == pytest.approx(w, rel=0.06, abs=0.006)  # 2 significant digits
    b = mlp.linears[0].bias.data
    assert [float(p.label(f"n1_{j}")) for j in range(3)] == pytest.approx(b, rel=0.06, abs=0.006)
    assert "x1" in svg_texts(viz.to_svg(viz.draw_network(mlp)))


def test_weight_labels_switch_off_for_bigger_nets_and_lists_of_weights_work():
    w1 = np.array([[1.0, -2.0, 0.5]] * 5)
    w2 = np.ones((4, 5))
    p = Dot(viz.draw_network([w1, w2]).source)
    assert len(p.edges) == 35 and not any("label" in e for *_, e in p.edges)
    widths = sorted({float(e["penwidth"]) for *_, e in p.edges})
    assert widths[-1] == pytest.approx(4.0) and widths[0] == pytest.approx(0.3 + 3.7 * 0.25)
    assert len(p.nodes) == 3 + 5 + 4


def test_errors():
    with pytest.raises(ValueError, match="784 neurons, more than max_neurons=32"):
        viz.draw_network(nn.MLP([784, 10]))
    assert viz.draw_network(nn.MLP([40, 2]), max_neurons=40) is not None
    with pytest.raises(ValueError, match="not a chain"):
        viz.draw_network([np.ones((3, 2)), np.ones((2, 4))])
    with pytest.raises(ValueError, match="no Linear layers"):
        viz.draw_network(nn.ReLU())
    with pytest.raises(TypeError):
        viz.draw_network("mlp")


def test_labels_are_tied_to_their_edges_and_output_is_styled_as_an_output():
    mlp = nn.MLP([2, 2, 1])
    d = viz.draw_network(mlp)
    p = Dot(d.source)
    for *_, e in p.edges:  # each weight label sits on its own edge, in that edge's colour
        assert e["decorate"] == "true" and e["fontcolor"] == e["color"]
    assert p.nodes["n2_0"]["fillcolor"] == "#ffffff" and p.nodes["n2_0"]["penwidth"] == "2.2"
    assert p.nodes["n1_0"]["fillcolor"] == "#dbe9f6"
    assert "number in a neuron: its bias" in d.source
    assert "its bias" not in viz.draw_network(mlp, show_biases=False).source
