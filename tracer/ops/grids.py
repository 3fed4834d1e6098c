"""``torch.meshgrid``: coordinate grids as expanded views of the 1-D inputs (no copies, as
torch's, so a grid's strides show zeros along the broadcast dims)."""
from __future__ import annotations

import warnings

from tracer.core.errors import err
from tracer.core.tensor import Tensor
from tracer.ops import shape as sh


def meshgrid(*tensors, indexing: str | None = None) -> tuple[Tensor, ...]:
    """One grid per input, each of shape ``(len(t0), len(t1), ...)`` with ``indexing="ij"``
    (torch's default, with its warning when not given) or the first two dims swapped with
    ``"xy"``. 0-d inputs count as length 1. Inputs may also come as one list or tuple."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing is None:
        warnings.warn("torch.meshgrid: in an upcoming release, it will be required to pass the indexing argument.",
                      UserWarning, stacklevel=2)
        indexing = "ij"
    if indexing not in ("ij", "xy"):
        raise err(RuntimeError, f'torch.meshgrid: indexing must be one of "xy" or "ij", but received: {indexing}')
    if not tensors:
        raise err(RuntimeError, "meshgrid expects a non-empty TensorList")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise err(TypeError, f"meshgrid(): expected Tensor as element of the tensor list, but got "
                      f"{type(t).__name__}")
        if t.dim() > 1:
            raise err(RuntimeError, f"torch.meshgrid: Expected 0D or 1D tensor in the tensor list but got a "
                      f"{t.dim()}-D tensor of shape {list(t.shape)}")
    if len({t.dtype for t in tensors}) > 1:
        raise err(RuntimeError, "meshgrid expects all tensors to have the same dtype")
    flat = [t.reshape(-1) for t in tensors]
    swap = indexing == "xy" and len(flat) >= 2
    if swap:
        flat[0], flat[1] = flat[1], flat[0]
    shape = [t.shape[0] for t in flat]
    grids = []
    for i, t in enumerate(flat):
        view = [1] * len(flat)
        view[i] = shape[i]
        grids.append(sh.expand(t.reshape(view), shape))
    if swap:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)
