"""``torch.amp``: ``autocast`` and ``GradScaler`` for scripts written for mixed precision.

tracegrad computes every op in its inputs' dtype, so both run disabled: code written as
``with torch.autocast("cuda"): ...`` and ``scaler.scale(loss).backward(); scaler.step(opt)``
runs unchanged and trains in float32. Each says so once per place in the script:

- ``autocast("cuda")`` and a disabled-by-torch request warn with torch's own words;
- ``autocast("cpu")`` warns that tracegrad does not autocast, because torch's CPU autocast runs
  matmuls and linear layers in bfloat16 and its numbers differ from float32 ones;
- ``GradScaler()`` warns as torch does without CUDA; ``GradScaler("cpu")`` (which torch
  enables) warns that tracegrad does not scale, which changes updates only by rounding.
"""
from __future__ import annotations

import functools
import sys
import warnings

from tracer.core.errors import err
from tracer.core.tensor import as_device

_CPU_AUTOCAST_DTYPES = ("bfloat16", "float16")


class AutocastWarning(UserWarning):
    """tracegrad ran an autocast region or a GradScaler in full precision."""


def is_autocast_enabled(device_type=None) -> bool:
    """False: no region autocasts in tracegrad."""
    return False


class autocast:  # noqa: N801  (torch's name)
    """``torch.autocast(device_type, dtype=None, enabled=True, cache_enabled=None)``: a context
    manager and decorator that leaves every op in its own dtype (see the module docstring).

    Raises:
        ValueError: when ``device_type`` is not a string, as torch.
        RuntimeError: when it names no device type torch knows.
    """

    def __init__(self, device_type: str, dtype=None, enabled: bool = True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise err(ValueError, f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = as_device(device_type).type
        self.fast_dtype = dtype
        self._enabled = False  # what a region does here, whatever was asked
        if enabled:
            _warn_autocast(self.device, dtype)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> bool:
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def in_region(*args, **kwargs):
            with self:
                return func(*args, **kwargs)
        return in_region


def _warn_autocast(device_type: str, dtype) -> None:
    if device_type == "cuda":
        message = "CUDA is not available or torch_xla is imported. Disabling autocast."
    elif device_type == "cpu" and dtype is not None and getattr(dtype, "name", None) not in _CPU_AUTOCAST_DTYPES:
        message = ("In CPU autocast, but the target dtype is not supported. Disabling autocast.\n"
                   "CPU Autocast only supports dtypes of torch.bfloat16, torch.float16 currently.")
    else:
        message = (f"tracegrad does not autocast: ops inside autocast({device_type!r}) run in their inputs' dtype "
                   "(float32), where torch's CPU autocast runs matmuls and linear layers in bfloat16, so the "
                   "numbers differ from torch's")
    warnings.warn(message, AutocastWarning, stacklevel=_user_level())


class GradScaler:
    """``torch.amp.GradScaler``, always disabled: ``scale`` returns its argument, ``step`` calls
    ``optimizer.step``, the rest do nothing. Gradients in float32 need no loss scaling.

    Args:
        device: ``"cuda"`` (torch's default) warns as torch without CUDA; another device warns
            that tracegrad does not scale.
        enabled: False asks for what tracegrad does anyway, without a warning.
    """

    def __init__(self, device: str = "cuda", init_scale: float = 2.0 ** 16, growth_factor: float = 2.0,
                 backoff_factor: float = 0.5, growth_interval: int = 2000, enabled: bool = True):
        self._device = device
        self._init_scale, self._growth_factor = init_scale, growth_factor
        self._backoff_factor, self._growth_interval = backoff_factor, growth_interval
        self._enabled = False
        if enabled:
            warnings.warn(_scaler_warning(device), AutocastWarning, stacklevel=_user_level())

    def is_enabled(self) -> bool:
        return self._enabled

    def scale(self, outputs):
        """``outputs`` as they are (a tensor or any nesting of them), as a disabled torch scaler."""
        return outputs

    def unscale_(self, optimizer) -> None:
        """Nothing to unscale."""

    def step(self, optimizer, *args, **kwargs):
        return optimizer.step(*args, **kwargs)

    def update(self, new_scale=None) -> None:
        """Nothing to update."""

    def get_scale(self) -> float:
        return 1.0

    def get_growth_factor(self) -> float:
        return self._growth_factor

    def get_backoff_factor(self) -> float:
        return self._backoff_factor

    def get_growth_interval(self) -> int:
        return self._growth_interval

    def state_dict(self) -> dict:
        """``{}``, as a disabled torch scaler."""
        return {}

    def load_state_dict(self, state_dict: dict) -> None:
        """Ignored, as a disabled torch scaler does."""


def _scaler_warning(device: str) -> str:
    if device == "cuda":
        return "torch.cuda.amp.GradScaler is enabled, but CUDA is not available.  Disabling."
    return (f"tracegrad does not scale gradients: GradScaler({device!r}) runs disabled (tracegrad computes in "
            "float32, where scaling changes the updates only by rounding)")


def _user_level() -> int:
    """The ``stacklevel`` that points a warning at the first frame outside tracer (the user's
    line, past ``torch.cuda.amp``'s subclasses), counted from the caller of ``warnings.warn``."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and frame.f_globals.get("__name__", "").startswith("tracer."):
        level, frame = level + 1, frame.f_back
    return level
