"""``tracer.onnx.load``: an ONNX model as an ``nn.Module`` whose forward runs the imported graph
eagerly, op by op through dispatch, so autograd, ``torch.trace`` and ``compile`` see ordinary
tracer ops. The import itself is ``backends.onnx.load``."""
from __future__ import annotations

from backends.onnx import load as load_graph
from ir.ops import source
from tracer.core.dispatch import apply
from tracer.core.errors import err
from tracer.core.tensor import Tensor
from tracer.nn.module import Module
from tracer.nn.parameter import Parameter
from tracer.ops.creation import tensor


def load(path, dims=None, max_bytes: int | None = None) -> "OnnxModule":
    """Load an ONNX model as a module.

    Args:
        path: a ``.onnx`` file, its bytes, or an ``onnx.ModelProto``.
        dims: ``{symbol: size}`` for symbolic input dims (see ``backends.onnx.load``).
        max_bytes: the load's memory budget (default ``backends.onnx.load``'s, 1 GiB).

    Returns:
        An ``OnnxModule``: each floating-point initializer is a ``Parameter`` whose
        ``state_dict`` key is the initializer's name ("0.weight" lives in submodule "0");
        ``forward(*inputs)`` takes the graph's inputs in order (or by ONNX name) and returns its
        output, or a tuple of outputs.

    Raises:
        OnnxImportError: (a ``ValueError``) as ``backends.onnx.load``.
    """
    kwargs = {} if max_bytes is None else {"max_bytes": max_bytes}
    return OnnxModule(load_graph(path, params_as="inputs", dims=dims, **kwargs))


class OnnxModule(Module):
    """An imported ONNX graph with its float initializers as parameters."""

    def __init__(self, graph):
        super().__init__()
        self.__dict__["graph"] = graph  # not a submodule or tensor: kept out of the module's state
        for node in graph.inputs:
            if node.attrs.kind == "param":
                self._owner(node.attrs.name).register_parameter(node.attrs.name.rsplit(".", 1)[-1],
                                                                Parameter(tensor(node.value)))

    def _owner(self, name: str) -> Module:
        """The (new or existing) submodule that holds parameter ``name`` (dots make the path)."""
        owner = self
        for part in name.split(".")[:-1]:
            if part not in owner._modules:
                owner.register_module(part, Module())
            owner = owner._modules[part]
        return owner

    @property
    def input_names(self) -> list[str]:
        return [n.attrs.name for n in self.graph.inputs if n.attrs.kind != "param"]

    def forward(self, *inputs, **named):
        names = self.input_names
        if len(inputs) > len(names):
            raise err(TypeError, f"forward() takes {len(names)} inputs ({names}), got {len(inputs)}")
        given = dict(zip(names, inputs), **named)
        missing = [n for n in names if n not in given]
        if missing or set(given) - set(names):
            raise err(TypeError, f"forward() needs the inputs {names}; missing {missing}, "
                      f"unknown {sorted(set(given) - set(names))}")
        env = {}
        for node in self.graph.nodes:
            env[node] = self._value(node, env, given)
        outs = [env[o] for o in self.graph.outputs]
        return outs[0] if len(outs) == 1 else tuple(outs)

    def _value(self, node, env, given):
        if node.op is source.input_:
            name = node.attrs.name
            return self.get_parameter(name) if node.attrs.kind == "param" else _as_tensor(given[name], node)
        if node.op is source.constant:
            return tensor(node.attrs.value)
        return apply(node.op, [env[i] for i in node.inputs], node.attrs)


def _as_tensor(value, node):
    t = value if isinstance(value, Tensor) else tensor(value)
    if tuple(t.shape) != node.shape or t.dtype != node.dtype:
        raise err(TypeError, f"input {node.attrs.name!r}: expected {node.type}, got {t.dtype.name}{list(t.shape)}")
    return t
