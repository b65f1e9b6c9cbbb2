"""A small Transformer encoder learns to reverse a sequence of digits: y_t = x_{L-1-t}.

    python -m nn.examples.transformer_reverse --out runs/reverse

Embedding + sinusoidal PositionalEncoding, a 2-layer ``TransformerEncoder`` (d_model 64, 4 heads,
feed-forward 128, batch_first) and a Linear read-out per position, trained with cross-entropy and Adam
on fresh random sequences (length 8, digits 0-9). Only attention can move a digit to the mirrored
position: the second layer's heads all end up as sharp anti-diagonals (query t looks at key L-1-t),
the first layer's are broader.

Recorded run (seed 0, one BLAS thread, 2 cores shared with other jobs): loss 2.45 at step 1, 0.0016 at
step 250, 0.0001 at step 1,500; token accuracy 100.00 % and sequence accuracy 100.00 % on 2,000 held-out
sequences; 27.6 s of CPU time (44-82 s wall-clock, the machine being shared). Written under ``--out``:
metrics.json, attention_layer0.png and attention_layer1.png (``viz.plots.plot_attention`` of each layer's
heads for one held-out sequence).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

import autograd as ag
import nn
import nn.functional as F

from ._common import report, single_thread_blas, write_json


class Reverser(nn.Module):
    """Digits -> per-position logits: Embedding + PositionalEncoding -> TransformerEncoder -> Linear."""

    def __init__(self, vocab: int, d_model: int, nhead: int, layers: int, dim_feedforward: int,
                 max_len: int = 64) -> None:
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.pos = nn.PositionalEncoding(d_model, max_len=max_len, dropout=0.0, batch_first=True)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.0, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers)
        self.head = nn.Linear(d_model, vocab)

    def forward(self, tokens):
        return self.head(self.encoder(self.pos(self.embed(tokens))))

    def attention_maps(self, tokens) -> list[np.ndarray]:
        """Each layer's per-head attention weights (N, heads, L, L) for ``tokens``, without grad."""
        maps = []
        with ag.no_grad():
            x = self.pos(self.embed(tokens))
            for layer in self.encoder.layers:
                maps.append(layer.self_attn(x, x, x, average_attn_weights=False)[1].data.copy())
                x = layer(x)
        return maps


def make_batch(rng: np.random.Generator, n: int, length: int, vocab: int) -> tuple[np.ndarray, np.ndarray]:
    """(tokens, targets): random digit sequences and their reversals."""
    x = rng.integers(0, vocab, (n, length))
    return x, x[:, ::-1].copy()


def train(steps: int = 1500, length: int = 8, vocab: int = 10, d_model: int = 64, nhead: int = 4, layers: int = 2,
          dim_feedforward: int = 128, batch: int = 64, lr: float = 2e-3, seed: int = 0, log=sys.stdout) -> dict:
    """Train a Reverser; returns token and sequence accuracy on 2,000 fresh sequences, the model and timings."""
    ag.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = Reverser(vocab, d_model, nhead, layers, dim_feedforward)
    opt = nn.optim.Adam(model.parameters(), lr=lr)
    start, cpu = time.perf_counter(), time.process_time()
    with single_thread_blas():
        for step in range(1, steps + 1):
            x, y = make_batch(rng, batch, length, vocab)
            loss = F.cross_entropy(model(x).reshape(-1, vocab), y.reshape(-1))
            opt.zero_grad()
            loss.backward()
            opt.step()
            if log is not None and (step % 250 == 0 or step == 1):
                log.write(f"step {step:5d}  loss {float(loss.data):.4f}\n")
        model.eval()
        xt, yt = make_batch(np.random.default_rng(seed + 1), 2000, length, vocab)
        with ag.no_grad():
            pred = model(xt).data.argmax(-1)
    return {"accuracy": float((pred == yt).mean()), "sequence_accuracy": float((pred == yt).all(1).mean()),
            "steps": steps, "seconds": round(time.perf_counter() - start, 1),
            "cpu_seconds": round(time.process_time() - cpu, 1), "model": model,
            "example": xt[:1]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nn.examples.transformer_reverse",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/reverse", help="folder for the results (default: runs/reverse)")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    res = train(steps=args.steps, seed=args.seed)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    metrics = {k: res[k] for k in ("accuracy", "sequence_accuracy", "steps", "seconds", "cpu_seconds")}
    print(f"token accuracy {metrics['accuracy']:.2%}, sequence accuracy {metrics['sequence_accuracy']:.2%}, "
          f"{metrics['seconds']} s ({metrics['cpu_seconds']} s CPU)")
    written, skipped = {"metrics": write_json(out / "metrics.json", metrics)}, {}
    try:
        from viz.plots import plot_attention

        tokens = res["example"]
        labels = [str(t) for t in tokens[0]]
        for i, w in enumerate(res["model"].attention_maps(tokens)):
            path = out / f"attention_layer{i}.png"
            plot_attention(w[0], x_labels=labels, y_labels=labels).savefig(path, dpi=100)
            written[f"attention {i}"] = path
    except ImportError as e:
        skipped["attention"] = str(e)
    report(out, written, skipped)
    return 0 if metrics["accuracy"] >= 0.99 else 1


if __name__ == "__main__":
    raise SystemExit(main())
