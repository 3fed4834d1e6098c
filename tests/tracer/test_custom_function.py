"""torch.autograd.Function: user forward/backward in Python, eagerly, in autograd.grad and in
compiled graphs on the NumPy backend, with torch's errors; ONNX export refuses by name."""
import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")


def _functions(m):
    """The same Functions written against tracer or torch."""

    class Legendre3(m.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return 0.5 * (5 * x ** 3 - 3 * x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 1.5 * (5 * x ** 2 - 1)

    class ScaleShift(m.autograd.Function):  # tensor and non-tensor arguments, kwargs, needs_input_grad
        @staticmethod
        def forward(ctx, x, w, k, shift=0.0):
            ctx.save_for_backward(x, w)
            ctx.k = k
            return x * w * k + shift

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            gx = g * w * ctx.k if ctx.needs_input_grad[0] else None
            gw = (g * x * ctx.k).sum(0) if ctx.needs_input_grad[1] else None
            return gx, gw, None, None

    class SortedPair(m.autograd.Function):  # two outputs, one marked non-differentiable
        @staticmethod
        def forward(ctx, x):
            idx = x.argsort(dim=-1)
            values = x.gather(-1, idx)
            ctx.save_for_backward(idx)
            ctx.mark_non_differentiable(idx)
            return values, idx

        @staticmethod
        def backward(ctx, g_values, g_idx):
            (idx,) = ctx.saved_tensors
            return m.zeros_like(g_values).scatter_add(-1, idx, g_values)

    class Exp(m.autograd.Function):  # the setup_context style, saving the output
        @staticmethod
        def forward(x):
            return x.exp()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(output)

        @staticmethod
        def backward(ctx, g):
            (y,) = ctx.saved_tensors
            return g * y

    class Broadcasting(m.autograd.Function):  # a gradient of the broadcast shape, summed back
        @staticmethod
        def forward(ctx, b, x):
            return x + b

        @staticmethod
        def backward(ctx, g):
            return g, g

    return Legendre3, ScaleShift, SortedPair, Exp, Broadcasting


def _run(m, arrays):
    L3, SS, SP, Exp, B = _functions(m)
    x, w, b = (m.tensor(a, requires_grad=True) for a in arrays)
    values, idx = SP.apply(x)
    out = (L3.apply(x).sum() + SS.apply(x, w, 2.5, shift=1.0).pow(2).sum() + (values * m.arange(4.0)).sum()
           + Exp.apply(x * 0.5).sum() + B.apply(b, x).sum())
    out.backward()
    return [out.detach()] + [t.grad for t in (x, w, b)] + [idx]


def test_functions_give_torchs_values_and_gradients():
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal((3, 4)), rng.standard_normal(4), rng.standard_normal(1)]
    ours, theirs = _run(tracer, arrays), _run(torch, arrays)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-12)


def test_function_outputs_require_grad_as_torchs_and_name_their_grad_fn():
    for m in (tracer, torch):
        L3, SS, SP, *_ = _functions(m)
        x = m.ones(3, requires_grad=True)
        values, idx = SP.apply(x)
        with m.no_grad():
            plain = L3.apply(x)
        got = (values.requires_grad, idx.requires_grad, plain.requires_grad, L3.apply(m.ones(3)).requires_grad,
               type(L3.apply(x).grad_fn).__name__ if m is torch else L3.apply(x).grad_fn.name())
        assert got == (True, False, False, False, "Legendre3Backward")


