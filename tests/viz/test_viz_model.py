"""draw_model: module clusters, collapsing by depth, folded repeats, bounded size, no side effects."""
import itertools

import numpy as np
import pytest
from _vizdot import Dot, svg_texts
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import nn
import viz


def ones(*shape):
    return ag.tensor(np.ones(shape, np.float32))


class RNNLoop(nn.Module):
    """h_t = tanh(cell([x_t, h_{t-1}])) over every time step, the cell a Linear (weights shared in time)."""

    def __init__(self, n_in=4, n_hidden=8):
        super().__init__()
        self.n_hidden = n_hidden
        self.cell = nn.Linear(n_in + n_hidden, n_hidden)

    def forward(self, x):
        h = ag.zeros((x.shape[1], self.n_hidden))
        for t in range(x.shape[0]):
            h = self.cell(ag.concatenate([x[t], h], axis=1)).tanh()
        return h


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.fc1 = nn.Linear(d, d)
        self.fc2 = nn.Linear(d, d)

    def forward(self, x):
        return x + self.fc2(self.fc1(x).relu())


class ResidualStack(nn.Module):
    def __init__(self, d=8, n=20):
        super().__init__()
        self.inp = nn.Linear(4, d)
        self.blocks = nn.Sequential(*[Block(d) for _ in range(n)])
        self.head = nn.Linear(d, 2)

    def forward(self, x):
        return self.head(self.blocks(self.inp(x)))


class SelfAttention(nn.Module):
    """softmax(Q Kᵀ / √d) V with an output projection, written with autograd ops."""

    def __init__(self, d=8):
        super().__init__()
        self.d = d
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))

    def forward(self, x):
        q, k, v = self.q(x), self.k(x), self.v(x)
        scores = (q @ k.swapaxes(-1, -2)) / float(np.sqrt(self.d))
        return self.o(scores.softmax(axis=-1) @ v)


def test_mlp_clusters_ops_params_and_shapes():
    mlp = nn.MLP([3, 4, 2])
    d = viz.draw_model(mlp, ones(5, 3))
    p = Dot(d.source)
    assert sorted(set(p.clusters)) == ["0 (Linear)", "1 (ReLU)", "2 (Linear)"]
    ops = {n: p.lines(n)[0] for n in p.nodes if n.startswith("op")}
    assert sorted(ops.values()) == sorted(["linear"] * 2 + ["relu"])  # nn.Linear records one fused node
    for n, name in ops.items():
        assert p.cluster_of[n] == ["1 (ReLU)" if name == "relu" else p.cluster_of[n][0]]
    params = {p.label(n): p.cluster_of[n] for n in p.nodes if n.startswith("p")}
    assert params == {"weight\\n(4, 3)": ["0 (Linear)"], "bias\\n(4,)": ["0 (Linear)"],
                      "weight\\n(2, 4)": ["2 (Linear)"], "bias\\n(2,)": ["2 (Linear)"]}
    (relu,) = [n for n, name in ops.items() if name == "relu"]
    assert [e["label"] for s, t, e in p.edges if t == relu] == ["(5, 4)"]
    assert p.label("in0") == "input\\n(5, 3) float32" and p.label("out0") == "output\\n(5, 2) float32"
    assert d.node_count == len(p.nodes) == 9
    texts = svg_texts(viz.to_svg(d))
    assert "0 (Linear)" in texts and "relu" in texts


def test_depth_collapses_modules_into_boxes():
    mlp = nn.MLP([3, 4, 2])
    p = Dot(viz.draw_model(mlp, ones(5, 3), depth=1).source)
    boxes = [n for n in p.nodes if n.startswith("m")]
    assert [p.lines(n)[0] for n in boxes] == ["0 (Linear)", "1 (ReLU)", "2 (Linear)"]
    assert p.lines(boxes[0])[1] == "16 params" and p.lines(boxes[2])[1] == "10 params"
    chain = ["in0"] + boxes + ["out0"]
    for a, b in itertools.pairwise(chain):
        assert p.succ(a) == [b]
    whole = Dot(viz.draw_model(mlp, ones(5, 3), depth=0).source)
    assert [whole.lines(n)[0] for n in whole.nodes if n.startswith("m")] == ["MLP"]
    assert len(whole.nodes) == 3


