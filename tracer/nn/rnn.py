"""Recurrent layers as torch's ``torch.nn.modules.rnn``: ``RNN`` (tanh or relu), ``LSTM`` (with
``proj_size``), ``GRU`` and the cells ``RNNCell``, ``LSTMCell``, ``GRUCell``, with torch's
parameter names and order, initialisation, gate order, shape checks and messages.

Every layer is a composition of ``linear``, ``sigmoid``, ``tanh``/``relu``, slicing, ``stack``
and ``cat``: the input projection of a whole sequence is one matmul, then the recurrence is
unrolled over the time steps into ordinary ops, so a trace of a training step needs no ONNX
LSTM/GRU op nor a gradient for one. The cell arithmetic follows ATen's CPU cells (``RNN.cpp``)
term by term, so float32 results agree with torch to rounding.
"""
from __future__ import annotations

import math
import numbers
import warnings

from tracer.core.errors import err
from tracer.core.tensor import Tensor
from tracer.nn.dropout import dropout
from tracer.nn import init
from tracer.nn.module import Module
from tracer.nn.parameter import Parameter
from tracer.ops import elementwise as ew
from tracer.ops.creation import empty, zeros
from tracer.ops.linalg import linear
from tracer.ops.shape import cat, stack
from tracer.nn.utils.rnn import PackedSequence, _sizes

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# -- one time step of each cell (ATen's arithmetic order) ---------------------------------
def _rnn_step(activation):
    def step(x_proj, state, w_hh, b_hh, w_hr=None):
        return activation(ew.add(linear(state, w_hh, b_hh), x_proj))
    return step


def _lstm_step(x_proj, state, w_hh, b_hh, w_hr=None):
    """gates = W_hh h + b_hh + (W_ih x + b_ih) in torch's order i, f, g, o; c' = f c + i g,
    h' = o tanh(c'), projected by ``w_hr`` when the LSTM has ``proj_size``."""
    h, c = state
    i, f, g, o = ew.add(linear(h, w_hh, b_hh), x_proj).chunk(4, -1)
    c_next = ew.add(ew.mul(ew.sigmoid(f), c), ew.mul(ew.sigmoid(i), ew.tanh(g)))
    h_next = ew.mul(ew.sigmoid(o), ew.tanh(c_next))
    return (h_next if w_hr is None else linear(h_next, w_hr)), c_next


def _gru_step(x_proj, h, w_hh, b_hh, w_hr=None):
    """r, z, n in torch's order; n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
    h' = (h - n) z + n."""
    x_r, x_z, x_n = x_proj.chunk(3, -1)
    h_r, h_z, h_n = linear(h, w_hh, b_hh).chunk(3, -1)
    r = ew.sigmoid(ew.add(h_r, x_r))
    z = ew.sigmoid(ew.add(h_z, x_z))
    n = ew.tanh(ew.add(x_n, ew.mul(h_n, r)))
    return ew.add(ew.mul(ew.sub(h, n), z), n)


_STEPS = {"RNN_TANH": _rnn_step(ew.tanh), "RNN_RELU": _rnn_step(ew.relu), "LSTM": _lstm_step, "GRU": _gru_step}


def _hidden_of(state):
    return state[0] if isinstance(state, tuple) else state


def _with_rows(step, x_proj, state, rows: int, *weights):
    """One step for the first ``rows`` sequences of the batch (a packed batch's active ones at
    this time step); the others keep their state."""
    if isinstance(state, tuple):
        active = step(x_proj, tuple(s[:rows] for s in state), *weights)
        return tuple(cat([a, s[rows:]], 0) for a, s in zip(active, state))
    return cat([step(x_proj, state[:rows], *weights), state[rows:]], 0)


def _run_direction(step, steps, state, weights, reverse: bool):
    """One layer, one direction over per-time-step input projections ``steps`` (each (b_t, G),
    b_t non-increasing): the per-step outputs in time order and the last state."""
    _, w_hh, _, b_hh, w_hr = weights  # the input side was projected for all steps at once
    batch = _hidden_of(state).size(0)
    outputs = []
    for t in (reversed(range(len(steps))) if reverse else range(len(steps))):
        rows = steps[t].size(0)
        if rows == batch:
            state = step(steps[t], state, w_hh, b_hh, w_hr)
            outputs.append(_hidden_of(state))
        else:
            state = _with_rows(step, steps[t], state, rows, w_hh, b_hh, w_hr)
            outputs.append(_hidden_of(state)[:rows])
    if reverse:
        outputs.reverse()
    return outputs, state


