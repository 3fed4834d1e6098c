"""Attention as torch: ``scaled_dot_product_attention`` (torch's math path: boolean or additive
masks, ``is_causal``, ``dropout_p``, ``scale``, grouped-query ``enable_gqa``; a row whose every
score is masked gives zeros, as torch's safe softmax) and ``MultiheadAttention`` with
``F.multi_head_attention_forward``'s exact sequence of projections, masks and reshapes.

Both are compositions of matmul, softmax and masking, so a trace unrolls them into ordinary
ops: the training graph of a transformer needs no ONNX attention op or its gradient.
"""
from __future__ import annotations

import math

import numpy as np

from ir import dtypes
from tracer.core.errors import err
from tracer.core.tensor import Tensor
from tracer.nn.dropout import dropout
from tracer.nn import init
from tracer.nn.layers import Linear
from tracer.nn.module import Module
from tracer.nn.padding import pad
from tracer.nn.parameter import Parameter
from tracer.ops import elementwise as ew
from tracer.ops.creation import empty, tensor, zeros
from tracer.ops.linalg import linear, matmul
from tracer.ops.reduce import softmax
from tracer.ops.shape import cat


def _causal(length: int, source: int) -> Tensor:
    """torch's ``ones(L, S).tril()``: query i attends to keys 0..i (a constant in a trace)."""
    return tensor(np.tril(np.ones((length, source), dtype=bool)))


def _safe_softmax(scores: Tensor) -> Tensor:
    """Softmax over the last dim with fully masked rows (all -inf) giving zeros and a zero
    gradient, as torch's ``_safe_softmax``: such rows are zeroed before the softmax too, so no
    NaN reaches the backward pass."""
    masked = ew.eq(scores, float("-inf")).all(dim=-1, keepdim=True)
    weights = softmax(ew.where(masked, zeros((), dtype=scores.dtype), scores), dim=-1)
    return ew.where(masked, zeros((), dtype=scores.dtype), weights)


