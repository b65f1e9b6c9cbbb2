# %% [markdown]
# # 01 · Autograd basics: a loss, its graph, and back-propagation
#
# Concepts: T1, L1, L2, E5
#
# The simplest loss of the course material is the squared error of one prediction,
# **E5**: $L = |wx + b - y|^2$. Computing it with `autograd` Tensors records a
# **computation graph** (T1); one call to `backward()` then walks that graph from the loss
# back to the parameters and fills in every gradient at once. We draw the graph, step
# through the forward and backward pass one node at a time, and check the gradients against
# finite differences. The second half builds up from one neuron to a layer $y = a(Wx + b)$
# (L2, L1).
#
# Every claim below is checked by an `assert`, so running the notebook top to bottom is
# also a test.

# %%
# %matplotlib inline
import numpy as np
from matplotlib.figure import Figure

import autograd as ag
import nn
import viz

ag.manual_seed(0)                   # repeatable random weights in nn layers
rng = np.random.default_rng(0)      # repeatable data

# %% [markdown]
# ## E5: the loss $|wx + b - y|^2$ for one sample
#
# Take $w = 2$, $b = 0.5$ (the parameters, so `requires_grad=True`), and one sample
# $x = 3$ with target $y = 4$. The prediction is $wx + b = 6.5$, the residual $2.5$, the
# loss $6.25$.

# %%
w = ag.Tensor(2.0, requires_grad=True, name="w")
b = ag.Tensor(0.5, requires_grad=True, name="b")
x = ag.Tensor(3.0, name="x")
y = ag.Tensor(4.0, name="y")

prediction = w * x + b
residual = prediction - y
loss = residual.abs() ** 2

assert prediction.item() == 6.5 and residual.item() == 2.5
assert loss.item() == 6.25
loss

# %% [markdown]
# ## T1: the recorded computation graph
#
# Each operation left a node behind: `loss.grad_fn` is the `power` node, whose inputs lead to
# `abs`, then `subtract`, `add` and `multiply`. Every node knows where each input came from (an
# edge to the node that produced it, a leaf tensor, or a constant), holds its output value until
# backward frees it (`node.output_value()`), and has an order number saying when the forward pass ran it.

# %%
def graph_nodes(t):
    """All nodes behind ``t``, in the order the forward pass ran them."""
    seen, stack = {}, [t.grad_fn]
    while stack:
        node = stack.pop()
        if node is None or id(node) in seen:
            continue
        seen[id(node)] = node
        stack.extend(edge.node for edge in node.inputs if edge.kind == "node")  # edges to producer nodes
    return sorted(seen.values(), key=lambda node: node.order)


nodes = graph_nodes(loss)
for node in nodes:
    print(f"{node.name:>9}  output {float(node.output_value()):g}")
assert [node.name for node in nodes] == ["multiply", "add", "subtract", "abs", "power"]
assert [float(node.output_value()) for node in nodes] == [6.0, 6.5, 2.5, 2.5, 6.25]

# %% [markdown]
# `viz.draw_graph` draws that graph: ellipses are operations, boxes are tensors (parameters in
# amber, inputs in green, constants such as the exponent 2 in grey).

# %%
forward_drawing = viz.draw_graph(loss)
assert "<svg" in viz.to_svg(forward_drawing)
forward_drawing

# %% [markdown]
# ## Back-propagation: every gradient in one backward pass
#
# By the chain rule, with $r = wx + b - y$:
# $\partial L / \partial w = 2r \cdot x = 2 \cdot 2.5 \cdot 3 = 15$ and
# $\partial L / \partial b = 2r = 5$. (The derivative of $|r|^2$ is $2|r|\,\mathrm{sign}(r) = 2r$.)
# `loss.backward()` computes both at once and stores them in `.grad`; `x` and `y` do not
# require gradients, so they get none.

# %%
loss.backward()
print("dL/dw =", w.grad.item(), " dL/db =", b.grad.item())
assert w.grad.item() == 15.0
assert b.grad.item() == 5.0
assert x.grad is None and y.grad is None

# %% [markdown]
# `viz.draw_backward` draws the graph the gradients flowed through: one node per backward
# function, arrows in the direction the gradient travels, ending in "accumulate into w / b".
# After `backward()` the values each node saved for it are freed (dashed nodes), so a second
# `backward()` through the same graph would need `retain_graph=True`.

# %%
backward_drawing = viz.draw_backward(loss)
assert "accumulate into w" in backward_drawing.source
try:
    loss.backward()
    raise AssertionError("a second backward through a freed graph should fail")
except RuntimeError as err:
    print("second backward:", err)
backward_drawing

# %% [markdown]
# Gradients **accumulate**: a second backward pass over a freshly built graph adds to `.grad`
# rather than replacing it. That is why training loops clear the gradients before each step.

