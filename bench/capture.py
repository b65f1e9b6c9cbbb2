"""Captured steps (``autograd.capture``) vs the same computation written by hand in NumPy, interleaved in one run.

1. the MLP benchmark's 784-256-256-10 ReLU MLP at batch 128, forward + backward into ``.grad`` (and eager);
2. the overhead benchmark's 200-op elementwise chain (16 float32), forward + backward;
3. the CNN, LSTM and attention training steps of ``cnn.py``, ``lstm.py`` and ``attention.py`` (forward, loss,
   backward captured; the SGD step after each call), against the hand-written NumPy steps there (the floors),
   with eager ``nn`` alongside: best CPU time of one step, the three taking turns. Each step runs in a fresh
   process (what ran before in the same process changes glibc malloc's state, and with it how often the
   NumPy floor page-faults), once with the default allocator and once with freed memory kept
   (``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_`` = 1 GiB, as ``attention.py`` does).
The MLP runs first: after the chain's many small allocations the same replay measured about twice as slow
(glibc malloc's state; with freed memory kept, ``MALLOC_MMAP_THRESHOLD_``/``MALLOC_TRIM_THRESHOLD_`` large, both
orders agree).
"""
from __future__ import annotations

import numpy as np

import autograd as ag

from .mlp import BATCH, SIZES, _numpy_fwd_bwd, _params
from .overhead import N_OPS, SIZE, _numpy_step
from .timing import best_cpu_ms, per_call_us


