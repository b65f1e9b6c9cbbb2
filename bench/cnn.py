"""``cnn_train_step``: one SGD step of a small CNN on a batch of 32 1×28×28 images (float32).

Conv2d(1,16,3,padding=1) → ReLU → MaxPool2d(2) → Conv2d(16,32,3,padding=1) → ReLU → MaxPool2d(2) →
Flatten → Linear(1568,10), cross-entropy, SGD(lr=0.01). graphgrad (nn modules on autograd) against
the same step written by hand in NumPy (the floor) and PyTorch CPU, one thread each, in one run.
"""
from __future__ import annotations

import time

import numpy as np

import autograd as ag

from .timing import per_call_us

BATCH, LR = 32, 0.01


def _params(rng):
    """PyTorch-default-like initial weights, shared by the three implementations."""
    def u(shape, fan_in):
        bound = 1 / np.sqrt(fan_in)
        return rng.uniform(-bound, bound, shape).astype(np.float32)
    return {"c1.w": u((16, 1, 3, 3), 9), "c1.b": u(16, 9), "c2.w": u((32, 16, 3, 3), 144), "c2.b": u(32, 144),
            "fc.w": u((10, 1568), 1568), "fc.b": u(10, 1568)}


# ----------------------------------------------------------------------------- the NumPy floor