class RNNBase(Module):
    """The shared body of ``RNN``, ``LSTM`` and ``GRU`` (torch's ``RNNBase``)."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None):
        super().__init__()
        self.mode = mode
        self.input_size, self.hidden_size, self.num_layers = input_size, hidden_size, num_layers
        self.bias, self.batch_first = bias, batch_first
        self.dropout = float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        _check_config(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size)
        self._flat_weights_names, self._all_weights = [], []
        for layer in range(num_layers):
            for direction in range(2 if bidirectional else 1):
                self._add_layer(layer, direction, device, dtype)
        self.reset_parameters()

    def _add_layer(self, layer: int, direction: int, device, dtype) -> None:
        gates = _GATES[self.mode] * self.hidden_size
        real_hidden = self.proj_size if self.proj_size > 0 else self.hidden_size
        layer_input = self.input_size if layer == 0 else real_hidden * (2 if self.bidirectional else 1)
        shapes = {"weight_ih": (gates, layer_input), "weight_hh": (gates, real_hidden)}
        if self.bias:
            shapes.update(bias_ih=(gates,), bias_hh=(gates,))
        if self.proj_size > 0:
            shapes["weight_hr"] = (self.proj_size, self.hidden_size)
        suffix = "_reverse" if direction == 1 else ""
        names = []
        for kind, shape in shapes.items():
            name = f"{kind}_l{layer}{suffix}"
            setattr(self, name, Parameter(empty(shape, dtype=dtype, device=device)))
            names.append(name)
        self._flat_weights_names.extend(names)
        self._all_weights.append(names)

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as torch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def flatten_parameters(self) -> None:
        """A no-op: torch's re-packs the weights into one contiguous cuDNN buffer (a memory
        layout hint for CUDA); here each weight is its own array and nothing needs packing."""

    @property
    def _flat_weights(self) -> list:
        return [getattr(self, name) for name in self._flat_weights_names]

    @property
    def all_weights(self) -> list:
        """The parameters grouped per layer and direction, as torch's ``all_weights``."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def _layer_weights(self, layer: int, direction: int):
        suffix = f"_l{layer}{'_reverse' if direction == 1 else ''}"
        return tuple(getattr(self, kind + suffix) if kind + suffix in self._parameters else None
                     for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh", "weight_hr"))

    # -- checks, as torch's RNNBase ---------------------------------------------------
    def check_input(self, input: Tensor, expected_dim: int = 3) -> None:
        weight_dtype = self._flat_weights[0].dtype
        if input.dtype != weight_dtype:
            raise err(ValueError, f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). "
                      f"Convert input: input.to({weight_dtype}), or convert model: model.to({input.dtype})")
        if input.dim() != expected_dim:
            raise err(RuntimeError, f"input must have {expected_dim} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise err(RuntimeError, f"input.size(-1) must be equal to input_size. Expected {self.input_size}, "
                      f"got {input.size(-1)}")

    def get_expected_hidden_size(self, input: Tensor) -> tuple[int, int, int]:
        mini_batch = input.size(0) if self.batch_first else input.size(1)
        size = self.proj_size if self.proj_size > 0 else self.hidden_size
        return self.num_layers * (2 if self.bidirectional else 1), mini_batch, size

    @staticmethod
    def check_hidden_size(hx: Tensor, expected: tuple, msg: str = "Expected hidden size {}, got {}") -> None:
        if tuple(hx.size()) != tuple(expected):
            raise err(RuntimeError, msg.format(tuple(expected), list(hx.size())))

    def check_forward_args(self, input: Tensor, hidden, batch_sizes=None) -> None:
        self.check_input(input)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input))

    # -- the computation --------------------------------------------------------------
    def _batched(self, input, hx, is_batched: bool):
        """The 3-D input and hidden state of a batched or unbatched call, checked as torch."""
        if input.dim() not in (2, 3):
            raise err(ValueError, f"{self._name()}: Expected input to be 2D or 3D, got {input.dim()}D "
                      f"{'tensor instead' if self.mode.startswith('RNN') else 'instead'}")
        if not is_batched:
            input = input.unsqueeze(0 if self.batch_first else 1)
            if hx is not None:
                if hx.dim() != 2:
                    raise err(RuntimeError, f"For unbatched 2-D input, hx should also be 2-D but got {hx.dim()}-D "
                              "tensor")
                hx = hx.unsqueeze(1)
        elif hx is not None and hx.dim() != 3:
            raise err(RuntimeError, f"For batched 3-D input, hx should also be 3-D but got {hx.dim()}-D tensor")
        return input, hx

    def _name(self) -> str:
        return "RNN" if self.mode.startswith("RNN") else self.mode

    def _zeros(self, input, size: int) -> Tensor:
        batch = input.size(0) if self.batch_first else input.size(1)
        return zeros(self.num_layers * (2 if self.bidirectional else 1), batch, size, dtype=input.dtype)

    def _run(self, input, states, batch_sizes=None):
        """Every layer and direction over a 3-D input, or a packed one's data with its
        ``batch_sizes``; ``states`` is (L*D, B, H) per state kind (one for RNN/GRU, h and c for
        LSTM). Returns the output (padded or packed data) and the final states stacked."""
        step, directions = _STEPS[self.mode], 2 if self.bidirectional else 1
        x = input.transpose(0, 1) if self.batch_first and batch_sizes is None else input
        finals = []
        for layer in range(self.num_layers):
            if layer > 0 and self.dropout > 0 and self.training:
                x = dropout(x, self.dropout, True)
            outputs = []
            for d in range(directions):
                weights = self._layer_weights(layer, d)
                projected = linear(x, weights[0], weights[2])  # the whole sequence's input projection at once
                steps = projected.unbind(0) if batch_sizes is None else projected.split(batch_sizes, 0)
                k = layer * directions + d
                state = tuple(s[k] for s in states) if len(states) > 1 else states[0][k]
                out, last = _run_direction(step, steps, state, weights, reverse=d == 1)
                outputs.append(stack(out, 0) if batch_sizes is None else cat(out, 0))
                finals.append(last if isinstance(last, tuple) else (last,))
            x = outputs[0] if directions == 1 else cat(outputs, -1)
        output = x.transpose(0, 1) if self.batch_first and batch_sizes is None else x
        return output, tuple(stack([f[i] for f in finals], 0) for i in range(len(states)))

    def _forward_packed(self, packed, hx, sizes):
        """A ``PackedSequence`` through the layers: states in the packed (sorted) batch order,
        returned in the caller's order, as torch's ``permute_hidden``."""
        data, batch_sizes, sorted_indices, unsorted_indices = packed
        sizes_list = _sizes(batch_sizes)
        batch = sizes_list[0]
        shape = (self.num_layers * (2 if self.bidirectional else 1), batch)
        if hx is None:
            hx = tuple(zeros(*shape, size, dtype=data.dtype) for size in sizes)
        elif sorted_indices is not None:
            hx = tuple(h.index_select(1, sorted_indices) for h in hx)
        self.check_input(data, 2)
        names = ("hidden[0]", "hidden[1]") if len(sizes) == 2 else ("hidden",)
        for h, size, name in zip(hx, sizes, names):
            self.check_hidden_size(h, shape + (size,), f"Expected {name} size {{}}, got {{}}")
        output, finals = self._run(data, hx, sizes_list)
        if unsorted_indices is not None:
            finals = tuple(f.index_select(1, unsorted_indices) for f in finals)
        return PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices), finals

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.proj_size != 0:
            s += f", proj_size={self.proj_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if self.batch_first is not False:
            s += f", batch_first={self.batch_first}"
        if self.dropout != 0:
            s += f", dropout={self.dropout}"
        if self.bidirectional is not False:
            s += f", bidirectional={self.bidirectional}"
        return s


