"""A session for graphs that carry state from call to call (a compiled training step).

Parameters, gradients and optimizer state go in and their new values come out on every call.
Binding arrays to onnxruntime costs far more than a small step's arithmetic, so this runner
binds two buffer sets once and alternates between them: call k reads state from set A and
writes the new state into set B; call k+1 reads B and writes A. Only the per-call arguments
are bound on each call. The state arrays it returns are those buffers: like PyTorch's in-place
updates, the call after next overwrites them. Outputs that are not fed back (gradients) have one
buffer, which the next call overwrites: nothing reads it during that call, and one set keeps the
step's memory (and cache footprint) small.
"""
from __future__ import annotations

import numpy as np

from backends.ort import run_error


class BoundSession:
    """Run ``session`` with ``args`` bound per call and state kept in ping-pong buffers.

    Args:
        session: an ``onnxruntime.InferenceSession``.
        graph: the ir graph it runs (for input/output types).
        arg_names: the graph inputs fed fresh on every call.
        state: ``[(input name or None, output name)]``: a state input and the output that
            replaces it (input None: an output not fed back, e.g. a gradient, kept in one buffer).
        result_names: outputs returned as fresh arrays.
        dynamic_results: the results' shapes vary from call to call (a dynamic batch):
            onnxruntime allocates them; otherwise they land in bound buffers and are copied.
    """

    def __init__(self, session, graph, arg_names, state, result_names, dynamic_results=False):
        self.session = session
        self.graph = graph
        self.arg_names = list(arg_names)
        self.result_names = list(result_names)
        types = {n.attrs.name: n for n in graph.inputs}
        outs = dict(zip(graph.output_names, graph.outputs))
        self.state = list(state)
        self.dynamic_results = dynamic_results
        first = [np.empty(outs[o].shape, dtype=outs[o].dtype.np) for _, o in self.state]
        second = [np.empty_like(b) if inp is not None else b for (inp, _), b in zip(self.state, first)]
        self.buffers = [first, second]
        self.results = [np.empty(outs[r].shape, dtype=outs[r].dtype.np) for r in self.result_names]
        self.bindings = [self._bind(k, types) for k in range(2)]
        fed = [i for i, (inp, _) in enumerate(self.state) if inp is not None]
        self.fed_buffers = [[self.buffers[k][i] for i in fed] for k in range(2)]
        self.phase = 0
        self.last_args = [[None] * len(self.arg_names) for _ in range(2)]  # what each binding holds
        self.kept = [[None] * len(self.arg_names) for _ in range(2)]  # the arrays bound (kept alive)

    def _bind(self, k: int, types):
        io = self.session.io_binding()
        src, dst = self.buffers[k], self.buffers[1 - k]
        for (inp, out), a, b in zip(self.state, src, dst):
            if inp is not None:
                io.bind_cpu_input(inp, a)
            io.bind_output(out, "cpu", 0, b.dtype, list(b.shape), b.ctypes.data)
        for name, buf in zip(self.result_names, self.results):
            if self.dynamic_results:
                io.bind_output(name, "cpu")
            else:
                io.bind_output(name, "cpu", 0, buf.dtype, list(buf.shape), buf.ctypes.data)
        return io

    def bind_arg(self, k: int, i: int, value) -> None:
        """Bind argument ``i`` of buffer set ``k`` (made contiguous if it is not; a copy is
        bound anew on every call, since the caller's array may change without us seeing it)."""
        fed = np.ascontiguousarray(value)
        self.bindings[k].bind_cpu_input(self.arg_names[i], fed)
        self.last_args[k][i] = value if fed is value else None
        self.kept[k][i] = fed

    def run(self, args, state_values):
        """Returns ``(results, new state arrays)``. ``args`` are arrays of the declared types (made
        contiguous here if they are not); ``state_values`` (any iterable) are the current values
        of the state inputs, copied into the bound buffers only if they are not those buffers.
        This loop runs on every compiled call: keep it one frame, free of helpers."""
        k = self.phase
        for value, buf in zip(state_values, self.fed_buffers[k]):
            if value is not buf:
                np.copyto(buf, value)
        io = self.bindings[k]
        last = self.last_args[k]
        for i, value in enumerate(args):
            # onnxruntime reads a bound contiguous array in place, so one still bound (and kept
            # alive here) need not be bound again: a full-batch loop binds its data once.
            if value is not last[i]:
                self.bind_arg(k, i, value)
        try:
            self.session.run_with_iobinding(io)
        except Exception as err:  # only onnxruntime runs here; raised as the interpreter raises it
            raise run_error(self.session, self.graph, err) from err
        self.phase = 1 - k
        if self.dynamic_results:
            results = [v.numpy() for v in io.get_outputs()[len(self.state):]]
        else:
            results = [r.copy() for r in self.results]
        return results, self.buffers[1 - k]
