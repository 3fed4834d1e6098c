"""``tracer.compile``: trace a function once per input signature, run the graph afterwards.

A compiled training step (forward, ``loss.backward()``, ``optimizer.step()``) becomes one
graph whose inputs are the arguments plus every outside tensor the step reads (parameters,
buffers, gradients, optimizer state, each param group's learning rate) and whose outputs are
the results plus the new values of every tensor it changed; after each call those values are
written back, so eager code and compiled code see the same state.
"""
from __future__ import annotations

import functools
import operator
import warnings

import numpy as np

from backends.numpy import RANDOM_KERNELS, Program
from backends.onnx import export
from backends.ort import session_for
from backends.ort_bound import BoundSession
from ir.dynamic import baked_reads, propagate
from ir.errors import DynamicShapeError
from ir.passes import dce, draws_as_inputs
from tracer.core import tensor_state
from tracer.core.watch import Guard, watchers_of
from tracer.core.grad_mode import is_grad_enabled
from tracer.jit.naming import _referenced
from tracer.nn.module import Module
from tracer.optim.optimizer import FED_DTYPE, Optimizer, fed_value
from tracer.ops.random import default_generator
from tracer.core.tensor import Tensor
from tracer.jit.record import is_tensor_like, record, unflatten_like
from tracer.jit.steps import check_steps, unrolled

BACKENDS = ("onnxruntime", "numpy")


def compile(fn=None, *, backend: str = "onnxruntime", dynamic: bool = False, opset: int = 18,
            cache_size_limit: int = 8, steps_per_call: int = 1):
    """Compile ``fn`` (also usable as ``@tracer.compile`` or ``@tracer.compile(backend=...)``).

    Args:
        fn: the function (or ``nn.Module``) to compile.
        backend: ``"onnxruntime"`` (exported once, run in a cached session) or ``"numpy"``
            (the interpreter).
        dynamic: make dim 0 of every tensor argument symbolic, so one graph serves all batch
            sizes (onnxruntime backend; the numpy backend retraces per size instead).
        opset: the ONNX opset for the onnxruntime backend.
        cache_size_limit: how many input signatures get a trace of their own (torch.compile's
            default, 8); past it, new signatures run eagerly with a warning. Python arguments
            (numbers, bools, strings) are part of the signature, as torch.compile guards on them.
        steps_per_call: run ``fn`` this many times per call, in one graph (tracer/jit/steps.py):
            each tensor argument holds the steps' values stacked on dim 0, step ``i`` gets slice
            ``i``, and tensor results come back stacked on a new dim 0 (K losses). For small
            models, where an onnxruntime call's fixed cost dominates a step.

    Returns:
        A ``CompiledFunction``: call it like ``fn``; ``.export(path)`` writes its graph;
        ``.trace_count`` counts traces.
    """
    if fn is None:
        return functools.partial(compile, backend=backend, dynamic=dynamic, opset=opset,
                                 cache_size_limit=cache_size_limit, steps_per_call=steps_per_call)
    if backend not in BACKENDS:
        raise ValueError(f"compile: backend must be one of {BACKENDS}, got {backend!r}")
    if not isinstance(cache_size_limit, int) or cache_size_limit < 1:
        raise ValueError(f"compile: cache_size_limit must be a positive int, got {cache_size_limit!r}")
    check_steps(steps_per_call, dynamic)
    return CompiledFunction(fn, backend, dynamic, opset, cache_size_limit, steps_per_call)


