"""draw_model of a 2-layer Transformer encoder at default settings: a cluster per layer, one box per
sub-module (attention, linears, norms), the residual adds and ReLUs between them, a bounded node count."""
import numpy as np
from _vizdot import Dot

import autograd as ag
import nn
import viz


def test_two_layer_transformer_encoder_drawing_is_legible():
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, batch_first=True), 2).eval()
    d = viz.draw_model(enc, ag.tensor(np.ones((2, 5, 16), np.float32)), max_nodes=30)  # a level up
    p = Dot(d.source)
    assert d.node_count == len(p.nodes) <= 30
    for i in (0, 1):
        for name, kind in (("self_attn", "MultiheadAttention"), ("linear1", "Linear"), ("linear2", "Linear"),
                           ("norm1", "LayerNorm"), ("norm2", "LayerNorm")):
            (box,) = p.by_label_start(f"layers.{i}.{name} ({kind})")
            assert p.cluster_of[box] == [f"layers.{i} (TransformerEncoderLayer)"]
    ops = [p.lines(n)[0] for n in p.nodes if n.startswith("op")]
    assert sorted(ops) == ["add"] * 4 + ["relu"] * 2  # the residuals and activations; the rest sits in boxes
    assert viz.to_svg(d).lstrip().startswith("<")


def test_two_layer_transformer_encoder_at_the_default_budget_folds_the_identical_layers():
    """With draw_model's defaults the layers open one level deeper; the two identical layers are drawn once
    (folded ×2), within the default budget of 80 nodes."""
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(16, 2, 32, batch_first=True), 2).eval()
    d = viz.draw_model(enc, ag.tensor(np.ones((2, 5, 16), np.float32)))
    p = Dot(d.source)
    assert d.node_count == len(p.nodes) <= 80
    assert "layers.0 + layers.1 (TransformerEncoderLayer ×2)" in p.clusters
    assert "layers.0.self_attn + layers.1.self_attn (MultiheadAttention ×2)" in p.clusters
    ops = [p.lines(n)[0] for n in p.nodes if n.startswith("op")]
    assert "masked_softmax" in ops and "split" in ops  # the attention's own steps are visible at this depth
