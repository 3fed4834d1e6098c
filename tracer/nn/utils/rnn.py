"""``nn.utils.rnn``, as torch's: ``pad_sequence``, ``PackedSequence``, ``pack_padded_sequence``,
``pad_packed_sequence``, ``pack_sequence``, ``unpack_sequence`` and ``invert_permutation``.

All are compositions of slicing, ``cat``, ``stack`` and ``index_select``. Lengths are Python
values when packing (as in torch, where a trace treats them as constants): a traced graph
holds one packing layout.
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import NamedTuple

import numpy as np

from ir import dtypes
from tracer.core.errors import err
from tracer.core.tensor import Tensor
from tracer.ops.creation import full, tensor
from tracer.ops.shape import cat, stack


def _lengths_list(lengths) -> list[int]:
    """A caller's lengths as Python ints. A tensor is read with ``tolist()``, so a trace is
    specialised to its values (a warning) and ``compile`` refuses it (the graph would replay
    the lengths seen while tracing): pass lengths as a Python list there."""
    values = lengths.tolist() if isinstance(lengths, Tensor) else np.asarray(lengths).tolist()
    return [int(v) for v in np.asarray(values).reshape(-1)]


def _sizes(batch_sizes: Tensor) -> list[int]:
    """A PackedSequence's batch sizes: made from Python ints by the packing (a constant in a
    trace), so read directly."""
    return [int(b) for b in batch_sizes._value]


def invert_permutation(permutation):
    """The inverse of an index permutation (None stays None)."""
    if permutation is None:
        return None
    order = permutation._value if isinstance(permutation, Tensor) else np.asarray(permutation)
    inverse = np.empty_like(order)
    inverse[order] = np.arange(len(order), dtype=order.dtype)
    return tensor(inverse)


class _PackedFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor | None
    unsorted_indices: Tensor | None


class PackedSequence(_PackedFields):
    """``data`` (sum of lengths, *), ``batch_sizes`` (an int64 tensor, one count per time
    step), and the permutations that sorted the batch by decreasing length (or None); the
    unsorted indices default to the inverse of the sorted ones, as torch."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        if batch_sizes is None:  # PackedSequence((data, batch_sizes), sorted_indices=...)
            data, batch_sizes = data
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def to(self, *args, **kwargs) -> "PackedSequence":
        """``data.to(...)``; the sizes and permutations stay as they are, as torch."""
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else type(self)(data, self.batch_sizes, self.sorted_indices,
                                                          self.unsorted_indices)

    def float(self) -> "PackedSequence":
        return self.to(dtype=dtypes.float32)

    def double(self) -> "PackedSequence":
        return self.to(dtype=dtypes.float64)

    def cpu(self) -> "PackedSequence":
        return self

    @property
    def is_cuda(self) -> bool:
        return False


def _step_rows(padded, t: int, rows: int, batch_first: bool):
    return padded[:rows, t] if batch_first else padded[t, :rows]


