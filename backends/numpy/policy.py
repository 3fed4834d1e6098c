"""One policy for checking a node's result and wrapping a failure, shared by every path that
runs ir nodes: the eager single-node path, the interpreter, the compiled ``Program``, the cached
eager backward plans and the onnxruntime runner.

The message has the shape of a shape rule's error (``ir.errors.op_error``): the op, what went
wrong, the declared input types and the user's source line::

    take: index 7 is out of bounds for dimension 0 with size 3 (inputs: float32[3, 2], int64[1])
      at train.py:12

Exception types: every wrapped failure is a ``KernelError``, an ``IRError`` and so a
``RuntimeError``, which is what torch raises for a failing kernel. Where torch raises another
builtin for the same mistake, the error is that builtin too: an out-of-range index is a
``KernelIndexError``, both a ``KernelError`` and an ``IndexError``, so ``except IndexError``
works as in torch whichever path ran the op. Inputs that do not fit a graph raise ``FeedError``
(``backends.numpy.feeds``), a ``KernelError`` and a ``ValueError``.
"""
from __future__ import annotations

import numpy as np

from ir.errors import IRError, op_error, with_source

#: What a failing NumPy kernel raises; anything else (a bug in tracegrad) propagates unwrapped.
WRAPPED = (ArithmeticError, ValueError, IndexError, TypeError, MemoryError)


class KernelError(IRError):
    """A kernel (or onnxruntime) failed, or returned a value that disagrees with its node's type."""


class KernelIndexError(KernelError, IndexError):
    """A kernel got an index out of range (torch raises IndexError for these)."""


def error(op_name: str, types, source: str | None, detail, cls: type[KernelError] = KernelError) -> KernelError:
    """The policy's error for a node known by its op name, input types and source line (the
    runners that keep no node at hand: plans, onnxruntime)."""
    return with_source(op_error(op_name, types, str(detail), cls), source)


def kernel_error(node, err: BaseException) -> KernelError:
    """``err``, raised by ``node``'s kernel, as the policy's error (raise it ``from err``)."""
    return error(node.op.name, [i.type for i in node.inputs], node.source, err, error_type(err))


def error_type(err: BaseException) -> type[KernelError]:
    return KernelIndexError if isinstance(err, IndexError) else KernelError


def no_kernel(op) -> KernelError:
    return KernelError(f"{op.name}: no NumPy kernel (add one to backends/numpy)")


def check_result(node, out) -> np.ndarray:
    """``out`` as an array, if it has exactly the shape and dtype ``node`` declares."""
    out = np.asarray(out)
    if out.shape != node.type.shape or out.dtype != node.type.dtype.np:
        raise error(node.op.name, [i.type for i in node.inputs], node.source,
                    f"kernel returned {out.dtype}{list(out.shape)} but the node declares {node.type}")
    return out
