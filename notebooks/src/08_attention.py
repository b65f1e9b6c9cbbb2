# %% [markdown]
# # 08 · Attention: scaled dot-product, multi-head, self, guided and modular co-attention
#
# Concepts: N1, N2, N3, N4, N5
#
# Attention is a soft dictionary look-up: each **query** is compared with every **key**, the scores
# become weights by a softmax, and the result is the weighted average of the **values**. Keys decide
# *where* to look, values decide *what* comes back. Everything below is computed by hand in NumPy and
# by the library, and every claim is asserted.

# %%
# %matplotlib inline
import numpy as np

import autograd as ag
import nn
import nn.functional as F
import viz.plots
from nn.examples import coattention_vqa as vqa
from nn.examples.transformer_reverse import train as train_reverse

ag.manual_seed(0)
rng = np.random.default_rng(0)

# %% [markdown]
# ## N1 · Scaled dot-product attention $\mathrm{softmax}(QK^\top/\sqrt{d_k})\,V$
#
# Three queries, four key/value pairs, $d_k = 4$. By hand: scores, a row-wise softmax, a weighted sum.

# %%
Q, K, V = rng.normal(size=(3, 4)), rng.normal(size=(4, 4)), rng.normal(size=(4, 2))
scores = Q @ K.T / np.sqrt(4)
weights = np.exp(scores - scores.max(1, keepdims=True))
weights /= weights.sum(1, keepdims=True)
by_hand = weights @ V

out = F.scaled_dot_product_attention(ag.tensor(Q), ag.tensor(K), ag.tensor(V))
assert np.allclose(out.data, by_hand)
assert np.allclose(weights.sum(1), 1.0) and (weights > 0).all()    # each query: a convex mix of values

# %% [markdown]
# **Keys match, values carry content.** Give the keys distinct "addresses" (one-hot) and the values
# some content. A query that points at address 2 retrieves value 2; changing the *values* changes
# what comes back, changing a key the query does not match changes (almost) nothing. The scaling by
# $1/\sqrt{d_k}$ keeps dot products of random $d_k$-dimensional vectors at unit variance, so the softmax
# does not saturate as $d_k$ grows.

# %%
keys = np.eye(4) * 8.0                                   # four addresses
values = np.array([[1.0, 0.0], [0.0, 1.0], [5.0, 5.0], [-3.0, 2.0]])
query = np.array([[0.0, 0.0, 8.0, 0.0]])                 # "give me what is stored at address 2"
got = F.scaled_dot_product_attention(query, keys, values).data
assert np.allclose(got, values[2], atol=1e-6)

values2 = values.copy()
values2[2] = [-1.0, 7.0]                                 # new content at the matched address
assert np.allclose(F.scaled_dot_product_attention(query, keys, values2).data, [[-1.0, 7.0]], atol=1e-6)
keys2 = keys.copy()
keys2[0] = [8.0, 1.0, 0.0, 0.0]                           # move a key the query does not match
assert np.allclose(F.scaled_dot_product_attention(query, keys2, values).data, got, atol=1e-6)

d = 256
q, k = rng.normal(size=(2000, d)), rng.normal(size=(2000, d))
raw = (q * k).sum(1)
assert 0.9 < raw.std() / np.sqrt(d) < 1.1                # raw dot products grow like √d; scaled ones stay ~1

# %% [markdown]
# **Masks.** A boolean `attn_mask` says where a query *may* attend (PyTorch's convention for this
# function), a float mask is added to the scores. `is_causal=True` lets position $i$ see positions
# $\le i$ only. A query whose keys are all masked returns zeros (and zero gradients), never NaN.

# %%
x = rng.normal(size=(5, 4))
causal = F.scaled_dot_product_attention(x, x, x, is_causal=True).data
assert np.allclose(causal[0], x[0])                       # the first position sees only itself
x_future = x.copy()
x_future[3:] += 10.0                                      # change the future...
assert np.allclose(F.scaled_dot_product_attention(x_future, x_future, x_future, is_causal=True).data[:3],
                   causal[:3])                            # ...and the past does not notice
