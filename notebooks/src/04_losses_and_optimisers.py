# %% [markdown]
# # 04 · Losses, gradient descent, optimisers, schedules, initialisation and clipping
#
# Concepts: E1, E2, E3, E4, T2, T4, T5, T6, T11
#
# Training is "compute a loss, follow its gradient downhill". This notebook checks what the
# common losses compute and what their gradients are (E1–E4), shows how the learning rate and
# the starting point decide where gradient descent ends up (T2), runs every optimiser of the
# notes on the same non-convex function (T4), decays the learning rate in steps (T5), compares
# initialisations (T6) and clips exploding gradients (T11).

# %%
# %matplotlib inline
import numpy as np
from matplotlib.figure import Figure

import autograd as ag
import nn
import nn.functional as F

ag.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## E1 · Mean squared error, and the $\frac{1}{2m}$ convention
#
# `F.mse_loss` is $\frac{1}{m}\sum_i (\hat y_i - y_i)^2$. Many texts write $J = \frac{1}{2m}\sum_i (\hat y_i - y_i)^2$
# instead: the $\frac12$ cancels the 2 of the derivative, so for a linear model $\hat y = Xw$ the
# gradient is simply $\frac{1}{m} X^\top (Xw - y)$. The minimiser is the same.

# %%
m = 40
X = rng.normal(size=(m, 3))
y = X @ np.array([1.0, -2.0, 0.5]) + 0.1 * rng.normal(size=m)
w = ag.Tensor(np.zeros(3), requires_grad=True)

mse = F.mse_loss(ag.Tensor(X) @ w, ag.Tensor(y))
assert np.isclose(mse.item(), np.mean(y ** 2))
J = 0.5 * mse                                          # the 1/(2m) convention
J.backward()
assert np.allclose(w.grad.data, X.T @ (X @ np.zeros(3) - y) / m)
assert np.isclose(F.mse_loss(ag.Tensor(X) @ w, ag.Tensor(y), reduction="sum").item(), m * mse.item())

# %% [markdown]
# ## E2 · Binary cross-entropy
#
# For a probability $p = \sigma(z)$ and a label $y \in \{0, 1\}$:
# $-\frac1m \sum [y \ln p + (1 - y)\ln(1 - p)]$. Its gradient with respect to the logit $z$ is just
# $(p - y)/m$, and `binary_cross_entropy_with_logits` computes the same loss directly from $z$,
# without ever forming $\ln \sigma(z)$ (stable for large $|z|$).

# %%
z = ag.Tensor(np.array([2.0, -1.0, 0.5, -3.0]), requires_grad=True)
labels = np.array([1.0, 0.0, 0.0, 1.0])
p = z.sigmoid()
bce = F.binary_cross_entropy(p, ag.Tensor(labels))
assert np.isclose(bce.item(), -np.mean(labels * np.log(p.data) + (1 - labels) * np.log(1 - p.data)))
assert np.isclose(bce.item(), F.binary_cross_entropy_with_logits(z, ag.Tensor(labels)).item())
bce.backward()
assert np.allclose(z.grad.data, (p.data - labels) / 4)
huge = F.binary_cross_entropy_with_logits(ag.Tensor([800.0, -800.0]), ag.Tensor([0.0, 1.0]))
assert np.isclose(huge.item(), 800.0)                  # finite: no log(0)

# %% [markdown]
# ## E3 · Multi-class cross-entropy
#
# With scores $z$ (one row per sample) and class indices $c$: $-\frac1m\sum_i \ln \mathrm{softmax}(z_i)_{c_i}$.
# Its gradient with respect to the scores is $(\mathrm{softmax}(z) - \mathrm{onehot}(c))/m$: push the
# right class up, every other class down in proportion to its probability.

