# %% [markdown]
# # 02 · The worked 3-4-1 network, differentiated by hand and by autograd
#
# Concepts: L4, E2, A1, T1
#
# The course notes work through one small network by hand: 3 inputs, a hidden layer of 4
# sigmoid neurons, one sigmoid output, and the binary cross-entropy loss (E2). They derive every
# gradient with the chain rule. Here we compute those hand-derived formulas in NumPy and check
# that they are exactly what `autograd` computes with one `backward()` (T1), then train the network
# both ways and watch the parameters stay identical.
#
# Notation of the notes (row vectors, so the weights are $(n_\text{in}, n_\text{out})$):
#
# $$z^{[1]} = a^{[0]}\theta^{[0]} + b^{[0]},\quad a^{[1]} = \sigma(z^{[1]}),\quad
#   z^{[2]} = a^{[1]}\theta^{[1]} + b^{[1]},\quad a^{[2]} = \sigma(z^{[2]})$$
#
# $$L = -y \ln a^{[2]} - (1 - y) \ln(1 - a^{[2]})$$

# %%
import numpy as np

import autograd as ag
import nn
import nn.functional as F
import viz

rng = np.random.default_rng(2)

# %% [markdown]
# ## The numbers
#
# One sample $a^{[0]} = x$ of shape $(1, 3)$ with label $y = 1$. The weights follow the rule of
# the notes, $\dim\theta^{[i]} = (n^{[i]}, n^{[i+1]})$: $\theta^{[0]}$ is $(3, 4)$, $\theta^{[1]}$ is $(4, 1)$.
# Everything is float64 so that the hand computation and autograd agree to the last digits.

# %%
sizes = [3, 4, 1]
x = np.array([[1.0, 2.0, -1.0]])
y = np.array([[1.0]])
theta0_init = rng.normal(0, 0.5, size=(sizes[0], sizes[1]))
b0_init = rng.normal(0, 0.1, size=(1, sizes[1]))
theta1_init = rng.normal(0, 0.5, size=(sizes[1], sizes[2]))
b1_init = rng.normal(0, 0.1, size=(1, sizes[2]))
assert theta0_init.shape == (3, 4) and theta1_init.shape == (4, 1)
print("theta0 =\n", theta0_init.round(3), "\ntheta1 =\n", theta1_init.round(3))

# %% [markdown]
# ## Forward and backward with autograd
#
# `retain_grad()` keeps the gradients of the intermediate tensors too, so we can compare each
# line of the derivation, not only the parameter gradients.

# %%
theta0 = ag.Tensor(theta0_init, requires_grad=True, name="theta0")
b0 = ag.Tensor(b0_init, requires_grad=True, name="b0")
theta1 = ag.Tensor(theta1_init, requires_grad=True, name="theta1")
b1 = ag.Tensor(b1_init, requires_grad=True, name="b1")

a0 = ag.Tensor(x, name="a0")
z1 = a0 @ theta0 + b0
a1 = z1.sigmoid()
z2 = a1 @ theta1 + b1
a2 = z2.sigmoid()
loss = -(y * a2.log() + (1 - y) * (1 - a2).log()).sum()
for t in (z1, a1, z2, a2):
    t.retain_grad()
loss.backward(retain_graph=True)   # keep the values: the graph is drawn with its numbers below

assert a1.shape == (1, 4) and a2.shape == (1, 1)
assert np.isclose(loss.item(), F.binary_cross_entropy(a2, ag.Tensor(y)).item())   # the same E2 loss
print(f"prediction a2 = {a2.item():.4f}, loss = {loss.item():.4f}")

# %% [markdown]
# ## The hand derivation, line by line, in NumPy
#
# The derivative of the sigmoid is $\sigma'(z) = \sigma(z)(1 - \sigma(z))$. Then:
#
# | quantity | formula of the notes |
# |---|---|
# | $\Delta a^{[2]}$ | $-y / a^{[2]} + (1 - y)/(1 - a^{[2]})$ |
# | $\Delta z^{[2]}$ | $\Delta a^{[2]} \cdot a^{[2]}(1 - a^{[2]}) = a^{[2]} - y$ |
# | $\Delta\theta^{[1]}$ | $a^{[1]\top} \Delta z^{[2]}$ |
# | $\Delta b^{[1]}$ | $\Delta z^{[2]}$ |
# | $\Delta z^{[1]}$ | $\Delta z^{[2]} \theta^{[1]\top} \odot a^{[1]}(1 - a^{[1]})$ |
# | $\Delta\theta^{[0]}$ | $a^{[0]\top} \Delta z^{[1]}$ |
# | $\Delta b^{[0]}$ | $\Delta z^{[1]}$ |


# %%
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def hand_gradients(x, y, theta0, b0, theta1, b1):
    """The notes' back-propagation for a batch of m rows (the loss averaged over the rows)."""
    m = x.shape[0]
    a0 = x
    a1 = sigmoid(a0 @ theta0 + b0)
    a2 = sigmoid(a1 @ theta1 + b1)
    da2 = (-y / a2 + (1 - y) / (1 - a2)) / m
    dz2 = (a2 - y) / m
    assert np.allclose(dz2, da2 * a2 * (1 - a2))   # the simplification dz2 = a2 - y
    dtheta1 = a1.T @ dz2
    db1 = dz2.sum(axis=0, keepdims=True)
    dz1 = dz2 @ theta1.T * a1 * (1 - a1)
    dtheta0 = a0.T @ dz1
    db0 = dz1.sum(axis=0, keepdims=True)
    return {"a2": da2, "z2": dz2, "z1": dz1, "theta1": dtheta1, "b1": db1, "theta0": dtheta0, "b0": db0}


