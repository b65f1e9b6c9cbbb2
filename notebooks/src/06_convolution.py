# %% [markdown]
# # 06 · Convolutional networks: sliding windows, sizes, pooling, a digits CNN, residual units
#
# Concepts: C1, C2, C3, C4, C5, C6
#
# A convolution is a small weighted sum slid over an image, the same weights at every position
# (C1). Its output size depends on the padding — narrow, same, wide (C2) — and on the dilation (C5);
# a layer of P kernels turns an M×N×D input into M'×N'×P feature maps (C3); pooling subsamples them
# (C4). A small CNN then classifies the 8×8 digits, and a deep stack of convolutions is trained with
# and without the shortcuts of residual units (C6).

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
from sklearn import datasets

import autograd as ag
import nn
import nn.functional as F
import viz
from autograd.ops.conv import fold_windows, sliding_windows
from nn.examples import digits_cnn, residual_vs_plain

ag.manual_seed(0)
rng = np.random.default_rng(0)
digits = datasets.load_digits()
image = (digits.images[0] / 16.0)          # a handwritten 0, 8×8, values in [0, 1]

# %% [markdown]
# ## C1 · A sliding weighted sum with shared weights
#
# Output pixel (i, j) is the sum of the 3×3 patch at (i, j) times the kernel — the same kernel for
# every (i, j). Written as a loop over positions, it is what `F.conv2d` computes (like PyTorch, a
# cross-correlation: the kernel is not flipped).

# %%
kernel = np.array([[1.0, 0.0, -1.0]] * 3)  # responds to vertical edges (bright on the left)
by_hand = np.array([[(image[i:i + 3, j:j + 3] * kernel).sum() for j in range(6)] for i in range(6)])
fast = F.conv2d(image[None, None], kernel[None, None]).data[0, 0]
assert fast.shape == (6, 6) and np.allclose(fast, by_hand)

# %% [markdown]
# Weight sharing is why a convolution is cheap: four 3×3 kernels (plus biases) are 40 numbers
# whatever the image size, while a dense layer producing the same four 6×6 maps from the 64 pixels
# would need 64·144 weights and 144 biases. Each kernel gives one **feature map**: below, the four
# maps of a vertical-edge, a horizontal-edge, a blur and a centre-surround kernel.

# %%
centre = np.full((3, 3), -1 / 8)
centre[1, 1] = 1.0
bank = np.stack([kernel, kernel.T, np.full((3, 3), 1 / 9), centre])
layer = nn.Conv2d(1, 4, 3, dtype=np.float64)
with ag.no_grad():
    layer.weight.copy_(bank[:, None])
    layer.bias.zero_()
maps = layer(image[None, None]).data[0]
assert sum(p.size for p in layer.parameters()) == 40 and 64 * 144 + 144 == 9360
assert np.allclose(maps[0], by_hand)

fig, axes = plt.subplots(1, 5, figsize=(10, 2.2))
axes[0].imshow(image, cmap="gray")
axes[0].set_title("input")
for ax, m, title in zip(axes[1:], maps, ["vertical", "horizontal", "blur", "centre"]):
    ax.imshow(m, cmap="RdBu")
    ax.set_title(title)
for ax in axes:
    ax.axis("off")
fig

# %% [markdown]
# Underneath, `conv2d` takes the windows of the input as a zero-copy strided view
# (`autograd.ops.conv.sliding_windows`: shape (N, C, Ho, Wo, kH, kW)) and meets them with the
# weights in one matrix product; the gradient adds the windows' gradients back (`fold_windows`),
# one kernel offset at a time. The two are each other's transpose: ⟨windows(x), g⟩ = ⟨x, fold(g)⟩.

# %%
x = rng.standard_normal((1, 1, 6, 7))
win = sliding_windows(x, 3, stride=2)
g = rng.standard_normal(win.shape)
assert win.shape == (1, 1, 2, 3, 3, 3) and np.shares_memory(win.data, x)      # a view: nothing copied
assert np.isclose((win.data * g).sum(), (x * fold_windows(g, x.shape, stride=2).data).sum())

# %% [markdown]
# ## C2 and C5 · Narrow, same, wide and dilated convolutions
#
# With input size M, kernel size K and zero padding P on each side, the output has M + 2P − K + 1
# positions: **narrow** (P = 0) gives M − K + 1, **same** (P = (K − 1)/2) gives M, **wide**
# (P = K − 1) gives M + K − 1. Dilation D spreads the kernel's taps D apart, so it covers
# K' = K + (K − 1)(D − 1) pixels: the same formulas hold with K' for K.