# %%
scores = ag.Tensor(rng.normal(size=(5, 4)), requires_grad=True)
classes = np.array([0, 3, 1, 1, 2])
ce = F.cross_entropy(scores, ag.Tensor(classes))
softmax = np.exp(scores.data) / np.exp(scores.data).sum(axis=1, keepdims=True)
assert np.isclose(ce.item(), -np.mean(np.log(softmax[np.arange(5), classes])))
ce.backward()
assert np.allclose(scores.grad.data, (softmax - np.eye(4)[classes]) / 5)

# %% [markdown]
# ## E4 · Hinge loss
#
# For labels $y \in \{-1, +1\}$ and scores $f$: $\max(0, 1 - y f)$. It is zero once a sample is on the
# right side *with a margin* of 1, so only samples inside the margin (or wrong) produce a
# gradient, $-y$ for each of them.

# %%
f = ag.Tensor(np.array([2.5, 0.4, -0.3, -1.7]), requires_grad=True)
signs = np.array([1.0, 1.0, 1.0, -1.0])
hinge = F.hinge_loss(f, ag.Tensor(signs), reduction="sum")
assert np.isclose(hinge.item(), 0.0 + 0.6 + 1.3 + 0.0)
hinge.backward()
assert np.allclose(f.grad.data, [0.0, -1.0, -1.0, 0.0])

# %% [markdown]
# ## T2 · Gradient descent: the learning rate
#
# On $J(\theta) = \theta^2$ a step is $\theta \leftarrow \theta - \eta \cdot 2\theta = (1 - 2\eta)\theta$.
# Too small a rate crawls, a good one converges in a few steps, and beyond $\eta = 1$ every step
# overshoots further than the last: divergence.

# %%
def descend(lr, start, grad_fn, steps):
    theta = ag.Tensor(np.array(start), requires_grad=True)
    optimizer = nn.optim.SGD([theta], lr=lr)
    path = [theta.item()]
    for _ in range(steps):
        optimizer.zero_grad()
        grad_fn(theta).backward()
        optimizer.step()
        path.append(theta.item())
    return np.array(path)


def square(t):
    return t ** 2


runs = {lr: descend(lr, 1.0, square, 20) for lr in (0.02, 0.3, 1.05)}
assert np.allclose(runs[0.3], 0.4 ** np.arange(21))     # theta_k = (1 - 2 lr)^k
assert abs(runs[0.02][-1]) > 0.4                         # too small: still far away
assert abs(runs[0.3][-1]) < 1e-7                         # about right: converged
assert abs(runs[1.05][-1]) > 5                           # too large: diverges

fig = Figure(figsize=(5, 3), layout="constrained")
ax = fig.add_subplot()
for lr, path in runs.items():
    ax.plot(path, marker="o", markersize=3, label=f"lr = {lr}")
ax.set_xlabel("step")
ax.set_ylabel("θ")
ax.set_ylim(-6, 6)
ax.legend()
ax.set_title("gradient descent on θ²")
fig

# %% [markdown]
# ## T2 · Local minima: the starting point matters
#
# $J(x) = x^4 - 3x^2 + x$ has two valleys: a global minimum near $x = -1.30$ and a local one near
# $x = 1.13$. Gradient descent only ever goes downhill, so it ends in the valley it starts in.

# %%
def double_well(t):
    return t ** 4 - 3 * t ** 2 + t


from_right = descend(0.01, 2.0, double_well, 300)[-1]
from_left = descend(0.01, -2.0, double_well, 300)[-1]
print(f"start  2.0 -> x = {from_right:.3f}, J = {double_well(from_right):.3f}   (local minimum)")
print(f"start -2.0 -> x = {from_left:.3f}, J = {double_well(from_left):.3f}   (global minimum)")
assert np.isclose(from_right, 1.131, atol=1e-3) and np.isclose(from_left, -1.301, atol=1e-3)
assert double_well(from_left) < double_well(from_right)

