"""Ops whose numbers come from user Python: a ``torch.autograd.Function``'s forward outputs and
the input gradients its ``backward`` returns.

The ir sees only an opaque ``call`` object (made in ``tracer/autograd/function.py``) with two
methods, ``output(index, *arrays)`` and ``input_grad(output, input, g)``, so ``ir`` and
``backends`` never import the tracer. Such a graph runs on the NumPy backends; its ONNX
lowering refuses with the Function's name, since ONNX cannot call Python.
"""
from __future__ import annotations

from dataclasses import dataclass

from ir.dtypes import DType
from ir.ops import dynamic as D
from ir.ops.base import Op
from ir.types import TensorType


@dataclass(frozen=True)
class FunctionOutputAttrs:
    """Output ``index`` of the Function application ``call``, of that shape and dtype. Two nodes are
    the same computation only for the same ``call`` object (compared by identity)."""

    call: object
    index: int
    shape: tuple[int, ...]
    dtype: DType


@dataclass(frozen=True)
class FunctionGradAttrs:
    """The gradient of input ``input`` of ``call``, given the gradient of its output ``output``."""

    call: object
    output: int
    input: int
    shape: tuple[int, ...]
    dtype: DType


def _declared(types, a) -> TensorType:
    return TensorType(tuple(a.shape), a.dtype)


#: One output of a Function's forward; its inputs are the Function's tensor arguments. Its
#: gradient rule (ir/gradients.py) emits one ``function_grad`` node per tensor input.
function_output = Op("function_output", _declared, FunctionOutputAttrs, arity=None, dynamic=D.static)
#: One input gradient from the Function's backward. Its inputs are the output's gradient and the
#: output itself: the backward reads the ctx of the forward run that made that output, so the
#: node must come after it and never be computed ahead from the gradient alone (a constant seed).
#: The output's value is not read (a shape-only input). Differentiating it again raises torch's
#: ``once_differentiable`` error (its rule in ir/gradients.py), never a silent zero.
function_grad = Op("function_grad", _declared, FunctionGradAttrs, arity=2, dynamic=D.static,
                   shape_only_inputs=(1,))
