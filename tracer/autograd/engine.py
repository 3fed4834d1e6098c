"""Eager autograd on top of the graph pass: ``backward`` and ``autograd.grad``.

Both collect the recorded DAG behind the outputs into an ``ir.Graph`` (inside a trace, the
trace's own graph), run ``ir.append_gradients`` and let the NumPy interpreter evaluate only
the appended backward nodes, reading the forward values kept on the nodes.
"""
from __future__ import annotations

from backends.numpy import evaluate
from ir.autodiff import append_gradients
from ir.graph import Graph
from ir.ops import elementwise as E
from ir.ops import source
from tracer.core import tensor_state, tracing
from tracer.autograd.plan import Plan, PlanCache, kernels_available, structure_key
from tracer.core.dispatch import eager_node
from tracer.core.errors import err
from tracer.core.grad_mode import no_grad, set_grad_enabled
from tracer.autograd import hooks
from tracer.ops.creation import to_tensor, zeros_like
from tracer.ops.inplace import assign
from tracer.core.tensor import Tensor

_PLANS = PlanCache()  # structure -> backward plan; plans are immutable, so sharing is safe

_FREED = ("Trying to backward through the graph a second time (or directly access saved tensors after "
          "they have already been freed). Saved intermediate values of the graph are freed when you call "
          ".backward() or autograd.grad(). Specify retain_graph=True if you need to backward through the "
          "graph a second time or if you need to access saved tensors after calling backward.")


def _collect(roots) -> list:
    """The DAG behind ``roots`` in topological order: an iterative post-order DFS taking the
    last root and the last input first, each node entered once (an iterator over its inputs on
    the stack, so a node costs one tuple, not one per edge)."""
    order, seen = [], set()
    for root in reversed(roots):
        if root in seen:
            continue
        seen.add(root)
        stack = [(root, reversed(root.inputs))]
        while stack:
            node, inputs = stack[-1]
            for i in inputs:
                if i not in seen:
                    seen.add(i)
                    stack.append((i, reversed(i.inputs)))
                    break
            else:
                stack.pop()
                order.append(node)
    return order


def _graph_for(nodes, state) -> Graph:
    if state is not None:
        return state.graph
    graph = Graph("backward")
    for n in nodes:
        graph.append(n)
    return graph


def _seed(out: Tensor, gradient, state, op: str, i: int):
    if gradient is None:
        if out.numel() != 1:
            raise err(RuntimeError, f"{op}: grad can be implicitly created only for scalar outputs (output {i}: "
                      f"{out._type}; pass a gradient of its shape)")
        return None
    if not isinstance(gradient, Tensor):
        gradient = to_tensor(gradient, out.dtype)
    if tuple(gradient.shape) != tuple(out.shape):
        raise err(RuntimeError, f"{op}: Mismatch in shape: grad_output[{i}] has a shape of {list(gradient.shape)} "
                  f"and output[{i}] has a shape of {list(out.shape)}.")
    gradient = gradient.to(out.dtype)
    return state.node_of(gradient) if state is not None else eager_node(gradient)


def _check_saved(reads, needed) -> None:
    """Torch's saved-tensor rules: values read by backward must be alive and unmodified."""
    if any(n.value is None for n in needed):
        raise err(RuntimeError, _FREED)
    for forward, saved in reads.items():
        for n in saved:
            meta = n.meta
            if meta is None or meta.vc[0] == meta.version:
                continue
            if forward.meta is not None and forward.meta.cloned is n:
                continue
            made = "" if not n.inputs else f", which is output 0 of {n.op.name.capitalize()}Backward"
            raise err(RuntimeError, "one of the variables needed for gradient computation has been modified "
                      f"by an inplace operation: [{n.type}]{made}, is at version {meta.vc[0]}; expected version "
                      f"{meta.version} instead. Hint: "
                      "the in-place change happened after this value was recorded"
                      + (f" at {n.source}" if n.source else "") + ".")


