"""ONNX lowerings for ir/ops/reduce.py. ReduceSum takes axes as an input from opset 13, the
other reductions from opset 18 (an attribute before); an empty axis list reduces nothing."""
from __future__ import annotations

import math

import numpy as np

from backends.onnx.builder import ONNX_TYPE, bools_via_int32
from backends.onnx.importing import normalize_axes, unsupported
from ir import dtypes
from ir.ops import elementwise as E
from ir.ops import indexing as I
from ir.ops import reduce as R
from ir.ops import shape as S


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


#: The (op, dtype) pairs for which onnxruntime's kernel is already NaN over a whole slice that
#: holds NaN or +inf or only -inf, as torch's (measured over axis lengths 1 to 1000 at both
#: optimisation levels; tests/backends/test_onnx_export.py checks it): those need no guard, which
#: costs ~9 full-size nodes per softmax. Its float64 LogSoftmax is not (finite entries stay finite).
_NAN_AS_TORCH = {("Softmax", dtypes.float32), ("Softmax", dtypes.float64), ("LogSoftmax", dtypes.float32)}


def _softmax(op_type: str):
    def lower(b, node, xs):
        if not node.shape:
            return b.const(np.asarray(0.0 if op_type == "LogSoftmax" else 1.0, dtype=node.dtype.np))
        out = b.op(op_type, xs, axis=node.attrs.axis)
        if node.shape[node.attrs.axis] == 0 or (op_type, node.dtype) in _NAN_AS_TORCH:
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


# -- import rules (ONNX -> ir; ``backends/onnx/load.py`` is the driver) ------------------------
def _reduce_axes(g, from_input: bool):
    """The reduced axes (sorted, non-negative), or None for "reduce nothing" (noop_with_empty_axes)."""
    x = g.x(0)
    axes = g.ints(1) if from_input else g.attr("axes")
    if not axes:
        if g.attr("noop_with_empty_axes", 0):
            return None
        return list(range(len(x.shape)))
    g.attr("noop_with_empty_axes", 0)
    return sorted(set(normalize_axes(g, axes, len(x.shape))))


def _reduce_with(g, op, x, axes):
    return g.add(op, [x], R.ReduceAttrs(tuple(axes), bool(g.attr("keepdims", 1))))


def _imp_reduce(kind: str, from_input: bool):
    """One ONNX reduction as ir ops: ``kind`` names the composition."""
    def rule(g):
        x = g.x(0)
        axes = _reduce_axes(g, from_input)
        g.attr("keepdims", 1)
        if axes is None:
            return g.add(E.cast, [x], E.CastAttrs(x.dtype))
        if kind in EMPTY_IDENTITY and any(x.shape[a] == 0 for a in axes):
            return _empty_extremum(g, kind, x, axes)
        if kind in SIMPLE_REDUCTIONS:
            return _reduce_with(g, SIMPLE_REDUCTIONS[kind], x, axes)
        if kind == "Mean":
            count = math.prod(x.shape[a] for a in axes)
            return g.add(E.div, [_reduce_with(g, R.sum_, x, axes), g.scalar(count, x.dtype)])
        if kind == "L1":
            return _reduce_with(g, R.sum_, g.add(E.abs_, [x]), axes)
        if kind in ("L2", "SumSquare"):
            total = _reduce_with(g, R.sum_, g.add(E.mul, [x, x]), axes)
            return g.add(E.sqrt, [total]) if kind == "L2" else total
        if kind == "LogSum":
            return g.add(E.log, [_reduce_with(g, R.sum_, x, axes)])
        return _log_sum_exp(g, x, axes)
    rule.__doc__ = f"ONNX Reduce{kind} -> ir ops (axes as {'an input' if from_input else 'an attribute'})."
    return rule


def _log_sum_exp(g, x, axes):
    """m + log(sum(exp(x - m))) with m the (detached) max; m = 0 where it is not finite."""
    m = g.add(E.detach, [g.add(R.amax, [x], R.ReduceAttrs(tuple(axes), True))])
    finite = g.add(E.eq, [g.add(E.sub, [m, m]), g.scalar(0, x.dtype)])
    m = g.add(E.where, [finite, m, g.scalar(0, x.dtype)])
    total = _reduce_with(g, R.sum_, g.add(E.exp, [g.add(E.sub, [x, m])]), axes)
    keep = bool(g.attr("keepdims", 1))
    shift = m if keep else g.add(S.reshape, [m], S.ShapeAttrs(R.reduced_shape(x.shape, axes, False)))
    return g.add(E.add, [g.add(E.log, [total]), shift])