def pack_padded_sequence(input, lengths, batch_first: bool = False, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded (T, B, *) batch ((B, T, *) with ``batch_first``) of sequences of ``lengths``.

    Raises:
        RuntimeError: unsorted lengths with ``enforce_sorted``, a length <= 0 or longer than T.
    """
    values = _lengths_list(lengths)
    batch_dim = 0 if batch_first else 1
    sorted_indices = None
    if enforce_sorted:
        if any(a < b for a, b in zip(values, values[1:])):
            raise err(RuntimeError, "`lengths` array must be sorted in decreasing order when `enforce_sorted` is "
                      "True. You can pass `enforce_sorted=False` to pack_padded_sequence and/or pack_sequence to "
                      "sidestep this requirement if you do not need ONNX exportability.")
    else:
        order = np.argsort(-np.asarray(values), kind="stable")
        values = [values[i] for i in order]
        sorted_indices = tensor(order.astype(np.int64))
        input = input.index_select(batch_dim, sorted_indices)
    if values and values[-1] <= 0:
        raise err(RuntimeError, "Length of all samples has to be greater than 0, but found an element in 'lengths' "
                  "that is <= 0")
    if values and values[0] > input.size(1 - batch_dim):
        raise err(RuntimeError, f"pack_padded_sequence: a length of {values[0]} is longer than the padded input "
                  f"{tuple(input.shape)} (time dim {1 - batch_dim})")
    batch_sizes = [sum(1 for v in values if v > t) for t in range(values[0] if values else 0)]
    data = cat([_step_rows(input, t, b, batch_first) for t, b in enumerate(batch_sizes)], 0)
    return PackedSequence(data, tensor(batch_sizes, dtype=dtypes.int64), sorted_indices)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length=None):
    """Undo ``pack_padded_sequence``: the padded batch (in the original order) and its lengths.

    Raises:
        ValueError: ``total_length`` shorter than the longest sequence, as torch.
    """
    batch_sizes = _sizes(sequence.batch_sizes)
    steps = len(batch_sizes)
    if total_length is not None:
        if total_length < steps:
            raise err(ValueError, "Expected total_length to be at least the length of the longest sequence in "
                      f"input, but got total_length={total_length} and max sequence length being {steps}")
        steps = total_length
    data, batch = sequence.data, batch_sizes[0]
    trailing = tuple(data.shape[1:])
    rows, offset = [], 0
    for t in range(steps):
        b = batch_sizes[t] if t < len(batch_sizes) else 0
        parts = [data[offset:offset + b]] if b else []
        if b < batch:
            parts.append(full((batch - b,) + trailing, padding_value, dtype=data.dtype))
        rows.append(cat(parts, 0) if len(parts) > 1 else parts[0])
        offset += b
    padded = stack(rows, 1 if batch_first else 0)
    lengths = np.array([sum(1 for b in batch_sizes if b > i) for i in range(batch)], dtype=np.int64)
    if sequence.unsorted_indices is not None:
        order = sequence.unsorted_indices
        return padded.index_select(0 if batch_first else 1, order), tensor(lengths[order._value])
    return padded, tensor(lengths)


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Stack sequences of shapes (L_i, *) into (L_max, B, *) ((B, L_max, *) with ``batch_first``),
    filling with ``padding_value`` on the ``padding_side`` ('right' or 'left').

    Raises:
        RuntimeError: a non-iterable, an empty list, a bad ``padding_side`` or trailing shapes
            that differ, as torch.
    """
    if not isinstance(sequences, Iterable):
        raise err(RuntimeError, f"pad_sequence: Expected iterable for input sequences, but got arg of type: "
                  f"{type(sequences)}")
    sequences = tuple(sequences)
    if not sequences:
        raise err(RuntimeError, "received an empty list of sequences")
    if padding_side not in ("left", "right"):
        raise err(RuntimeError, f"Expected padding_side to be one of left or right, but got {padding_side}.")
    longest = max(s.size(0) for s in sequences)
    trailing = tuple(sequences[0].shape[1:])
    padded = []
    for s in sequences:
        if tuple(s.shape[1:]) != trailing:
            raise err(RuntimeError, f"pad_sequence: every sequence needs the trailing shape {trailing} of the first, "
                      f"got {tuple(s.shape)}")
        if s.size(0) == longest:
            padded.append(s)
            continue
        fill = full((longest - s.size(0),) + trailing, padding_value, dtype=s.dtype)
        padded.append(cat([s, fill] if padding_side == "right" else [fill, s], 0))
    return stack(padded, 0 if batch_first else 1)


def unpad_sequence(padded_sequences, lengths, batch_first: bool = False) -> list:
    """The list of unpadded sequences of a padded batch."""
    batch = padded_sequences if batch_first else padded_sequences.transpose(0, 1)
    return [batch[i, :n] for i, n in enumerate(_lengths_list(lengths))]


def pack_sequence(sequences, enforce_sorted: bool = True) -> PackedSequence:
    """``pack_padded_sequence(pad_sequence(sequences), lengths)``."""
    lengths = [s.size(0) for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences: PackedSequence) -> list:
    """The list of sequences of a ``PackedSequence``, in the original order."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
