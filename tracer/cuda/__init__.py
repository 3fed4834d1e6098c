"""``torch.cuda`` on a machine without CUDA, answering as CPU-only torch does.

Queries answer "none" (``is_available()`` False, ``device_count()`` 0); seeding and cache
calls are no-ops, so ``torch.cuda.manual_seed_all(0)`` in a script's setup is harmless;
everything that needs a device raises torch's ``AssertionError("Torch not compiled with CUDA
enabled")``.
"""
from __future__ import annotations

from tracer.core.errors import err
from tracer.core.tensor import NO_CUDA
from tracer.cuda import amp  # noqa: F401  (torch.cuda.amp without an import, as in torch)


def is_available() -> bool:
    return False


def is_initialized() -> bool:
    return False


def device_count() -> int:
    return 0


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def manual_seed(seed: int) -> None:
    """No-op: there is no CUDA generator to seed (CPU torch ignores it too)."""


def manual_seed_all(seed: int) -> None:
    """No-op, as in CPU torch."""


def seed() -> None:
    """No-op, as in CPU torch."""


def seed_all() -> None:
    """No-op, as in CPU torch."""


def empty_cache() -> None:
    """No-op: there is no CUDA memory to free."""


def memory_allocated(device=None) -> int:
    return 0


def max_memory_allocated(device=None) -> int:
    return 0


def memory_reserved(device=None) -> int:
    return 0


def _no_cuda(*args, **kwargs):
    raise err(AssertionError, NO_CUDA)


#: What needs a CUDA device raises, as CPU torch does (synchronize too: torch asserts there).
current_device = get_device_name = get_device_properties = get_device_capability = _no_cuda
set_device = synchronize = _no_cuda
