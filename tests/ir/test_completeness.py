"""Every ir op has all its facets (kernel, lowering, gradient rule or an explicit 'not
differentiable', a dynamic-shape rule), consistent traits, and is exercised by the op table."""
import warnings

import pytest

import ir
import tracer
from backends.numpy import KERNELS, RANDOM_KERNELS
from backends.onnx import LOWERINGS
from ir.gradients import RULES
from ir.ops import dynamic as D
from ir.ops import source
from ir.ops.base import REGISTRY, Op

#: Ops the op table cannot cover (random draws never match torch), with the test that does.
COVERED_ELSEWHERE = {
    "random_uniform": "tests/tracer/test_random.py",
    "random_normal": "tests/tracer/test_random.py",
    "slice_update": "tests/tracer/test_inplace.py (indexed assignment)",
    "no_derivative": "tests/tracer/test_no_derivative.py (only a result that requires grad records it)",
    "function_output": "tests/tracer/test_custom_function.py (a user's autograd.Function against torch's)",
    "function_grad": "tests/tracer/test_custom_function.py",
}
OPS = [op for op in ir.ops.all_ops() if not op.name.startswith("test_")]


def missing_facets(op) -> list[str]:
    """What ``op`` lacks, one line per facet (empty when it is complete)."""
    missing = []
    if op is not source.input_:  # the caller feeds an input: it has no kernel or lowering
        if op not in KERNELS and op not in RANDOM_KERNELS:
            missing.append("no NumPy kernel")
        if op not in LOWERINGS:
            missing.append("no ONNX lowering")
    if (op in RULES) == (not op.differentiable):
        missing.append("needs exactly one of a gradient rule or differentiable=False")
    if not callable(op.dynamic):
        missing.append("no dynamic-shape rule (dynamic=...)")
    return missing


def inconsistent_traits(op) -> list[str]:
    """Traits that contradict each other or the backends' tables."""
    problems = []
    if op.nondeterministic and op.differentiable:
        problems.append("nondeterministic but differentiable")
    if op.nondeterministic != (op in RANDOM_KERNELS):
        problems.append("nondeterministic exactly when its kernel draws (RANDOM_KERNELS)")
    if op.elementwise and op.arity == 0:
        problems.append("elementwise without inputs")
    for pos in op.shape_only_inputs:
        if pos < 0 or (op.arity is not None and pos >= op.arity):
            problems.append(f"shape_only_inputs position {pos} is not an input")
    return problems


@pytest.fixture
def scratch_ops():
    """Ops defined in a test leave the global registry when it ends."""
    before = dict(REGISTRY)
    yield
    REGISTRY.clear()
    REGISTRY.update(before)


def _identity(types, attrs):
    return types[0]


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_op_has_every_facet(op):
    assert missing_facets(op) == [], f"{op.name}: " + "; ".join(missing_facets(op))


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_op_traits_are_consistent(op):
    assert inconsistent_traits(op) == [], f"{op.name}: " + "; ".join(inconsistent_traits(op))


def test_a_made_up_op_is_reported_facet_by_facet(scratch_ops):
    bare = Op("test_bare", _identity, dynamic=D.like_input(0))
    assert missing_facets(bare) == ["no NumPy kernel", "no ONNX lowering",
                                    "needs exactly one of a gradient rule or differentiable=False"]
    with pytest.raises(TypeError, match="test_ruleless: no dynamic-shape rule"):
        Op("test_ruleless", _identity)
    stopped = Op("test_stopped", _identity, dynamic=D.like_input(0), differentiable=False)
    assert missing_facets(stopped) == ["no NumPy kernel", "no ONNX lowering"]
    assert "test_bare" in REGISTRY  # the fixture, not the test, takes them out again


def test_made_up_ops_do_not_stay_registered():
    assert not any(name.startswith("test_") for name in REGISTRY)


def test_an_elementwise_op_gets_the_broadcasting_rule_from_its_trait(scratch_ops):
    op = Op("test_elementwise", _identity, elementwise=True)
    assert op.dynamic is D.broadcast
    assert not inconsistent_traits(op)


@pytest.mark.parametrize("traits, message", [
    ({"nondeterministic": True}, "nondeterministic op passes no gradient"),
    ({"shape_only_inputs": (1,)}, "position 1 is not an input"),
    ({"arity": 0}, "without inputs passes no gradient"),
])
def test_contradicting_traits_are_rejected_at_definition(scratch_ops, traits, message):
    with pytest.raises(TypeError, match=message):
        Op("test_contradiction", _identity, dynamic=D.static, **traits)
    assert "test_contradiction" not in REGISTRY


def test_op_table_exercises_every_op():
    from op_table import ROWS, make_inputs
    import numpy as np
    seen = set()
    for row in ROWS:
        arrays = make_inputs(row, "float32", np.random.default_rng(0))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            g = tracer.trace(lambda *xs: row.fn(tracer, *xs), *[tracer.tensor(a) for a in arrays])
            seen |= {n.op.name for n in g.nodes}
            if row.grad:
                seeded = g.outputs[0].shape != ()
                seen |= {n.op.name for n in ir.grad(g, grad_output=seeded).nodes}
    missing = {op.name for op in OPS} - seen - set(COVERED_ELSEWHERE)
    assert not missing, f"ops no table row exercises: {sorted(missing)}"
