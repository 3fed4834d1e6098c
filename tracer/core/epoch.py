"""A counter that moves whenever something a compiled function's guard reads may have changed.

``tracer.compile`` checks, on every call, the training modes and parameter identities of the
modules it reaches and the hyperparameters and state of their optimizers. Recomputing that
fingerprint costs a few microseconds, as much as a whole small training step on onnxruntime.
So the places that can change it (module attribute assignment and ``train()``, the parameter,
buffer and submodule dicts, optimizer param groups and state) move this counter, and the
guard is recomputed only when the counter moved since the last call.
"""
from __future__ import annotations

from collections import OrderedDict

_COUNTER = [0]


def now() -> int:
    """The current epoch."""
    return _COUNTER[0]


def bump() -> None:
    """Record that guarded state may have changed."""
    _COUNTER[0] += 1


class _Bumping:
    """Mixin: every mutating dict method moves the epoch before mutating."""
    __slots__ = ()

    def __setitem__(self, key, value):
        _COUNTER[0] += 1
        super().__setitem__(key, value)

    def __delitem__(self, key):
        _COUNTER[0] += 1
        super().__delitem__(key)

    def pop(self, *args):
        _COUNTER[0] += 1
        return super().pop(*args)

    def popitem(self, *args, **kwargs):
        _COUNTER[0] += 1
        return super().popitem(*args, **kwargs)

    def clear(self):
        _COUNTER[0] += 1
        super().clear()

    def update(self, *args, **kwargs):
        _COUNTER[0] += 1
        super().update(*args, **kwargs)

    def setdefault(self, key, default=None):
        _COUNTER[0] += 1
        return super().setdefault(key, default)

    def __ior__(self, other):
        _COUNTER[0] += 1
        return super().__ior__(other)


class WatchedDict(_Bumping, dict):
    """A dict whose mutations move the epoch (optimizer param groups and state)."""
    __slots__ = ()


class WatchedOrderedDict(_Bumping, OrderedDict):
    """An OrderedDict whose mutations move the epoch (module parameters, buffers, children)."""
    __slots__ = ()

    def move_to_end(self, key, last=True):
        _COUNTER[0] += 1
        super().move_to_end(key, last)
