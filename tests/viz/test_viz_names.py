"""Parameters are labelled with their state_dict keys and backward nodes with their layer, found through
the modules the ops ran in; explicit names= (a mapping or a Module) and Tensor.name take precedence."""
import numpy as np
import pytest

import autograd as ag
import nn
import nn.functional as F
import viz

from ._vizdot import Dot


def _mlp_loss():
    ag.manual_seed(3)
    model = nn.MLP([2, 3, 2])
    x = ag.tensor(np.array([[0.5, -1.0], [2.0, 0.25]], dtype=np.float32))
    y = ag.tensor(np.array([0, 1]))
    return model, x, F.cross_entropy(model(x), y)


def test_forward_graph_names_parameters_by_state_dict_key():
    model, _, loss = _mlp_loss()
    d = Dot(viz.draw_graph(loss).source)
    firsts = {d.lines(n)[0]: n for n in d.nodes}
    for key, p in model.named_parameters():
        node = firsts[key]  # "0.weight", "0.bias", "2.weight", "2.bias"
        assert d.lines(node)[1] == f"({', '.join(map(str, p.shape))}{',' if p.ndim == 1 else ''}) float32"
    assert "parameter" not in firsts
    # the op tooltip says which layer ran it
    matmuls = [n for n in d.nodes if d.lines(n)[0] == "linear"]  # nn.Linear's one fused node
    assert sorted(d.nodes[n]["tooltip"].split(", in ")[1] for n in matmuls) == ["0 (Linear)", "2 (Linear)"]


def test_backward_graph_names_leaves_and_layers_after_record():
    model, _, loss = _mlp_loss()
    with viz.record():
        loss.backward()
    d = Dot(viz.draw_backward(loss).source)
    firsts = {d.lines(n)[0]: n for n in d.nodes}
    for key, p in model.named_parameters():
        node = firsts[f"accumulate into {key}"]
        grad = " ".join(d.lines(node)[2:])[5:]
        np.testing.assert_allclose(np.array(eval(grad)), p.grad.data, atol=1e-4)
    layer_of = {d.lines(n)[0]: d.lines(n)[1] for n in d.nodes if len(d.lines(n)) > 1
                and d.lines(n)[1].startswith("in ")}
    assert layer_of["relu backward"] == "in 1 (ReLU)"
    assert firsts["start: \u2202output/\u2202output"]
    # the loss ran outside any module: no location line
    assert not any(ln.startswith("in ") for ln in d.lines(firsts["softmax_cross_entropy backward"]))


def test_explicit_names_and_tensor_name_take_precedence():
    model, x, _ = _mlp_loss()
    model[0].bias.name = "b_hidden"
    out = model(x).sum()
    d = Dot(viz.draw_graph(out, names={"W_hidden": model[0].weight}).source)
    firsts = {d.lines(n)[0] for n in d.nodes}
    assert {"W_hidden", "b_hidden", "2.weight", "2.bias"} <= firsts
    model[0].bias.name = None


def test_names_may_be_the_model_itself():
    model, x, _ = _mlp_loss()
    inner = model[0]
    out = inner(x).sum()  # the scope only knows the Linear: its keys are 'weight' and 'bias'
    alone = Dot(viz.draw_graph(out).source)
    assert {"weight", "bias"} <= {alone.lines(n)[0] for n in alone.nodes}
    d = Dot(viz.draw_graph(out, names=model).source)
    assert {"0.weight", "0.bias"} <= {d.lines(n)[0] for n in d.nodes}
    with pytest.raises(TypeError, match="names must be a Module or a mapping"):
        viz.draw_graph(out, names=[inner.weight])


def test_two_models_get_prefixed_names():
    ag.manual_seed(0)
    enc, dec = nn.Linear(2, 2), nn.Sequential(nn.Linear(2, 1))
    out = dec(enc(ag.ones((1, 2)))).sum()
    d = Dot(viz.draw_graph(out).source)
    expected = {"Linear.weight", "Linear.bias", "Sequential.0.weight", "Sequential.0.bias"}
    assert expected <= {d.lines(n)[0] for n in d.nodes}


def test_stepper_frames_show_parameter_names():
    model, _, loss = _mlp_loss()
    s = viz.Stepper(loss)
    d = Dot(s.frames[0].drawing.source)
    assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= {d.lines(n)[0] for n in d.nodes}
    last = Dot(s.frames[-1].drawing.source)
    assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= {last.lines(n)[0] for n in last.nodes}


def test_stepper_and_draw_backward_take_the_model_as_names():
    model, x, _ = _mlp_loss()
    out = model[0](x).sum()  # run the Linear alone: only the model knows the key '0.weight'
    s = viz.Stepper(out, names=model)
    d = Dot(s.frames[0].drawing.source)
    assert {"0.weight", "0.bias"} <= {d.lines(n)[0] for n in d.nodes}
    b = Dot(viz.draw_backward(out, names=model).source)
    assert {"accumulate into 0.weight", "accumulate into 0.bias"} <= {b.lines(n)[0] for n in b.nodes}
