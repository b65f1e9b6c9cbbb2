# %% [markdown]
# # 07 · Recurrent networks: from a window of frames to LSTM and GRU
#
# Concepts: R1, R2, R3, R4, R5, T7, T11
#
# A sequence model must remember. This notebook goes from a feed-forward net that sees a fixed window
# (R1) to the recurrence $s_t = U x_t + W h_{t-1}$ (R2), back-propagation through time and why its
# gradients vanish (R3, T7), and the two gated cells built to keep them alive: LSTM (R4) and GRU (R5).
# Every module here has PyTorch's names, layouts and defaults (`nn.RNN`, `nn.LSTM`, `nn.GRU` and their
# cells); every claim is an `assert`.

# %%
# %matplotlib inline
import numpy as np

import autograd as ag
import nn
import viz
import viz.plots
from nn.examples import window_vs_rnn
from nn.layers.unroll import unroll

ag.manual_seed(0)
rng = np.random.default_rng(0)


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


# %% [markdown]
# ## R1 · A window of 3 frames versus a recurrent net
#
# A feed-forward net can read a sequence through a sliding window: at step $t$ it sees
# $(x_{t-2}, x_{t-1}, x_t)$ and nothing older. A recurrent net applies **the same weights at every step**
# and carries a state $h_t$ forward, so what it can use is not bounded by a window.
#
# The task: random bits, and at every step the target is the bit $d$ steps back. With $d = 2$ the answer
# is inside the window; with $d = 5$ it is not. Both models train for 150 Adam steps
# (`nn.examples.window_vs_rnn`; `python -m nn.examples.window_vs_rnn` runs the full version).

# %%
r1 = window_vs_rnn.run(delays=(2, 5), steps=150)
for d, acc in r1.items():
    print(f"delay {d}: windowed FFN {acc['windowed']:.3f}   tanh RNN {acc['rnn']:.3f}")
assert r1[2]["windowed"] > 0.99 and r1[2]["rnn"] > 0.99      # inside the window: both solve it
assert abs(r1[5]["windowed"] - 0.5) < 0.03                    # outside the window: chance, whatever the training
assert r1[5]["rnn"] > 0.95                                    # the state carries the bit

# %% [markdown]
# ## R2 · The recurrence $s_t = U x_t + W h_{t-1}$, $h_t = f(s_t)$, $o_t = \mathrm{softmax}(V h_t)$
#
# `nn.RNNCell` is one step. Its `weight_ih` is $U$, `weight_hh` is $W$ (plus two biases, as in PyTorch).
# Written out in NumPy, the same numbers come out:

# %%
cell = nn.RNNCell(3, 4, dtype=np.float64)
V = rng.normal(size=(2, 4))
x1, h0 = rng.normal(size=(1, 3)), np.zeros((1, 4))
U, W = cell.weight_ih.data, cell.weight_hh.data
s1 = x1 @ U.T + cell.bias_ih.data + h0 @ W.T + cell.bias_hh.data
h1 = np.tanh(s1)
o1 = np.exp(h1 @ V.T) / np.exp(h1 @ V.T).sum()
assert np.allclose(cell(x1).data, h1)
assert np.isclose(o1.sum(), 1.0)

# %% [markdown]
# Unrolled over three steps, the graph is the same cell three times: the same `weight_hh` feeds every
# step, and each $h_t$ is an input of the next step. That is "weights shared across time".

# %%
xs = ag.tensor(rng.normal(size=(3, 1, 3)))
h = None
for t in range(3):
    h = cell(xs[t], h)
    h.name = f"h{t + 1}"
loss3 = (h * h).sum()
viz.draw_graph(loss3, names=cell)

# %% [markdown]
# A multi-layer RNN feeds each layer's outputs $h^{(1)}_t$ to the next layer as its inputs. `nn.RNN` with
# `num_layers=2` is exactly two stacked loops of cells (`nn.layers.unroll` steps its own parameters):

# %%
rnn2 = nn.RNN(3, 4, num_layers=2, dtype=np.float64)
seq = rng.normal(size=(6, 2, 3))
out, h_n = rnn2(seq)
out_loop, states = unroll(rnn2, seq)
assert out.shape == (6, 2, 4) and h_n.shape == (2, 2, 4)
assert np.allclose(out.data, out_loop.data) and np.allclose(h_n.data[1], states[-1].data)

