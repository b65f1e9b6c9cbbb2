"""A 784-256-256-10 ReLU MLP at batch 128 (float32).

1. forward + backward with autograd ops vs the same computation written by hand in NumPy;
2. a full training step (cross-entropy, SGD) with nn vs PyTorch CPU when torch is installed.
"""
from __future__ import annotations

import numpy as np

import autograd as ag

from .timing import per_call_us

SIZES = (784, 256, 256, 10)
BATCH = 128


def _params(rng):
    ws, bs = [], []
    for fan_in, fan_out in zip(SIZES[:-1], SIZES[1:]):
        bound = 1 / np.sqrt(fan_in)
        ws.append(rng.uniform(-bound, bound, (fan_out, fan_in)).astype(np.float32))
        bs.append(rng.uniform(-bound, bound, fan_out).astype(np.float32))
    return ws, bs


def _numpy_fwd_bwd(x, ws, bs):
    """Forward to sum of outputs, then the hand-written backward for every weight and bias."""
    acts = [x]
    h = x
    for i, (w, b) in enumerate(zip(ws, bs)):
        h = h @ w.T + b
        if i < len(ws) - 1:
            h = np.maximum(h, 0)
        acts.append(h)
    g = np.ones_like(h)
    grads = []
    for i in range(len(ws) - 1, -1, -1):
        if i < len(ws) - 1:
            g = g * (acts[i + 1] > 0)
        grads.append((g.T @ acts[i], g.sum(axis=0)))
        if i > 0:
            g = g @ ws[i]
    return grads


def _graphgrad_fwd_bwd(x, ws, bs):
    h = x
    for i, (w, b) in enumerate(zip(ws, bs)):
        h = h @ w.T + b
        if i < len(ws) - 1:
            h = h.relu()
    h.sum().backward()
    for p in ws + bs:
        p.grad = None


def _train_step_graphgrad(model, opt, loss_fn, x, y):
    opt.zero_grad()
    loss = loss_fn(model(x), y)
    loss.backward()
    opt.step()


def _torch_setup(ws, bs):
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    layers = []
    for i, (w, b) in enumerate(zip(ws, bs)):
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w))
            lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
        if i < len(ws) - 1:
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    return torch, model


def run() -> list[dict]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    labels = rng.integers(0, SIZES[-1], BATCH)
    ws, bs = _params(rng)
    results = []

    tw = [ag.tensor(w, requires_grad=True) for w in ws]
    tb = [ag.tensor(b, requires_grad=True) for b in bs]
    xt = ag.tensor(x)
    ours = per_call_us(lambda: _graphgrad_fwd_bwd(xt, tw, tb), number=20)
    base = per_call_us(lambda: _numpy_fwd_bwd(x, ws, bs), number=20)
    results.append({
        "benchmark": "MLP 784-256-256-10 ReLU, batch 128, fwd+bwd (autograd ops)",
        "graphgrad": f"{ours / 1000:.3f} ms",
        "baseline": f"NumPy by hand {base / 1000:.3f} ms",
        "result": f"{ours / base:.2f}x NumPy (target ≤ 1.25x)",
    })

    try:
        import nn
        from nn import optim
    except ImportError:
        return results
    model = nn.MLP(list(SIZES), activation="relu")
    for lin, w, b in zip([m for m in model.modules() if isinstance(m, nn.Linear)], ws, bs):
        with ag.no_grad():
            lin.weight.copy_(w)
            lin.bias.copy_(b)
    opt = optim.SGD(model.parameters(), lr=0.01)
    yt = ag.tensor(labels)
    loss_fn = nn.functional.cross_entropy
    ours = per_call_us(lambda: _train_step_graphgrad(model, opt, loss_fn, xt, yt), number=20)
    torch_pair = _torch_setup(ws, bs)
    if torch_pair is None:
        results.append({
            "benchmark": "MLP training step (cross-entropy + SGD), batch 128",
            "graphgrad": f"{ours / 1000:.3f} ms", "baseline": "PyTorch not installed",
            "result": "install torch==2.13.0 to compare",
        })
        return results
    torch, tmodel = torch_pair
    topt = torch.optim.SGD(tmodel.parameters(), lr=0.01)
    tx, ty = torch.from_numpy(x), torch.from_numpy(labels)
    tloss = torch.nn.functional.cross_entropy

    def torch_step():
        topt.zero_grad()
        tloss(tmodel(tx), ty).backward()
        topt.step()

    theirs = per_call_us(torch_step, number=20)
    results.append({
        "benchmark": "MLP training step (cross-entropy + SGD), batch 128",
        "graphgrad": f"{ours / 1000:.3f} ms",
        "baseline": f"PyTorch {torch.__version__} CPU, 1 thread {theirs / 1000:.3f} ms",
        "result": f"{ours / theirs:.2f}x PyTorch (target ≤ 1.3x)",
    })
    return results
