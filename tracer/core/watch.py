"""Guards that know when to look again.

A compiled function's guard is a value computed from the state it guards (training modes,
parameter identities, types and ``requires_grad``, optimizer hyperparameters and state).
Computing it costs a few microseconds, as much as a whole small training step on
onnxruntime, so it is recomputed only when it may have changed: each owner of guarded state
(a module, an optimizer, a parameter tensor) keeps the guards watching it, and its own
mutators mark them stale. No caller has to remember anything: the owner's state changes only
through those mutators.
"""
from __future__ import annotations

import copy
import weakref
from collections import OrderedDict


class Guard:
    """Something computed from watched state; ``stale`` says it must be computed again."""

    __slots__ = ("stale", "__weakref__")

    def __init__(self):
        self.stale = True


class Watchers:
    """The guards watching one owner; ``changed()`` marks them all stale."""

    __slots__ = ("_guards",)

    def __init__(self):
        self._guards = weakref.WeakSet()

    def add(self, guard: Guard) -> None:
        self._guards.add(guard)

    def changed(self) -> None:
        for guard in self._guards:
            guard.stale = True

    def __deepcopy__(self, memo) -> "Watchers":
        return Watchers()  # a copy is a new owner: nobody watches it yet

    def __reduce_ex__(self, protocol):
        raise TypeError("watchers are not picklable")


def watchers_of(t) -> Watchers:
    """A tensor's watchers, made on first use (only guarded tensors get any)."""
    found = t.__dict__.get("_watchers")
    if found is None:
        found = t.__dict__["_watchers"] = Watchers()
    return found


def tensor_changed(t) -> None:
    """``t``'s type or ``requires_grad`` changed."""
    found = t.__dict__.get("_watchers")
    if found is not None:
        found.changed()


class _Notifying:
    """Mixin for the dicts an owner keeps: every mutating method tells the owner's watchers."""
    __slots__ = ()

    def __setitem__(self, key, value):
        self.watchers.changed()
        super().__setitem__(key, value)

    def __delitem__(self, key):
        self.watchers.changed()
        super().__delitem__(key)

    def pop(self, *args):
        self.watchers.changed()
        return super().pop(*args)

    def popitem(self, *args, **kwargs):
        self.watchers.changed()
        return super().popitem(*args, **kwargs)

    def clear(self):
        self.watchers.changed()
        super().clear()

    def update(self, *args, **kwargs):
        self.watchers.changed()
        super().update(*args, **kwargs)

    def setdefault(self, key, default=None):
        self.watchers.changed()
        return super().setdefault(key, default)

    def __ior__(self, other):
        self.watchers.changed()
        return super().__ior__(other)

    def __deepcopy__(self, memo):
        """A copy tells the copy of the same watchers (the copied module's or optimizer's)."""
        new = type(self)(copy.deepcopy(self.watchers, memo))
        memo[id(self)] = new
        for key, value in self.items():
            new[copy.deepcopy(key, memo)] = copy.deepcopy(value, memo)
        return new

    def __reduce_ex__(self, protocol):
        raise TypeError(f"{type(self).__name__} is not picklable")


class WatchedDict(_Notifying, dict):
    """A dict whose mutations tell ``watchers`` (optimizer param groups and state)."""
    __slots__ = ("watchers",)

    def __init__(self, watchers: Watchers, *args, **kwargs):
        self.watchers = watchers
        super().__init__(*args, **kwargs)



class WatchedOrderedDict(_Notifying, OrderedDict):
    """An OrderedDict whose mutations tell ``watchers`` (module parameters, buffers, children)."""
    __slots__ = ("watchers",)

    def __init__(self, watchers: Watchers, *args, **kwargs):
        self.watchers = watchers
        super().__init__(*args, **kwargs)

    def move_to_end(self, key, last=True):
        self.watchers.changed()
        super().move_to_end(key, last)
