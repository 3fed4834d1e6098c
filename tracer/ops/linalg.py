"""Matrix products with torch's rank rules and checks."""
from __future__ import annotations

from ir.ops import linalg as L
from tracer.core.dispatch import apply
from tracer.core.errors import err
from tracer.ops._util import promote
from tracer.core.tensor import Tensor


def matmul(input, other) -> Tensor:
    return apply(L.matmul, promote(input, other))


def _need(name, t, rank):
    if t.dim() != rank:
        raise err(RuntimeError, f"{name}: expected a {rank}D tensor, got {t.dim()}D {list(t.shape)}")


def mm(input, mat2) -> Tensor:
    _need("mm", input, 2), _need("mm", mat2, 2)
    return matmul(input, mat2)


def bmm(input, mat2) -> Tensor:
    _need("bmm", input, 3), _need("bmm", mat2, 3)
    if input.shape[0] != mat2.shape[0]:
        raise err(RuntimeError, f"bmm: batch1 and batch2 must have same number of batches, got "
                  f"{input.shape[0]} and {mat2.shape[0]}")
    return matmul(input, mat2)


def mv(input, vec) -> Tensor:
    _need("mv", input, 2), _need("mv", vec, 1)
    return matmul(input, vec)


def dot(input, other) -> Tensor:
    _need("dot", input, 1), _need("dot", other, 1)
    return matmul(input, other)


def outer(input, vec2) -> Tensor:
    return matmul(input.reshape(-1, 1), vec2.reshape(1, -1))


def addmm(input, mat1, mat2, *, beta=1, alpha=1) -> Tensor:
    prod = mm(mat1, mat2)
    prod = prod if alpha == 1 else prod * alpha
    return prod + (input if beta == 1 else input * beta)