def _check_config(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size) -> None:
    """torch's constructor checks, in torch's order, with its exception types and messages."""
    if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
        raise err(ValueError, "dropout should be a number in range [0, 1] representing the probability of an "
                  "element being zeroed")
    if dropout > 0 and num_layers == 1:
        warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                      f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                      stacklevel=4)
    for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool)):
        if not isinstance(value, kind):
            raise err(TypeError, f"{name} should be of type bool, got: {type(value).__name__}")
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size)):
        if not isinstance(value, int):
            raise err(TypeError, f"{name} should be of type int, got: {type(value).__name__}")
        if value <= 0:
            raise err(ValueError, f"{name} must be greater than zero")
    if num_layers <= 0:
        raise err(ValueError, "num_layers must be greater than zero")
    if proj_size < 0:
        raise err(ValueError, "proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise err(ValueError, "proj_size has to be smaller than hidden_size")
    if mode not in _GATES:
        raise err(ValueError, "Unrecognized RNN mode: " + mode)


def _only_lstm_projects(cls: type, extra: dict) -> None:
    """torch's RNN and GRU take ``**kwargs`` and refuse ``proj_size`` with a ValueError; any
    other unknown keyword is Python's TypeError."""
    if "proj_size" in extra:
        raise err(ValueError, "proj_size argument is only supported for LSTM, not RNN or GRU")
    if extra:
        raise TypeError(f"{cls.__name__}.__init__() got an unexpected keyword argument '{next(iter(extra))}'")


class RNN(RNNBase):
    """A multi-layer Elman RNN, h_t = tanh(W_ih x_t + b_ih + W_hh h_(t-1) + b_hh) (or relu).

    Args:
        input_size, hidden_size, num_layers, nonlinearity ('tanh' or 'relu'), bias, batch_first,
        dropout (between layers, in training), bidirectional, device, dtype: as torch.

    Raises:
        ValueError: an unknown nonlinearity, a ``proj_size`` (LSTM only), or torch's checks.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False,
                 device=None, dtype=None, **extra):
        _only_lstm_projects(RNN, extra)
        if nonlinearity not in ("tanh", "relu"):
            raise err(ValueError, f"Unknown nonlinearity '{nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(f"RNN_{nonlinearity.upper()}", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """``(output, h_n)`` for a (L, N, H_in) input ((N, L, H_in) with batch_first, or (L, H_in)),
        or a ``PackedSequence`` (then the output is packed too)."""
        if isinstance(input, PackedSequence):
            output, (hidden,) = self._forward_packed(input, None if hx is None else (hx,), (self.hidden_size,))
            return output, hidden
        is_batched = input.dim() == 3
        input, hx = self._batched(input, hx, is_batched)
        hx = self._zeros(input, self.hidden_size) if hx is None else hx
        self.check_forward_args(input, hx)
        output, (hidden,) = self._run(input, (hx,))
        return _unbatched(output, hidden, is_batched, self.batch_first)


class GRU(RNNBase):
    """A multi-layer gated recurrent unit: r, z, n gates as torch (n uses r * (W_hn h + b_hn)).

    Args: as ``RNN`` without ``nonlinearity``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, device=None,
                 dtype=None, **extra):
        _only_lstm_projects(GRU, extra)
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional, 0,
                         device, dtype)

    def forward(self, input, hx=None):
        """``(output, h_n)``, as ``RNN.forward``."""
        if isinstance(input, PackedSequence):
            output, (hidden,) = self._forward_packed(input, None if hx is None else (hx,), (self.hidden_size,))
            return output, hidden
        is_batched = input.dim() == 3
        input, hx = self._batched(input, hx, is_batched)
        hx = self._zeros(input, self.hidden_size) if hx is None else hx
        self.check_forward_args(input, hx)
        output, (hidden,) = self._run(input, (hx,))
        return _unbatched(output, hidden, is_batched, self.batch_first)


