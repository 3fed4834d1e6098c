"""The op test table: one row per torch-level operation, run by the generic tests against
PyTorch (values, dtypes, gradients), finite differences in float64, the traced graph on the
interpreter, and onnxruntime.

Each row's ``fn(m, *inputs)`` is written once against a module ``m`` that is either
``tracer`` or ``torch``, since both speak the same API.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Int:
    """An integer input: shape and [low, high)."""
    shape: tuple
    low: int = 0
    high: int = 5
    dtype: str = "int64"


@dataclass(frozen=True)
class Bool:
    shape: tuple


@dataclass
class Row:
    name: str
    fn: object
    inputs: tuple
    low: float = -2.0
    high: float = 2.0
    grad: bool = True
    rtol: float = 1e-5
    atol: float = 1e-6
    fd: bool = True            # finite differences make sense (smooth at random points)
    onnx: bool = True
    dtypes: tuple = ("float32", "float64")
    xfail: dict = field(default_factory=dict)  # check name -> reason (recorded, never silent)
    onnx_rtol: dict = field(default_factory=dict)  # dtype -> rtol for onnxruntime, with the reason below
    min_opset: int = 17        # below it, export must refuse with a clear ExportError

    def __str__(self) -> str:
        return self.name


def make_inputs(row: Row, dtype: str, rng: np.random.Generator):
    """NumPy arrays for a row, float inputs in [low, high) of ``dtype``."""
    out = []
    for spec in row.inputs:
        if isinstance(spec, Int):
            out.append(rng.integers(spec.low, spec.high, size=spec.shape).astype(spec.dtype))
        elif isinstance(spec, Bool):
            out.append(rng.random(spec.shape) < 0.5)
        else:
            out.append(rng.uniform(row.low, row.high, size=spec).astype(dtype))
    return out


def R(name, fn, *inputs, **kw) -> Row:
    return Row(name, fn, inputs, **kw)


S = (3, 4)
ROWS = [
    # elementwise arithmetic with broadcasting
    R("add", lambda m, x, y: m.add(x, y), (3, 4), (4,)),
    R("add_alpha", lambda m, x, y: m.add(x, y, alpha=2.5), (3, 4), (3, 1)),
    R("radd_scalar", lambda m, x: 2.5 + x, S),
    R("sub", lambda m, x, y: x - y, (2, 3, 4), (3, 1)),
    R("rsub_scalar", lambda m, x: 1.5 - x, S),
    R("mul", lambda m, x, y: x * y, (3, 4), (3, 4)),
    R("mul_fanout", lambda m, x: x * x, S),
    R("add_fanout", lambda m, x: x + x, S),
    R("div", lambda m, x, y: x / y, (3, 4), (4,), low=0.5, high=2.0),
    R("rdiv_scalar", lambda m, x: 2.0 / x, S, low=0.5, high=2.0),
    R("pow_scalar", lambda m, x: x ** 3, S),
    R("pow_tensor", lambda m, x, y: m.pow(x, y), S, S, low=0.5, high=2.0),
    R("rpow", lambda m, x: 2.0 ** x, S),
    R("neg", lambda m, x: -x, S),
    R("abs", lambda m, x: m.abs(x), S),
    R("exp", lambda m, x: m.exp(x), S),
    R("log", lambda m, x: m.log(x), S, low=0.1, high=3.0),
    R("sqrt", lambda m, x: m.sqrt(x), S, low=0.1, high=3.0),
    R("rsqrt", lambda m, x: m.rsqrt(x), S, low=0.1, high=3.0),
    R("sin", lambda m, x: m.sin(x), S),
    R("cos", lambda m, x: m.cos(x), S),
    R("tanh", lambda m, x: m.tanh(x), S),
    R("sigmoid", lambda m, x: m.sigmoid(x), S, low=-8, high=8),
    R("relu", lambda m, x: m.relu(x), S),
    # onnxruntime has no float64 Erf; the exporter computes it in float32 (docs/onnx.md).
    R("erf", lambda m, x: m.erf(x), S, onnx_rtol={"float64": 1e-6}),
    R("log1p", lambda m, x: m.log1p(x), S, low=-0.9, high=3.0),
    R("log1p_tiny", lambda m, x: m.log1p(x * 1e-6), S, fd=False),
    R("expm1", lambda m, x: m.expm1(x), S),
    R("expm1_tiny", lambda m, x: m.expm1(x * 1e-6), S, fd=False),
    R("reciprocal", lambda m, x: m.reciprocal(x), S, low=0.5, high=2.0),
    R("square", lambda m, x: m.square(x), S),
    R("clamp", lambda m, x: m.clamp(x, -0.5, 0.7), S),
    R("clamp_min", lambda m, x: x.clamp(min=0.0), S),
    R("clamp_tensor", lambda m, x, lo: m.clamp(x, min=lo), S, (4,)),
    R("clamp_tensor_both", lambda m, x, lo, hi: m.clamp(x, lo - 1, hi + 1), S, (4,), (3, 1)),
    R("clamp_tensor_ties", lambda m, x, hi: m.clamp(x.round(), max=hi.round()), S, S, low=-3, high=3, fd=False),
    R("clamp_tensor_min_above_max", lambda m, x, lo: m.clamp(x, min=lo + 3, max=lo), S, S),
    R("clamp_0d_tensor_bound", lambda m, x, hi: m.clamp(x, max=hi), (), ()),
    R("lerp_scalar_weight", lambda m, x, y: m.lerp(x, y, 0.3), S, S),
    R("lerp_weight_above_half", lambda m, x, y: m.lerp(x, y, 1.5), S, (4,)),
    R("lerp_tensor_weight", lambda m, x, y, w: m.lerp(x, y, w), S, S, S, low=-1, high=1.2),
    R("lerp_0d", lambda m, x, y, w: m.lerp(x, y, w), (), (), ()),
    R("lerp_empty", lambda m, x, y: m.lerp(x, y, 0.7), (0, 3), (3,)),
    R("maximum", lambda m, x, y: m.maximum(x, y), S, (4,)),
    R("minimum", lambda m, x, y: m.minimum(x, y), S, S),
    R("logaddexp", lambda m, x, y: m.logaddexp(x, y), S, (4,)),
    R("logaddexp_method_0d", lambda m, x, y: x.logaddexp(y), (), ()),
    R("logaddexp_empty", lambda m, x, y: m.logaddexp(x, y), (0, 4), (4,)),
    R("logaddexp_far_apart", lambda m, x, y: m.logaddexp(x * 200, y * 200 - 1000), S, S),
    R("logaddexp_equal_infinities", lambda m, x, y: m.logaddexp(m.log(x * 0) * m.sign(y), m.log(y * 0) * m.sign(y)),
      S, S, grad=False),
    R("remainder", lambda m, x, y: m.remainder(x, y), S, S, low=-3, high=3, fd=False),
    R("floor_divide", lambda m, x, y: x // y, S, S, low=-3, high=3, grad=False),
    R("remainder_int", lambda m, x, y: x % y, Int(S, -7, 7), Int(S, 1, 4), grad=False),
    R("bitwise_and_int", lambda m, x, y: x & y, Int(S, -7, 7), Int((4,), -7, 7), grad=False, min_opset=18),
    R("bitwise_or_int", lambda m, x, y: m.bitwise_or(x, y), Int(S, -7, 7), Int(S, 0, 9), grad=False, min_opset=18),
    R("bitwise_xor_int_scalar", lambda m, x: x ^ 3, Int(S, -7, 7), grad=False, min_opset=18),
    R("bitwise_not_int", lambda m, x: ~x, Int(S, -7, 7), grad=False, min_opset=18),
    R("bitwise_int_bool_mix", lambda m, x, y: x & y, Int(S, -7, 7), Bool(S), grad=False, min_opset=18),
    R("bitwise_or_0d_empty", lambda m, x, y: x | y, Int((), -7, 7), Int((0,), 0, 3), grad=False),  # folds to a constant
    R("bitwise_not_0d", lambda m, x: ~x, Int((), -7, 7), grad=False, min_opset=18),
    R("fmod", lambda m, x, y: m.fmod(x, y), S, S, low=-3, high=3),
    R("fmod_small_quotient", lambda m, x: x.fmod(x * 0.1 + 1e-3), S, low=0.5, high=3, fd=False),
    R("fmod_scalar", lambda m, x: m.fmod(x, 1.5), (2, 0, 3), fd=False),
    R("fmod_int", lambda m, x, y: m.fmod(x, y), Int(S, -7, 7), Int(S, 1, 4), grad=False),
    R("fmod_0d", lambda m, x, y: m.fmod(x, y), (), (), low=0.5, high=3),
    R("floor_divide_int", lambda m, x, y: x // y, Int(S, -7, 7), Int(S, 1, 4), grad=False),
    R("floor_divide_negdiv_int", lambda m, x, y: x // (-y), Int(S, -7, 7), Int(S, 1, 4), grad=False),
    R("div_int_promotes", lambda m, x, y: x / y, Int(S, -7, 7), Int(S, 1, 4), grad=False),
    R("div_trunc", lambda m, x, y: m.div(x, y, rounding_mode="trunc"), Int(S, -7, 7), Int(S, 1, 4), grad=False),
    R("div_floor", lambda m, x, y: m.div(x, y, rounding_mode="floor"), S, S, low=0.5, high=3, grad=False),
    R("int_plus_float", lambda m, x: x + 1.5, Int(S), grad=False),
    R("int_times_int", lambda m, x, y: x * y, Int(S), Int((4,), 0, 3, "int32"), grad=False),
    R("int32_plus_0d_int64", lambda m, x, y: x + y, Int(S, 0, 5, "int32"), Int((), 0, 5), grad=False),
    R("sign", lambda m, x: m.sign(x), S, grad=False),
    R("floor", lambda m, x: m.floor(x), S, grad=False),
    R("ceil", lambda m, x: m.ceil(x), S, grad=False),
    R("round", lambda m, x: m.round(x), S, grad=False),
    R("trunc", lambda m, x: m.trunc(x), S, grad=False),
    R("eq", lambda m, x, y: x == y, Int(S), Int(S), grad=False),
    R("ne", lambda m, x, y: x != y, Int(S), Int(S), grad=False),
    R("lt", lambda m, x, y: x < y, S, (4,), grad=False),
    R("le", lambda m, x, y: x <= y, S, S, grad=False),
    R("gt", lambda m, x: x > 0.3, S, grad=False),
    R("ge", lambda m, x, y: x >= y, Int(S), Int((1,)), grad=False),
    R("logical_and", lambda m, a, b: m.logical_and(a, b), Bool(S), Bool(S), grad=False),
    R("logical_or", lambda m, a, b: a | b, Bool(S), Bool(S), grad=False),
    R("logical_xor", lambda m, a, b: m.logical_xor(a, b), Bool(S), Bool(S), grad=False),
    R("logical_not", lambda m, a: ~a, Bool(S), grad=False),
    R("where", lambda m, c, x, y: m.where(c, x, y), Bool(S), S, (4,)),
    R("where_bool", lambda m, c, a, b: m.where(c, a, b), Bool(S), Bool(S), Bool((4,)), grad=False),
    R("where_scalar", lambda m, x: m.where(x > 0, x, 0.0), S),
    R("bucketize", lambda m, x: m.bucketize(x, m.tensor([-1.0, 0.0, 1.0])), S, grad=False),
    R("bucketize_right", lambda m, x: m.bucketize(x, m.tensor([-1.0, 0.0, 1.0]), right=True), S, grad=False),
    R("cast_float_to_int", lambda m, x: x.long(), S, grad=False),
    R("cast_int_to_float", lambda m, x: x.float() * 0.5, Int(S), grad=False),
    R("cast_double", lambda m, x: x.double() * 2, S, dtypes=("float32",)),
    R("to_bool", lambda m, x: x.to(m.bool), Int(S, -1, 2), grad=False),
    # reductions
    R("sum_all", lambda m, x: x.sum(), (3, 4, 5)),
    R("sum_dim", lambda m, x: x.sum(1), (3, 4, 5)),
    R("sum_dims_keepdim", lambda m, x: x.sum((0, 2), keepdim=True), (3, 4, 5)),
    R("sum_int", lambda m, x: x.sum(0), Int(S), grad=False),
    R("sum_bool", lambda m, a: a.sum(), Bool(S), grad=False),
    R("mean", lambda m, x: x.mean(), (3, 4)),
    R("mean_dim", lambda m, x: x.mean(-1, keepdim=True), (3, 4)),
    R("var", lambda m, x: x.var(), (3, 4)),
    R("var_dim_biased", lambda m, x: x.var(0, unbiased=False), (3, 4)),
    R("std_dim", lambda m, x: x.std(1, keepdim=True), (3, 4)),
    R("prod", lambda m, x: x.prod(1), (3, 4), low=0.5, high=1.5),
    R("amax", lambda m, x: m.amax(x, dim=(0, 1)), (3, 4, 2)),
    R("amin_keepdim", lambda m, x: m.amin(x, 1, keepdim=True), (3, 4)),
    R("max_all", lambda m, x: x.max(), (3, 4)),
    R("min_all", lambda m, x: m.min(x), (3, 4)),
    R("max_dim_values", lambda m, x: x.max(1).values, (3, 4)),
    R("max_dim_indices", lambda m, x: x.max(dim=0, keepdim=True).indices, (3, 4), grad=False),
    R("min_dim_values", lambda m, x: m.min(x, 1)[0], (3, 4)),
    R("argmax", lambda m, x: x.argmax(), (3, 4), grad=False),
    R("argmax_dim", lambda m, x: m.argmax(x, 1, keepdim=True), (3, 4), grad=False),
    R("argmin_dim", lambda m, x: x.argmin(0), (3, 4), grad=False),
    R("logsumexp", lambda m, x: m.logsumexp(x, 1), (3, 4), low=-5, high=5),
    R("softmax", lambda m, x: m.softmax(x, -1), (3, 4), low=-5, high=5),
    R("log_softmax", lambda m, x: m.log_softmax(x, dim=1), (2, 3, 4), low=-5, high=5),
    R("sum_0d", lambda m, x: x.sum(), ()),
    R("sum_empty", lambda m, x: x.sum(0), (0, 3)),
    R("exp_empty", lambda m, x: m.exp(x), (0,)),
    # shapes
    R("reshape", lambda m, x: x.reshape(4, -1), (2, 3, 4)),
    R("view", lambda m, x: x.view(-1), (2, 3)),
    R("flatten", lambda m, x: x.flatten(1), (2, 3, 4)),
    R("squeeze", lambda m, x: x.squeeze(), (2, 1, 3, 1)),
    R("squeeze_dim", lambda m, x: x.squeeze(1), (2, 1, 3)),
    R("unsqueeze", lambda m, x: x.unsqueeze(-1), (2, 3)),
    R("transpose", lambda m, x: x.transpose(0, 2), (2, 3, 4)),
    R("t", lambda m, x: x.t(), (2, 3)),
    R("T", lambda m, x: x.T, (2, 3)),
    R("permute", lambda m, x: x.permute(2, 0, 1), (2, 3, 4)),
    R("expand", lambda m, x: x.expand(3, -1, 4), (1, 2, 1)),
    R("repeat", lambda m, x: x.repeat(2, 3), (2, 3)),
    R("cat", lambda m, x, y: m.cat([x, y], 1), (2, 3), (2, 2)),
    R("stack", lambda m, x, y: m.stack([x, y], dim=1), (2, 3), (2, 3)),
    R("split", lambda m, x: m.split(x, 2, dim=1)[1], (2, 5)),
    R("chunk", lambda m, x: x.chunk(3)[2] * 2, (7, 2)),
    R("narrow", lambda m, x: x.narrow(1, 1, 2), (2, 4)),
    # indexing
    R("index_int", lambda m, x: x[1], (3, 4)),
    R("index_neg_int", lambda m, x: x[-1, 2], (3, 4)),
    R("index_slice_step", lambda m, x: x[::2, 1:3], (5, 4)),
    R("index_none_ellipsis", lambda m, x: x[..., None, 1], (2, 3, 4)),
    R("index_int_tensor", lambda m, x: x[m.tensor([2, 0, 2])], (3, 4)),
    R("index_int_tensor_dim1", lambda m, x: x[:, m.tensor([[1, 3], [0, 0]])], (3, 4)),
    R("index_two_tensors", lambda m, x: x[m.tensor([0, 2]), m.tensor([1, 3])], (3, 4)),
    R("index_separated_tensors", lambda m, x: x[m.tensor([0, 1]), :, m.tensor([1, 0])], (2, 3, 4)),
    R("index_negative_tensor", lambda m, x: x[m.tensor([-1, 0])], (3, 4)),
    R("index_bool_mask", lambda m, x: x[x > 0], (3, 4)),
    R("index_bool_rows", lambda m, x: x[m.tensor([True, False, True])], (3, 4)),
    R("index_select", lambda m, x: m.index_select(x, 1, m.tensor([3, 0, 3])), (3, 4)),
    R("gather", lambda m, x: m.gather(x, 1, m.tensor([[0, 0], [1, 3], [2, 2]])), (3, 4)),
    R("masked_fill", lambda m, x: x.masked_fill(x < 0, 0.5), (3, 4)),
    R("masked_fill_mask_broadcasts_input", lambda m, x, m_: x.masked_fill(m_, 0.5), (1, 4), Bool((3, 1, 4))),
    # linear algebra
    R("matmul_2d", lambda m, x, y: x @ y, (3, 4), (4, 5)),
    R("matmul_1d_1d", lambda m, x, y: m.matmul(x, y), (4,), (4,)),
    R("matmul_1d_2d", lambda m, x, y: m.matmul(x, y), (4,), (4, 3)),
    R("matmul_2d_1d", lambda m, x, y: m.matmul(x, y), (3, 4), (4,)),
    R("matmul_batched_broadcast", lambda m, x, y: m.matmul(x, y), (2, 1, 3, 4), (5, 4, 2)),
    R("matmul_nd_1d", lambda m, x, y: m.matmul(x, y), (2, 3, 4), (4,)),
    R("mm", lambda m, x, y: m.mm(x, y), (2, 3), (3, 2)),
    R("bmm", lambda m, x, y: m.bmm(x, y), (2, 3, 4), (2, 4, 2)),
    R("linear", lambda m, x, w, b: m.nn.functional.linear(x, w, b), (5, 3), (4, 3), (4,)),
    # losses and activations (compositions)
    R("mse_loss", lambda m, x, y: m.nn.functional.mse_loss(x, y), (4, 3), (4, 3)),
    R("l1_loss_sum", lambda m, x, y: m.nn.functional.l1_loss(x, y, reduction="sum"), (4, 3), (4, 3)),
    R("bce", lambda m, p, t: m.nn.functional.binary_cross_entropy(p, t), (4, 3), (4, 3), low=0.05, high=0.95),
    R("bce_saturated", lambda m, p, t: m.nn.functional.binary_cross_entropy(m.clamp(p * 3, 0.0, 1.0), t.round()),
      (4, 3), (4, 3), low=-0.5, high=1.0, fd=False),
    R("bce_logits", lambda m, x, t: m.nn.functional.binary_cross_entropy_with_logits(x, t), (4, 3), (4, 3),
      low=-3, high=3),
    R("bce_logits_pos_weight", lambda m, x, t: m.nn.functional.binary_cross_entropy_with_logits(
        x, t, pos_weight=m.tensor([1.0, 2.0, 0.5])), (4, 3), (4, 3), low=-3, high=3, dtypes=("float32",)),
    R("cross_entropy", lambda m, x, y: m.nn.functional.cross_entropy(x, y), (5, 4), Int((5,), 0, 4)),
    R("cross_entropy_ignore_smooth", lambda m, x, y: m.nn.functional.cross_entropy(
        x, y, ignore_index=1, label_smoothing=0.1), (6, 4), Int((6,), 0, 4)),
    R("cross_entropy_probs", lambda m, x, p: m.nn.functional.cross_entropy(x, m.softmax(p, 1)), (5, 4), (5, 4)),
    R("nll_loss_sum", lambda m, x, y: m.nn.functional.nll_loss(m.log_softmax(x, 1), y, reduction="sum"),
      (5, 4), Int((5,), 0, 4)),
    R("nll_loss_spatial", lambda m, x, y: m.nn.functional.nll_loss(m.log_softmax(x, 1), y), (3, 4, 2),
      Int((3, 2), 0, 4)),
    R("cross_entropy_default_ignored", lambda m, x, y: m.nn.functional.cross_entropy(
        x, y.masked_fill(y == 0, -100)), (8, 4), Int((8,), 0, 4)),
    R("leaky_relu", lambda m, x: m.nn.functional.leaky_relu(x, 0.1), S),
    R("gelu", lambda m, x: m.nn.functional.gelu(x), S, onnx_rtol={"float64": 1e-6}),
    R("gelu_tanh", lambda m, x: m.nn.functional.gelu(x, approximate="tanh"), S),
    R("silu", lambda m, x: m.nn.functional.silu(x), S),
    R("softplus", lambda m, x: m.nn.functional.softplus(x), S),
]

# convolutions (0-d is not a convolution's input; grad-of-grad in tests/tracer/test_cnn.py); float32 sums
# reorder against torch's kernels
CONV = dict(rtol=1e-4, atol=1e-5)
ROWS += [
    R("conv1d", lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, stride=2, padding=1), (2, 4, 9), (6, 4, 3), (6,),
      **CONV),
    R("conv1d_same_dilation_groups", lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, padding="same", dilation=2,
      groups=2), (2, 4, 10), (6, 2, 3), (6,), **CONV),
    R("conv1d_unbatched_nobias", lambda m, x, w: m.nn.functional.conv1d(x, w), (4, 9), (3, 4, 3), **CONV),
    R("conv2d", lambda m, x, w, b: m.nn.functional.conv2d(x, w, b), (2, 3, 7, 7), (4, 3, 3, 3), (4,), **CONV),
    R("conv2d_stride_padding", lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, stride=(2, 1), padding=(1, 2)),
      (2, 3, 8, 6), (4, 3, 3, 3), (4,), **CONV),
    R("max_pool2d", lambda m, x: m.nn.functional.max_pool2d(x, 2), (2, 3, 6, 6)),
    R("max_pool2d_stride_pad", lambda m, x: m.nn.functional.max_pool2d(x, 3, 2, 1), (2, 2, 7, 6)),
    R("max_pool2d_ceil_mode", lambda m, x: m.nn.functional.max_pool2d(x, 3, 2, ceil_mode=True), (1, 2, 8, 7)),
    R("max_pool2d_dilation_rect", lambda m, x: m.nn.functional.max_pool2d(x, (2, 3), (1, 2), (1, 1), dilation=(2, 1)),
      (1, 2, 6, 7)),
    R("max_pool1d", lambda m, x: m.nn.functional.max_pool1d(x, 3, 2, 1, ceil_mode=True), (2, 3, 8)),
    R("max_pool3d", lambda m, x: m.nn.functional.max_pool3d(x, 2), (1, 2, 4, 4, 4)),
    R("max_pool2d_unbatched", lambda m, x: m.nn.MaxPool2d(2, 1)(x), (3, 4, 5)),
    R("max_pool2d_empty_batch", lambda m, x: m.nn.functional.max_pool2d(x, 2), (0, 3, 4, 4)),
    R("max_pool2d_indices", lambda m, x: x.flatten(2).gather(2, m.nn.functional.max_pool2d(
        x, 2, return_indices=True)[1].flatten(2)), (2, 2, 4, 6)),
    R("avg_pool2d", lambda m, x: m.nn.functional.avg_pool2d(x, 2), (2, 3, 6, 6)),
    R("avg_pool2d_pad_exclude", lambda m, x: m.nn.functional.avg_pool2d(x, 3, 2, 1, count_include_pad=False),
      (1, 2, 7, 6)),
    R("avg_pool2d_ceil_mode", lambda m, x: m.nn.functional.avg_pool2d(x, 3, 2, 1, ceil_mode=True), (1, 2, 8, 7)),
    R("avg_pool2d_divisor", lambda m, x: m.nn.AvgPool2d((2, 3), (1, 2), divisor_override=4)(x), (1, 2, 5, 7)),
    R("avg_pool1d", lambda m, x: m.nn.functional.avg_pool1d(x, 3, 2, 1, ceil_mode=True), (2, 3, 8)),
    R("avg_pool2d_unbatched", lambda m, x: m.nn.functional.avg_pool2d(x, 2, 1), (3, 4, 4)),
    R("avg_pool2d_empty_batch", lambda m, x: m.nn.functional.avg_pool2d(x, 2), (0, 2, 4, 4)),
    R("adaptive_avg_pool2d_global", lambda m, x: m.nn.AdaptiveAvgPool2d((1, 1))(x), (2, 3, 5, 4)),
    R("adaptive_avg_pool2d_uneven", lambda m, x: m.nn.functional.adaptive_avg_pool2d(x, (3, None)), (2, 2, 7, 5)),
    R("adaptive_avg_pool1d_upsample", lambda m, x: m.nn.functional.adaptive_avg_pool1d(x, 6), (2, 3, 4)),
    R("conv2d_stride_remainder", lambda m, x, w: m.nn.functional.conv2d(x, w, stride=3), (1, 2, 8, 7), (3, 2, 3, 2),
      **CONV),
    R("conv2d_same_even_kernel", lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, padding="same"),
      (2, 3, 6, 5), (2, 3, 2, 4), (2,), **CONV),
    R("conv2d_dilation", lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, padding=2, dilation=(2, 3)),
      (2, 2, 7, 8), (3, 2, 3, 3), (3,), **CONV),
    R("conv2d_groups", lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, stride=2, padding=1, groups=2),
      (2, 4, 6, 6), (6, 2, 3, 3), (6,), **CONV),
    R("conv2d_depthwise", lambda m, x, w: m.nn.functional.conv2d(x, w, padding=1, groups=3), (2, 3, 5, 5),
      (6, 1, 3, 3), **CONV),
    R("conv2d_valid_nobias", lambda m, x, w: m.nn.functional.conv2d(x, w, padding="valid"), (1, 3, 5, 6),
      (2, 3, 5, 1), **CONV),
    R("conv2d_empty_batch", lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, padding=1), (0, 3, 5, 5),
      (4, 3, 3, 3), (4,), **CONV),
    R("conv3d", lambda m, x, w, b: m.nn.functional.conv3d(x, w, b, padding=(1, 0, 1)), (1, 2, 4, 3, 4),
      (2, 2, 2, 2, 2), (2,), **CONV),
    R("conv_transpose1d", lambda m, x, w, b: m.nn.functional.conv_transpose1d(x, w, b, stride=2, padding=1,
      output_padding=1), (2, 4, 5), (4, 3, 3), (3,), **CONV),
    R("conv_transpose2d", lambda m, x, w, b: m.nn.functional.conv_transpose2d(x, w, b, stride=2, padding=1,
      output_padding=1), (2, 4, 4, 4), (4, 3, 3, 3), (3,), **CONV),
    R("conv_transpose2d_groups_dilation", lambda m, x, w: m.nn.functional.conv_transpose2d(x, w, stride=(1, 2),
      padding=(2, 1), groups=2, dilation=2), (2, 4, 4, 5), (4, 1, 3, 2), **CONV),
    R("conv_transpose2d_output_padding_past_stride", lambda m, x, w, b: m.nn.functional.conv_transpose2d(
        x, w, b, output_padding=1, dilation=2), (1, 2, 4, 4), (2, 3, 3, 3), (3,), **CONV),
    R("conv_transpose2d_empty_batch", lambda m, x, w: m.nn.functional.conv_transpose2d(x, w, stride=2),
      (0, 2, 3, 3), (2, 3, 2, 2), **CONV),
]

# padding: constant is one ir pad (negative amounts crop); reflect/replicate/circular copy positions
ROWS += [
    R("pad_constant", lambda m, x: m.nn.functional.pad(x, (1, 2)), (2, 3, 4)),
    R("pad_constant_value_crop", lambda m, x: m.nn.functional.pad(x, (1, -1, 2, 0), value=1.5), (2, 3, 4, 5)),
    R("pad_constant_all_dims", lambda m, x: m.nn.functional.pad(x, (0, 1, 2, 0, 1, 1)), (2, 3, 2)),
    R("pad_constant_0d", lambda m, x: m.nn.functional.pad(x, ()), ()),
    R("pad_constant_empty", lambda m, x: m.nn.functional.pad(x, (1, 1), value=-2.0), (0, 3)),
    R("pad_constant_int", lambda m, x: m.nn.functional.pad(x, (2, 1), value=7), Int((2, 3), -5, 5), grad=False),
    R("pad_constant_bool", lambda m, x: m.nn.functional.pad(x, (1, 0, 0, 1), value=1), Bool((2, 3)), grad=False),
    R("pad_reflect_2d", lambda m, x: m.nn.functional.pad(x, (1, 2, 2, 1), mode="reflect"), (2, 3, 4, 5)),
    R("pad_reflect_1d_unbatched", lambda m, x: m.nn.ReflectionPad1d(2)(x), (3, 4)),
    R("pad_replicate_1d", lambda m, x: m.nn.functional.pad(x, (2, 3), mode="replicate"), (2, 3, 4)),
    R("pad_replicate_3d", lambda m, x: m.nn.ReplicationPad3d((1, 0, 0, 1, 2, 1))(x), (1, 2, 2, 3, 2)),
    R("pad_circular_2d_crop", lambda m, x: m.nn.functional.pad(x, (-1, 2, 3, 1), mode="circular"), (2, 2, 3, 4)),
    R("pad_zero_module", lambda m, x: m.nn.ZeroPad2d((1, 0, 2, 1))(x), (1, 2, 3, 3)),
    R("pad_constant_module", lambda m, x: m.nn.ConstantPad1d(2, 3.5)(x), (2, 3)),
    R("pad_reflect_empty_batch", lambda m, x: m.nn.functional.pad(x, (1, 1), mode="reflect"), (0, 2, 4)),
]

# normalisation over groups and instances (compositions of mean/var/rsqrt)
NORM = dict(rtol=1e-4, atol=1e-5)
ROWS += [
    R("group_norm", lambda m, x, w, b: m.nn.functional.group_norm(x, 2, w, b), (3, 4, 5), (4,), (4,), **NORM),
    R("group_norm_module_2d", lambda m, x: m.nn.GroupNorm(3, 6, affine=False)(x), (2, 6, 3, 4), **NORM),
    R("group_norm_one_group", lambda m, x: m.nn.functional.group_norm(x, 1), (2, 4, 3), **NORM),
    R("group_norm_empty_batch", lambda m, x: m.nn.functional.group_norm(x, 2), (0, 4, 3), **NORM),
    R("instance_norm_2d", lambda m, x: m.nn.InstanceNorm2d(3)(x), (2, 3, 4, 5), **NORM),
    R("instance_norm_1d_affine", lambda m, x, w, b: m.nn.functional.instance_norm(x, weight=w, bias=b), (2, 3, 6),
      (3,), (3,), **NORM),
    R("instance_norm_unbatched", lambda m, x: m.nn.InstanceNorm2d(2)(x), (2, 3, 4), **NORM),
    R("instance_norm_3d_empty_batch", lambda m, x: m.nn.functional.instance_norm(x), (0, 2, 2, 3, 2), **NORM),
]

# resampling: nearest by index, the interpolating modes as one matmul per spatial dim
ROWS += [
    R("interpolate_nearest_scale", lambda m, x: m.nn.functional.interpolate(x, scale_factor=2), (2, 3, 3, 4)),
    R("interpolate_nearest_size_1d", lambda m, x: m.nn.functional.interpolate(x, size=7), (2, 3, 5)),
    R("interpolate_nearest_downsample", lambda m, x: m.nn.functional.interpolate(x, scale_factor=0.6), (1, 2, 7, 5)),
    R("interpolate_nearest_exact", lambda m, x: m.nn.functional.interpolate(x, size=(3, 9), mode="nearest-exact"),
      (1, 2, 7, 5)),
    R("interpolate_linear", lambda m, x: m.nn.functional.interpolate(x, size=8, mode="linear"), (2, 3, 5)),
    R("interpolate_bilinear", lambda m, x: m.nn.functional.interpolate(x, scale_factor=(2, 1.5), mode="bilinear"),
      (1, 2, 4, 5), **CONV),
    R("interpolate_bilinear_align_corners", lambda m, x: m.nn.Upsample(size=(3, 7), mode="bilinear",
      align_corners=True)(x), (2, 2, 5, 4), **CONV),
    R("interpolate_bilinear_recompute", lambda m, x: m.nn.functional.interpolate(
        x, scale_factor=0.6, mode="bilinear", recompute_scale_factor=True), (1, 2, 7, 5), **CONV),
    R("interpolate_bicubic", lambda m, x: m.nn.functional.interpolate(x, size=(6, 3), mode="bicubic"), (1, 2, 4, 5),
      **CONV),
    R("interpolate_trilinear", lambda m, x: m.nn.functional.interpolate(x, scale_factor=2, mode="trilinear",
      align_corners=True), (1, 1, 2, 3, 2), **CONV),
    R("interpolate_area", lambda m, x: m.nn.functional.interpolate(x, size=(3, 2), mode="area"), (1, 2, 7, 5)),
    R("upsample_nearest_module", lambda m, x: m.nn.UpsamplingNearest2d(scale_factor=3)(x), (1, 2, 2, 3)),
    R("upsample_bilinear_module", lambda m, x: m.nn.UpsamplingBilinear2d(scale_factor=2)(x), (1, 2, 3, 3), **CONV),
    R("interpolate_empty_batch", lambda m, x: m.nn.functional.interpolate(x, scale_factor=2, mode="bilinear"),
      (0, 2, 3, 3)),
    R("pixel_shuffle", lambda m, x: m.nn.functional.pixel_shuffle(x, 2), (2, 8, 3, 4)),
    R("pixel_unshuffle", lambda m, x: m.nn.PixelUnshuffle(2)(x), (3, 2, 4, 6)),
    R("pixel_shuffle_empty", lambda m, x: m.nn.PixelShuffle(3)(x), (0, 9, 2, 2), grad=False),  # torch's backward fails
    R("unfold", lambda m, x: m.nn.functional.unfold(x, (2, 3)), (2, 3, 5, 6), **CONV),
    R("unfold_dilation_padding_stride", lambda m, x: m.nn.Unfold(3, dilation=2, padding=1, stride=2)(x),
      (1, 2, 7, 6), **CONV),
    R("fold", lambda m, x: m.nn.functional.fold(x, (5, 6), (2, 3)), (2, 12, 16), **CONV),
    R("fold_overlap_stride_remainder", lambda m, x: m.nn.Fold((7, 6), 3, dilation=2, padding=1, stride=2)(x),
      (2, 18, 6), **CONV),
    R("fold_unbatched", lambda m, x: m.nn.functional.fold(x, (5, 5), 2, stride=2), (4, 4), **CONV),
    R("adaptive_max_pool2d", lambda m, x: m.nn.functional.adaptive_max_pool2d(x, (3, 4)), (2, 3, 7, 5)),
    R("adaptive_max_pool2d_indices", lambda m, x: x.flatten(2).gather(2, m.nn.AdaptiveMaxPool2d((3, None), True)(
        x)[1].flatten(2)), (2, 2, 5, 4)),
    R("adaptive_max_pool1d_upsample", lambda m, x: m.nn.AdaptiveMaxPool1d(6)(x), (2, 3, 4)),
    R("adaptive_max_pool3d", lambda m, x: m.nn.functional.adaptive_max_pool3d(x, 2), (1, 2, 3, 4, 5)),
    R("adaptive_max_pool2d_empty_batch", lambda m, x: m.nn.functional.adaptive_max_pool2d(x, 2), (0, 2, 3, 4)),
    R("dropout2d_eval", lambda m, x: m.nn.functional.dropout2d(x, 0.5, training=False), (2, 3, 4, 4)),
    R("dropout1d_p0", lambda m, x: m.nn.Dropout1d(0.0)(x), (2, 3, 4)),
]
