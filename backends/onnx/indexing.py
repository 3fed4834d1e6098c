"""ONNX lowerings for ir/ops/indexing.py: Gather, GatherElements and the scatter-adds
(ScatterND / ScatterElements with reduction="add", opset 16+). torch accepts negative indices;
so do ONNX's Gather, GatherElements and ScatterElements, while ScatterND's are normalised first."""
from __future__ import annotations

import numpy as np

from backends.onnx.builder import ONNX_TYPE
from backends.onnx.importing import normalize_axes, unsupported
from backends.onnx.pool import pooled_values
from ir import dtypes
from ir.ops import elementwise as E
from ir.ops import indexing as I
from ir.ops import linalg as L
from ir.ops import reduce as R
from ir.ops import shape as S


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
    pooled = pooled_values(b, node)
    if pooled is not None:
        return pooled
    return b.op("GatherElements", [xs[0], _as_int64(b, node, xs[1])], axis=node.attrs.axis)


def _scatter_add(b, node, xs):
    base, idx, src = xs
    return b.op("ScatterElements", [base, _as_int64(b, node, idx), src], axis=node.attrs.axis, reduction="add")


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


# -- import rules (ONNX -> ir; ``backends/onnx/load.py`` is the driver) ------------------------
def _index(g, i, size):
    """Index input ``i`` with negative entries counted from ``size`` (ONNX and torch allow them)."""
    idx = g.x(i)
    if idx.dtype.kind != "i":
        g.fail(f"indices must be int32 or int64, got {idx.dtype.name}")
    value = g.static(idx)
    if value is not None:
        return g.constant(np.where(value < 0, value + size, value).astype(value.dtype))
    zero = g.scalar(0, idx.dtype)
    return g.add(E.where, [g.add(E.lt, [idx, zero]), g.add(E.add, [idx, g.scalar(size, idx.dtype)]), idx])


def _imp_gather(g):
    x = g.x(0)
    axis = normalize_axes(g, [g.attr("axis", 0)], len(x.shape))[0]
    return g.add(I.take, [x, _index(g, 1, x.shape[axis])], I.AxisAttrs(axis))


def _imp_gather_elements(g):
    x = g.x(0)
    axis = normalize_axes(g, [g.attr("axis", 0)], len(x.shape))[0]
    return g.add(I.gather_elements, [x, _index(g, 1, x.shape[axis])], I.AxisAttrs(axis))


def _linear_index(g, idx, dims):
    """``idx[..., j]`` over the leading ``dims`` of a tensor as one flat position (row-major),
    negative entries counted from each dim's end."""
    idx = g.cast(idx, dtypes.int64)
    sizes = g.constant(np.array(dims, dtype=np.int64))
    zero = g.scalar(0, dtypes.int64)
    idx = g.add(E.where, [g.add(E.lt, [idx, zero]), g.add(E.add, [idx, sizes]), idx])
    strides = [int(np.prod(dims[j + 1:], dtype=np.int64)) for j in range(len(dims))]
    return g.add(L.matmul, [idx, g.constant(np.array(strides, dtype=np.int64))])


def _imp_gather_nd(g):
    """GatherND as a take from the data with its indexed (and batch) dims merged into one."""
    x, idx = g.x(0), g.x(1)
    b = g.attr("batch_dims", 0)
    k = idx.shape[-1]
    batch, indexed, rest = x.shape[:b], x.shape[b:b + k], x.shape[b + k:]
    linear = _linear_index(g, idx, list(indexed))
    if b:
        offsets = np.arange(int(np.prod(batch)), dtype=np.int64).reshape(batch + (1,) * (len(idx.shape) - 1 - b))
        linear = g.add(E.add, [linear, g.constant(offsets * int(np.prod(indexed, dtype=np.int64)))])
    flat = g.add(S.reshape, [x], S.ShapeAttrs((int(np.prod(batch + indexed, dtype=np.int64)),) + rest))
    out = g.add(I.take, [flat, linear], I.AxisAttrs(0))
    return out


_COMBINE = {"none": None, "mul": E.mul, "max": E.maximum, "min": E.minimum}


def _static_scatter(g, flat, positions, updates, reduction):
    """Scatter ``updates`` (one row per entry of the static ``positions``) into the rows of
    ``flat``, in index order: rounds of (take the round's update per row, combine where the row
    has one), as many rounds as the most repeated position has updates. An overwrite keeps the
    last update, as ONNX's reference does."""
    rows = flat.shape[0]
    rest = (1,) * (len(flat.shape) - 1)
    seen: dict = {}
    rounds: list = []
    for u, p in enumerate(positions.tolist()):
        if not 0 <= p < rows:
            g.fail(f"index {p} is out of range for {rows} rows")
        r = seen.get(p, 0)
        seen[p] = r + 1
        if r == len(rounds):
            rounds.append({})
        rounds[r][p] = u
    combine = _COMBINE[reduction]
    out = flat
    for picks in rounds:
        take = np.zeros(rows, dtype=np.int64)
        mask = np.zeros(rows, dtype=bool)
        for p, u in picks.items():
            take[p], mask[p] = u, True
        taken = g.add(I.take, [updates, g.constant(take)], I.AxisAttrs(0))
        value = taken if combine is None else g.add(combine, [out, taken])
        out = g.add(E.where, [g.constant(mask.reshape((rows,) + rest)), value, out])
    return out