class _Watched:
    """The modules (flattened once) and optimizers a compiled function reaches, and the part
    of the call signature they contribute: training modes, parameter and buffer identities,
    types and requires_grad (a replaced tensor must be fed, not the old one; a frozen one gets
    no update), optimizer state identities and hyperparameters (baked in as constants; the
    learning rate is not: it is a graph input, see ``lift_rates``).
    Which ``.grad`` exist is checked separately, only for graphs that read them."""

    def __init__(self, objs):
        self.modules = [m for _, o in objs if isinstance(o, Module) for m in o.modules()]
        self.optimizers = [o for _, o in objs if isinstance(o, Optimizer)]
        self._guard = Guard()  # marked stale by the watched modules, optimizers and tensors
        for owner in self.modules + self.optimizers:
            owner._watchers.add(self._guard)
        self._signature = None
        self._tokens: dict = {}  # each distinct signature -> a small int (cheap to hash per call)

    def signature(self) -> int:
        """A token for the watched state, recomputed only when one of its owners changed it
        (otherwise the last one still holds). Equal states get equal tokens, so a cache keyed
        on it finds earlier traces again."""
        if self._guard.stale:
            self._guard.stale = False
            self._signature = self._tokens.setdefault(self._compute(), len(self._tokens))
        return self._signature

    def _compute(self) -> tuple:
        parts = [m.training for m in self.modules]
        for m in self.modules:
            for store in (m._parameters, m._buffers):
                for t in store.values():
                    if t is not None:
                        watchers_of(t).add(self._guard)  # its type and requires_grad are guarded too
                    parts.append(None if t is None else (id(t), t._type, t._requires_grad))
        for opt in self.optimizers:
            state = opt.state
            fed = opt.FED
            for group in opt.param_groups:
                for k, v in group.items():
                    if k in fed or k == "params":  # fed, not baked in: a new value is no new trace
                        continue
                    if k == "betas" and "beta1" in fed:
                        v = v[1:]
                    parts.append(tuple(v) if v.__class__ in (list, tuple) else v)
                if "momentum" in fed:
                    parts.append(group["momentum"] != 0)  # zero momentum is another algorithm
                for p in group["params"]:
                    per_param = state.get(p)
                    if per_param:
                        parts.extend(map(id, per_param.values()))
        return tuple(parts)

    def lift_rates(self) -> dict:
        """Give every optimizer a 0-d tensor per param group and fed hyperparameter (its
        learning rate; SGD's momentum, Adam's beta1: ``Optimizer.FED``) holding the value, in the
        group's parameter dtype as the float would be cast (or float64 where torch computes in
        double), read by its update while tracing (``Optimizer._fed``): ``{holder: (group, key)}``."""
        rates = {}
        for opt in self.optimizers:
            holders = {}
            for group in opt.param_groups:
                dtype = group["params"][0].dtype.np if group["params"] else np.float32
                for key in opt.FED:
                    held = np.float64 if FED_DTYPE[key] == "float64" else dtype
                    holder = Tensor._wrap(np.asarray(fed_value(group, key), dtype=held))
                    holders[(id(group), key)] = holder
                    rates[holder] = (group, key)
            opt._lr_inputs = holders
        return rates

    def drop_rates(self) -> None:
        for opt in self.optimizers:
            opt._lr_inputs = None

    def parameters(self) -> list:
        return [p for m in self.modules for p in m._parameters.values() if p is not None]

    def state_origins(self) -> dict:
        """``{id(tensor): where it lives}`` for the optimizer state and gradients now present:
        ``("state", optimizer, group, param, key)`` or ``("grad", param)``, so ``feeds`` can
        read a state input's live value, or its initial one once the state is gone."""
        origins = {}
        for opt in self.optimizers:
            for group in opt.param_groups:
                for p in group["params"]:
                    for key, v in (opt.state.get(p) or {}).items():
                        if isinstance(v, Tensor):
                            origins[id(v)] = ("state", opt, group, p, key)
        for p in self.parameters():
            if p._grad is not None:
                origins[id(p._grad)] = ("grad", p)
        return origins

    def snapshot(self) -> "_Snapshot":
        return _Snapshot(self)


class _Snapshot:
    """The watched state (parameter and buffer values, gradients, optimizer state, the random
    generator) saved on entry and put back on exit: ``export(example=...)`` runs real steps to
    trace the steady state and leaves the model and optimizer as they were."""

    def __init__(self, watched: _Watched):
        self.watched = watched

    def __enter__(self):
        w = self.watched
        self.tensors = [(t, t._value.copy()) for m in w.modules for store in (m._parameters, m._buffers)
                        for t in store.values() if t is not None]
        self.grads = [(p, p._grad, None if p._grad is None else p._grad._value.copy()) for p in w.parameters()]
        self.states = [(opt, dict(opt.state), {p: [(k, v, v._value.copy() if isinstance(v, Tensor) else None)
                                                   for k, v in s.items()] for p, s in opt.state.items()})
                       for opt in w.optimizers]
        self.rng = default_generator.get_state()
        return self

    def __exit__(self, *exc):
        for t, value in self.tensors:
            tensor_state.write(t, value)
        for p, grad, value in self.grads:
            if grad is not None:
                tensor_state.write(grad, value)
            p.grad = grad
        for opt, per_param, items in self.states:
            opt.state.clear()
            for p, state in per_param.items():
                state.clear()
                for k, v, value in items[p]:
                    if value is not None:
                        tensor_state.write(v, value)
                    state[k] = v
                opt.state[p] = state
        default_generator.set_state(self.rng)
        return False


