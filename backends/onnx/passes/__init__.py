"""ONNX-side passes: the optimisations that read a node's neighbours, which lowerings may not
(a lowering sees only its own node). Each is one function ``pass(graph, types)`` that rewrites
an ``onnx.GraphProto`` in place; the exporter runs ``FUSIONS`` in order after lowering, then
``drop_unused``."""
from backends.onnx.passes.cleanup import drop_unused  # noqa: F401
from backends.onnx.passes.gemm import gemm_bias, matmul_transpose_to_gemm
from backends.onnx.passes.losses import summed_bce_with_logits
from backends.onnx.passes.select import zero_select_as_product
from backends.onnx.passes.usedef import ValueType, value_types  # noqa: F401

#: In order: the Gemm that the first makes is what the second gives its bias.
FUSIONS = (matmul_transpose_to_gemm, gemm_bias, summed_bce_with_logits, zero_select_as_product)


def fuse(model, fusions=FUSIONS) -> None:
    """Run ``fusions`` on ``model``'s graph in order, then drop what they left unread (in place)."""
    types = value_types(model)
    for fusion in fusions:
        fusion(model.graph, types)
    drop_unused(model.graph)
