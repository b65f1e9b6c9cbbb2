# %% [markdown]
# # 03 · Activation functions, their derivatives, and vanishing gradients
#
# Concepts: A1, A2, A3, A4, A5, A6, A7, A8, T7
#
# The activation is the "bending" step of a layer. Its derivative matters as much as its shape:
# back-propagation multiplies one derivative per layer, so an activation whose derivative is
# small (saturation), zero (dead units) or large decides whether deep networks can learn at all
# (T7). All derivatives below come from `autograd`, and each property claimed is asserted.

# %%
# %matplotlib inline
import math

import numpy as np
from matplotlib.figure import Figure

import autograd as ag
import nn
import nn.functional as F
import viz
import viz.plots

ag.manual_seed(0)


def value_and_derivative(fn, points):
    """f(x) and f'(x) at every point, the derivative by one backward pass through ``fn``."""
    x = ag.Tensor(np.asarray(points, dtype=np.float64), requires_grad=True)
    y = fn(x)
    y.sum().backward()
    return y.data, x.grad.data


# %% [markdown]
# `viz.plots.plot_activations` draws the functions (left) and their autograd derivatives (right).

# %%
viz.plots.plot_activations(["sigmoid", "tanh", "relu", "leaky_relu", "elu", "silu", "gelu"])

# %% [markdown]
# ## A1 · Logistic sigmoid $\sigma(x) = 1/(1 + e^{-x})$
#
# Its derivative $\sigma(1 - \sigma)$ is at most $0.25$ (at 0) and almost nothing beyond $\pm 5$:
# there the neuron is **saturated** and passes almost no gradient back. Its outputs are always
# positive (**not zero-centred**), so a next-layer neuron that reads them gets weight gradients
# $\delta \cdot a_i$ that all share the sign of $\delta$: its weights can only all grow or all
# shrink together in one step. And every evaluation costs an `exp`.

# %%
s, ds = value_and_derivative(F.sigmoid, [-10.0, -5.0, 0.0, 5.0, 10.0])
assert np.allclose(ds, s * (1 - s))
assert ds[2] == 0.25
assert ds[1] < 0.007 and ds[3] < 0.007 and ds[4] < 5e-5          # saturation beyond about +-5
assert np.all(s > 0)                                              # outputs never negative

a = F.sigmoid(ag.randn(16, 5))                                    # positive inputs of the next layer
w = ag.Tensor(np.random.default_rng(1).normal(size=(5, 1)), requires_grad=True)
(a @ w)[0, 0].backward()                                          # one sample, one output neuron
assert np.all(w.grad.data >= 0) or np.all(w.grad.data <= 0)       # all weight gradients share one sign
print("sigmoid'(0, 5, 10) =", ds[2:].round(6))

# %% [markdown]
# ## A2 · tanh $= 2\sigma(2x) - 1$
#
# A rescaled sigmoid: **zero-centred** (odd, outputs in $(-1, 1)$) with a derivative of 1 at 0,
# four times the sigmoid's, but it **still saturates**: $\tanh'(5) = 1 - \tanh^2(5) \approx 2 \cdot 10^{-4}$.

# %%
xs = np.linspace(-6, 6, 241)
t, dt = value_and_derivative(F.tanh, xs)
assert np.allclose(t, 2 * F.sigmoid(ag.Tensor(2 * xs)).data - 1, atol=1e-12)   # tanh = 2 sigma(2x) - 1
assert np.allclose(t, -t[::-1]) and abs(t.mean()) < 1e-12                     # zero-centred
assert np.isclose(dt[120], 1.0) and dt[np.argmin(abs(xs - 5))] < 2e-4
assert np.allclose(dt, 1 - t ** 2)

# %% [markdown]
# ## A3 · ReLU $\max(0, x)$ and the dying-ReLU effect
#
# The derivative is 1 for positive inputs (no saturation, cheap) and 0 for negative ones. A unit
# whose input is negative for *every* sample gets no gradient at all, so gradient descent can
# never bring it back: it has **died**. Below, neuron 0 of a layer has a large negative bias;
# after 100 SGD steps its weights have not moved by a single bit while the others have.

# %%
X = ag.randn(256, 3)
target = ag.randn(256, 4)


def train_first_layer(activation, steps=100):
    """Train Linear(3, 4) + activation with neuron 0's bias at -10; return (initial, final) weights."""
    ag.manual_seed(3)
    layer = nn.Linear(3, 4)
    layer.bias.data[0] = -10.0
    start = layer.weight.data.copy()
    optimizer = nn.optim.SGD(layer.parameters(), lr=0.1)
    for _ in range(steps):
        optimizer.zero_grad()
        F.mse_loss(activation(layer(X)), target).backward()
        optimizer.step()
    return start, layer.weight.data


start, end = train_first_layer(F.relu)
assert np.array_equal(start[0], end[0])                 # the dead neuron: not one weight changed
assert not np.allclose(start[1:], end[1:])              # the living ones learned