# %% [markdown]
# ## R3 · Back-propagation through time, step by step
#
# The backward pass of an unrolled RNN is ordinary back-propagation on the unrolled graph: it runs from
# the loss back through step 3, then step 2, then step 1, and the gradients for the shared `weight_hh`
# from every step are **summed**. `viz.Stepper` walks through it one node at a time.

# %%
stepper = viz.Stepper(loss3, names=cell)
backward_ops = [f.op.name for f in stepper.frames if f.phase == "backward"]
print(backward_ops)
forward_ops = [f.op.name for f in stepper.frames if f.phase == "forward"]
assert forward_ops.count("tanh") == 3 and backward_ops.count("tanh") == 3
tanh_frames = [f.index for f in stepper.frames if f.phase == "backward" and f.op.name == "tanh"]
assert tanh_frames == sorted(tanh_frames)          # the backward visits step 3's tanh first, then 2, then 1
stepper

# %% [markdown]
# The gradient `weight_hh` receives is the sum of one term per time step: checked by differentiating each
# step's use of $W$ separately.

# %%
loss3.backward()
total = cell.weight_hh.grad.data.copy()
cell.zero_grad()
per_step = []
for k in range(3):  # only step k's use of W is differentiable; the other steps see a constant copy
    w_var = ag.tensor(cell.weight_hh.data, requires_grad=True)
    h = ag.zeros((1, 4), dtype=np.float64)
    for t in range(3):
        w_t = w_var if t == k else ag.tensor(cell.weight_hh.data)
        h = ag.tanh(xs[t] @ cell.weight_ih.T + cell.bias_ih + h @ w_t.T + cell.bias_hh)
    (h * h).sum().backward()
    per_step.append(w_var.grad.data)
assert np.allclose(total, sum(per_step))

# %% [markdown]
# ### Vanishing gradients (R3, T7)
#
# $\partial L/\partial h_t = \partial L/\partial h_T \prod_{k=t+1}^{T} \mathrm{diag}(1 - h_k^2)\, W$:
# one factor per step. At initialisation (PyTorch's U(−1/√H, 1/√H)) these factors shrink the gradient
# step after step, so over 50 steps the loss at the end barely reaches the start. The product, computed
# in NumPy, is exactly what autograd returns:

# %%
T, H = 50, 32
probe = ag.tensor(rng.normal(size=(T, 16, 2)))
rnn = nn.RNN(2, H, dtype=np.float64)
_, hs = unroll(rnn, probe)
(hs[-1].sum()).backward()
g = np.ones((16, H))                        # dL/dh_T for L = sum(h_T)
Wn = rnn.weight_hh_l0.data
for t in range(T - 1, 0, -1):               # dL/dh_t = (dL/dh_{t+1} * (1 - h_{t+1}^2)) W
    g = (g * (1 - hs[t].data ** 2)) @ Wn
assert np.allclose(hs[0].grad.data, g)

norms = {"tanh RNN": [h.grad for h in hs]}
for label, module, forget in (("GRU", nn.GRU(2, H, dtype=np.float64), None),
                              ("LSTM, forget bias 1", nn.LSTM(2, H, dtype=np.float64), 1.0)):
    if forget is not None:  # a common LSTM initialisation: forget gate open at the start
        b = module.bias_ih_l0.data.copy()
        b[H:2 * H] = forget
        with ag.no_grad():
            module.bias_ih_l0.copy_(b)
    _, states_m = unroll(module, probe)
    states_m[-1].sum().backward()
    norms[label] = [h.grad for h in states_m]
ratio = {k: np.linalg.norm(v[0].data) / np.linalg.norm(v[-1].data) for k, v in norms.items()}
print({k: f"{r:.1e}" for k, r in ratio.items()})  # the GRU's default init vanishes too: its gates must learn
assert ratio["tanh RNN"] < 1e-6                          # 50 contracting factors
assert ratio["LSTM, forget bias 1"] > 1e3 * ratio["tanh RNN"]
viz.plots.plot_gradient_norms(norms, title="‖∂L/∂h_t‖ at initialisation, L = Σ h_50")

# %% [markdown]
# **Truncated BPTT.** On a long stream one backward over everything costs memory for every step. Instead,
# cut the stream into chunks: carry the state to the next chunk but `detach()` it, so each backward stops at
# the chunk boundary; clip the gradient norm (T11) so one bad chunk cannot blow the weights up.

