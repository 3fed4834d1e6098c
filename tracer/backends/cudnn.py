"""``torch.backends.cudnn`` without cuDNN: not available, with the flags scripts set
(``benchmark``, ``deterministic``, ``enabled``, ``allow_tf32``) as plain module attributes
holding torch's defaults. They change nothing in tracegrad."""
from __future__ import annotations

enabled = True
benchmark = False
deterministic = False
allow_tf32 = True


def is_available() -> bool:
    """False: there is no cuDNN."""
    return False


def version():
    """None, as torch without cuDNN."""
    return None
