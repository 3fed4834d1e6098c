"""``torch.autograd.Function``: a user-written forward and backward in Python.

``MyFn.apply(*args)`` runs ``forward`` once under ``no_grad`` (and outside any trace, so its
ops are not recorded) and records one ``function_output`` node per tensor output over the
tensor arguments. The backward pass reaches those nodes like any other: their gradient rule
emits ``function_grad`` nodes whose kernel calls the user's ``backward`` (once per incoming
gradient), so ``loss.backward()``, ``autograd.grad``, ``tracer.trace`` and ``tracer.compile``
on the NumPy backend all run it. When a traced graph is run again, ``forward`` runs again on
the new inputs with a fresh ``ctx``. Double backward through a Function raises torch's
``once_differentiable`` error, and ONNX export refuses such a graph with the Function's name.

With several outputs, each output's gradient reaches ``backward`` on its own, the other
outputs' gradients zero (or None after ``ctx.set_materialize_grads(False)``); the input
gradients are summed, which equals one call with every gradient because a backward is linear
in its incoming gradients. A backward that prints therefore prints once per output used.
"""
from __future__ import annotations

import numpy as np

from ir.ops import custom as CU
from tracer.core import tracing
from tracer.core.dispatch import record_computed
from tracer.core.errors import err
from tracer.core.grad_mode import _ENABLED, no_grad
from tracer.core.tensor import Tensor

_MODIFIED = ("one of the variables needed for gradient computation has been modified by an inplace operation: "
             "[{what}], which is saved by {name}, is at version {now}; expected version {then} instead.")


class FunctionCtx:
    """The ``ctx`` a Function's forward fills and its backward reads (torch's names)."""

    def __init__(self, name: str, needs_input_grad: tuple):
        self._name = name
        self.needs_input_grad = needs_input_grad
        self.materialize_grads = True
        self._saved: tuple = ()
        self._non_differentiable: set[int] = set()

    def save_for_backward(self, *tensors) -> None:
        for i, t in enumerate(tensors):
            if t is not None and not isinstance(t, Tensor):
                raise err(TypeError, f"save_for_backward can only save variables, but argument {i} is of type "
                          f"{type(t).__name__}")
        self._saved = tuple((t, None if t is None else t._version) for t in tensors)

    @property
    def saved_tensors(self) -> tuple:
        """The saved tensors; one modified in place since it was saved raises torch's error."""
        for t, version in self._saved:
            if t is not None and t._version != version:
                raise err(RuntimeError, _MODIFIED.format(what=f"{t._type}", name=f"{self._name}Backward",
                                                         now=t._version, then=version))
        return tuple(t for t, _ in self._saved)

    def mark_non_differentiable(self, *outputs) -> None:
        self._non_differentiable.update(id(t) for t in outputs)

    def set_materialize_grads(self, value: bool) -> None:
        self.materialize_grads = bool(value)

    def mark_dirty(self, *tensors) -> None:
        raise err(NotImplementedError, f"{self._name}: ctx.mark_dirty (a Function that modifies its inputs in "
                  "place) is not supported; return a new tensor instead")


class _Application:
    """One ``apply`` of a Function: the opaque ``call`` its graph nodes hold. It keeps the last
    forward's ctx and outputs, reruns forward when a graph feeds it new arrays, and runs
    backward once per incoming gradient array."""

    def __init__(self, cls, args: tuple, kwargs: dict, ctx, outputs, tensor_positions: list[int]):
        self.name = cls.__name__
        self._cls, self._args, self._kwargs = cls, args, kwargs
        self._positions = tensor_positions
        self._ctx, self._outputs = ctx, outputs
        self._inputs: tuple = ()
        self._served = set(range(len(_tensor_outputs(outputs, self.name))))  # a graph run must rerun forward
        self._grads: dict = {}

    # -- what the kernels ask for (only when a recorded graph is run again)
    def output(self, index: int, *arrays) -> np.ndarray:
        """Output ``index`` of forward on ``arrays``. Each run of a graph asks once per output
        node, so a second request for the same output (or other arrays) is a new run: forward
        reruns (arrays may hold new values in the same buffers, so identity alone cannot tell)."""
        if index in self._served or len(arrays) != len(self._inputs) or \
                any(a is not b for a, b in zip(arrays, self._inputs)):
            args = list(self._args)
            for p, a in zip(self._positions, arrays):
                args[p] = Tensor._wrap(a)
            self._ctx, self._outputs = _run_forward(self._cls, tuple(args), self._kwargs, self._ctx.needs_input_grad)
            self._inputs, self._grads, self._served = arrays, {}, set()
        self._served.add(index)
        return _tensor_outputs(self._outputs, self.name)[index]._value

    def input_grad(self, output: int, input_: int, g: np.ndarray) -> np.ndarray:
        key = (output, id(g))
        hit = self._grads.get(key)
        if hit is None or hit[0] is not g:
            hit = self._grads[key] = (g, self._backward(output, g))
        return hit[1][input_]

    # -- running the user's backward
    def _backward(self, output: int, g: np.ndarray) -> list[np.ndarray]:
        outs = _tensor_outputs(self._outputs, self.name)
        grads = [Tensor._wrap(g) if i == output else
                 (Tensor._wrap(np.zeros_like(o._value)) if self._ctx.materialize_grads else None)
                 for i, o in enumerate(outs)]
        with _outside_traces(), no_grad():
            result = self._cls.backward(self._ctx, *grads)
        result = result if isinstance(result, tuple) else (result,)
        n = len(self._args)
        if len(result) < n or any(r is not None for r in result[n:]):
            raise err(RuntimeError, f"function {self.name}Backward returned an incorrect number of gradients "
                      f"(expected {n}, got {len(result)})")
        for p, r in enumerate(result[:n]):
            if r is not None and p not in self._positions:
                raise err(RuntimeError, f"function {self.name}Backward returned a gradient different than None at "
                          f"position {p + 1}, but the corresponding forward input was not a Variable")
        return [self._checked_grad(j, result[p]) for j, p in enumerate(self._positions)]

    def _checked_grad(self, j: int, r) -> np.ndarray:
        x = self._args[self._positions[j]]
        if r is None:
            return np.zeros(x._value.shape, x._value.dtype)
        if not isinstance(r, Tensor):
            raise err(TypeError, f"function {self.name}Backward returned a {type(r).__name__} as the gradient at "
                      f"index {j}; expected a Tensor or None")
        value = r._value
        if value.shape != x._value.shape:
            try:  # torch sums a gradient that broadcasts to the input's shape back to that shape
                np.broadcast_shapes(x._value.shape, value.shape)
                assert np.broadcast_shapes(x._value.shape, value.shape) == value.shape
                lead = value.ndim - x._value.ndim
                value = value.sum(axis=tuple(range(lead)))
                value = value.sum(axis=tuple(i for i, d in enumerate(x._value.shape) if d == 1 and value.shape[i] != 1),
                                  keepdims=True)
            except (ValueError, AssertionError):
                raise err(RuntimeError, f"Function {self.name}Backward returned an invalid gradient at index {j} - "
                          f"got {list(r.shape)} but expected shape compatible with {list(x.shape)}") from None
        return np.asarray(value, dtype=x._value.dtype)