# %% [markdown]
# ## A4 · Leaky ReLU and PReLU
#
# Leaky ReLU keeps a small slope (0.01) for negative inputs, so no unit dies: the same neuron
# now learns. PReLU makes that slope a parameter (initially 0.25) learned with the rest: its
# gradient is the sum of the negative inputs times the upstream gradient. Trained to imitate a
# leaky unit of slope 0.1, it finds 0.1.

# %%
start, end = train_first_layer(F.leaky_relu)
assert not np.allclose(start[0], end[0])                # slope 0.01 keeps the neuron alive

_, d_leaky = value_and_derivative(lambda x: F.leaky_relu(x, 0.01), [-2.0, 3.0])
assert np.allclose(d_leaky, [0.01, 1.0])

prelu = nn.PReLU(dtype=np.float64)
z = ag.Tensor(np.linspace(-3, 3, 61))
prelu(z).sum().backward()
assert np.isclose(prelu.weight.grad.item(), z.data[z.data < 0].sum())   # d/da sum(a x, x < 0)

optimizer = nn.optim.SGD(prelu.parameters(), lr=0.01)
for _ in range(200):
    optimizer.zero_grad()
    F.mse_loss(prelu(z), F.leaky_relu(z, 0.1)).backward()
    optimizer.step()
print("learned PReLU slope:", round(prelu.weight.item(), 4))
assert abs(prelu.weight.item() - 0.1) < 1e-3

# %% [markdown]
# ## A5 · ELU $\;x$ for $x > 0$, $\alpha(e^x - 1)$ otherwise
#
# Negative outputs (down to $-\alpha$) pull the mean activation towards zero, and with $\alpha = 1$
# the derivative is continuous at 0 (1 from both sides), so there is no kink.

# %%
e, de = value_and_derivative(F.elu, [-20.0, -1.0, -1e-6, 1e-6, 2.0])
assert np.isclose(e[0], -1.0) and np.isclose(e[1], math.exp(-1) - 1)
assert np.isclose(de[2], 1.0, atol=1e-5) and de[3] == 1.0           # smooth at 0
assert np.isclose(de[1], math.exp(-1))

# %% [markdown]
# ## A6 · Swish $x\,\sigma(\beta x)$, with $\beta$ fixed or learned
#
# With $\beta = 1$ it is SiLU; $\beta = 0$ gives the line $x/2$; a large $\beta$ approaches ReLU.
# With `nn.Swish(learnable=True)`, $\beta$ is a parameter whose gradient is
# $\partial/\partial\beta\; x\sigma(\beta x) = x^2 \sigma(\beta x)(1 - \sigma(\beta x))$; fitted to a
# Swish with $\beta = 2$, it learns $\beta \approx 2$.

# %%
xs = np.linspace(-4, 4, 81)
x = ag.Tensor(xs)
assert np.allclose(F.swish(x, 1.0).data, F.silu(x).data)
assert np.allclose(F.swish(x, 0.0).data, xs / 2)
assert np.max(np.abs(F.swish(x, 50.0).data - np.maximum(xs, 0))) < 0.006

swish = nn.Swish(beta=1.0, learnable=True, dtype=np.float64)
swish(x).sum().backward()
sig = 1 / (1 + np.exp(-xs))
assert np.isclose(swish.beta.grad.item(), np.sum(xs ** 2 * sig * (1 - sig)))

optimizer = nn.optim.Adam(swish.parameters(), lr=0.05)
for _ in range(300):
    optimizer.zero_grad()
    F.mse_loss(swish(x), F.swish(x, 2.0)).backward()
    optimizer.step()
print("learned beta:", round(swish.beta.item(), 4))
assert abs(swish.beta.item() - 2.0) < 1e-2

# %% [markdown]
# ## A7 · GELU $\;x\,\Phi(x)$, exact and approximated
#
# $\Phi$ is the standard normal CDF, computed exactly with erf. The tanh approximation
# $\tfrac{x}{2}\big(1 + \tanh(\sqrt{2/\pi}(x + 0.044715x^3))\big)$ stays within $5 \cdot 10^{-4}$ of it;
# the cheaper sigmoid approximation $x\,\sigma(1.702x)$ within about $0.02$.

# %%
xs = np.linspace(-6, 6, 1201)
x = ag.Tensor(xs)
exact = F.gelu(x).data
phi = np.array([0.5 * (1 + math.erf(v / math.sqrt(2))) for v in xs])
assert np.allclose(exact, xs * phi, atol=1e-12)
tanh_error = np.abs(F.gelu(x, approximate="tanh").data - exact)
sigmoid_error = np.abs(F.gelu(x, approximate="sigmoid").data - exact)
print(f"max |error|: tanh {tanh_error.max():.1e}, sigmoid {sigmoid_error.max():.1e}")
assert tanh_error.max() < 5e-4 and 1e-2 < sigmoid_error.max() < 0.025