def _imp_tensor_scatter(g):
    """TensorScatter (opset 24): each batch entry's update written into the cache from its
    ``write_indices`` position on (wrapping with mode="circular"), as a gather from the update
    at each cache position's source step where it has one."""
    cache, update = g.x(0), g.x(1)
    rank = len(cache.shape)
    axis = normalize_axes(g, [g.attr("axis", -2)], rank)[0]
    mode = g.attr("mode", "linear")
    if mode not in ("linear", "circular"):
        unsupported(g, "mode", mode, "'linear', 'circular'")
    if axis == 0 or len(update.shape) != rank or update.dtype is not cache.dtype or any(
            u != c for i, (u, c) in enumerate(zip(update.shape, cache.shape)) if i != axis) \
            or update.shape[axis] > cache.shape[axis]:
        g.fail(f"update {list(update.shape)} must match cache {list(cache.shape)} except along axis {axis} "
               "(not the batch axis), and not be longer there")
    batch, length, steps = cache.shape[0], cache.shape[axis], update.shape[axis]
    if g.has(2):
        starts = g.add(S.reshape, [g.cast(g.x(2), dtypes.int64)], S.ShapeAttrs((batch, 1)))
    else:
        starts = g.constant(np.zeros((batch, 1), dtype=np.int64))
    source = g.add(E.sub, [g.constant(np.arange(length, dtype=np.int64).reshape(1, length)), starts])
    if mode == "circular":
        source = g.add(E.remainder, [source, g.scalar(length, dtypes.int64)])
    valid = g.add(E.logical_and, [g.add(E.ge, [source, g.scalar(0, dtypes.int64)]),
                                  g.add(E.lt, [source, g.scalar(steps, dtypes.int64)])])
    column = [1] * rank
    column[0], column[axis] = batch, length
    source = g.add(S.reshape, [g.add(E.clamp, [source], E.ClampAttrs(0, max(steps - 1, 0)))], S.ShapeAttrs(tuple(column)))
    valid = g.add(S.reshape, [valid], S.ShapeAttrs(tuple(column)))
    if steps == 0:
        return g.add(E.cast, [cache], E.CastAttrs(cache.dtype))
    index = g.add(S.expand, [source], S.ShapeAttrs(cache.shape))
    written = g.add(I.gather_elements, [update, index], S.AxisAttrs(axis))
    return g.add(E.where, [valid, written, cache])


def _imp_scatter_elements(g):
    """ScatterElements: reduction="add" is the ir's scatter_add; an overwrite, "mul", "max" and
    "min" need static indices (``_static_scatter`` over the flattened data)."""
    x = g.x(0)
    axis = normalize_axes(g, [g.attr("axis", 0)], len(x.shape))[0]
    reduction = g.attr("reduction", "none")
    if reduction == "add":
        return g.add(I.scatter_add, [x, _index(g, 1, x.shape[axis]), g.x(2)], I.AxisAttrs(axis))
    if reduction not in _COMBINE:
        unsupported(g, "reduction", reduction, "'none', 'add', 'mul', 'max', 'min'")
    idx = np.asarray(g.const(1)).astype(np.int64)
    updates = g.x(2)
    if idx.shape != tuple(updates.shape) or len(idx.shape) != len(x.shape):
        g.fail(f"indices {list(idx.shape)} and updates {list(updates.shape)} must have one shape, of the data's rank")
    idx = np.where(idx < 0, idx + x.shape[axis], idx)
    if idx.size and (idx.min() < 0 or idx.max() >= x.shape[axis]):
        g.fail(f"indices must be in [-{x.shape[axis]}, {x.shape[axis]})")
    coords = list(np.indices(idx.shape, dtype=np.int64)) if idx.size else [np.zeros(idx.shape, np.int64)] * idx.ndim
    coords[axis] = idx
    positions = np.ravel_multi_index(tuple(coords), x.shape).reshape(-1) if idx.size else np.zeros(0, np.int64)
    n = int(np.prod(x.shape, dtype=np.int64))
    flat = g.add(S.reshape, [x], S.ShapeAttrs((n,)))
    flat_updates = g.add(S.reshape, [updates], S.ShapeAttrs((int(idx.size),)))
    return g.add(S.reshape, [_static_scatter(g, flat, positions, flat_updates, reduction)], S.ShapeAttrs(x.shape))


