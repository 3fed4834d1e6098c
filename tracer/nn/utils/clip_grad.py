"""Gradient clipping as ``torch.nn.utils``: ``get_total_norm``, ``clip_grads_with_norm_``,
``clip_grad_norm_`` and ``clip_grad_value_``, in torch's order of operations (per-tensor
norms, the norm of those norms, one coefficient ``max_norm / (norm + 1e-6)`` clamped at 1), so
the clipped gradients are torch's to rounding. Everything is tensor arithmetic, so a traced
or compiled step clips inside its graph; only ``error_if_nonfinite=True`` reads the norm's
value (a trace refuses that read, as it refuses any data-dependent branch)."""
from __future__ import annotations

import math

from tracer.core.errors import err
from tracer.core.grad_mode import no_grad
from tracer.core.tensor import Tensor
from tracer.ops import elementwise as ew
from tracer.ops.creation import tensor
from tracer.ops.shape import stack


def _tensors(parameters) -> list:
    return [parameters] if isinstance(parameters, Tensor) else list(parameters)


def get_total_norm(tensors, norm_type: float = 2.0, error_if_nonfinite: bool = False, foreach=None) -> Tensor:
    """The ``norm_type`` norm of all ``tensors`` together (0-d; 0.0 for none). ``foreach`` only
    picks torch's batched kernels, the same arithmetic, so it changes nothing here."""
    tensors = [t for t in _tensors(tensors)]
    if not tensors:
        return tensor(0.0)
    norm_type = float(norm_type)
    norms = [t.norm(norm_type) for t in tensors]
    total = stack(norms).norm(norm_type)
    if error_if_nonfinite and not math.isfinite(float(total)):
        raise err(RuntimeError, f"The total norm of order {norm_type} for gradients from `parameters` is non-finite, "
                  "so it cannot be clipped. To disable this error and scale the gradients by the non-finite norm "
                  "anyway, set `error_if_nonfinite=False`")
    return total


def clip_grads_with_norm_(parameters, max_norm: float, total_norm, foreach=None) -> None:
    """Scale every gradient by ``min(1, max_norm / (total_norm + 1e-6))`` in place."""
    grads = [p.grad for p in _tensors(parameters) if p.grad is not None]
    if not grads:
        return
    coef = ew.clamp(ew.div(float(max_norm), ew.add(total_norm, 1e-6)), max=1.0)
    with no_grad():
        for g in grads:
            g.mul_(coef.to(g.dtype))


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0, error_if_nonfinite: bool = False,
                    foreach=None) -> Tensor:
    """Clip the gradients' total norm to ``max_norm``; returns the norm before clipping."""
    parameters = _tensors(parameters)
    grads = [p.grad for p in parameters if p.grad is not None]
    total = get_total_norm(grads, norm_type, error_if_nonfinite, foreach)
    clip_grads_with_norm_(parameters, max_norm, total, foreach)
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """Clamp every gradient element to ``[-clip_value, clip_value]`` in place."""
    clip_value = float(clip_value)
    with no_grad():
        for p in _tensors(parameters):
            if p.grad is not None:
                p.grad.clamp_(min=-clip_value, max=clip_value)
