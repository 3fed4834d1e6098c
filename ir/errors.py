"""Exceptions for bad graphs and bad op inputs.

They subclass the builtin types PyTorch raises for the same mistakes (RuntimeError for a
shape mismatch, IndexError for a bad dim, TypeError for a bad dtype), so user code that
catches torch's exceptions catches ours too.
"""
from __future__ import annotations


class IRError(RuntimeError):
    """An op got inputs its rule rejects, or a graph breaks an invariant."""


class IRIndexError(IRError, IndexError):
    """A dim or index is out of range."""


class IRTypeError(IRError, TypeError):
    """An input has a dtype the op does not take."""


class GraphFormatError(IRError, ValueError):
    """A saved graph is malformed (bad JSON, unknown op, cycle, dangling input)."""


class DynamicShapeError(IRError):
    """A graph cannot be exported with the requested dynamic axes (an op bakes a dynamic size in)."""


def op_error(op: str, types, detail: str, cls: type[IRError] = IRError) -> IRError:
    """The standard error for an op whose shape/dtype rule rejects its inputs."""
    if not types:  # a check made before any input type is known (a dim against a rank)
        return cls(f"{op}: {detail}")
    shown = ", ".join(str(t) for t in types)
    return cls(f"{op}: {detail} (inputs: {shown})")


def with_source(err: IRError, source: str | None) -> IRError:
    """The same error, its message extended with the user's source line."""
    if not source:
        return err
    return type(err)(f"{err}\n  at {source}")