# %%
M = 10
x = ag.zeros((1, 1, M, M))
rows = []
for K in (3, 5):
    for D in (1, 2):
        k_eff = K + (K - 1) * (D - 1)
        w = ag.zeros((1, 1, K, K))
        sizes = {p: F.conv2d(x, w, padding=p, dilation=D).shape[-1] for p in ("valid", "same", "full")}
        assert sizes == {"valid": M - k_eff + 1, "same": M, "full": M + k_eff - 1}
        rows.append((K, D, k_eff, sizes["valid"], sizes["same"], sizes["full"]))
        if D == 1:
            assert F.conv2d(x, w, padding=(K - 1) // 2).shape[-1] == M              # same: P = (K - 1)/2
            assert F.conv2d(x, w, padding=K - 1).shape[-1] == M + K - 1              # wide: P = K - 1
print("K  D  K'  narrow  same  wide   (M = 10)")
for r in rows:
    print("{}  {}  {}   {:>5}  {:>4}  {:>4}".format(*r))

# %% [markdown]
# ## C3 · A layer of P kernels maps M×N×D to M'×N'×P
#
# Each of the P kernels spans all D input channels (a K×K×D block of weights, PyTorch layout
# (P, D, K, K)); its output map is the sum over channels of 2-D convolutions, plus a bias.

# %%
D_in, P = 3, 5
conv = nn.Conv2d(D_in, P, 3, dtype=np.float64)
x = rng.standard_normal((1, D_in, 10, 12))
y = conv(x)
assert conv.weight.shape == (P, D_in, 3, 3) and y.shape == (1, P, 8, 10)       # 10×12×3 → 8×10×5
per_channel = sum(F.conv2d(x[:, d:d + 1], conv.weight.data[:, d:d + 1]).data for d in range(D_in))
assert np.allclose(y.data, per_channel + conv.bias.data[None, :, None, None])

# %% [markdown]
# ## C4 · Pooling
#
# Max pooling keeps the largest value of each window (here 2×2 windows, stride 2, so a 4×4 map
# becomes 2×2); average pooling keeps the mean. The gradient of a max goes only to the element that
# was the maximum.

# %%
a = ag.tensor(np.array([[1.0, 3, 2, 0], [4, 2, 1, 1], [0, 1, 5, 6], [2, 2, 7, 1]])[None, None],
              requires_grad=True)
pooled = F.max_pool2d(a, 2)
assert pooled.data[0, 0].tolist() == [[4.0, 2.0], [2.0, 7.0]]
assert F.avg_pool2d(a, 2).data[0, 0].tolist() == [[2.5, 1.0], [1.25, 4.75]]
pooled.sum().backward()
assert a.grad.data[0, 0].tolist() == [[0, 0, 1, 0], [1, 0, 0, 0], [0, 0, 0, 0], [1, 0, 1, 0]]

# %% [markdown]
# ## A CNN on the digits
#
# `nn.examples.digits_cnn`: three same convolutions with batch norm and ReLU, two 2×2 max pools,
# dropout and a linear layer, trained with AdamW on images shifted by up to a pixel. The full run
# (`python -m nn.examples.digits_cnn`, 30 epochs, width 32) reaches 99.4 % test accuracy; here a
# smaller one (6 epochs, width 16) takes a few seconds.

# %%
result = digits_cnn.run(epochs=6, width=16, progress=False)
print(f"test accuracy {result['test_accuracy']:.2%} after {result['epochs']} epochs")
assert result["test_accuracy"] >= 0.97

# %% [markdown]
# The first layer's 16 learned 3×3 filters:

# %%
filters = result["model"][0].weight.data[:, 0]
fig, axes = plt.subplots(2, 8, figsize=(8, 2.2))
for ax, f in zip(axes.flat, filters):
    ax.imshow(f, cmap="RdBu")
    ax.axis("off")
fig

# %% [markdown]
# ## C6 · Residual units
#
# A residual unit adds its input back after two same convolutions: relu(F(x) + x), with a 1×1
# convolution on the shortcut when the shape changes (`nn.ResidualBlock`). In the drawing the
# shortcut is the edge that skips the convolutions into the `add`.

# %%
block = nn.ResidualBlock(8, 16, stride=2)
assert block(ag.zeros((2, 8, 8, 8))).shape == (2, 16, 4, 4)
viz.draw_model(block, ag.zeros((2, 8, 8, 8)), depth=1)

# %% [markdown]
# `nn.examples.residual_vs_plain` trains two 20-layer nets (a stem, nine blocks of two
# convolutions, a linear head), with and without the shortcuts, in exactly the same way. Its full
# run (width 16, 10 epochs) gave training losses 2.07 → 0.21 for the plain net and 1.55 → 0.011 for
# the residual one (test accuracy 89 % against 98 %): the plain stack is much harder to optimise.
# A shorter run (width 8, 2 epochs on half of the training images) shows the same ordering.

# %%
curves = residual_vs_plain.run(epochs=2, blocks=9, width=8, progress=False, n_train=720)
print("plain   ", curves["plain"]["loss"])
print("residual", curves["residual"]["loss"])
assert all(r < p for r, p in zip(curves["residual"]["loss"], curves["plain"]["loss"]))
