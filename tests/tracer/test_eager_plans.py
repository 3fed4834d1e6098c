"""Eager plans (tracer/core/dispatch.py): a repeated unary or binary op skips its shape rule.
A planned op gives the unplanned op's values, dtypes and errors, sees a changed input type, and
keeps NumPy's floating-point warnings silent as the kernels do."""
import os
import subprocess
import sys

import numpy as np
import pytest

import tracer
from tracer.core import dispatch


def _fresh(values, dtype=np.float32):
    return tracer.tensor(np.asarray(values, dtype))


def test_a_chain_meets_its_plans_and_gives_the_same_values():
    dispatch._EAGER_PLANS.clear()
    a, b = _fresh([1.0, -2.0, 3.0]), _fresh([0.5, 0.5, 0.5])
    first = ((a + b) * b - b).relu()
    known = len(dispatch._EAGER_PLANS)
    assert known >= 4
    again = ((a + b) * b - b).relu()  # the same type objects: every op planned, no new plan
    assert len(dispatch._EAGER_PLANS) == known
    assert again.tolist() == first.tolist() == [0.25, 0.0, 1.25]
    assert again.dtype == tracer.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.bool_])
def test_planned_results_keep_dtype_and_shape(dtype):
    """0-d, empty and broadcast operands, through a plan and without one."""
    for x, y in [((), ()), ((0, 3), (3,)), ((2, 1), (1, 4))]:
        a = tracer.tensor(np.ones(x, dtype))
        b = tracer.tensor(np.ones(y, dtype))
        outs = [a * b for _ in range(3)]  # the first makes the plan, the rest use it
        want = np.ones(x, dtype) * np.ones(y, dtype)
        for out in outs:
            assert out.numpy().dtype == want.dtype and out.shape == want.shape
            assert np.array_equal(out.numpy(), want)


def test_a_changed_input_type_gets_its_own_rule_and_error():
    a = _fresh([1.0, 2.0])
    for _ in range(2):
        a + a
    with pytest.raises(RuntimeError, match="size"):
        a + _fresh([1.0, 2.0, 3.0])  # another type object: the shape rule runs and refuses
    assert (a + _fresh([1.0, 2.0], np.float64)).dtype == tracer.float64


def test_a_planned_kernel_error_is_the_unplanned_one():
    """An integer division by zero raises the same error with a plan as without."""
    x, zero = tracer.tensor([4, 6]), tracer.tensor([2, 0])
    messages = []
    for _ in range(3):
        with pytest.raises(RuntimeError) as info:
            x // zero
        messages.append(str(info.value))
    assert len(set(messages)) == 1 and "ZeroDivisionError" in messages[0]


def test_planned_ops_keep_numpys_floating_point_warnings_silent():
    """In a plain interpreter (pytest resets warning filters per test): log(0) and 0/0 through
    plans warn nothing even with RuntimeWarnings made errors, while a user's own still raises."""
    code = ("import warnings, numpy as np, tracer\n"
            "a = tracer.tensor(np.array([0.0, 1.0], np.float32))\n"
            "for _ in range(3):\n"
            "    assert tracer.log(a).tolist()[0] == -np.inf and np.isnan((a / a).tolist()[0])\n"
            "warnings.warn('mine', RuntimeWarning)\n")
    run = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-c", code], capture_output=True, text=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert run.returncode == 1 and run.stderr.strip().endswith("RuntimeWarning: mine"), run.stderr


def test_requires_grad_and_traces_still_record():
    w = _fresh([1.0, 2.0]).requires_grad_()
    c = _fresh([3.0, 3.0])
    for _ in range(2):
        c * c  # planned, no grad
    (w * c).sum().backward()
    assert w.grad.tolist() == [3.0, 3.0]
    graph = tracer.trace(lambda x: x * c, c)
    assert [n.op.name for n in graph.nodes if n.op.name == "mul"] == ["mul"]
