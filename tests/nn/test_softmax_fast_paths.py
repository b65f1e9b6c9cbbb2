"""The fast paths of the softmax family: log-sum-exp over short rows reduced on their transpose (64 rows or more
of at most 32 columns), and cross_entropy's plain backward from the softmax its forward saved. Each is checked
against an independent NumPy computation, against the general path, and by gradcheck to second order."""
import warnings

import numpy as np
import pytest

import autograd as ag
import nn
from autograd.ops.reduce import _shifted_lse, _short_rows, finite_max
from autograd.testing import check_gradients


def _lse_reference(a):
    """log(sum(exp(a))) over the last axis in float64, by the textbook shift."""
    a = a.astype(np.float64)
    m = a.max(axis=-1, keepdims=True)
    return m + np.log(np.exp(a - m).sum(axis=-1, keepdims=True))


@pytest.mark.parametrize("shape", [(64, 1), (200, 10), (130, 32), (4, 30, 5)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_short_rows_match_the_reference_and_keep_the_dtype(shape, dtype):
    a = (np.random.default_rng(0).standard_normal(shape) * 30).astype(dtype)
    assert _short_rows(a, (a.ndim - 1,))
    m, log_sum = _shifted_lse(a, (a.ndim - 1,))
    assert m.shape == log_sum.shape == shape[:-1] + (1,)
    assert m.dtype == log_sum.dtype == dtype
    np.testing.assert_array_equal(m, a.max(axis=-1, keepdims=True))  # the max is exact, in either layout
    np.testing.assert_allclose(m + log_sum, _lse_reference(a), rtol=1e-6 if dtype == np.float32 else 1e-13)


def test_short_rows_only_where_they_pay():
    a = np.zeros((64, 10))
    assert not _short_rows(a, (0,))  # not the last axis
    assert not _short_rows(a[:63], (1,))  # too few rows
    assert not _short_rows(np.zeros((64, 33)), (1,))  # rows too long
    assert not _short_rows(np.asfortranarray(a), (1,))  # not C-ordered (its transpose is already fast)
    assert not _short_rows(np.zeros((64, 0)), (1,))  # empty rows: the general path's -inf
    assert not _short_rows(np.zeros((2, 64, 10)), (1, 2))  # more than one axis


def test_short_rows_with_infinities_and_nan_give_what_the_general_path_gives():
    a = np.random.default_rng(1).standard_normal((80, 6))
    a[3] = -np.inf           # all -inf: log-sum-exp is -inf
    a[5, 2] = np.inf         # an inf: +inf
    a[7, 1] = np.nan         # a NaN: NaN
    a[9, :3] = -np.inf       # some -inf: the finite part's
    fast = _shifted_lse(a, (1,))
    general = _shifted_lse(np.asfortranarray(a), (1,))  # (not C-ordered: the general path)
    for f, g in zip(fast, general):
        np.testing.assert_array_equal(f, g)
    total = fast[0] + fast[1]
    assert total[3, 0] == -np.inf and total[5, 0] == np.inf and np.isnan(total[7, 0])
    np.testing.assert_allclose(total[9, 0], _lse_reference(a[9:10, 3:])[0, 0])


@pytest.mark.parametrize("fn", [lambda x: ag.logsumexp(x, axis=1), lambda x: ag.log_softmax(x, axis=1),
                                lambda x: nn.functional.cross_entropy(x, np.arange(64) % 3)],
                         ids=["logsumexp", "log_softmax", "cross_entropy"])
def test_gradients_on_the_short_rows_path_first_and_second_order(fn):
    x = ag.tensor(np.random.default_rng(2).standard_normal((64, 3)), requires_grad=True)
    assert _short_rows(x.data, (1,))
    check_gradients(fn, x)


def _cross_entropy_by_hand(z, t, ignore_index):
    """The mean loss over the counted rows and its gradient, in float64 NumPy."""
    z = z.astype(np.float64)
    logp = z - z.max(axis=1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
    counted = t != ignore_index
    rows, cls = np.arange(len(t))[counted], t[counted]
    loss = -logp[rows, cls].sum() / counted.sum()
    grad = np.exp(logp) * counted[:, None]
    grad[rows, cls] -= 1
    return loss, grad / counted.sum()


@pytest.mark.parametrize("ignore_index", [-100, 2, 10])
def test_cross_entropy_plain_backward_matches_by_hand(ignore_index):
    rng = np.random.default_rng(3)
    z = rng.standard_normal((128, 10)).astype(np.float32) * 4
    t = rng.integers(0, 10, 128)
    x = ag.tensor(z, requires_grad=True)
    loss = nn.functional.cross_entropy(x, t, ignore_index=ignore_index)
    loss.backward()
    want_loss, want_grad = _cross_entropy_by_hand(z, t, ignore_index)
    assert loss.dtype == x.grad.dtype == np.float32
    np.testing.assert_allclose(loss.item(), want_loss, rtol=1e-5)
    np.testing.assert_allclose(x.grad.data, want_grad, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_plain_and_recorded_backward_agree(reduction):
    rng = np.random.default_rng(4)
    z = rng.standard_normal((70, 5))
    t = rng.integers(0, 5, 70)
    t[4] = -100
    x = ag.tensor(z, requires_grad=True)
    out = nn.functional.cross_entropy(x, t, reduction=reduction)
    v = np.ones(out.shape)
    out.backward(v, retain_graph=True)
    plain, x.grad = x.grad, None
    out.backward(v, create_graph=True)
    recorded = x.grad
    assert recorded.requires_grad  # recorded: its own derivative can be taken
    np.testing.assert_allclose(plain.data, recorded.data, rtol=1e-12, atol=1e-15)
    assert np.all(plain.data[4] == 0)  # the ignored row


def test_cross_entropy_fast_target_check_still_names_bad_classes():
    x = ag.tensor(np.zeros((128, 10)), requires_grad=True)
    with pytest.raises(ValueError, match=r"cross_entropy: target class indices must be in \[0, 10\).*\[10\]"):
        nn.functional.cross_entropy(x, np.full(128, 10))
    with pytest.raises(ValueError, match=r"\[-1\]"):
        nn.functional.cross_entropy(x, np.r_[np.zeros(127, int), -1])
    # an ignore_index inside [0, C) is honoured, not taken for a class
    t = np.r_[np.full(64, 3), np.zeros(64, int)]
    loss = nn.functional.cross_entropy(ag.tensor(np.random.default_rng(5).standard_normal((128, 10))), t,
                                       ignore_index=3, reduction="none")
    assert np.all(loss.data[:64] == 0) and np.all(loss.data[64:] > 0)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("ignored", [False, True], ids=["every row counts", "two rows ignored"])
def test_cross_entropy_on_a_transposed_copy_matches_the_general_layout(reduction, ignored):
    """Short rows are reduced down the columns of a transposed copy and the plain gradient comes back as the
    transpose of a (classes, rows) array: the loss and gradient equal the general (row-by-row) path's."""
    rng = np.random.default_rng(6)
    z = rng.standard_normal((96, 7)) * 3
    t = rng.integers(0, 7, 96)
    if ignored:
        t[[2, 50]] = -100
    fast, general = ag.tensor(z, requires_grad=True), ag.tensor(np.asfortranarray(z), requires_grad=True)
    assert _short_rows(fast.data, (1,)) and not _short_rows(general.data, (1,))
    results = []
    for x in (fast, general):
        out = nn.functional.cross_entropy(x, t, reduction=reduction)
        out.backward(np.linspace(0.5, 1.5, out.size).reshape(out.shape) if out.ndim else np.ones(()))  # per row
        results.append((out.data, x.grad.data))
    (loss_fast, grad_fast), (loss_general, grad_general) = results
    np.testing.assert_allclose(loss_fast, loss_general, rtol=1e-14)
    np.testing.assert_allclose(grad_fast, grad_general, rtol=1e-13, atol=1e-16)
    if reduction == "mean":
        want_loss, want_grad = _cross_entropy_by_hand(z, t, -100)
        np.testing.assert_allclose(loss_fast, want_loss, rtol=1e-13)
        np.testing.assert_allclose(grad_fast, want_grad, rtol=1e-12, atol=1e-16)
    if ignored:
        assert np.all(grad_fast[[2, 50]] == 0)


def test_cross_entropy_row_of_minus_infinity_is_nan_on_both_layouts():
    z = np.random.default_rng(7).standard_normal((80, 6))
    z[3] = -np.inf  # no class is possible: NaN, as PyTorch gives (with NumPy's invalid-value warning)
    t = np.zeros(80, int)
    for x in (z, np.asfortranarray(z)):
        with pytest.warns(RuntimeWarning, match="invalid value"):
            loss = nn.functional.cross_entropy(ag.tensor(x), t, reduction="none").data
        assert np.isnan(loss[3]) and np.all(np.isfinite(np.delete(loss, 3)))


@pytest.mark.parametrize("dtype", [np.int8, np.uint8, np.int32, ">i8", "<i8", np.uint64])
def test_cross_entropy_target_check_in_every_integer_dtype(dtype):
    """The fast range check takes one max over the targets viewed as unsigned (a negative becomes huge): every
    integer dtype and byte order gives the int64 loss, and a negative or too-large class still raises."""
    z = np.random.default_rng(8).standard_normal((70, 5))
    t = np.arange(70) % 5
    want = nn.functional.cross_entropy(ag.tensor(z), t).data
    np.testing.assert_array_equal(nn.functional.cross_entropy(ag.tensor(z), t.astype(dtype)).data, want)
    too_big = t.astype(dtype)
    too_big[9] = 5
    with pytest.raises(ValueError, match=r"cross_entropy: target class indices must be in \[0, 5\).*\[5\]"):
        nn.functional.cross_entropy(ag.tensor(z), too_big)
    if np.dtype(dtype).kind == "i":
        negative = t.astype(dtype)
        negative[9] = -1
        with pytest.raises(ValueError, match=r"\[-1\]"):
            nn.functional.cross_entropy(ag.tensor(z), negative)


def test_finite_max_replaces_infinities_and_nan_by_zero_without_a_warning():
    """The shift is the max where it is finite and 0 where not (an inf, a NaN, an all -inf row); finding that
    out raises no floating-point warning, even where inf and -inf maxima meet."""
    b = np.array([[1.0, np.inf], [-np.inf, -np.inf], [2.0, 3.0], [np.nan, 0.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m, finite = finite_max(b, (1,))
        assert not finite
        np.testing.assert_array_equal(m[:, 0], [0.0, 0.0, 3.0, 0.0])
        m, finite = finite_max(np.array([[1.0, 2.0], [5.0, -1.0]], dtype=np.float16), (1,))
        assert finite and m.dtype == np.float16
        np.testing.assert_array_equal(m[:, 0], [2.0, 5.0])
