"""Every ir op has all its facets (kernel, lowering, gradient rule or an explicit 'not
differentiable', a dynamic-shape rule) and is exercised by the op table."""
import warnings

import pytest

import ir
import tracer
from backends.numpy import KERNELS, RANDOM_KERNELS
from backends.onnx import LOWERINGS
from ir.gradients import NOT_DIFFERENTIABLE, RULES
from ir.ops import source

#: Ops the op table cannot cover (random draws never match torch), with the test that does.
COVERED_ELSEWHERE = {
    "random_uniform": "tests/tracer/test_random.py",
    "random_normal": "tests/tracer/test_random.py",
    "slice_update": "tests/tracer/test_inplace.py (indexed assignment)",
}
OPS = [op for op in ir.ops.all_ops() if not op.name.startswith("test_")]


@pytest.mark.parametrize("op", OPS, ids=lambda op: op.name)
def test_op_has_every_facet(op):
    if op is not source.input_:
        assert op in KERNELS or op in RANDOM_KERNELS, f"{op.name}: no NumPy kernel"
        assert op in LOWERINGS, f"{op.name}: no ONNX lowering"
    assert (op in RULES) != (op in NOT_DIFFERENTIABLE), \
        f"{op.name}: needs exactly one of a gradient rule or a NOT_DIFFERENTIABLE entry"


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
