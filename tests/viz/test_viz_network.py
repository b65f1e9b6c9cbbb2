"""draw_network: one circle per neuron, one edge per weight coloured by sign and sized by magnitude."""
import numpy as np
import pytest
from _vizdot import Dot, svg_texts

import nn
import viz


def test_structure_matches_the_weights():
    mlp = nn.MLP([2, 3, 1], output_activation="sigmoid")
    p = Dot(viz.draw_network(mlp).source)
    assert sorted(n for n in p.nodes if n.startswith("n")) == ["n0_0", "n0_1", "n1_0", "n1_1", "n1_2", "n2_0"]
    assert [p.label(f"layer{i}") for i in range(3)] == \
        ["input\\n2 neurons", "hidden 1\\n3 neurons\\nReLU", "output\\n1 neuron\\nSigmoid"]
    w1, w2 = mlp.linears[0].weight.data, mlp.linears[1].weight.data
    edges = {(s, t): e for s, t, e in p.edges}
    labels = {n: float(a["label"]) for n, a in p.nodes.items() if n.startswith("w")}
    assert len(edges) == w1.size + w2.size == 9
    wmax = max(np.abs(w1).max(), np.abs(w2).max())
    for (s, t), e in edges.items():
        li, j = map(int, s[1:].split("_"))
        i = int(t.split("_")[1])
        w = (w1 if li == 0 else w2)[i, j]
        assert e["color"] == ("#1f77b4" if w >= 0 else "#d62728")
        assert float(e["penwidth"]) == pytest.approx(0.3 + 3.7 * abs(w) / wmax, abs=1e-3)
        assert labels[f"w{li + 1}_{i}_{j}"] == pytest.approx(w, rel=0.06, abs=0.006)  # 2 significant digits
    b = mlp.linears[0].bias.data
    assert [float(p.lines(f"n1_{j}")[1]) for j in range(3)] == pytest.approx(b, rel=0.06, abs=0.006)
    assert "x1" in svg_texts(viz.to_svg(viz.draw_network(mlp)))


def test_weight_labels_switch_off_for_bigger_nets_and_lists_of_weights_work():
    w1 = np.array([[1.0, -2.0, 0.5]] * 5)
    w2 = np.ones((4, 5))
    d = viz.draw_network([w1, w2])
    p = Dot(d.source)
    assert len(p.edges) == 35 and not any(n.startswith("w") for n in p.nodes)
    assert "viz.plots.plot_weights(net)" in d.source  # the heat map is offered instead
    widths = sorted({float(e["penwidth"]) for *_, e in p.edges})
    assert widths[-1] == pytest.approx(4.0) and widths[0] == pytest.approx(0.3 + 3.7 * 0.25)
    assert len([n for n in p.nodes if n.startswith("n")]) == 3 + 5 + 4


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


def _centres(svg):
    """{node title: (x, y)} of the circles in the SVG (y grows downwards)."""
    import re

    out = {}
    for title, body in re.findall(r'<title>([^<]+)</title>(.*?)</g>', svg, re.S):
        m = re.search(r'<ellipse[^>]*cx="([-\d.]+)" cy="([-\d.]+)"', body)
        if m:
            out[title] = (float(m.group(1)), float(m.group(2)))
    return out


def test_neurons_are_labelled_and_drawn_in_order_top_to_bottom():
    """Defect: MLP([4, 8, 8, 2]) drew x4 at the top; the 3-4-1 net's hidden layer came out as [1, 3, 0, 2]."""
    for sizes in ([4, 8, 8, 2], [3, 4, 1]):
        mlp = nn.MLP(sizes)
        d = viz.draw_network(mlp)
        p = Dot(d.source)
        names = {n: p.lines(n)[0] for n in p.nodes if n.startswith("n")}
        centres = _centres(viz.to_svg(d))
        for li, n in enumerate(sizes):
            stem = "x" if li == 0 else "y" if li == len(sizes) - 1 else ("h" if len(sizes) == 3 else f"h{li}.")
            assert [names[f"n{li}_{j}"] for j in range(n)] == [f"{stem}{j + 1}" for j in range(n)]
            ys = [centres[f"n{li}_{j}"][1] for j in range(n)]
            xs = {centres[f"n{li}_{j}"][0] for j in range(n)}
            assert ys == sorted(ys) and len(set(ys)) == n  # first neuron on top, each its own row
            assert len(xs) == 1  # one column per layer


def test_each_weight_label_sits_on_its_own_edge_and_no_two_overlap():
    """Defect: the 12 weight labels of the 3-4-1 net piled up in one column crossed by edges."""
    mlp = nn.MLP([3, 4, 1], activation="sigmoid", output_activation="sigmoid")
    d = viz.draw_network(mlp)
    p = Dot(d.source)
    centres = _centres(viz.to_svg(d))
    import re

    svg = viz.to_svg(d)
    spots = {}
    for title, body in re.findall(r'<title>([^<]+)</title>(.*?)</g>', svg, re.S):
        if title.startswith("w"):
            m = re.search(r'<text[^>]*x="([-\d.]+)" y="([-\d.]+)"', body)
            spots[title] = (float(m.group(1)), float(m.group(2)))
    assert len(spots) == 3 * 4 + 4 * 1
    for wid, (x, y) in spots.items():
        li, i, j = map(int, wid[1:].split("_"))
        (x0, y0), (x1, y1) = centres[f"n{li - 1}_{j}"], centres[f"n{li}_{i}"]
        t = (x - x0) / (x1 - x0)
        assert 0.1 < t < 0.9
        assert abs(y0 + t * (y1 - y0) - (y - 3)) < 4  # on the line of its own edge (text baseline ~3 pt below)
        assert p.nodes[wid]["fontcolor"] == ("#1f77b4" if mlp.linears[li - 1].weight.data[i, j] >= 0 else "#d62728")
    pts = sorted(spots.values())
    for a in range(len(pts)):
        for b in range(a + 1, len(pts)):
            assert abs(pts[a][0] - pts[b][0]) >= 22 or abs(pts[a][1] - pts[b][1]) >= 9  # labels do not overlap


def test_output_is_styled_as_an_output():
    mlp = nn.MLP([2, 2, 1])
    p = Dot(viz.draw_network(mlp).source)
    assert p.nodes["n2_0"]["fillcolor"] == "#ffffff" and p.nodes["n2_0"]["penwidth"] == "2.2"
    assert p.nodes["n1_0"]["fillcolor"] == "#dbe9f6"
