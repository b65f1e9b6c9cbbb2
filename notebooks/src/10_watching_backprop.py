# %% [markdown]
# # 10 · Watching back-propagation, one node at a time
#
# Concepts: L4, T1, E2, A1
#
# Notebook 02 derived the gradients of the 3-4-1 sigmoid network of the notes (L4) by hand and
# checked them against `backward()`. Here we *watch* the backward pass produce them: `viz.Stepper`
# walks the recorded graph (T1) node by node, and every backward step explains the chain rule at
# that node — the op's local derivative rule, its value, and the product with the incoming gradient
# that each input receives. Each step is matched to its line of the hand derivation:
#
# | step of the notes | where the Stepper shows it |
# |---|---|
# | $\Delta a^{[2]} = -y/a^{[2]} + (1 - y)/(1 - a^{[2]})$ | what the output sigmoid receives (E2) |
# | $\Delta z^{[2]} = \Delta a^{[2]} \cdot a^{[2]}(1 - a^{[2]}) = a^{[2]} - y$ | the output sigmoid (A1) |
# | $\Delta b^{[1]} = \Delta z^{[2]}$ | the bias addition |
# | $\Delta\theta^{[1]} = a^{[1]\top}\Delta z^{[2]}$, $\Delta a^{[1]} = \Delta z^{[2]}\theta^{[1]\top}$ | 2nd product |
# | $\Delta z^{[1]} = \Delta a^{[1]} \odot a^{[1]}(1 - a^{[1]})$ | the hidden sigmoid |
# | $\Delta\theta^{[0]} = a^{[0]\top}\Delta z^{[1]}$, $\Delta b^{[0]} = \Delta z^{[1]}$ | first product and bias |

# %%
import numpy as np

import autograd as ag
import viz

rng = np.random.default_rng(2)                  # the same numbers as notebook 02

# %% [markdown]
# ## The network and its loss, named as in the notes

# %%
x = np.array([[1.0, 2.0, -1.0]])
y = np.array([[1.0]])
theta0 = ag.Tensor(rng.normal(0, 0.5, size=(3, 4)), requires_grad=True, name="theta0")
b0 = ag.Tensor(rng.normal(0, 0.1, size=(1, 4)), requires_grad=True, name="b0")
theta1 = ag.Tensor(rng.normal(0, 0.5, size=(4, 1)), requires_grad=True, name="theta1")
b1 = ag.Tensor(rng.normal(0, 0.1, size=(1, 1)), requires_grad=True, name="b1")

a0 = ag.Tensor(x, name="a0")
z1 = a0 @ theta0
z1b = z1 + b0
a1 = z1b.sigmoid()
z2 = a1 @ theta1
z2b = z2 + b1
a2 = z2b.sigmoid()
for t, name in ((z1b, "z1"), (a1, "a1"), (z2b, "z2"), (a2, "a2")):
    t.name = name
loss = -(y * a2.log() + (1 - y) * (1 - a2).log()).sum()
print(f"a2 = {a2.item():.4f}, loss = {loss.item():.4f}")

# %% [markdown]
# ## The hand derivation (notebook 02), in NumPy

# %%
def sigmoid(z):
    return 1 / (1 + np.exp(-z))


A1 = sigmoid(x @ theta0.data + b0.data)
A2 = sigmoid(A1 @ theta1.data + b1.data)
hand = {"da2": -y / A2 + (1 - y) / (1 - A2)}
hand["dz2"] = hand["da2"] * A2 * (1 - A2)
assert np.allclose(hand["dz2"], A2 - y)                       # the famous simplification
hand["db1"] = hand["dz2"]
hand["dtheta1"] = A1.T @ hand["dz2"]
hand["da1"] = hand["dz2"] @ theta1.data.T
hand["dz1"] = hand["da1"] * A1 * (1 - A1)
hand["db0"] = hand["dz1"]
hand["dtheta0"] = x.T @ hand["dz1"]

# %% [markdown]
# ## The Stepper
#
# Forward frames follow the order the ops ran; backward frames the order the engine visits them.
# The graph is laid out once, so nodes stay where they are while the highlight moves. In Jupyter the
# Stepper shows a slider (`stepper.step()` / `goto()` move it from another cell too); `save_html`
# writes the same thing as a self-contained page.

# %%
stepper = viz.Stepper(loss, max_value_elements=12)
backward = [f for f in stepper.frames if f.phase == "backward"]
print(len(stepper), "frames:", len(stepper) - len(backward), "forward,", len(backward), "backward")
assert [f.op.name for f in backward][:2] == ["negative", "sum"]          # from the loss back
stepper.save_html("watching_backprop.html")
stepper


# %% [markdown]
# A helper to find the backward step of the op that produced a named tensor, and the gradient it sent
# to input `i` (the Stepper ran the backward under a recording, so every number is kept):

# %%
def step_of(name):
    return next(f for f in backward if f.op.output_name(0) == name)


def sent(frame, i):
    return stepper.recording.sent[frame.op][i]


def received(frame):
    return stepper.recording.received[frame.op]


# %% [markdown]
# ## Step by step against the hand formulas
#
# **Output sigmoid.** It receives $\Delta a^{[2]}$ (what the loss's logs and products sent back) and
# applies its local rule σ' = σ(1 − σ): the caption shows the rule, the local derivative's value
# $a^{[2]}(1 - a^{[2]})$ and the product, which is $\Delta z^{[2]} = a^{[2]} - y$.

