"""Containers: Sequential, ModuleList, ModuleDict, ParameterList, ParameterDict."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping

from tracer.core.errors import err
from tracer.core.tensor import Tensor
from tracer.nn.module import Module
from tracer.nn.parameter import Parameter


class _Numbered(Module):
    """Children in order, named "0", "1", ...: what Sequential and ModuleList share."""

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return self._from_items(list(self._modules.items())[idx])
        keys = list(self._modules)
        if not -len(keys) <= idx < len(keys):
            raise err(IndexError, f"index {idx} is out of range ({type(self).__name__} of {len(keys)} modules)")
        return self._modules[keys[idx]]

    def __setitem__(self, idx, module) -> None:
        self._modules[list(self._modules)[idx]] = module

    def __delitem__(self, idx) -> None:
        keys = list(self._modules)
        for k in (keys[idx] if isinstance(idx, slice) else [keys[idx]]):
            del self._modules[k]
        self._renumber(list(self._modules.values()))

    def append(self, module):
        self.add_module(str(len(self)), module)
        return self

    def extend(self, modules):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module):
        items = list(self._modules.values())
        items.insert(index, module)
        self._renumber(items)
        return self

    def _renumber(self, modules) -> None:
        self._modules.clear()
        for i, m in enumerate(modules):
            self._modules[str(i)] = m


class Sequential(_Numbered):
    """Modules called in order; children are named "0", "1", ... (or by an OrderedDict's keys)."""

    def __init__(self, *args):
        super().__init__()
        if len(args) == 1 and isinstance(args[0], OrderedDict):
            for name, m in args[0].items():
                self.add_module(name, m)
        else:
            for i, m in enumerate(args):
                self.add_module(str(i), m)

    @staticmethod
    def _from_items(items):
        return Sequential(OrderedDict(items))

    def forward(self, input):
        for m in self._modules.values():
            input = m(input)
        return input


class ModuleList(_Numbered):
    """A list of modules, registered as "0", "1", ..."""

    def __init__(self, modules=None):
        super().__init__()
        for m in modules or ():
            self.append(m)

    @staticmethod
    def _from_items(items):
        return ModuleList([m for _, m in items])

    def __repr__(self) -> str:
        """torch's: a run of modules with the same repr prints once, as ``(0-5): 6 x Block(...)``."""
        if not len(self):
            return type(self).__name__ + "()"
        runs: list[list] = []  # [first, last, repr]
        for i, m in enumerate(self):
            text = repr(m)
            if runs and runs[-1][2] == text:
                runs[-1][1] = i
            else:
                runs.append([i, i, text])
        lines = [(f"({a}): {t}" if a == b else f"({a}-{b}): {b - a + 1} x {t}").replace("\n", "\n  ")
                 for a, b, t in runs]
        return type(self).__name__ + "(\n  " + "\n  ".join(lines) + "\n)"


class ModuleDict(Module):
    """A dict of modules, registered under their keys."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key):
        if key not in self._modules:
            raise err(KeyError, f"{key!r} (ModuleDict keys: {list(self._modules)})")
        return self._modules[key]

    def __setitem__(self, key, module) -> None:
        self.add_module(key, module)

    def __delitem__(self, key) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def keys(self):
        return self._modules.keys()

    def values(self):
        return self._modules.values()

    def items(self):
        return self._modules.items()

    def update(self, modules) -> None:
        items = modules.items() if hasattr(modules, "items") else modules
        for k, m in items:
            self[k] = m

    def pop(self, key):
        return self._modules.pop(key)


def _as_parameter(value):
    """Tensors stored in a ParameterList/Dict become Parameters, as torch; other objects stay."""
    return Parameter(value) if isinstance(value, Tensor) and not isinstance(value, Parameter) else value


def _describe(key, value, type_name) -> str:
    """One line of torch's ParameterList/Dict repr."""
    if not isinstance(value, Tensor):
        return f"  ({key}): Object of type: {type(value).__name__}"
    kind = "Parameter" if isinstance(value, Parameter) else "Tensor"
    size = "x".join(str(n) for n in value.shape)
    return f"  ({key}): {kind} containing: [{type_name(value)} of size {size}]"


class ParameterList(Module):
    """A list of parameters registered as "0", "1", ...; tensors are wrapped as Parameters and
    other objects are kept as plain attributes (torch's ParameterList)."""

    def __init__(self, values=None):
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self += values

    def _index(self, idx) -> str:
        idx = idx.__index__()
        if not -len(self) <= idx < len(self):
            raise err(IndexError, f"index {idx} is out of range")
        return str(idx % len(self))

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)([self[i] for i in range(*idx.indices(len(self)))])
        return getattr(self, self._index(idx))

    def __setitem__(self, idx, param) -> None:
        setattr(self, self._index(idx), _as_parameter(param))

    def __len__(self) -> int:
        return self._size

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def __iadd__(self, parameters):
        return self.extend(parameters)

    def append(self, value):
        object.__setattr__(self, "_size", self._size + 1)
        self[self._size - 1] = value
        return self

    def extend(self, values):
        if not isinstance(values, Iterable) or isinstance(values, Tensor):
            raise err(TypeError, "ParameterList.extend should be called with an iterable, but got "
                      + type(values).__name__)
        for value in values:
            self.append(value)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_describe(i, p, lambda t: str(t.dtype)) for i, p in enumerate(self))

    def __call__(self, *args, **kwargs):
        raise err(RuntimeError, "ParameterList should not be called.")