def test_materialize_grads_off_passes_none_for_unused_outputs():
    seen = []

    class Two(tracer.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.set_materialize_grads(False)
            return x * 2, x * 3

        @staticmethod
        def backward(ctx, ga, gb):
            seen.append((ga is None, gb is None))
            return (0 if ga is None else ga * 2) + (0 if gb is None else gb * 3)

    x = tracer.ones(2, requires_grad=True)
    a, b = Two.apply(x)
    (a.sum() + 10 * b.sum()).backward()
    assert x.grad.tolist() == [32.0, 32.0] and sorted(seen) == [(False, True), (True, False)]


def test_autograd_grad_through_a_function():
    L3 = _functions(tracer)[0]
    x = tracer.tensor([0.5, -1.0, 2.0], requires_grad=True)
    (g,) = tracer.autograd.grad(L3.apply(x).sum(), x)
    np.testing.assert_allclose(g.numpy(), 1.5 * (5 * x.detach().numpy() ** 2 - 1), rtol=1e-6)


def test_a_compiled_step_reruns_forward_and_backward_on_new_inputs():
    L3, SS, *_ = _functions(tracer)
    w = tracer.nn.Parameter(tracer.tensor([0.5, -0.25, 1.0]))
    opt = tracer.optim.SGD([w], lr=0.1)

    def step(x):
        opt.zero_grad()
        loss = L3.apply(SS.apply(x, w, 2.0)).sum()
        loss.backward()
        opt.step()
        return loss

    compiled = tracer.compile(step, backend="numpy")
    w_ref = tracer.nn.Parameter(w.detach().clone())
    opt_ref = tracer.optim.SGD([w_ref], lr=0.1)
    rng = np.random.default_rng(1)
    for _ in range(4):
        x = rng.standard_normal((2, 3)).astype(np.float32)
        loss = compiled(tracer.tensor(x))
        opt_ref.zero_grad()
        ref = L3.apply(SS.apply(tracer.tensor(x), w_ref, 2.0)).sum()
        ref.backward()
        opt_ref.step()
        assert float(loss) == pytest.approx(float(ref), rel=1e-6)
        np.testing.assert_allclose(w.detach().numpy(), w_ref.detach().numpy(), rtol=1e-6)


def test_onnx_export_refuses_a_function_by_name():
    L3 = _functions(tracer)[0]
    graph = tracer.trace(lambda x: L3.apply(x) * 2, tracer.ones(3))
    from backends.onnx import ExportError, export
    with pytest.raises(ExportError, match="Legendre3 is a torch.autograd.Function"):
        export(graph)


def _both_raise(body, exc=RuntimeError):
    with pytest.raises(exc) as theirs:
        body(torch)
    with pytest.raises(exc) as ours:
        body(tracer)
    assert str(theirs.value).replace("torch.FloatTensor [3]", "") in str(ours.value) or \
        str(ours.value).startswith(str(theirs.value)[:60]), (str(ours.value), str(theirs.value))
    return str(ours.value)


def test_misuse_raises_torchs_errors():
    def backward_returns(result, args=(1.0,)):
        def body(m):
            class F(m.autograd.Function):
                @staticmethod
                def forward(ctx, x, *rest):
                    return x * 2

                @staticmethod
                def backward(ctx, g):
                    return result(m, g)
            F.apply(m.ones(3, requires_grad=True), *args).sum().backward()
        return body

    _both_raise(backward_returns(lambda m, g: g))  # one gradient for two arguments
    _both_raise(backward_returns(lambda m, g: (g, g)))  # a gradient for the number argument
    _both_raise(backward_returns(lambda m, g: g[:2], args=()))  # a gradient of the wrong shape

    def saves_a_number(m):
        class F(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(3)
                return x
        F.apply(m.ones(2, requires_grad=True))
    _both_raise(saves_a_number, TypeError)

    def modifies_saved(m):
        class F(m.autograd.Function):
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x * 2

            @staticmethod
            def backward(ctx, g):
                (x,) = ctx.saved_tensors
                return g * x
        leaf = m.ones(3, requires_grad=True)
        z = leaf * 1
        y = F.apply(z)
        z.add_(1)
        y.sum().backward()
    message = _both_raise(modifies_saved)
    assert "modified by an inplace operation" in message and "expected version 0" in message

    class NoBackward(tracer.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            return x * 2
    with pytest.raises(NotImplementedError, match="implement either the backward"):
        NoBackward.apply(tracer.ones(2, requires_grad=True)).sum().backward()


def test_saving_a_graph_with_a_function_is_refused_and_writes_nothing(tmp_path):
    L3 = _functions(tracer)[0]
    graph = tracer.trace(lambda x: L3.apply(x) * 2, tracer.ones(3))
    import ir
    with pytest.raises(ir.IRError, match="function_output: an attribute holds a Python object"):
        graph.save(tmp_path / "g.json")
    assert not (tmp_path / "g.json").exists()


def test_differentiating_a_functions_backward_raises_torchs_once_differentiable_error():
    L3 = _functions(tracer)[0]
    x = tracer.tensor([0.5, 2.0], requires_grad=True)
    (g,) = tracer.autograd.grad(L3.apply(x).sum(), x, create_graph=True)
    assert g.requires_grad
    with pytest.raises(RuntimeError, match="trying to differentiate twice a function that was marked with "
                                           "@once_differentiable"):
        g.sum().backward()
