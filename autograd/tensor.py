"""``Tensor``: an ndarray, its gradient, and a link to the graph node that produced it.

Tensor is thin on purpose: every method and operator below is one line of sugar over a
function in ``autograd.ops``, where the op logic (forward and backward) lives.

Memory is shared, not copied: ``Tensor(ndarray)``, ``from_numpy``, ``.data``, ``.numpy()`` and
``detach()`` all refer to the same array. Each Tensor carries a version counter (``_version``),
shared with its views and detached copies, that the library's in-place writes bump (``copy_``,
``add_`` and the other ``*_`` methods, assigning ``.data``, optimiser steps, ``nn.init``); a
backward that needs a value saved before such a write raises instead of using the new value. A value
computed by a recorded op is handed out read-only (``.data``, ``.numpy()``, ``np.asarray``,
``detach()``), so writing into it fails at once; writes into a leaf's ``.data`` with NumPy are not
tracked (use the ``*_`` methods).
"""
from __future__ import annotations

import itertools
import weakref

import numpy as np

from . import dtypes
from .mode import state

# One clock for graph nodes (their creation order) and in-place writes (a value's last change), so a
# backward can tell whether a value it saved was changed after its node was recorded.
clock = itertools.count()


class Tensor:
    """A NumPy array that records the operations applied to it when it requires grad."""

    __slots__ = ("_data", "grad", "requires_grad", "grad_fn", "_index", "_name", "_hooks", "_vbox", "__weakref__")
    __array_ufunc__ = None  # make NumPy defer to Tensor's reflected operators (ndarray * Tensor)
    __hash__ = object.__hash__  # identity hashing; == is elementwise

    def __init__(self, data, requires_grad=False, dtype=None, name=None):
        self._data = dtypes.to_array(data, dtype)
        self.grad = None
        self.grad_fn = None
        self._index = 0
        self._name = name
        self._hooks = None
        self._vbox = None
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @classmethod
    def _wrap(cls, data, grad_fn=None, index=0, vbox=None):
        """Fast internal constructor: wrap an ndarray (an op's output ``index``) without conversion."""
        t = object.__new__(cls)
        t._data = data
        t.grad = None
        t.grad_fn = grad_fn
        t._index = index
        t.requires_grad = grad_fn is not None
        t._name = None
        t._hooks = None
        t._vbox = vbox
        return t

    def _version_box(self):
        """``[writes, clock at the last write]``, shared with views of this tensor; created on first need."""
        if self._vbox is None:
            self._vbox = [0, -1]
        return self._vbox

    def _updated(self):
        """Count an in-place change of the value (and stamp it with the clock); returns self."""
        box = self._version_box()
        box[0] += 1
        box[1] = next(clock)
        return self

    # ------------------------------------------------------------------ attributes
    @property
    def data(self) -> np.ndarray:
        """The ndarray (shared, not copied; a read-only view for a value computed by a recorded op).
        Assigning a new array counts as an in-place change."""
        return self._data if self.grad_fn is None else read_only(self._data)

    @data.setter
    def data(self, value):
        if isinstance(value, Tensor):
            value = value._data
        if not isinstance(value, np.ndarray):
            raise TypeError(f"Tensor.data: expected an ndarray or a Tensor, got {type(value).__name__}")
        self._data = value
        self._updated()

    shape = property(lambda self: self._data.shape, doc="Tuple of axis lengths.")
    ndim = property(lambda self: self._data.ndim, doc="Number of axes.")
    size = property(lambda self: self._data.size, doc="Number of elements.")
    dtype = property(lambda self: self._data.dtype, doc="NumPy dtype of the data.")
    is_leaf = property(lambda self: self.grad_fn is None,
                       doc="True for tensors not produced by a recorded op (inputs, parameters).")
    _version = property(lambda self: self._vbox[0] if self._vbox is not None else 0,
                        doc="How many in-place changes this tensor's value has had (shared with its views).")
    output_index = property(lambda self: self._index, doc="Which output of ``grad_fn`` this tensor is (0 for most).")

    @property
    def name(self):
        """Optional label shown in drawings; for op outputs it is kept on the graph node."""
        if self.grad_fn is not None and self._name is None:
            return self.grad_fn.output_name(self._index)
        return self._name

    @name.setter
    def name(self, value):
        self._name = value
        if self.grad_fn is not None:
            self.grad_fn._set_output_name(self._index, value)

    @property
    def T(self):
        """The tensor with its axes reversed."""
        return ops.transpose(self)

    # ------------------------------------------------------------------ autograd
    def backward(self, gradient=None, retain_graph=False, create_graph=False, inputs=None):
        """Accumulate d(self)/d(leaf) into ``.grad`` of every leaf that requires grad.

        ``gradient`` is required unless self has one element; it is d(loss)/d(self).
        ``retain_graph`` keeps saved values for another backward; ``create_graph``
        records the backward so ``.grad`` can be differentiated again. With ``inputs`` (a Tensor or
        a sequence of them) only their ``.grad`` is accumulated.
        """
        if gradient is None:
            if self._data.size != 1:
                raise RuntimeError(f"backward: grad can be implicitly created only for tensors with one element, "
                                   f"but this tensor has shape {self.shape}; pass gradient= of that shape")
            g = np.empty(self._data.shape, dtype=self._data.dtype)  # (np.ones is a Python wrapper: ~0.5 µs more)
            g.fill(1)
        else:
            g = _gradient_array(gradient, self)
            if create_graph and isinstance(gradient, Tensor):
                g = gradient if gradient.dtype == self.dtype else gradient.astype(self.dtype)
        if inputs is not None:
            inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
            if not inputs or not all(isinstance(t, Tensor) for t in inputs):
                raise TypeError("backward: inputs must be a Tensor or a non-empty sequence of Tensors")
        engine.backward_into_grads([self], [g], retain_graph=retain_graph or create_graph,
                                   create_graph=create_graph, inputs=inputs)

    def detach(self):
        """A new leaf sharing this data (and its version counter), cut from the graph (read-only if recorded)."""
        data = self._data if self.grad_fn is None else read_only(self._data)
        return Tensor._wrap(data, vbox=self._version_box())

    def requires_grad_(self, flag=True):
        """Set ``requires_grad`` in place (leaves only) and return self."""
        if self.grad_fn is not None and not flag:
            raise RuntimeError("requires_grad_: cannot turn off requires_grad on a non-leaf tensor; use detach()")
        if flag and not dtypes.is_floating(self._data.dtype):
            raise TypeError(f"requires_grad_: only floating-point tensors can require gradients, got {self.dtype}")
        self.requires_grad = bool(flag)
        return self

    def retain_grad(self):
        """Keep ``.grad`` for this non-leaf tensor after backward (leaves always keep it)."""
        if self.grad_fn is None:
            if not self.requires_grad:
                raise RuntimeError("retain_grad: tensor does not require grad")
            return
        self.grad_fn._retain(self._index, weakref.ref(self))

    def register_hook(self, fn):
        """Call ``fn(grad)`` when this tensor's gradient is computed; a returned Tensor replaces it.

        Returns a handle with ``.remove()``.
        """
        if not callable(fn):
            raise TypeError(f"register_hook: the hook must be callable (fn(grad) -> grad or None), got {fn!r}")
        if not self.requires_grad:
            raise RuntimeError("register_hook: cannot register a hook on a tensor that does not require grad")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            hooks = self.grad_fn._output_hooks(self._index)
        hooks.append(fn)
        return _HookHandle(hooks, fn)

    # ------------------------------------------------------------------ in-place updates (tracked, not recorded)
    def _check_inplace(self, name):
        if self.grad_fn is not None:
            raise RuntimeError(f"{name}: this tensor is the output of recorded op '{self.grad_fn.name}'; in-place "
                               "changes to recorded values are not supported (compute a new tensor instead)")
        if self.requires_grad and state.grad_enabled:
            raise RuntimeError(f"{name}: a leaf tensor that requires grad cannot be changed in place while grad "
                               "mode is on; do it inside autograd.no_grad() (as optimisers and nn.init do)")
        if not self._data.flags.writeable:
            raise RuntimeError(f"{name}: this tensor's array is read-only (shape {self.shape}); it is shared with "
                               "a value that must not change (a recorded op's output or a broadcast view)")

    def copy_(self, src):
        """Overwrite the values with ``src`` (broadcast to this shape, cast to this dtype); returns self."""
        self._check_inplace("copy_")
        src = src._data if isinstance(src, Tensor) else np.asarray(src)
        try:
            np.copyto(self._data, np.broadcast_to(src, self.shape), casting="unsafe")
        except ValueError:
            raise ValueError(f"copy_: a value of shape {src.shape} cannot be copied into a tensor of shape "
                             f"{self.shape}") from None
        return self._updated()

    def fill_(self, value):
        """Set every element to ``value``; returns self."""
        self._check_inplace("fill_")
        self._data.fill(value.item() if isinstance(value, Tensor) else value)
        return self._updated()

    def zero_(self):
        """Set every element to 0; returns self."""
        return self.fill_(0)

    def _inplace(self, name, ufunc, other):
        self._check_inplace(name)
        other = other._data if isinstance(other, Tensor) else other
        try:
            ufunc(self._data, other, out=self._data, casting="same_kind")
        except ValueError:
            raise ValueError(f"{name}: a value of shape {np.shape(other)} cannot update a tensor of shape "
                             f"{self.shape} in place") from None
        return self._updated()

    def add_(self, other, alpha=1):
        """self += alpha * other, in place; returns self."""
        return self._inplace("add_", np.add, other if alpha == 1 else alpha * _plain(other))

    def sub_(self, other, alpha=1):
        """self -= alpha * other, in place; returns self."""
        return self._inplace("sub_", np.subtract, other if alpha == 1 else alpha * _plain(other))

    def mul_(self, other):
        """self *= other, in place; returns self."""
        return self._inplace("mul_", np.multiply, other)

    def div_(self, other):
        """self /= other, in place; returns self."""
        return self._inplace("div_", np.true_divide, other)

    # ------------------------------------------------------------------ conversion
    def numpy(self):
        """The underlying ndarray (shared, not copied), as ``.data``."""
        return self.data

    def item(self):
        """The single element as a Python number."""
        if self._data.size != 1:
            raise ValueError(f"item: only one-element tensors can be converted, got shape {self.shape}")
        return self._data.item()

    def tolist(self):
        """Nested Python lists of the values."""
        return self._data.tolist()

    def astype(self, dtype):
        """A copy in another dtype (differentiable between float dtypes)."""
        return ops.astype(self, dtype)

    def __array__(self, dtype=None, copy=None):
        node = state.backward_node
        if node is not None:
            raise TypeError(f"a NumPy function was given a Tensor while the backward of op '{node.name}' is being "
                            "recorded (create_graph=True); it would drop the graph and give wrong higher "
                            "derivatives. Use autograd's functions (autograd.where, autograd.exp, ...) in backward")
        a = self.data if dtype is None else self._data.astype(dtype)
        return a.copy() if copy and dtype is None else a

    def __dlpack__(self, *, stream=None, max_version=None, dl_device=None, copy=None):
        """DLPack export of the array, detached (see ``autograd.dlpack``: read-only values need ``copy=True``)."""
        return dlpack.to_dlpack(self, stream, max_version, dl_device, copy)

    def __dlpack_device__(self):
        """(kDLCPU, 0): the array lives in host memory."""
        return self._data.__dlpack_device__()

    def __len__(self):
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __bool__(self):
        if self._data.size != 1:
            raise ValueError(f"bool: the truth value of a tensor of shape {self.shape} is ambiguous (only one-element "
                             "tensors are true or false); use t.data.any() or t.data.all()")
        return bool(self._data)

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if not dtypes.is_integer(self.dtype) or self._data.size != 1:
            raise TypeError(f"only integer tensors of a single element can be used as an index, got {self.dtype} "
                            f"of shape {self.shape}")
        return int(self._data)

    def __repr__(self):
        body = np.array2string(self._data, separator=", ", prefix="tensor(")
        extra = []
        if self._data.dtype != dtypes.get_default_dtype() and dtypes.is_floating(self._data.dtype) or \
                not dtypes.is_floating(self._data.dtype):
            extra.append(f"dtype={self._data.dtype}")
        if self.grad_fn is not None:
            extra.append(f"grad_fn=<{self.grad_fn.name}>")
        elif self.requires_grad:
            extra.append("requires_grad=True")
        if self.name:
            extra.append(f"name={self.name!r}")
        return "tensor(" + body + "".join(", " + e for e in extra) + ")"

    # ------------------------------------------------------------------ operators
    # __add__ __sub__ __mul__ __truediv__ __floordiv__ __pow__ __matmul__ __neg__ __abs__ __lt__ __le__ __gt__
    # __ge__ __getitem__ are the module functions themselves, set in autograd/ops/__init__.py (one call fewer).
    def __radd__(self, other): return ops.add(other, self)
    def __rsub__(self, other): return ops.subtract(other, self)
    def __rmul__(self, other): return ops.multiply(other, self)
    def __rtruediv__(self, other): return ops.divide(other, self)
    def __rfloordiv__(self, other): return ops.floor_divide(other, self)
    def __rpow__(self, other): return ops.power(other, self)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __pos__(self): return self
    def __eq__(self, other): return NotImplemented if other is None else ops.equal(self, other)  # t == None: False
    def __ne__(self, other): return NotImplemented if other is None else ops.not_equal(self, other)


