"""ONNX lowerings for ir/ops/shape.py. Shapes are constants, except where a dim is dynamic:
then Reshape copies it (0) or infers it (-1) and Expand keeps it (1) or reads a runtime shape."""
from __future__ import annotations

import numpy as np

from ir.ops.dynamic import fail as _fail
from ir.ops.shape import reshape_plan
from ir.ops import shape as S


def _reshape(b, node, xs):
    target, _ = reshape_plan(node, b.dynamic.get(node.inputs[0], set()))
    return b.op("Reshape", [xs[0], b.int64s(target)])


def _permute(b, node, xs):
    return b.op("Transpose", xs, perm=list(node.attrs.perm))


def _expand(b, node, xs):
    x = node.inputs[0]
    target = list(node.attrs.shape)
    offset = len(target) - len(x.shape)
    dyn_out = b.dynamic.get(node, set())
    for d in dyn_out:
        if x.shape[d - offset] == 1 and target[d] != 1:
            _fail(node, f"a size-1 dim is expanded to the dynamic dim {d}")
        target[d] = 1  # Expand broadcasts: 1 keeps the input's runtime size
    return b.op("Expand", [xs[0], b.int64s(target)])


def _expand_like(b, node, xs):
    ref = node.inputs[1]
    if b.dynamic.get(ref):
        return b.op("Expand", [xs[0], b.op("Shape", [xs[1]])])
    return b.op("Expand", [xs[0], b.int64s(ref.shape)])


def _concat(b, node, xs):
    return b.op("Concat", xs, axis=node.attrs.axis)


def _slice(b, node, xs):
    a = node.attrs
    x = node.inputs[0]
    axes = [i for i, (s, e, st) in enumerate(zip(a.starts, a.ends, a.steps)) if (s, e, st) != (0, x.shape[i], 1)]
    if not axes:
        return b.op("Identity", xs)
    starts, ends, steps = ([seq[i] for i in axes] for seq in (a.starts, a.ends, a.steps))
    return b.op("Slice", [xs[0], b.int64s(starts), b.int64s(ends), b.int64s(axes), b.int64s(steps)])


def _slice_update(b, node, xs):
    """ScatterND at the slice's static coordinates (an index grid of the slice's shape). A
    write of the whole value (``copy_``/``fill_`` of a non-leaf, an in-place activation, any
    write to a 0-d value, which ScatterND rejects) is the update itself: no node."""
    a = node.attrs
    whole = all(s == 0 and st == 1 and e == n for s, e, st, n in zip(a.starts, a.ends, a.steps, node.shape))
    if whole and tuple(node.inputs[1].shape) == tuple(node.shape):
        return xs[1]
    ranges = [np.arange(s, e, st, dtype=np.int64) for s, e, st in zip(a.starts, a.ends, a.steps)]
    grid = np.stack(np.meshgrid(*ranges, indexing="ij"), axis=-1)
    return b.op("ScatterND", [xs[0], b.const(grid), xs[1]])


def _pad(b, node, xs):
    """ONNX Pad in constant mode (negative pads crop, as in the spec)."""
    x = node.inputs[0]
    if not any(node.attrs.pads):
        return b.op("Identity", xs)
    value = b.const(np.array(node.attrs.value).astype(x.dtype.np))
    return b.op("Pad", [xs[0], b.int64s(list(node.attrs.pads)), value], mode="constant")


def _trilu(b, node, xs):
    """ir trilu -> ONNX Trilu (opset 14) with ``k`` as an input."""
    a = node.attrs
    return b.op("Trilu", [xs[0], b.const(np.array(a.k, dtype=np.int64))], upper=int(a.upper))


LOWERINGS = {
    S.reshape: _reshape,
    S.permute: _permute,
    S.expand: _expand,
    S.expand_like: _expand_like,
    S.concat: _concat,
    S.slice_: _slice,
    S.slice_update: _slice_update,
    S.pad: _pad,
    S.trilu: _trilu,
}
