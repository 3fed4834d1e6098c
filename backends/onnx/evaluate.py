"""One ir node evaluated through its own ONNX lowering by onnx's reference evaluator: the
evaluator export's constant folding (``ir.passes.optimize``) calls, so folding computes what
the exported nodes would and the ONNX backend needs no other backend's kernels."""
from __future__ import annotations

import numpy as np
from onnx import helper, numpy_helper
from onnx.reference import ReferenceEvaluator

from backends.onnx.builder import ONNX_TYPE, OnnxBuilder
from backends.onnx.lowerings import lowering_for
from backends.onnx.opsets import ir_version_for


def run_node(node, arrays, opset: int = 18) -> np.ndarray:
    """``node``'s value for the input ``arrays`` (one per ``node.inputs``), in its dtype."""
    if node.type.numel == 0:
        return np.zeros(node.shape, dtype=node.dtype.np)
    b = OnnxBuilder(opset)
    names = [b.reserve(f"input{i}") for i in range(len(arrays))]
    b.current = node
    out = lowering_for(node)(b, node, names)
    feeds = {name: np.asarray(a, dtype=i.dtype.np) for name, a, i in zip(names, arrays, node.inputs)}
    constants = {init.name: init for init in b.initializers}
    if out in feeds:  # a pass-through lowering (detach)
        return feeds[out]
    if out in constants:  # a lowering that knows the value from the types alone
        return numpy_helper.to_array(constants[out])
    model = helper.make_model(helper.make_graph(
        b.nodes, f"fold_{node.op.name}",
        [helper.make_tensor_value_info(name, ONNX_TYPE[i.dtype], i.shape) for name, i in zip(names, node.inputs)],
        [helper.make_tensor_value_info(out, ONNX_TYPE[node.dtype], node.shape)], initializer=b.initializers),
        opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = ir_version_for(opset)
    (value,) = ReferenceEvaluator(model).run(None, feeds)
    return np.asarray(value, dtype=node.dtype.np)