SIMPLE_REDUCTIONS = {"Sum": R.sum_, "Max": R.amax, "Min": R.amin, "Prod": R.prod}
#: Reductions with no identity of their own: over an empty set ONNX gives these (-inf / +inf,
#: the dtype's extreme for integers, False / True for bools).
EMPTY_IDENTITY = {"Max": -1, "Min": 1, "LogSumExp": -1}


def _empty_extremum(g, kind, x, axes):
    """ReduceMax/Min/LogSumExp over an empty axis: a constant of the reduced shape."""
    side = EMPTY_IDENTITY[kind]
    dt = x.dtype.np
    if x.dtype.kind == "f":
        value = side * np.inf
    elif x.dtype.kind == "b":
        value = side > 0
    else:
        value = np.iinfo(dt).max if side > 0 else np.iinfo(dt).min
    shape = R.reduced_shape(x.shape, axes, bool(g.attr("keepdims", 1)))
    return g.constant(np.full(shape, value, dtype=dt))


def _imp_arg(op):
    def rule(g):
        x = g.x(0)
        axis = normalize_axes(g, [g.attr("axis", 0)], len(x.shape))[0]
        keep = bool(g.attr("keepdims", 1))
        if not g.attr("select_last_index", 0):
            return g.add(op, [x], R.ArgAttrs(axis, keep))
        d = x.shape[axis]
        flipped = g.add(I.take, [x, g.constant(np.arange(d - 1, -1, -1, dtype=np.int64))], S.AxisAttrs(axis))
        found = g.add(op, [flipped], R.ArgAttrs(axis, keep))
        return g.add(E.sub, [g.scalar(d - 1, found.dtype), found])
    rule.__doc__ = f"ONNX -> ir {op.name}."
    return rule


def _imp_softmax(op):
    def rule(g):
        x = g.x(0)
        axis = normalize_axes(g, [g.attr("axis", -1)], len(x.shape))[0]
        return g.add(op, [x], R.SoftmaxAttrs(axis))
    rule.__doc__ = f"ONNX -> ir {op.name} (opset 13+: one axis)."
    return rule


def _imp_cumsum(g):
    x = g.x(0)
    axis = normalize_axes(g, [int(np.asarray(g.const(1)).reshape(-1)[0])], len(x.shape))[0]
    return g.add(R.cumsum, [x], R.CumsumAttrs(axis, bool(g.attr("reverse", 0)), bool(g.attr("exclusive", 0))))


def _imp_topk(g):
    """TopK: the ir's sorted indices, the values gathered at them."""
    x = g.x(0)
    axis = normalize_axes(g, [g.attr("axis", -1)], len(x.shape))[0]
    k = g.ints(1)[0]
    g.attr("sorted", 1)  # unsorted output may be in any order: sorted is one of them
    indices = g.add(R.topk_indices, [x], R.TopkAttrs(axis, k, bool(g.attr("largest", 1))))
    return [g.add(I.gather_elements, [x, indices], S.AxisAttrs(axis)), indices]


def _channel_column(g, v, rank):
    """A (C,) parameter as (C, 1, ...) to broadcast against (N, C, *spatial)."""
    return g.add(S.reshape, [v], S.ShapeAttrs((v.shape[0],) + (1,) * (rank - 2)))


def _imp_batch_norm(g):
    """BatchNormalization at inference: (x - mean) / sqrt(var + eps) scale + bias."""
    x = g.x(0)
    rank = len(x.shape)
    if rank < 2:
        g.fail(f"expects an input of rank 2 or more, got {list(x.shape)}")
    if g.attr("training_mode", 0):
        return _batch_norm_training(g, x, rank)
    g.attr("momentum")
    scale, bias, mean, var = (_channel_column(g, g.x(i), rank) if rank > 2 else g.x(i) for i in range(1, 5))
    eps = g.scalar(g.attr("epsilon", 1e-5), x.dtype)
    inv = g.add(E.rsqrt, [g.add(E.add, [var, eps])])
    y = g.add(E.mul, [g.add(E.sub, [x, mean]), g.add(E.mul, [inv, scale])])
    return g.add(E.add, [y, bias])


def _batch_norm_training(g, x, rank):
    """BatchNormalization with training_mode=1: normalized with the batch's statistics (biased
    variance); the running mean and variance outputs are momentum-blended with them."""
    axes = (0,) + tuple(range(2, rank))
    y, mean, inv = _normalized(g, x, axes, g.attr("epsilon", 1e-5))
    scale, bias = (_channel_column(g, g.x(i), rank) if rank > 2 else g.x(i) for i in (1, 2))
    y = g.add(E.add, [g.add(E.mul, [y, scale]), bias])
    momentum = g.attr("momentum", 0.9)
    count = g.scalar(math.prod(x.shape[a] for a in axes), x.dtype)
    flat = R.ReduceAttrs(axes, False)
    batch_mean = g.add(E.div, [g.add(R.sum_, [x], flat), count])
    centered = g.add(E.sub, [x, mean])
    batch_var = g.add(E.div, [g.add(R.sum_, [g.add(E.mul, [centered, centered])], flat), count])
    def blend(running, batch):  # noqa: E306
        return g.add(E.add, [g.add(E.mul, [running, g.scalar(momentum, x.dtype)]),
                             g.add(E.mul, [batch, g.scalar(1 - momentum, x.dtype)])])
    return [y, blend(g.x(3), batch_mean), blend(g.x(4), batch_var)]


