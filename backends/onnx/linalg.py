"""ONNX lowerings for ir/ops/linalg.py: MatMul has NumPy's (and torch's) rank rules.

Folding a transpose into ``Gemm`` needs the transpose's node, so it is an ONNX-side pass
(``backends/onnx/passes/gemm.py``), not part of this lowering."""
from __future__ import annotations

import itertools
import math

import numpy as np

from backends.onnx.builder import bools_via_int32
from backends.onnx.importing import unsupported
from ir import dtypes
from ir.ops import elementwise as E
from ir.ops import indexing as I
from ir.ops import linalg as L
from ir.ops import reduce as R
from ir.ops import shape as S


def _matrix_times_vector(b, node, xs):
    """A matrix (or batch) times a 1-D vector multiplies by the vector as a one-column matrix:
    onnxruntime's MatmulTransposeFusion turns ``MatMul(Transpose(a), v)`` into a
    ``FusedMatMul(transA=1)`` that computes a wrong result when ``v`` is 1-D (seen with
    onnxruntime 1.32), and a lowering cannot see whether its matrix is a transpose."""
    last = b.int64s([-1])
    column = b.op("Unsqueeze", [xs[1], last])
    return b.op("Squeeze", [b.op("MatMul", [xs[0], column]), last])


def _matmul(b, node, xs):
    """ir matmul -> ONNX MatMul."""
    a, v = node.inputs
    if len(v.shape) == 1 and len(a.shape) >= 2:
        return _matrix_times_vector(b, node, xs)
    return b.op("MatMul", xs)


LOWERINGS = {
    L.matmul: bools_via_int32(_matmul),
}


# -- import rules (ONNX -> ir; ``backends/onnx/load.py`` is the driver) ------------------------
def _imp_matmul(g):
    return g.add(L.matmul, [g.x(0), g.x(1)])


def _transposed(g, x, flag):
    return g.add(S.permute, [x], S.PermuteAttrs((1, 0))) if flag else x


def _imp_gemm(g):
    """alpha op(A) op(B) + beta C."""
    a = _transposed(g, g.x(0), g.attr("transA", 0))
    b = _transposed(g, g.x(1), g.attr("transB", 0))
    alpha, beta = g.attr("alpha", 1.0), g.attr("beta", 1.0)
    out = g.add(L.matmul, [a, b])
    if alpha != 1.0:
        out = g.add(E.mul, [out, g.scalar(alpha, out.dtype)])
    if g.has(2):
        c = g.x(2)
        out = g.add(E.add, [out, c if beta == 1.0 else g.add(E.mul, [c, g.scalar(beta, c.dtype)])])
    return out


def _einsum_terms(g, equation: str, ranks):
    """The letters of each operand and of the output, an ellipsis spelled as capital letters."""
    eq = equation.replace(" ", "")
    lhs, arrow, rhs = eq.partition("->")
    terms = lhs.split(",")
    if len(terms) != len(ranks):
        g.fail(f"equation {equation!r} names {len(terms)} operands, got {len(ranks)}")
    ell = max((r - len(t.replace("...", "")) for t, r in zip(terms, ranks) if "..." in t), default=0)
    spelled = "".join(chr(ord("A") + i) for i in range(ell))
    out_terms = []
    for t, r in zip(terms, ranks):
        if "..." in t:
            n = r - len(t.replace("...", ""))
            t = t.replace("...", spelled[ell - n:])
        if len(t) != r or len(set(t)) != len(t):
            g.fail(f"equation {equation!r}: term {t!r} does not fit rank {r} (repeated letters are not supported)")
        out_terms.append(t)
    if arrow:
        out = rhs.replace("...", spelled)
    else:
        letters = "".join(out_terms)
        out = spelled + "".join(sorted(c for c in set(letters) if letters.count(c) == 1 and c.islower()))
    return out_terms, out