# %%
((w * x + b - y).abs() ** 2).backward()
assert w.grad.item() == 30.0 and b.grad.item() == 10.0
w.grad = None
b.grad = None

# %% [markdown]
# ## Stepping through the forward, then the backward pass
#
# `viz.Stepper` shows one frame per node: first the five operations in the order they ran,
# then the five backward functions in the order the engine visits them (newest first). In
# Jupyter it shows a slider; `save_html` writes the same frames as a self-contained page. The
# Stepper runs its own backward without touching `w.grad`.

# %%
loss = (w * x + b - y).abs() ** 2
stepper = viz.Stepper(loss)
for frame in stepper.frames:
    print(frame.title)
assert len(stepper) == 10
assert [f.phase for f in stepper.frames] == ["forward"] * 5 + ["backward"] * 5
order = ["multiply", "add", "subtract", "abs", "power"]
assert [f.op.name for f in stepper.frames] == order + order[::-1]
assert w.grad is None
page = stepper.save_html("stepper_e5.html")
assert page.exists() and page.stat().st_size > 0
stepper

# %% [markdown]
# ## Checking gradients against finite differences
#
# `ag.gradcheck(fn, inputs)` compares the gradients autograd computes with central finite
# differences $(f(\theta + \epsilon) - f(\theta - \epsilon)) / 2\epsilon$, in float64. Here the
# E5 loss is summed over a batch of 20 samples.

# %%
xs = rng.normal(size=20)
ys = 3.0 * xs - 1.0 + 0.1 * rng.normal(size=20)


def batch_loss(w, b):
    return ((w * xs + b - ys).abs() ** 2).sum()


w64 = ag.Tensor(np.array(0.7), requires_grad=True)
b64 = ag.Tensor(np.array(-0.2), requires_grad=True)
assert ag.gradcheck(batch_loss, (w64, b64))

# the same gradients in closed form: dL/dw = sum 2 r x, dL/db = sum 2 r
batch_loss(w64, b64).backward()
r = 0.7 * xs - 0.2 - ys
assert np.isclose(w64.grad.item(), np.sum(2 * r * xs)) and np.isclose(b64.grad.item(), np.sum(2 * r))

# %% [markdown]
# `gradcheck` exists to catch mistakes. A custom operation with a wrong backward
# (the derivative of $a^3$ written as $2a^2$ instead of $3a^2$) is caught at once.

# %%
class WrongCube(ag.Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return a ** 3

    @staticmethod
    def backward(ctx, grad_output):
        (a,) = ctx.saved_tensors
        return grad_output * 2 * a ** 2   # wrong on purpose: d(a^3)/da = 3a^2


a = ag.Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
try:
    ag.gradcheck(lambda t: WrongCube.apply(t).sum(), (a,))
    raise AssertionError("gradcheck should reject the wrong backward")
except ag.GradcheckError as err:
    print(str(err).splitlines()[0])

# %% [markdown]
# **Why back-propagation (T1).** Finite differences need two evaluations of the loss *per
# parameter*; one backward pass gives all of them for about the cost of one more forward pass.
# With 200 parameters that is 400 loss evaluations against one backward, and the answers agree.

# %%
X = rng.normal(size=(50, 200))
t = rng.normal(size=50)
theta = ag.Tensor(rng.normal(size=200) * 0.1, requires_grad=True)


def mse(th):
    return (((X @ th) - t) ** 2).mean()


mse(theta).backward()
eps, numeric = 1e-6, np.zeros(200)
for i in range(200):
    step = np.zeros(200)
    step[i] = eps
    numeric[i] = (mse(ag.Tensor(theta.data + step)).item() - mse(ag.Tensor(theta.data - step)).item()) / (2 * eps)
assert np.allclose(theta.grad.data, numeric, atol=1e-6)
assert np.allclose(theta.grad.data, 2 * X.T @ (X @ theta.data - t) / 50)

# %% [markdown]
# ## L2: a neuron is a weighted sum, a bias and an activation
#
# A **perceptron** uses a step activation: output 1 when $w \cdot x + b > 0$. With
# $w = (1, 1)$ it computes AND for $b = -1.5$ and OR for $b = -0.5$. No single neuron computes
# XOR, but a **feed-forward network** (a DAG of layers, each fully connected to the next) with one
# hidden layer of two neurons (OR and NAND) followed by an AND neuron does.

# %%
inputs = ag.Tensor([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def perceptron(x, weight, bias):
    """Step activation of a weighted sum plus bias: 1 where w . x + b > 0."""
    z = x @ ag.Tensor(np.array(weight, np.float32)).T + ag.Tensor(np.array(bias, np.float32))
    return (z > 0).astype(np.float32)


AND = perceptron(inputs, [[1, 1]], [-1.5])
OR = perceptron(inputs, [[1, 1]], [-0.5])
assert AND.data.ravel().tolist() == [0, 0, 0, 1]
assert OR.data.ravel().tolist() == [0, 1, 1, 1]

hidden = perceptron(inputs, [[1, 1], [-1, -1]], [-0.5, 1.5])   # OR, NAND
XOR = perceptron(hidden, [[1, 1]], [-1.5])                     # AND of the two
assert XOR.data.ravel().tolist() == [0, 1, 1, 0]

# %% [markdown]
# The same 2-2-1 network as `nn` layers (with a sigmoid as a smooth step: large weights make it
# sharp), drawn neuron by neuron with `viz.draw_network`. Blue edges are positive weights, red
# negative; the numbers in the neurons are the biases.

# %%
xor_net = nn.Sequential(nn.Linear(2, 2), nn.Sigmoid(), nn.Linear(2, 1), nn.Sigmoid())
k = np.float32(20.0)
xor_net.load_state_dict({
    "0.weight": k * np.array([[1, 1], [-1, -1]], np.float32), "0.bias": k * np.array([-0.5, 1.5], np.float32),
    "2.weight": k * np.array([[1, 1]], np.float32), "2.bias": k * np.array([-1.5], np.float32),
})
probabilities = xor_net(inputs).data.ravel()
assert np.array_equal(probabilities > 0.5, [False, True, True, False])
assert np.all(np.abs(probabilities - [0, 1, 1, 0]) < 1e-3)
viz.draw_network(xor_net)

# %% [markdown]
# ## L1: what one layer $y = a(Wx + b)$ does to its input space
#
# Five operations: **change of dimension** (W is $m \times n$), **scaling** and **rotation**
# (W), **translation** (b) and **"bending"** (the activation $a$). Below, $W = 1.5\,R(30°)$
# scales every point's distance from the origin by 1.5 and turns it by 30°, $b$ moves all points
# by the same vector, and tanh bends straight lines into curves, squeezing everything into
# $(-1, 1)^2$.

# %%
angle = np.deg2rad(30)
W = 1.5 * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]], np.float32)
bias = np.array([0.8, -0.4], np.float32)
layer = nn.Linear(2, 2)
layer.load_state_dict({"weight": W, "bias": bias})

