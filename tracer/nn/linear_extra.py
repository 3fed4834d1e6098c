"""Linear layers beyond ``Linear``: ``bilinear``/``Bilinear`` (y = x1^T A x2 + b) and
``LazyLinear``, which learns ``in_features`` from its first input, as torch 2.13."""
from __future__ import annotations

import math

from tracer.core.errors import cpp_type_name, err
from tracer.core.grad_mode import no_grad
from tracer.nn import init
from tracer.nn.layers import Linear
from tracer.nn.module import Module
from tracer.nn.parameter import Parameter, UninitializedParameter
from tracer.ops import elementwise as ew
from tracer.ops.contraction import einsum
from tracer.ops.creation import empty


def _bilinear_checks(input1, input2, weight, bias) -> None:
    """ATen's checks, with its messages."""
    named = [("input1", input1), ("input2", input2), ("weight", weight)]
    if bias is not None:
        named.append(("bias", bias))
    if len({t.dtype for _, t in named}) > 1:
        got = ", ".join(f"{name}: {cpp_type_name(t.dtype)}" for name, t in named)
        raise err(RuntimeError, f"All tensors must have the same dtype, got {got}")
    if input1.dim() != input2.dim():
        raise err(RuntimeError, f"bilinear(): input dimensions do not match: got {input1.dim()} and {input2.dim()}")
    for d in range(input1.dim() - 1):
        if input1.shape[d] != input2.shape[d]:
            raise err(RuntimeError, f"bilinear(): input batch dimensions do not match at dim {d}: got "
                      f"{input1.shape[d]} and {input2.shape[d]}")
    for name, x, d in (("input1", input1, 1), ("input2", input2, 2)):
        if x.shape[-1] != weight.shape[d]:
            raise err(RuntimeError, f"bilinear(): {name} size does not match weight size: got {x.shape[-1]} but "
                      f"expected {weight.shape[d]}")
    if bias is not None and bias.shape[0] != weight.shape[0]:
        raise err(RuntimeError, f"bilinear(): bias size does not match weight size: got {bias.shape[0]} but "
                  f"expected {weight.shape[0]}")


def bilinear(input1, input2, weight, bias=None):
    """y[..., o] = sum_ij input1[..., i] weight[o, i, j] input2[..., j] + bias[o]."""
    _bilinear_checks(input1, input2, weight, bias)
    out = einsum("...i,oij,...j->...o", input1, weight, input2)
    return out if bias is None else ew.add(out, bias)


class Bilinear(Module):
    """y = x1^T A x2 + b, weight (out, in1, in2) and bias U(+-1/sqrt(in1)) as torch."""

    def __init__(self, in1_features: int, in2_features: int, out_features: int, bias: bool = True, device=None,
                 dtype=None):
        super().__init__()
        self.in1_features, self.in2_features, self.out_features = in1_features, in2_features, out_features
        self.weight = Parameter(empty((out_features, in1_features, in2_features), dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1 / math.sqrt(self.weight.shape[1])
        init.uniform_(self.weight, -bound, bound)
        if self.bias is not None:
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input1, input2):
        return bilinear(input1, input2, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")


class LazyLinear(Linear):
    """A Linear whose ``in_features`` is the last dim of its first input: until then its
    parameters are uninitialised (``in_features=0``); the first call materialises and
    initialises them and the module becomes a ``Linear``, as torch's."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device=None, dtype=None):
        Module.__init__(self)
        self.in_features, self.out_features = 0, out_features
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)
        else:
            self.register_parameter("bias", None)

    def has_uninitialized_params(self) -> bool:
        return any(isinstance(p, UninitializedParameter) for p in self._parameters.values())

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input) -> None:
        if not self.has_uninitialized_params():
            return
        with no_grad():
            self.in_features = input.shape[-1]
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Uninitialised parameters take the checkpoint's shapes first, as torch's lazy load hook
        (``in_features`` is set by the next call, as torch). Only for a LazyLinear loaded itself:
        inside a model, load after a first call."""
        for name, p in self._parameters.items():
            if isinstance(p, UninitializedParameter) and name in state_dict:
                p.materialize(tuple(state_dict[name].shape))
        return super().load_state_dict(state_dict, strict, assign)

    def __call__(self, input, *args, **kwargs):
        self.initialize_parameters(input)
        if not self.has_uninitialized_params():
            self.in_features = self.weight.shape[1]
            self.__class__ = self.cls_to_become
        return self.forward(input, *args, **kwargs)