def _im2col_pooled(xp, out_hw):
    """Columns (C·9, N·4·(H/2)·(W/2)) of a padded (C, N, H+2, W+2) input for a 3×3 kernel, ordered so the four
    positions of each 2×2 pooling window are an axis of the product: max pooling is a max over that axis."""
    c, n = xp.shape[:2]
    h = w = out_hw
    cols = np.empty((c, 3, 3, n, 2, 2, h // 2, w // 2), xp.dtype)
    for i in range(3):
        for j in range(3):
            cols[:, i, j] = xp[:, :, i:i + h, j:j + w].reshape(c, n, h // 2, 2, w // 2, 2).transpose(0, 1, 3, 5, 2, 4)
    return cols.reshape(c * 9, -1)


def _col2im_pooled(dcols, c, n, out_hw):
    """The adjoint of ``_im2col_pooled``: (C, N, H+2, W+2), one slice added per kernel offset."""
    h = w = out_hw
    d = dcols.reshape(c, 3, 3, n, 2, 2, h // 2, w // 2)
    out = np.zeros((c, n, h + 2, w + 2), dcols.dtype)
    for i in range(3):
        for j in range(3):
            view = out[:, :, i:i + h, j:j + w].reshape(c, n, h // 2, 2, w // 2, 2).transpose(0, 1, 3, 5, 2, 4)
            view += d[:, i, j]  # a strided view of ``out``: added in place
    return out


def _conv_pool_relu(a, w, b, hw):
    """relu(maxpool(conv(a) + b)) with a in (C, N, H, W) layout: max and relu commute with the bias add."""
    cols = _im2col_pooled(np.pad(a, ((0, 0), (0, 0), (1, 1), (1, 1))), hw)
    o = w.shape[0]
    out = (w.reshape(o, -1) @ cols).reshape(o, a.shape[1], 4, hw // 2, hw // 2)
    pooled, arg = out[:, :, 0].copy(), np.zeros((o, a.shape[1], hw // 2, hw // 2), np.int8)
    for k in range(1, 4):  # the first maximum of the four, as max pooling picks it
        better = out[:, :, k] > pooled
        arg += better * (k - arg)  # arithmetic, not np.where: a data-dependent branch per element is slow
        np.maximum(pooled, out[:, :, k], out=pooled)
    pooled += b[:, None, None, None]
    return np.maximum(pooled, 0, out=pooled), cols, arg


def _conv_pool_relu_backward(g, act, cols, arg, w, hw, need_input):
    """Gradients of ``_conv_pool_relu`` for weight, bias and (when asked) the input."""
    g = g * (act > 0)
    db = g.sum(axis=(1, 2, 3))
    dout = (arg[:, :, None] == np.arange(4, dtype=np.int8)[:, None, None]) * g[:, :, None]  # at each maximum
    o = w.shape[0]
    dout = dout.reshape(o, -1)
    dw = (dout @ cols.T).reshape(w.shape)
    if not need_input:
        return dw, db, None
    dcols = w.reshape(o, -1).T @ dout
    dxp = _col2im_pooled(dcols, w.shape[1], act.shape[1], hw)
    return dw, db, dxp[:, :, 1:-1, 1:-1]


def numpy_train_step(p, x, labels):
    """Forward, hand-written backward and the SGD update of the benchmark CNN, in place on ``p``."""
    n = x.shape[0]
    a1, cols1, arg1 = _conv_pool_relu(x.transpose(1, 0, 2, 3), p["c1.w"], p["c1.b"], 28)
    a2, cols2, arg2 = _conv_pool_relu(a1, p["c2.w"], p["c2.b"], 14)
    f = a2.transpose(1, 0, 2, 3).reshape(n, -1)
    logits = f @ p["fc.w"].T + p["fc.b"]
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    prob = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(prob[np.arange(n), labels]).mean()
    dl = prob
    dl[np.arange(n), labels] -= 1
    dl /= n
    grads = {"fc.w": dl.T @ f, "fc.b": dl.sum(axis=0)}
    df = (dl @ p["fc.w"]).reshape(n, 32, 7, 7).transpose(1, 0, 2, 3)
    grads["c2.w"], grads["c2.b"], da1 = _conv_pool_relu_backward(df, a2, cols2, arg2, p["c2.w"], 14, True)
    grads["c1.w"], grads["c1.b"], _ = _conv_pool_relu_backward(da1, a1, cols1, arg1, p["c1.w"], 28, False)
    for k, g in grads.items():
        p[k] -= LR * g
    return loss


# ----------------------------------------------------------------------------- graphgrad and PyTorch


def graphgrad_model(p):
    import nn

    model = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Flatten(), nn.Linear(1568, 10))
    with ag.no_grad():
        for (name, t), key in zip(model.named_parameters(), p):
            t.copy_(p[key])
    return model


def _torch_model(torch, p):
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.Conv2d(16, 32, 3, padding=1), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                torch.nn.Flatten(), torch.nn.Linear(1568, 10))
    with torch.no_grad():
        for t, key in zip(model.parameters(), p):
            t.copy_(torch.from_numpy(p[key]))
    return model


def _interleaved_cpu_ms(steps: dict, rounds: int = 12, number: int = 3) -> dict:
    """Best process CPU time per call of each step, the steps taking turns (fairer than wall clock when other
    jobs load the machine: waiting for a core is not counted, and every step sees the same conditions). The
    order rotates every round, so each step follows each other one equally often: a step right after
    PyTorch's (or any long AVX-512 matrix product) runs up to 0.5-1 ms slower on these machines."""
    best = dict.fromkeys(steps, float("inf"))
    for fn in steps.values():
        fn()
    names = list(steps)
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            fn = steps[name]
            start = time.process_time()
            for _ in range(number):
                fn()
            best[name] = min(best[name], (time.process_time() - start) / number * 1e3)
    return best


def run() -> list[dict]:
    import nn
    from nn import optim

    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, BATCH)
    p = _params(rng)
    model = graphgrad_model(_params(np.random.default_rng(0)))
    opt = optim.SGD(model.parameters(), lr=LR)
    xt, yt = ag.tensor(x), ag.tensor(labels)

    def ours_step():
        opt.zero_grad()
        nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()

    steps = {"graphgrad": ours_step, "numpy": lambda: numpy_train_step(p, x, labels)}
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        torch.set_num_threads(1)
        tmodel = _torch_model(torch, _params(np.random.default_rng(0)))
        topt = torch.optim.SGD(tmodel.parameters(), lr=LR)
        tx, ty = torch.from_numpy(x), torch.from_numpy(labels)

        def torch_step():
            topt.zero_grad()
            torch.nn.functional.cross_entropy(tmodel(tx), ty).backward()
            topt.step()

        steps["torch"] = torch_step
    wall = {name: per_call_us(fn, number=10) / 1e3 for name, fn in steps.items()}
    cpu = _interleaved_cpu_ms(steps)
    rows = []
    malloc = "malloc keeps freed memory" if ag.allocator.tuned else "system malloc"  # see autograd/allocator.py
    for kind, t in (("wall clock, " + malloc, wall), ("CPU time, interleaved, " + malloc, cpu)):
        rows.append({"benchmark": f"cnn_train_step ({kind}): 2 conv + 2 max-pool + linear, batch 32 of 1×28×28, SGD",
                     "graphgrad": f"{t['graphgrad']:.2f} ms", "baseline": f"NumPy by hand {t['numpy']:.2f} ms",
                     "result": f"{t['graphgrad'] / t['numpy']:.2f}x NumPy (target ≤ 1.5x)"})
        if torch is not None:
            rows.append({"benchmark": f"cnn_train_step ({kind}) vs PyTorch", "graphgrad": f"{t['graphgrad']:.2f} ms",
                         "baseline": f"PyTorch {torch.__version__} CPU, 1 thread {t['torch']:.2f} ms",
                         "result": f"{t['graphgrad'] / t['torch']:.2f}x PyTorch (target < 1x)"})
    return rows


def nn_steps(count: int) -> None:
    """Three warm-up nn steps and ``count`` more, for instruction counts (``python -m bench.cnn --steps K``:
    callgrind's total for K = 10 minus K = 0, over 10, is one step's)."""
    import nn
    from nn import optim

    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, BATCH)
    model = graphgrad_model(_params(np.random.default_rng(0)))
    opt = optim.SGD(model.parameters(), lr=LR)
    xt, yt = ag.tensor(x), ag.tensor(labels)
    for _ in range(3 + count):
        opt.zero_grad()
        nn.functional.cross_entropy(model(xt), yt).backward()
        opt.step()


if __name__ == "__main__":
    import sys

    if sys.argv[1:2] == ["--steps"]:
        nn_steps(int(sys.argv[2]))
    else:
        for r in run():
            print(r)
