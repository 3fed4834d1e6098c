"""How a loss reduces its per-element values ('none' | 'mean' | 'sum'), and torch's handling of
the deprecated ``size_average=``/``reduce=`` arguments: shared by every loss in ``tracer.nn``."""
from __future__ import annotations

import warnings

from ir.errors import IRError
from ir.ops.rules import broadcast_shapes
from tracer.core.errors import err
from tracer.core.tensor import Tensor
from tracer.ops import reduce as rd


def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """torch's ``_Reduction.legacy_get_string``: the deprecated ``size_average=``/``reduce=``
    still mean what they meant (``reduce=False``: per element; ``size_average=False``: a sum),
    with torch's deprecation warning, and override ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    chosen = "none" if not reduce else ("mean" if size_average else "sum")
    warnings.warn(f"size_average and reduce args will be deprecated, please use reduction='{chosen}' instead.",
                  UserWarning, stacklevel=3)
    return chosen


def reduce_loss(loss, reduction: str) -> Tensor:
    if reduction == "mean":
        return rd.mean(loss)
    if reduction == "sum":
        return rd.sum(loss)
    if reduction == "none":
        return loss
    raise err(ValueError, f"{reduction} is not a valid value for reduction")


def check_reduction(op: str, reduction: str) -> None:
    """A bad reduction string is refused before anything is computed, naming the loss."""
    if reduction not in ("mean", "sum", "none"):
        raise err(ValueError, f"{op}: {reduction} is not a valid value for reduction (expected 'mean', 'sum' "
                  "or 'none')")


def same_shape(name, input, target):
    try:
        broadcast_shapes(name, [input._type, target._type])
    except IRError as e:
        raise err(RuntimeError, str(e)) from None
    if tuple(input.shape) != tuple(target.shape):
        warnings.warn(f"Using a target size ({target.shape}) that is different to the input size ({input.shape}). "
                      "This will likely lead to incorrect results due to broadcasting. Please ensure they have "
                      "the same size.", UserWarning, stacklevel=3)