hand = hand_gradients(x, y, theta0_init, b0_init, theta1_init, b1_init)
autograd_grads = {"a2": a2.grad, "z2": z2.grad, "z1": z1.grad, "theta1": theta1.grad, "b1": b1.grad,
                  "theta0": theta0.grad, "b0": b0.grad}
for name, g in autograd_grads.items():
    assert np.allclose(g.data, hand[name], rtol=1e-12, atol=1e-15), name
    print(f"d{name:<7} hand == autograd  {np.round(hand[name].ravel(), 5)}")
assert np.allclose(z2.grad.data, a2.data - y)          # dz2 = a2 - y, exactly as derived

# %% [markdown]
# The sigmoid's derivative, $\sigma(1 - \sigma)$, is also what autograd finds for `sigmoid`:

# %%
zs = ag.Tensor(np.linspace(-6, 6, 25), requires_grad=True)
zs.sigmoid().sum().backward()
assert np.allclose(zs.grad.data, sigmoid(zs.data) * (1 - sigmoid(zs.data)))
assert np.isclose(zs.grad.data.max(), 0.25)            # largest at z = 0

# %% [markdown]
# ## The graph autograd recorded
#
# The forward graph has exactly the operations of the formulas: two matrix products, two bias
# additions and two sigmoids for the network, then for the loss two logs, $1 - a^{[2]}$, two
# products with the labels, their sum, the sum over the batch and the minus sign. Walking
# `grad_fn` links from the loss counts them.

# %%
def op_counts(t):
    """How many nodes of each operation the graph behind ``t`` holds."""
    counts, seen, stack = {}, set(), [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen.add(id(node))
        counts[node.name] = counts.get(node.name, 0) + 1
        stack.extend(edge.node for edge in node.inputs if edge.kind == "node")
    return counts


counts = op_counts(loss)
print(counts)
assert counts == {"matmul": 2, "add": 3, "sigmoid": 2, "log": 2, "subtract": 1, "multiply": 2, "sum": 1,
                  "negative": 1}
graph_drawing = viz.draw_graph(loss)
assert f"{a2.item():.4g}" in graph_drawing.source    # the drawing shows the numbers, not only shapes
graph_drawing

# %% [markdown]
# ## The same network as `nn` layers
#
# `nn.Linear` stores its weight PyTorch-style as $(n_\text{out}, n_\text{in})$ and computes
# $x W^\top + b$, so its weight is $\theta^\top$. Loading the same numbers gives the same output, and
# the weight gradients are the transposed hand gradients. `viz.draw_network` draws the textbook
# picture: 3 inputs, 4 hidden neurons, 1 output, one edge per weight.

# %%
model = nn.Sequential(nn.Linear(3, 4, dtype=np.float64), nn.Sigmoid(),
                      nn.Linear(4, 1, dtype=np.float64), nn.Sigmoid())
model.load_state_dict({"0.weight": theta0_init.T, "0.bias": b0_init.ravel(),
                       "2.weight": theta1_init.T, "2.bias": b1_init.ravel()})
out = model(ag.Tensor(x))
nn_loss = nn.BCELoss()(out, ag.Tensor(y))
nn_loss.backward()
assert np.allclose(out.data, a2.data)
assert np.allclose(model[0].weight.grad.data, hand["theta0"].T)
assert np.allclose(model[2].weight.grad.data, hand["theta1"].T)
assert np.allclose(model[0].bias.grad.data, hand["b0"].ravel())
viz.draw_network(model)

# %% [markdown]
# ## Training by hand and by autograd, side by side
#
# A batch of 8 samples (labels from a simple rule), 200 steps of gradient descent with learning
# rate 0.5: once with the hand gradients in NumPy, once with `loss.backward()` and `nn.optim.SGD`.
# The two sets of parameters stay equal at every step, and the loss goes down.

# %%
X = rng.normal(size=(8, 3))
Y = (X[:, :1] - X[:, 1:2] > 0).astype(np.float64)
lr = 0.5
params = {"theta0": theta0_init.copy(), "b0": b0_init.copy(), "theta1": theta1_init.copy(), "b1": b1_init.copy()}

model.load_state_dict({"0.weight": theta0_init.T, "0.bias": b0_init.ravel(),
                       "2.weight": theta1_init.T, "2.bias": b1_init.ravel()})
optimizer = nn.optim.SGD(model.parameters(), lr=lr)
bce = nn.BCELoss()
losses = []
for step in range(200):
    g = hand_gradients(X, Y, **params)
    for name in params:
        params[name] -= lr * g[name]
    optimizer.zero_grad()
    batch_loss = bce(model(ag.Tensor(X)), ag.Tensor(Y))
    batch_loss.backward()
    optimizer.step()
    losses.append(batch_loss.item())

assert np.allclose(model[0].weight.data, params["theta0"].T, atol=1e-10)
assert np.allclose(model[2].weight.data, params["theta1"].T, atol=1e-10)
assert np.allclose(model[2].bias.data, params["b1"].ravel(), atol=1e-10)
assert losses[-1] < 0.5 * losses[0]
print(f"loss: {losses[0]:.4f} -> {losses[-1]:.4f}")
predictions = model(ag.Tensor(X)).data > 0.5
assert np.array_equal(predictions, Y > 0.5)
