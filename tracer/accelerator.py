"""``torch.accelerator``: tracegrad has none (the CPU is not an accelerator, as in torch)."""
from __future__ import annotations


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def current_accelerator(check_available: bool = False):
    """None: there is no accelerator."""
    return None