def _check_sdpa(query, key, value, attn_mask, dropout_p, is_causal):
    for name, t in (("query", query), ("key", key), ("value", value)):
        if t.dim() < 2:
            raise err(RuntimeError, f"scaled_dot_product_attention: {name} must be at least 2-D, got {t._type}")
    if not (query.dtype == key.dtype == value.dtype) or not query.dtype.is_floating_point:
        raise err(RuntimeError, "Expected query, key, and value to have the same dtype, but got query.dtype: "
                  f"{query.dtype} key.dtype: {key.dtype} and value.dtype: {value.dtype} instead.")
    if query.shape[-1] != key.shape[-1]:
        raise err(RuntimeError, f"scaled_dot_product_attention: query and key must have the same embedding size, "
                  f"got query {query._type} and key {key._type}")
    if key.shape[-2] != value.shape[-2]:
        raise err(RuntimeError, f"scaled_dot_product_attention: key and value must have the same sequence length, "
                  f"got key {key._type} and value {value._type}")
    if not 0.0 <= dropout_p <= 1.0:
        raise err(RuntimeError, f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if attn_mask is not None and attn_mask.dtype != dtypes.bool_ and attn_mask.dtype != query.dtype:
        raise err(RuntimeError, f"Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                  f"attn_mask.dtype: {attn_mask.dtype} and  query.dtype: {query.dtype} instead.")


def _repeat_heads(t: Tensor, groups: int) -> Tensor:
    """``t.repeat_interleave(groups, dim=-3)``: each key/value head serves ``groups`` query heads."""
    shape = tuple(t.shape)
    expanded = t.unsqueeze(-3).expand(shape[:-3] + (shape[-3], groups) + shape[-2:])
    return expanded.reshape(shape[:-3] + (shape[-3] * groups,) + shape[-2:])


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale=None, enable_gqa: bool = False) -> Tensor:
    """softmax(q k^T * scale + mask) v over (..., L, E) queries and (..., S, E) keys. A boolean
    mask says which keys each query may attend to; a float mask is added; ``is_causal`` adds
    the lower-triangular mask. Both together are combined, as torch 2.13's fused CPU kernel
    does; its math kernel (chosen for some shapes, e.g. 3-D inputs) refuses the pair instead. Dropout on the weights applies whenever ``dropout_p > 0``, as in torch, where the
    caller passes 0.0 outside training."""
    _check_sdpa(query, key, value, attn_mask, dropout_p, is_causal)
    length, source = query.shape[-2], key.shape[-2]
    if enable_gqa and query.dim() >= 3 and key.shape[-3] != query.shape[-3]:
        heads, kv_heads = query.shape[-3], key.shape[-3]
        if kv_heads == 0 or heads % kv_heads or value.shape[-3] != kv_heads:
            raise err(RuntimeError, f"scaled_dot_product_attention: number of heads in key/value must divide the "
                      f"number of heads in query (query {query._type}, key {key._type}, value {value._type})")
        key, value = _repeat_heads(key, heads // kv_heads), _repeat_heads(value, heads // kv_heads)
    factor = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    scores = ew.mul(matmul(query, key.transpose(-2, -1)), factor)
    if is_causal:
        scores = scores.masked_fill(ew.logical_not(_causal(length, source)), float("-inf"))
    if attn_mask is not None:
        if attn_mask.dtype == dtypes.bool_:
            scores = scores.masked_fill(ew.logical_not(attn_mask), float("-inf"))
        else:
            scores = ew.add(scores, attn_mask)
    weights = _safe_softmax(scores)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return matmul(weights, value)


def _canonical_mask(mask, name: str, target_dtype):
    """torch's ``_canonical_mask``: a boolean mask (True = not allowed) becomes an additive
    float mask of -inf and 0; a float mask is used as it is."""
    if mask is None:
        return None
    if mask.dtype == dtypes.bool_:
        return zeros(tuple(mask.shape), dtype=target_dtype).masked_fill(mask, float("-inf"))
    if not mask.dtype.is_floating_point:
        raise err(AssertionError, f"only bool and floating types of {name} are supported")
    return mask


class MultiheadAttention(Module):
    """torch's ``nn.MultiheadAttention``: one packed ``in_proj_weight`` (3E x E) when keys and
    values have the query's size, separate ``q/k/v_proj_weight`` otherwise; ``out_proj``;
    optional learned ``bias_k``/``bias_v`` and an appended zero attention slot."""

    def __init__(self, embed_dim: int, num_heads: int, dropout: float = 0.0, bias: bool = True,
                 add_bias_kv: bool = False, add_zero_attn: bool = False, kdim=None, vdim=None,
                 batch_first: bool = False, device=None, dtype=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise err(ValueError, f"embed_dim and num_heads must be greater than 0, got embed_dim={embed_dim} "
                      f"and num_heads={num_heads} instead")
        self.embed_dim, self.num_heads, self.dropout, self.batch_first = embed_dim, num_heads, dropout, batch_first
        self.kdim = kdim if kdim is not None else embed_dim
        self.vdim = vdim if vdim is not None else embed_dim
        self._qkv_same_embed_dim = self.kdim == embed_dim and self.vdim == embed_dim
        self.head_dim = embed_dim // num_heads
        if self.head_dim * num_heads != embed_dim:
            raise err(AssertionError, "embed_dim must be divisible by num_heads")
        kw = dict(device=device, dtype=dtype)
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(empty((3 * embed_dim, embed_dim), **kw))
            for name in ("q_proj_weight", "k_proj_weight", "v_proj_weight"):
                self.register_parameter(name, None)
        else:
            self.q_proj_weight = Parameter(empty((embed_dim, embed_dim), **kw))
            self.k_proj_weight = Parameter(empty((embed_dim, self.kdim), **kw))
            self.v_proj_weight = Parameter(empty((embed_dim, self.vdim), **kw))
            self.register_parameter("in_proj_weight", None)
        if bias:
            self.in_proj_bias = Parameter(empty(3 * embed_dim, **kw))
        else:
            self.register_parameter("in_proj_bias", None)
        self.out_proj = NonDynamicallyQuantizableLinear(embed_dim, embed_dim, bias=bias, **kw)
        if add_bias_kv:
            self.bias_k = Parameter(empty((1, 1, embed_dim), **kw))
            self.bias_v = Parameter(empty((1, 1, embed_dim), **kw))
        else:
            self.bias_k = self.bias_v = None
        self.add_zero_attn = add_zero_attn
        self._reset_parameters()

    def _reset_parameters(self) -> None:
        if self._qkv_same_embed_dim:
            init.xavier_uniform_(self.in_proj_weight)
        else:
            for w in (self.q_proj_weight, self.k_proj_weight, self.v_proj_weight):
                init.xavier_uniform_(w)
        if self.in_proj_bias is not None:
            init.constant_(self.in_proj_bias, 0.0)
            init.constant_(self.out_proj.bias, 0.0)
        if self.bias_k is not None:
            init.xavier_normal_(self.bias_k)
            init.xavier_normal_(self.bias_v)

    def forward(self, query, key, value, key_padding_mask=None, need_weights: bool = True, attn_mask=None,
                average_attn_weights: bool = True, is_causal: bool = False):
        batched = query.dim() == 3
        if self.batch_first and batched:
            query, key, value = (t.transpose(1, 0) for t in (query, key, value))
        out, weights = multi_head_attention_forward(
            query, key, value, self, key_padding_mask=key_padding_mask, need_weights=need_weights,
            attn_mask=attn_mask, average_attn_weights=average_attn_weights, is_causal=is_causal)
        if self.batch_first and batched:
            out = out.transpose(1, 0)
        return out, weights


class NonDynamicallyQuantizableLinear(Linear):
    """torch's name for ``MultiheadAttention.out_proj`` (a Linear; the name shows in reprs)."""


def _check_mha_inputs(query, key, value, key_padding_mask, attn_mask, mha):
    if query.dim() not in (2, 3):
        raise err(AssertionError, f"query should be unbatched 2D or batched 3D tensor but received {query.dim()}-D "
                  f"query tensor")
    if key.dim() != query.dim() or value.dim() != query.dim():
        raise err(AssertionError, f"For {'batched' if query.dim() == 3 else 'unbatched'} (3-D) `query`, expected "
                  f"`key` and `value` to be {query.dim()}-D but found {key.dim()}-D and {value.dim()}-D tensors "
                  f"respectively")
    if query.shape[-1] != mha.embed_dim:
        raise err(AssertionError, f"was expecting embedding dimension of {mha.embed_dim}, but got {query.shape[-1]}")
    if key.shape[:-1] != value.shape[:-1]:
        raise err(AssertionError, f"key shape {tuple(key.shape)} does not match value shape {tuple(value.shape)}")
    if key_padding_mask is not None and key_padding_mask.dim() != query.dim() - 1:
        raise err(AssertionError, f"For {'batched' if query.dim() == 3 else 'unbatched'} `query`, expected "
                  f"`key_padding_mask` to be `None` or {query.dim() - 1}-D but found {key_padding_mask.dim()}-D "
                  f"tensor instead")


def multi_head_attention_forward(query, key, value, mha: MultiheadAttention, key_padding_mask=None,
                                 need_weights: bool = True, attn_mask=None, average_attn_weights: bool = True,
                                 is_causal: bool = False):
    """torch's ``F.multi_head_attention_forward`` for sequence-first (L, N, E) inputs (or
    unbatched (L, E)), reading the projections from ``mha``."""
    _check_mha_inputs(query, key, value, key_padding_mask, attn_mask, mha)
    batched = query.dim() == 3
    if not batched:
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    if is_causal and attn_mask is None:
        raise err(RuntimeError, "Need attn_mask if specifying the is_causal hint. You may use the Transformer "
                  "module method `generate_square_subsequent_mask` to create this mask.")
    length, bsz, embed = query.shape
    heads, head_dim = mha.num_heads, mha.head_dim
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", query.dtype)
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # torch trusts the hint: SDPA's own causal mask replaces the given one
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", query.dtype)
        is_causal = is_causal and key_padding_mask is None

    e = mha.embed_dim
    b = mha.in_proj_bias
    bq, bk, bv = (None, None, None) if b is None else (b[:e], b[e:2 * e], b[2 * e:])
    if mha._qkv_same_embed_dim:
        w = mha.in_proj_weight
        wq, wk, wv = w[:e], w[e:2 * e], w[2 * e:]
    else:
        wq, wk, wv = mha.q_proj_weight, mha.k_proj_weight, mha.v_proj_weight
    q, k, v = linear(query, wq, bq), linear(key, wk, bk), linear(value, wv, bv)

    if attn_mask is not None:
        if attn_mask.dim() == 2:
            if tuple(attn_mask.shape) != (length, key.shape[0]):
                raise err(RuntimeError, f"The shape of the 2D attn_mask is {tuple(attn_mask.shape)}, but should be "
                          f"{(length, key.shape[0])}.")
            attn_mask = attn_mask.unsqueeze(0)
        elif attn_mask.dim() == 3:
            if tuple(attn_mask.shape) != (bsz * heads, length, key.shape[0]):
                raise err(RuntimeError, f"The shape of the 3D attn_mask is {tuple(attn_mask.shape)}, but should be "
                          f"{(bsz * heads, length, key.shape[0])}.")
        else:
            raise err(RuntimeError, f"attn_mask's dimension {attn_mask.dim()} is not supported")
    if mha.bias_k is not None:
        k = cat([k, mha.bias_k.expand(1, bsz, e)])
        v = cat([v, mha.bias_v.expand(1, bsz, e)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))

    q = q.reshape(length, bsz * heads, head_dim).transpose(0, 1)
    k = k.reshape(k.shape[0], bsz * heads, head_dim).transpose(0, 1)
    v = v.reshape(v.shape[0], bsz * heads, head_dim).transpose(0, 1)
    if mha.add_zero_attn:
        k = cat([k, zeros((bsz * heads, 1, head_dim), dtype=k.dtype)], dim=1)
        v = cat([v, zeros((bsz * heads, 1, head_dim), dtype=v.dtype)], dim=1)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    source = k.shape[1]
    if key_padding_mask is not None:
        if tuple(key_padding_mask.shape) != (bsz, source):
            raise err(AssertionError, f"expecting key_padding_mask shape of {(bsz, source)}, but got "
                      f"{tuple(key_padding_mask.shape)}")
        padding = key_padding_mask.reshape(bsz, 1, 1, source).expand(bsz, heads, 1, source)
        padding = padding.reshape(bsz * heads, 1, source)
        attn_mask = padding if attn_mask is None else ew.add(attn_mask, padding)
    dropout_p = mha.dropout if mha.training else 0.0

    if need_weights:
        scores = matmul(ew.mul(q, math.sqrt(1.0 / head_dim)), k.transpose(-2, -1))
        if attn_mask is not None:
            scores = ew.add(attn_mask, scores)
        weights = softmax(scores, dim=-1)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = matmul(weights, v).transpose(0, 1).reshape(length * bsz, embed)
        out = linear(out, mha.out_proj.weight, mha.out_proj.bias).reshape(length, bsz, embed)
        weights = weights.reshape(bsz, heads, length, source)
        if average_attn_weights:
            weights = weights.mean(dim=1)
        if not batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:
        attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 and attn_mask.dim() == 3 \
            else attn_mask.reshape(bsz, heads, -1, source)
    q, k, v = (t.reshape(bsz, heads, t.shape[1], head_dim) for t in (q, k, v))
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * length, embed)
    out = linear(out, mha.out_proj.weight, mha.out_proj.bias).reshape(length, bsz, embed)
    return (out if batched else out.squeeze(1)), None
