"""``attention_train_step``: one SGD step of a Transformer-style block, float32, batch_first.

h = LayerNorm(x + MultiheadAttention(x, x, x)) with embed 128, 4 heads; out = h + Linear(512→128)(ReLU(
Linear(128→512)(h))); sequence 64, batch 16, MSE to a fixed random target. graphgrad (nn modules) against a
hand-written NumPy forward + backward of the same block (the floor) and PyTorch CPU, one thread each.
"""
from __future__ import annotations

import numpy as np

import autograd as ag

from .timing import best_cpu_ms

B, T, E, H, FF = 16, 64, 128, 4, 512
LR = 0.01
EPS = 1e-5


def _params(rng) -> dict[str, np.ndarray]:
    def u(shape, fan_in):
        b = 1 / np.sqrt(fan_in)
        return rng.uniform(-b, b, shape).astype(np.float32)

    return {
        "attn.in_proj_weight": u((3 * E, E), E), "attn.in_proj_bias": np.zeros(3 * E, np.float32),
        "attn.out_proj.weight": u((E, E), E), "attn.out_proj.bias": np.zeros(E, np.float32),
        "norm.weight": np.ones(E, np.float32), "norm.bias": np.zeros(E, np.float32),
        "linear1.weight": u((FF, E), E), "linear1.bias": u(FF, E),
        "linear2.weight": u((E, FF), FF), "linear2.bias": u(E, FF),
    }


def _numpy_step(p: dict, x: np.ndarray, y: np.ndarray) -> float:
    """Forward, hand-written backward and SGD update of the block, in place on ``p``; returns the loss."""
    D = E // H
    scale = np.float32(1 / np.sqrt(D))
    x2 = x.reshape(B * T, E)
    qkv = x2 @ p["attn.in_proj_weight"].T + p["attn.in_proj_bias"]
    q, k, v = (t.reshape(B, T, H, D).transpose(0, 2, 1, 3) for t in np.split(qkv, 3, axis=1))
    s = (q * scale) @ k.transpose(0, 1, 3, 2)
    s = np.exp(s - s.max(axis=-1, keepdims=True))
    pr = s / s.sum(axis=-1, keepdims=True)
    o = (pr @ v).transpose(0, 2, 1, 3).reshape(B * T, E)
    r = x2 + o @ p["attn.out_proj.weight"].T + p["attn.out_proj.bias"]
    mu = r.mean(axis=1, keepdims=True)
    rc = r - mu
    inv = 1 / np.sqrt((rc * rc).mean(axis=1, keepdims=True) + EPS)
    xhat = rc * inv
    h = xhat * p["norm.weight"] + p["norm.bias"]
    f1 = h @ p["linear1.weight"].T + p["linear1.bias"]
    a1 = np.maximum(f1, 0)
    out = h + a1 @ p["linear2.weight"].T + p["linear2.bias"]
    diff = out - y.reshape(B * T, E)
    loss = float((diff * diff).mean())
    # backward
    g = {}
    dout = diff * np.float32(2 / diff.size)
    g["linear2.weight"], g["linear2.bias"] = dout.T @ a1, dout.sum(0)
    df1 = (dout @ p["linear2.weight"]) * (f1 > 0)
    g["linear1.weight"], g["linear1.bias"] = df1.T @ h, df1.sum(0)
    dh = dout + df1 @ p["linear1.weight"]
    g["norm.weight"], g["norm.bias"] = (dh * xhat).sum(0), dh.sum(0)
    dxh = dh * p["norm.weight"]
    dr = inv * (dxh - dxh.mean(axis=1, keepdims=True) - xhat * (dxh * xhat).mean(axis=1, keepdims=True))
    g["attn.out_proj.weight"], g["attn.out_proj.bias"] = dr.T @ o, dr.sum(0)
    do = (dr @ p["attn.out_proj.weight"]).reshape(B, T, H, D).transpose(0, 2, 1, 3)
    dp = do @ v.transpose(0, 1, 3, 2)
    dv = pr.transpose(0, 1, 3, 2) @ do
    ds = pr * (dp - (dp * pr).sum(axis=-1, keepdims=True))
    dq = (ds @ k) * scale
    dk = ds.transpose(0, 1, 3, 2) @ (q * scale)
    dqkv = np.concatenate([t.transpose(0, 2, 1, 3).reshape(B * T, E) for t in (dq, dk, dv)], axis=1)
    g["attn.in_proj_weight"], g["attn.in_proj_bias"] = dqkv.T @ x2, dqkv.sum(0)
    for name, grad in g.items():
        p[name] -= np.float32(LR) * grad
    return loss


