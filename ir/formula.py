"""Graph values with arithmetic, so that gradient rules read like their formulas.

A ``Value`` pairs a node with the ``Builder`` that appends to its graph. Its operators and
methods emit ir ops at once, in the order Python evaluates them::

    g * (out * (1 - out))      # mul(g, mul(out, sub(1, out))): the sigmoid rule

- ``+ - * / ** // @`` and unary ``-`` emit ``add sub mul div pow floor_divide matmul neg``;
  ``> >= < <=`` emit the comparisons and ``&`` emits ``logical_and`` (on bool values).
- ``==`` and ``!=`` stay Python's identity tests, so values can be dict keys and set members;
  ``x.eq(y)`` and ``x.ne(y)`` emit the comparisons. A value has no truth value (``if x > 0``
  is an error): choose between values with ``where(cond, a, b)``.
- A Python number next to a value becomes a 0-d constant of that value's dtype, shared
  with every other use of the same number and dtype in the builder (``Builder.const``).
- A number is lifted when its operator runs, after its other operand is built:
  ``1 - y * y`` emits the product before the constant. Rules keep a fixed node order
  (printed graphs and node counts are compared across versions), so a rule whose graph
  lists the constant first makes it first: ``y.const(1.0) - y * y``.
"""
from __future__ import annotations

import numbers

import numpy as np

from ir.dtypes import DType
from ir.ops import elementwise as E
from ir.ops import indexing as I
from ir.ops import linalg as L
from ir.ops import reduce as R
from ir.ops import shape as S


