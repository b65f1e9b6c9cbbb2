"""Explained steps write out the local derivative for every op family (not only elementwise ones): the operand
a matrix product uses, the 1/n of a mean, the reshape/transpose back, softmax's correction; each checked against
a hand computation, and a description is never shown when it does not reproduce the gradient the engine sent."""
import numpy as np
from _vizdot import Dot

import autograd as ag
import nn
import viz
from viz._derive import derivation
from viz._format import one_line, value_text


def _line(stepper, name, i=0):
    """The caption line of input ``i`` in the backward step of the first op called ``name``."""
    f = next(f for f in stepper.frames if f.phase == "backward" and f.op.name == name)
    return next(ln for ln in f.details.splitlines() if ln.startswith(f"  input {i}"))


def _result(line):
    return np.array(eval(line.rsplit(" = ", 1)[1]))


def _text(a):
    return one_line(value_text(np.asarray(a), 12))


def test_the_seed_002_network_matrix_products_show_the_operand_they_multiply_by():
    """dz2 = a2 − y, dθ1 = a1ᵀ dz2, da1 = dz2 θ1ᵀ (the 3-4-1 network of notebook 10, by hand in NumPy)."""
    rng = np.random.default_rng(2)
    x, y = np.array([[1.0, 2.0, -1.0]]), np.array([[1.0]])
    th0, th1 = rng.normal(0, 0.5, (3, 4)), rng.normal(0, 0.5, (4, 1))
    theta0 = ag.Tensor(th0, requires_grad=True, name="theta0")
    theta1 = ag.Tensor(th1, requires_grad=True, name="theta1")
    a1 = (ag.Tensor(x, name="a0") @ theta0).sigmoid()
    a1.name = "a1"
    a2 = (a1 @ theta1).sigmoid()
    loss = -(y * a2.log() + (1 - y) * (1 - a2).log()).sum()
    s = viz.Stepper(loss, max_value_elements=12)
    A1 = 1 / (1 + np.exp(-x @ th0))
    A2 = 1 / (1 + np.exp(-A1 @ th1))
    dz2 = A2 - y
    line = next(ln for f in s.frames if f.phase == "backward" and f.op.name == "matmul"
                and f.op.inputs[1].tensor is theta1 for ln in f.details.splitlines() if ln.startswith("  input 1"))
    assert f"\u2202L/\u2202theta1 = a1\u1d40 \u00b7 g with a1\u1d40 = {_text(A1.T)} = " in line
    np.testing.assert_allclose(_result(line), A1.T @ dz2, atol=1e-4)
    f = next(f for f in s.frames if f.phase == "backward" and f.op.name == "matmul" and f.op.inputs[1].tensor is theta1)
    line0 = next(ln for ln in f.details.splitlines() if ln.startswith("  input 0"))
    assert f"g \u00b7 theta1\u1d40 with theta1\u1d40 = {_text(th1.T)} = " in line0
    np.testing.assert_allclose(_result(line0), dz2 @ th1.T, atol=1e-4)


def test_linear_shows_W_for_the_input_x_for_the_weight_and_a_row_sum_for_the_bias():
    ag.manual_seed(0)
    lin = nn.Linear(2, 2)
    x = ag.tensor([[1.0, -2.0], [0.5, 3.0]], requires_grad=True)
    c = np.array([[1.0, 2.0], [-1.0, 0.5]])
    s = viz.Stepper((lin(x) * c).sum(), names=lin)
    w = lin.weight.data
    l0, l1, l2 = (_line(s, "linear", i) for i in range(3))
    assert f"g \u00b7 weight with weight = {_text(w)}" in l0
    np.testing.assert_allclose(_result(l0), c @ w, atol=1e-4)
    assert f"g\u1d40 \u00b7 x with x = {_text(x.data)}" in l1
    np.testing.assert_allclose(_result(l1), c.T @ x.data, atol=1e-4)
    assert "g summed over its 2 row(s)" in l2
    np.testing.assert_allclose(_result(l2), c.sum(axis=0), atol=1e-4)


def test_reductions_broadcast_g_and_mean_scales_it_by_one_over_n():
    x = ag.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
    s = viz.Stepper((x.sum(axis=1) * ag.tensor([2.0, -1.0])).mean())
    mean, total = _line(s, "mean"), _line(s, "sum")
    assert "n = 2, 1/n = 0.5" in mean
    np.testing.assert_allclose(_result(mean), [0.5, 0.5])
    assert "g copied to every summed element (local derivative 1), (2,) \u2192 (2, 3)" in total
    np.testing.assert_allclose(_result(total), [[1.0] * 3, [-0.5] * 3])


