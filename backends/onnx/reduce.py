"""ONNX lowerings for ir/ops/reduce.py. ReduceSum takes axes as an input from opset 13, the
other reductions from opset 18 (an attribute before); an empty axis list reduces nothing."""
from __future__ import annotations

import numpy as np

from backends.onnx.builder import ONNX_TYPE, bools_via_int32
from ir import dtypes
from ir.ops import reduce as R


def _reduce(op_type: str, axes_input_from: int):
    def lower(b, node, xs):
        axes = list(node.attrs.axes)
        if not axes:
            return b.op("Identity", xs)
        keep = int(node.attrs.keepdim)
        if b.opset >= axes_input_from:
            return b.op(op_type, [xs[0], b.int64s(axes)], keepdims=keep)
        return b.op(op_type, xs, axes=axes, keepdims=keep)
    lower.__doc__ = f"ir reduction -> ONNX {op_type}."
    return lower


def _reduce_extremum(op_type: str):
    """ReduceMax/ReduceMin that propagate NaN as torch's amax/amin: onnxruntime's skip a NaN
    unless it comes first in its slice, so a slice holding one is set to NaN explicitly."""
    reduce, any_of = _reduce(op_type, 18), _reduce("ReduceMax", 18)

    def lower(b, node, xs):
        found = reduce(b, node, xs)
        if not node.attrs.axes or not node.inputs[0].dtype.is_floating_point:
            return found
        nan = b.op("Cast", [b.op("IsNaN", xs)], to=ONNX_TYPE[dtypes.int32])
        any_nan = b.op("Cast", [any_of(b, node, [nan])], to=ONNX_TYPE[dtypes.bool_])
        return b.op("Where", [any_nan, b.scalar_like(float("nan"), node.dtype), found])
    lower.__doc__ = f"ir reduction -> ONNX {op_type}, NaN propagated as torch."
    return lower


def _arg(op_type: str):
    def lower(b, node, xs):
        x = node.inputs[0]
        if not x.shape:
            return b.const(np.zeros((), dtype=np.int64))
        keep = dict(axis=node.attrs.axis, keepdims=int(node.attrs.keepdim), select_last_index=0)
        found = b.op(op_type, xs, **keep)
        if not x.dtype.is_floating_point:
            return found
        # torch's (and NumPy's) arg-extremum is the first NaN of a slice holding one;
        # onnxruntime's ArgMax/ArgMin ignore NaN
        nan = b.op("Cast", [b.op("IsNaN", xs)], to=ONNX_TYPE[dtypes.int32])
        first_nan = b.op("ArgMax", [nan], **keep)
        axes = [node.attrs.axis]
        any_nan = (b.op("ReduceMax", [nan, b.int64s(axes)], keepdims=keep["keepdims"]) if b.opset >= 18
                   else b.op("ReduceMax", [nan], axes=axes, keepdims=keep["keepdims"]))
        has_nan = b.op("Cast", [any_nan], to=ONNX_TYPE[dtypes.bool_])
        return b.op("Where", [has_nan, first_nan, found])
    lower.__doc__ = f"ir arg-extremum -> ONNX {op_type}, NaN first as torch."
    return lower


def _numel(b, node, xs):
    """A constant when the counted dims are static; else the product of the runtime shape."""
    x = node.inputs[0]
    dynamic = b.dynamic.get(x, set())
    if not any(ax in dynamic for ax in node.attrs.axes):
        n = int(np.prod([x.shape[ax] for ax in node.attrs.axes], dtype=np.int64))
        return b.const(np.asarray(n, dtype=node.dtype.np))
    dims = b.op("Gather", [b.op("Shape", xs), b.int64s(node.attrs.axes)], axis=0)
    count = b.op("ReduceProd", [dims, b.int64s([0])] if b.opset >= 18 else [dims], keepdims=0,
                 **({} if b.opset >= 18 else {"axes": [0]}))
    return b.op("Cast", [count], to=ONNX_TYPE[node.dtype])


def _softmax(op_type: str):
    def lower(b, node, xs):
        if not node.shape:
            return b.const(np.asarray(0.0 if op_type == "LogSoftmax" else 1.0, dtype=node.dtype.np))
        out = b.op(op_type, xs, axis=node.attrs.axis)
        if node.shape[node.attrs.axis] == 0:
            return out
        return b.op("Where", [_undefined_slices(b, node, xs[0]), b.scalar_like(np.nan, node.dtype), out])
    lower.__doc__ = f"ir softmax family -> ONNX {op_type} (opset 13+ semantics: one axis), NaN as torch."
    return lower


def _undefined_slices(b, node, x):
    """Where torch's softmax (x - max, exp, sum) is NaN for the whole slice and onnxruntime's
    is not: a slice holding NaN or +inf (inf - inf), or only -inf. A bool tensor, kept dims."""
    axes = [node.attrs.axis]

    def over_slice(op_type, flags):
        ints = b.op("Cast", [flags], to=ONNX_TYPE[dtypes.int32])
        found = (b.op(op_type, [ints, b.int64s(axes)], keepdims=1) if b.opset >= 18
                 else b.op(op_type, [ints], axes=axes, keepdims=1))
        return b.op("Cast", [found], to=ONNX_TYPE[dtypes.bool_])
    nan_or_inf = b.op("Or", [b.op("IsNaN", [x]), b.op("IsInf", [x], detect_negative=0)])
    return b.op("Or", [over_slice("ReduceMax", nan_or_inf), over_slice("ReduceMin", b.op("IsInf", [x], detect_positive=0))])


def _cumsum(b, node, xs):
    """ir cumsum -> ONNX CumSum (axis as an input); a 0-d value is its own running sum."""
    a = node.attrs
    if not node.inputs[0].shape:
        return b.op("Sub", [xs[0], xs[0]]) if a.exclusive else b.op("Identity", xs)
    axis = b.const(np.array(a.axis, dtype=np.int64))
    return b.op("CumSum", [xs[0], axis], reverse=int(a.reverse), exclusive=int(a.exclusive))


def _topk_indices(b, node, xs):
    """ir topk_indices -> the Indices output of ONNX TopK (sorted; ties by lower index, the
    ONNX rule, which is torch's stable order). Bool inputs are compared as int32."""
    a = node.attrs
    x = xs[0]
    if node.inputs[0].dtype.kind == "b":
        x = b.op("Cast", [x], to=ONNX_TYPE[dtypes.int32])
    _, indices = b.op_outputs("TopK", [x, b.int64s([a.k])], 2, axis=a.axis, largest=int(a.largest), sorted=1)
    return indices


LOWERINGS = {
    R.topk_indices: _topk_indices,
    R.cumsum: _cumsum,
    R.softmax: _softmax("Softmax"),
    R.log_softmax: _softmax("LogSoftmax"),
    R.sum_: _reduce("ReduceSum", 13),
    R.prod: _reduce("ReduceProd", 18),
    R.amax: bools_via_int32(_reduce_extremum("ReduceMax")),
    R.amin: bools_via_int32(_reduce_extremum("ReduceMin")),
    R.argmax: bools_via_int32(_arg("ArgMax")),
    R.argmin: bools_via_int32(_arg("ArgMin")),
    R.numel: _numel,
}