class Value:
    """One node of a graph under construction, with arithmetic that emits ir ops.

    Attributes:
        b: the ``ir.builder.Builder`` that emits the ops (its phase, source and constants).
        node: the ``ir.node.Node`` this value is.
    """

    __slots__ = ("b", "node")
    __array_ufunc__ = None  # numpy scalars defer to our reflected operators (np.float64(2) * v)

    def __init__(self, b, node):
        self.b = b
        self.node = node

    def __repr__(self) -> str:
        return f"Value({self.node!r})"

    def __bool__(self):
        raise TypeError("a graph value has no truth value; choose with where(cond, a, b)")

    # -- what the node is

    @property
    def type(self):
        return self.node.type

    @property
    def shape(self) -> tuple[int, ...]:
        return self.node.shape

    @property
    def dtype(self) -> DType:
        return self.node.dtype

    @property
    def rank(self) -> int:
        return self.node.type.rank

    @property
    def attrs(self):
        return self.node.attrs

    @property
    def is_float(self) -> bool:
        return self.node.dtype.is_floating_point

    # -- constants

    def const(self, value) -> Value:
        """The shared 0-d constant ``value`` of this value's dtype."""
        return Value(self.b, self.b.const(value, self.dtype))

    def const_array(self, array: np.ndarray) -> Value:
        """A constant array (its own dtype) in this value's graph, e.g. class indices."""
        return Value(self.b, self.b.const_array(array))

    # -- emitting

    def _lift(self, other) -> Value:
        """``other`` as a value: a value as it is, a number as a constant of our dtype."""
        if isinstance(other, Value):
            return other
        if isinstance(other, numbers.Number) and not isinstance(other, bool):
            return self.const(other)
        raise TypeError(f"expected a graph value or a number, got {type(other).__name__}")

    def _emit(self, op, *inputs: Value, **attrs) -> Value:
        return Value(self.b, self.b(op, *(v.node for v in inputs), **attrs))

    def _binary(self, op, other) -> Value:
        return self._emit(op, self, self._lift(other))

    def _reflected(self, op, other) -> Value:
        return self._emit(op, self._lift(other), self)

    # -- arithmetic

    def __add__(self, other):
        return self._binary(E.add, other)

    def __radd__(self, other):
        return self._reflected(E.add, other)

    def __sub__(self, other):
        return self._binary(E.sub, other)

    def __rsub__(self, other):
        return self._reflected(E.sub, other)

    def __mul__(self, other):
        return self._binary(E.mul, other)

    def __rmul__(self, other):
        return self._reflected(E.mul, other)

    def __truediv__(self, other):
        return self._binary(E.div, other)

    def __rtruediv__(self, other):
        return self._reflected(E.div, other)

    def __pow__(self, other):
        return self._binary(E.pow_, other)

    def __rpow__(self, other):
        return self._reflected(E.pow_, other)

    def __floordiv__(self, other):
        return self._binary(E.floor_divide, other)

    def __rfloordiv__(self, other):
        return self._reflected(E.floor_divide, other)

    def __matmul__(self, other):
        return self._binary(L.matmul, other)

    def __neg__(self):
        return self._emit(E.neg, self)

    def maximum(self, other) -> Value:
        return self._binary(E.maximum, other)

    # -- comparisons and logic

    def __gt__(self, other):
        return self._binary(E.gt, other)

    def __ge__(self, other):
        return self._binary(E.ge, other)

    def __lt__(self, other):
        return self._binary(E.lt, other)

    def __le__(self, other):
        return self._binary(E.le, other)

    def eq(self, other) -> Value:
        return self._binary(E.eq, other)

    def ne(self, other) -> Value:
        return self._binary(E.ne, other)

    def __and__(self, other):
        return self._binary(E.logical_and, other)

    # -- elementwise functions

    def exp(self) -> Value:
        return self._emit(E.exp, self)

    def log(self) -> Value:
        return self._emit(E.log, self)

    def sqrt(self) -> Value:
        return self._emit(E.sqrt, self)

    def sin(self) -> Value:
        return self._emit(E.sin, self)

    def cos(self) -> Value:
        return self._emit(E.cos, self)

    def sign(self) -> Value:
        return self._emit(E.sign, self)

    def sigmoid(self) -> Value:
        return self._emit(E.sigmoid, self)

    def cast(self, dtype: DType) -> Value:
        return self._emit(E.cast, self, dtype=dtype)

    # -- reductions and shapes

    def sum(self, axes, keepdim: bool = False) -> Value:
        return self._emit(R.sum_, self, axes=tuple(axes), keepdim=keepdim)

    def sum_to(self, shape) -> Value:
        """Summed back down to a shape it was broadcast from (nothing emitted if already)."""
        return Value(self.b, self.b.sum_to(self.node, shape))

    def reshape(self, shape) -> Value:
        """Reshaped (nothing emitted when the shape is already ``shape``)."""
        return Value(self.b, self.b.reshape(self.node, shape))

    def permute(self, perm) -> Value:
        """Axes permuted (the builder drops identities and composes permutes)."""
        return self._emit(S.permute, self, perm=tuple(perm))

    @property
    def mT(self) -> Value:
        """The last two axes swapped, as torch's ``Tensor.mT``."""
        perm = tuple(range(self.rank - 2)) + (self.rank - 1, self.rank - 2)
        return self.permute(perm)

    def expand_like(self, ref: Value) -> Value:
        """Broadcast to ``ref``'s shape, following ``ref`` at run time (reads only its shape)."""
        return self._emit(S.expand_like, self, ref)

    def slice(self, starts, ends, steps) -> Value:
        return self._emit(S.slice_, self, starts=starts, ends=ends, steps=steps)

    def slice_update(self, src: Value, starts, ends, steps) -> Value:
        """This value with the slice replaced by ``src``."""
        return self._emit(S.slice_update, self, src, starts=starts, ends=ends, steps=steps)

    # -- indexing

    def take(self, index: Value, axis: int) -> Value:
        return self._emit(I.take, self, index, axis=axis)

    def index_add(self, index: Value, src: Value, axis: int) -> Value:
        return self._emit(I.index_add, self, index, src, axis=axis)

    def gather_elements(self, index: Value, axis: int) -> Value:
        return self._emit(I.gather_elements, self, index, axis=axis)

    def scatter_add(self, index: Value, src: Value, axis: int) -> Value:
        return self._emit(I.scatter_add, self, index, src, axis=axis)


def where(cond: Value, a, b) -> Value:
    """``a`` where ``cond`` holds, else ``b``; a number becomes a constant of the other's dtype."""
    like = a if isinstance(a, Value) else b
    if not isinstance(like, Value):
        raise TypeError("where: at least one of a, b must be a graph value")
    return cond._emit(E.where, cond, like._lift(a), like._lift(b))


def zeros_like(ref: Value, dtype: DType | None = None) -> Value:
    """Zeros of ``ref``'s shape (and dtype unless given), following ``ref`` at run time."""
    return Value(ref.b, ref.b.zeros_like(ref.node, dtype))
