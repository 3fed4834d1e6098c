"""``Tensor``: a NumPy value plus, when autograd or a trace needs it, the graph node behind it.

The class holds state and the Python protocol; the math lives in ``tracer/ops`` and
``tracer/methods.py`` binds it onto the class, one name per torch method.
"""
from __future__ import annotations

import builtins
import copy
import re
import warnings

import numpy as np

from ir import dtypes
from ir.types import TensorType
from tracer.core import tensor_state, tracing
from tracer.core.errors import err
from tracer.core.formatting import tensor_repr
from tracer.core.size import Size, from_user, note_read, shape_of


#: The device types torch's parser knows, in the order its error message lists them.
DEVICE_TYPES = ("cpu", "cuda", "ipu", "xpu", "mkldnn", "opengl", "opencl", "ideep", "hip", "ve", "fpga", "maia",
                "xla", "lazy", "vulkan", "mps", "meta", "hpu", "mtia", "privateuseone")
NO_CUDA = "Torch not compiled with CUDA enabled"


class device:
    """Where a tensor lives, as ``torch.device``: ``device("cpu")``, ``device("cuda:1")``,
    ``device("cuda", 1)``, ``device(other_device)``.

    Any device torch knows can be named (a script builds ``device("cuda" if ... else "cpu")``
    before it asks), but tracegrad computes on the CPU only: placing a tensor or module on any
    other device raises what CPU-only torch raises (see ``require_cpu``).
    """

    __slots__ = ("_type", "_index")

    def __init__(self, type, index=None):  # noqa: A002  (torch's argument names)
        if isinstance(type, device) and index is None:
            self._type, self._index = type._type, type._index
            return
        if isinstance(type, int) and not isinstance(type, bool) and index is None:
            raise err(RuntimeError, "Cannot access accelerator device when none is available.")
        if not isinstance(type, str):
            raise _bad_device_args(type, index)
        kind, parsed = _parse_device(type)
        if index is not None:
            if parsed is not None:
                raise err(RuntimeError, "type (string) must not include an index because index was passed "
                          f"explicitly: {type}")
            parsed = _device_index(index)
        self._type, self._index = kind, parsed

    @property
    def type(self) -> str:
        return self._type

    @property
    def index(self):
        return self._index

    def __repr__(self) -> str:
        if self._index is None:
            return f"device(type='{self._type}')"
        return f"device(type='{self._type}', index={self._index})"

    def __str__(self) -> str:
        return self._type if self._index is None else f"{self._type}:{self._index}"

    def __eq__(self, other) -> bool:
        """Devices equal devices only (``device("cpu") == "cpu"`` is False, as in torch)."""
        if not isinstance(other, device):
            return NotImplemented
        return (self._type, self._index) == (other._type, other._index)

    def __hash__(self) -> int:
        return hash((self._type, self._index))

    def __reduce__(self):
        return (device, (str(self),))

    def __enter__(self):
        """``with device("cpu"):`` is accepted; another device raises at once (torch raises at
        the first tensor made inside)."""
        require_cpu(self)
        return self

    def __exit__(self, *exc) -> bool:
        return False


def _bad_device_args(type, index) -> TypeError:  # noqa: A002
    """torch's messages: a lone argument matched neither signature; with an index, the type must
    have been a string."""
    if index is not None:
        name = "torch.device" if isinstance(type, device) else builtins.type(type).__name__
        return err(TypeError, f"device(): argument 'type' (position 1) must be str, not {name}")
    name = builtins.type(type).__name__
    return err(TypeError, f"device() received an invalid combination of arguments - got ({name}), but expected one "
               f"of:\n * (torch.device device)\n      didn't match because some of the arguments have invalid types: "
               f"(!{name}!)\n * (str type, int index = -1)\n")


