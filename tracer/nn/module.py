"""``nn.Module``: parameters, buffers and submodules registered by attribute assignment."""
from __future__ import annotations

import difflib
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from ir import dtypes
from tracer.core import tensor_state
from tracer.core.watch import Watchers, WatchedOrderedDict
from tracer.core.errors import err
from tracer.nn.parameter import Buffer, Parameter
from tracer.core.tensor import NO_CUDA, Size, Tensor, as_device, require_cpu
from tracer.ops.conversion import to_args


class Module:
    """Base class of layers and models, as ``torch.nn.Module``."""

    training: bool

    def __init__(self, *args, **kwargs):
        watchers = Watchers()  # compiled functions guard on training modes and parameter identities
        object.__setattr__(self, "_watchers", watchers)
        object.__setattr__(self, "_parameters", WatchedOrderedDict(watchers))
        object.__setattr__(self, "_buffers", WatchedOrderedDict(watchers))
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", WatchedOrderedDict(watchers))
        object.__setattr__(self, "training", True)

    # -- registration ---------------------------------------------------------------
    def __setattr__(self, name, value):
        d = self.__dict__
        if "_parameters" not in d:
            raise AttributeError("cannot assign to a Module attribute before Module.__init__() call")
        d["_watchers"].changed()
        params, buffers, modules = d["_parameters"], d["_buffers"], d["_modules"]
        if isinstance(value, Parameter):
            self._forget(name)
            params[name] = value
        elif name in params:
            self._only_none(name, value, "parameter", "tracer.nn.Parameter")
            params[name] = None
        elif isinstance(value, Module):
            self._forget(name)
            modules[name] = value
        elif name in modules:
            self._only_none(name, value, "child module", "tracer.nn.Module")
            modules[name] = None
        elif isinstance(value, Buffer):
            self._forget(name)
            self.register_buffer(name, value, value.persistent)
        elif name in buffers:
            if value is not None and not isinstance(value, Tensor):
                self._only_none(name, value, "buffer", "tracer.Tensor")
            buffers[name] = value
        else:
            object.__setattr__(self, name, value)

    def _forget(self, name: str) -> None:
        for store in ("_parameters", "_buffers", "_modules"):
            self.__dict__[store].pop(name, None)
        self.__dict__.pop(name, None)

    @staticmethod
    def _only_none(name, value, what, expected):
        if value is not None:
            raise err(TypeError, f"cannot assign '{type(value).__name__}' as {what} '{name}' ({expected} or None expected)")

    def __getattr__(self, name):
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if store in d and name in d[store]:
                return d[store][name]
        raise err(AttributeError, f"'{type(self).__name__}' object has no attribute '{name}'{self._did_you_mean(name)}")

    def _did_you_mean(self, name: str) -> str:
        """A close registered or plain attribute name, for a typo's message."""
        d = self.__dict__
        known = [k for store in ("_parameters", "_buffers", "_modules") for k in d.get(store, ())]
        known += [k for k in d if not k.startswith("_")] + [k for k in dir(type(self)) if not k.startswith("_")]
        close = difflib.get_close_matches(name, known, n=1)
        return f" (did you mean '{close[0]}'?)" if close else ""

    def __delattr__(self, name):
        self.__dict__["_watchers"].changed()
        for store in ("_parameters", "_buffers", "_modules"):
            if name in self.__dict__.get(store, {}):
                del self.__dict__[store][name]
                return
        object.__delattr__(self, name)

    def register_parameter(self, name: str, param) -> None:
        _check_name(name, "parameter")
        if param is not None and not isinstance(param, Parameter):
            raise err(TypeError, f"cannot assign '{type(param).__name__}' object to parameter '{name}' "
                      "(tracer.nn.Parameter or None required)")
        self._parameters[name] = param

    def register_buffer(self, name: str, tensor, persistent: bool = True) -> None:
        _check_name(name, "buffer")
        if tensor is not None and not isinstance(tensor, Tensor):
            raise err(TypeError, f"cannot assign '{type(tensor).__name__}' object to buffer '{name}' "
                      "(tracer.Tensor or None required)")
        self._buffers[name] = tensor
        if not persistent:
            self._non_persistent.add(name)

    def register_module(self, name: str, module) -> None:
        _check_name(name, "module")
        self._modules[name] = module

    add_module = register_module

    # -- traversal ------------------------------------------------------------------
    def get_submodule(self, target: str) -> "Module":
        """The submodule at a dotted path ("encoder.0"), as torch's; an empty path is ``self``."""
        mod = self
        for item in target.split(".") if target else ():
            child = mod.__dict__["_modules"].get(item)
            if child is None:
                raise err(AttributeError, f"{type(mod).__name__} has no attribute `{item}` (looking up "
                          f"'{target}'; submodules: {list(mod._modules)})")
            mod = child
        return mod

    def get_parameter(self, target: str):
        """The parameter at a dotted path ("0.weight"), as torch's."""
        path, _, name = target.rpartition(".")
        mod = self.get_submodule(path)
        if name not in mod._parameters:
            raise err(AttributeError, f"{type(mod).__name__} has no parameter `{name}` (looking up '{target}')")
        return mod._parameters[name]

    def named_modules(self, memo=None, prefix: str = "", remove_duplicate: bool = True):
        memo = set() if memo is None else memo
        if self in memo and remove_duplicate:
            return
        memo.add(self)
        yield prefix, self
        for name, module in self._modules.items():
            if module is not None:
                yield from module.named_modules(memo, f"{prefix}.{name}" if prefix else name, remove_duplicate)

    def modules(self):
        for _, m in self.named_modules():
            yield m

    def named_children(self):
        for name, m in self._modules.items():
            if m is not None:
                yield name, m

    def children(self):
        for _, m in self.named_children():
            yield m

    def _named(self, store: str, prefix: str, recurse: bool):
        seen = set()
        modules = self.named_modules(prefix=prefix) if recurse else [(prefix, self)]
        for mod_prefix, module in modules:
            for name, value in getattr(module, store).items():
                if value is None or id(value) in seen:
                    continue
                seen.add(id(value))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), value

    def named_parameters(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named("_parameters", prefix, recurse)

    def parameters(self, recurse: bool = True):
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True, remove_duplicate: bool = True):
        yield from self._named("_buffers", prefix, recurse)

    def buffers(self, recurse: bool = True):
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # -- state ----------------------------------------------------------------------
    def state_dict(self, destination=None, prefix: str = "", keep_vars: bool = False):
        out = OrderedDict() if destination is None else destination
        for name, p in self._parameters.items():
            if p is not None:
                out[prefix + name] = p if keep_vars else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent:
                out[prefix + name] = b if keep_vars else b.detach()
        for name, m in self._modules.items():
            if m is not None:
                m.state_dict(out, prefix + name + ".", keep_vars)
        return out

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):
        """Copy values in; with ``strict``, key mismatches raise torch's error (nothing is changed)."""
        if not isinstance(state_dict, Mapping):
            raise err(TypeError, f"{type(self).__name__}.load_state_dict: Expected state_dict to be dict-like, got "
                      f"{type(state_dict)}.")
        own = self.state_dict(keep_vars=True)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        problems = []
        if strict and missing:
            problems.append("Missing key(s) in state_dict: " + ", ".join(f'"{k}"' for k in missing) + ". ")
        if strict and unexpected:
            problems.append("Unexpected key(s) in state_dict: " + ", ".join(f'"{k}"' for k in unexpected) + ". ")
        arrays = {}
        for k, target in own.items():
            if k not in state_dict:
                continue
            arrays[k] = _checkpoint_array(state_dict[k])
            if arrays[k] is None:
                kind = "parameter" if isinstance(target, Parameter) else "buffer"
                problems.append(f'While copying the {kind} named "{k}", expected torch.Tensor or Tensor-like object '
                                f"from checkpoint but received {type(state_dict[k])}")
            elif arrays[k].shape != tuple(target.shape):
                problems.append(f"size mismatch for {k}: copying a param with shape {Size(arrays[k].shape)} from "
                                f"checkpoint, the shape in current model is {target.shape}.")
        if problems:
            raise err(RuntimeError, f"Error(s) in loading state_dict for {type(self).__name__}:\n\t"
                      + "\n\t".join(problems))
        for k, value in arrays.items():
            target = own[k]
            if not assign:
                tensor_state.write(target, value.astype(target.dtype.np, copy=True))
                continue
            owner, _, name = k.rpartition(".")
            module = self.get_submodule(owner)
            if isinstance(target, Parameter):  # assign keeps the module's requires_grad, takes the dtype
                module._parameters[name] = Parameter(Tensor._wrap(np.array(value)), target.requires_grad)
            else:
                module._buffers[name] = Tensor._wrap(np.array(value))
            module._watchers.changed()
        return _IncompatibleKeys(missing, unexpected)

    # -- modes ----------------------------------------------------------------------
    def train(self, mode: bool = True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
            m._watchers.changed()
        return self

    def eval(self):
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True):
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if p._grad is None:
                continue
            if set_to_none:
                p.grad = None
            else:
                p._grad.detach_().zero_()

    def apply(self, fn):
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def to(self, *args, **kwargs):
        """``to(device, dtype)``, ``to(dtype)`` or ``to(tensor)``, in place, returning ``self``
        as torch: a dtype converts the floating-point parameters and buffers; the CPU is accepted
        and another device raises as CPU-only torch (before anything is converted).

        Raises:
            TypeError: for a dtype that is not floating point, as torch.
        """
        where, dtype, _non_blocking, _copy = to_args(args, kwargs)
        if dtype is not None and not dtype.is_floating_point:
            raise err(TypeError, f"nn.Module.to only accepts floating point or complex dtypes, but got desired "
                      f"dtype={dtype}")
        if where is not None:
            require_cpu(where)
        if dtype is not None:
            for p in list(self.parameters()) + list(self.buffers()):
                if p.dtype.is_floating_point:
                    tensor_state.set_data(p, p._value.astype(dtype.np))
        return self

    def float(self):
        return self.to(dtypes.float32)

    def double(self):
        return self.to(dtypes.float64)

    def cpu(self):
        return self

    def cuda(self, device=None):
        """Raises as CPU-only torch: ``AssertionError("Torch not compiled with CUDA enabled")``, or
        for an index the ``RuntimeError`` of ``device(index)``."""
        if isinstance(device, int) and not isinstance(device, bool):
            as_device(device)
        raise err(AssertionError, NO_CUDA)

    # -- calling and printing -------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f'Module [{type(self).__name__}] is missing the required "forward" function')

    def __call__(self, *args, **kwargs):
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = []
        extra = self.extra_repr()
        if extra:
            lines = extra.split("\n")
        for name, m in self._modules.items():
            sub = repr(m).replace("\n", "\n  ")
            lines.append(f"({name}): {sub}")
        main = type(self).__name__ + "("
        if lines:
            if len(lines) == 1 and not self._modules:
                main += lines[0]
            else:
                main += "\n  " + "\n  ".join(lines) + "\n"
        return main + ")"

    def __dir__(self):
        return list(super().__dir__()) + list(self._parameters) + list(self._modules) + list(self._buffers)


class _IncompatibleKeys(tuple):
    def __new__(cls, missing, unexpected):
        t = super().__new__(cls, (missing, unexpected))
        t.missing_keys, t.unexpected_keys = missing, unexpected
        return t

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return f"_IncompatibleKeys(missing_keys={self.missing_keys}, unexpected_keys={self.unexpected_keys})"


def _check_name(name, what: str) -> None:
    """torch's rules for a registered name: a non-empty string without a dot."""
    if not isinstance(name, str):
        raise err(TypeError, f"{what} name should be a string. Got {type(name).__name__}")
    if "." in name:
        raise err(KeyError, f'{what} name can\'t contain ".", got "{name}"')
    if name == "":
        raise err(KeyError, f'{what} name can\'t be empty string ""')


def _checkpoint_array(src):
    """A checkpoint entry's values as an array: a tensor (ours or real torch's, read through its
    ``numpy()`` without importing torch) or a NumPy array; None for anything else."""
    if isinstance(src, Tensor):
        return src._value
    if isinstance(src, np.ndarray):
        return src
    if type(src).__module__.startswith("torch") and hasattr(src, "detach"):
        return src.detach().cpu().numpy()
    return None