# %%
f = step_of("a2")
print(f.title)
print(f.details)
assert "σ(u)·(1 − σ(u))" in f.details
assert np.allclose(received(f), hand["da2"])
assert np.allclose(sent(f, 0), hand["dz2"]) and np.allclose(sent(f, 0), A2 - y)
stepper.goto(f.index)

# %% [markdown]
# **Second layer's bias and weights.** The addition passes $\Delta z^{[2]}$ unchanged to both inputs
# (its rule: ∂(a + b)/∂b = 1), so $\Delta b^{[1]} = \Delta z^{[2]}$; the matrix product's rule sends
# $a^{[1]\top}\Delta z^{[2]}$ to θ¹ and $\Delta z^{[2]}\theta^{[1]\top}$ back to $a^{[1]}$. Its caption writes
# the product out with the operand it multiplies by, `∂L/∂theta1 = a1ᵀ · g with a1ᵀ = […] = […]`, where g is
# the $\Delta z^{[2]}$ it received: the hand formula $\Delta\theta^{[1]} = a^{[1]\top}\Delta z^{[2]}$ term by term.

# %%
f = step_of("z2")
print(f.details)
assert np.allclose(sent(f, 1), hand["db1"])
f = next(f for f in backward if f.op.name == "matmul" and f.op.inputs[1].tensor is theta1)
print(f.details)
assert "Bᵀ" in f.details
assert np.allclose(sent(f, 1), hand["dtheta1"]) and np.allclose(sent(f, 0), hand["da1"])
assert np.allclose(received(f), hand["dz2"])                           # g is Δz2
line = next(ln for ln in f.details.splitlines() if ln.startswith("  input 1"))
assert "∂L/∂theta1 = a1ᵀ · g with a1ᵀ = " in line
operand, product = line.split(" with a1ᵀ = ")[1].split(" = ")
assert np.allclose(np.array(eval(operand)), A1.T, atol=1e-4)             # the operand shown is a1ᵀ
assert np.allclose(np.array(eval(product)), hand["dtheta1"], atol=1e-4)  # and the product is Δθ1
line = next(ln for ln in f.details.splitlines() if ln.startswith("  input 0"))
assert "g · theta1ᵀ with theta1ᵀ = " in line                           # Δa1 = Δz2 θ1ᵀ

# %% [markdown]
# **Hidden sigmoid.** Its local derivative is $a^{[1]}(1 - a^{[1]})$, four numbers this time; the
# product with $\Delta a^{[1]}$ is $\Delta z^{[1]}$.

# %%
f = step_of("a1")
print(f.details)
assert np.allclose(received(f), hand["da1"])
assert np.allclose(sent(f, 0), hand["dz1"])
local = [line for line in f.details.splitlines() if line.startswith("  input 0")][0]
shown = np.array(eval(local.split("= ")[1].split(";")[0]))              # the local derivative printed
assert np.allclose(shown, A1 * (1 - A1), atol=1e-4)

# %% [markdown]
# **First layer.** $\Delta b^{[0]} = \Delta z^{[1]}$ and $\Delta\theta^{[0]} = a^{[0]\top}\Delta z^{[1]}$,
# a (3, 4) outer product.

# %%
f = step_of("z1")
assert np.allclose(sent(f, 1), hand["db0"])
f = next(f for f in backward if f.op.name == "matmul" and f.op.inputs[1].tensor is theta0)
print(f.details)
assert np.allclose(sent(f, 1), hand["dtheta0"])
assert "∂L/∂theta0 = a0ᵀ · g with a0ᵀ = " in f.details                 # Δθ0 = a0ᵀ Δz1, written out
assert f is backward[-1]                                     # the last step of the backward pass

# %% [markdown]
# ## Nothing was changed
#
# The Stepper ran its own backward with `retain_graph=True` into no `.grad`: the parameters have none
# yet, and a real `backward()` now gives the same numbers as the hand derivation.

# %%
assert theta0.grad is None and theta1.grad is None
loss.backward()
for p, key in ((theta0, "dtheta0"), (b0, "db0"), (theta1, "dtheta1"), (b1, "db1")):
    assert np.allclose(p.grad.data, hand[key]), key

# %% [markdown]
# ## The backward graph with its rules
#
# `viz.draw_backward` shows the same explanation as a drawing: each backward node carries its local
# rule, and when the backward ran inside `viz.record()` every edge carries the gradient sent along it.
# The recording also keeps the forward values, so `viz.draw_graph` still shows the numbers after the
# backward has freed them (outside a recording, the dashed nodes of the legend show shapes only).

# %%
with viz.record():
    hidden = (a0 @ theta0 + b0).sigmoid()
    out = (hidden @ theta1 + b1).sigmoid()
    loss2 = -(y * out.log() + (1 - y) * (1 - out).log()).sum()
    loss2.backward()
drawing = viz.draw_backward(loss2)
assert "rule: ∂ln(a)/∂a = 1/a" in drawing.source and "rule: ∂σ(u)/∂u = σ(u)·(1 − σ(u))" in drawing.source
assert f"{out.item():.4g}" in viz.draw_graph(loss2).source           # values kept by the recording
drawing