class CompiledEntry:
    """One traced graph; ``run(args) -> result tensors`` (built by ``make_runner(entry)``)
    feeds it, runs it and writes the new state back; ``rebuild`` nests the results as ``fn``
    returned them."""

    def __init__(self, graph, rec, positions, n_call_args: int, grads_before, rates, make_runner):
        self.graph = graph
        n_args = len(positions)  # the call's tensor arguments, which became the first graph inputs
        # Python values among the arguments are constants of this trace: the runner gets the rest.
        self.pick = None if n_args == n_call_args else (lambda args: [args[i] for i in positions])
        lifted = {id(t) for t, _ in rec.lifted[n_args:]}
        # If every grad existed while tracing and none was read (the step zeroes them first),
        # the graph does not depend on them; otherwise later calls need the same grads present.
        self.params = [p for p, _ in grads_before]
        self.presence = [g is not None for _, g in grads_before]
        self.grads_matter = not all(self.presence) or any(g in lifted for _, g in grads_before)
        self.mutated = [t for t, _ in rec.mutations]
        self.grad_owners = [t for t, _ in rec.grads]
        # Fed hyperparameters the graph reads: (holder tensor, param group, key, the float it holds).
        self.rates = [[t, group, key, fed_value(group, key)] for t, (group, key) in rates.items() if id(t) in lifted]
        result = rec.result
        self.rebuild = (lambda flat: flat[0]) if isinstance(result, Tensor) else (
            lambda flat: unflatten_like(result, flat))
        self.calls = 1
        self.arg_types = [n.type for n in graph.inputs[:n_args]]
        # The other graph inputs (parameters, buffers, optimizer state, learning rates, grads).
        self.state_inputs = [(node.attrs.name, t) for t, node in rec.lifted[n_args:]]
        self.origins = {}  # id(state tensor) -> where it lived when traced (_Watched.state_origins)
        self.run = make_runner(self)

    def valid(self) -> bool:
        if not self.grads_matter:
            return True
        return all((p._grad is not None) == present for p, present in zip(self.params, self.presence))


def refresh_rates(rates) -> None:
    """Put each param group's current learning rate (and other fed hyperparameters) into the
    tensor the graph reads it from (a new array only when it changed, so an unchanged value is
    not bound again)."""
    for rate in rates:
        holder, group, key, held = rate
        value = fed_value(group, key)
        if value != held:
            tensor_state.refill(holder, np.asarray(value, dtype=holder._value.dtype))
            rate[3] = value


def write_back(mutated, grad_owners, values) -> None:
    """Give the mutated tensors their new values (a version bump each, as an in-place op) and
    the parameters their gradients (into the existing ``.grad`` tensor where there is one)."""
    for t, v in zip(mutated, values):
        tensor_state.write(t, v)
    for p, v in zip(grad_owners, values[len(mutated):]):
        if p._grad is None:
            p.grad = Tensor._wrap(v)
        else:
            tensor_state.write(p._grad, v)


def _types(entry) -> str:
    return ", ".join(str(t) for t in entry.arg_types) or "no tensors"


def _with_full_shapes(key: tuple, args) -> tuple:
    """A cache key computed with ``dynamic=True`` (tensor entries without dim 0) as it reads
    with ``dynamic=False``: the same state, each tensor argument's whole shape."""
    parts = list(key)
    for i, a in enumerate(args):
        if isinstance(a, Tensor):
            parts[i] = (a._type.shape, *parts[i][1:])
        elif isinstance(a, np.ndarray):
            parts[i] = (a.shape, *parts[i][1:])
    return tuple(parts)


def _array(a) -> np.ndarray:
    return a._value if isinstance(a, Tensor) else np.asarray(a)


def _python_key(value):
    """A Python argument as part of a cache key: the value itself when it hashes (numbers,
    bools, strings, None), else its repr."""
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return repr(value) if isinstance(value, float) else value  # repr tells nan, -0.0 and 0.0 apart


_VALUE = operator.attrgetter("_value")  # a tensor's array, without a Python frame per call


