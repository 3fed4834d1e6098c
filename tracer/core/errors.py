"""Errors raised to users: the builtin type torch raises, its message, and the user's line."""
from __future__ import annotations

from tracer.core.source import user_source


def err(cls: type[Exception], message: str) -> Exception:
    """``cls(message)`` with the user's source line appended."""
    where = user_source()
    return cls(f"{message}\n  at {where}" if where else message)