def _imp_scatter_nd(g):
    """ScatterND over the data's leading dims merged into one: reduction="add" is index_add;
    an overwrite (reduction="none") needs static, distinct indices: an add into zeros there."""
    x, idx, updates = g.x(0), g.x(1), g.x(2)
    reduction = g.attr("reduction", "none")
    k = idx.shape[-1]
    head, rest = x.shape[:k], x.shape[k:]
    rows = int(np.prod(head, dtype=np.int64))
    flat = g.add(S.reshape, [x], S.ShapeAttrs((rows,) + rest))
    linear = _linear_index(g, idx, list(head))
    if reduction == "add":
        out = g.add(I.index_add, [flat, linear, updates], I.AxisAttrs(0))
    elif reduction in _COMBINE:
        g.const(1)  # an overwrite or a mul/max/min needs static indices: this names the input
        positions = g.static(linear).reshape(-1)
        if reduction != "none" or len(set(positions.tolist())) != positions.size:
            m = positions.size
            rows_of_updates = g.add(S.reshape, [updates], S.ShapeAttrs((m,) + rest))
            return g.add(S.reshape, [_static_scatter(g, flat, positions, rows_of_updates, reduction)],
                         S.ShapeAttrs(x.shape))
        zeros = g.add(S.expand, [g.scalar(0, x.dtype)], S.ShapeAttrs(flat.shape))
        scattered = g.add(I.index_add, [zeros, linear, updates], I.AxisAttrs(0))
        mask = np.zeros(rows, dtype=bool)
        mask[positions] = True
        mask = g.constant(mask.reshape((rows,) + (1,) * len(rest)))
        out = g.add(E.where, [mask, scattered, flat])
    else:
        unsupported(g, "reduction", reduction, "'none', 'add', 'mul', 'max', 'min'")
    return g.add(S.reshape, [out], S.ShapeAttrs(x.shape))


def _nll(g, logp, target, reduction):
    """NegativeLogLikelihoodLoss, with class weights (input 2) when given: each element's loss
    times its target's weight, a mean divided by the weights' sum (ONNX's and torch's rule)."""
    ignore = g.attr("ignore_index", -100)
    if not g.has(2):
        return g.add(I.nll_loss, [logp, target], I.NllAttrs(ignore, reduction))
    per = g.add(I.nll_loss, [logp, target], I.NllAttrs(ignore, "none"))
    kept = g.add(E.ne, [target, g.scalar(ignore, target.dtype)])
    safe = g.add(E.where, [kept, target, g.scalar(0, target.dtype)])
    weight = g.add(E.mul, [g.add(I.take, [g.x(2), safe], I.AxisAttrs(0)), g.cast(kept, logp.dtype)])
    per = g.add(E.mul, [per, weight])
    if reduction == "none":
        return per
    every = R.ReduceAttrs(tuple(range(len(per.shape))), False)
    total = g.add(R.sum_, [per], every)
    if reduction == "sum":
        return total
    if reduction != "mean":
        unsupported(g, "reduction", reduction, "'none', 'sum', 'mean'")
    return g.add(E.div, [total, g.add(R.sum_, [weight], every)])


def _imp_nll(g):
    return _nll(g, g.x(0), g.x(1), g.attr("reduction", "mean"))


def _imp_softmax_cross_entropy(g):
    logp = g.add(R.log_softmax, [g.x(0)], R.SoftmaxAttrs(1))
    return [_nll(g, logp, g.x(1), g.attr("reduction", "mean")), logp]


def _imp_one_hot(g):
    idx, depth, values = g.x(0), int(np.asarray(g.const(1)).reshape(-1)[0]), g.x(2)
    rank = len(idx.shape) + 1
    axis = normalize_axes(g, [g.attr("axis", -1)], rank)[0]
    shape = [1] * rank
    shape[axis] = depth
    classes = g.constant(np.arange(depth, dtype=np.int64).reshape(shape))
    idx = g.cast(idx, dtypes.int64)  # float indices are allowed by ONNX: they truncate
    wrapped = g.add(E.add, [idx, g.scalar(depth, dtypes.int64)])
    idx = g.add(E.where, [g.add(E.lt, [idx, g.scalar(0, dtypes.int64)]), wrapped, idx])
    column = g.add(S.reshape, [idx], S.ShapeAttrs(tuple(idx.shape[:axis]) + (1,) + tuple(idx.shape[axis:])))
    hit = g.add(E.eq, [column, classes])
    off = g.add(I.take, [values, g.constant(np.array(0, dtype=np.int64))], I.AxisAttrs(0))
    on = g.add(I.take, [values, g.constant(np.array(1, dtype=np.int64))], I.AxisAttrs(0))
    return g.add(E.where, [hit, on, off])


IMPORTS = {
    "Gather": _imp_gather,
    "GatherElements": _imp_gather_elements,
    "GatherND": _imp_gather_nd,
    "TensorScatter": _imp_tensor_scatter,
    "ScatterElements": _imp_scatter_elements,
    "ScatterND": _imp_scatter_nd,
    "NegativeLogLikelihoodLoss": _imp_nll,
    "SoftmaxCrossEntropyLoss": _imp_softmax_cross_entropy,
    "OneHot": _imp_one_hot,
}
