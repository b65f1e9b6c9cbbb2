# %% [markdown]
# # 09 · Checking gradients: gradcheck, a wrong backward caught, property tests
#
# Concepts: T1, A3
#
# Back-propagation (T1) is only as good as each node's local derivative. This notebook shows the
# three tools graphgrad gives you to trust a gradient you wrote yourself:
#
# 1. `autograd.gradcheck` compares the Jacobian back-propagation computes with central finite
#    differences, $\frac{f(x + \varepsilon) - f(x - \varepsilon)}{2\varepsilon}$, element by element;
# 2. the same check catches a custom `Function` whose backward is wrong, and says where;
# 3. `autograd.testing` turns it into a property test: hypothesis draws many inputs (shapes and
#    values) from a *domain* and every one must pass — with the domain chosen to stay away from kinks
#    such as ReLU's at 0 (A3), where finite differences and derivatives disagree by design.

# %%
import numpy as np
from hypothesis import given, settings

import autograd as ag
from autograd.gradcheck import GradcheckError
from autograd.testing import check_gradients, domain, tensors

rng = np.random.default_rng(9)

# %% [markdown]
# ## gradcheck on a function of our own
#
# A small layer, $f(x, W) = \sum \tanh(xW)$. Finite differences need float64: in float32 the
# rounding error of $f(x \pm \varepsilon)$ is larger than the difference itself.

# %%
def layer(x, w):
    return (x @ w).tanh().sum()


x = ag.Tensor(rng.normal(size=(2, 3)), requires_grad=True)
w = ag.Tensor(rng.normal(size=(3, 4)), requires_grad=True)
assert ag.gradcheck(layer, (x, w))
assert ag.gradgradcheck(layer, (x, w))       # second derivatives too (a Hessian-vector product)
assert x.grad is None and w.grad is None     # checking leaves the inputs' .grad alone
print("tanh layer: first and second derivatives agree with finite differences")

# %% [markdown]
# By hand, for one element: $\partial f/\partial W_{ij} = \sum_n x_{ni}(1 - \tanh^2(xW)_{nj})$.
# One backward gives all twelve at once, and they are the same numbers.

# %%
layer(x, w).backward()
by_hand = x.data.T @ (1 - np.tanh(x.data @ w.data) ** 2)
assert np.allclose(w.grad.data, by_hand)
print(np.round(w.grad.data, 4))

# %% [markdown]
# ## A wrong custom backward, caught
#
# `softplus(x) = ln(1 + eˣ)` has derivative $\sigma(x)$. A slip that is easy to make writes
# $\sigma(-x)$ instead (the derivative of $\ln(1 + e^{-x})$). Forward values are right, so training
# would run — just downhill in the wrong direction for some weights. gradcheck refuses it and names
# the worst element.

# %%
def sigmoid(a):
    return 1 / (1 + np.exp(-a))


class WrongSoftplus(ag.Function):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.logaddexp(0, a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * sigmoid(-a)                   # the bug: should be sigmoid(a)


class Softplus(ag.Function):
    rule = "∂softplus(u)/∂u = σ(u)"              # shown by viz.Stepper / draw_backward at this node

    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return np.logaddexp(0, a)

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return g * sigmoid(a)


u = ag.Tensor(np.array([-1.5, 0.3, 2.0]), requires_grad=True)
try:
    ag.gradcheck(WrongSoftplus.apply, (u,))
    caught = None
except GradcheckError as e:
    caught = str(e)
assert caught is not None
print(caught)
assert ag.gradcheck(Softplus.apply, (u,))
assert np.allclose(Softplus.apply(u).data, WrongSoftplus.apply(u).data)   # same forward: only backward differs

# %% [markdown]
# ## Property tests: many inputs, drawn from a domain
#
# One point proves little; a bug may hide at some shapes or signs. `autograd.testing.tensors` is a
# hypothesis strategy that draws float64 Tensors of small random shapes with values from a domain,
# and `check_gradients` runs gradcheck and gradgradcheck on each. Here: our layer's nonlinearity as a
# user function, and the `Softplus` Function (a `Function`'s backward is NumPy, so it is once
# differentiable: order 1).

# %%
examples = []


@settings(max_examples=25, deadline=None, database=None)
@given(tensors(domain="real"))
def test_user_function(t):
    examples.append(t.shape)
    check_gradients(lambda a: (a.tanh() * a).sum(), t)


@settings(max_examples=25, deadline=None, database=None)
@given(tensors(domain="real"))
def test_softplus_function(t):
    check_gradients(Softplus.apply, t, order=1)


test_user_function()
test_softplus_function()
assert len(examples) >= 25 and len(set(examples)) > 3       # many shapes were tried
print("shapes tried:", sorted(set(examples), key=len)[:8], "...")

# %% [markdown]
# The wrong backward fails the property at once; hypothesis then shrinks the failing input to a
# simplest one.

# %%
@settings(max_examples=25, deadline=None, database=None)
@given(tensors(domain="real"))
def test_wrong_softplus(t):
    check_gradients(WrongSoftplus.apply, t, order=1)


try:
    test_wrong_softplus()
    failed = False
except GradcheckError as e:
    failed = True
    print(str(e).splitlines()[0])
assert failed

# %% [markdown]
# ## Kinks, and why the domain avoids them
#
# ReLU (A3) and $|x|$ have a kink at 0: the derivative jumps from one value to another. Finite
# differences with step ε straddle the kink for any $|x| < ε$ and report an average of the two
# slopes, which is neither. At $x = 3\cdot10^{-7}$ (ε = 10⁻⁶) the numeric slope of $|x|$ is
# $x/ε = 0.3$, while the derivative is exactly 1: a correct backward *fails* there.

# %%
near_kink = ag.Tensor(np.array([3e-7]), requires_grad=True)
try:
    ag.gradcheck(lambda a: a.abs(), (near_kink,))
    kink_failed = False
except GradcheckError:
    kink_failed = True
assert kink_failed                                          # not a bug in abs: a kink inside the stencil
assert ag.gradcheck(lambda a: a.abs(), (ag.Tensor(np.array([0.5, -0.7]), requires_grad=True),))

# %% [markdown]
# So the op registry gives every op the domain on which it is smooth, and the property tests draw only
# from there. `nonzero` keeps every value at least `margin` away from the kink at 0, so the stencil
# $x \pm ε$ never crosses it; the `positive` domain keeps `log` and `sqrt` away from 0 and their poles.

# %%
nonzero = domain("nonzero")
print(nonzero)
assert nonzero.avoid == (0.0,) and nonzero.margin >= 100 * 1e-6
assert not nonzero.contains(near_kink.data) and nonzero.contains([0.5, -0.7])


@settings(max_examples=25, deadline=None, database=None)
@given(tensors(domain="nonzero"))
def test_relu_away_from_its_kink(t):
    check_gradients(lambda a: (a.relu() * a).sum(), t)     # (relu(a)·a)'' = 2 for a > 0, 0 below: a kink at 0


test_relu_away_from_its_kink()

# %% [markdown]
# The same machinery checks every op graphgrad ships: `tests/autograd/test_property_gradients.py`
# runs first and second order gradchecks on inputs drawn from each registry entry's domains. In a
# deep net each layer's local derivative multiplies into the gradient (T7), so one wrong local rule
# corrupts every gradient below it — which is why each rule is checked on its own.
