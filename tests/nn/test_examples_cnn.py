"""The digits CNN example: its augmentation, its shapes, and a reduced training run (slow)."""
import numpy as np
import pytest

import autograd as ag

pytest.importorskip("sklearn")


def test_shift_moves_each_image_by_at_most_one_pixel_with_zeros_shifted_in():
    from nn.examples.digits_cnn import shift

    img = np.zeros((1, 1, 8, 8), np.float32)
    img[0, 0, 3, 4] = 1.0
    seen = set()
    rng = np.random.default_rng(0)
    for _ in range(60):
        out = shift(img, rng)
        assert out.shape == img.shape and out.sum() == 1.0
        (r, c) = np.argwhere(out[0, 0])[0]
        seen.add((r - 3, c - 4))
    assert seen == {(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)}


def test_model_maps_8x8_images_to_10_scores():
    from nn.examples.digits_cnn import build_model

    assert build_model(8)(ag.zeros((5, 1, 8, 8))).shape == (5, 10)


@pytest.mark.slow
def test_reduced_digits_cnn_reaches_97_percent():
    from nn.examples.digits_cnn import run

    metrics = run(epochs=6, width=16, progress=False)  # the full run (30 epochs, width 32) gives 99.4 %
    assert metrics["test_accuracy"] >= 0.97
