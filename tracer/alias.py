"""The ``torch`` alias: while it is installed, ``import torch`` and every ``torch.X.Y`` import
give tracer's modules — the same objects, so ``torch.nn is tracer.nn`` — and a torch module
tracer lacks raises ``ModuleNotFoundError`` saying that tracegrad does not support it.

``import tracer as torch`` renames one name in one file; the alias also covers the forms real
scripts use (``import torch.nn as nn``, ``from torch.utils.data import DataLoader``,
``import torch.backends.cudnn as cudnn``) and the modules a script imports from its folder.
It is a ``sys.meta_path`` finder installed for one run (``tracegrad run``) or by
``alias_torch()``; undoing it removes the finder and every ``torch`` entry it put in
``sys.modules``, and puts back a real torch that was imported before.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

#: torch modules whose contents tracer keeps in a module of another name (one module per job
#: where torch has several, or a different layout).
MOVED = {
    "torch.utils.data.dataloader": "tracer.utils.data",
    "torch.utils.data.dataset": "tracer.utils.data",
    "torch.utils.data.sampler": "tracer.utils.data",
    "torch.autograd.grad_mode": "tracer.core.grad_mode",
    "torch.nn.modules": "tracer.nn",
    "torch.nn.modules.module": "tracer.nn.module",
    "torch.nn.modules.activation": "tracer.nn.activation",
    "torch.nn.modules.container": "tracer.nn.containers",
    "torch.nn.modules.linear": "tracer.nn.layers",
    "torch.nn.modules.dropout": "tracer.nn.layers",
    "torch.nn.modules.flatten": "tracer.nn.layers",
    "torch.nn.modules.loss": "tracer.nn.loss",
    "torch.optim.adamw": "tracer.optim.adam",
    "torch.amp.autocast_mode": "tracer.amp",
    "torch.amp.grad_scaler": "tracer.amp",
}

#: torch packages whose tracer module is a plain module: they need a ``__path__`` while the
#: alias is on, or Python refuses to look for the torch submodules ``MOVED`` maps.
_PACKAGES = {name.rpartition(".")[0] for name in MOVED}


def tracer_name(torch_name: str) -> str:
    """The tracer module a torch module name stands for (``torch.nn`` -> ``tracer.nn``)."""
    return MOVED.get(torch_name) or "tracer" + torch_name[len("torch"):]


def is_torch_name(name: str) -> bool:
    return name == "torch" or name.startswith("torch.")


class TorchAlias:
    """An installed alias: ``undo()``, or the end of a ``with`` block, removes it.

    Aliases nest; undo the innermost first.
    """

    def __init__(self):
        self._finder = _TorchFinder(self)
        self._hidden = {name: mod for name, mod in sys.modules.items() if is_torch_name(name)}
        self._added: list[tuple[object, str]] = []  # attributes the alias and the imports set on tracer's modules
        for name in self._hidden:
            del sys.modules[name]
        for name, module in list(sys.modules.items()):  # reached as attributes: torch.autograd.Function
            if _is_public_tracer(name):
                self.name_missing_attributes(module, "torch" + name[len("tracer"):])
        sys.meta_path.insert(0, self._finder)

    def name_missing_attributes(self, module, torch_name: str) -> None:
        """Give ``module`` a PEP 562 ``__getattr__`` (until undone) whose error names the torch
        attribute tracer lacks, e.g. ``torch.autograd.Function``, not only tracer's module."""
        if "__getattr__" not in vars(module):
            self._note_new(module, "__getattr__")
            module.__getattr__ = _missing_attribute(torch_name)

    @property
    def active(self) -> bool:
        return self._finder in sys.meta_path

    def undo(self) -> None:
        """Remove the finder, the ``torch`` entries of ``sys.modules`` and what the imports set on
        tracer's modules; put back the ``torch`` modules that were there before.

        Raises:
            RuntimeError: when an alias installed after this one is still on.
        """
        if not self.active:
            return
        if next(f for f in sys.meta_path if isinstance(f, _TorchFinder)) is not self._finder:
            raise RuntimeError("undo the torch alias installed last first (aliases nest)")
        sys.meta_path.remove(self._finder)
        for name in [n for n in sys.modules if is_torch_name(n)]:
            del sys.modules[name]
        sys.modules.update(self._hidden)
        for module, attribute in reversed(self._added):
            if attribute in vars(module):
                delattr(module, attribute)

    def __enter__(self) -> "TorchAlias":
        return self

    def __exit__(self, *exc) -> bool:
        self.undo()
        return False

    def _note_new(self, module, attribute: str) -> None:
        if attribute not in vars(module):
            self._added.append((module, attribute))