g = np.linspace(-1.5, 1.5, 7, dtype=np.float32)
grid = np.array([(u, v) for u in g for v in np.linspace(-1.5, 1.5, 61, dtype=np.float32)]
                + [(u, v) for v in g for u in np.linspace(-1.5, 1.5, 61, dtype=np.float32)])
points = ag.Tensor(grid)
scaled_rotated = points @ ag.Tensor(W).T
translated = layer(points)
bent = translated.tanh()

norms_in = np.linalg.norm(grid, axis=1)
assert np.allclose(np.linalg.norm(scaled_rotated.data, axis=1), 1.5 * norms_in, atol=1e-5)   # scaling
turned = np.arctan2(scaled_rotated.data[:, 1], scaled_rotated.data[:, 0]) - np.arctan2(grid[:, 1], grid[:, 0])
moved = norms_in > 1e-6
assert np.allclose(np.cos(turned[moved]), np.cos(angle), atol=1e-5)                             # rotation
assert np.allclose(translated.data - scaled_rotated.data, bias, atol=1e-6)                        # translation
assert np.all(np.abs(bent.data) < 1)                                                              # bending
u, v = ag.Tensor([0.9]), ag.Tensor([1.3])
assert not np.isclose((u + v).tanh().item(), u.tanh().item() + v.tanh().item())                  # not linear

fig = Figure(figsize=(11, 3), layout="constrained")
panels = [("input", grid), ("scale + rotate (W)", scaled_rotated.data), ("translate (+ b)", translated.data),
          ("bend (tanh)", bent.data)]
for ax, (title, pts) in zip(fig.subplots(1, 4), panels):
    ax.scatter(pts[:, 0], pts[:, 1], s=1, c=grid[:, 0], cmap="viridis")
    ax.set_title(title)
    ax.set_aspect("equal")
    ax.grid(alpha=0.3)
fig

# %% [markdown]
# The **change of dimension**: a $3 \times 2$ weight maps the plane into 3-D space. The image is
# still a flat plane (rank 2: the third singular value of the centred points is zero) until the
# activation bends it.

# %%
up = nn.Linear(2, 3)
lifted = up(points).data
singular_values = np.linalg.svd(lifted - lifted.mean(axis=0), compute_uv=False)
assert lifted.shape[1] == 3 and singular_values[2] < 1e-3 * singular_values[0]
bent_3d = np.tanh(lifted)
assert np.linalg.svd(bent_3d - bent_3d.mean(axis=0), compute_uv=False)[2] > 1e-3
print("singular values before / after tanh:", singular_values.round(3),
      np.linalg.svd(bent_3d - bent_3d.mean(axis=0), compute_uv=False).round(3))