# %% [markdown]
# ## T4 · All optimisers in one frame
#
# The notes describe every optimiser with one template: with $g = \nabla J(\theta)$, a first moment
# $m = \phi(g_1, \dots, g_t)$ and a second moment $v = \psi(g_1, \dots, g_t)$, step
# $\theta \leftarrow \theta - \eta\, m / v$.
#
# | optimiser | $m$ | $v$ |
# |---|---|---|
# | GD / SGD | $g$ | 1 |
# | Momentum | $m \leftarrow \gamma m + g$ | 1 |
# | Nesterov | $g + \gamma\,(\gamma m + g)$ (look ahead along the momentum) | 1 |
# | Adagrad | $g$ | $\sqrt{\sum g^2} + \epsilon$ |
# | RMSProp | $g$ | $\sqrt{\mathrm{EMA}_\alpha(g^2)} + \epsilon$ |
# | Adadelta | $g\sqrt{\mathrm{EMA}_\rho(\Delta\theta^2) + \epsilon}$ | $\sqrt{\mathrm{EMA}_\rho(g^2) + \epsilon}$ |
# | Adam | $\mathrm{EMA}_{\beta_1}(g)/(1-\beta_1^t)$ | $\sqrt{\mathrm{EMA}_{\beta_2}(g^2)/(1-\beta_2^t)} + \epsilon$ |
#
# Below, that table is written in NumPy and run next to `nn.optim` on a non-convex function of two
# variables, $J(x, y) = (x^2 - 1)^2 + 0.3x + 2(y - x/2)^2$: a global minimum at $x \approx -1.04$ and a
# local one at $x \approx 0.96$. The two paths agree step for step for every optimiser.

# %%
def J2(p):
    x, y = p[0], p[1]
    return (x * x - 1) ** 2 + 0.3 * x + 2 * (y - 0.5 * x) ** 2


def grad_J2(p):
    x, y = p
    return np.array([4 * x * (x * x - 1) + 0.3 - 2 * (y - 0.5 * x), 4 * (y - 0.5 * x)])


def framework_step(name, g, s, t, hp):
    """One update eta * m / v of the template; ``s`` holds the running sums, ``t`` counts steps from 1."""
    if name == "SGD":
        m, v = g, 1.0
    elif name in ("Momentum", "Nesterov"):
        s["m"] = hp["momentum"] * s.get("m", 0) + g
        m, v = (s["m"] if name == "Momentum" else g + hp["momentum"] * s["m"]), 1.0
    elif name == "Adagrad":
        s["sq"] = s.get("sq", 0) + g * g
        m, v = g, np.sqrt(s["sq"]) + 1e-10
    elif name == "RMSprop":
        s["sq"] = 0.99 * s.get("sq", 0) + 0.01 * g * g
        m, v = g, np.sqrt(s["sq"]) + 1e-8
    elif name == "Adadelta":
        s["sq"] = 0.9 * s.get("sq", 0) + 0.1 * g * g
        m, v = g * np.sqrt(s.get("dx", 0) + hp["eps"]), np.sqrt(s["sq"] + hp["eps"])
        s["dx"] = 0.9 * s.get("dx", 0) + 0.1 * (m / v) ** 2
    elif name == "Adam":
        s["m"] = 0.9 * s.get("m", 0) + 0.1 * g
        s["sq"] = 0.999 * s.get("sq", 0) + 0.001 * g * g
        m, v = s["m"] / (1 - 0.9 ** t), np.sqrt(s["sq"] / (1 - 0.999 ** t)) + 1e-8
    return hp["lr"] * m / v


