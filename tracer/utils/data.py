"""``utils.data``: Dataset, TensorDataset, Subset, random_split and DataLoader, as torch's."""
from __future__ import annotations

import math

import numpy as np

from tracer.core.errors import err
from tracer.ops.creation import tensor as make_tensor
from tracer.ops.shape import stack
from tracer.ops.random import Generator, default_generator, randperm
from tracer.core.tensor import Tensor


class Dataset:
    """A map-style dataset: ``__getitem__`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Rows of tensors that share their first dimension."""

    def __init__(self, *tensors):
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):  # torch asserts it: AssertionError
            raise err(AssertionError, "TensorDataset: Size mismatch between tensors (their first dims differ: "
                      + ", ".join(str(t._type) for t in tensors) + ")")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class Subset(Dataset):
    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self) -> int:
        return len(self.indices)


class ConcatDataset(Dataset):
    def __init__(self, datasets):
        self.datasets = list(datasets)
        self.cumulative = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self) -> int:
        return self.cumulative[-1] if self.cumulative else 0

    def __getitem__(self, idx):
        if idx < 0:
            idx += len(self)
        k = int(np.searchsorted(self.cumulative, idx, side="right"))
        start = self.cumulative[k - 1] if k else 0
        return self.datasets[k][idx - start]


def random_split(dataset, lengths, generator: Generator = default_generator):
    """Split into non-overlapping subsets of the given lengths (or fractions summing to 1)."""
    n = len(dataset)
    if all(0 <= x <= 1 for x in lengths) and math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        counts = [int(math.floor(n * f)) for f in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise err(ValueError, "Sum of input lengths does not equal the length of the input dataset!")
    perm = randperm(n, generator=generator).tolist()
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, perm[start:start + length]))
        start += length
    return out


def default_collate(batch):
    """Stack a list of samples: tensors stack, numbers become a tensor, tuples/dicts recurse."""
    first = batch[0]
    if isinstance(first, Tensor):
        return stack(batch, 0)
    if isinstance(first, np.ndarray):
        return make_tensor(np.stack(batch))
    if isinstance(first, (int, float, bool, np.number)):
        return make_tensor(list(batch))
    if isinstance(first, dict):
        return {k: default_collate([b[k] for b in batch]) for k in first}
    if isinstance(first, (tuple, list)):
        return [default_collate(list(items)) for items in zip(*batch)]
    return batch


class DataLoader:
    """Batches of a dataset: ``batch_size``, ``shuffle`` (with an optional generator), ``drop_last``,
    ``collate_fn``. A TensorDataset is batched by one index per tensor instead of stacking rows."""

    def __init__(self, dataset, batch_size: int | None = 1, shuffle: bool = False, sampler=None,
                 batch_sampler=None, num_workers: int = 0, collate_fn=None, pin_memory: bool = False,
                 drop_last: bool = False, timeout: float = 0, worker_init_fn=None, multiprocessing_context=None,
                 generator: Generator | None = None, *, prefetch_factor=None, persistent_workers: bool = False,
                 pin_memory_device: str = "", in_order: bool = True):
        # the worker and memory options are torch's (accepted, meaningless in one process); any other
        # keyword is a TypeError, so a typo (batchsize=) is not silently ignored
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int)
                                       or batch_size <= 0):
            raise err(ValueError, f"DataLoader: batch_size should be a positive integer value, but got "
                      f"batch_size={batch_size}")
        if sampler is not None and shuffle:
            raise err(ValueError, "DataLoader: sampler option is mutually exclusive with shuffle")
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle
        self.drop_last, self.generator = drop_last, generator
        self.sampler = sampler
        self.collate_fn = collate_fn or default_collate

    def _order(self) -> list[int]:
        if self.sampler is not None:
            return list(self.sampler)
        n = len(self.dataset)
        return randperm(n, generator=self.generator).tolist() if self.shuffle else list(range(n))

    def __iter__(self):
        order = self._order()
        if self.batch_size is None:
            for i in order:
                yield self.dataset[i]
            return
        for start in range(0, len(order), self.batch_size):
            idx = order[start:start + self.batch_size]
            if len(idx) < self.batch_size and self.drop_last:
                return
            yield self._batch(idx)

    def _batch(self, idx):
        if isinstance(self.dataset, TensorDataset) and self.collate_fn is default_collate:
            index = make_tensor(idx)
            return [t[index] for t in self.dataset.tensors]
        return self.collate_fn([self.dataset[i] for i in idx])

    def __len__(self) -> int:
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
