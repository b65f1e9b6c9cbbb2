"""Datasets and mini-batching (seed T3: batch, epoch, iteration): ``TensorDataset``, ``DataLoader``,
``random_split`` and ``Subset``, as in ``torch.utils.data``.

Shuffling and splitting draw from ``autograd.random.generator()`` so ``autograd.manual_seed(n)`` makes
them repeatable. Datasets that know how to fetch many rows at once (``TensorDataset`` and ``Subset`` of
one) are batched with one fancy-indexing operation per tensor instead of a Python loop per sample.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from autograd import Tensor, from_numpy
from autograd.dtypes import real_dtype

__all__ = ["DataLoader", "Dataset", "Subset", "TensorDataset", "default_collate", "random_split"]


def _generator(generator: np.random.Generator | None) -> np.random.Generator:
    """The generator to draw from: the one given, else the global one seeded by ``autograd.manual_seed``."""
    if generator is not None:
        if not isinstance(generator, np.random.Generator):
            raise TypeError(f"generator must be a numpy.random.Generator, got {type(generator).__name__}")
        return generator
    from autograd import random as ag_random

    return ag_random.generator()


class Dataset:
    """Anything with ``__getitem__(i)`` and ``__len__``; subclass it or just duck-type it."""

    def __getitem__(self, index):
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError


class TensorDataset(Dataset):
    """Rows of several tensors with the same first dimension: item ``i`` is ``(t[i] for t in tensors)``.

    ``dtype`` (e.g. ``np.float32``) casts the floating-point tensors once, explicitly (sklearn data is float64,
    and a float32 model refuses float64 input); integer labels are left as they are."""

    def __init__(self, *tensors, dtype=None):
        if not tensors:
            raise ValueError("TensorDataset: needs at least one tensor")
        if dtype is not None:
            dtype = np.dtype(real_dtype(dtype, "TensorDataset"))
            if dtype.kind != "f":
                raise TypeError(f"TensorDataset: dtype must be a floating dtype, got {dtype}")
        converted = []
        for i, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                t = Tensor(t)
            if dtype is not None and t.dtype.kind == "f" and t.dtype != dtype:
                t = Tensor(t.data.astype(dtype))
            if t.ndim == 0:
                raise ValueError(f"TensorDataset: tensor {i} is 0-d; every tensor needs a first (sample) dimension")
            converted.append(t)
        sizes = [t.shape[0] for t in converted]
        if len(set(sizes)) != 1:
            shapes = ", ".join(str(t.shape) for t in converted)
            raise ValueError(f"TensorDataset: all tensors must have the same first dimension, got shapes {shapes}")
        self.tensors = tuple(converted)

    def __getitem__(self, index):
        return tuple(from_numpy(np.asarray(t.data[index])) for t in self.tensors)

    def _batch(self, indices: np.ndarray) -> tuple[Tensor, ...]:
        """Rows ``indices`` of every tensor, stacked: one fancy-indexing call per tensor."""
        return tuple(from_numpy(t.data[indices]) for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]

    def __repr__(self) -> str:
        return f"TensorDataset({len(self)} samples, shapes {[tuple(t.shape[1:]) for t in self.tensors]})"


class Subset(Dataset):
    """The items of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices: Sequence[int]):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)
        if self.indices.ndim != 1:
            raise ValueError(f"Subset: indices must be one-dimensional, got shape {self.indices.shape}")

    def __getitem__(self, index):
        if isinstance(index, (list, np.ndarray)):
            return [self.dataset[int(i)] for i in self.indices[index]]
        return self.dataset[int(self.indices[index])]

    def _batch(self, indices: np.ndarray):
        inner = self.indices[indices]
        if hasattr(self.dataset, "_batch"):
            return self.dataset._batch(inner)
        return default_collate([self.dataset[int(i)] for i in inner])

    def __len__(self) -> int:
        return len(self.indices)

    def __repr__(self) -> str:
        return f"Subset({len(self)} of {len(self.dataset)} samples)"


