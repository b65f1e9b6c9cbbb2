"""The registry covers everything: every Op class under autograd/nn/viz and every public function
of autograd has an entry, or is explicitly listed as non-differentiable or not an op."""
import inspect
import types

import pytest

import autograd
import nn  # noqa: F401  (importing registers nn's ops)
import viz  # noqa: F401
from autograd import registry
from autograd.function import Function
from autograd.op import Op

PACKAGES = ("autograd", "nn", "viz")


def _in_project(cls):
    return cls.__module__.split(".")[0] in PACKAGES


def _all_subclasses(cls):
    out, stack = set(), [cls]
    while stack:
        for sub in stack.pop().__subclasses__():
            if sub not in out:
                out.add(sub)
                stack.append(sub)
    return out


def _project_op_classes():
    """Op subclasses defined in the project. A Function's node class counts as project code when the
    Function is (user Functions defined in tests are not the registry's business)."""
    found = set()
    for cls in _all_subclasses(Op):
        function = cls.__dict__.get("function")
        owner = function if isinstance(function, type) and issubclass(function, Function) else cls
        if not _in_project(owner):
            continue
        if "name" not in cls.__dict__:
            continue  # abstract base (e.g. the shared max/min class) without a display name of its own
        found.add(cls)
    return found


def test_every_project_op_class_has_a_registry_entry():
    covered = registry.covered_ops()
    missing = sorted(c.__module__ + "." + c.__qualname__ for c in _project_op_classes()
                     if not any(issubclass(c, k) for k in covered) and c not in registry.INTERNAL_OPS)
    assert not missing, f"Op classes without a registry entry (add one in autograd/registry.py): {missing}"


def _public_functions():
    names = set()
    for name in dir(autograd):
        if name.startswith("_"):
            continue
        obj = getattr(autograd, name)
        if isinstance(obj, types.ModuleType) or not callable(obj):
            continue
        names.add(name)
    return names


def test_every_public_function_is_registered_or_listed():
    known = registry.names() | registry.NON_DIFFERENTIABLE | registry.NOT_OPS
    missing = sorted(_public_functions() - known)
    assert not missing, (f"public autograd functions with no registry entry and not listed in "
                         f"registry.NON_DIFFERENTIABLE / NOT_OPS: {missing}")


def test_lists_name_only_existing_functions_and_do_not_overlap_entries():
    public = _public_functions()
    assert registry.NON_DIFFERENTIABLE <= public
    assert registry.NOT_OPS <= public
    assert not (registry.NON_DIFFERENTIABLE & registry.names())


def test_every_tensor_method_from_the_ops_is_registered():
    from autograd.ops import METHODS

    methods = {m for m in METHODS if m not in registry.NON_DIFFERENTIABLE}
    assert methods <= registry.names(), sorted(methods - registry.names())


def test_entries_are_well_formed():
    ids = [e.id for e in registry.entries()]
    assert len(ids) == len(set(ids))
    for e in registry.entries():
        assert e.shapes in registry.SHAPE_KINDS, e.id
        assert e.ops and all(issubclass(c, Op) for c in e.ops), e.id
        assert e.reference is not None, f"{e.id} has no NumPy reference"
        params = inspect.signature(e.fn).parameters.values()
        required = [p for p in params if p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD]
        assert len(required) == e.arity or any(p.kind is p.VAR_POSITIONAL for p in params), e.id


def test_every_smooth_entry_checks_second_order():
    first_only = {e.id for e in registry.entries() if not e.second_order}
    # Only Functions (NumPy backward, once differentiable by design) may skip second order.
    assert {registry.get(i).name for i in first_only} <= {"Function"}


def test_lookup_helpers():
    assert registry.get("sum[axis=0]").name == "sum"
    assert registry.get("erf").name == "erf"
    assert {e.variant for e in registry.entries("clip")} == {"lo and hi", "lo only", "hi only"}
    with pytest.raises(KeyError, match="no entry 'sum'.*variants"):
        registry.get("sum")
    with pytest.raises(KeyError, match="no differentiable op named 'nope'"):
        registry.entries("nope")


def test_register_rejects_duplicates_and_unknown_shape_kinds():
    e = registry.get("exp")
    with pytest.raises(ValueError, match="already exists"):
        registry.register(e)
    with pytest.raises(ValueError, match="unknown shape kind 'blob'"):
        registry.register(registry.OpEntry("exp2", "", e.fn, e.domains, "blob", e.ops))


def test_domains_contain_what_they_describe():
    assert registry.POSITIVE.contains([0.5, 2.0]) and not registry.POSITIVE.contains([-1.0])
    assert registry.NONZERO.contains([-1.0, 1.0]) and not registry.NONZERO.contains([0.05])
    assert registry.INDEX.contains([-2, 1]) and not registry.INDEX.contains([0.5])
    assert not registry.REAL.contains([float("nan")])


def test_markdown_table_lists_every_op_once_with_its_domains():
    table = registry.markdown_table()
    for name in registry.names():
        assert table.count(f"| `{name}` |") == 1
    assert "| `log` | plain | positive | yes |" in table
    assert "| `maximum` | plain | real, no ties × real, no ties | yes |" in table
    assert "| `Function` |" in table and "no (once differentiable)" in table
    assert "`argmax`" in table.splitlines()[-1]