def test_rnn_over_50_steps_is_folded_and_bounded():
    model = RNNLoop()
    d = viz.draw_model(model, ones(50, 2, 4))
    p = Dot(d.source)
    assert d.node_count <= 20
    assert "repeated \u00d750" in p.clusters
    assert "cell (Linear) \u00d750 calls" in p.clusters
    ops = {p.lines(n)[0]: n for n in p.nodes if n.startswith("op")}
    assert set(ops) == {"getitem", "concatenate", "linear", "tanh"}
    # the recurrence: h from one step's tanh feeds the next step's concatenate, drawn dashed
    loops = [(s, t) for s, t, e in p.edges if e.get("style") == "dashed"]
    assert loops == [(ops["tanh"], ops["concatenate"])]
    assert "repeated \u00d750" in svg_texts(viz.to_svg(d))
    unfolded = viz.draw_model(model, ones(50, 2, 4), depth=2, group_repeats=False)
    assert unfolded.node_count > 200  # 4 ops a step (getitem, concatenate, linear, tanh) × 50


class GatedCell(nn.Module):
    """An LSTM-style cell: four gates sliced from two Linear maps, cell state and hidden state."""

    def __init__(self, n_in, n_hidden):
        super().__init__()
        self.n = n_hidden
        self.ih = nn.Linear(n_in, 4 * n_hidden)
        self.hh = nn.Linear(n_hidden, 4 * n_hidden)

    def forward(self, x, h, c):
        g, n = self.ih(x) + self.hh(h), self.n
        i, f, o = g[:, :n].sigmoid(), g[:, n:2 * n].sigmoid(), g[:, 3 * n:].sigmoid()
        c = f * c + i * g[:, 2 * n:3 * n].tanh()
        return o * c.tanh(), c


class GatedLoop(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = GatedCell(4, 8)

    def forward(self, x):
        h = c = ag.zeros((x.shape[1], 8))
        outs = []
        for t in range(x.shape[0]):
            h, c = self.cell(x[t], h, c)
            outs.append(h)
        return ag.stack(outs)


def test_gated_recurrence_folds_time_but_not_parallel_gates():
    d = viz.draw_model(GatedLoop(), ones(50, 2, 4))
    p = Dot(d.source)
    assert d.node_count <= 60
    assert "repeated \u00d750" in p.clusters
    assert sum(1 for n in p.nodes if p.lines(n)[0] == "sigmoid") == 3  # i, f, o stay three gates
    assert sum(1 for n in p.nodes if p.lines(n)[0] == "getitem") == 5  # x[t] and four gate slices
    loops = [(p.lines(s)[0], p.lines(t)[0]) for s, t, e in p.edges if e.get("style") == "dashed"]
    assert sorted(loops) == [("add", "multiply"), ("multiply", "linear")]  # c_t -> f*c, h_t -> W_hh h


def test_deep_residual_stack_is_bounded():
    model = ResidualStack(n=20)
    d = viz.draw_model(model, ones(3, 4))
    p = Dot(d.source)
    assert d.node_count <= 60
    assert "blocks.0 \u2026 blocks.19 (Block \u00d720)" in p.clusters
    assert "repeated \u00d720" in p.clusters
    (add,) = [n for n in p.nodes if p.lines(n)[0] == "add" and "blocks.0 \u2026 blocks.19 (Block \u00d720)"
              in p.cluster_of[n]]
    assert p.cluster_of[add][:2] == ["blocks (Sequential)", "repeated \u00d720"]
    assert viz.draw_model(model, ones(3, 4), depth=3, group_repeats=False).node_count > 60


def test_attention_block_is_legible():
    d = viz.draw_model(SelfAttention(), ones(2, 5, 8))
    p = Dot(d.source)
    assert d.node_count <= 60
    names = [p.lines(n)[0] for n in p.nodes]
    assert "softmax" in names and names.count("matmul") >= 2
    (sm,) = [n for n in p.nodes if p.lines(n)[0] == "softmax"]
    assert p.cluster_of[sm] == []  # the attention arithmetic belongs to the model itself
    assert {"q (Linear)", "k (Linear)", "v (Linear)", "o (Linear)"} <= set(p.clusters) | \
        {p.lines(n)[0] for n in p.nodes if n.startswith("m")}


def test_max_nodes_picks_a_shallower_depth():
    model = ResidualStack(n=3)
    full = viz.draw_model(model, ones(3, 4))
    small = viz.draw_model(model, ones(3, 4), max_nodes=6)
    assert small.node_count <= 6 < full.node_count
    assert small.depth < full.depth


def test_running_the_model_changes_nothing():
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Linear(4, 1))
    state = {k: v.copy() for k, v in model.state_dict().items()}
    x = ag.tensor(np.random.default_rng(0).normal(size=(6, 3)).astype(np.float32))
    ag.manual_seed(123)
    viz.draw_model(model, x)
    after = ag.random.generator().random()
    ag.manual_seed(123)
    assert ag.random.generator().random() == after  # the random stream was not advanced
    for k, v in model.state_dict().items():
        np.testing.assert_array_equal(v, state[k], err_msg=k)  # running_mean/var, num_batches_tracked
    assert x.requires_grad is False and x.grad is None
    assert all(p.grad is None for p in model.parameters())


