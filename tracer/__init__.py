"""tracegrad's PyTorch-style front end: ``import tracer as torch``.

Every op runs eagerly on NumPy and, when autograd or a trace needs it, is recorded as a node of
an ``ir.Graph``; ``backward()`` is a graph pass; ``trace`` and ``compile`` hand the graph to the
NumPy interpreter or onnxruntime.
"""
import math as _math

from ir.dtypes import bool_ as bool  # noqa: A001
from ir.dtypes import float16, float32, float64, int8, int16, int32, int64, uint8  # noqa: F401
from tracer import autograd  # noqa: F401  (gives Tensor its backward method)
from tracer.ops import methods  # noqa: F401  (binds the torch methods onto Tensor)
from tracer import nn, optim, utils  # noqa: F401
from tracer import accelerator, amp, backends, cuda  # noqa: F401
from tracer.core import formatting as _formatting
from tracer.core.grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled  # noqa: F401
from tracer.ops.conversion import detach, clone  # noqa: F401
from tracer.ops.creation import (arange, as_tensor, empty, empty_like, eye, from_numpy, full, full_like,  # noqa: F401
                                 linspace, logspace, ones, ones_like, tensor, zeros, zeros_like)
from tracer.ops.elementwise import *  # noqa: F401,F403
from tracer.ops.elementwise import abs, pow, round  # noqa: F401,A004
from tracer.ops.elementwise import public_sub as sub  # noqa: F401  torch.sub refuses bool operands
from tracer.ops.indexing import (argwhere, gather, index_add, index_select, masked_select, nonzero,  # noqa: F401
                                 scatter_add, where)
from tracer.ops.sequence import cumprod, cumsum, flip, roll, tril, triu  # noqa: F401
from tracer.ops.statistics import (corrcoef, cov, cummax, cummin, logcumsumexp, median, mode, nanmean,  # noqa: F401
                                     nanmedian, nanquantile, nansum, quantile)
from tracer.ops.counting import bincount, histc, isin, searchsorted, unique, unique_consecutive  # noqa: F401
from tracer.ops.sorting import argsort, msort, sort, topk  # noqa: F401
from tracer.ops.trigonometry import *  # noqa: F401,F403
from tracer.ops.grids import meshgrid  # noqa: F401
from tracer.ops.legacy import (BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor,  # noqa: F401
                               HalfTensor, IntTensor, LongTensor, ShortTensor)
from tracer.ops.contraction import (block_diag, cartesian_prod, cdist, cross, einsum, inner, kron,  # noqa: F401
                                     tensordot)
from tracer.ops.diagonal import (diag, diag_embed, diagonal, diff, rot90, take_along_dim, tensor_split,  # noqa: F401
                                 tril_indices, triu_indices)
from tracer.ops.linalg import addmm, bmm, dot, matmul, mm, mv, outer  # noqa: F401
from tracer.ops.reduce import (all, bucketize, amax, amin, any, argmax, argmin, count_nonzero, logsumexp, max, mean,  # noqa: F401,A004
                               min, norm, prod, softmax, log_softmax, std, std_mean, sum, var, var_mean)
from tracer.ops.shape import (broadcast_tensors, broadcast_to, cat, chunk, concat, concatenate, expand,  # noqa: F401
                              flatten, hstack, movedim, narrow, permute, repeat, reshape, split, squeeze, stack,
                              swapaxes, swapdims, t, transpose, unbind, unflatten, unsqueeze, vstack)
from tracer.core.promotion import promote_types, result_type  # noqa: F401
from tracer.ops.scatter import scatter, scatter_reduce  # noqa: F401
from tracer.ops.index_writes import (index_copy, index_fill, index_put, index_reduce, masked_scatter, put,  # noqa: F401
                                     take)
from tracer.ops.slicing import (diagonal_scatter, dsplit, fliplr, flipud, hsplit, ravel, repeat_interleave,  # noqa: F401
                                select, select_scatter, slice_scatter, split_with_sizes, tile,
                                unsafe_split_with_sizes, vsplit)
from tracer.ops.aliases import (aminmax, divide, is_floating_point, is_nonzero, is_same_size, is_signed,  # noqa: F401
                                kthvalue, moveaxis, multiply, positive, rsub, subtract, unsafe_chunk, unsafe_split)
from tracer.serialization import LoadError, load, save  # noqa: F401
from tracer.ops.random import (Generator, bernoulli, default_generator, get_rng_state, initial_seed,  # noqa: F401
                           manual_seed, multinomial, normal, rand, rand_like, randint, randint_like, randn,
                           randn_like, randperm, seed, set_rng_state)
from tracer.core.tensor import Size, Tensor, device  # noqa: F401
from tracer.amp import autocast, is_autocast_enabled  # noqa: F401
from tracer.alias import alias_torch  # noqa: F401
from tracer.backends.flags import (are_deterministic_algorithms_enabled, get_float32_matmul_precision,  # noqa: F401
                                   get_num_threads, is_deterministic_algorithms_warn_only_enabled,
                                   set_float32_matmul_precision, set_num_threads, use_deterministic_algorithms)
from tracer.jit import compile, trace  # noqa: F401,A004
from tracer import onnx  # noqa: F401  (torch.onnx: export and load)
from tracer.core.tracing import TracerWarning, TraceValueError  # noqa: F401

inf, nan, pi, e = _math.inf, _math.nan, _math.pi, _math.e  # torch.inf, torch.nan, torch.pi, torch.e
newaxis = None
float = float32  # noqa: A001
double = float64
long = int64
int = int32  # noqa: A001
half = float16
short = int16
from tracer.core.unsupported_dtype import bfloat16  # noqa: E402,F401  (named, not storable)
dtype = type(float32)
__version__ = "0.1.0"


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def numel(input) -> int:
    return input.numel()


def get_default_dtype():
    return float32


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, profile=None, sci_mode=None):
    """torch.set_printoptions: ``profile`` ('default', 'short', 'full') first, then the options
    given; ``sci_mode`` True/False forces scientific notation on or off, None (the default)
    lets the values decide, as torch."""
    profiles = {"default": (4, 1000, 3, 80), "short": (2, 1000, 2, 80), "full": (4, 2 ** 63 - 1, 3, 80)}
    if profile in profiles:  # torch leaves the options as they are for any other profile name
        for name, value in zip(("PRECISION", "THRESHOLD", "EDGEITEMS", "LINEWIDTH"), profiles[profile]):
            setattr(_formatting, name, value)
    for name, value in (("PRECISION", precision), ("THRESHOLD", threshold), ("EDGEITEMS", edgeitems),
                        ("LINEWIDTH", linewidth)):
        if value is not None:
            setattr(_formatting, name, value)
    _formatting.SCI_MODE = sci_mode


#: ``from tracer import *``: the torch-level names, not the module imported for its side effect,
#: and not ``backends`` (torch.backends' flags), which would hide the project's own ``backends``.
__all__ = [_name for _name in dir() if not _name.startswith("_") and _name not in ("methods", "backends")]