optimisers = {
    "SGD": (nn.optim.SGD, {"lr": 0.05}),
    "Momentum": (nn.optim.SGD, {"lr": 0.05, "momentum": 0.8}),
    "Nesterov": (nn.optim.SGD, {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    "Adagrad": (nn.optim.Adagrad, {"lr": 0.5}),
    "RMSprop": (nn.optim.RMSprop, {"lr": 0.05}),
    "Adadelta": (nn.optim.Adadelta, {"lr": 1.0, "eps": 1e-4}),
    "Adam": (nn.optim.Adam, {"lr": 0.1}),
}
start = np.array([1.8, 1.5])
paths = {}
for name, (cls, hp) in optimisers.items():
    p = ag.Tensor(start.copy(), requires_grad=True)
    optimizer = cls([p], **hp)
    mine, state, path = start.copy(), {}, [start.copy()]
    for t in range(1, 201):
        optimizer.zero_grad()
        J2(p).backward()
        assert np.allclose(p.grad.data, grad_J2(p.data))
        optimizer.step()
        mine = mine - framework_step(name, grad_J2(mine), state, t, {"momentum": 0.8, "eps": 1e-6, **hp})
        assert np.allclose(p.data, mine, rtol=1e-9, atol=1e-12), (name, t)   # same point after every step
        path.append(p.data.copy())
    paths[name] = np.array(path)

for name, path in paths.items():
    print(f"{name:9s} ends at ({path[-1][0]:+.3f}, {path[-1][1]:+.3f}), J = {J2(path[-1]):+.3f}")
    assert J2(path[-1]) < J2(start) - 1
for name in ("SGD", "Adagrad", "RMSprop", "Adam"):
    assert np.allclose(paths[name][-1], [0.960, 0.480], atol=2e-3)     # stuck in the local minimum
for name in ("Momentum", "Nesterov"):
    assert np.allclose(paths[name][-1], [-1.036, -0.518], atol=2e-3)   # momentum carries it over the ridge

# %% [markdown]
# Plain gradient descent and the adaptive methods settle in the nearest (local) valley; the
# momentum methods build up enough speed to roll over the ridge into the deeper one. Adadelta,
# which has no learning rate of its own (its first steps are about $\sqrt\epsilon$ long and grow
# with the running average of past steps), zig-zags down the narrow valley and is not quite at
# the bottom after 200 steps.

# %%
xs, ys = np.meshgrid(np.linspace(-1.8, 2.1, 200), np.linspace(-1.4, 1.8, 200))
fig = Figure(figsize=(7, 5), layout="constrained")
ax = fig.add_subplot()
ax.contour(xs, ys, J2((xs, ys)), levels=np.linspace(-0.3, 8, 30), cmap="Greys", linewidths=0.6)
for name, path in paths.items():
    ax.plot(path[:, 0], path[:, 1], marker=".", markersize=3, linewidth=1, label=name)
ax.plot(*start, "k*", markersize=12)
ax.set_title("200 steps of each optimiser from the star")
ax.legend(fontsize=8)
fig

# %% [markdown]
# **GD, mini-batch GD and SGD** differ in the data behind $g$, not in the update: the full-batch
# gradient of a mean loss is the mean of the mini-batch gradients (equal-sized batches), and the
# mean of the single-sample (SGD) gradients. Each smaller batch gives a cheaper, noisier estimate.

# %%
def gradient(rows):
    w = ag.Tensor(np.array([0.3, 0.1, -0.2]), requires_grad=True)
    F.mse_loss(ag.Tensor(X[rows]) @ w, ag.Tensor(y[rows])).backward()
    return w.grad.data


full = gradient(np.arange(m))
mini = np.array([gradient(np.arange(k, k + 10)) for k in range(0, m, 10)])     # 4 batches of 10
single = np.array([gradient(np.array([i])) for i in range(m)])                 # 40 batches of 1
assert np.allclose(full, mini.mean(axis=0)) and np.allclose(full, single.mean(axis=0))
assert single.var(axis=0).sum() > 2 * mini.var(axis=0).sum()                  # smaller batches: noisier

# %% [markdown]
# ## T5 · Step decay of the learning rate
#
# The notes start at 0.01 for fast progress, drop to 0.001 after 10,000 iterations and to 0.0001
# after another 10,000. `StepLR(optimizer, step_size=10_000, gamma=0.1)` stepped once per iteration
# does exactly that.

# %%
theta = ag.Tensor(np.zeros(3), requires_grad=True)
optimizer = nn.optim.SGD([theta], lr=0.01)
scheduler = nn.optim.lr_scheduler.StepLR(optimizer, step_size=10_000, gamma=0.1)
lrs = []
for iteration in range(30_000):
    lrs.append(optimizer.param_groups[0]["lr"])
    scheduler.step()
assert np.isclose(lrs[0], 0.01) and np.isclose(lrs[9_999], 0.01)
assert np.isclose(lrs[10_000], 0.001) and np.isclose(lrs[19_999], 0.001)
assert np.isclose(lrs[20_000], 0.0001) and np.isclose(lrs[-1], 0.0001)

# %% [markdown]
# Why decay: with noisy mini-batch gradients a constant rate keeps jumping around the minimum,
# at a distance set by the rate. Decaying it lets the parameters settle. Below: SGD with batches
# of 4 on the regression above, constant rate 0.05 against the same rate divided by 10 every
# 150 iterations.

# %%
def sgd_run(schedule, iterations=450):
    ag.manual_seed(1)
    w = ag.Tensor(np.zeros(3), requires_grad=True)
    optimizer = nn.optim.SGD([w], lr=0.05)
    scheduler = nn.optim.lr_scheduler.StepLR(optimizer, step_size=150, gamma=0.1) if schedule else None
    order = np.random.default_rng(1).integers(0, m, size=(iterations, 4))
    errors = []
    for rows in order:
        optimizer.zero_grad()
        F.mse_loss(ag.Tensor(X[rows]) @ w, ag.Tensor(y[rows])).backward()
        optimizer.step()
        if scheduler:
            scheduler.step()
        errors.append(F.mse_loss(ag.Tensor(X) @ w, ag.Tensor(y)).item())
    return np.array(errors)


constant, decayed = sgd_run(False), sgd_run(True)
best = np.mean((X @ np.linalg.lstsq(X, y, rcond=None)[0] - y) ** 2)
print(f"full-data loss over the last 100 iterations: constant {constant[-100:].mean():.5f}, "
      f"step decay {decayed[-100:].mean():.5f}, least squares {best:.5f}")
assert decayed[-100:].mean() < constant[-100:].mean()
assert decayed[-100:].std() < 0.1 * constant[-100:].std()

fig = Figure(figsize=(9, 3), layout="constrained")
ax1, ax2 = fig.subplots(1, 2)
ax1.semilogy(lrs)
ax1.set_title("StepLR: 0.01 → 0.001 → 0.0001")
ax1.set_xlabel("iteration")
ax2.semilogy(constant - best, label="constant lr")
ax2.semilogy(decayed - best, label="step decay")
ax2.set_title("loss above the optimum")
ax2.set_xlabel("iteration")
ax2.legend()
fig

# %% [markdown]
# ## T6 · Initialisation
#
# **Constant** initialisation makes every hidden neuron compute the same thing and receive the
# same gradient, so they stay identical forever: the layer is worth one neuron (symmetry).

# %%
net = nn.Sequential(nn.Linear(3, 5, dtype=np.float64), nn.Tanh(), nn.Linear(5, 1, dtype=np.float64))
for layer in (net[0], net[2]):
    nn.init.constant_(layer.weight, 0.3)
    nn.init.zeros_(layer.bias)
optimizer = nn.optim.SGD(net.parameters(), lr=0.1)
for _ in range(100):
    optimizer.zero_grad()
    F.mse_loss(net(ag.Tensor(X)), ag.Tensor(y[:, None])).backward()
    optimizer.step()
hidden = net[0].weight.data
assert np.allclose(hidden, hidden[0]) and not np.allclose(hidden, 0.3)   # trained, yet all rows equal

# %% [markdown]
# **Small random** weights $\mathcal N(0, 0.01^2)$ break the symmetry but, in a deep network, each
# layer multiplies the spread of the activations by about $0.01\sqrt{n}$: with 100 neurons per layer
# they shrink tenfold per layer. **Xavier/Glorot** ($\mathrm{Var} = 2/(n_\text{in} + n_\text{out})$)
# keeps the spread steady through tanh layers, and **He** ($\mathrm{Var} = 2/n_\text{in}$) does so for
# ReLU layers, which zero half their inputs.

# %%
def activation_spread(init, activation, depth=10, width=100):
    ag.manual_seed(0)
    a = ag.randn(500, width)
    spreads = []
    for _ in range(depth):
        layer = nn.Linear(width, width)
        init(layer.weight)
        nn.init.zeros_(layer.bias)
        a = activation(layer(a))
        spreads.append(float(np.sqrt(np.mean(a.data ** 2))))
    return np.array(spreads)


small = activation_spread(lambda w: nn.init.normal_(w, 0.0, 0.01), F.tanh)
xavier = activation_spread(nn.init.xavier_normal_, F.tanh)
he = activation_spread(lambda w: nn.init.kaiming_normal_(w, nonlinearity="relu"), F.relu)
assert np.all(np.diff(np.log10(small)) < -0.9)         # about ten times smaller every layer
assert small[-1] < 1e-8
assert xavier[-1] > 0.2 and he[-1] > 0.3 * he[0] and he[-1] < 3 * he[0]

w = ag.zeros((300, 200))
nn.init.xavier_normal_(w)
assert np.isclose(w.data.var(), 2 / (300 + 200), rtol=0.05)
nn.init.kaiming_normal_(w, nonlinearity="relu")
assert np.isclose(w.data.var(), 2 / 200, rtol=0.05)
nn.init.trunc_normal_(w, std=1.0, a=-2.0, b=2.0)
assert w.data.min() >= -2 and w.data.max() <= 2
nn.init.sparse_(w, sparsity=0.9)
assert np.all(np.mean(w.data == 0, axis=0) >= 0.9)    # 90% zeros in every column

fig = Figure(figsize=(5, 3), layout="constrained")
ax = fig.add_subplot()
for label, spread in (("N(0, 0.01²), tanh", small), ("Xavier, tanh", xavier), ("He, ReLU", he)):
    ax.semilogy(np.arange(1, 11), spread, marker="o", label=label)
ax.set_xlabel("layer")
ax.set_ylabel("RMS of the activations")
ax.legend()
fig

# %% [markdown]
# ## T11 · Gradient clipping
#
# On a steep loss such as $x^4$ started at $x = 10$, the first gradient is 4000 and one step of
# size $0.01 \cdot 4000$ overshoots wildly; a few steps later the numbers explode.
# `nn.utils.clip_grad_norm_` rescales the gradient to a norm of at most `max_norm` (returning the
# norm it had), so every step is bounded and the descent converges. `clip_grad_value_` clips each
# component instead.

# %%
def quartic_descent(clip, steps):
    x = ag.Tensor(np.array([10.0]), requires_grad=True)
    optimizer = nn.optim.SGD([x], lr=0.01)
    norms = []
    for _ in range(steps):
        optimizer.zero_grad()
        (x ** 4).sum().backward()
        if clip:
            norms.append(nn.utils.clip_grad_norm_([x], max_norm=10.0))
        optimizer.step()
    return x.item(), norms


exploded, _ = quartic_descent(False, 3)
clipped, norms = quartic_descent(True, 300)
print(f"without clipping, 3 steps: x = {exploded:.3g}; with clipping, 300 steps: x = {clipped:.3f}")
assert abs(exploded) > 1e6
assert np.isclose(norms[0], 4000.0) and abs(clipped) < 0.5

g = ag.Tensor(np.array([3.0, -0.5, 12.0]), requires_grad=True)
(g * ag.Tensor(np.array([3.0, -0.5, 12.0]))).sum().backward()
nn.utils.clip_grad_value_([g], clip_value=1.0)
assert np.allclose(g.grad.data, [1.0, -0.5, 1.0])