def default_collate(samples: list) -> Any:
    """Stack a list of samples into a batch: tuples/lists field by field, dicts key by key, arrays and
    numbers into one Tensor with a new first axis."""
    first = samples[0]
    if isinstance(first, (tuple, list)):
        if any(len(s) != len(first) for s in samples):
            raise ValueError("default_collate: samples have different numbers of fields")
        return tuple(default_collate([s[i] for s in samples]) for i in range(len(first)))
    if isinstance(first, dict):
        return {k: default_collate([s[k] for s in samples]) for k in first}
    if isinstance(first, (Tensor, np.ndarray)):
        arrays = [s.data if isinstance(s, Tensor) else np.asarray(s) for s in samples]
        shapes = {a.shape for a in arrays}
        if len(shapes) > 1:
            raise ValueError(f"default_collate: samples of one field have different shapes {sorted(shapes)}; "
                             "they cannot be stacked into a batch (pass collate_fn= to DataLoader)")
        return from_numpy(np.stack(arrays))
    if isinstance(first, (bool, int, float, np.number, np.bool_)):
        return Tensor(list(samples))  # Python floats become the default float dtype, ints stay int
    raise TypeError(f"default_collate: cannot batch samples of type {type(first).__name__}; "
                    "pass collate_fn= to DataLoader")


class DataLoader:
    """Iterate over ``dataset`` in mini-batches of ``batch_size`` stacked samples.

    ``shuffle`` draws a fresh permutation each epoch (from ``generator`` or the global one seeded by
    ``autograd.manual_seed``); ``drop_last`` drops a final short batch. ``len()`` is the number of batches.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False, drop_last: bool = False,
                 collate_fn: Callable[[list], Any] | None = None, generator: np.random.Generator | None = None):
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size <= 0:
            raise ValueError(f"DataLoader: batch_size must be a positive integer, got {batch_size!r}")
        if not hasattr(dataset, "__getitem__") or not hasattr(dataset, "__len__"):
            raise TypeError(f"DataLoader: dataset must support len() and indexing, got {type(dataset).__name__}")
        if generator is not None:
            _generator(generator)  # type check now rather than at the first epoch
        self.dataset = dataset
        self.batch_size = int(batch_size)
        self.shuffle = bool(shuffle)
        self.drop_last = bool(drop_last)
        self.collate_fn = collate_fn
        self.generator = generator

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def _order(self) -> np.ndarray:
        n = len(self.dataset)
        if self.shuffle:
            return _generator(self.generator).permutation(n)
        return np.arange(n)

    def __iter__(self) -> Iterator:
        order = self._order()
        stop = len(self) * self.batch_size
        fast = self.collate_fn is None and hasattr(self.dataset, "_batch")
        collate = self.collate_fn or default_collate
        for start in range(0, min(stop, len(order)), self.batch_size):
            idx = order[start:start + self.batch_size]
            if fast:
                yield self.dataset._batch(idx)
            else:
                yield collate([self.dataset[int(i)] for i in idx])

    def __repr__(self) -> str:
        return (f"DataLoader({len(self.dataset)} samples, batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last}, {len(self)} batches)")


def random_split(dataset, lengths: Sequence[int | float], generator: np.random.Generator | None = None
                 ) -> list[Subset]:
    """Split ``dataset`` into disjoint random ``Subset``s of the given lengths.

    ``lengths`` are either counts summing to ``len(dataset)`` or fractions summing to 1; fractions are
    floored and the remaining items handed out one each to the subsets in order (as PyTorch does).
    """
    n = len(dataset)
    lengths = list(lengths)
    if not lengths:
        raise ValueError("random_split: lengths must not be empty")
    if any(isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)) or x < 0
           for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative numbers, got {lengths}")
    if all(isinstance(x, (int, np.integer)) for x in lengths):
        counts = [int(x) for x in lengths]
        if sum(counts) != n:
            raise ValueError(f"random_split: lengths {counts} sum to {sum(counts)}, but the dataset has {n} items")
    else:
        if not math.isclose(sum(lengths), 1.0, abs_tol=1e-6) or any(x > 1 for x in lengths):
            raise ValueError(f"random_split: fractions {lengths} must each be in [0, 1] and sum to 1 "
                             f"(or pass integer counts summing to {n})")
        counts = [math.floor(n * f) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
    perm = _generator(generator).permutation(n)
    out, start = [], 0
    for c in counts:
        out.append(Subset(dataset, perm[start:start + c]))
        start += c
    return out
