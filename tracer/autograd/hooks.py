"""``Tensor.register_hook``: functions that see (and may replace) a tensor's gradient.

A leaf keeps its hooks itself (its recorded node is made anew after in-place changes); a
non-leaf's hooks sit on its node's metadata. Backward is one graph pass, so a non-leaf hook
that replaces its gradient ``g`` by ``g'`` is applied afterwards by linearity: the change
``g' - g`` is propagated from that node to everything upstream (one more backward pass from
it), hooked nodes taken from the output side inwards, so each hook sees its final gradient.
"""
from __future__ import annotations

import itertools

from tracer.core.errors import err

_IDS = itertools.count()  # handle ids only: unique keys, never shared graph state


class RemovableHandle:
    """What ``register_hook`` returns: ``remove()`` unregisters the hook."""

    def __init__(self, hooks: dict, key: int):
        self._hooks, self.id = hooks, key

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.remove()


def register_hook(self, hook) -> RemovableHandle:
    """Call ``hook(grad)`` each time the gradient of ``self`` is computed; a tensor it returns
    replaces the gradient (for ``.grad`` of a leaf, and upstream of a non-leaf).

    Raises:
        RuntimeError: ``self`` does not require grad, as torch's.
    """
    if not self._requires_grad:
        raise err(RuntimeError, "cannot register a hook on a tensor that doesn't require gradient")
    if self.is_leaf:
        hooks = self.__dict__.setdefault("_hooks", {})
    else:
        meta = self._node.meta
        meta.hooks = {} if meta.hooks is None else meta.hooks
        hooks = meta.hooks
    key = next(_IDS)
    hooks[key] = hook
    return RemovableHandle(hooks, key)


def of_node(node) -> dict:
    """The hooks that fire for ``node``'s gradient: its leaf's, or its own."""
    meta = node.meta
    if meta is None:
        return {}
    leaf = meta.leaf
    if leaf is not None and leaf._node is node:
        return leaf.__dict__.get("_hooks") or {}
    return meta.hooks or {}


def run(hooks: dict, g):
    """The hooks in registration order, each given the previous one's result."""
    for fn in list(hooks.values()):
        new = fn(g)
        if new is not None:
            if tuple(new.shape) != tuple(g.shape):
                raise err(RuntimeError, f"hook: the returned gradient has shape {list(new.shape)}, expected "
                          f"{list(g.shape)}")
            g = new
    return g


def hooked_non_leaves(nodes) -> list:
    """The nodes among ``nodes`` (topologically ordered) with non-leaf hooks, output side first."""
    return [n for n in reversed(nodes) if n.meta is not None and n.meta.hooks and n.meta.leaf is None]