class LSTM(RNNBase):
    """A multi-layer long short-term memory, gates i, f, g, o as torch; with ``proj_size > 0``
    the hidden state is projected by ``weight_hr_l{k}`` to ``proj_size`` features.

    Args: as ``GRU`` plus ``proj_size``.
    """

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0,
                 device=None, dtype=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)

    def get_expected_cell_size(self, input: Tensor) -> tuple[int, int, int]:
        mini_batch = input.size(0) if self.batch_first else input.size(1)
        return self.num_layers * (2 if self.bidirectional else 1), mini_batch, self.hidden_size

    def check_forward_args(self, input: Tensor, hidden, batch_sizes=None) -> None:
        self.check_input(input)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input), "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input), "Expected hidden[1] size {}, got {}")

    def forward(self, input, hx=None):
        """``(output, (h_n, c_n))`` for a (L, N, H_in) input or a ``PackedSequence``; ``hx`` is
        ``(h_0, c_0)`` or None."""
        if isinstance(input, PackedSequence):
            sizes = (self.proj_size or self.hidden_size, self.hidden_size)
            return self._forward_packed(input, None if hx is None else tuple(hx), sizes)
        if input.dim() not in (2, 3):
            raise err(ValueError, f"LSTM: Expected input to be 2D or 3D, got {input.dim()}D instead")
        is_batched = input.dim() == 3
        if not is_batched:
            input = input.unsqueeze(0 if self.batch_first else 1)
        if hx is None:
            hx = (self._zeros(input, self.proj_size or self.hidden_size), self._zeros(input, self.hidden_size))
        else:
            hx = _lstm_state(hx, is_batched)
        self.check_forward_args(input, hx)
        output, (h, c) = self._run(input, hx)
        if not is_batched:
            output, h, c = output.squeeze(0 if self.batch_first else 1), h.squeeze(1), c.squeeze(1)
        return output, (h, c)