def _chain(x):
    def step():
        x.grad = None
        y = x
        for _ in range(N_OPS // 4):
            y = (y * 1.01).tanh()
            y = (y + 0.1).sigmoid()
        y.sum().backward()
    return step


def _mlp(xt, ws, bs):
    def step():
        for p in ws + bs:
            p.grad = None
        h = xt
        for i, (w, b) in enumerate(zip(ws, bs)):
            h = h @ w.T + b
            if i < len(ws) - 1:
                h = h.relu()
        h.sum().backward()
    return step


def _interleaved(a, b, number, rounds=5):
    """Best per-call time of ``a`` and of ``b``, measured in alternating rounds (the load hits both alike)."""
    ta = tb = float("inf")
    for _ in range(rounds):
        ta = min(ta, per_call_us(a, number=number, repeat=1))
        tb = min(tb, per_call_us(b, number=number, repeat=1))
    return ta, tb


def run() -> list[dict]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((BATCH, SIZES[0])).astype(np.float32)
    ws, bs = _params(rng)
    tw = [ag.tensor(w, requires_grad=True) for w in ws]
    tb = [ag.tensor(b, requires_grad=True) for b in bs]
    eager = _mlp(ag.tensor(x), tw, tb)
    mlp = ag.capture(eager)
    hand = lambda: _numpy_fwd_bwd(x, ws, bs)  # noqa: E731
    ours, base = _interleaved(mlp, hand, number=20)
    plain, base2 = _interleaved(eager, hand, number=20)
    rows = [{
        "benchmark": "captured MLP 784-256-256-10 ReLU, batch 128, fwd+bwd",
        "graphgrad": f"{ours / 1000:.3f} ms (eager {plain / 1000:.3f} ms)",
        "baseline": f"NumPy by hand {base / 1000:.3f} ms ({base2 / 1000:.3f} ms)",
        "result": f"{ours / base:.2f}x NumPy (target ≤ 1.05x); eager {plain / base2:.2f}x",
    }]
    a = rng.standard_normal(SIZE).astype(np.float32)
    chain = ag.capture(_chain(ag.tensor(a, requires_grad=True)))
    ours, base = _interleaved(chain, lambda: _numpy_step(a), number=200)
    rows.append({
        "benchmark": f"captured {N_OPS}-op elementwise chain, {SIZE} float32, fwd+bwd",
        "graphgrad": f"{ours / N_OPS:.2f} µs/op",
        "baseline": f"NumPy by hand {base / N_OPS:.2f} µs/op",
        "result": f"{ours / base:.2f}x NumPy (target ≤ 1.5x)",
    })
    # (autograd.allocator keeps freed memory at import unless GRAPHGRAD_MALLOC=system: the first row opts out)
    settings = (("system malloc", {"GRAPHGRAD_MALLOC": "system"}), ("malloc keeps freed memory", _KEEP_FREED_MEMORY))
    for label, env in settings:
        for name in _TRAIN_STEPS:
            rows.append(_train_row_in_subprocess(name, label, env))
    return rows


# ----------------------------------------------------------------------------- whole training steps


def _captured(model, opt, loss_fn):
    """(eager step, captured step): zero_grad, forward, loss and backward (captured), then the SGD step."""
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        return loss

    replay = ag.capture(step)

    def eager(x, y):
        loss = step(x, y)
        opt.step()
        return float(loss.data)

    def captured(x, y):
        loss = replay(x, y)
        opt.step()
        return float(loss.data)

    return eager, captured, replay


def _cnn():
    import nn
    from nn import optim

    from . import cnn

    rng = np.random.default_rng(0)
    x = rng.standard_normal((cnn.BATCH, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, cnn.BATCH)
    p = cnn._params(np.random.default_rng(0))  # the same initial weights as the model's
    model = cnn.graphgrad_model(cnn._params(np.random.default_rng(0)))
    opt = optim.SGD(model.parameters(), lr=cnn.LR)
    eager, captured, replay = _captured(model, opt, nn.functional.cross_entropy)
    xt, yt = ag.tensor(x), ag.tensor(labels)
    return ("2 conv + 2 max-pool + linear, batch 32 of 1×28×28, CE, SGD", lambda: eager(xt, yt),
            lambda: captured(xt, yt), lambda: cnn.numpy_train_step(p, x, labels), replay)


def _lstm():
    import nn
    from nn import optim

    from . import lstm

    rng = np.random.default_rng(0)
    params = lstm._params(rng)
    x = rng.standard_normal((lstm.SEQ, lstm.BATCH, lstm.INPUT)).astype(np.float32)
    y = rng.integers(0, lstm.CLASSES, lstm.BATCH)
    floor_params = {n: v.copy() for n, v in params.items()}
    model, _ = lstm.graphgrad_model(params)
    opt = optim.SGD(model.parameters(), lr=lstm.LR)
    eager, captured, replay = _captured(model, opt, nn.functional.cross_entropy)
    xt, yt = ag.tensor(x), ag.tensor(y)
    return (f"LSTM {lstm.INPUT}→{lstm.HIDDEN}, seq {lstm.SEQ}, batch {lstm.BATCH}, Linear, CE, SGD",
            lambda: eager(xt, yt), lambda: captured(xt, yt), lambda: lstm.numpy_train_step(floor_params, x, y),
            replay)


def _attention():
    import nn
    from nn import optim

    from . import attention as at

    rng = np.random.default_rng(0)
    params = at._params(rng)
    x = rng.standard_normal((at.B, at.T, at.E)).astype(np.float32)
    y = rng.standard_normal((at.B, at.T, at.E)).astype(np.float32)
    model = at._block(nn)
    model.load_state_dict(params)
    opt = optim.SGD(model.parameters(), lr=at.LR)
    eager, captured, replay = _captured(model, opt, nn.functional.mse_loss)
    p_np = {k: v.copy() for k, v in params.items()}
    xt, yt = ag.tensor(x), ag.tensor(y)
    return (f"MHA({at.E}, {at.H} heads)+LayerNorm+FFN {at.FF}, seq {at.T}, batch {at.B}, MSE, SGD",
            lambda: eager(xt, yt), lambda: captured(xt, yt), lambda: at._numpy_step(p_np, x, y), replay)


_TRAIN_STEPS = {"CNN": _cnn, "LSTM": _lstm, "attention": _attention}
_KEEP_FREED_MEMORY = {"MALLOC_MMAP_THRESHOLD_": str(1 << 30), "MALLOC_TRIM_THRESHOLD_": str(1 << 30)}


def _train_row_in_subprocess(name, label, env_extra):
    """``_train_row`` of one training step, measured in a new process with ``env_extra`` in its environment."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, **env_extra, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    code = ("import json; from bench.run import _one_blas_thread; _one_blas_thread(); from bench import capture; "
            f"print(json.dumps(capture._train_row({name!r}, *capture._TRAIN_STEPS[{name!r}]())))")
    try:
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True,
                              cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    except subprocess.CalledProcessError as e:
        return {"benchmark": f"captured {name} training step ({label})", "result": f"failed: {e.stderr[-300:]}"}
    row = json.loads(done.stdout.strip().splitlines()[-1])
    row["benchmark"] = row["benchmark"].replace(" training step:", f" training step ({label}):")
    return row


def _train_row(name, what, eager, captured, floor, replay):
    first = [captured(), floor()]  # the first call records, as does the second; then the replays are timed
    if first[1] is not None and not np.isclose(first[0], first[1], rtol=1e-4):  # (the LSTM floor returns None)
        raise AssertionError(f"captured {name} step: the captured and NumPy steps disagree on the loss: {first}")
    captured()
    sig = next(iter(replay._signatures.values()))
    if sig.program is None or sig.eager:
        raise AssertionError(f"captured {name} step is not replayed: {sig.eager or 'no program'}")
    t = best_cpu_ms({"captured": captured, "numpy": floor, "eager": eager})
    return {
        "benchmark": f"captured {name} training step: {what}",
        "graphgrad": f"{t['captured']:.2f} ms (eager {t['eager']:.2f} ms)",
        "baseline": f"NumPy by hand {t['numpy']:.2f} ms",
        "result": f"{t['captured'] / t['numpy']:.2f}x NumPy (target ≤ 1.05x); eager {t['eager'] / t['numpy']:.2f}x",
    }