def _differentiate(outputs, grad_outputs, wrt_of, retain_graph, create_graph, op="backward"):
    """Append and evaluate the backward nodes; returns ``{wrt node: grad tensor or None}``.
    ``op`` names the function the user called (backward, autograd.grad) in errors."""
    state = tracing.current()
    roots, seeds = [], []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if not out._requires_grad:
            raise err(RuntimeError, f"{op}: element {i} of tensors does not require grad and does not have a "
                      f"grad_fn (output {i}: {out._type})")
        roots.append(state.node_of(out) if state is not None else eager_node(out))
        seeds.append(_seed(out, g, state, op, i))
    nodes = _collect(roots + [s for s in seeds if s is not None])
    wrt = wrt_of(nodes)
    hooked = hooks.hooked_non_leaves(nodes)
    if hooked:
        grads = _run_hooked(nodes, roots, seeds, wrt, hooked, state, create_graph)
    elif state is None and not create_graph:
        grads = _run_planned(nodes, roots, seeds, wrt)
    else:
        grads = _run_pass(nodes, roots, seeds, wrt, state, create_graph)
    grads = _leaf_hooks(grads, create_graph)
    if not retain_graph and state is None:
        _free(nodes)
    return grads


def _run_pass(nodes, roots, seeds, wrt, state, create_graph, plan_key=None):
    """The autodiff pass on a graph of ``nodes``, then the interpreter on the new nodes."""
    graph = _graph_for(nodes, state)
    start = len(graph.nodes)
    reads: dict = {}
    per_root = [append_gradients(graph, r, wrt, s, reads) for r, s in zip(roots, seeds)]
    grads = _sum_roots(graph, wrt, per_root)
    new = graph.nodes[start:]
    needed = {i for n in new for i in n.inputs if graph.index(i) < start}
    _check_saved(reads, needed)
    keep_all = create_graph or state is not None
    env = evaluate(new, {n: n.value for n in needed}, keep=new if keep_all else grads.values())
    if keep_all:
        for n in new:
            n.value = env[n]
            tensor_state.annotate(n, create_graph)
    if plan_key is not None and kernels_available(graph, start):
        _PLANS.put(plan_key, Plan(nodes, graph, start, grads, reads))
    return {w: _grad_tensor(g, env[g], create_graph, state) if g is not None else None for w, g in grads.items()}


def _run_hooked(nodes, roots, seeds, wrt, hooked, state, create_graph):
    """The pass with the hooked non-leaves as extra targets; then each hook, output side first,
    and a replaced gradient's change propagated upstream from its node (see autograd/hooks.py)."""
    targets = list(dict.fromkeys(list(wrt) + hooked))
    grads = _run_pass(nodes, roots, seeds, targets, state, create_graph)
    for h in hooked:
        g = grads.get(h)
        if g is None:
            continue
        with set_grad_enabled(create_graph):
            new = hooks.run(h.meta.hooks, g)
            delta = (new - g).to(g.dtype) if new is not g else None
        if delta is None:
            continue
        grads[h] = new
        seed = state.node_of(delta) if state is not None else eager_node(delta)
        upstream = [t for t in targets if t is not h]
        extra = _run_pass(_collect([h, seed]), [h], [seed], upstream, state, create_graph)
        for t, e in extra.items():
            if e is not None:
                grads[t] = e if grads[t] is None else grads[t] + e
    return {w: grads[w] for w in wrt}


def _leaf_hooks(grads, create_graph) -> dict:
    """A leaf's hooks see its gradient before it reaches ``.grad`` (or autograd.grad's result)."""
    for w, g in grads.items():
        found = hooks.of_node(w) if g is not None and w.meta is not None and w.meta.leaf is not None else None
        if found:
            with set_grad_enabled(create_graph):
                grads[w] = hooks.run(found, g)
    return grads


def _run_planned(nodes, roots, seeds, wrt):
    """Eager backward through a cached plan for this DAG structure (built on first sight)."""
    key = structure_key(nodes, wrt, seeds)
    plan = _PLANS.get(key)
    if plan is None:
        return _run_pass(nodes, roots, seeds, wrt, None, False, plan_key=key)
    _check_saved({nodes[f]: [nodes[r] for r in rs] for f, rs in plan.reads}, [nodes[i] for i in plan.needed])
    values = plan.run(nodes)
    return {w: (Tensor._wrap(values[g]) if g is not None else None) for w, g in zip(wrt, plan.grads)}


