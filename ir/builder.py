"""A small emitter that appends ops to a graph; gradient rules are written against it."""
from __future__ import annotations

import numpy as np

from ir.dtypes import DType
from ir.node import Node
from ir.ops import elementwise, linalg, reduce, shape, source
from ir.ops.base import Op


class Builder:
    """Appends nodes to ``graph`` with a fixed phase, taking each node's source from
    ``self.source`` (autodiff sets it to the forward node's line before calling a rule).

    ``b(op, *inputs, **attrs)`` emits ``op`` with ``op.attrs(**attrs)``.
    """

    def __init__(self, graph, phase: str):
        self.graph = graph
        self.phase = phase
        self.source = None
        self._consts: dict[tuple, Node] = {}

    def __call__(self, op: Op, *inputs: Node, **attrs) -> Node:
        if op is shape.permute:
            simpler = self._permute(inputs[0], tuple(attrs["perm"]))
            if simpler is not None:
                return simpler
        if op is elementwise.neg:
            x = inputs[0]
            if x.op is elementwise.div and x.phase == self.phase and x.inputs[0].op is source.constant \
                    and x.inputs[0].type.rank == 0 and x.dtype.is_floating_point:
                # -(c / y) = (-c) / y: a mean's gradient negated (NLL) stays one node
                c = x.inputs[0]
                return self(elementwise.div, self.const(-float(c.attrs.value), c.dtype), x.inputs[1])
        return self.graph.add(op, inputs, op.attrs(**attrs), self.source, self.phase)

    def _permute(self, x: Node, perm) -> Node | None:
        """Peepholes that keep backward graphs lean: an identity permute is dropped, two
        permutes compose, and a transposed 2-D matmul made by this builder becomes the matmul
        of the transposed operands ((AB)^T = B^T A^T), which onnxruntime fuses into one node."""
        if perm == tuple(range(len(perm))):
            return x
        if x.op is shape.permute and x.phase == self.phase:
            inner = x.attrs.perm
            return self(shape.permute, x.inputs[0], perm=tuple(inner[p] for p in perm))
        if (x.op is linalg.matmul and perm == (1, 0) and x.phase == self.phase
                and all(len(i.shape) == 2 for i in x.inputs)):
            a, b = x.inputs
            return self(linalg.matmul, self(shape.permute, b, perm=(1, 0)), self(shape.permute, a, perm=(1, 0)))
        return None

    def const(self, value, dtype: DType) -> Node:
        """A 0-d constant, shared between all uses in this builder."""
        key = (float(value), dtype)
        if key not in self._consts:
            arr = np.asarray(value, dtype=dtype.np)
            self._consts[key] = self.graph.add(source.constant, (), source.ConstAttrs(arr), None, self.phase)
        return self._consts[key]

    def const_array(self, value: np.ndarray) -> Node:
        """A (small) constant array, e.g. class indices for a one-hot."""
        return self.graph.add(source.constant, (), source.ConstAttrs(np.asarray(value)), None, self.phase)

    def full_like(self, ref: Node, value, dtype: DType | None = None) -> Node:
        """``value`` broadcast to ``ref``'s shape, following ``ref`` at run time."""
        scalar = self.const(value, dtype or ref.dtype)
        return self(shape.expand_like, scalar, ref) if ref.shape else scalar

    def zeros_like(self, ref: Node, dtype: DType | None = None) -> Node:
        return self.full_like(ref, 0.0, dtype)

    def reshape(self, x: Node, shape_) -> Node:
        return x if tuple(x.shape) == tuple(shape_) else self(shape.reshape, x, shape=tuple(shape_))

    def sum_to(self, x: Node, shape_) -> Node:
        """Sum a broadcast result back down to ``shape_`` (the driver's once-only reduction)."""
        shape_ = tuple(shape_)
        if x.shape == shape_:
            return x
        lead = x.type.rank - len(shape_)
        axes = tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape_)
                                           if d == 1 and x.shape[lead + i] != 1)
        summed = self(reduce.sum_, x, axes=axes, keepdim=False) if axes else x
        return self.reshape(summed, shape_)