def _block(nn):
    """The block as graphgrad (or PyTorch) modules; both libraries share these names."""
    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(E, H, batch_first=True)
            self.norm = nn.LayerNorm(E)
            self.linear1 = nn.Linear(E, FF)
            self.linear2 = nn.Linear(FF, E)

        def forward(self, x):
            h = self.norm(x + self.attn(x, x, x, need_weights=False)[0])
            return h + self.linear2(nn.functional.relu(self.linear1(h)))

    return Block()


def _steps():
    """(graphgrad step, NumPy step, PyTorch step or None), all from the same initial weights."""
    import nn
    from nn import optim

    rng = np.random.default_rng(0)
    params = _params(rng)
    x = rng.standard_normal((B, T, E)).astype(np.float32)
    y = rng.standard_normal((B, T, E)).astype(np.float32)

    model = _block(nn)
    model.load_state_dict(params)
    opt = optim.SGD(model.parameters(), lr=LR)
    xt, yt = ag.tensor(x), ag.tensor(y)

    def ours():
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(xt), yt)
        loss.backward()
        opt.step()
        return float(loss.data)

    p_np = {k: v.copy() for k, v in params.items()}

    def floor():
        return _numpy_step(p_np, x, y)

    try:
        import torch
    except ImportError:
        return ours, floor, None
    torch.set_num_threads(1)
    tmodel = _block(torch.nn)
    tmodel.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in params.items()})
    topt = torch.optim.SGD(tmodel.parameters(), lr=LR)
    tx, ty = torch.from_numpy(x), torch.from_numpy(y)

    def theirs():
        topt.zero_grad()
        loss = torch.nn.functional.mse_loss(tmodel(tx), ty)
        loss.backward()
        topt.step()
        return loss.item()

    return ours, floor, theirs


def _measure() -> dict:
    """Time per step (ms) of each implementation, after checking that they agree on the first loss."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:
        pass
    ours, floor, theirs = _steps()
    first = [ours(), floor()] + ([theirs()] if theirs else [])
    if not np.allclose(first, first[0], rtol=1e-4):
        raise AssertionError(f"attention_train_step: the three implementations disagree on the loss: {first}")
    fns = {"graphgrad": ours, "numpy": floor}
    if theirs is not None:
        import torch

        fns["torch"] = theirs
    times = best_cpu_ms(fns, rounds=30)
    if theirs is not None:
        times["torch_version"] = torch.__version__
    return times


# glibc keeps freed memory instead of returning it to the system after every step (PyTorch's caching
# allocator does the same for its tensors): without it each NumPy step (graphgrad's and the hand-written
# floor alike) page-faults ~6,000 times on fresh 0.5-2 MB arrays.
_KEEP_FREED_MEMORY = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}


def _measure_in_subprocess(env_extra: dict) -> dict:
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, **env_extra, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    code = "import json; from bench.attention import _measure; print(json.dumps(_measure()))"
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return json.loads(done.stdout.strip().splitlines()[-1])


def _row(label: str, t: dict) -> dict:
    row = {"benchmark": f"attention_train_step ({label}): MHA(128, 4 heads)+LayerNorm+FFN 512, seq 64, "
                        f"batch 16, MSE+SGD", "graphgrad": f"{t['graphgrad']:.2f} ms"}
    if "torch" not in t:
        return {**row, "baseline": f"NumPy by hand {t['numpy']:.2f} ms",
                "result": f"{t['graphgrad'] / t['numpy']:.2f}x NumPy (target ≤ 1.25x); PyTorch not installed"}
    return {**row, "baseline": f"NumPy by hand {t['numpy']:.2f} ms; PyTorch {t['torch_version']} CPU, 1 thread "
                               f"{t['torch']:.2f} ms",
            "result": f"{t['graphgrad'] / t['numpy']:.2f}x NumPy, {t['graphgrad'] / t['torch']:.2f}x PyTorch "
                      f"(targets ≤ 1.25x each)"}


def run() -> list[dict]:
    here = "malloc keeps freed memory: autograd.allocator" if ag.allocator.tuned else "default malloc"
    rows = [_row(here, _measure())]
    try:
        rows.append(_row("malloc keeps freed memory", _measure_in_subprocess(_KEEP_FREED_MEMORY)))
    except Exception as e:  # noqa: BLE001 -- the in-process figure stands on its own
        rows.append({"benchmark": "attention_train_step (malloc keeps freed memory)", "result": f"not run: {e}"})
    return rows
