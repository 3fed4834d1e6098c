"""ONNX lowerings for ir/ops/shape.py. Shapes are constants, except where a dim is dynamic:
then Reshape copies it (0) or infers it (-1) and Expand keeps it (1) or reads a runtime shape."""
from __future__ import annotations

import itertools
import math

import numpy as np

from backends.onnx.importing import ir_dtype, normalize_axes, unsupported
from ir import dtypes
from ir.ops import elementwise as E
from ir.ops import indexing as I
from ir.ops import linalg as L
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


# -- import rules (ONNX -> ir; ``backends/onnx/load.py`` is the driver) ------------------------
def _copy(g, x):
    """A fresh node with x's value (an ONNX op that changes nothing still gets its own node)."""
    return g.add(E.cast, [x], E.CastAttrs(x.dtype))


def reshape_to(g, x, shape):
    shape = tuple(int(d) for d in shape)
    return _copy(g, x) if shape == x.shape else g.add(S.reshape, [x], S.ShapeAttrs(shape))


def _imp_reshape(g):
    """Reshape: 0 copies the input's dim (unless allowzero), -1 is inferred."""
    x, target = g.x(0), g.ints(1)
    allowzero = g.attr("allowzero", 0)
    shape = [x.shape[i] if d == 0 and not allowzero and i < len(x.shape) else d for i, d in enumerate(target)]
    if shape.count(-1) > 1:
        g.fail(f"shape {target} has more than one -1")
    if -1 in shape:
        known = math.prod(d for d in shape if d != -1)
        if known == 0 or math.prod(x.shape) % known:
            g.fail(f"shape {target} does not fit an input of shape {list(x.shape)}")
        shape[shape.index(-1)] = math.prod(x.shape) // known
    return reshape_to(g, x, shape)


def _imp_transpose(g):
    x = g.x(0)
    perm = g.attr("perm", list(range(len(x.shape)))[::-1])
    return g.add(S.permute, [x], S.PermuteAttrs(tuple(normalize_axes(g, perm, len(x.shape)))))


def _imp_flatten(g):
    x = g.x(0)
    axis = g.attr("axis", 1)
    if not -len(x.shape) <= axis <= len(x.shape):
        g.fail(f"axis {axis} is out of range for rank {len(x.shape)}")
    axis = axis + len(x.shape) if axis < 0 else axis
    return reshape_to(g, x, (math.prod(x.shape[:axis]), math.prod(x.shape[axis:])))


def _axes(g, i, rank):
    """Axes from input ``i`` (opset 13+) or the ``axes`` attribute, normalised; None if absent."""
    axes = g.ints(i) if g.has(i) else g.attr("axes")
    return None if axes is None else normalize_axes(g, axes, rank)


def _imp_squeeze(g):
    x = g.x(0)
    axes = _axes(g, 1, len(x.shape))
    if axes is None:
        axes = [i for i, d in enumerate(x.shape) if d == 1]
    if any(x.shape[a] != 1 for a in axes):
        g.fail(f"cannot squeeze axes {axes} of shape {list(x.shape)}: they are not all 1")
    return reshape_to(g, x, [d for i, d in enumerate(x.shape) if i not in axes])


def _imp_unsqueeze(g):
    x = g.x(0)
    raw = g.ints(1) if g.has(1) else g.attr("axes")
    axes = normalize_axes(g, raw, len(x.shape) + len(raw))
    dims = iter(x.shape)
    return reshape_to(g, x, [1 if i in axes else next(dims) for i in range(len(x.shape) + len(axes))])


def _imp_concat(g):
    xs = g.xs()
    axis = normalize_axes(g, [g.attr("axis")], len(xs[0].shape))[0]
    xs = [x for x in xs if x.shape[axis] or len(xs) == 1] or xs[:1]
    return _copy(g, xs[0]) if len(xs) == 1 else g.add(S.concat, xs, S.AxisAttrs(axis))


def slice_axis(g, x, axis, start, end, step=1):
    """x[start:end:step] along ``axis`` (start/end already clamped, step > 0)."""
    n = len(x.shape)
    starts, ends, steps = [0] * n, list(x.shape), [1] * n
    starts[axis], ends[axis], steps[axis] = start, max(end, start), step
    return g.add(S.slice_, [x], S.SliceAttrs(tuple(starts), tuple(ends), tuple(steps)))