class CompiledFunction:
    """A function traced once per signature and then run on a backend."""

    def __init__(self, fn, backend: str, dynamic: bool, opset: int, cache_size_limit: int = 8,
                 steps_per_call: int = 1):
        self.fn = fn
        self.steps_per_call = steps_per_call
        self._body = fn if steps_per_call == 1 else unrolled(fn, steps_per_call)  # what a trace runs
        self.backend = backend
        self.dynamic = dynamic and backend == "onnxruntime"
        self.opset = opset
        self.trace_count = 0
        self._cache: dict = {}
        self._last = None
        self.cache_size_limit = cache_size_limit
        self._warned = False
        self._watched = _Watched(_referenced(fn) if not hasattr(fn, "parameters") else [("self", fn)])
        functools.update_wrapper(self, fn, updated=())

    def _signature(self, args) -> tuple:
        sig = []
        dynamic = self.dynamic
        for a in args:
            if isinstance(a, Tensor):
                t = a._type  # shape and dtype, not the TensorType: their hashes are C calls
                sig.append((t.shape[1:] if dynamic and t.shape else t.shape, t.dtype, a._requires_grad))
            elif isinstance(a, np.ndarray):
                sig.append((a.shape[1:] if dynamic and a.shape else a.shape, a.dtype.str, False))
            else:
                sig.append(("py", type(a), _python_key(a)))  # a Python value is a guard: each value its trace
        return (*sig, is_grad_enabled(), self._watched.signature())

    def __call__(self, *args):
        key = self._signature(args)
        entry = self._cache.get(key)
        if entry is None or (entry.grads_matter and not entry.valid()):
            if entry is None and len(self._cache) >= self.cache_size_limit:
                return self._over_limit(args)
            return self._trace(key, args)
        self._last = entry
        entry.calls += 1
        return entry.rebuild(entry.run(args if entry.pick is None else entry.pick(args)))

    def _over_limit(self, args):
        """Past ``cache_size_limit`` traces a new signature runs eagerly, as torch.compile falls
        back to eager past its recompile limit (each trace holds a graph and a session)."""
        if not self._warned:
            self._warned = True
            warnings.warn(f"compile: {self.__name__!r} has been traced for {len(self._cache)} input signatures "
                          f"(cache_size_limit={self.cache_size_limit}); new signatures now run eagerly. If the "
                          "batch size varies, compile with dynamic=True; or raise cache_size_limit.",
                          RuntimeWarning, stacklevel=3)
        return self._body(*args)

    def _trace(self, key, args):
        """Trace (which also runs ``fn`` eagerly, so this call's results are real) and cache."""
        grads_before = [(p, id(p._grad) if p._grad is not None else None) for p in self._watched.parameters()]
        rates = self._watched.lift_rates()
        try:
            rec = record(self._body, args, lift_all=True, strict=True, python_constants=True)
        finally:
            self._watched.drop_rates()
        self.trace_count += 1
        graph = rec.graph
        positions = [i for i, a in enumerate(args) if is_tensor_like(a)]
        if self.dynamic and self._reads_batch(graph, len(positions)):
            key = _with_full_shapes(key, args)
        outputs = list(graph.outputs) + [n for _, n in rec.grads]
        names = list(graph.output_names) + [f"grad.{rec.input_name(t)}" for t, _ in rec.grads]
        graph.set_outputs(outputs, names)
        graph = dce(graph)
        tensor_args = [args[i] for i in positions]
        entry = CompiledEntry(graph, rec, positions, len(args), grads_before, rates,
                              lambda e: self._runner(graph, len(tensor_args), rec, tensor_args, e))
        entry.origins = self._watched.state_origins()
        self._cache[key] = entry
        self._last = entry
        return rec.result

    def _reads_batch(self, graph, n_args: int) -> bool:
        """If the traced code read an argument's batch dim into Python (``x.shape[0]``), one
        graph cannot serve every batch size: warn, and from now on trace each size on its own
        (as ``dynamic=False``). Returns whether it switched."""
        try:
            dyn = propagate(graph, {n.attrs.name: {0} for n in graph.inputs[:n_args] if n.shape})
        except DynamicShapeError as error:  # e.g. a dropout mask drawn at the traced batch size
            self._one_graph_per_size(f"cannot keep the batch dim symbolic: {str(error).splitlines()[0]}",
                                     "(a random draw, such as a dropout mask, has the traced batch size)")
            return True
        baked = baked_reads(graph, dyn)
        if not baked:
            return False
        read = baked[0]
        size = read.node.shape[min(set(read.axes) & dyn[read.node])]
        where = f" at {read.source}" if read.source else ""
        self._one_graph_per_size(f"reads {read.what}{where}, a batch dim (dim 0 of an argument with dynamic=True), "
                                 f"into Python, so a graph would bake in {size}",
                                 "Compute it with tensor ops to keep one graph.")
        return True

    def _one_graph_per_size(self, why: str, hint: str) -> None:
        """Give up ``dynamic=True`` for this function, with a warning saying why: from now on each
        batch size gets its own trace (the cached entries' keys leave the batch size out)."""
        self.dynamic = False
        self._cache.clear()
        warnings.warn(f"compile: {self.__name__!r} {why}; each batch size now gets its own trace {hint}",
                      RuntimeWarning, stacklevel=5)

    def _runner(self, graph, n_args, rec, example_args, entry):
        """``run(call args) -> result tensors``: feeds the arguments and the outside tensors
        (parameters, optimizer state, learning rates), runs the graph and writes the mutated
        tensors' new values and the gradients back."""
        outside = [t for t, _ in rec.lifted[n_args:]]
        n_results = len(graph.outputs) - len(rec.mutations) - len(rec.grads)
        rates, mutated, owners = entry.rates, entry.mutated, entry.grad_owners
        if self.backend == "numpy":
            program = Program(graph)

            def run_numpy(args):
                refresh_rates(rates)
                outs = program.run(*map(_array, args), *map(_VALUE, outside), rng=default_generator.numpy)
                write_back(mutated, owners, outs[n_results:])
                return [Tensor._wrap(v) for v in outs[:n_results]]
            return run_numpy
        return self._ort_runner(graph, n_args, n_results, len(rec.mutations), outside, example_args, entry)

    def _ort_runner(self, graph, n_args, n_results, n_updates, outside, example_args, entry):
        # Random draws become inputs fed from tracer's generator with the NumPy kernels, in graph
        # order: the same numbers as the NumPy backend, so manual_seed holds on onnxruntime too.
        graph, draws = draws_as_inputs(graph)
        dynamic_axes = {n.attrs.name: {0: "batch"} for n in graph.inputs[:n_args] if self.dynamic and n.shape}
        model = export(graph, opset=self.opset, params_as="inputs", dynamic_axes=dynamic_axes, check=False)
        session = session_for(graph, self.opset, model=model)
        names = graph.output_names
        updated = names[n_results:n_results + n_updates]
        pairs = [(name[len("updated."):], name) for name in updated] + [(None, n) for n in names[n_results + n_updates:]]
        state_inputs = {p for p, _ in pairs if p is not None}
        position = {n: i for i, n in enumerate(graph.input_names)}
        free_at = [position[n] for n in graph.input_names if n not in state_inputs]
        bound = BoundSession(session, graph, [graph.input_names[i] for i in free_at], pairs, names[:n_results],
                             dynamic_results=self.dynamic)
        free_args = [i for i in free_at if i < n_args]
        free_outside = [outside[i - n_args] for i in free_at if n_args <= i < n_args + len(outside)]
        state_tensors = [outside[position[p] - n_args] for p, _ in pairs if p is not None]
        rates, mutated, owners = entry.rates, entry.mutated, entry.grad_owners

        # The signature fixes which arguments are tensors, so their values are fetched with C-level
        # getters: this runs on every call, where a Python frame per value shows.
        if free_outside or any(not isinstance(a, Tensor) for a in map(example_args.__getitem__, free_args)):
            def fetch(args):
                return [_array(args[i]) for i in free_args] + [t._value for t in free_outside]
        elif len(free_args) == 1:
            only = free_args[0]

            def fetch(args):
                return [args[only]._value]
        else:
            pick = operator.itemgetter(*free_args)

            def fetch(args):
                return list(map(_VALUE, pick(args)))

        if draws:
            fetch = _with_draws(fetch, draws)

        # Static shapes: results land in bound buffers of the traced types (copied out by
        # ``bound.run``), so they are wrapped without re-deriving their types.
        types = None if self.dynamic else [n.type for n in graph.outputs[:n_results]]

        def run_ort(args):
            if rates:
                refresh_rates(rates)
            results, new_state = bound.run(fetch(args), map(_VALUE, state_tensors))
            write_back(mutated, owners, new_state)
            if types is None:
                return [Tensor._wrap(v) for v in results]
            return [Tensor._make(v, t) for v, t in zip(results, types)]
        return run_ort

    @property
    def graph(self):
        """The graph of the most recent call."""
        return None if self._last is None else self._last.graph

    def export(self, path, opset: int | None = None, example=None):
        """Write a traced graph as ONNX, every input (the arguments, then parameters, optimizer
        state, learning rates) kept as a named input and every update as an output named
        ``updated.<input>``; ``feeds()`` gives the state inputs' arrays.

        Args:
            path: the ``.onnx`` file.
            opset: the ONNX opset (default: the one ``compile`` was given).
            example: arguments of one call (a tuple, or one tensor). The graph exported is then
                the steady state for them (a training step's gradients and optimizer state
                present), traced by running the function until a call reuses its graph; the
                parameters, gradients, optimizer state and random generator are put back
                afterwards, so no real step is taken. Without it, the graph of the most recent
                call is written (with a warning if that was an odd-sized batch, e.g. the last
                partial one, while another size ran more often).
        """
        entry = self._steady(example) if example is not None else self._latest()
        axes = {n.attrs.name: {0: "batch"} for n in entry.graph.inputs if n.attrs.kind == "input" and self.dynamic}
        return export(entry.graph, path, opset=opset or self.opset, params_as="inputs", dynamic_axes=axes)

    def feeds(self, example=None) -> dict:
        """The arrays of the exported graph's state inputs by input name (parameters, buffers,
        optimizer state, learning rates; copies), as they are now: what a plain onnxruntime
        loop over ``export``'s file starts from. State the optimizer has not created yet (an
        export before any real step) is its initial state, from which the steady step equals
        torch's first step (``Optimizer.initial_state``). ``example`` picks the graph as in
        ``export``."""
        entry = self._steady(example) if example is not None else self._latest(warn=False)
        for holder, group, key, _ in entry.rates:
            tensor_state.refill(holder, np.asarray(fed_value(group, key), dtype=holder._value.dtype))
        out = {}
        for name, t in entry.state_inputs:
            origin = entry.origins.get(id(t))
            if origin is None:
                value = t._value
            elif origin[0] == "grad":
                p = origin[1]
                value = p._grad._value if p._grad is not None else np.zeros_like(p._value)
            else:
                _, opt, group, p, key = origin
                live = (opt.state.get(p) or {}).get(key)
                value = (live if live is not None else opt.initial_state(group, p)[key])._value
            out[name] = np.array(value, copy=True)
        return out

    def _latest(self, warn: bool = True):
        """The most recent call's entry; warns if it is an odd size that ran less than another."""
        last = self._last
        if last is None:
            raise RuntimeError("compile: call the compiled function once, or pass example=, before exporting it")
        busiest = max(self._cache.values(), key=lambda e: e.calls)
        if warn and busiest.calls > last.calls and busiest.arg_types != last.arg_types:
            warnings.warn(f"compile: exporting the graph of the most recent call, traced for arguments "
                          f"{_types(last)} (a final partial batch?), while {_types(busiest)} ran "
                          f"{busiest.calls} times; pass example= (a full batch) to export that one, or "
                          "compile with dynamic=True", UserWarning, stacklevel=3)
        return last

    def _steady(self, example):
        """The steady-state entry for ``example``, traced without changing any state."""
        args = tuple(example) if isinstance(example, (tuple, list)) else (example,)
        with self._watched.snapshot():
            for _ in range(4):
                self(*args)
                entry = self._cache.get(self._signature(args))
                if entry is self._last and entry.valid():
                    break  # the next call would reuse this graph: the steady state
            entry = self._last
        return entry


def _with_draws(fetch, draws):
    """``fetch`` followed by fresh draws for the graph's random inputs, from tracer's generator
    with the NumPy backend's kernels (in graph order, as the NumPy program draws)."""
    kernels = [(RANDOM_KERNELS[n.op], n.attrs) for n in draws]

    def fetch_and_draw(args):
        rng = default_generator.numpy
        return fetch(args) + [kernel(attrs, rng) for kernel, attrs in kernels]
    return fetch_and_draw

