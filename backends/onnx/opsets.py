"""Which opsets the exporter targets: 17 up to the newest that both the installed ``onnx``
and ``onnxruntime`` run (probed once with a one-node model)."""
from __future__ import annotations

import functools

import onnx
from onnx import TensorProto, helper

MIN_OPSET = 17


def ir_version_for(opset: int) -> int:
    """The lowest IR version that carries ``opset``, so older onnxruntime releases load the file."""
    versions = [ir for _, ir, op, *_ in helper.VERSION_TABLE if op >= opset]
    return min(versions) if versions else onnx.IR_VERSION


@functools.lru_cache(maxsize=None)
def newest_opset() -> int:
    import onnxruntime as ort  # optional heavy dependency: only probed when an opset is chosen
    best = MIN_OPSET
    for opset in range(MIN_OPSET, onnx.defs.onnx_opset_version() + 1):
        io = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1]) for n in ("a", "b")]
        graph = helper.make_graph([helper.make_node("Add", ["a", "a"], ["b"])], "probe", io[:1], io[1:])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
        model.ir_version = ir_version_for(opset)
        try:
            ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
        except Exception:
            break
        best = opset
    return best


def check_opset(opset: int) -> int:
    newest = newest_opset()
    if not MIN_OPSET <= opset <= newest:
        raise ValueError(f"export: opset {opset} is not supported; tracegrad exports opsets {MIN_OPSET} to "
                         f"{newest} (the newest this onnx and onnxruntime both run)")
    return opset