def alias_torch() -> TorchAlias:
    """Make ``import torch`` (and ``torch.X.Y``) import tracer until the handle is undone, e.g.
    in a notebook::

        alias = tracer.alias_torch()
        import torch.nn as nn        # tracer.nn
        alias.undo()                 # or: with tracer.alias_torch(): ...

    Returns:
        the ``TorchAlias`` handle.
    """
    return TorchAlias()


class _TorchFinder(importlib.abc.MetaPathFinder):
    """Answers for ``torch`` and ``torch.*`` only, before any other finder."""

    def __init__(self, alias: TorchAlias):
        self._alias = alias

    def find_spec(self, fullname, path=None, target=None):
        if not is_torch_name(fullname):
            return None
        module = _import_tracer(fullname)
        is_package = hasattr(module, "__path__") or fullname in _PACKAGES
        return importlib.util.spec_from_loader(fullname, _SameModule(self._alias, fullname, module), is_package=is_package)


def _import_tracer(fullname: str):
    target = tracer_name(fullname)
    try:
        return importlib.import_module(target)
    except ModuleNotFoundError as e:
        if e.name != target and not target.startswith(f"{e.name}."):
            raise  # a module tracer's code needs is missing: that error is the true one
        raise ModuleNotFoundError(f"No module named '{fullname}': {fullname} is not supported by tracegrad "
                                  f"(the torch alias maps it to {target}, which does not exist)",
                                  name=fullname) from None


class _SameModule(importlib.abc.Loader):
    """Loads a torch name as the tracer module itself, leaving that module as it was."""

    def __init__(self, alias: TorchAlias, torch_name: str, module):
        self._alias = alias
        self._torch_name = torch_name
        self._module = module
        self._spec = module.__spec__

    def create_module(self, spec):
        if spec.submodule_search_locations is not None and not hasattr(self._module, "__path__"):
            self._alias._note_new(self._module, "__path__")
        return self._module

    def exec_module(self, module) -> None:
        module.__spec__ = self._spec  # the import system set it to the torch-named spec
        parent, _, child = self._torch_name.rpartition(".")
        if parent in sys.modules:  # the import system is about to set the module as this attribute
            self._alias._note_new(sys.modules[parent], child)
        self._alias.name_missing_attributes(module, self._torch_name)


#: tracer's own rooms, which no torch name reaches (``tracer.core.tensor`` is not ``torch.core``).
_PRIVATE = ("tracer.core", "tracer.ops", "tracer.cli", "tracer.alias")


def _is_public_tracer(name: str) -> bool:
    return (name == "tracer" or name.startswith("tracer.")) and not name.startswith(_PRIVATE)


def _missing_attribute(torch_name: str):
    """A module ``__getattr__`` (PEP 562) for the length of the alias: ``torch.autograd.Function``
    on a tracer without it says which torch name is missing, not only tracer's module name."""
    def __getattr__(name):
        if name.startswith("__"):  # probes of module dunders (__path__, __wrapped__...) stay plain
            raise AttributeError(f"module '{torch_name}' has no attribute '{name}'")
        raise AttributeError(f"module '{torch_name}' has no attribute '{name}': {torch_name}.{name} is not "
                             "supported by tracegrad", name=name)
    return __getattr__
