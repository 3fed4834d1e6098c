"""One way to run a graph: the same bad input raises the same exception type and message (op,
input types, the user's line) on every path that runs ir nodes: eager, recording eager, the
interpreter, a compiled ``Program`` past its checked first run, ``tracer.compile`` on both
backends, ``backends.ort.run`` and an eager backward through a cached plan."""
import traceback

import numpy as np
import pytest

import backends.numpy as bnp
import backends.ort as bo
import tracer as torch
from backends.numpy import KERNELS, FeedError, KernelError, KernelIndexError, Program
from tracer.autograd import engine
from tracer.autograd.plan import PlanCache
from ir.ops import elementwise as E
from ir.ops import indexing as I

X = np.arange(6, dtype=np.float32).reshape(3, 2)
GOOD, BAD = np.array([0, 2]), np.array([0, 7])


def pick(x, i):
    return torch.index_select(x, 0, i) * 2  # the line every index error names


PICK_LINE = f"tests/backends/test_run_policy.py:{pick.__code__.co_firstlineno + 1}"


def raised(fn) -> Exception:
    with pytest.raises(Exception) as info:
        fn()
    return info.value


def frame(err) -> str:
    """The message without its detail (which onnxruntime words its own way): op, inputs, line."""
    text = str(err)
    return text.split(":", 1)[0] + " ... " + text[text.index(" (inputs: "):]


def steady_program(graph, *good) -> Program:
    program = Program(graph)
    program.run(*good)  # the checked run; later ones take the fast loop
    assert program.checked
    return program


def steady_compiled(fn, backend, *good):
    compiled = torch.compile(fn, backend=backend)
    for _ in range(3):  # trace, the checked first run, then the steady state
        compiled(*good)
    assert compiled.trace_count == 1
    return compiled


def test_an_index_out_of_range_is_the_same_error_on_every_numpy_path():
    x, good, bad = torch.tensor(X), torch.tensor(GOOD), torch.tensor(BAD)
    graph = torch.trace(pick, x, good)
    w = torch.tensor(X, requires_grad=True)
    errors = {
        "eager": raised(lambda: pick(x, bad)),
        "recording eager": raised(lambda: pick(w, bad)),
        "interpreter": raised(lambda: bnp.run(graph, X, BAD)),
        "program": raised(lambda: steady_program(graph, X, GOOD).run(X, BAD)),
        "compile numpy": raised(lambda: steady_compiled(pick, "numpy", x, good)(x, bad)),
    }
    expected = ("take: index 7 is out of bounds for dimension 0 with size 3 (inputs: float32[3, 2], int64[2])"
                f"\n  at {PICK_LINE}")
    for path, err in errors.items():
        assert type(err) is KernelIndexError and isinstance(err, IndexError), path
        assert str(err) == expected, path


def test_an_index_out_of_range_on_onnxruntime_names_the_same_op_inputs_and_line():
    x, good, bad = torch.tensor(X), torch.tensor(GOOD), torch.tensor(BAD)
    graph = torch.trace(pick, x, good)
    numpy_error = raised(lambda: bnp.run(graph, X, BAD))
    errors = {
        "backends.ort.run": raised(lambda: bo.run(graph, X, BAD)),
        "compile onnxruntime": raised(lambda: steady_compiled(pick, "onnxruntime", x, good)(x, bad)),
    }
    for path, err in errors.items():
        assert type(err) is KernelIndexError, path
        assert frame(err) == frame(numpy_error), path
        assert "idx=7" in str(err), path  # onnxruntime's own detail is kept
        assert type(err.__cause__).__module__.startswith(("onnxruntime", "builtins")), path


def test_a_wrongly_shaped_or_typed_feed_is_the_same_error_on_every_runner():
    graph = torch.trace(pick, torch.tensor(X), torch.tensor(GOOD))
    program = steady_program(graph, X, GOOD)
    for bad_x, message in ((np.ones((4, 2), np.float32), "input 'x': expected shape [3, 2], got [4, 2]"),
                           (X.astype(np.float64), "input 'x': expected float32[3, 2], got float64[3, 2]")):
        errors = {"interpreter": raised(lambda: bnp.run(graph, bad_x, GOOD)),
                  "program": raised(lambda: program.run(bad_x, GOOD)),
                  "backends.ort.run": raised(lambda: bo.run(graph, bad_x, GOOD))}
        for path, err in errors.items():
            assert type(err) is FeedError and isinstance(err, KernelError) and isinstance(err, ValueError), path
            assert str(err) == message, path


def matmul(x, w):
    return x @ w  # a compiled function retraces for a new shape: its op's rule rejects it


