"""``F.embedding`` and ``nn.Embedding`` as torch: a row lookup (``index_select`` on the weight,
whose gradient adds each position's gradient into its row, so repeated indices sum), the
``padding_idx`` row receiving no gradient, ``max_norm`` renormalising the looked-up rows of the
weight in place as torch's ``embedding_renorm_``, and ``Embedding.from_pretrained``.

``scale_grad_by_freq`` and ``sparse=True`` (sparse gradients) are refused with
NotImplementedError: tracegrad has no per-batch index counts in its gradient rule and no
sparse tensors.
"""
from __future__ import annotations

from ir import dtypes
from tracer.core.errors import err
from tracer.core.grad_mode import no_grad
from tracer.core.tensor import Tensor
from tracer.nn import init
from tracer.nn.module import Module
from tracer.nn.parameter import Parameter
from tracer.ops import elementwise as ew
from tracer.ops.creation import empty
from tracer.ops.indexing import index_select

_INDEX_TYPES = (dtypes.int64, dtypes.int32)
_TORCH_TYPE = {"float32": "FloatTensor", "float64": "DoubleTensor", "bool": "BoolTensor", "uint8": "ByteTensor",
               "int8": "CharTensor", "int16": "ShortTensor", "float16": "HalfTensor"}


def _check_indices(input, where: str) -> None:
    if input.dtype not in _INDEX_TYPES:
        name = _TORCH_TYPE.get(str(input.dtype).replace("tracer.", ""), str(input.dtype))
        raise err(RuntimeError, f"Expected tensor for argument #1 'indices' to have one of the following scalar "
                  f"types: Long, Int; but got torch.{name} instead (while checking arguments for {where}) "
                  f"(indices: {input._type})")


def _renorm_(weight, input, max_norm: float, norm_type: float) -> None:
    """torch's ``embedding_renorm_``: each looked-up row whose ``norm_type``-norm exceeds
    ``max_norm`` is scaled to ``max_norm / (norm + 1e-7)`` of itself, in place, without grad."""
    with no_grad():
        flat = input.reshape(-1)
        rows = index_select(weight, 0, flat)
        norms = rows.norm(p=norm_type, dim=1, keepdim=True)
        scale = ew.where(ew.gt(norms, max_norm), ew.div(max_norm, ew.add(norms, 1e-7)), 1.0)
        weight[flat] = ew.mul(rows, scale).to(weight.dtype)


def embedding(input, weight, padding_idx=None, max_norm=None, norm_type: float = 2.0,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """Rows of ``weight`` at ``input``'s indices: shape ``input.shape + (embedding_dim,)``."""
    if not isinstance(input, Tensor) or not isinstance(weight, Tensor):
        raise err(TypeError, "embedding(): argument 'input' and 'weight' must be Tensors")
    if weight.dim() != 2:
        raise err(RuntimeError, f"'weight' must be 2-D (weight: {weight._type})")
    _check_indices(input, "embedding_renorm_" if max_norm is not None else "embedding")
    if scale_grad_by_freq:
        raise err(NotImplementedError, "embedding(scale_grad_by_freq=True) is not supported by tracegrad")
    if sparse:
        raise err(NotImplementedError, "embedding(sparse=True): tracegrad has no sparse gradients; use the dense "
                  "default")
    if padding_idx is not None:
        num = weight.shape[0]
        if padding_idx > 0 and padding_idx >= num or padding_idx < 0 and padding_idx < -num:
            raise err(AssertionError, "Padding_idx must be within num_embeddings")
        padding_idx = padding_idx % num
    if max_norm is not None:
        _renorm_(weight, input, max_norm, norm_type)
    out = index_select(weight, 0, input.reshape(-1)).reshape(tuple(input.shape) + (weight.shape[1],))
    if padding_idx is not None and out.requires_grad:
        # the padding row keeps its value but gets no gradient, as torch's embedding_backward
        at_padding = ew.eq(input, padding_idx).unsqueeze(-1)
        out = ew.where(at_padding, out.detach(), out)
    return out


class Embedding(Module):
    """A lookup table of ``num_embeddings`` rows of size ``embedding_dim``, initialised N(0, 1)
    with the ``padding_idx`` row zeroed."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False, _weight=None,
                 _freeze: bool = False, device=None, dtype=None):
        super().__init__()
        self.num_embeddings, self.embedding_dim = num_embeddings, embedding_dim
        if padding_idx is not None:
            if padding_idx > 0:
                if padding_idx >= num_embeddings:
                    raise err(AssertionError, "Padding_idx must be within num_embeddings")
            elif padding_idx < 0:
                if padding_idx < -num_embeddings:
                    raise err(AssertionError, "Padding_idx must be within num_embeddings")
                padding_idx = num_embeddings + padding_idx
        self.padding_idx, self.max_norm, self.norm_type = padding_idx, max_norm, norm_type
        self.scale_grad_by_freq, self.sparse = scale_grad_by_freq, sparse
        if _weight is None:
            self.weight = Parameter(empty((num_embeddings, embedding_dim), dtype=dtype, device=device),
                                    requires_grad=not _freeze)
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise err(AssertionError, "Shape of weight does not match num_embeddings and embedding_dim")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        self._fill_padding_idx_with_zero()

    def _fill_padding_idx_with_zero(self) -> None:
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx].fill_(0)

    def forward(self, input):
        return embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                         self.scale_grad_by_freq, self.sparse)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq is not False:
            s += f", scale_grad_by_freq={self.scale_grad_by_freq}"
        if self.sparse is not False:
            s += ", sparse=True"
        return s

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx=None, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False):
        if embeddings.dim() != 2:
            raise err(AssertionError, "Embeddings parameter is expected to be 2-dimensional")
        rows, cols = embeddings.shape
        return cls(rows, cols, _weight=embeddings, _freeze=freeze, padding_idx=padding_idx, max_norm=max_norm,
                   norm_type=norm_type, scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)