class ParameterDict(Module):
    """A dict of parameters registered under their (string) keys; tensors are wrapped as
    Parameters. As torch, a plain dict is inserted in sorted key order, an OrderedDict, a
    ParameterDict or a sequence of pairs in its own order."""

    def __init__(self, parameters=None):
        super().__init__()
        object.__setattr__(self, "_keys", {})
        if parameters is not None:
            self.update(parameters)

    @staticmethod
    def _attr(key) -> str:
        if not isinstance(key, str):
            raise err(TypeError, "Index given to ParameterDict cannot be used as a key as it is not a string "
                      f"(type is '{type(key).__name__}'). Open an issue on github if you need non-string keys.")
        return key

    def __getitem__(self, key):
        return getattr(self, self._attr(key))

    def __setitem__(self, key, value) -> None:
        attr = self._attr(key)  # checked first: torch records a bad key before refusing it
        self._keys[key] = None
        setattr(self, attr, _as_parameter(value))

    def __delitem__(self, key) -> None:
        del self._keys[key]
        delattr(self, self._attr(key))

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(self._keys)

    def __contains__(self, key) -> bool:
        return key in self._keys

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def values(self):
        return (self[k] for k in self._keys)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def pop(self, key):
        value = self[key]
        del self[key]
        return value

    def popitem(self):
        key = next(reversed(self._keys))
        return key, self.pop(key)

    def clear(self) -> None:
        for key in list(self._keys):
            del self[key]

    def copy(self) -> "ParameterDict":
        return ParameterDict(OrderedDict(self.items()))

    def fromkeys(self, keys, default=None) -> "ParameterDict":
        return ParameterDict([(k, default) for k in keys])

    def update(self, parameters) -> None:
        if not isinstance(parameters, Iterable):
            raise err(TypeError, "ParametersDict.update should be called with an iterable of key/value pairs, but "
                      "got " + type(parameters).__name__)
        if isinstance(parameters, (OrderedDict, ParameterDict)):
            pairs = list(parameters.items())
        elif isinstance(parameters, Mapping):
            pairs = sorted(parameters.items())
        else:
            pairs = [self._pair(j, p) for j, p in enumerate(parameters)]
        for key, value in pairs:
            self[key] = value

    @staticmethod
    def _pair(j: int, p):
        if not isinstance(p, Iterable):
            raise err(TypeError, f"ParameterDict update sequence element #{j} should be Iterable; is"
                      + type(p).__name__)
        if len(p) != 2:
            raise err(ValueError, f"ParameterDict update sequence element #{j} has length {len(p)}; 2 is required")
        return p[0], p[1]

    def __or__(self, other) -> "ParameterDict":
        out = self.copy()
        out.update(other)
        return out

    def __ror__(self, other) -> "ParameterDict":
        out = other.copy()
        out.update(self)
        return out

    def __ior__(self, other):
        self.update(other)
        return self

    def extra_repr(self) -> str:
        return "\n".join(_describe(k, p, lambda t: t.type()) for k, p in self.items())

    def __call__(self, *args, **kwargs):
        raise err(RuntimeError, "ParameterDict should not be called.")