def read_only(array: np.ndarray) -> np.ndarray:
    """A read-only view of ``array``: a recorded value handed out where writing into it would corrupt a backward."""
    view = array.view()
    view.flags.writeable = False
    return view


def _plain(x):
    return x._data if isinstance(x, Tensor) else x


def from_numpy(array: np.ndarray) -> Tensor:
    """Wrap an ndarray as a Tensor without copying or converting it (dtype kept, memory shared)."""
    if type(array) is not np.ndarray:
        raise TypeError(f"from_numpy: expected an np.ndarray, got {type(array).__name__}")
    if array.dtype.kind not in "biuf":
        raise TypeError(f"from_numpy: cannot make a tensor from an array of dtype {array.dtype}")
    return Tensor._wrap(array)


def _gradient_array(gradient, out):
    """``gradient=`` of ``backward`` as an array in ``out``'s dtype; TypeError unless it holds real numbers."""
    g = gradient.data if isinstance(gradient, Tensor) else gradient
    try:
        g = np.asarray(g)
    except (TypeError, ValueError) as e:
        raise TypeError(f"backward: gradient must be a Tensor or an array of real numbers, got "
                        f"{type(gradient).__name__} ({e})") from None
    if g.dtype.kind not in "fiub":
        raise TypeError(f"backward: gradient must hold real numbers, got dtype {g.dtype} "
                        f"({type(gradient).__name__})")
    return g if g.dtype == out.dtype else g.astype(out.dtype)


class _HookHandle:
    """Returned by ``register_hook``; ``remove()`` unregisters the hook."""

    __slots__ = ("_hooks", "_fn")

    def __init__(self, hooks, fn):
        self._hooks, self._fn = hooks, fn

    def remove(self):
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


def tensor(data, requires_grad=False, dtype=None, name=None) -> Tensor:
    """Same as ``Tensor(...)``."""
    return Tensor(data, requires_grad=requires_grad, dtype=dtype, name=name)


from . import dlpack, engine, ops  # noqa: E402  (both import Tensor; the methods above look them up at call time)
