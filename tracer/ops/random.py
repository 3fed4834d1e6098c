"""Random numbers: a seedable ``Generator`` and the torch-style random functions.

Draws come from NumPy's PCG64, so ``manual_seed`` makes runs reproducible (the streams are
not PyTorch's). Inside a trace, ``rand``/``randn``-style draws are recorded as random ops so
the graph draws afresh on every run instead of replaying the traced sample.
"""
from __future__ import annotations

import contextvars

import numpy as np

from ir import dtypes
from ir.ops import random as RND
from tracer.core.dispatch import record_value
from tracer.core.errors import err, scalar_type_name
from tracer.ops import elementwise as ew
from tracer.ops._util import shape_arg, size_arg
from tracer.ops.creation import _done
from tracer.ops.shape import broadcast_tensors
from tracer.core.tensor import Tensor


class Generator:
    """A random generator, as ``torch.Generator``."""

    def __init__(self, device="cpu"):
        self._seed = 67280421310721
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = int(seed)
        self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def seed(self) -> int:
        new = int(np.random.SeedSequence().entropy % (2 ** 63))
        self.manual_seed(new)
        return new

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        """The generator's state as a uint8 tensor (four 128-bit little-endian words)."""
        st = self._rng.bit_generator.state
        words = (st["state"]["state"], st["state"]["inc"], st["has_uint32"], st["uinteger"])
        raw = b"".join(int(w).to_bytes(16, "little") for w in words)
        return Tensor._wrap(np.frombuffer(raw, dtype=np.uint8).copy())

    def set_state(self, state: Tensor) -> "Generator":
        raw = bytes(np.asarray(state._value, dtype=np.uint8))
        if len(raw) != 64:
            raise ValueError(f"set_state: expected a 64-byte state from get_state(), got {len(raw)} bytes")
        w = [int.from_bytes(raw[i:i + 16], "little") for i in range(0, 64, 16)]
        self._rng.bit_generator.state = {"bit_generator": "PCG64", "state": {"state": w[0], "inc": w[1]},
                                         "has_uint32": w[2], "uinteger": w[3]}
        return self

    @property
    def numpy(self) -> np.random.Generator:
        return self._rng


default_generator = Generator()
_DEFAULT = contextvars.ContextVar("tracegrad_default_generator", default=default_generator)


def _gen(generator) -> np.random.Generator:
    return (generator or _DEFAULT.get())._rng


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (as ``torch.manual_seed``)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)


def _float(dtype, op):
    dtype = dtype or dtypes.float32
    if not dtype.is_floating_point:
        raise err(NotImplementedError, f"{op}: \"{op}\" not implemented for '{scalar_type_name(dtype)}' (random "
                  f"floats need a floating-point dtype, got {dtype.name})")
    return dtype


def uniform_tensor(shape, dtype, low, high, generator=None, op="uniform") -> Tensor:
    dtype = _float(dtype, op)
    value = _gen(generator).uniform(low, high, size=tuple(shape)).astype(dtype.np)
    return record_value(RND.random_uniform, RND.RandomAttrs(tuple(shape), dtype, float(low), float(high)), value)


def normal_tensor(shape, dtype, mean, std, generator=None, op="normal") -> Tensor:
    dtype = _float(dtype, op)
    value = _gen(generator).normal(mean, std, size=tuple(shape)).astype(dtype.np)
    return record_value(RND.random_normal, RND.RandomAttrs(tuple(shape), dtype, float(mean), float(std)), value)


def rand(*size, generator=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _done(uniform_tensor(size_arg(size, "rand"), dtype, 0.0, 1.0, generator, "rand"), requires_grad)


def randn(*size, generator=None, dtype=None, requires_grad=False, device=None) -> Tensor:
    return _done(normal_tensor(size_arg(size, "randn"), dtype, 0.0, 1.0, generator, "randn"), requires_grad)


def rand_like(input, *, dtype=None, requires_grad=False) -> Tensor:
    return rand(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, requires_grad=False) -> Tensor:
    return randn(input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint(low, high=None, size=None, *, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    if high is None or (size is None and isinstance(high, (tuple, list))):
        low, high, size = 0, low, high if size is None else size
    if low >= high:
        raise err(RuntimeError, f"randint: random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    value = _gen(generator).integers(low, high, size=size_arg((tuple(size),), "randint"))
    return Tensor._wrap(value.astype((dtype or dtypes.int64).np))


def randint_like(input, low=0, high=None, *, dtype=None) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype)


def randperm(n, *, generator=None, dtype=None, device=None) -> Tensor:
    return Tensor._wrap(_gen(generator).permutation(n).astype((dtype or dtypes.int64).np))


def normal(mean=0.0, std=1.0, size=None, *, generator=None, dtype=None, requires_grad=False) -> Tensor:
    """N(mean, std): scalar mean/std with a ``size``, or tensors broadcast against each other."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        m, s = (x if isinstance(x, Tensor) else Tensor._wrap(np.float32(x)) for x in (mean, std))
        m, s = broadcast_tensors(m, s)
        base = normal_tensor(m.shape, m.dtype, 0.0, 1.0, generator)
        return ew.add(m, ew.mul(base, s))
    return _done(normal_tensor(shape_arg((size,)) if size is not None else (), dtype, mean, std, generator),
                 requires_grad)


def bernoulli(input, p=None, *, generator=None) -> Tensor:
    probs = input if p is None else p
    draw = uniform_tensor(input.shape, input.dtype, 0.0, 1.0, generator)
    return ew.lt(draw, probs).to(input.dtype)


def multinomial(input, num_samples, replacement=False, *, generator=None) -> Tensor:
    probs = np.asarray(input._value, dtype=np.float64)
    rows = probs.reshape(-1, probs.shape[-1])
    out = [_gen(generator).choice(rows.shape[1], size=num_samples, replace=replacement, p=r / r.sum()) for r in rows]
    return Tensor._wrap(np.asarray(out, dtype=np.int64).reshape(probs.shape[:-1] + (num_samples,)))