def _parse_device(text: str):
    """``"cuda:1"`` -> ``("cuda", 1)`` with torch's errors for anything else."""
    if not text:
        raise err(RuntimeError, "Device string must not be empty")
    found = _DEVICE_STRING.fullmatch(text)
    if found is None:
        raise err(RuntimeError, f"Invalid device string: '{text}'")
    kind, index = found.groups()
    if kind not in DEVICE_TYPES:
        raise err(RuntimeError, f"Expected one of {', '.join(DEVICE_TYPES)} device type at start of device "
                  f"string: {kind}")
    return kind, None if index is None else int(index)


#: torch's grammar: a type of ASCII letters and underscores, then optionally ``:`` and an
#: index without sign or leading zeros.
_DEVICE_STRING = re.compile(r"([a-zA-Z_]+)(?::([1-9][0-9]*|0))?")


def _device_index(index) -> int:
    if isinstance(index, bool) or not isinstance(index, int):
        raise err(TypeError, f"device(): argument 'index' (position 2) must be int, not {type(index).__name__}")
    if index < 0:
        raise err(RuntimeError, "Device index must not be negative")
    return index


CPU = device("cpu")


def as_device(where) -> device:
    """A ``device=``/``.to()`` argument (a device, ``"cuda:0"`` or an index) as a device."""
    return where if isinstance(where, device) else device(where)


def require_cpu(where) -> device:
    """``where`` as a device, when it is the CPU; otherwise what CPU-only torch raises there:
    ``AssertionError`` for CUDA and XPU (torch's lazy init asserts), ``RuntimeError`` for the
    rest."""
    d = as_device(where)
    if d.type == "cpu":
        return d
    if d.type in ("cuda", "xpu"):
        raise err(AssertionError, NO_CUDA if d.type == "cuda" else "Torch not compiled with XPU enabled")
    raise err(RuntimeError, f"PyTorch is not linked with support for {d.type} devices")


class GradFn:
    """What ``tensor.grad_fn`` shows for a recorded result (its op), as torch's node objects do."""

    def __init__(self, node):
        self.node = node

    def name(self) -> str:
        call = getattr(self.node.attrs, "call", None)  # an autograd.Function's output: its class name
        return f"{call.name}Backward" if call is not None else f"{self.node.op.name.capitalize()}Backward0"

    def __repr__(self) -> str:
        return f"<{self.name()}>"