fig = Figure(figsize=(9, 3), layout="constrained")
ax1, ax2 = fig.subplots(1, 2)
ax1.plot(xs, exact, label="exact x·Φ(x)")
ax1.plot(xs, F.gelu(x, approximate="sigmoid").data, "--", label="x·σ(1.702x)")
ax1.set_title("GELU")
ax1.legend()
ax2.semilogy(xs, tanh_error + 1e-12, label="tanh approximation")
ax2.semilogy(xs, sigmoid_error + 1e-12, label="sigmoid approximation")
ax2.set_title("|approximation - exact|")
ax2.legend()
fig

# %% [markdown]
# ## A8 · Softmax for multi-class outputs
#
# $\mathrm{softmax}(z)_i = e^{z_i} / \sum_j e^{z_j}$ turns scores into probabilities: positive, summing
# to 1, unchanged when the same number is added to every score (which is how it is computed
# without overflow, even for scores of 1000). Its Jacobian is $\mathrm{diag}(s) - s s^\top$.

# %%
z = ag.Tensor(np.array([2.0, 1.0, 0.1]))
s = F.softmax(z).data
assert np.isclose(s.sum(), 1.0) and np.all(s > 0) and np.argmax(s) == 0
assert np.allclose(F.softmax(z + 100.0).data, s)
big = F.softmax(ag.Tensor([1000.0, 1001.0, 1002.0])).data
assert np.all(np.isfinite(big)) and np.allclose(big, np.exp([-2, -1, 0]) / np.exp([-2, -1, 0]).sum())
J = ag.jacobian(lambda v: ag.softmax(v))(z).data
assert np.allclose(J, np.diag(s) - np.outer(s, s))
print("softmax([2, 1, 0.1]) =", s.round(4))

# %% [markdown]
# ## T7 · Vanishing gradients are products of derivatives
#
# In a chain $a_{k+1} = \sigma(w_k a_k)$ the chain rule gives
# $\partial a_L / \partial a_0 = \prod_k w_k\, \sigma'(w_k a_k)$: one factor per layer, each at most
# $0.25\,|w_k|$ for the sigmoid. Autograd computes exactly that product.

# %%
weights = [1.5, -2.0, 1.0, 0.8, 2.5, -1.2, 1.1, 0.9]
a0 = ag.Tensor(np.array(0.3), requires_grad=True)
a, factors = a0, []
for wk in weights:
    zk = wk * a
    factors.append(wk * F.sigmoid(zk).item() * (1 - F.sigmoid(zk).item()))
    a = F.sigmoid(zk)
a.backward()
assert np.isclose(a0.grad.item(), np.prod(factors))
assert abs(a0.grad.item()) <= 0.25 ** len(weights) * np.prod(np.abs(weights))
print(f"d a_8 / d a_0 = {a0.grad.item():.3e} (product of {len(weights)} factors)")

# %% [markdown]
# The same effect in real networks: 11 fully connected layers of width 32, the gradient of the
# output with respect to each layer's weights. With sigmoids (Xavier-initialised) the gradient
# shrinks by a factor of about 5 per layer on its way back and the first layer gets about
# $10^{-7}$ of what the last one gets: the early layers barely learn. With ReLU (He-initialised)
# the derivative is 1 wherever a unit is active and the gradient reaches the first layer intact.

# %%
def layer_gradient_norms(activation, init):
    ag.manual_seed(0)
    model = nn.MLP([32] * 11 + [1], activation=activation)
    for linear in model.linears:
        init(linear.weight)
        nn.init.zeros_(linear.bias)
    model(ag.randn(64, 32)).sum().backward()
    return {f"layer {i + 1}": float(np.linalg.norm(lin.weight.grad.data)) for i, lin in enumerate(model.linears)}


sigmoid_norms = layer_gradient_norms("sigmoid", nn.init.xavier_normal_)
relu_norms = layer_gradient_norms("relu", lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"))
sig_ratio = sigmoid_norms["layer 1"] / sigmoid_norms["layer 11"]
relu_ratio = relu_norms["layer 1"] / relu_norms["layer 11"]
print(f"first / last layer gradient norm: sigmoid {sig_ratio:.1e}, relu {relu_ratio:.1e}")
assert sig_ratio < 1e-5 and relu_ratio > 1e-2
assert all(sigmoid_norms[f"layer {i}"] < sigmoid_norms[f"layer {i + 1}"] for i in range(1, 11))

fig = Figure(figsize=(10, 3.4), layout="constrained")
ax1, ax2 = fig.subplots(1, 2, sharey=True)
viz.plots.plot_grad_norms(sigmoid_norms, ax=ax1, title="sigmoid: gradients vanish")
viz.plots.plot_grad_norms(relu_norms, ax=ax2, title="ReLU + He init")
fig