def _imp_split(g):
    x = g.x(0)
    axis = normalize_axes(g, [g.attr("axis", 0)], len(x.shape))[0]
    size = x.shape[axis]
    sizes = g.ints(1) if g.has(1) else g.attr("split")
    count = len(g.proto.output)
    if sizes is None:
        parts = g.attr("num_outputs", count)
        chunk = -(-size // parts)
        sizes = [min(chunk, size - i * chunk) for i in range(parts)]
    if sum(sizes) != size or any(s < 0 for s in sizes):
        g.fail(f"split sizes {sizes} do not add up to dim {axis} of shape {list(x.shape)}")
    outs, begin = [], 0
    for s in sizes:
        outs.append(slice_axis(g, x, axis, begin, begin + s))
        begin += s
    return outs


def _clamp_slice(start, end, step, d):
    """ONNX Slice's clamping of one axis' start and end."""
    start = start + d if start < 0 else start
    end = end + d if end < 0 else end
    if step > 0:
        return min(max(start, 0), d), min(max(end, 0), d)
    return min(max(start, 0), d - 1), min(max(end, -1), d - 1)


def _imp_slice(g):
    """Slice with static starts/ends/axes/steps; a negative step is a take at the positions."""
    x = g.x(0)
    n = len(x.shape)
    starts, ends = g.ints(1), g.ints(2)
    axes = normalize_axes(g, g.ints(3, list(range(len(starts)))), n)
    steps = g.ints(4, [1] * len(starts))
    if not len(starts) == len(ends) == len(axes) == len(steps) or len(set(axes)) != len(axes):
        g.fail(f"starts {starts}, ends {ends}, axes {axes} and steps {steps} must match one for one")
    out = x
    for axis, s, e, st in zip(axes, starts, ends, steps):
        if st == 0:
            g.fail("a step of 0 is invalid")
        s, e = _clamp_slice(s, e, st, x.shape[axis])
        if st > 0:
            if (s, e, st) != (0, x.shape[axis], 1):
                out = slice_axis(g, out, axis, s, e, st)
        else:
            index = g.constant(np.arange(s, e, st, dtype=np.int64))
            out = g.add(I.take, [out, index], S.AxisAttrs(axis))
    return _copy(g, out) if out is x else out


def _imp_expand(g):
    """Expand broadcasts both ways: the result has the broadcast of both shapes."""
    x, shape = g.x(0), g.ints(1)
    try:
        target = tuple(np.broadcast_shapes(x.shape, tuple(shape)))
    except ValueError:
        g.fail(f"shape {list(x.shape)} cannot be expanded to {shape}")
    check_size(g, target, x.dtype.np)
    return _copy(g, x) if target == x.shape else g.add(S.expand, [x], S.ShapeAttrs(target))


def _imp_tile(g):
    """Tile: each dim d gets a new leading dim r (expanded), then the pair is merged."""
    x, repeats = g.x(0), g.ints(1)
    if len(repeats) != len(x.shape) or any(r < 0 for r in repeats):
        g.fail(f"repeats {repeats} must be one non-negative count per dim of {list(x.shape)}")
    if all(r == 1 for r in repeats):
        return _copy(g, x)
    check_size(g, [r * d for r, d in zip(repeats, x.shape)], x.dtype.np)
    spread = reshape_to(g, x, [v for d in x.shape for v in (1, d)])
    big = g.add(S.expand, [spread], S.ShapeAttrs(tuple(v for r, d in zip(repeats, x.shape) for v in (r, d))))
    return reshape_to(g, big, [r * d for r, d in zip(repeats, x.shape)])


def _pad_index(mode, begin, end, d):
    """Source positions of one padded axis for the non-constant modes."""
    i = np.arange(-begin, d + end, dtype=np.int64)
    if mode == "edge":
        return np.clip(i, 0, d - 1)
    if mode == "wrap":
        return np.mod(i, d)
    period = 2 * (d - 1)
    i = np.abs(np.mod(i, period)) if period else np.zeros_like(i)
    return np.where(i >= d, period - i, i)


def _imp_pad(g):
    x = g.x(0)
    n = len(x.shape)
    mode = g.attr("mode", "constant")
    pads = g.ints(1)
    axes = normalize_axes(g, g.ints(3, list(range(n))), n)
    if len(pads) != 2 * len(axes):
        g.fail(f"pads {pads} need two entries per axis {axes}")
    full = [0] * (2 * n)
    for k, a in enumerate(axes):
        full[a], full[n + a] = pads[k], pads[len(axes) + k]
    if mode == "constant":
        value = g.const(2)
        value = 0.0 if value is None or np.asarray(value).size == 0 else np.asarray(value).reshape(-1)[0].item()
        return _copy(g, x) if not any(full) else g.add(S.pad, [x], S.PadAttrs(tuple(full), value))
    if mode not in ("edge", "reflect", "wrap"):
        unsupported(g, "mode", mode, "'constant', 'reflect', 'edge', 'wrap'")
    out = x
    for a in range(n):
        if full[a] or full[n + a]:
            if x.shape[a] == 0 or (mode == "reflect" and max(full[a], full[n + a]) >= x.shape[a]):
                g.fail(f"{mode} padding of {full[a]}, {full[n + a]} needs a dim larger than {x.shape[a]}")
            index = g.constant(_pad_index(mode, full[a], full[n + a], x.shape[a]))
            out = g.add(I.take, [out, index], S.AxisAttrs(a))
    return _copy(g, x) if out is x else out


def _imp_shape(g):
    """Shape is static in the ir: a constant."""
    dims = g.x(0).shape
    start, end = g.attr("start", 0), g.attr("end", len(dims))
    return g.constant(np.array(dims[start:end], dtype=np.int64))


def _imp_size(g):
    return g.constant(np.array(math.prod(g.x(0).shape), dtype=np.int64))


def _imp_constant_of_shape(g):
    shape = g.ints(0)
    value = g.attr("value")
    value = np.zeros(1, np.float32) if value is None else np.asarray(value)
    if value.size != 1 or any(d < 0 for d in shape):
        g.fail(f"needs a one-element value and a non-negative shape, got {value.size} elements, shape {shape}")
    check_size(g, shape, value.dtype)
    return g.add(S.expand, [g.constant(value.reshape(()))], S.ShapeAttrs(tuple(shape)))


def check_size(g, shape, dtype):
    """Refuse a value over the load's ``max_bytes`` before anything allocates it."""
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize
    limit = g.max_bytes if g.max_bytes is not None else 1 << 30
    if nbytes > limit:
        g.fail(f"a value of shape {list(shape)} would need {nbytes} bytes (over {limit})")


def _imp_range(g):
    start, limit, delta = (np.asarray(g.const(i)) for i in range(3))
    if any(v.size != 1 for v in (start, limit, delta)):
        g.fail("start, limit and delta must be scalars")
    start, limit, delta = (v.reshape(()) for v in (start, limit, delta))
    if float(delta) == 0:
        g.fail("delta must not be 0")
    count = max(int(math.ceil((float(limit) - float(start)) / float(delta))), 0)
    check_size(g, [count], start.dtype)
    values = (start + np.arange(count, dtype=start.dtype) * delta).astype(start.dtype)
    return g.constant(values)


def _imp_trilu(g):
    k = g.const(1)
    k = 0 if k is None else int(np.asarray(k).reshape(-1)[0])
    return g.add(S.trilu, [g.x(0)], S.TriluAttrs(k, bool(g.attr("upper", 1))))


def _imp_depth_to_space(g):
    x = g.x(0)
    block, mode = g.attr("blocksize"), g.attr("mode", "DCR")
    n, c, h, w = x.shape
    if mode == "DCR":
        y = reshape_to(g, x, (n, block, block, c // block ** 2, h, w))
        perm = (0, 3, 4, 1, 5, 2)
    elif mode == "CRD":
        y = reshape_to(g, x, (n, c // block ** 2, block, block, h, w))
        perm = (0, 1, 4, 2, 5, 3)
    else:
        unsupported(g, "mode", mode, "'DCR', 'CRD'")
    y = g.add(S.permute, [y], S.PermuteAttrs(perm))
    return reshape_to(g, y, (n, c // block ** 2, h * block, w * block))


def _imp_space_to_depth(g):
    x = g.x(0)
    block = g.attr("blocksize")
    mode = g.attr("mode", "DCR")
    if mode not in ("DCR", "CRD"):
        unsupported(g, "mode", mode, "'DCR', 'CRD'")
    n, c, h, w = x.shape
    y = reshape_to(g, x, (n, c, h // block, block, w // block, block))
    y = g.add(S.permute, [y], S.PermuteAttrs((0, 3, 5, 1, 2, 4) if mode == "DCR" else (0, 1, 3, 5, 2, 4)))
    return reshape_to(g, y, (n, c * block * block, h // block, w // block))


def _source_coords(mode, out, size, scale, roi=(0.0, 1.0)):
    """Resize's ``coordinate_transformation_mode``: each output position in input coordinates
    (``roi``, this axis's start and end, is tf_crop_and_resize's crop)."""
    x = np.arange(out, dtype=np.float64)
    if mode == "tf_crop_and_resize":
        start, end = roi
        if out > 1:
            return start * (size - 1) + x * (end - start) * (size - 1) / (out - 1)
        return np.full(out, 0.5 * (start + end) * (size - 1))
    if mode == "half_pixel":
        return (x + 0.5) / scale - 0.5
    if mode == "half_pixel_symmetric":
        adjustment = out / (scale * size)
        return size * (1 - adjustment) / 2 + (x + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (x + 0.5) / scale - 0.5 if out > 1 else np.zeros_like(x)
    if mode == "align_corners":  # the unrounded output length, as the ONNX reference
        return x * (size - 1) / (size * scale - 1) if out > 1 else np.zeros_like(x)
    if mode == "asymmetric":
        return x / scale
    return (x + 0.5) / scale  # tf_half_pixel_for_nn


_NEAREST = {
    "round_prefer_floor": lambda c: np.ceil(c - 0.5),
    "round_prefer_ceil": lambda c: np.floor(c + 0.5),
    "floor": np.floor,
    "ceil": np.ceil,
}
_COORDINATES = ("half_pixel", "half_pixel_symmetric", "pytorch_half_pixel", "align_corners", "asymmetric",
                "tf_half_pixel_for_nn", "tf_crop_and_resize")


def _cubic_weights(r, a):
    """The four cubic-convolution weights (taps at floor - 1 .. floor + 2) of fractions ``r``."""
    def near(t):  # |t| <= 1
        return ((a + 2) * t - (a + 3)) * t * t + 1

    def far(t):  # 1 < |t| < 2
        return ((a * t - 5 * a) * t + 8 * a) * t - 4 * a
    return [far(r + 1), near(r), near(1 - r), far(2 - r)]


def _resize_taps(c, size, mode, nearest, cubic_a, exclude_outside):
    """(source positions, weights) per tap for output coordinates ``c`` along one axis."""
    if mode == "nearest":
        return [(np.clip(_NEAREST[nearest](c), 0, size - 1), np.ones_like(c))]
    low = np.floor(c)
    r = c - low
    if mode == "linear":
        return [(np.clip(low, 0, size - 1), 1 - r), (np.clip(low + 1, 0, size - 1), r)]
    raw = [low - 1 + k for k in range(4)]
    weights = _cubic_weights(r, cubic_a)
    if exclude_outside:
        weights = [np.where((p >= 0) & (p < size), w, 0.0) for p, w in zip(raw, weights)]
        total = sum(weights)
        weights = [w / total for w in weights]
    return [(np.clip(p, 0, size - 1), w) for p, w in zip(raw, weights)]


def _antialias_matrix(source, size, mode, scale, cubic_a, exclude_outside):
    """(out, size) weights of an antialiased linear or cubic resize along one axis: the filter
    widened by 1/scale when downsampling, over the input positions nearest each output's
    source (edge-clamped), normalized, as ONNX's reference."""
    s = min(scale, 1.0)
    matrix = np.zeros((len(source), size))
    for o, c in enumerate(source):
        whole = float(np.floor(c))
        ratio = 1.0 if c == whole else c - whole
        base = whole - 1 if c == whole else whole  # the tap left of (or at) ratio in (0, 1]
        if mode == "linear":
            start = int(np.floor(-1 / s) + 1)
            offsets = np.arange(start, 2 - start)
            coeffs = np.clip(1 - np.abs((offsets - ratio) * s), 0, 1)
        else:
            start = int(np.floor(-2 / s) + 1)
            offsets = np.arange(start, 2 - start)
            t = np.abs(s * (offsets - ratio))
            a = cubic_a
            coeffs = np.where(t <= 1, (a + 2) * t ** 3 - (a + 3) * t ** 2 + 1,
                              np.where(t < 2, a * t ** 3 - 5 * a * t ** 2 + 8 * a * t - 4 * a, 0.0))
        coeffs = coeffs / coeffs.sum()
        positions = (base + offsets).astype(np.int64)  # offsets run from start to 1 - start around base + ratio
        if exclude_outside:
            coeffs = np.where((positions >= 0) & (positions < size), coeffs, 0.0)
            coeffs = coeffs / coeffs.sum()
        for p, w in zip(np.clip(positions, 0, size - 1), coeffs):
            matrix[o, p] += w
    return matrix


def _resize_axis(g, x, axis, out, scale, options, roi=(0.0, 1.0), antialias=False):
    """One axis of a separable resize: a take per tap, weighted and summed (positions and
    weights are constants computed here); tf_crop_and_resize's positions outside the input
    take ``extrapolation_value``."""
    mode, coords, nearest, cubic_a, exclude_outside = options
    source = _source_coords(coords, out, x.shape[axis], scale, roi)
    if antialias:
        weights = _antialias_matrix(source, x.shape[axis], mode, scale, cubic_a, exclude_outside)
        rank = len(x.shape)
        perm = tuple(i for i in range(rank) if i != axis) + (axis,)
        moved = g.add(S.permute, [x], S.PermuteAttrs(perm))
        mixed = g.add(L.matmul, [moved, g.constant(weights.T.astype(x.dtype.np))])
        back = [0] * rank
        for i, p in enumerate(perm):
            back[p] = i
        return g.add(S.permute, [mixed], S.PermuteAttrs(tuple(back)))
    taps = _resize_taps(source, x.shape[axis], mode, nearest, cubic_a, exclude_outside)
    shape = [1] * len(x.shape)
    shape[axis] = out
    total = None
    for index, weight in taps:
        part = g.add(I.take, [x, g.constant(index.astype(np.int64))], S.AxisAttrs(axis))
        if len(taps) > 1:
            part = g.add(E.mul, [part, g.constant(weight.astype(x.dtype.np).reshape(shape))])
        total = part if total is None else g.add(E.add, [total, part])
    outside = (source < 0) | (source > x.shape[axis] - 1)
    if coords == "tf_crop_and_resize" and outside.any():
        fill = g.scalar(g.attr("extrapolation_value", 0.0), x.dtype)
        total = g.add(E.where, [g.constant(outside.reshape(shape)), fill, total])
    return total


def _aspect_sizes(g, x, axes, sizes, policy):
    """``sizes`` under ``keep_aspect_ratio_policy``: one scale for every axis (the smallest
    for not_larger, the largest for not_smaller), as the spec."""
    ratios = [o / x.shape[a] for o, a in zip(sizes, axes)]
    scale = min(ratios) if policy == "not_larger" else max(ratios)
    return [int(math.floor(x.shape[a] * scale + 0.5)) for a in axes], [scale] * len(axes)


def _imp_resize(g):
    """Resize, nearest, (bi/tri)linear or cubic, axis by axis with positions computed at import."""
    x = g.x(0)
    n = len(x.shape)
    allowed = {"mode": ("nearest", "linear", "cubic"), "coordinate_transformation_mode": _COORDINATES,
               "nearest_mode": tuple(_NEAREST), "antialias": (0, 1), "keep_aspect_ratio_policy":
               ("stretch", "not_larger", "not_smaller")}
    defaults = {"mode": "nearest", "coordinate_transformation_mode": "half_pixel",
                "nearest_mode": "round_prefer_floor", "antialias": 0, "keep_aspect_ratio_policy": "stretch"}
    chosen = {name: g.attr(name, defaults[name]) for name in allowed}
    for name, ok in allowed.items():
        if chosen[name] not in ok:
            unsupported(g, name, chosen[name], ", ".join(map(repr, ok)))
    g.attr("extrapolation_value")  # only used by tf_crop_and_resize
    antialias = bool(chosen["antialias"])
    if antialias and (chosen["mode"] == "nearest" or chosen["coordinate_transformation_mode"] == "tf_crop_and_resize"):
        g.fail("antialias=1 is supported in linear and cubic modes (not nearest, nor with tf_crop_and_resize)")
    if chosen["mode"] != "nearest" and not x.dtype.is_floating_point:
        g.fail(f"{chosen['mode']} mode needs a floating-point input")
    axes = normalize_axes(g, g.attr("axes", list(range(n))), n)
    outs, factors = _resize_sizes(g, x, axes, chosen["keep_aspect_ratio_policy"])
    full = list(x.shape)
    for a, o in zip(axes, outs):
        full[a] = o
    check_size(g, full, x.dtype.np)
    options = (chosen["mode"], chosen["coordinate_transformation_mode"], chosen["nearest_mode"],
               g.attr("cubic_coeff_a", -0.75), g.attr("exclude_outside", 0))
    rois = [(0.0, 1.0)] * len(axes)
    if chosen["coordinate_transformation_mode"] == "tf_crop_and_resize":
        roi = g.const(1)
        if roi is None or roi.size != 2 * len(axes):
            g.fail(f"tf_crop_and_resize needs an roi of {2 * len(axes)} values (starts, then ends), got "
                   f"{None if roi is None else roi.reshape(-1).tolist()}")
        roi = [float(v) for v in roi.reshape(-1)]
        rois = list(zip(roi[:len(axes)], roi[len(axes):]))
        if g.const(3) is None or not g.const(3).size:
            g.fail("tf_crop_and_resize is supported with sizes (not scales)")
    out = x
    for axis, size, factor, roi in zip(axes, outs, factors, rois):
        if size != x.shape[axis] or factor != 1.0 or roi != (0.0, 1.0):
            out = _resize_axis(g, out, axis, size, factor, options, roi, antialias)
    return _copy(g, x) if out is x else out


def _resize_sizes(g, x, axes, policy):
    """(output sizes, scales) along ``axes`` from the ``sizes`` or ``scales`` input."""
    scales, sizes = g.const(2), g.const(3)
    if sizes is not None and sizes.size:
        outs = [int(v) for v in sizes.reshape(-1)]
        if len(outs) != len(axes):
            g.fail(f"sizes {outs} must give one size per axis {axes}")
        if policy != "stretch":
            return _aspect_sizes(g, x, axes, outs, policy)
        factors = [o / x.shape[a] for o, a in zip(outs, axes)]
    elif scales is not None and scales.size:
        factors = [float(v) for v in scales.reshape(-1)]
        outs = [int(math.floor(x.shape[a] * f)) for a, f in zip(axes, factors)]
    else:
        g.fail("needs scales or sizes")
    if len(outs) != len(axes) or any(o <= 0 for o in outs):
        g.fail(f"scales/sizes {outs} must give one positive size per axis {axes}")
    return outs, factors


def _imp_eye_like(g):
    x = g.x(0)
    dtype = x.dtype if g.attr("dtype") is None else ir_dtype(g.attr("dtype"), g.where)
    if len(x.shape) != 2:
        g.fail(f"expects a 2-D input, got {list(x.shape)}")
    return g.constant(np.eye(*x.shape, k=g.attr("k", 0), dtype=dtype.np))


def _imp_compress(g):
    """Compress with a static condition: a take at the true positions (flattened without ``axis``)."""
    x, keep = g.x(0), np.asarray(g.const(1)).astype(bool).reshape(-1)
    axis = g.attr("axis")
    if axis is None:
        x, axis = reshape_to(g, x, (math.prod(x.shape),)), 0
    axis = normalize_axes(g, [axis], len(x.shape))[0]
    positions = np.flatnonzero(keep[:x.shape[axis]]).astype(np.int64)
    return g.add(I.take, [x, g.constant(positions)], S.AxisAttrs(axis))


def _imp_center_crop_pad(g):
    """CenterCropPad: per axis, a centred slice where the target is smaller, a centred zero pad
    where it is larger (the extra element goes to the end when odd, as the reference)."""
    x, target = g.x(0), g.ints(1)
    n = len(x.shape)
    axes = normalize_axes(g, g.attr("axes", list(range(n))), n)
    out = x
    for axis, size in zip(axes, target):
        d = x.shape[axis]
        if size < d:
            begin = (d - size) // 2
            out = slice_axis(g, out, axis, begin, begin + size)
        elif size > d:
            pads = [0] * (2 * n)
            pads[axis] = (size - d) // 2
            pads[n + axis] = size - d - pads[axis]
            out = g.add(S.pad, [out], S.PadAttrs(tuple(pads), 0.0))
    return _copy(g, x) if out is x else out


def _imp_reverse_sequence(g):
    """ReverseSequence: each batch entry's first ``sequence_lens[b]`` steps reversed, a
    gather_elements along the time axis with a constant index (the lengths are static)."""
    x = g.x(0)
    rank = len(x.shape)
    lens = g.ints(1)
    batch_axis, time_axis = g.attr("batch_axis", 1), g.attr("time_axis", 0)
    if rank < 2 or {batch_axis, time_axis} != {0, 1} or len(lens) != x.shape[batch_axis]:
        g.fail(f"expects batch_axis and time_axis 0 and 1 and {x.shape[batch_axis] if rank > 1 else '?'} "
               f"sequence_lens, got {batch_axis}, {time_axis} and {len(lens)} for {list(x.shape)}")
    steps = x.shape[time_axis]
    if any(not 0 <= n <= steps for n in lens):
        g.fail(f"sequence_lens {lens} must be in [0, {steps}]")
    t = np.arange(steps).reshape(-1, 1)
    n = np.array(lens).reshape(1, -1)
    index = np.where(t < n, n - 1 - t, t)  # (time, batch)
    if time_axis == 1:
        index = index.T
    index = np.broadcast_to(index.reshape(index.shape + (1,) * (rank - 2)), x.shape).astype(np.int64)
    return g.add(I.gather_elements, [x, g.constant(index)], S.AxisAttrs(time_axis))


def _imp_col2im(g):
    """Col2Im: each column entry added into the (padded) image at its block's position plus
    its kernel offset (an index_add with a constant index), the padding then cut off."""
    x = g.x(0)
    image, block = g.ints(1), g.ints(2)
    k = len(image)
    dilations, strides = g.attr("dilations", [1] * k), g.attr("strides", [1] * k)
    pads = g.attr("pads", [0] * (2 * k))
    if len(x.shape) != 3 or len(block) != k or len(dilations) != k or len(strides) != k or len(pads) != 2 * k:
        g.fail(f"expects an (N, C * prod(block), L) input and image_shape, block_shape, dilations, strides and "
               f"pads of one spatial rank, got {list(x.shape)}, {image}, {block}")
    kernel = math.prod(block)
    padded = [image[i] + pads[i] + pads[k + i] for i in range(k)]
    blocks = [(padded[i] - dilations[i] * (block[i] - 1) - 1) // strides[i] + 1 for i in range(k)]
    n, ck, length = x.shape
    if ck % kernel or length != math.prod(blocks) or min(blocks) < 1:
        g.fail(f"input {list(x.shape)} does not match image_shape {image} with block_shape {block}")
    offsets = np.indices(block).reshape(k, -1)  # (k, kernel)
    starts = np.indices(blocks).reshape(k, -1)  # (k, L)
    coords = [offsets[i][:, None] * dilations[i] + starts[i][None, :] * strides[i] for i in range(k)]
    positions = np.ravel_multi_index(tuple(coords), padded).reshape(-1).astype(np.int64)  # kernel-major, as the input
    channels = ck // kernel
    src = g.add(S.reshape, [x], S.ShapeAttrs((n, channels, kernel * length)))
    zeros = g.add(S.expand, [g.scalar(0, x.dtype)], S.ShapeAttrs((n, channels, math.prod(padded))))
    out = g.add(I.index_add, [zeros, g.constant(positions), src], S.AxisAttrs(2))
    out = g.add(S.reshape, [out], S.ShapeAttrs((n, channels) + tuple(padded)))
    if any(pads):
        out = g.add(S.slice_, [out], S.SliceAttrs((0, 0) + tuple(pads[:k]),
                                                 (n, channels) + tuple(pads[i] + image[i] for i in range(k)),
                                                 (1,) * (k + 2)))
    return out


def _trunc(g, v):
    return g.add(E.where, [g.add(E.lt, [v, g.scalar(0, v.dtype)]), g.add(E.ceil, [v]), g.add(E.floor, [v])])


def _reflect(g, v, lo, hi):
    """GridSample's reflection of ``v`` into [lo, hi] (ONNX's reference formula)."""
    f = lambda value: g.scalar(value, v.dtype)  # noqa: E731
    span = hi - lo
    out = v
    for below in (True, False):
        dx = g.add(E.sub, [f(lo), v]) if below else g.add(E.sub, [v, f(hi)])
        n = g.add(E.floor, [g.add(E.div, [dx, f(span)])])
        r = g.add(E.sub, [dx, g.add(E.mul, [n, f(span)])])
        even = g.add(E.eq, [g.add(E.fmod, [n, f(2)]), f(0)])
        near, far = (g.add(E.add, [f(lo), r]), g.add(E.sub, [f(hi), r]))
        moved = g.add(E.where, [even, near, far]) if below else g.add(E.where, [even, far, near])
        side = g.add(E.lt, [v, f(lo)]) if below else g.add(E.gt, [v, f(hi)])
        out = g.add(E.where, [side, moved, out])
    return out


def _grid_cubic_weights(g, t):
    """Keys' cubic (a = -0.75) weights of the taps at -1, 0, 1, 2 for the fraction ``t``."""
    a = -0.75
    f = lambda value: g.scalar(value, t.dtype)  # noqa: E731
    def far(x):  # noqa: E306  ((a x - 5a) x + 8a) x - 4a, for 1 <= x <= 2
        return g.add(E.sub, [g.add(E.mul, [g.add(E.add, [g.add(E.mul, [g.add(E.sub, [g.add(E.mul, [f(a), x]), f(5 * a)]), x]),
                                                          f(8 * a)]), x]), f(4 * a)])
    def near(x):  # noqa: E306  ((a + 2) x - (a + 3)) x^2 + 1, for x <= 1
        return g.add(E.add, [g.add(E.mul, [g.add(E.sub, [g.add(E.mul, [f(a + 2), x]), f(a + 3)]), g.add(E.mul, [x, x])]), f(1)])
    one_minus = g.add(E.sub, [f(1), t])
    return [far(g.add(E.add, [t, f(1)])), near(t), near(one_minus), far(g.add(E.add, [one_minus, f(1)]))]


def _imp_grid_sample(g):
    """GridSample (opset 20+ modes): each output point's taps along every spatial dim (1 for
    nearest, 2 linear, 4 cubic), each tap's index mapped by the padding mode, gathered from the
    flattened input and summed with the product of the per-dim weights."""
    x, grid = g.x(0), g.x(1)
    mode = g.attr("mode", "linear")
    padding = g.attr("padding_mode", "zeros")
    align = bool(g.attr("align_corners", 0))
    mode = {"bilinear": "linear", "bicubic": "cubic"}.get(mode, mode)
    if mode not in ("nearest", "linear", "cubic"):
        unsupported(g, "mode", mode, "'nearest', 'linear', 'cubic'")
    if padding not in ("zeros", "border", "reflection"):
        unsupported(g, "padding_mode", padding, "'zeros', 'border', 'reflection'")
    r = len(x.shape) - 2
    if x.dtype.kind != "f" or r < 1 or len(grid.shape) != r + 2 or grid.shape[-1] != r or grid.shape[0] != x.shape[0]:
        g.fail(f"expects a float (N, C, *spatial) input and an (N, *out, {max(r, 1)}) grid, got "
               f"{list(x.shape)} and {list(grid.shape)}")
    n, c, dims = x.shape[0], x.shape[1], x.shape[2:]
    out = grid.shape[1:-1]
    q = math.prod(out)
    if q == 0 or math.prod(dims) == 0:
        g.fail("empty inputs or grids are not supported")
    grid = g.cast(grid, x.dtype)
    f = lambda value: g.scalar(value, x.dtype)  # noqa: E731
    per_dim = []  # per spatial dim: [(int64 index, weight or None)] per tap
    for j, d in enumerate(dims):
        k = r - 1 - j  # the grid's last axis lists x (the last spatial dim) first
        coord = g.add(S.slice_, [grid], S.SliceAttrs((0,) * (r + 1) + (k,), tuple(grid.shape[:-1]) + (k + 1,),
                                                     (1,) * (r + 2)))
        coord = g.add(S.reshape, [coord], S.ShapeAttrs((n, 1, q)))
        plus = g.add(E.add, [coord, f(1)])
        v = (g.add(E.mul, [plus, f((d - 1) / 2)]) if align else
             g.add(E.div, [g.add(E.sub, [g.add(E.mul, [plus, f(d)]), f(1)]), f(2)]))
        if mode == "nearest":
            v = g.add(E.round_, [v])
        lo, hi = (0.0, d - 1.0) if align else (-0.5, d - 0.5)
        if padding == "border":
            outside = g.add(E.logical_or, [g.add(E.lt, [v, f(lo)]), g.add(E.gt, [v, f(hi)])])
            v = g.add(E.where, [outside, g.add(E.clamp, [v], E.ClampAttrs(0.0, d - 1.0)), v])
        elif padding == "reflection":
            v = _reflect(g, v, lo, hi)
        if mode == "nearest":
            taps = [(_trunc(g, v), None)]
        else:
            base = g.add(E.floor, [v])
            t = g.add(E.sub, [v, base])
            if mode == "linear":
                taps = [(base, g.add(E.sub, [f(1), t])), (g.add(E.add, [base, f(1)]), t)]
            else:
                taps = [(g.add(E.add, [base, f(o)]), w) for o, w in zip((-1, 0, 1, 2), _grid_cubic_weights(g, t))]
        mapped = []
        for i, w in taps:
            if padding == "zeros":
                valid = g.add(E.logical_and, [g.add(E.ge, [i, f(0)]), g.add(E.le, [i, f(d - 1)])])
                keep = g.cast(valid, x.dtype)
                w = keep if w is None else g.add(E.mul, [w, keep])
            elif padding == "reflection":
                i = _trunc(g, _reflect(g, i, lo, hi))
            i = g.add(E.clamp, [i], E.ClampAttrs(0.0, d - 1.0))
            mapped.append((g.cast(i, dtypes.int64), w))
        per_dim.append(mapped)
    flat = g.add(S.reshape, [x], S.ShapeAttrs((n, c, math.prod(dims))))
    strides = [math.prod(dims[j + 1:]) for j in range(r)]
    total = None
    for combo in itertools.product(*per_dim):
        index, weight = None, None
        for (i, w), stride in zip(combo, strides):
            term = g.add(E.mul, [i, g.scalar(stride, dtypes.int64)]) if stride != 1 else i
            index = term if index is None else g.add(E.add, [index, term])
            if w is not None:
                weight = w if weight is None else g.add(E.mul, [weight, w])
        index = g.add(S.expand, [index], S.ShapeAttrs((n, c, q)))
        picked = g.add(I.gather_elements, [flat, index], S.AxisAttrs(2))
        if weight is not None:
            picked = g.add(E.mul, [picked, weight])
        total = picked if total is None else g.add(E.add, [total, picked])
    return g.add(S.reshape, [total], S.ShapeAttrs((n, c) + tuple(out)))


IMPORTS = {
    "GridSample": _imp_grid_sample,
    "ReverseSequence": _imp_reverse_sequence,
    "Col2Im": _imp_col2im,
    "EyeLike": _imp_eye_like,
    "Compress": _imp_compress,
    "CenterCropPad": _imp_center_crop_pad,
    "Resize": _imp_resize,
    "Reshape": _imp_reshape,
    "Transpose": _imp_transpose,
    "Flatten": _imp_flatten,
    "Squeeze": _imp_squeeze,
    "Unsqueeze": _imp_unsqueeze,
    "Concat": _imp_concat,
    "Split": _imp_split,
    "Slice": _imp_slice,
    "Expand": _imp_expand,
    "Tile": _imp_tile,
    "Pad": _imp_pad,
    "Shape": _imp_shape,
    "Size": _imp_size,
    "ConstantOfShape": _imp_constant_of_shape,
    "Range": _imp_range,
    "Trilu": _imp_trilu,
    "DepthToSpace": _imp_depth_to_space,
    "SpaceToDepth": _imp_space_to_depth,
}