mask = np.ones((5, 5), bool)
mask[2] = False
xt = ag.tensor(x, requires_grad=True)
masked = F.scaled_dot_product_attention(xt, xt, xt, attn_mask=mask)
masked.sum().backward()
assert np.all(masked.data[2] == 0) and np.isfinite(xt.grad.data).all()

# %% [markdown]
# ## N2 · Multi-head attention
#
# `nn.MultiheadAttention(E, h)` projects queries, keys and values with one (3E, E) matrix, cuts the
# result into $h$ heads of $E/h$ features, runs attention in each head separately, concatenates and
# applies `out_proj`. Each head has its own projections, so each can look for something different.
# By hand with the module's own weights:

# %%
E, H = 8, 2
mha = nn.MultiheadAttention(E, H, batch_first=True).double()
seq = rng.normal(size=(1, 6, E))
out, w = mha(seq, seq, seq, average_attn_weights=False)

W, b = mha.in_proj_weight.data, mha.in_proj_bias.data
q_all, k_all, v_all = np.split(seq[0] @ W.T + b, 3, axis=1)
heads, maps = [], []
for h in range(H):
    cols = slice(h * E // H, (h + 1) * E // H)
    s = q_all[:, cols] @ k_all[:, cols].T / np.sqrt(E // H)
    p = np.exp(s - s.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    heads.append(p @ v_all[:, cols])
    maps.append(p)
by_hand = np.concatenate(heads, axis=1) @ mha.out_proj.weight.data.T + mha.out_proj.bias.data
assert np.allclose(out.data[0], by_hand) and np.allclose(w.data[0], maps)

# %% [markdown]
# Two heads with different query/key projections attend to different positions. Here head 0's
# projections read feature 0 of each token and head 1's read feature 1, with opposite signs for the
# keys: each head's strongest match differs.

# %%
with ag.no_grad():
    mha.in_proj_weight.zero_()
    Wd = mha.in_proj_weight.data.copy()
    Wd[0, 0] = Wd[4, 1] = 3.0                # queries: head 0 reads feature 0, head 1 feature 1
    Wd[8, 0], Wd[12, 1] = 3.0, -3.0          # keys: head 0 reads feature 0, head 1 minus feature 1
    mha.in_proj_weight.copy_(Wd)
tokens = np.zeros((1, 4, E))
tokens[0, :, 0] = [1.0, 2.0, 0.5, -1.0]
tokens[0, :, 1] = [0.5, -1.0, 2.0, 1.0]
_, w = mha(tokens, tokens, tokens, average_attn_weights=False)
assert w.shape == (1, 2, 4, 4)
assert (w.data[0, 0].argmax(1) != w.data[0, 1].argmax(1)).any()
viz.plots.plot_attention(w, title="two heads")

# %% [markdown]
# ## N3 · Self-attention (SA)
#
# Queries, keys and values all come from the same sequence: every position gathers information from
# every other. Without positions, self-attention cannot tell order apart: permuting the inputs just
# permutes the outputs (it is *permutation equivariant*). Adding a sinusoidal `PositionalEncoding`
# breaks that symmetry.

# %%
sa = nn.SelfAttentionUnit(8, 2, dim_feedforward=16, dropout=0.0).double()
xs = rng.normal(size=(1, 5, 8))
perm = [3, 0, 4, 1, 2]
assert np.allclose(sa(xs[:, perm]).data, sa(xs).data[:, perm])
pe = nn.PositionalEncoding(8, max_len=16, dropout=0.0, batch_first=True).double()
assert not np.allclose(sa(pe(xs[:, perm])).data, sa(pe(xs)).data[:, perm])

# %% [markdown]
# A 1-layer Transformer encoder (self-attention + feed-forward, `nn.TransformerEncoderLayer`) learns to
# **reverse** a sequence of digits. Only attention can carry a digit to the mirrored position, and the
# learned attention map shows it: query $t$ looks at key $L-1-t$ (an anti-diagonal).
# (`python -m nn.examples.transformer_reverse` trains the full 2-layer version to 100 %.)

# %%
rev = train_reverse(steps=300, length=6, vocab=6, d_model=32, nhead=2, layers=1, batch=32, seed=0, log=None)
assert rev["accuracy"] > 0.97, rev["accuracy"]
example = rev["example"]
(w_rev,) = rev["model"].attention_maps(example)
L = example.shape[1]
assert any((w_rev[0, h].argmax(1) == np.arange(L)[::-1]).all() for h in range(2))
viz.plots.plot_attention(w_rev[0], x_labels=list(example[0]), y_labels=list(example[0]))

# %% [markdown]
# ## N4 · Guided attention (GA)
#
# Queries come from one input x, keys and values from another y (the guide): each position of x gathers
# information from y only. So in a GA unit (`nn.GuidedAttentionUnit`: attention, FFN, residuals,
# LayerNorm) output position i depends on x_i and on all of y, but not on the other positions of x,
# whereas in SA every output depends on every input.

# %%
ga = nn.GuidedAttentionUnit(8, 2, dim_feedforward=16, dropout=0.0).double()
gx, gy = rng.normal(size=(1, 3, 8)), rng.normal(size=(1, 7, 8))
g_out, g_w = ga(gx, gy, need_weights=True)
assert g_out.shape == (1, 3, 8) and g_w.shape == (1, 2, 3, 7)     # x's length; weights over y
gx2 = gx.copy()
gx2[0, 2] += 5.0                                                   # change x position 2 only
assert np.allclose(ga(gx2, gy).data[0, :2], g_out.data[0, :2])     # positions 0, 1 unchanged
gy2 = gy.copy()
gy2[0, 4] += 5.0                                                   # change one guide position
assert not np.allclose(ga(gx, gy2).data, g_out.data)               # every x position can see it
assert not np.allclose(sa(gx2).data[0, :2], sa(gx).data[0, :2])    # SA: everything depends on everything

# %% [markdown]
# ## N5 · Modular co-attention (MCA), as in MCAN
#
# MCAN stacks the units: an **encoder** of SA units over one input, a **decoder** of SGA layers
# (self-attention, then guided attention over the encoded first input, then FFN) over the other;
# then an **attentional reduction** pools each sequence to one vector (an MLP scores the positions,
# a softmax over them weights a sum), the two vectors are added, normalised and classified by an MLP
# (`nn.CoAttentionClassifier`).
#
# The task (`nn.examples.coattention_vqa`): an "image" is a 3x3 grid of patch features holding four
# objects (shape and colour); the question is `what colour <shape>` or `where is <shape>`; 13 possible
# answers (4 colours, 9 cells), so chance is 7.7 %. The answer needs both inputs. The image is encoded
# (SA) and the question decoded (SGA), so the GA maps say, for each question word, which patches it
# looked at. A few seconds of training on a small model already beat chance clearly; the full example
# (`python -m nn.examples.coattention_vqa`, 20 s of CPU time) answers 99.7 % of held-out questions, and
# there two of its four GA heads point the shape word at the cell that holds the shape.

# %%
res = vqa.train(steps=200, batch=64, lr=3e-3, seed=0, log=None, d_model=16, nhead=2, dim_feedforward=32)
assert res["accuracy"] > 2.5 / vqa.NUM_ANSWERS, res["accuracy"]  # chance is 1/13
img, q, answer, cell = res["example"]
(ga_map,) = res["model"].ga_maps(img, q)                          # (1, heads, 3 question words, 9 cells)
assert ga_map.shape == (1, 2, 3, vqa.GRID) and np.allclose(ga_map.sum(-1), 1.0)
print(f"accuracy {res['accuracy']:.1%}; question {[vqa.WORDS[t] for t in q[0]]}, object in cell {cell}")
viz.plots.plot_attention(ga_map[0], x_labels=[f"cell{c}" for c in range(vqa.GRID)],
                         y_labels=[vqa.WORDS[t] for t in q[0]])
