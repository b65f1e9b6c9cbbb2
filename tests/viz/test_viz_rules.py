"""Every registered Op class declares its local derivative rule (``rule``) next to its backward, and the
node interface hands it to drawings (``node.rule``)."""
import autograd as ag
from autograd.registry import covered_ops


def test_every_registered_op_declares_a_rule():
    missing = sorted(f"{c.__module__}.{c.__qualname__}" for c in covered_ops()
                     if not isinstance(getattr(c, "rule", None), str) or not c.rule.strip())
    assert not missing, f"Op classes without a `rule` next to their backward: {missing}"


def test_rule_reaches_the_node_interface():
    x = ag.tensor([0.5], requires_grad=True)
    assert x.tanh().grad_fn.rule == "∂tanh(u)/∂u = 1 − tanh²(u)"
    assert (x * x).grad_fn.rule.startswith("∂(a·b)/∂a = b")


def test_a_function_may_declare_its_own_rule():
    class Square(ag.Function):
        rule = "∂(x²)/∂x = 2x"

        @staticmethod
        def forward(ctx, a):
            ctx.save_for_backward(a)
            return a * a

        @staticmethod
        def backward(ctx, g):
            (a,) = ctx.saved_tensors
            return 2 * a * g

    class Cube(ag.Function):
        @staticmethod
        def forward(ctx, a):
            return a ** 3

        @staticmethod
        def backward(ctx, g):
            return g

    x = ag.tensor([3.0], requires_grad=True)
    assert Square.apply(x).grad_fn.rule == "∂(x²)/∂x = 2x"
    assert "Function's backward" in Cube.apply(x).grad_fn.rule  # a generic rule, never empty