def _normalized(g, x, axes, eps):
    """(x - mean) / sqrt(var + eps) over ``axes`` (biased variance), with the mean and 1/std."""
    count = g.scalar(math.prod(x.shape[a] for a in axes), x.dtype)
    keep = R.ReduceAttrs(tuple(axes), True)
    mean = g.add(E.div, [g.add(R.sum_, [x], keep), count])
    centered = g.add(E.sub, [x, mean])
    var = g.add(E.div, [g.add(R.sum_, [g.add(E.mul, [centered, centered])], keep), count])
    inv = g.add(E.rsqrt, [g.add(E.add, [var, g.scalar(eps, x.dtype)])])
    return g.add(E.mul, [centered, inv]), mean, inv


def _imp_layer_norm(g):
    x = g.x(0)
    axis = normalize_axes(g, [g.attr("axis", -1)], len(x.shape))[0]
    stash = g.attr("stash_type", 1)
    if stash != 1 and x.dtype is not dtypes.float64:
        g.fail(f"stash_type={stash} is not supported (1: float32 statistics)")
    y, mean, inv = _normalized(g, x, range(axis, len(x.shape)), g.attr("epsilon", 1e-5))
    y = g.add(E.mul, [y, g.x(1)])
    if g.has(2):
        y = g.add(E.add, [y, g.x(2)])
    return [y, mean, inv]


def _imp_instance_norm(g):
    x = g.x(0)
    rank = len(x.shape)
    y, _, _ = _normalized(g, x, range(2, rank), g.attr("epsilon", 1e-5))
    y = g.add(E.mul, [y, _channel_column(g, g.x(1), rank)])
    return g.add(E.add, [y, _channel_column(g, g.x(2), rank)])


def _imp_hardmax(g):
    """Hardmax (opset 13): 1 at the first maximum along ``axis``, else 0 (argmax == arange)."""
    x = g.x(0)
    axis = normalize_axes(g, [g.attr("axis", -1)], len(x.shape))[0]
    if x.type.numel == 0:
        return g.add(E.cast, [x], E.CastAttrs(x.dtype))
    found = g.add(R.argmax, [x], R.ArgAttrs(axis, True))
    column = [1] * len(x.shape)
    column[axis] = x.shape[axis]
    positions = g.constant(np.arange(x.shape[axis], dtype=np.int64).reshape(column))
    return g.cast(g.add(E.eq, [found, positions]), x.dtype)


def _imp_lp_normalization(g):
    """LpNormalization: x / (sum |x|^p)^(1/p) along ``axis`` (p 1 or 2); 0 where the norm is 0."""
    x = g.x(0)
    axis = normalize_axes(g, [g.attr("axis", -1)], len(x.shape))[0]
    p = g.attr("p", 2)
    if p not in (1, 2):
        unsupported(g, "p", p, "1, 2")
    keep = R.ReduceAttrs((axis,), True)
    if p == 1:
        norm = g.add(R.sum_, [g.add(E.abs_, [x])], keep)
    else:
        norm = g.add(E.sqrt, [g.add(R.sum_, [g.add(E.mul, [x, x])], keep)])
    zero = g.scalar(0, x.dtype)
    is_zero = g.add(E.eq, [norm, zero])
    safe = g.add(E.where, [is_zero, g.scalar(1, x.dtype), norm])
    return g.add(E.where, [is_zero, zero, g.add(E.div, [x, safe])])


def _imp_cum_prod(g):
    """CumProd: the product over a (n, n) triangle of the axis: each output multiplies the
    elements at or before it (after with ``reverse``; strictly so with ``exclusive``), the
    others replaced by 1."""
    x = g.x(0)
    rank = len(x.shape)
    axis = normalize_axes(g, [int(np.asarray(g.const(1)).reshape(-1)[0])], rank)[0]
    reverse, exclusive = bool(g.attr("reverse", 0)), bool(g.attr("exclusive", 0))
    n = x.shape[axis]
    i, j = np.arange(n).reshape(n, 1), np.arange(n).reshape(1, n)
    keep = (j >= i if reverse else j <= i) if not exclusive else (j > i if reverse else j < i)
    # x as (..., 1 [i], n [j], ...): the j axis sits right after the output axis i
    moved = g.add(S.reshape, [x], S.ShapeAttrs(x.shape[:axis] + (1, n) + x.shape[axis + 1:]))
    mask = keep.reshape((n, n) + (1,) * (rank - axis - 1))
    big = x.shape[:axis] + (n, n) + x.shape[axis + 1:]
    spread = g.add(S.expand, [moved], S.ShapeAttrs(big))
    ones = g.add(S.expand, [g.scalar(1, x.dtype)], S.ShapeAttrs(big))
    picked = g.add(E.where, [g.constant(np.broadcast_to(mask, big[axis:]).copy()), spread, ones])
    return g.add(R.prod, [picked], R.ReduceAttrs((axis + 1,), False))


