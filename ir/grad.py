"""``ir.grad``: a graph's combined forward+backward graph, for export and interpretation."""
from __future__ import annotations

from ir.autodiff import append_gradients
from ir.builder import Builder
from ir.errors import IRError


def _pick_output(graph, of):
    if of is None:
        if len(graph.outputs) != 1:
            raise IRError(f"grad: graph {graph.name!r} has {len(graph.outputs)} outputs; say which with of=")
        return 0
    if isinstance(of, str):
        if of not in graph.output_names:
            raise IRError(f"grad: no output named {of!r} (outputs: {graph.output_names})")
        return graph.output_names.index(of)
    if not 0 <= of < len(graph.outputs):
        raise IRError(f"grad: output index {of} out of range ({len(graph.outputs)} outputs)")
    return of


def _pick_inputs(graph, wrt):
    if wrt is None:
        return [n for n in graph.inputs if n.dtype.is_floating_point and n.attrs.kind != "state"]
    picked = []
    for w in wrt:
        node = graph.input_named(w) if isinstance(w, str) else graph.inputs[w]
        if not node.dtype.is_floating_point:
            raise IRError(f"grad: input {node.attrs.name!r} is {node.dtype.name}; only floating-point "
                          "inputs have gradients")
        picked.append(node)
    return sorted(picked, key=graph.index)


def grad(graph, of=None, wrt=None, grad_output=None):
    """The combined graph: ``graph``'s outputs, then d(of)/d(w) for each ``w`` in ``wrt``.

    Args:
        graph: an ``ir.Graph`` (left unchanged; the result is a copy).
        of: the output to differentiate: index or name; default the single output.
        wrt: input names or indices; default every floating-point input (not optimizer state).
        grad_output: if true, the seed gradient becomes an extra input named ``grad_output``
            (needed for a non-scalar ``of``); otherwise ``of`` must be a scalar.

    Returns:
        A new ``ir.Graph`` with outputs ``[*graph outputs, grad.<input name> ...]``, in input order.
        A gradient that does not depend on the output is a zeros node.
    """
    index = _pick_output(graph, of)
    combined = graph.copy()
    target = combined.outputs[index]
    sources = _pick_inputs(combined, _names(graph, wrt))
    seed = None
    if grad_output:
        seed = combined.add_input("grad_output", target.shape, target.dtype, kind="grad_output")
    elif target.shape != ():
        raise IRError(f"grad: output {graph.output_names[index]!r} has shape {list(target.shape)}; "
                      "grad can be implicitly created only for scalar outputs (pass grad_output=True)")
    grads = append_gradients(combined, target, sources, seed)
    outs, names = list(combined.outputs), list(combined.output_names)
    b = Builder(combined, "backward")
    for s in sources:
        outs.append(grads[s] if grads[s] is not None else b.zeros_like(s))
        names.append(f"grad.{s.attrs.name}")
    combined.set_outputs(outs, names)
    return combined


def _names(graph, wrt):
    """Map indices/names given against the original graph onto input names."""
    if wrt is None:
        return None
    if isinstance(wrt, (str, int)):
        wrt = [wrt]
    return [graph.inputs[w].attrs.name if isinstance(w, int) else w for w in wrt]