class Tensor:
    """A multi-dimensional array with autograd, as ``torch.Tensor``.

    ``tracer.Tensor(2, 3)`` makes an uninitialised float32 tensor of that shape and
    ``tracer.Tensor([1, 2])`` a float32 tensor of that data, as torch's legacy constructor does.
    Prefer ``tracer.tensor(data)``.
    """

    __slots__ = ("_value", "_type", "_own_node", "_requires_grad", "_grad", "_vc", "_retains_grad", "_born",
                 "_const_node", "__weakref__", "__dict__")

    def __init__(self, *args):
        if len(args) == 1 and not isinstance(args[0], int):
            value = np.array(args[0], dtype=np.float32)
        elif all(isinstance(a, int) for a in args):
            value = np.zeros(args, dtype=np.float32)
        else:
            raise TypeError(f"Tensor(): expected a shape of ints or one sequence of data, got {args!r}")
        self._init(value, TensorType(value.shape, dtypes.float32))

    def _init(self, value, type_) -> None:
        self._fill(value, type_, _trace_id())

    def _fill(self, value, type_, born) -> None:
        self._value = value
        self._type = type_
        self._own_node = None
        self._requires_grad = False
        self._grad = None
        self._vc = [0]
        self._retains_grad = False
        self._born = born  # which trace (if any) created it: such tensors are constants there
        self._const_node = None  # the constant node standing for it in eager graphs (dispatch.eager_node)

    @classmethod
    def _make(cls, value: np.ndarray, type_: TensorType) -> "Tensor":
        t = object.__new__(cls)
        t._init(value, type_)
        return t

    @classmethod
    def _make_eager(cls, value: np.ndarray, type_: TensorType) -> "Tensor":
        """``_make`` for a result computed outside any trace (dispatch's eager path)."""
        t = object.__new__(cls)
        t._fill(value, type_, None)
        return t

    @staticmethod
    def _wrap(value: np.ndarray) -> "Tensor":
        value = np.asarray(value)
        return Tensor._make(value, TensorType(value.shape, dtypes.from_numpy(value.dtype)))

    @property
    def _node(self):
        """The recorded node holding this tensor's value, as the running thread sees it.

        A tensor keeps its own node (``_own_node``) in the eager graph or in the trace that
        made it. Inside a trace, a tensor made outside it (a parameter, optimizer state, an
        earlier result) is bound to its trace node by the trace itself, never on the tensor:
        another thread training the same model eagerly keeps seeing its own graph."""
        state = tracing._TRACE.get()
        if state is None or self._born == state.id:
            return self._own_node
        return state.node_for(self)

    @_node.setter
    def _node(self, node) -> None:
        state = tracing._TRACE.get()
        if state is None or self._born == state.id:
            self._own_node = node
        else:
            state.bind(self, node)

    # -- metadata ---------------------------------------------------------------------
    @property
    def shape(self) -> Size:
        return shape_of(self)

    def size(self, dim: int | None = None):
        if dim is None:
            return shape_of(self)
        axis = self._dim(dim)
        if tracing.current() is not None and from_user(1):
            note_read(self, [axis], f"size({dim})")
        return self._type.shape[axis]

    def _dim(self, dim: int) -> int:
        rank = max(self._type.rank, 1)
        if not -rank <= dim < rank:
            raise err(IndexError, f"Dimension out of range (expected to be in range of [{-rank}, {rank - 1}], but got {dim})")
        return dim % rank

    @property
    def dtype(self):
        return self._type.dtype

    @property
    def device(self) -> device:
        """Always the CPU: tracegrad computes on NumPy."""
        return CPU

    @property
    def is_cuda(self) -> bool:
        return False

    @property
    def is_cpu(self) -> bool:
        return True

    @property
    def ndim(self) -> int:
        return self._type.rank

    def dim(self) -> int:
        return self._type.rank

    def ndimension(self) -> int:
        return self._type.rank

    def numel(self) -> int:
        if tracing.current() is not None and from_user(1):
            note_read(self, range(self._type.rank), "numel()")
        return self._type.numel

    def nelement(self) -> int:
        return self._type.numel

    def element_size(self) -> int:
        return self._type.dtype.itemsize

    def is_floating_point(self) -> bool:
        return self._type.dtype.is_floating_point

    def __len__(self) -> int:
        if not self._type.shape:
            raise TypeError("len() of a 0-d tensor")
        if tracing.current() is not None and from_user(1):
            note_read(self, [0], "len()")
        return self._type.shape[0]

    def __iter__(self):
        if not self._type.shape:
            raise TypeError("iteration over a 0-d tensor")
        if tracing.current() is not None and from_user(1):
            note_read(self, [0], "iteration over a tensor")
        return (self[i] for i in range(self._type.shape[0]))

    def __hash__(self) -> int:
        return id(self)

    # -- autograd state ---------------------------------------------------------------
    @property
    def requires_grad(self) -> bool:
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> "Tensor":
        if not self.is_leaf:
            raise err(RuntimeError, "you can only change requires_grad flags of leaf variables. If you want to "
                      "use a computed variable in a subgraph that doesn't require differentiation use "
                      "var_no_grad = var.detach().")
        if requires_grad and not self.dtype.is_floating_point:
            raise err(RuntimeError, "only Tensors of floating point dtype can require gradients "
                      f"(got {self.dtype.name})")
        tensor_state.set_requires_grad(self, bool(requires_grad))
        return self

    def retain_grad(self) -> None:
        """Keep ``.grad`` for a non-leaf tensor after backward (a no-op on leaves)."""
        if not self._requires_grad:
            raise err(RuntimeError, "can't retain_grad on Tensor that has requires_grad=False")
        if not self.is_leaf:
            self._retains_grad = True
            self._node.meta.retain = self

    @property
    def retains_grad(self) -> bool:
        return self._retains_grad

    @property
    def is_leaf(self) -> bool:
        node = self._node
        return node is None or not self._requires_grad or node.meta is None or node.meta.leaf is self

    @property
    def grad_fn(self):
        return None if self.is_leaf else GradFn(self._node)

    @property
    def grad(self):
        if not self.is_leaf and not self._retains_grad:
            warnings.warn("The .grad attribute of a Tensor that is not a leaf Tensor is being accessed. "
                          "Its .grad attribute won't be populated during autograd.backward(). If you indeed "
                          "want the .grad field to be populated for a non-leaf Tensor, use .retain_grad() "
                          "on the non-leaf Tensor.", UserWarning, stacklevel=2)
        return self._grad

    @grad.setter
    def grad(self, value) -> None:
        if value is not None and (value.shape != self.shape or value.dtype != self.dtype):
            raise err(RuntimeError, f"assigned grad has data of a different size or type "
                      f"({value.dtype.name}{list(value.shape)} vs {self.dtype.name}{list(self.shape)})")
        self._grad = value

    @property
    def _version(self) -> int:
        return self._vc[0]

    # -- conversions ------------------------------------------------------------------
    def numpy(self, *, force: bool = False) -> np.ndarray:
        if self._requires_grad and not force:
            raise err(RuntimeError, "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")
        _specialise("numpy()")  # in a trace the array is the value seen while tracing
        return tensor_state.share(self)._value  # the caller's array sees later in-place changes, as torch's

    def __array__(self, dtype=None, copy=None):
        _specialise("converting a tensor to a NumPy array")
        if dtype is not None:
            return self._value.astype(dtype)
        return tensor_state.share(self)._value

    def item(self):
        if self._type.numel != 1:
            raise err(RuntimeError, f"a Tensor with {self._type.numel} elements cannot be converted to Scalar")
        _specialise("item()")
        return self._value.reshape(()).item()

    def tolist(self):
        _specialise("tolist()")
        return self._value.tolist()

    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if self.dtype.is_floating_point:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.item())

    def __bool__(self) -> bool:
        if self._type.numel != 1:
            raise err(RuntimeError, "Boolean value of Tensor with more than one value is ambiguous")
        return bool(self.item())

    def __format__(self, spec: str) -> str:
        if self._type.rank == 0 and spec:
            return format(self.item(), spec)
        return format(repr(self), spec)

    def __repr__(self) -> str:
        return tensor_repr(self)

    __str__ = __repr__

    def __reduce_ex__(self, protocol):
        raise TypeError("tracegrad tensors are not picklable; use tracer.save, which writes a safe .npz")

    def __deepcopy__(self, memo) -> "Tensor":
        """``copy.deepcopy`` (a model kept as the best so far, an optimizer's twin), as torch:
        leaves only; the value, ``requires_grad``, ``.grad`` and the subclass (Parameter) are
        copied. Pickling stays refused: deepcopy never leaves the process."""
        if not self.is_leaf:
            raise err(RuntimeError, "Only Tensors created explicitly by the user (graph leaves) support the "
                      "deepcopy protocol at the moment. If you were attempting to deepcopy a module, this may "
                      "be because of a torch.nn.utils.weight_norm usage, see "
                      "https://github.com/pytorch/pytorch/pull/103001")
        if id(self) in memo:
            return memo[id(self)]
        new = object.__new__(type(self))
        new._init(self._value.copy(), self._type)
        new._requires_grad = self._requires_grad
        memo[id(self)] = new
        for key, value in self.__dict__.items():  # e.g. Buffer.persistent
            if key not in tensor_state.STORAGE_KEYS:  # the copy owns a fresh array
                new.__dict__[key] = copy.deepcopy(value, memo)
        if self._grad is not None:
            new._grad = copy.deepcopy(self._grad, memo)
        return new


def _trace_id():
    state = tracing._TRACE.get()
    return None if state is None else state.id


def _specialise(what: str) -> None:
    """Reading a value into Python during a trace fixes the trace to that value."""
    state = tracing.current()
    if state is not None:
        state.on_python_value(what)