def _mean_over(g, x, axes):
    count = g.scalar(math.prod(x.shape[a] for a in axes), x.dtype)
    return g.add(E.div, [g.add(R.sum_, [x], R.ReduceAttrs(tuple(axes), True)), count])


def _imp_rms_norm(g):
    """RMSNormalization: x / sqrt(mean(x^2) + eps) * scale over the axes from ``axis`` on."""
    x = g.x(0)
    rank = len(x.shape)
    axis = normalize_axes(g, [g.attr("axis", -1)], rank)[0]
    g.attr("stash_type", 1)  # the statistics are computed in the input's dtype (float32 or float64)
    if x.dtype.kind != "f":
        g.fail(f"expects a floating-point input, got {x.dtype.name}")
    mean = _mean_over(g, g.add(E.mul, [x, x]), range(axis, rank))
    rms = g.add(E.sqrt, [g.add(E.add, [mean, g.scalar(g.attr("epsilon", 1e-5), x.dtype)])])
    y = g.add(E.mul, [x, g.add(E.reciprocal, [rms])])
    return g.add(E.mul, [y, g.cast(g.x(1), x.dtype)])


def _imp_group_norm(g):
    """GroupNormalization (opset 21): each of ``num_groups`` channel groups normalized, then a
    per-channel scale and bias."""
    x = g.x(0)
    groups = g.attr("num_groups")
    g.attr("stash_type", 1)
    n, c = x.shape[:2]
    if groups is None or groups <= 0 or c % groups:
        g.fail(f"num_groups={groups!r} must divide the {c} channels")
    grouped = g.add(S.reshape, [x], S.ShapeAttrs((n, groups, math.prod(x.shape[1:]) // groups)))
    y, _, _ = _normalized(g, grouped, (2,), g.attr("epsilon", 1e-5))
    y = g.add(S.reshape, [y], S.ShapeAttrs(x.shape))
    rank = len(x.shape)
    y = g.add(E.mul, [y, _channel_column(g, g.x(1), rank)])
    return g.add(E.add, [y, _channel_column(g, g.x(2), rank)])


def _imp_mvn(g):
    """MeanVarianceNormalization: (x - mean) / sqrt(var) over ``axes`` (default 0, 2, 3), eps 1e-9."""
    x = g.x(0)
    axes = sorted(set(normalize_axes(g, g.attr("axes", [0, 2, 3]), len(x.shape))))
    mean = _mean_over(g, x, axes)
    var = g.add(E.sub, [_mean_over(g, g.add(E.mul, [x, x]), axes), g.add(E.mul, [mean, mean])])
    std = g.add(E.add, [g.add(E.sqrt, [var]), g.scalar(1e-9, x.dtype)])
    return g.add(E.div, [g.add(E.sub, [x, mean]), std])


IMPORTS = {
    "Hardmax": _imp_hardmax,
    "LpNormalization": _imp_lp_normalization,
    "CumProd": _imp_cum_prod,
    "RMSNormalization": _imp_rms_norm,
    ("GroupNormalization", 21): _imp_group_norm,  # opset 18's per-group scale and bias: not imported
    "MeanVarianceNormalization": _imp_mvn,
    "Softmax": _imp_softmax(R.softmax),
    "BatchNormalization": _imp_batch_norm,
    "LayerNormalization": _imp_layer_norm,
    "InstanceNormalization": _imp_instance_norm,
    "LogSoftmax": _imp_softmax(R.log_softmax),
    "ArgMax": _imp_arg(R.argmax),
    "ArgMin": _imp_arg(R.argmin),
    "CumSum": _imp_cumsum,
    "TopK": _imp_topk,
    "ReduceSum": _imp_reduce("Sum", True),
}
for _kind in ("Max", "Min", "Prod", "Mean", "L1", "L2", "SumSquare", "LogSum", "LogSumExp"):
    IMPORTS[(f"Reduce{_kind}", 13)] = _imp_reduce(_kind, False)
    IMPORTS[(f"Reduce{_kind}", 18)] = _imp_reduce(_kind, True)
