"""Layers with parameters or state: Linear, Identity, Flatten, Unflatten, Dropout."""
from __future__ import annotations

import math

from tracer.core.errors import err
from tracer.nn import dropout as D
from tracer.nn import init
from tracer.nn.module import Module
from tracer.nn.parameter import Parameter
from tracer.ops.creation import empty
from tracer.ops.linalg import linear


class Identity(Module):
    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b, initialised as torch's Linear (kaiming_uniform a=sqrt(5), bias U(+-1/sqrt(fan_in)))."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(empty((out_features, in_features), dtype=dtype, device=device))
        if bias:
            self.bias = Parameter(empty(out_features, dtype=dtype, device=device))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in = self.in_features
            bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Flatten(Module):
    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


class Dropout(Module):
    """Zeroes elements with probability ``p`` in training mode; the identity in eval mode."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise err(ValueError, f"Dropout: dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return D.dropout(input, self.p, self.training, self.inplace)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class _DropoutNd(Dropout):
    _functional = None

    def forward(self, input):
        return type(self)._functional(input, self.p, self.training, self.inplace)


class Dropout1d(_DropoutNd):
    """Zeroes whole channels of a (N, C, L) input with probability ``p`` in training mode."""
    _functional = D.dropout1d


class Dropout2d(_DropoutNd):
    """Zeroes whole channels of a (N, C, H, W) input with probability ``p`` in training mode."""
    _functional = D.dropout2d


class Dropout3d(_DropoutNd):
    """Zeroes whole channels of a (N, C, D, H, W) input with probability ``p`` in training mode."""
    _functional = D.dropout3d


class AlphaDropout(Dropout):
    """Alpha dropout (``F.alpha_dropout``) in training mode; the identity in eval mode."""

    def forward(self, input):
        return D.alpha_dropout(input, self.p, self.training, self.inplace)


class FeatureAlphaDropout(Dropout):
    """Alpha dropout of whole channels (``F.feature_alpha_dropout``) in training mode."""

    def forward(self, input):
        return D.feature_alpha_dropout(input, self.p, self.training, self.inplace)