# %%
lstm = nn.LSTM(2, 8)
head = nn.Linear(8, 1)
params = list(lstm.parameters()) + list(head.parameters())
opt = nn.optim.SGD(params, lr=0.1)
stream = rng.normal(size=(60, 4, 2)).astype(np.float32)
target = np.cumsum(stream[..., :1], axis=0).astype(np.float32) / 10   # a running sum: needs memory
state, norms_seen = None, []
for start in range(0, 60, 20):
    if state is not None:
        state = tuple(s.detach() for s in state)
        assert all(s.grad_fn is None for s in state)        # the previous chunk is out of reach
    out, state = lstm(stream[start:start + 20], state)
    loss = nn.functional.mse_loss(head(out), target[start:start + 20])
    opt.zero_grad()
    loss.backward()
    norms_seen.append(float(nn.utils.clip_grad_norm_(params, max_norm=0.5)))
    opt.step()
assert len(norms_seen) == 3
total_after = np.sqrt(sum(float((p.grad.data ** 2).sum()) for p in params))
assert total_after <= 0.5 + 1e-5                            # what the optimiser used was clipped

# %% [markdown]
# ## R4 · LSTM: gates and the additive cell update
#
# $i, f, o = \sigma(\cdot)$, $g = \tanh(\cdot)$ from one fused product $W_{ih} x + W_{hh} h$ (rows stacked
# i, f, g, o as in PyTorch), then $c_t = f \odot c_{t-1} + i \odot g$ and $h_t = o \odot \tanh(c_t)$.

# %%
lcell = nn.LSTMCell(3, 4, dtype=np.float64)
x, hp, cp = rng.normal(size=(2, 3)), rng.normal(size=(2, 4)), rng.normal(size=(2, 4))
z = x @ lcell.weight_ih.data.T + lcell.bias_ih.data + hp @ lcell.weight_hh.data.T + lcell.bias_hh.data
i, f, gg, o = sigmoid(z[:, :4]), sigmoid(z[:, 4:8]), np.tanh(z[:, 8:12]), sigmoid(z[:, 12:])
c_ref = f * cp + i * gg
h_ref = o * np.tanh(c_ref)
c_t = ag.tensor(cp, requires_grad=True)
h_new, c_new = lcell(x, (hp, c_t))
assert np.allclose(h_new.data, h_ref) and np.allclose(c_new.data, c_ref)

# %% [markdown]
# The cell update is **additive**: $\partial c_t / \partial c_{t-1} = \mathrm{diag}(f_t)$, no weight matrix
# and no squashing derivative in between. With the forget gate near 1 the gradient along the cell path
# survives many steps; that is what the plot above shows for the LSTM.

# %%
c_new.sum().backward()
assert np.allclose(c_t.grad.data, f)

# %% [markdown]
# ## R5 · GRU: update and reset gates
#
# $r, z = \sigma(\cdot)$, $n = \tanh(W_{in} x + b_{in} + r \odot (W_{hn} h + b_{hn}))$ (PyTorch's form:
# the reset gate scales the recurrent term), $h' = (1 - z) \odot n + z \odot h$: the update gate $z$
# interpolates between keeping the old state and taking the candidate.

# %%
gcell = nn.GRUCell(3, 4, dtype=np.float64)
gi = x @ gcell.weight_ih.data.T + gcell.bias_ih.data
gh = hp @ gcell.weight_hh.data.T + gcell.bias_hh.data
r, zg = sigmoid(gi[:, :4] + gh[:, :4]), sigmoid(gi[:, 4:8] + gh[:, 4:8])
n_ = np.tanh(gi[:, 8:] + r * gh[:, 8:])
assert np.allclose(gcell(x, hp).data, (1 - zg) * n_ + zg * hp)

# an update gate forced shut (z -> 1, via a large bias on its rows) copies the state through unchanged
with ag.no_grad():
    b = gcell.bias_hh.data.copy()
    b[4:8] = 50.0
    gcell.bias_hh.copy_(b)
assert np.allclose(gcell(x, hp).data, hp)

# %% [markdown]
# ## What the full examples show
#
# - `python -m nn.examples.adding_problem`: the adding problem at T = 50 — GRU and LSTM solve it within about
#   1,000 steps; the tanh RNN sits at the predict-the-mean error for thousands of steps (in one run it never
#   left it); the gradient plot at initialisation is the one above.
# - `python -m nn.examples.char_lm`: an LSTM language model on the standard library's `pydoc_data` text,
#   trained with truncated BPTT and clipping, sampling with a temperature.
# - `python -m nn.examples.window_vs_rnn`: R1 with more training.