class _outside_traces:
    """Run user code with no trace active, so a Function's own ops stay out of the graph."""

    def __enter__(self):
        self._token = tracing._TRACE.set(None)

    def __exit__(self, *exc):
        tracing._TRACE.reset(self._token)


def _tensor_outputs(outputs, name: str) -> list[Tensor]:
    outs = list(outputs) if isinstance(outputs, tuple) else [outputs]
    tensors = [o for o in outs if isinstance(o, Tensor)]
    if not tensors:
        raise err(TypeError, f"{name}.forward must return a Tensor or a tuple with at least one Tensor, "
                  f"got {type(outputs).__name__}")
    return tensors


def _overrides_setup_context(cls) -> bool:
    return getattr(cls.setup_context, "__func__", cls.setup_context) is not Function.__dict__["setup_context"].__func__


def _run_forward(cls, args: tuple, kwargs: dict, needs_input_grad: tuple):
    ctx = FunctionCtx(cls.__name__, needs_input_grad)
    with _outside_traces(), no_grad():
        if _overrides_setup_context(cls):
            outputs = cls.forward(*args, **kwargs)
            cls.setup_context(ctx, args, outputs)
        else:
            outputs = cls.forward(ctx, *args, **kwargs)
    _tensor_outputs(outputs, cls.__name__)
    return ctx, outputs


class Function:
    """Subclass with static ``forward(ctx, *args)`` and ``backward(ctx, *grad_outputs)`` (or
    ``forward(*args)`` plus ``setup_context(ctx, inputs, output)``) and call ``apply``."""

    @staticmethod
    def forward(ctx, *args, **kwargs):
        raise err(NotImplementedError, "You must implement the forward function for custom autograd.Function.")

    @staticmethod
    def setup_context(ctx, inputs, output):
        raise err(NotImplementedError, "setup_context is not implemented.")

    @staticmethod
    def backward(ctx, *grad_outputs):
        raise err(NotImplementedError, "You must implement either the backward or vjp method for your custom "
                  "autograd.Function to use it with backward mode AD.")

    vjp = backward

    @classmethod
    def apply(cls, *args, **kwargs):
        positions = [p for p, a in enumerate(args) if isinstance(a, Tensor)]
        grad_on = _ENABLED.get()
        needs = tuple(isinstance(a, Tensor) and a.requires_grad and grad_on for a in args)
        ctx, outputs = _run_forward(cls, args, kwargs, needs)
        call = _Application(cls, args, kwargs, ctx, outputs, positions)
        inputs = [args[p] for p in positions]
        requires = any(needs)
        recorded, index = [], 0
        for o in (outputs if isinstance(outputs, tuple) else (outputs,)):
            if not isinstance(o, Tensor):
                recorded.append(o)
                continue
            attrs = CU.FunctionOutputAttrs(call, index, tuple(o.shape), o.dtype)
            diff = requires and o.dtype.is_floating_point and id(o) not in ctx._non_differentiable
            recorded.append(record_computed(CU.function_output, inputs, attrs, o._value, diff))
            index += 1
        return tuple(recorded) if isinstance(outputs, tuple) else recorded[0]


def once_differentiable(fn):
    """torch's decorator for a backward that is not differentiable again: every Function's
    backward here already is, so it returns ``fn`` unchanged."""
    return fn