def test_tuple_inputs_and_outputs():
    class Two(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = nn.Linear(2, 3)

        def forward(self, x, y):
            h = self.a(x) + y
            return h, h.sum()

    p = Dot(viz.draw_model(Two(), (ones(4, 2), ones(4, 3))).source)
    assert {"in0", "in1", "out0", "out1"} <= set(p.nodes)
    assert p.label("out1") == "output\\nscalar float32"


def test_integer_input_is_wired_to_the_lookup_that_uses_it():
    model = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 2))
    p = Dot(viz.draw_model(model, ag.tensor(np.array([[1, 2, 3], [4, 5, 6]]))).source)
    assert p.label("in0") == "input\\n(2, 3) int64"
    (lookup,) = p.succ("in0")
    assert p.lines(lookup)[0] == "getitem" and p.cluster_of[lookup] == ["0 (Embedding)"]


def test_errors():
    with pytest.raises(TypeError, match="nn.Module"):
        viz.draw_model(lambda x: x, ones(2))
    with pytest.raises(ValueError, match="depth"):
        viz.draw_model(nn.Linear(2, 2), ones(1, 2), depth=-1)
    with pytest.raises(ValueError, match="max_nodes"):
        viz.draw_model(nn.Linear(2, 2), ones(1, 2), max_nodes=0)
    with pytest.raises(ValueError, match="rankdir"):
        viz.draw_model(nn.Linear(2, 2), ones(1, 2), rankdir="up")


@settings(max_examples=10, deadline=None)
@given(st.lists(st.integers(1, 6), min_size=2, max_size=5))
def test_every_linear_layer_gets_a_cluster(sizes):
    mlp = nn.MLP(sizes)
    p = Dot(viz.draw_model(mlp, ones(2, sizes[0]), depth=2, group_repeats=False).source)
    linear = sorted(c for c in p.clusters if c.endswith("(Linear)"))
    assert linear == sorted(f"{2 * i} (Linear)" for i in range(len(sizes) - 1))
    assert sum(1 for n in p.nodes if p.lines(n)[0] == "linear") == len(sizes) - 1


def test_title_names_the_mode_and_the_layers_that_recorded_nothing():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Dropout(0.5), nn.Linear(4, 1), nn.Identity())
    x = ag.randn(2, 3)
    train = viz.draw_model(model, x, depth=1)
    assert 'label="Sequential (training mode)\\nnot drawn, no operation recorded (identity here): 4 (Identity)"' \
        in train.source
    assert model.training  # drawing does not change the mode
    model.eval()
    ev = viz.draw_model(model, x, depth=1)
    assert ('label="Sequential (eval mode)\\nnot drawn, no operation recorded (identity here): '
            '2 (Dropout), 4 (Identity)"') in ev.source
    assert not model.training
    mlp_only = viz.draw_model(nn.Sequential(nn.Linear(3, 1)), x, depth=1)
    assert 'label="Sequential (training mode)"' in mlp_only.source


def test_batchnorm_running_statistics_are_drawn_in_eval_mode_only():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU())
    model[1].running_mean.data[...] = [0.5, -1.0, 0.0, 2.0]  # set directly: what the eval forward reads
    x = ag.randn(5, 3)
    assert not any("running_mean" in n.get("label", "") for n in Dot(viz.draw_model(model, x).source).nodes.values())
    model.eval()
    d = Dot(viz.draw_model(model, x, depth=2).source)
    (mean,) = [n for n, a in d.nodes.items() if a.get("label", "").startswith("running_mean")]
    (var,) = [n for n, a in d.nodes.items() if a.get("label", "").startswith("running_var")]
    assert d.lines(mean) == ["running_mean", "(4,)", "[ 0.5, -1. ,  0. ,  2. ]"]
    assert d.nodes[mean]["style"] == "filled,dashed"
    assert d.succ(mean) and d.succ(mean) == d.succ(var)  # both feed the BatchNorm's first op
    assert "BatchNorm1d" in " ".join(d.cluster_of[mean])  # inside that module's cluster
    assert not any("num_batches_tracked" in a.get("label", "") for a in d.nodes.values())  # an integer counter


def test_the_exponent_of_power_is_written_on_its_op():
    class Square(nn.Module):
        def forward(self, x):
            return x ** 3 * 0.5

    d = Dot(viz.draw_model(Square(), ag.tensor([1.0, 2.0], requires_grad=True)).source)
    labels = [a.get("label", "") for a in d.nodes.values()]
    assert "power\\nexponent = 3" in labels
    assert "multiply\\ninput 1 = 0.5" in labels
