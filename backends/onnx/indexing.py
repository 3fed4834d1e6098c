"""ONNX lowerings for ir/ops/indexing.py: Gather, GatherElements and the scatter-adds
(ScatterND / ScatterElements with reduction="add", opset 16+). Negative indices are
normalised first, since torch accepts them."""
from __future__ import annotations

import numpy as np

from backends.onnx.builder import ONNX_TYPE
from ir.ops import indexing as I


def _nonnegative(b, idx: str, base: str, axis: int) -> str:
    size = b.op("Gather", [b.op("Shape", [base]), b.int64s([axis])], axis=0)
    zero = b.const(0, dtype="int64")
    return b.op("Where", [b.op("Less", [idx, zero]), b.op("Add", [idx, size]), idx])


def _as_int64(b, node, idx: str) -> str:
    return idx if node.inputs[1].dtype.name == "int64" else b.op("Cast", [idx], to=7)


def _take(b, node, xs):
    return b.op("Gather", [xs[0], _as_int64(b, node, xs[1])], axis=node.attrs.axis)


def _index_add(b, node, xs):
    """ScatterND indexes leading dims, so move ``axis`` (and the index dims of src) to the front."""
    base, idx, src = xs
    axis = node.attrs.axis
    rank = len(node.shape)
    k = len(node.inputs[1].shape)
    idx = _nonnegative(b, _as_int64(b, node, idx), base, axis)
    perm = [axis] + [d for d in range(rank) if d != axis]
    src_perm = list(range(axis, axis + k)) + list(range(axis)) + list(range(axis + k, rank + k - 1))
    data = b.op("Transpose", [base], perm=perm) if axis else base
    updates = b.op("Transpose", [src], perm=src_perm) if axis else src
    indices = b.op("Unsqueeze", [idx, b.int64s([-1])])
    out = b.op("ScatterND", [data, indices, updates], reduction="add")
    inverse = sorted(range(rank), key=lambda i: perm[i])
    return b.op("Transpose", [out], perm=inverse) if axis else out


def _gather_elements(b, node, xs):
    return b.op("GatherElements", [xs[0], _as_int64(b, node, xs[1])], axis=node.attrs.axis)


def _scatter_add(b, node, xs):
    base, idx, src = xs
    idx = _nonnegative(b, _as_int64(b, node, idx), base, node.attrs.axis)
    return b.op("ScatterElements", [base, idx, src], axis=node.attrs.axis, reduction="add")


def _nll(b, node, xs):
    """-sum over classes of Where(one_hot(target), logp, 0) (summed or averaged over the
    one-hot's count for reductions): ONNX's NegativeLogLikelihoodLoss is a function that
    onnxruntime expands into ~14 nodes. The one-hot and its count are built exactly as the
    gradient rule's ir nodes lower (Reshape to (N, 1, ...), Equal with the class indices, Cast,
    ReduceSum), so the builder emits them once for the loss and its gradient."""
    logp, target = node.inputs
    reduction = node.attrs.reduction
    classes = logp.shape[1]
    trailing = (1,) * (len(logp.shape) - 2)
    dims = list(target.shape[:1]) + [1] + list(target.shape[1:])
    dyn = b.dynamic.get(target, set())
    if dyn - {0}:
        return b.op("NegativeLogLikelihoodLoss", [xs[0], _as_int64(b, node, xs[1])], reduction=reduction,
                    ignore_index=node.attrs.ignore_index)
    if 0 in dyn:
        dims[0] = 0
    column = b.op("Reshape", [_as_int64(b, node, xs[1]), b.int64s(dims)])
    index = b.const(np.arange(classes, dtype=np.int64).reshape((1, classes) + trailing))
    hit = b.op("Equal", [column, index])
    if node.attrs.ignore_index in range(classes):
        kept = b.op("Not", [b.op("Equal", [column, b.const(node.attrs.ignore_index, dtype="int64")])])
        hit = b.op("And", [hit, kept])
    picked = b.op("Where", [hit, xs[0], b.scalar_like(0, logp.dtype)])
    if reduction == "none":
        return b.op("Neg", [b.op("ReduceSum", [picked, b.int64s([1])], keepdims=0)])
    every = b.int64s(list(range(len(logp.shape))))
    total = b.op("ReduceSum", [picked, every], keepdims=0)
    if reduction == "mean":
        count = b.op("ReduceSum", [b.op("Cast", [hit], to=ONNX_TYPE[logp.dtype]), every], keepdims=0)
        total = b.op("Div", [total, count])
    return b.op("Neg", [total])


LOWERINGS = {
    I.nll_loss: _nll,
    I.take: _take,
    I.index_add: _index_add,
    I.gather_elements: _gather_elements,
    I.scatter_add: _scatter_add,
}
