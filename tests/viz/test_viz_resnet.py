"""draw_model of a small ResNet (3 stages × 2 residual blocks) stays legible at default settings."""
import numpy as np
from _vizdot import Dot

import autograd as ag
import nn
import viz


class SmallResNet(nn.Module):
    """A stem, three stages of two residual blocks (the second and third halve the size), a pooled head."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU())
        self.stage1 = nn.Sequential(nn.ResidualBlock(8, 8), nn.ResidualBlock(8, 8))
        self.stage2 = nn.Sequential(nn.ResidualBlock(8, 16, stride=2), nn.ResidualBlock(16, 16))
        self.stage3 = nn.Sequential(nn.ResidualBlock(16, 32, stride=2), nn.ResidualBlock(32, 32))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.flatten = nn.Flatten()
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        return self.fc(self.flatten(self.pool(self.stage3(self.stage2(self.stage1(self.stem(x)))))))


def test_small_resnet_drawing_is_bounded_boxed_and_shows_the_shortcuts():
    d = viz.draw_model(SmallResNet(), ag.tensor(np.ones((2, 1, 8, 8), np.float32)))
    p = Dot(d.source)
    assert d.node_count <= 80  # the pinned bound (draw_model's default)
    assert {"stage2.0 (ResidualBlock)", "stage3.0 (ResidualBlock)", "stage2 (Sequential)"} <= set(p.clusters)
    # Inside each block its layers are boxes: convolutions, batch norms and the projection shortcut.
    labels = {n: p.lines(n)[0] for n in p.nodes}
    assert "stage2.0.shortcut (Sequential)" in labels.values()
    assert "stage3.1.conv2 (Conv2d)" in labels.values()
    # Every block's sum is drawn with two inputs: its residual branch (bn2) and its shortcut.
    adds = [n for n in p.nodes if labels[n] == "add" and any("ResidualBlock" in c for c in p.cluster_of[n])]
    assert len(adds) == 6  # one per block: within the bound nothing needs folding (tests/viz/test_viz_repeats.py)
    for a in adds:
        sources = [labels[s] for s, t, _ in p.edges if t == a]
        assert len(sources) == 2 and any("bn2" in s for s in sources), sources
    projections = [a for a in adds if any("shortcut" in labels[s] for s, t, _ in p.edges if t == a)]
    assert len(projections) == 2  # stage2.0 and stage3.0 change the shape: a 1×1 convolution shortcut
