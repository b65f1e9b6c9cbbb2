"""nn.data: TensorDataset, DataLoader batching / shuffling / drop_last, random_split, Subset, collation."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
from nn.data import DataLoader, Subset, TensorDataset, default_collate, random_split


def make(n=10):
    X = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    y = np.arange(n, dtype=np.int64) * 10
    return X, y, TensorDataset(X, ag.Tensor(y))


def test_tensor_dataset_items_and_length():
    X, _, ds = make()
    assert len(ds) == 10
    xi, yi = ds[4]
    np.testing.assert_array_equal(xi.data, X[4])
    assert yi.item() == 40 and xi.dtype == np.float32 and yi.dtype == np.int64


def test_tensor_dataset_rejects_mismatched_first_dims():
    with pytest.raises(ValueError, match=r"same first dimension.*\(5, 2\).*\(4,\)"):
        TensorDataset(np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.float32(1.0))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()


@pytest.mark.parametrize("n, bs, drop_last, sizes", [(10, 3, False, [3, 3, 3, 1]), (10, 3, True, [3, 3, 3]),
                                                     (10, 5, False, [5, 5]), (10, 5, True, [5, 5]),
                                                     (10, 20, False, [10]), (10, 20, True, [])])
def test_batches_in_order_with_and_without_drop_last(n, bs, drop_last, sizes):
    X, y, ds = make(n)
    loader = DataLoader(ds, batch_size=bs, drop_last=drop_last)
    batches = list(loader)
    assert len(loader) == len(sizes) == len(batches)
    assert [len(b[1]) for b in batches] == sizes
    if batches:
        np.testing.assert_array_equal(np.concatenate([b[0].data for b in batches]), X[:sum(sizes)])
        np.testing.assert_array_equal(np.concatenate([b[1].data for b in batches]), y[:sum(sizes)])
        assert batches[0][0].dtype == np.float32 and batches[0][1].dtype == np.int64


def test_shuffle_is_a_permutation_fresh_each_epoch_and_repeatable_with_manual_seed():
    _, y, ds = make(50)
    loader = DataLoader(ds, batch_size=7, shuffle=True)
    ag.manual_seed(123)
    e1 = np.concatenate([b[1].data for b in loader])
    e2 = np.concatenate([b[1].data for b in loader])
    assert sorted(e1.tolist()) == y.tolist() and sorted(e2.tolist()) == y.tolist()
    assert not np.array_equal(e1, e2) and not np.array_equal(e1, y)
    ag.manual_seed(123)
    np.testing.assert_array_equal(np.concatenate([b[1].data for b in loader]), e1)
    # rows stay paired: x[0] / 3 * 10 == y
    for xb, yb in loader:
        np.testing.assert_array_equal(xb.data[:, 0] / 3 * 10, yb.data)


def test_explicit_generator():
    _, _, ds = make(20)
    a = next(iter(DataLoader(ds, 20, shuffle=True, generator=np.random.default_rng(5))))[1].data
    b = next(iter(DataLoader(ds, 20, shuffle=True, generator=np.random.default_rng(5))))[1].data
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(a, make(20)[1][np.random.default_rng(5).permutation(20)])
    with pytest.raises(TypeError, match="Generator"):
        DataLoader(ds, generator=42)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True])
def test_bad_batch_size(bad):
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(make()[2], batch_size=bad)


def test_generic_dataset_is_collated():
    class Squares:
        def __len__(self):
            return 5

        def __getitem__(self, i):
            return np.array([i, i * i], dtype=np.float64), i % 2

    batches = list(DataLoader(Squares(), batch_size=2))
    assert len(batches) == 3
    x, t = batches[1]
    np.testing.assert_array_equal(x.data, [[2, 4], [3, 9]])
    np.testing.assert_array_equal(t.data, [0, 1])
    assert x.dtype == np.float64 and t.dtype.kind == "i"


def test_default_collate_structures():
    out = default_collate([{"a": 1.5, "b": np.ones(2)}, {"a": 2.5, "b": np.zeros(2)}])
    assert out["a"].dtype == np.float32 and out["b"].shape == (2, 2)
    with pytest.raises(TypeError, match="collate_fn"):
        default_collate([object(), object()])
    with pytest.raises(ValueError, match=r"different shapes \[\(2,\), \(3,\)\]"):
        default_collate([np.ones(2), np.ones(3)])
    custom = DataLoader(make(4)[2], batch_size=2, collate_fn=lambda items: len(items))
    assert list(custom) == [2, 2]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 60), lengths=st.lists(st.integers(0, 20), min_size=1, max_size=5))
def test_random_split_counts_are_disjoint_and_cover(n, lengths):
    total = sum(lengths)
    X = np.arange(total)
    ds = TensorDataset(X)
    parts = random_split(ds, lengths, generator=np.random.default_rng(n))
    assert [len(p) for p in parts] == lengths
    seen = np.concatenate([p.indices for p in parts]) if parts else np.array([])
    assert sorted(seen.tolist()) == list(range(total))


@pytest.mark.parametrize("n, fractions, expected", [(10, [0.5, 0.5], [5, 5]), (10, [0.3, 0.3, 0.4], [3, 3, 4]),
                                                    (11, [0.5, 0.5], [6, 5]), (7, [0.1, 0.2, 0.7], [1, 2, 4]),
                                                    (5, [1 / 3, 1 / 3, 1 / 3], [2, 2, 1])])
def test_random_split_fractions_as_pytorch(n, fractions, expected):
    parts = random_split(TensorDataset(np.arange(n)), fractions, generator=np.random.default_rng(0))
    assert [len(p) for p in parts] == expected
    assert sum(len(p) for p in parts) == n


def test_random_split_repeatable_with_manual_seed_and_errors():
    ds = TensorDataset(np.arange(30))
    ag.manual_seed(7)
    a = [p.indices.copy() for p in random_split(ds, [10, 20])]
    ag.manual_seed(7)
    b = [p.indices.copy() for p in random_split(ds, [10, 20])]
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(ValueError, match="sum to 29"):
        random_split(ds, [10, 19])
    with pytest.raises(ValueError, match="sum to 1"):
        random_split(ds, [0.5, 0.4])
    with pytest.raises(ValueError, match="non-negative"):
        random_split(ds, [-1, 31])


def test_subset_items_and_batched_loading():
    X, _, ds = make(10)
    sub = Subset(ds, [7, 2, 5])
    assert len(sub) == 3 and sub[0][1].item() == 70
    xb, yb = next(iter(DataLoader(sub, batch_size=3)))
    np.testing.assert_array_equal(yb.data, [70, 20, 50])
    np.testing.assert_array_equal(xb.data, X[[7, 2, 5]])
    nested = Subset(sub, [2, 0])
    np.testing.assert_array_equal(next(iter(DataLoader(nested, batch_size=2)))[1].data, [50, 70])


def test_seed_t3_batches_epochs_iterations():
    """Seed T3: 1000 samples with batch 100 give 10 iterations per epoch."""
    ds = TensorDataset(np.zeros((1000, 2), np.float32), np.zeros(1000, np.int64))
    loader = DataLoader(ds, batch_size=100, shuffle=True)
    assert len(loader) == 10 == sum(1 for _ in loader)
    assert math.ceil(1000 / 100) == len(loader)
