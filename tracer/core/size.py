"""``tensor.shape`` as torch's ``Size``, and the shape reads a trace must know about.

A traced function that turns a dim into a Python int (``x.shape[0]``, ``len(x)``,
``x.size(0)``, ``b, c = x.shape``) bakes that int into the graph. Inside a trace, user code
gets a ``ReadSize``, which notes on the graph which dims it hands out
(``ir.dynamic.PythonRead``), so export with dynamic axes and ``compile(dynamic=True)`` can tell
whether the code read a dim that varies. tracer's own functions read shapes through the
tensor's type, and get a plain ``Size`` from these accessors; the eager path pays one
ContextVar lookup.
"""
from __future__ import annotations

import sys

from ir.dynamic import PythonRead
from tracer.core import tracing
from tracer.core.source import user_source


class Size(tuple):
    """``tensor.shape``: a tuple that prints as ``tracer.Size([2, 3])``."""

    def __repr__(self) -> str:
        return f"tracer.Size({list(tuple.__iter__(self))})"

    def numel(self) -> int:
        n = 1
        for d in tuple.__iter__(self):
            n *= d
        return n


def from_user(depth: int) -> bool:
    """Whether the frame ``depth`` levels above the caller of this function is user code
    (outside the tracer package)."""
    name = sys._getframe(depth + 1).f_globals.get("__name__", "")
    return not (name == "tracer" or name.startswith("tracer."))


def note_read(t, axes, what: str) -> None:
    """Record that traced code read ``axes`` of ``t``'s shape into Python, if a trace is
    running and ``t`` is one of its values (a parameter's dims are fixed: not noted)."""
    state = tracing.current()
    if state is None or not axes:
        return
    node = t._node
    if node is not None and node in state.graph:
        state.graph.python_reads.append(PythonRead(node, tuple(axes), what, user_source()))


def shape_of(t, depth: int = 2) -> Size:
    """``t.shape`` for the accessor ``depth`` frames up: a ``ReadSize`` for user code in a trace."""
    dims = t._type.shape
    if tracing.current() is not None and from_user(depth):
        return ReadSize(dims, t)
    return Size(dims)


class ReadSize(Size):
    """``x.shape`` handed to user code inside a trace: indexing notes the dims taken;
    iterating, unpacking, comparing, hashing, adding and ``numel()`` note them all (wherever
    that happens: a tracer function iterating a shape the user passed bakes it in too)."""

    def __new__(cls, dims, tensor):
        self = super().__new__(cls, dims)
        self._tensor = tensor
        return self

    def _all(self, what):
        note_read(self._tensor, range(len(self)), what)

    def __getitem__(self, i):
        if isinstance(i, slice):
            note_read(self._tensor, range(*i.indices(len(self))), f"shape[{i.start or ''}:{i.stop or ''}]")
        elif -len(self) <= i < len(self):
            note_read(self._tensor, [i % len(self)], f"shape[{i}]")
        return tuple.__getitem__(self, i)

    def __iter__(self):
        self._all("shape (iterated or unpacked)")
        return tuple.__iter__(self)

    def __eq__(self, other):
        self._all("shape ==")
        return tuple.__eq__(self, other)

    def __ne__(self, other):
        self._all("shape !=")
        return tuple.__ne__(self, other)

    def __hash__(self):
        self._all("hash(shape)")
        return tuple.__hash__(self)

    def __add__(self, other):
        self._all("shape +")
        return tuple.__add__(self, other)

    def __radd__(self, other):
        self._all("+ shape")
        return tuple(other) + tuple(tuple.__iter__(self))

    def numel(self) -> int:
        self._all("shape.numel()")
        return Size.numel(self)

    def __reduce__(self):
        return (Size, (tuple(tuple.__iter__(self)),))
