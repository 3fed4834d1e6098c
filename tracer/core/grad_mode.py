"""Grad mode: ``no_grad``, ``enable_grad``, ``set_grad_enabled``, ``is_grad_enabled``.

Held in a ContextVar, so threads and async tasks each see their own mode.
"""
from __future__ import annotations

import contextvars
import functools

_ENABLED = contextvars.ContextVar("tracegrad_grad_enabled", default=True)


def is_grad_enabled() -> bool:
    return _ENABLED.get()


class _GradMode:
    """A context manager and decorator that sets grad mode to ``self.mode`` for its body."""

    mode = True

    def __enter__(self):
        self._token = _ENABLED.set(self.mode)
        return self

    def __exit__(self, *exc):
        _ENABLED.reset(self._token)
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            token = _ENABLED.set(mode)
            try:
                return fn(*args, **kwargs)
            finally:
                _ENABLED.reset(token)
        return wrapper


class no_grad(_GradMode):
    """Disable gradient recording (as ``torch.no_grad``)."""

    mode = False


class enable_grad(_GradMode):
    """Enable gradient recording inside a ``no_grad`` block (as ``torch.enable_grad``)."""

    mode = True


class inference_mode(_GradMode):
    """Same as ``no_grad`` here (there is no separate inference fast path)."""

    def __init__(self, mode: bool = True):
        self.mode = not mode


class set_grad_enabled(_GradMode):
    """Set grad mode; like torch's, it takes effect when called, and a ``with`` block or a
    decorated function restores the previous mode afterwards."""

    def __init__(self, mode: bool):
        self.mode = bool(mode)
        self._prev = _ENABLED.get()
        _ENABLED.set(self.mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _ENABLED.set(self._prev)
        return False

    def __call__(self, fn):
        _ENABLED.set(self._prev)
        return super().__call__(fn)
