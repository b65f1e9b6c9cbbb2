"""ResidualBlock (SEEDS C6): identity or 1×1-conv shortcut, and PyTorch parity with weights loaded key for key."""
import numpy as np
import pytest

import autograd as ag
import nn

RNG = np.random.default_rng(2)


def test_shortcut_is_identity_only_when_the_shape_is_kept():
    assert isinstance(nn.ResidualBlock(8, 8).shortcut, nn.Identity)
    for block in (nn.ResidualBlock(8, 16), nn.ResidualBlock(8, 8, stride=2)):
        conv, bn = block.shortcut
        assert isinstance(conv, nn.Conv2d) and conv.kernel_size == (1, 1) and isinstance(bn, nn.BatchNorm2d)
    assert nn.ResidualBlock(4, 8, stride=2)(ag.zeros((2, 4, 9, 9))).shape == (2, 8, 5, 5)


def test_identity_block_adds_its_input_before_the_last_relu():
    block = nn.ResidualBlock(3, 3, dtype=np.float64)
    with ag.no_grad():
        block.bn2.weight.zero_()  # the residual branch gives bn2's bias (zero): the block is relu(x)
    x = RNG.standard_normal((2, 3, 5, 5))
    np.testing.assert_allclose(block(x).data, np.maximum(x, 0), atol=1e-12)


def _torch_block(torch, block):
    tnn = torch.nn

    class Block(tnn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.conv1 = tnn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = tnn.BatchNorm2d(cout)
            self.conv2 = tnn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = tnn.BatchNorm2d(cout)
            self.shortcut = tnn.Sequential(tnn.Conv2d(cin, cout, 1, stride, bias=False), tnn.BatchNorm2d(cout)) \
                if stride != 1 or cin != cout else tnn.Identity()

        def forward(self, x):
            h = torch.relu(self.bn1(self.conv1(x)))
            return torch.relu(self.bn2(self.conv2(h)) + self.shortcut(x))

    theirs = Block(block.conv1.in_channels, block.conv1.out_channels, block.conv1.stride[0]).double()
    theirs.load_state_dict({k: torch.tensor(np.asarray(v)) for k, v in block.state_dict().items()})
    return theirs


@pytest.mark.parametrize("cin, cout, stride", [(4, 4, 1), (4, 6, 1), (4, 6, 2)])
def test_residual_block_matches_pytorch(cin, cout, stride):
    torch = pytest.importorskip("torch")
    block = nn.ResidualBlock(cin, cout, stride, dtype=np.float64)
    theirs = _torch_block(torch, block)
    x = RNG.standard_normal((3, cin, 6, 6))
    xt, tx = ag.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = block(xt), theirs(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-9, atol=1e-10)
    g = RNG.standard_normal(out.shape)
    out.backward(g)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(xt.grad.data, tx.grad.numpy(), rtol=1e-8, atol=1e-10)
    tparams = dict(theirs.named_parameters())
    for name, p in block.named_parameters():
        np.testing.assert_allclose(p.grad.data, tparams[name].grad.numpy(), rtol=1e-8, atol=1e-10, err_msg=name)
    block.eval()
    theirs.eval()
    np.testing.assert_allclose(block(x).data, theirs(torch.tensor(x)).detach().numpy(), rtol=1e-9, atol=1e-10)