def _lstm_state(hx, is_batched: bool):
    dims = (hx[0].dim(), hx[1].dim())
    want = 3 if is_batched else 2
    if dims != (want, want):
        kind = "batched 3-D" if is_batched else "unbatched 2-D"
        raise err(RuntimeError, f"For {kind} input, hx and cx should also be {want}-D but got "
                  f"({dims[0]}-D, {dims[1]}-D) tensors")
    return (hx[0], hx[1]) if is_batched else (hx[0].unsqueeze(1), hx[1].unsqueeze(1))


def _unbatched(output, hidden, is_batched: bool, batch_first: bool):
    if is_batched:
        return output, hidden
    return output.squeeze(0 if batch_first else 1), hidden.squeeze(1)


# -- cells --------------------------------------------------------------------------------
class RNNCellBase(Module):
    """The shared body of the cells: ``weight_ih``, ``weight_hh``, ``bias_ih``, ``bias_hh``."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool, num_chunks: int, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(empty((num_chunks * hidden_size, input_size), dtype=dtype, device=device))
        self.weight_hh = Parameter(empty((num_chunks * hidden_size, hidden_size), dtype=dtype, device=device))
        if bias:
            self.bias_ih = Parameter(empty(num_chunks * hidden_size, dtype=dtype, device=device))
            self.bias_hh = Parameter(empty(num_chunks * hidden_size, dtype=dtype, device=device))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            s += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            s += f", nonlinearity={self.nonlinearity}"
        return s

    def reset_parameters(self) -> None:
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as torch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def _prepare(self, input, states, names):
        """Batched input and states, zeros for missing ones, checked as ATen's cells."""
        kind = type(self).__name__
        if input.dim() not in (1, 2):
            raise err(ValueError, f"{kind}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        for name, s in zip(names, states or ()):
            if s.dim() not in (1, 2):
                raise err(ValueError, f"{kind}: Expected {name} to be 1D or 2D, got {s.dim()}D instead")
        is_batched = input.dim() == 2
        if not is_batched:
            input = input.unsqueeze(0)
        if states is None:
            states = (zeros(input.size(0), self.hidden_size, dtype=input.dtype),) * len(names)
        elif not is_batched:
            states = tuple(s.unsqueeze(0) for s in states)
        self._check(input, states)
        return input, states, is_batched

    def _check(self, input, states) -> None:
        if input.size(1) != self.input_size:
            raise err(RuntimeError, f"input has inconsistent input_size: got {input.size(1)} expected "
                      f"{self.input_size}")
        for k, s in enumerate(states):
            if input.size(0) != s.size(0):
                raise err(RuntimeError, f"Input batch size {input.size(0)} doesn't match hidden{k} batch size "
                          f"{s.size(0)}")
            if s.size(1) != self.hidden_size:
                raise err(RuntimeError, f"hidden{k} has inconsistent hidden_size: got {s.size(1)}, expected "
                          f"{self.hidden_size}")

    def _project(self, input):
        return linear(input, self.weight_ih, self.bias_ih)


class RNNCell(RNNCellBase):
    """One Elman step, h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu); an unknown
    nonlinearity raises at call time, as torch."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh",
                 device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        input, (hx,), is_batched = self._prepare(input, None if hx is None else (hx,), ("hidden",))
        if self.nonlinearity not in ("tanh", "relu"):
            raise err(RuntimeError, f"Unknown nonlinearity: {self.nonlinearity}")
        step = _STEPS[f"RNN_{self.nonlinearity.upper()}"]
        h = step(self._project(input), hx, self.weight_hh, self.bias_hh)
        return h if is_batched else h.squeeze(0)


class LSTMCell(RNNCellBase):
    """One LSTM step: ``(h', c')`` from ``input`` and ``hx = (h, c)`` (zeros when omitted)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        names = ("hx[0]", "hx[1]")
        input, state, is_batched = self._prepare(input, None if hx is None else tuple(hx), names)
        h, c = _lstm_step(self._project(input), state, self.weight_hh, self.bias_hh)
        return (h, c) if is_batched else (h.squeeze(0), c.squeeze(0))


class GRUCell(RNNCellBase):
    """One GRU step with torch's r, z, n gates."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        input, (hx,), is_batched = self._prepare(input, None if hx is None else (hx,), ("hidden",))
        h = _gru_step(self._project(input), hx, self.weight_hh, self.bias_hh)
        return h if is_batched else h.squeeze(0)
