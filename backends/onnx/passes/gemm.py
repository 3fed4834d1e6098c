"""Gemm fusions: a linear layer's ``x @ w.t() + b`` as one ``Gemm(x, w, b, transB=1)``, which
reads ``w`` as stored (no transposed copy) and adds the bias in the same kernel."""
from __future__ import annotations

from onnx import TensorProto

from backends.onnx.passes.usedef import Uses, attribute, rewrite

_FLOATS = (TensorProto.FLOAT, TensorProto.DOUBLE)


def _is_float_matrix(t) -> bool:
    return t is not None and t.elem_type in _FLOATS and t.rank == 2


def _transposed_matrix(uses, name, types):
    """``w`` when ``name`` is ``Transpose(w)`` swapping the two dims of a matrix, else None."""
    t = uses.made_by(name, "Transpose")
    if t is None:
        return None
    perm = attribute(t, "perm")
    swaps = perm == [1, 0] or (perm is None and _is_float_matrix(types.get(t.input[0])))
    return t.input[0] if swaps else None


def matmul_transpose_to_gemm(graph, types) -> None:
    """``MatMul(x, Transpose(w, perm=[1, 0]))`` with a 2-D float ``x`` -> ``Gemm(x, w, transB=1)``
    (every nn.Linear forward); the Transpose goes when nothing else reads it."""
    uses = Uses(graph)
    out, bypassed = {}, set()
    for i, node in enumerate(graph.node):
        if node.op_type != "MatMul" or not _is_float_matrix(types.get(node.input[0])):
            continue
        w = _transposed_matrix(uses, node.input[1], types)
        if w is not None:
            out[i] = [uses.node("Gemm", [node.input[0], w], node.output[0], like=node, transB=1)]
            bypassed.add(node.input[1])
    for name in uses.unread(bypassed, out):
        out[uses.producer[name]] = []
    rewrite(graph, out)


def _broadcasts_as_c(bias, product) -> bool:
    """Gemm's C broadcasts one way to (M, N): at most 2-D, each dim 1 or the product's."""
    if bias is None or product is None or bias.shape is None or product.shape is None:
        return False
    if bias.elem_type != product.elem_type or len(bias.shape) > 2:
        return False
    return all(d == 1 or (d is not None and d == e) for d, e in zip(reversed(bias.shape), reversed(product.shape)))


def _bias_free_gemm(uses, name):
    """The Gemm without C that produces ``name`` for one reader only, or None."""
    gemm = uses.made_by(name, "Gemm")
    if gemm is None or (len(gemm.input) > 2 and gemm.input[2]) or uses.sole_reader(name) is None:
        return None
    return gemm


def gemm_bias(graph, types) -> None:
    """``Add(Gemm(a, b), bias)`` (either order) -> ``Gemm(a, b, bias)`` where the product has no
    other reader and ``bias`` broadcasts as Gemm's C does (a linear layer's bias add)."""
    uses = Uses(graph)
    out = {}
    for i, node in enumerate(graph.node):
        if node.op_type != "Add":
            continue
        for product, bias in (node.input, node.input[::-1]):
            gemm = _bias_free_gemm(uses, product)
            if gemm is not None and _broadcasts_as_c(types.get(bias), types.get(product)):
                attrs = {a.name: attribute(gemm, a.name) for a in gemm.attribute if a.name != "beta"}
                out[i] = [uses.node("Gemm", [gemm.input[0], gemm.input[1], bias], node.output[0], like=node, **attrs)]
                out[uses.producer[product]] = []
                break
    rewrite(graph, out)
