"""Loss fusions. BCE-with-logits lowers to torch's exact 7-node form, max(x, 0) - x t +
softplus(-|x|); where no single loss is ever seen (every reader sums all of them or reads only
their shape, as a mean or sum reduction and its gradient do), softplus(x) - x t gives the same
sums in 3 nodes. It differs only for a loss below half an ulp of its logit (a confidently right
prediction: softplus(30) - 30 rounds to 0 instead of 9e-14), which no sum of them can show."""
from __future__ import annotations

from onnx import TensorProto

from backends.onnx.passes.usedef import Uses, attribute, rewrite


def _one_of(uses, names, op_type):
    """``(node, other name)`` for the first of the two ``names`` made by ``op_type``."""
    for mine, other in (names, names[::-1]):
        node = uses.made_by(mine, op_type)
        if node is not None:
            return node, other
    return None, None


def _bce_logits_operands(uses, add):
    """``(x, the Mul(x, t) output)`` when ``add`` ends Add(Sub(Relu(x), Mul(x, t)),
    Softplus(Neg(Abs(x)))), as the bce_logits lowering emits it; else None."""
    sub, softplus_out = _one_of(uses, list(add.input), "Sub")
    if sub is None:
        return None
    relu, product = uses.made_by(sub.input[0], "Relu"), sub.input[1]
    mul, softplus = uses.made_by(product, "Mul"), uses.made_by(softplus_out, "Softplus")
    if relu is None or mul is None or softplus is None or relu.input[0] not in mul.input:
        return None
    x = relu.input[0]
    neg = uses.made_by(softplus.input[0], "Neg")
    absolute = None if neg is None else uses.made_by(neg.input[0], "Abs")
    return (x, product) if absolute is not None and absolute.input[0] == x else None


def _sums_all(uses, node, rank) -> bool:
    """Whether ``node`` is a ReduceSum over every axis of its rank-``rank`` input."""
    if node.op_type != "ReduceSum":
        return False
    everything = not attribute(node, "noop_with_empty_axes", 0)  # what no axes mean
    if len(node.input) < 2 or not node.input[1]:
        return everything
    axes = uses.constant(node.input[1])
    if axes is None or rank is None:
        return False
    if axes.size == 0:
        return everything
    return rank > 0 and sorted(int(a) % rank for a in axes.ravel()) == list(range(rank))


def _only_summed_whole(uses, name, rank) -> bool:
    """Every reader of ``name`` sums all of it or reads only its shape, and one sums it."""
    readers = [uses.graph.node[i] for i in uses.readers.get(name, [])]
    if name in uses.outputs or not all(_sums_all(uses, r, rank) or r.op_type == "Shape" for r in readers):
        return False
    return any(r.op_type == "ReduceSum" for r in readers)


def summed_bce_with_logits(graph, types) -> None:
    """The 7-node float32 BCE-with-logits whose losses are only summed -> ``Softplus(x) - x t``
    (the Mul(x, t) is kept; the rest goes when nothing else reads it)."""
    uses = Uses(graph)
    out = {}
    for i, node in enumerate(graph.node):
        found = _bce_logits_operands(uses, node) if node.op_type == "Add" else None
        loss = types.get(node.output[0])
        if found is None or loss is None or loss.elem_type != TensorProto.FLOAT:
            continue
        x, product = found
        if _only_summed_whole(uses, node.output[0], loss.rank):
            softplus = uses.node("Softplus", [x], uses.fresh("softplus"), like=node)
            out[i] = [softplus, uses.node("Sub", [softplus.output[0], product], node.output[0], like=node)]
    rewrite(graph, out)