def _imp_einsum(g):
    """Einsum as each operand permuted onto all letters (size 1 where absent), multiplied with
    broadcasting, summed over the letters the output drops, and permuted to the output."""
    xs = g.xs()
    terms, out = _einsum_terms(g, g.attr("equation"), [len(x.shape) for x in xs])
    letters = sorted(set("".join(terms)) | set(out), key=lambda c: (c not in out, out.find(c), c))
    total = None
    for x, t in zip(xs, terms):
        order = sorted(range(len(t)), key=lambda i: letters.index(t[i]))
        if order != list(range(len(t))):
            x = g.add(S.permute, [x], S.PermuteAttrs(tuple(order)))
        sizes = {t[i]: x.shape[k] for k, i in enumerate(order)}
        shape = tuple(sizes.get(c, 1) for c in letters)
        if shape != x.shape:
            x = g.add(S.reshape, [x], S.ShapeAttrs(shape))
        total = x if total is None else g.add(E.mul, [total, x])
    dropped = tuple(i for i, c in enumerate(letters) if c not in out)
    if dropped:
        total = g.add(R.sum_, [total], R.ReduceAttrs(dropped, False))
    if total is xs[0]:
        total = g.add(E.cast, [total], E.CastAttrs(total.dtype))
    return total


def _heads(g, x, heads):
    """(B, S, H * D) -> (B, H, S, D), the 3-D Attention layout."""
    b, seq, hidden = x.shape
    if not heads or hidden % heads:
        g.fail(f"3-D inputs need q_num_heads and kv_num_heads that divide the hidden size {hidden}")
    x = g.add(S.reshape, [x], S.ShapeAttrs((b, seq, heads, hidden // heads)))
    return g.add(S.permute, [x], S.PermuteAttrs((0, 2, 1, 3)))


def _attention_bias(g, mask, q_len, kv_len, dtype, causal_offset, windows):
    """The additive bias of Attention: the mask (bool: 0 where True, -inf where False; padded
    to ``kv_len`` with masked keys), plus the causal and sliding-window masks (constants)."""
    zero, neg_inf = g.scalar(0, dtype), g.scalar(-np.inf, dtype)
    bias = None
    if mask is not None:
        short = kv_len - mask.shape[-1]
        if short > 0:
            pads = [0] * (2 * len(mask.shape))
            pads[-1] = short
            mask = g.add(S.pad, [mask], S.PadAttrs(tuple(pads), 0.0 if mask.dtype.kind == "b" else -np.inf))
        bias = g.add(E.where, [mask, zero, neg_inf]) if mask.dtype.kind == "b" else mask
    if not isinstance(causal_offset, int):
        return _add_bias(g, bias, _kv_cache_bias(g, causal_offset, q_len, kv_len, dtype, windows))
    i, j = np.arange(q_len).reshape(-1, 1) + causal_offset, np.arange(kv_len).reshape(1, -1)
    allowed = np.ones((q_len, kv_len), dtype=bool)
    if windows[2]:
        allowed &= j <= i
    if windows[0] >= 0:
        allowed &= i - j <= windows[0]
    if windows[1] >= 0:
        allowed &= j - i <= windows[1]
    if allowed.all():
        return bias
    return _add_bias(g, bias, g.constant(np.where(allowed, 0, -np.inf).astype(dtype.np)))


def _add_bias(g, bias, extra):
    return extra if bias is None else g.add(E.add, [bias, extra])


def _kv_cache_bias(g, nonpad, q_len, kv_len, dtype, windows):
    """The bias of an external KV cache (``nonpad_kv_seqlen``, one valid length per batch, known
    at run time): keys past each length are masked, and the causal and window frontiers sit
    at ``nonpad - q_len`` (bottom-right aligned), as ir ops."""
    i64 = dtypes.int64
    lengths = g.add(S.reshape, [g.cast(nonpad, i64)], S.ShapeAttrs((nonpad.shape[0], 1, 1, 1)))
    j = g.constant(np.arange(kv_len, dtype=np.int64).reshape(1, 1, 1, kv_len))
    allowed = g.add(E.lt, [j, lengths])
    diff = g.add(E.sub, [g.add(E.add, [g.constant(np.arange(q_len, dtype=np.int64).reshape(1, 1, q_len, 1)),
                                       g.add(E.sub, [lengths, g.scalar(q_len, i64)])]), j])
    if windows[2]:
        allowed = g.add(E.logical_and, [allowed, g.add(E.ge, [diff, g.scalar(0, i64)])])
    if windows[0] >= 0:
        allowed = g.add(E.logical_and, [allowed, g.add(E.le, [diff, g.scalar(windows[0], i64)])])
    if windows[1] >= 0:
        allowed = g.add(E.logical_and, [allowed, g.add(E.ge, [diff, g.scalar(-windows[1], i64)])])
    return g.add(E.where, [allowed, g.scalar(0, dtype), g.scalar(-np.inf, dtype)])


def _imp_attention(g):
    """Attention (opset 23+) as ir ops, the ONNX reference's order: Q and K each scaled by
    sqrt(scale), QK^T, softcap, + bias, softmax (rows with no attendable key give 0), @ V;
    grouped-query heads repeat K and V; past_key/past_value are concatenated first."""
    q, k, v = g.x(0), g.x(1), g.x(2)
    if g.has(6) and g.has(4):
        g.fail("nonpad_kv_seqlen (input 6) cannot be combined with past_key/past_value")
    g.attr("softmax_precision")  # the softmax runs in the inputs' dtype
    rank = len(q.shape)
    if rank == 3:
        q, k, v = _heads(g, q, g.attr("q_num_heads")), _heads(g, k, g.attr("kv_num_heads")), _heads(
            g, v, g.attr("kv_num_heads"))
    elif g.attr("q_num_heads") is not None or g.attr("kv_num_heads") is not None:
        g.fail("q_num_heads and kv_num_heads are for 3-D inputs")
    past = g.x(6) if g.has(6) else 0  # where the causal frontier starts: a count, or lengths per batch
    if g.has(4) != g.has(5):
        g.fail("past_key and past_value go together")
    if g.has(4):
        past = g.x(4).shape[2]
        k = g.add(S.concat, [g.x(4), k], S.AxisAttrs(2))
        v = g.add(S.concat, [g.x(5), v], S.AxisAttrs(2))
    present_k, present_v = k, v
    dtype = q.dtype
    scale = g.attr("scale")
    root = g.scalar(math.sqrt(1 / math.sqrt(q.shape[3]) if scale is None else scale), dtype)
    hq, hk = q.shape[1], k.shape[1]
    if hq != hk:
        if hq % hk:
            g.fail(f"{hq} query heads do not group over {hk} key/value heads")
        repeat = g.constant(np.repeat(np.arange(hk, dtype=np.int64), hq // hk))
        k, v = (g.add(I.take, [t, repeat], S.AxisAttrs(1)) for t in (k, v))
    kt = g.add(S.permute, [g.add(E.mul, [k, root])], S.PermuteAttrs((0, 1, 3, 2)))
    scores = g.add(L.matmul, [g.add(E.mul, [q, root]), kt])
    softcap = g.attr("softcap", 0.0)
    if softcap > 0:
        cap = g.scalar(softcap, dtype)
        scores = g.add(E.mul, [g.add(E.tanh, [g.add(E.div, [scores, cap])]), cap])
    windows = (g.attr("left_window_size", -1), g.attr("right_window_size", -1), g.attr("is_causal", 0))
    bias = _attention_bias(g, g.x(3) if g.has(3) else None, q.shape[2], k.shape[2], dtype, past, windows)
    biased = scores if bias is None else g.add(E.add, [scores, bias])
    probs = g.add(R.softmax, [biased], R.SoftmaxAttrs(3))
    if bias is not None:
        last = len(bias.shape) - 1
        hopeless = g.add(E.eq, [g.add(R.amax, [bias], R.ReduceAttrs((last,), True)), g.scalar(-np.inf, dtype)])
        probs = g.add(E.where, [hopeless, g.scalar(0, dtype), probs])
    y = g.add(L.matmul, [probs, v])
    if rank == 3:
        y = g.add(S.permute, [y], S.PermuteAttrs((0, 2, 1, 3)))
        y = g.add(S.reshape, [y], S.ShapeAttrs(y.shape[:2] + (y.shape[2] * y.shape[3],)))
    mode = g.attr("qk_matmul_output_mode", 0)
    if mode not in (0, 1, 2, 3):
        unsupported(g, "qk_matmul_output_mode", mode, "0, 1, 2, 3")
    return [y, present_k, present_v, {0: scores, 1: scores, 2: biased, 3: probs}[mode]]


def _last_slice(g, x, start, end, step=1):
    """x[..., start:end:step]."""
    rank = len(x.shape)
    return g.add(S.slice_, [x], S.SliceAttrs((0,) * (rank - 1) + (start,), tuple(x.shape[:-1]) + (end,),
                                             (1,) * (rank - 1) + (step,)))


def _imp_rotary_embedding(g):
    """RotaryEmbedding (opset 23): the first ``rotary_embedding_dim`` features of each head
    rotated by the cached cos/sin (gathered at ``position_ids`` when given), as halves or as
    interleaved pairs; a 3-D input is (batch, seq, heads * head_size)."""
    x, cos, sin = g.x(0), g.x(1), g.x(2)
    heads = g.attr("num_heads", 0)
    interleaved = bool(g.attr("interleaved", 0))
    if len(x.shape) == 4:
        b, _, seq, d = x.shape
        y = x
    elif len(x.shape) == 3:
        b, seq, hidden = x.shape
        if not heads or hidden % heads:
            g.fail(f"a 3-D input needs num_heads dividing its {hidden} features, got {heads}")
        d = hidden // heads
        y = g.add(S.reshape, [x], S.ShapeAttrs((b, seq, heads, d)))
    else:
        g.fail(f"expects a 3-D or 4-D input, got {list(x.shape)}")
    rd = g.attr("rotary_embedding_dim", 0) or d
    half = rd // 2
    if rd % 2 or rd > d:
        g.fail(f"rotary_embedding_dim={rd} must be even and at most the head size {d}")
    if g.has(3):
        ids = g.cast(g.x(3), dtypes.int64)
        cos, sin = (g.add(I.take, [c, ids], S.AxisAttrs(0)) for c in (cos, sin))
    if tuple(cos.shape) != (b, seq, half) or tuple(sin.shape) != (b, seq, half):
        g.fail(f"cos/sin caches give {list(cos.shape)}, {list(sin.shape)}; expected {[b, seq, half]}")
    column = (b, 1, seq, half) if len(x.shape) == 4 else (b, seq, 1, half)
    cos, sin = (g.add(S.reshape, [c], S.ShapeAttrs(column)) for c in (cos, sin))
    if interleaved:
        x1, x2 = _last_slice(g, y, 0, rd, 2), _last_slice(g, y, 1, rd, 2)
    else:
        x1, x2 = _last_slice(g, y, 0, half), _last_slice(g, y, half, rd)
    real = g.add(E.sub, [g.add(E.mul, [cos, x1]), g.add(E.mul, [sin, x2])])
    imag = g.add(E.add, [g.add(E.mul, [sin, x1]), g.add(E.mul, [cos, x2])])
    rank = len(y.shape)
    if interleaved:
        pair = tuple(real.shape) + (1,)
        both = g.add(S.concat, [g.add(S.reshape, [real], S.ShapeAttrs(pair)), g.add(S.reshape, [imag], S.ShapeAttrs(pair))],
                     S.AxisAttrs(rank))
        rotated = g.add(S.reshape, [both], S.ShapeAttrs(tuple(real.shape[:-1]) + (rd,)))
    else:
        rotated = g.add(S.concat, [real, imag], S.AxisAttrs(rank - 1))
    if rd < d:
        rotated = g.add(S.concat, [rotated, _last_slice(g, y, rd, d)], S.AxisAttrs(rank - 1))
    return rotated if len(x.shape) == 4 else g.add(S.reshape, [rotated], S.ShapeAttrs(x.shape))


def _dft_matrices(n_in, length, inverse, onesided):
    """(cos, sin, output length): the DFT as matrices over the input positions (rows, the
    signal zero-padded or cut to ``length``) and the output ones (columns)."""
    if inverse and onesided:  # irfft: the one-sided half stands for its Hermitian whole
        out = length
        k = np.arange(min(n_in, length // 2 + 1)).reshape(-1, 1)
        weight = np.where((k == 0) | ((length % 2 == 0) & (k == length // 2)), 1.0, 2.0) / length
    else:
        out = length // 2 + 1 if onesided and not inverse else length
        k = np.arange(min(n_in, length)).reshape(-1, 1)
        weight = np.full(k.shape, 1.0 / length if inverse else 1.0)
    theta = 2 * np.pi * (k * np.arange(out).reshape(1, -1) % length) / length
    cos, sin = weight * np.cos(theta), weight * np.sin(theta)
    pad = ((0, n_in - k.shape[0]), (0, 0))  # input positions at or past ``length`` count nothing
    return np.pad(cos, pad), np.pad(sin, pad), out


def _imp_dft(from_input: bool):
    def rule(g):
        x = g.x(0)
        rank = len(x.shape)
        if x.dtype.kind != "f" or rank < 2 or x.shape[-1] not in (1, 2):
            g.fail(f"expects a float (..., signal, 1 or 2) input, got {x.dtype.name}{list(x.shape)}")
        axis = g.ints(2, [-2])[0] if from_input else g.attr("axis", 1)
        if not -rank <= axis < rank or axis % rank == rank - 1:
            g.fail(f"axis {axis} must name a signal dim of the rank-{rank} input (not its last, real/imaginary dim)")
        axis %= rank
        inverse, onesided = bool(g.attr("inverse", 0)), bool(g.attr("onesided", 0))
        n_in = x.shape[axis]
        length = g.ints(1, [2 * (n_in - 1) if inverse and onesided else n_in])[0]
        if length < 1:
            g.fail(f"dft_length must be positive, got {length}")
        cos, sin, out = _dft_matrices(n_in, length, inverse, onesided)
        wide = g.cast(x, dtypes.float64)
        signal = x.shape[:-1]
        perm = tuple(i for i in range(rank - 1) if i != axis) + (axis,)
        parts = []
        for j in range(x.shape[-1]):
            part = g.add(S.reshape, [_last_slice(g, wide, j, j + 1)], S.ShapeAttrs(signal))
            parts.append(g.add(S.permute, [part], S.PermuteAttrs(perm)))
        mm = lambda v, m: g.add(L.matmul, [v, g.constant(m)])  # noqa: E731
        a = parts[0]
        if inverse:  # (a + ib) e^{+i theta}
            real, imag = mm(a, cos), mm(a, sin)
            if len(parts) > 1:
                real = g.add(E.sub, [real, mm(parts[1], sin)])
                imag = g.add(E.add, [imag, mm(parts[1], cos)])
        else:  # (a + ib) e^{-i theta}
            real, imag = mm(a, cos), g.add(E.neg, [mm(a, sin)])
            if len(parts) > 1:
                real = g.add(E.add, [real, mm(parts[1], sin)])
                imag = g.add(E.add, [imag, mm(parts[1], cos)])
        outputs = [real] if inverse and onesided else [real, imag]
        column = tuple(real.shape) + (1,)
        y = g.add(S.concat, [g.add(S.reshape, [v], S.ShapeAttrs(column)) for v in outputs], S.AxisAttrs(rank - 1))
        back = [0] * (rank - 1)
        for i, p in enumerate(perm):
            back[p] = i
        y = g.add(S.permute, [y], S.PermuteAttrs(tuple(back) + (rank - 1,)))
        return g.cast(y, x.dtype)
    rule.__doc__ = f"ONNX DFT (axis as {'an input' if from_input else 'an attribute'}) as matmuls with cos/sin matrices."
    return rule


def _imp_affine_grid(g):
    """AffineGrid: theta (N, k, k + 1) times the homogeneous base grid of the static size
    (x fastest, then y (and z), then 1), as a matmul with a constant."""
    theta = g.x(0)
    size = g.ints(1)
    align = bool(g.attr("align_corners", 0))
    if theta.dtype.kind != "f" or len(theta.shape) != 3 or theta.shape[2] != theta.shape[1] + 1 \
            or theta.shape[1] not in (2, 3) or len(size) != theta.shape[1] + 2 or size[0] != theta.shape[0]:
        g.fail(f"expects theta (N, 2, 3) with size (N, C, H, W) or (N, 3, 4) with (N, C, D, H, W), got "
               f"{list(theta.shape)} and {size}")
    spatial = tuple(size[2:])
    coords = [np.linspace(-1, 1, n) if align else (2 * np.arange(n) + 1) / n - 1 for n in spatial]
    mesh = np.meshgrid(*coords, indexing="ij")
    base = np.stack(list(mesh)[::-1] + [np.ones(tuple(spatial))], axis=-1).reshape(-1, len(spatial) + 1)
    wide = g.add(S.permute, [g.cast(theta, dtypes.float64)], S.PermuteAttrs((0, 2, 1)))
    grid = g.add(L.matmul, [g.constant(base), wide])
    grid = g.add(S.reshape, [grid], S.ShapeAttrs((size[0],) + tuple(spatial) + (len(spatial),)))
    return g.cast(grid, theta.dtype)


#: Det is expanded over permutations (Leibniz) up to this size; larger ones need pivoting.
DET_MAX_SIZE = 4


def _imp_det(g):
    """Det of (..., n, n) matrices for n <= DET_MAX_SIZE: the sum over permutations p of
    sign(p) prod_i x[i, p(i)], each product a take of the n entries and a prod."""
    x = g.x(0)
    if x.dtype.kind != "f" or len(x.shape) < 2 or x.shape[-1] != x.shape[-2]:
        g.fail(f"expects float (..., n, n) matrices, got {x.dtype.name}{list(x.shape)}")
    n = x.shape[-1]
    if not 1 <= n <= DET_MAX_SIZE:
        g.fail(f"matrices of size {n} are not supported (1 to {DET_MAX_SIZE}: the import expands the "
               "determinant over permutations)")
    batch = tuple(x.shape[:-2])
    flat = g.add(S.reshape, [x], S.ShapeAttrs(batch + (n * n,)))
    total = None
    for perm in itertools.permutations(range(n)):
        inversions = sum(perm[i] > perm[j] for i in range(n) for j in range(i + 1, n))
        entries = g.add(I.take, [flat, g.constant(np.array([i * n + p for i, p in enumerate(perm)], dtype=np.int64))],
                        S.AxisAttrs(len(batch)))
        term = g.add(R.prod, [entries], R.ReduceAttrs((len(batch),), False))
        if total is None:
            total = term if inversions % 2 == 0 else g.add(E.neg, [term])
        else:
            total = g.add(E.sub if inversions % 2 else E.add, [total, term])
    return total


IMPORTS = {
    "Det": _imp_det,
    "AffineGrid": _imp_affine_grid,
    ("DFT", 17): _imp_dft(False),
    ("DFT", 20): _imp_dft(True),
    "RotaryEmbedding": _imp_rotary_embedding,
    "Attention": _imp_attention,
    "MatMul": _imp_matmul,
    "Gemm": _imp_gemm,
    "Einsum": _imp_einsum,
}
