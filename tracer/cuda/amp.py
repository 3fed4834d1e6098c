"""``torch.cuda.amp``: the deprecated spellings of ``torch.amp``'s autocast and GradScaler for
CUDA. Each warns as torch does (deprecated, then CUDA unavailable) and runs disabled."""
from __future__ import annotations

import warnings

from tracer import amp


class autocast(amp.autocast):  # noqa: N801  (torch's name)
    """``torch.cuda.amp.autocast(...)``: ``torch.amp.autocast("cuda", ...)``, disabled here."""

    def __init__(self, enabled: bool = True, dtype=None, cache_enabled: bool = True):
        warnings.warn("`torch.cuda.amp.autocast(args...)` is deprecated. Please use "
                      "`torch.amp.autocast('cuda', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", dtype=dtype, enabled=enabled, cache_enabled=cache_enabled)


class GradScaler(amp.GradScaler):
    """``torch.cuda.amp.GradScaler(...)``: ``torch.amp.GradScaler("cuda", ...)``, disabled here."""

    def __init__(self, init_scale: float = 2.0 ** 16, growth_factor: float = 2.0, backoff_factor: float = 0.5,
                 growth_interval: int = 2000, enabled: bool = True):
        warnings.warn("`torch.cuda.amp.GradScaler(args...)` is deprecated. Please use "
                      "`torch.amp.GradScaler('cuda', args...)` instead.", FutureWarning, stacklevel=2)
        super().__init__("cuda", init_scale, growth_factor, backoff_factor, growth_interval, enabled)
