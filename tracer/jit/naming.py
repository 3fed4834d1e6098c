"""Names for the outside tensors a traced function reads: module parameters and buffers by
their module path (``0.weight``), optimizer state by param and key (``opt.0.weight.exp_avg``)."""
from __future__ import annotations

import types

from tracer.nn.module import Module
from tracer.optim.optimizer import Optimizer
from tracer.core.tensor import Tensor


def _referenced(fn) -> list[tuple[str, object]]:
    """(name, object) for the closure cells and globals a function's code refers to."""
    if isinstance(fn, types.MethodType):
        return [("self", fn.__self__)] + _referenced(fn.__func__)
    code = getattr(fn, "__code__", None)
    if code is None:
        return []
    found = []
    for name, cell in zip(code.co_freevars, getattr(fn, "__closure__", None) or ()):
        try:
            found.append((name, cell.cell_contents))
        except ValueError:
            continue
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= set(const.co_names)
    glb = getattr(fn, "__globals__", {})
    found += [(n, glb[n]) for n in sorted(names) if n in glb]
    return found


def discover(fn) -> dict[int, str]:
    """``{id(tensor): name}`` for the parameters, buffers and optimizer state ``fn`` can reach."""
    if isinstance(fn, Module):
        return module_names(fn, "")
    objs = _referenced(fn)
    modules = [(n, o) for n, o in objs if isinstance(o, Module) and module_names(o, "")]
    optims = [(n, o) for n, o in objs if isinstance(o, Optimizer)]
    names: dict[int, str] = {id(o): n for n, o in objs if isinstance(o, Tensor)}
    for n, m in modules:
        names.update(module_names(m, "" if len(modules) == 1 else f"{n}."))
    for n, opt in optims:
        names.update(optimizer_names(opt, n, names))
    return names


def module_names(module, prefix: str) -> dict[int, str]:
    names = {id(p): prefix + n for n, p in module.named_parameters()}
    names.update({id(b): prefix + n for n, b in module.named_buffers()})
    return names


def optimizer_names(opt, prefix: str, param_names) -> dict[int, str]:
    """Optimizer state tensors, named after the parameter they belong to, and the learning
    rates a compiled step reads as inputs."""
    names = {}
    for group_index, group in enumerate(opt.param_groups):
        for key in opt.FED:
            rate = (opt._lr_inputs or {}).get((id(group), key))
            if rate is not None:
                where = prefix if len(opt.param_groups) == 1 else f"{prefix}.param_groups.{group_index}"
                names[id(rate)] = f"{where}.{key}"
        for i, p in enumerate(group["params"]):
            pname = param_names.get(id(p), f"group{group_index}.param{i}")
            for key, value in opt.state.get(p, {}).items():
                if hasattr(value, "_value"):
                    names[id(value)] = f"{prefix}.{pname}.{key}"
    return names
