"""Distances as torch 2.13: ``cosine_similarity``, ``pairwise_distance``, ``pdist`` and the
``CosineSimilarity`` and ``PairwiseDistance`` modules, as compositions of existing ops
(ATen's ``Distance.cpp`` formulas)."""
from __future__ import annotations

import numpy as np

from tracer.core.errors import err, scalar_type_name
from tracer.core.tensor import Tensor
from tracer.nn.module import Module
from tracer.ops import elementwise as ew
from tracer.ops import reduce as rd
from tracer.ops._util import promote
from tracer.ops.creation import tensor
from tracer.ops.indexing import index_select
from tracer.ops.shape import broadcast_tensors


def _straight_through_clamp_min(norm, eps: float) -> Tensor:
    """max(norm, eps) in value, with the gradient of ``norm`` itself: torch clamps the norms
    in place under no_grad, so autograd never sees the clamp."""
    return ew.add(norm, ew.sub(ew.clamp_min(norm, eps), norm).detach())


def cosine_similarity(x1, x2, dim: int = 1, eps: float = 1e-8) -> Tensor:
    """sum(x1 / max(|x1|, eps) * x2 / max(|x2|, eps)) along ``dim``, after broadcasting: torch
    2.13 normalises each input first (so the result stays within [-1, 1])."""
    a, b = promote(x1, x2)
    if not a.dtype.is_floating_point:
        raise err(RuntimeError, f"expected common dtype to be floating point, yet common dtype is "
                  f"{scalar_type_name(a.dtype)}")
    a, b = broadcast_tensors(a, b)
    na = _straight_through_clamp_min(rd.norm(a, 2, dim, keepdim=True), eps)
    nb = _straight_through_clamp_min(rd.norm(b, 2, dim, keepdim=True), eps)
    return rd.sum(ew.mul(ew.div(a, na), ew.div(b, nb)), dim)


def pairwise_distance(x1, x2, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False) -> Tensor:
    """The p-norm of ``x1 - x2 + eps`` over the last dim (of the broadcast shape)."""
    dim = max(x1.dim(), x2.dim()) - 1
    return rd.norm(ew.add(ew.sub(x1, x2), eps), p, dim, keepdim)


def pdist(input, p: float = 2) -> Tensor:
    """The p-norm distances between the rows of an (N, M) input, for each pair i < j in row-major
    order: N (N - 1) / 2 values."""
    if input.dim() != 2:
        raise err(RuntimeError, f"pdist only supports 2D tensors, got: {input.dim()}D")
    if p < 0:
        raise err(RuntimeError, "pdist only supports non-negative p values")
    rows, cols = np.triu_indices(input.shape[0], 1)
    first = index_select(input, 0, tensor(rows.astype(np.int64)))
    second = index_select(input, 0, tensor(cols.astype(np.int64)))
    return rd.norm(ew.sub(first, second), p, 1)


class CosineSimilarity(Module):
    """Cosine similarity along ``dim`` (``F.cosine_similarity``)."""

    def __init__(self, dim: int = 1, eps: float = 1e-8):
        super().__init__()
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        return cosine_similarity(x1, x2, self.dim, self.eps)


class PairwiseDistance(Module):
    """The p-norm distance between the rows of two inputs (``F.pairwise_distance``)."""

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False):
        super().__init__()
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        return pairwise_distance(x1, x2, self.norm, self.eps, self.keepdim)
