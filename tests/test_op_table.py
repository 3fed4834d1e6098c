"""The op table run end to end: PyTorch as oracle (values, dtypes, gradients), float64
finite differences for every gradient rule, trace+interpreter equal to eager, and the
interpreter against onnxruntime at several opsets (forward and forward+backward)."""
from __future__ import annotations

import warnings
import zlib

import numpy as np
import pytest

import backends.numpy as bnp
import ir
import tracer
from backends import compare
from backends.onnx import ExportError, export, newest_opset
from op_table import ROWS, Bool, Int, make_inputs

torch = pytest.importorskip("torch")


def _rng(row, salt=0):
    return np.random.default_rng(zlib.crc32(row.name.encode()) + salt)


def _float_positions(row):
    return [i for i, s in enumerate(row.inputs) if not isinstance(s, (Int, Bool))]


def _ours(row, arrays, grad=False):
    ts = [tracer.tensor(a) for a in arrays]
    if grad:
        for i in _float_positions(row):
            ts[i].requires_grad_()
    return ts, row.fn(tracer, *ts)


def _theirs(row, arrays, grad=False):
    ts = [torch.tensor(a) for a in arrays]
    if grad:
        for i in _float_positions(row):
            ts[i].requires_grad_()
    return ts, row.fn(torch, *ts)


def _check_same(ours, theirs, row, what):
    ref = theirs.detach().numpy()
    got = ours.detach().numpy()
    assert tuple(got.shape) == tuple(ref.shape), f"{row.name} {what}: shape {got.shape} != torch {ref.shape}"
    assert str(got.dtype) == str(ref.dtype), f"{row.name} {what}: dtype {got.dtype} != torch {ref.dtype}"
    if ref.dtype.kind in "iub":
        np.testing.assert_array_equal(got, ref, err_msg=f"{row.name} {what}")
    else:
        tol = 1e-12 if ref.dtype == np.float64 else row.rtol
        np.testing.assert_allclose(got, ref, rtol=tol, atol=row.atol, err_msg=f"{row.name} {what}")


def _rows(check=None, grad=None):
    picked = []
    for row in ROWS:
        if grad is not None and row.grad != grad:
            continue
        marks = [pytest.mark.xfail(reason=row.xfail[check], strict=True)] if check in row.xfail else []
        picked.append(pytest.param(row, id=row.name, marks=marks))
    return picked


@pytest.fixture(autouse=True)
def _quiet_trace_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", tracer.TracerWarning)
        warnings.simplefilter("ignore", UserWarning)
        yield


@pytest.mark.parametrize("row", _rows("forward"))
def test_forward_matches_torch(row):
    for dtype in row.dtypes:
        arrays = make_inputs(row, dtype, _rng(row))
        _check_same(_ours(row, arrays)[1], _theirs(row, arrays)[1], row, f"forward {dtype}")


@pytest.mark.parametrize("row", _rows("grad_torch", grad=True))
def test_grad_matches_torch(row):
    for dtype in row.dtypes:
        arrays = make_inputs(row, dtype, _rng(row))
        ins, out = _ours(row, arrays, grad=True)
        tins, tout = _theirs(row, arrays, grad=True)
        w = _rng(row, 1).standard_normal(tuple(tout.shape)).astype(dtype)
        (out * tracer.tensor(w)).sum().backward()
        (tout * torch.tensor(w)).sum().backward()
        for i in _float_positions(row):
            assert ins[i].grad is not None, f"{row.name}: no gradient for input {i}"
            _check_same(ins[i].grad, tins[i].grad, row, f"grad of input {i} ({dtype})")


@pytest.mark.parametrize("row", [r for r in _rows("fd", grad=True) if r.values[0].fd])
def test_grad_matches_finite_differences(row):
    """ir.grad + the interpreter, float64: <grad, v> against a central difference along v."""
    arrays = make_inputs(row, "float64", _rng(row))
    graph = tracer.trace(lambda *xs: row.fn(tracer, *xs), *[tracer.tensor(a) for a in arrays])
    positions = _float_positions(row)
    names = [graph.input_names[i] for i in positions]
    seeded = graph.outputs[0].shape != ()
    combined = ir.grad(graph, wrt=names, grad_output=seeded)
    rng = _rng(row, 2)
    w = rng.standard_normal(graph.outputs[0].shape)
    feeds = dict(zip(graph.input_names, arrays))
    if seeded:
        feeds["grad_output"] = w
    grads = bnp.run(combined, feeds)[len(graph.outputs):]
    v = {i: rng.standard_normal(arrays[i].shape) for i in positions}

    def f(eps):
        moved = [a + eps * v[i] if i in v else a for i, a in enumerate(arrays)]
        out = bnp.run(graph, *moved)[0]
        return float(np.sum(out * w)) if seeded else float(out)

    eps = 1e-6
    numeric = (f(eps) - f(-eps)) / (2 * eps)
    analytic = sum(float(np.sum(g * v[i])) for g, i in zip(grads, positions))
    assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-7), row.name


@pytest.mark.parametrize("row", _rows("trace"))
def test_trace_interpreter_equals_eager(row):
    arrays = make_inputs(row, row.dtypes[0], _rng(row))
    eager = _ours(row, arrays)[1].numpy()
    graph = tracer.trace(lambda *xs: row.fn(tracer, *xs), *[tracer.tensor(a) for a in arrays])
    ir.lint(graph)
    (interp,) = bnp.run(graph, *arrays)
    assert interp.dtype == eager.dtype and interp.shape == eager.shape
    np.testing.assert_array_equal(interp, eager)


OPSETS = sorted({17, 18, newest_opset()})


@pytest.mark.parametrize("opset", OPSETS)
@pytest.mark.parametrize("row", [r for r in _rows("onnx") if r.values[0].onnx])
def test_onnxruntime_agrees(row, opset):
    for dtype in row.dtypes:
        arrays = make_inputs(row, dtype, _rng(row))
        graph = tracer.trace(lambda *xs: row.fn(tracer, *xs), *[tracer.tensor(a) for a in arrays])
        if opset < row.min_opset:
            with pytest.raises(ExportError, match=f"needs ONNX opset {row.min_opset}"):
                export(graph, opset=opset)
            continue
        export(graph, opset=opset)  # the full checker
        rtol = row.onnx_rtol.get(dtype)
        report = compare(graph, *arrays, opset=opset, rtol=rtol)
        assert report.ok, str(report)
        if row.grad:
            positions = _float_positions(row)
            seeded = graph.outputs[0].shape != ()
            combined = ir.grad(graph, wrt=[graph.input_names[i] for i in positions], grad_output=seeded)
            ir.lint(combined)
            export(combined, opset=opset, params_as="inputs")
            feeds = dict(zip(graph.input_names, arrays))
            if seeded:
                feeds["grad_output"] = _rng(row, 3).standard_normal(graph.outputs[0].shape).astype(graph.outputs[0].dtype.np)
            report = compare(combined, feeds, opset=opset, rtol=rtol)
            assert report.ok, str(report)
