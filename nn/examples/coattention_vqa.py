"""Co-attention on two inputs: a synthetic visual question answering task learned by an MCAN-style model.

    python -m nn.examples.coattention_vqa --out runs/vqa

Each "image" is a 3x3 grid of patch features: four objects of distinct shapes (of 6) in random cells, each in
one of 4 colours; other cells are background. Feature per patch: one-hot shape (7, with "none") and
one-hot colour (4), plus noise. A "question" is three tokens, ``what colour <shape>`` or
``where is <shape>``; the answer (4 colours + 9 cells = 13 classes) needs both inputs: find the patch with
that shape, read its colour or its cell. The image is encoded by SA units and the question decoded by SGA
layers (``CoAttentionClassifier``), so the guided attention (GA) maps show, for each question token, which
patches it looked at.

Recorded run (seed 0, defaults: d_model 32, 4 heads, 1 SA + 1 SGA layer, batch 128, Adam 2e-3; 2 cores
shared with other jobs): loss 2.52 at step 1, 1.13 at step 400, 0.010 at step 600, 0.007 at step 800;
accuracy 99.70 % on 2,000 held-out questions (chance 1/13 = 7.7 %); 19.5 s of CPU time (70-72 s
wall-clock, the machine being shared). Written under ``--out``:
metrics.json and ga_attention.png (``viz.plots.plot_attention`` of the GA heads for one held-out question;
in the recorded run two of the four heads put their largest weight for the shape word on the cell that
holds the shape).
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

GRID, SHAPES, COLOURS, OBJECTS = 9, 6, 4, 4
WORDS = ["what", "colour", "where", "is"] + [f"shape{s}" for s in range(SHAPES)]
FEATURES = SHAPES + 1 + COLOURS
NUM_ANSWERS = COLOURS + GRID


def make_batch(rng: np.random.Generator, n: int, noise: float = 0.1):
    """(image features (n, 9, 11) float32, question tokens (n, 3), answers (n,), object cells (n,))."""
    img = np.zeros((n, GRID, FEATURES), np.float32)
    img[:, :, SHAPES] = 1.0  # background: shape "none", no colour
    cells = np.argsort(rng.random((n, GRID)), axis=1)[:, :OBJECTS]
    shapes = np.argsort(rng.random((n, SHAPES)), axis=1)[:, :OBJECTS]
    colours = rng.integers(0, COLOURS, (n, OBJECTS))
    rows = np.arange(n)[:, None]
    img[rows, cells, SHAPES] = 0.0
    img[rows, cells, shapes] = 1.0
    img[rows, cells, SHAPES + 1 + colours] = 1.0
    img += noise * rng.standard_normal(img.shape).astype(np.float32)
    pick = rng.integers(0, OBJECTS, n)
    asked_shape, cell, colour = shapes[np.arange(n), pick], cells[np.arange(n), pick], colours[np.arange(n), pick]
    where = rng.random(n) < 0.5
    q = np.stack([np.where(where, 2, 0), np.where(where, 3, 1), 4 + asked_shape], axis=1)
    answer = np.where(where, COLOURS + cell, colour)
    return img, q, answer, cell


class VQAModel(nn.Module):
    """Patch features -> Linear + cell embedding (SA-encoded); question -> Embedding + positions (SGA-decoded)."""

    def __init__(self, d_model: int = 32, nhead: int = 4, num_layers: int = 1, dim_feedforward: int = 64) -> None:
        super().__init__()
        self.patch_proj = nn.Linear(FEATURES, d_model)
        self.cell_embed = nn.Embedding(GRID, d_model)
        self.word_embed = nn.Embedding(len(WORDS), d_model)
        self.pos = nn.PositionalEncoding(d_model, max_len=8, dropout=0.0, batch_first=True)
        self.head = nn.CoAttentionClassifier(d_model, nhead, NUM_ANSWERS, num_layers, dim_feedforward, dropout=0.0)

    def embed(self, img, q):
        image = self.patch_proj(img) + self.cell_embed(np.arange(GRID))
        return image, self.pos(self.word_embed(q))

    def forward(self, img, q):
        image, question = self.embed(img, q)
        return self.head(image, question)  # the image is encoded (SA), the question decoded (SGA over the image)

    def ga_maps(self, img, q) -> list[np.ndarray]:
        """Guided-attention weights per decoder layer, (N, heads, question tokens, patches)."""
        with ag.no_grad():
            image, question = self.embed(img, q)
            return [w.data.copy() for w in self.head.mca(image, question, need_weights=True)[2]]


def train(steps: int = 800, batch: int = 128, lr: float = 2e-3, seed: int = 0, log=sys.stdout, **model_kw) -> dict:
    """Train on fresh batches; returns accuracy on 2,000 held-out questions, the model and one example."""
    ag.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = VQAModel(**model_kw)
    opt = nn.optim.Adam(model.parameters(), lr=lr)
    start, cpu = time.perf_counter(), time.process_time()
    with single_thread_blas():
        for step in range(1, steps + 1):
            img, q, ans, _ = make_batch(rng, batch)
            loss = F.cross_entropy(model(img, q), ans)
            opt.zero_grad()
            loss.backward()
            opt.step()
            if log is not None and (step % 200 == 0 or step == 1):
                log.write(f"step {step:5d}  loss {float(loss.data):.4f}\n")
        model.eval()
        img, q, ans, cell = make_batch(np.random.default_rng(seed + 1), 2000)
        with ag.no_grad():
            pred = model(img, q).data.argmax(-1)
    return {"accuracy": float((pred == ans).mean()), "steps": steps,
            "seconds": round(time.perf_counter() - start, 1),
            "cpu_seconds": round(time.process_time() - cpu, 1), "model": model,
            "example": (img[:1], q[:1], int(ans[0]), int(cell[0]))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nn.examples.coattention_vqa", description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/vqa", help="folder for the results (default: runs/vqa)")
    parser.add_argument("--steps", type=int, default=800)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    res = train(steps=args.steps, seed=args.seed)
    metrics = {k: res[k] for k in ("accuracy", "steps", "seconds", "cpu_seconds")}
    print(f"accuracy {metrics['accuracy']:.2%} (chance {1 / NUM_ANSWERS:.1%}), {metrics['seconds']} s "
          f"({metrics['cpu_seconds']} s CPU)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    written, skipped = {"metrics": write_json(out / "metrics.json", metrics)}, {}
    try:
        from viz.plots import plot_attention

        img, q, _, cell = res["example"]
        w = res["model"].ga_maps(img, q)[-1][0]
        fig = plot_attention(w, x_labels=[f"cell{c}" for c in range(GRID)], y_labels=[WORDS[t] for t in q[0]])
        fig.suptitle(f"guided attention: question tokens over image patches (object in cell {cell})")
        path = out / "ga_attention.png"
        fig.savefig(path, dpi=100)
        written["GA attention"] = path
    except ImportError as e:
        skipped["GA attention"] = str(e)
    report(out, written, skipped)
    return 0 if metrics["accuracy"] >= 0.95 else 1


if __name__ == "__main__":
    raise SystemExit(main())