def test_a_shape_the_op_rejects_is_the_same_error_eager_and_compiled():
    w = torch.ones(2, 3)
    errors = {"eager": raised(lambda: matmul(torch.ones(4, 5), w))}
    for backend in ("numpy", "onnxruntime"):
        compiled = steady_compiled(matmul, backend, torch.ones(4, 2), w)
        errors[f"compile {backend}"] = raised(lambda: compiled(torch.ones(4, 5), w))
    first = errors["eager"]
    assert "matmul: mat1 and mat2 shapes cannot be multiplied (4x5 and 2x3)" in str(first)
    assert str(first).endswith(f"at tests/backends/test_run_policy.py:{matmul.__code__.co_firstlineno + 1}")
    for path, err in errors.items():
        assert type(err) is type(first) and str(err) == str(first), path


def exp_plus_one(x):
    return torch.exp(x) + 1  # the node whose kernel is broken below


def test_a_kernel_returning_the_wrong_dtype_is_the_same_error_on_every_numpy_path(monkeypatch):
    graph = torch.trace(exp_plus_one, torch.ones(2))
    program = Program(graph)
    compiled = torch.compile(exp_plus_one, backend="numpy")
    monkeypatch.setitem(KERNELS, E.exp, lambda a, x: np.exp(x).astype(np.float64))
    x = np.ones(2, np.float32)
    errors = {
        "eager": raised(lambda: exp_plus_one(torch.ones(2))),
        "recording eager": raised(lambda: exp_plus_one(torch.ones(2, requires_grad=True))),
        "interpreter": raised(lambda: bnp.run(graph, x)),
        "program, first call": raised(lambda: program.run(x)),
        "program, again": raised(lambda: program.run(x)),  # still unchecked, so checked again
        "compile numpy, first call": raised(lambda: compiled(torch.ones(2))),
        "compile numpy, again": raised(lambda: compiled(torch.ones(2))),
    }
    line = f"tests/backends/test_run_policy.py:{exp_plus_one.__code__.co_firstlineno + 1}"
    expected = f"exp: kernel returned float64[2] but the node declares float32[2] (inputs: float32[2])\n  at {line}"
    for path, err in errors.items():
        assert type(err) is KernelError and str(err) == expected, path


def _failing_index_add(monkeypatch):
    """``index_add`` (the backward of ``index_select`` only) made to fail while ``on["fail"]``."""
    on = {"fail": False}
    real = KERNELS[I.index_add]

    def kernel(a, *xs):
        if on["fail"]:
            raise IndexError("index 9 is out of bounds for dimension 0 with size 3")
        return real(a, *xs)
    monkeypatch.setitem(KERNELS, I.index_add, kernel)
    monkeypatch.setattr(engine, "_PLANS", PlanCache())  # plans built with the broken kernel only
    return on


def backward_here(w):
    torch.index_select(w, 0, torch.tensor(GOOD)).sum().backward()


def backward_elsewhere(w):  # the same DAG structure recorded from another line
    torch.index_select(w, 0, torch.tensor(GOOD)).sum().backward()


def _through_plan(err) -> bool:
    return any(f.f_code.co_name == "run" and f.f_code.co_filename.endswith("plan.py")
               for f, _ in traceback.walk_tb(err.__traceback__))


def test_a_failing_backward_kernel_is_the_same_error_interpreted_and_through_a_cached_plan(monkeypatch):
    on = _failing_index_add(monkeypatch)
    w = torch.tensor(X, requires_grad=True)
    on["fail"] = True
    interpreted = raised(lambda: backward_here(w))  # first sight of the structure: the interpreter
    assert not _through_plan(interpreted) and len(engine._PLANS._plans) == 0
    on["fail"] = False
    backward_here(w)  # builds the plan
    assert len(engine._PLANS._plans) == 1
    on["fail"] = True
    planned = raised(lambda: backward_here(w))
    assert _through_plan(planned)
    assert type(planned) is type(interpreted) is KernelIndexError
    assert str(planned) == str(interpreted)
    assert str(planned).startswith("index_add: index 9 is out of bounds")
    here = f"tests/backends/test_run_policy.py:{backward_here.__code__.co_firstlineno + 1}"
    assert str(planned).endswith(f"\n  at {here}")
    elsewhere = raised(lambda: backward_elsewhere(w))  # the same plan names this run's line
    assert _through_plan(elsewhere) and str(elsewhere).endswith(
        f"\n  at tests/backends/test_run_policy.py:{backward_elsewhere.__code__.co_firstlineno + 1}")


def test_errors_leave_the_program_usable():
    graph = torch.trace(pick, torch.tensor(X), torch.tensor(GOOD))
    program = steady_program(graph, X, GOOD)
    with pytest.raises(IndexError):
        program.run(X, BAD)
    np.testing.assert_array_equal(program.run(X, GOOD)[0], bnp.run(graph, X, GOOD)[0])