def _sum_roots(graph, wrt, per_root) -> dict:
    grads = {}
    for w in wrt:
        parts = [g[w] for g in per_root if g[w] is not None]
        total = parts[0] if parts else None
        for p in parts[1:]:
            total = graph.add(E.add, (total, p), source_=p.source, phase="backward")
        grads[w] = total
    return grads


def _free(nodes) -> None:
    for n in nodes:
        if n.op is not source.input_ and n.op is not source.constant and n.inputs:
            n.value = None


def _grad_tensor(node, value, create_graph, trace) -> Tensor:
    t = Tensor._make(value, node.type)
    if create_graph or trace is not None:
        tensor_state.bind(t, node, create_graph)
        if trace is not None:
            trace.created(t)
    return t


def _leaves(nodes) -> list:
    wrt = []
    for n in nodes:
        meta = n.meta
        if meta is None:
            continue
        leaf = meta.leaf
        if (leaf is not None and leaf._requires_grad and (leaf._node is n or tracing.current() is None)) \
                or meta.retain is not None:
            wrt.append(n)
    return wrt


def backward(tensors, grad_tensors=None, retain_graph=None, create_graph=False, inputs=None) -> None:
    """Accumulate gradients of ``tensors`` into the ``.grad`` of the leaves behind them.

    Args:
        tensors: a tensor or sequence of tensors to differentiate.
        grad_tensors: the seed gradient per tensor (None for a scalar's implicit 1).
        retain_graph: keep the forward values for another backward (default: ``create_graph``).
        create_graph: record the backward computation, so gradients can be differentiated again.
        inputs: accumulate only into these tensors' ``.grad``.

    Raises:
        RuntimeError: with torch's meaning, for a non-scalar output without a gradient, a freed
            graph, a saved value modified in place, or an output that does not require grad.
    """
    outs = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    seeds = grad_tensors if isinstance(grad_tensors, (list, tuple)) else [grad_tensors] * len(outs)
    retain = create_graph if retain_graph is None else retain_graph
    chosen = None if inputs is None else {id(t) for t in ([inputs] if isinstance(inputs, Tensor) else inputs)}

    def wrt_of(nodes):
        found = _leaves(nodes)
        if chosen is None:
            return found
        return [n for n in found if id(n.meta.leaf or n.meta.retain) in chosen]

    grads = _differentiate(outs, seeds, wrt_of, retain, create_graph)
    for node, g in grads.items():
        if g is not None:
            _accumulate(node.meta.leaf if node.meta.leaf is not None else node.meta.retain, g, create_graph)


def _accumulate(t: Tensor, g: Tensor, create_graph: bool) -> None:
    """``t.grad += g``, keeping the grad tensor's identity (as torch does on the CPU)."""
    if t._grad is None or create_graph:
        t.grad = g if t._grad is None else t._grad + g
        return
    with no_grad():
        assign(t._grad, t._grad + g)


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, only_inputs=True,
         allow_unused=None, is_grads_batched=False, materialize_grads=False):
    """d(outputs)/d(inputs) as a tuple of tensors, without touching ``.grad`` (torch.autograd.grad)."""
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    ins = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    seeds = grad_outputs if isinstance(grad_outputs, (list, tuple)) else [grad_outputs] * len(outs)
    retain = create_graph if retain_graph is None else retain_graph
    state = tracing.current()
    for t in ins:
        if not t._requires_grad:
            raise err(RuntimeError, f"autograd.grad: One of the differentiated Tensors does not require grad "
                      f"({t._type})")
    wanted = [state.node_of(t) if state is not None else eager_node(t) for t in ins]
    grads = _differentiate(outs, seeds, lambda nodes: list(dict.fromkeys(wanted)), retain, create_graph,
                           "autograd.grad")
    result = []
    for i, (t, node) in enumerate(zip(ins, wanted)):
        g = grads.get(node)
        if g is None and materialize_grads:
            g = zeros_like(t)
        if g is None and not (allow_unused or materialize_grads):
            raise err(RuntimeError, f"autograd.grad: The differentiated Tensor at index {i} ({t._type}) appears to "
                      "not have been used in the graph. Set allow_unused=True if this is the desired behavior.")
        result.append(g)
    return tuple(result)