def test_shape_ops_send_g_reshaped_and_transposed_back():
    x = ag.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    c = np.arange(6.0).reshape(3, 2) + 1
    s = viz.Stepper((x.transpose(1, 0) * c).reshape(6).sum())
    r, t = _line(s, "reshape"), _line(s, "transpose")
    assert "g reshaped (6,) \u2192 (3, 2)" in r
    np.testing.assert_allclose(_result(r), np.ones((3, 2)))  # sum sent ones
    assert "g transposed back with axes (1, 0)" in t
    np.testing.assert_allclose(_result(t), c.T)


def test_softmax_and_log_softmax_show_s_and_the_correction_term():
    z = np.array([[1.0, 2.0, 0.5]])
    sm = np.exp(z) / np.exp(z).sum()
    c = np.array([[1.0, 0.0, -2.0]])
    x = ag.tensor(z, requires_grad=True)
    line = _line(viz.Stepper((ag.softmax(x, axis=1) * c).sum()), "softmax")
    gs = (c * sm).sum()
    assert f"s = softmax = {_text(sm)}" in line and f"\u03a3 g\u2299s = {_text([[gs]])}" in line
    np.testing.assert_allclose(_result(line), sm * (c - gs), atol=1e-4)
    line = _line(viz.Stepper((ag.log_softmax(x, axis=1) * c).sum()), "log_softmax")
    assert f"s = softmax = {_text(sm)}" in line and f"\u03a3g = {_text([[c.sum()]])}" in line
    np.testing.assert_allclose(_result(line), c - sm * c.sum(), atol=1e-4)


def test_indexing_places_g_at_the_selected_positions():
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    line = _line(viz.Stepper((x[1] * ag.tensor([3.0, -1.0])).sum()), "getitem")
    assert "g placed at the selected positions" in line
    np.testing.assert_allclose(_result(line), [[0.0, 0.0], [3.0, -1.0]])


def test_no_description_when_it_would_not_reproduce_the_sent_gradient():
    a = ag.tensor([[1.0, 2.0]], requires_grad=True)
    b = ag.tensor([[3.0], [4.0]], requires_grad=True)
    op = (a @ b).grad_fn
    g = np.array([[2.0]])
    assert derivation(op, 0, g, g @ b.data.T, ["a", "b"], 8).startswith("g \u00b7 b\u1d40")
    assert derivation(op, 0, g, 2 * g @ b.data.T, ["a", "b"], 8) is None  # a wrong value is never explained
    line = _line(viz.Stepper((a * a).sum() + ag.logsumexp(a, axis=1).sum()), "logsumexp")
    assert "rule" not in line and line.count(" = ") == 1  # no formatter: the rule line plus the gradient sent


def test_draw_backward_edges_write_the_product_out_after_a_recorded_backward():
    a = ag.tensor([[1.0, 2.0]], requires_grad=True, name="a")
    b = ag.tensor([[3.0], [-4.0]], requires_grad=True, name="b")
    loss = ((a @ b) * ag.tensor([[2.0]])).sum()
    with viz.record():
        loss.backward()
    d = Dot(viz.draw_backward(loss).source)
    (mm,) = d.by_label_start("matmul backward")
    labels = {d.lines(dst)[0]: attrs["label"] for src, dst, attrs in d.edges if src == mm}
    assert labels["accumulate into b"] == "∂L/∂in1 = aᵀ · g with aᵀ = [[1.], [2.]] = [[2.], [4.]]"
    assert labels["accumulate into a"] == "∂L/∂in0 = g · bᵀ with bᵀ = [[ 3., -4.]] = [[ 6., -8.]]"


def test_draw_backward_edges_of_elementwise_ops_show_the_local_derivative():
    u = ag.tensor([0.5, -1.0], requires_grad=True, name="u")
    loss = (u.tanh() * ag.tensor([2.0, 3.0])).sum()
    with viz.record():
        loss.backward()
    d = Dot(viz.draw_backward(loss).source)
    (node,) = d.by_label_start("tanh backward")
    (edge,) = [attrs["label"] for src, _, attrs in d.edges if src == node]
    local = 1 - np.tanh([0.5, -1.0]) ** 2  # ∂tanh(u)/∂u by hand
    assert edge.startswith(f"∂L/∂in0 = g ⊙ {_text(local)} = ")
    np.testing.assert_allclose(_result(edge), [2.0, 3.0] * local, atol=1e-4)
