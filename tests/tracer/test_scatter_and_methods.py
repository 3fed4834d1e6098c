"""Issue 13's everyday Tensor API beyond the op table: in-place forms (values, version counter,
autograd's refusals), views (select, unfold, the in-place view ops), tensor queries (stride,
is_contiguous...) and misuse errors, each run on tracer and torch alike."""
import warnings

import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")

DATA = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)


def _both(fn):
    return fn(tracer), fn(torch)


def _same(ours, theirs):
    o = ours.detach().numpy() if hasattr(ours, "detach") else np.asarray(ours)
    t = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert o.shape == t.shape and str(o.dtype) == str(t.dtype)
    np.testing.assert_allclose(o, t, rtol=1e-6, atol=1e-7)


IN_PLACE = [
    lambda m, t: t.scatter_(1, m.tensor([[0, 1], [2, 3]]), m.ones(2, 2)),
    lambda m, t: t.scatter_(0, m.tensor([[2, 0, 1, 0]]), 7.0),
    lambda m, t: t.scatter_reduce_(1, m.tensor([[0, 0], [3, 3]]), m.ones(2, 2) * 2, "prod", include_self=False),
    lambda m, t: t.scatter_add_(1, m.tensor([[0, 0]]), m.ones(1, 2)),
    lambda m, t: t.index_fill_(1, m.tensor([1, 3]), -2.0),
    lambda m, t: t.index_copy_(0, m.tensor([2]), m.zeros(1, 4)),
    lambda m, t: t.index_add_(0, m.tensor([0, 0]), m.ones(2, 4), alpha=3),
    lambda m, t: t.index_put_((m.tensor([0, 0]), m.tensor([1, 1])), m.tensor(1.0), accumulate=True),
    lambda m, t: t.masked_scatter_(t > 0, m.arange(12.0)),
    lambda m, t: t.put_(m.tensor([0, -1]), m.tensor([5.0, 6.0])),
    lambda m, t: t.ceil_().sign_().tan_(),
    lambda m, t: t.eq_(t).logical_not_(),
    lambda m, t: t.subtract_(1).multiply_(2).divide_(4, rounding_mode="trunc"),
    lambda m, t: t.clamp_(0.1, 1).log_().expm1_().rsqrt_(),
]


@pytest.mark.parametrize("op", range(len(IN_PLACE)))
def test_in_place_values_and_version(op):
    def run(m):
        t = m.tensor(DATA.copy())
        out = IN_PLACE[op](m, t)
        assert out is t and t._version >= 1
        return t
    _same(*_both(run))


@pytest.mark.parametrize("op", [0, 2, 4, 6, 8, 10, 12])
def test_in_place_on_a_leaf_that_requires_grad_is_refused(op):
    for m in (tracer, torch):
        t = m.tensor(DATA.copy(), requires_grad=True)
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            IN_PLACE[op](m, t)


@pytest.mark.parametrize("op", [0, 4, 8, 9])
def test_in_place_write_is_differentiable(op):
    def run(m):
        w = m.tensor(DATA.copy(), requires_grad=True)
        h = w * 2
        IN_PLACE[op](m, h)
        (h * m.tensor(DATA)).sum().backward()
        return w.grad
    _same(*_both(run))


def test_in_place_through_a_view_reaches_the_base():
    def run(m):
        x = m.tensor(DATA.copy())
        x[1].index_fill_(0, m.tensor([0, 2]), 9.0)
        x.select(1, 3).scatter_(0, m.tensor([2]), m.tensor([-5.0]))
        x[:, :2].masked_scatter_(m.tensor([True, False]), m.tensor([1.0, 2.0, 3.0]))
        return x
    _same(*_both(run))


def test_saved_value_modified_in_place_is_refused():
    for m in (tracer, torch):
        w = m.tensor(DATA.copy(), requires_grad=True)
        h = w * 1
        y = h.sin()
        h.scatter_(1, m.tensor([[0]]), 1.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y.sum().backward()  # sin saved its input: h, modified
        h2 = w * 1
        y2 = h2.exp()  # exp saves its output
        y2.index_fill_(0, m.tensor([1]), 0.0)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            y2.sum().backward()


def test_in_place_dtype_rules():
    for m in (tracer, torch):
        i = m.tensor([1, 2, 3])
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired output type Long"):
            i.sin_()
        assert i.eq_(2).tolist() == [0, 1, 0]
        b = m.tensor([True, False])
        assert b.logical_or_(m.tensor([False, False])).tolist() == [True, False]


def test_select_is_a_view():
    def run(m):
        x = m.tensor(DATA.copy())
        x.select(0, -1).mul_(10)
        return x
    _same(*_both(run))


@pytest.mark.parametrize("step", [2, 3])
def test_unfold_is_a_view(step):
    def run(m):
        x = m.arange(12.0).reshape(2, 6)
        u = x.unfold(1, 2, step)
        x[0, 0] = -1.0
        read = u * 1
        u.mul_(10)  # windows not overlapping: the write reaches x
        return m.cat([read.reshape(-1), x.reshape(-1)])
    _same(*_both(run))


def test_unfold_strides_and_gradient():
    for m in (tracer, torch):
        assert m.arange(7.0).unfold(0, 3, 2).stride() == (2, 1)
        assert m.arange(12.0).reshape(3, 4).unfold(1, 2, 1).stride() == (4, 1, 1)

    def run(m):
        w = m.tensor(DATA.copy(), requires_grad=True)
        h = w * 1
        h.unfold(1, 2, 2).mul_(3)  # through the view: gradient flows to w
        (h.unfold(0, 2, 1) ** 2).sum().backward()
        return w.grad
    _same(*_both(run))


def test_overlapping_unfold_refuses_in_place_writes():
    """torch writes each shared element once per window; a documented difference."""
    u = tracer.arange(7.0).unfold(0, 3, 1)
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        u.add_(1)


@pytest.mark.parametrize("case", ["t", "transpose", "swapaxes", "squeeze", "unsqueeze", "view_chain"])
def test_in_place_view_ops(case):
    def run(m):
        x = m.arange(6.0).reshape(2, 3, 1)
        if case == "t":
            y = x.reshape(2, 3).t_()
        elif case == "transpose":
            y = x.transpose_(0, 1)
        elif case == "swapaxes":
            y = x.swapaxes_(0, 2)
        elif case == "squeeze":
            y = x.squeeze_()
        elif case == "unsqueeze":
            y = x.unsqueeze_(1)
        else:
            v = x[0]
            v.squeeze_(-1).unsqueeze_(0)
            v.mul_(-1)
            y = x
        assert y._version >= 1
        return m.cat([y.reshape(-1), m.tensor(list(y.shape), dtype=m.float32)])
    _same(*_both(run))


def test_in_place_view_op_gradient_and_leaf():
    def run(m):
        w = m.tensor(DATA.copy(), requires_grad=True)
        h = w * 2
        h.t_()
        (h * m.arange(3.0)).sum().backward()
        return w.grad
    _same(*_both(run))
    for m in (tracer, torch):
        with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
            m.ones(2, 1, requires_grad=True).squeeze_()
        with pytest.raises(RuntimeError, match=r"t_\(\) expects a tensor with <= 2 dimensions"):
            m.ones(2, 3, 4).t_()


def test_strides_offsets_and_contiguity():
    cases = [
        lambda x: x, lambda x: x.t(), lambda x: x[:, 1:], lambda x: x[::2], lambda x: x[1],
        lambda x: x.unsqueeze(1).expand(3, 2, 4), lambda x: x.transpose(0, 1)[1:], lambda x: x.reshape(12),
        lambda x: x.select(1, 2), lambda x: x * 2, lambda x: x.t().contiguous(), lambda x: x.t() * 2,
        lambda x: (x.t().exp() + 1).t(), lambda x: x.t()[1:].relu(), lambda x: x.sum(0),
        lambda x: x.unsqueeze(0).expand(2, 3, 4) + 0, lambda x: x.reshape(3, 1, 4)[:, :, 1],
    ]
    for case in cases:
        got = [case(m.tensor(DATA.copy())) for m in (tracer, torch)]
        ours, theirs = got
        assert ours.stride() == theirs.stride()
        assert ours.storage_offset() == theirs.storage_offset()
        assert ours.is_contiguous() == theirs.is_contiguous()
        assert ours.stride(-1) == theirs.stride(-1)


def test_queries():
    for m in (tracer, torch):
        assert m.ones(2).is_signed() and not m.ones(2).bool().is_signed() and not m.ones(2).byte().is_signed()
        assert m.ones(2, 3).is_same_size(m.zeros(2, 3)) and not m.ones(2).is_same_size(m.ones(3))
        assert m.ones(1).is_nonzero() and not m.zeros(()).is_nonzero()
        for bad in (m.ones(2), m.zeros(0)):
            with pytest.raises(RuntimeError, match="Boolean value of Tensor with"):
                bad.is_nonzero()
        with pytest.raises(RuntimeError, match="The `\\+` operator, on a bool tensor is not supported"):
            m.positive(m.ones(2).bool())
        r = m.kthvalue(m.tensor([[3.0, 1.0, 2.0]]), 2)
        assert r.values.tolist() == [2.0] and r.indices.tolist() == [2] and type(r).__name__ == "kthvalue"
        a = m.aminmax(m.tensor([[1.0, 5.0], [3.0, 2.0]]))
        assert (float(a.min), float(a.max)) == (1.0, 5.0) and type(a).__name__ == "aminmax"
        assert m.ones(3).type_as(m.ones(1).long()).dtype == m.int64


MISUSE = [
    (RuntimeError, lambda m: m.zeros(3, 4).scatter(1, m.tensor([[0.0]]), 1.0)),
    (RuntimeError, lambda m: m.zeros(3, 4).scatter(1, m.tensor([[4]]), 1.0)),
    (RuntimeError, lambda m: m.zeros(3, 4).scatter(1, m.tensor([[-1]]), 1.0)),
    (RuntimeError, lambda m: m.zeros(3, 4).scatter(1, m.tensor([0, 1]), 1.0)),
    (RuntimeError, lambda m: m.zeros(3, 4).scatter(1, m.zeros(4, 5, dtype=m.int64), 1.0)),
    (RuntimeError, lambda m: m.zeros(3, 4).scatter(1, m.tensor([[0, 1]]), m.ones(1, 1))),
    (RuntimeError, lambda m: m.zeros(3, 4).scatter(1, m.tensor([[0]]), m.ones(1, 1, dtype=m.float64))),
    (RuntimeError, lambda m: m.zeros(3, 4).scatter_(1, m.tensor([[0]]), 1.0, reduce="mean")),
    (RuntimeError, lambda m: m.zeros(3).scatter_reduce(0, m.tensor([0]), m.ones(1), "foo")),
    (RuntimeError, lambda m: m.zeros(3).index_fill(0, m.tensor([0]), m.tensor([1.0]))),
    (IndexError, lambda m: m.zeros(3).index_fill(0, m.tensor([3]), 1.0)),
    (IndexError, lambda m: m.zeros(3).index_fill(0, m.tensor([0.0]), 1.0)),
    (RuntimeError, lambda m: m.zeros(3).index_copy(0, m.tensor([0]), m.ones(1, dtype=m.float64))),
    (IndexError, lambda m: m.zeros(3).index_copy(0, m.tensor([-1]), m.ones(1))),
    (IndexError, lambda m: m.zeros(3).index_copy(0, m.tensor([0, 1]), m.ones(3))),
    (RuntimeError, lambda m: m.zeros(3, 2).index_copy(0, m.tensor([0, 1]), m.ones(2, 3))),
    (RuntimeError, lambda m: m.zeros(3).index_add_(0, m.tensor([0]), m.ones(1, dtype=m.float64))),
    (TypeError, lambda m: m.zeros(3).index_put(m.tensor([0]), m.tensor(1.0))),
    (RuntimeError, lambda m: m.zeros(3).index_put((m.tensor([0]),), m.tensor(1.0, dtype=m.float64))),
    (RuntimeError, lambda m: m.zeros(3).index_put((m.tensor([0, 1]),), m.ones(3), accumulate=True)),
    (RuntimeError, lambda m: m.zeros(3).masked_scatter(m.tensor([1, 0, 1]), m.ones(3))),
    (RuntimeError, lambda m: m.zeros(3).masked_scatter(m.tensor([True, False, True]), m.ones(1))),
    (RuntimeError, lambda m: m.zeros(3).masked_scatter(m.tensor([True, False, True]), m.ones(3, dtype=m.float64))),
    (IndexError, lambda m: m.zeros(3).put(m.tensor([3]), m.ones(1))),
    (IndexError, lambda m: m.zeros(3).put(m.tensor([0, 1]), m.ones(1))),
    (RuntimeError, lambda m: m.zeros(3).put(m.tensor([0], dtype=m.int32), m.ones(1))),
    (RuntimeError, lambda m: m.zeros(3).put(m.tensor([0]), m.ones(1, dtype=m.float64))),
    (IndexError, lambda m: m.zeros(2, 3).take(m.tensor([6]))),
    (RuntimeError, lambda m: m.zeros(2, 3).take(m.tensor([0], dtype=m.int32))),
    (IndexError, lambda m: m.zeros(3, 4).select(1, 4)),
    (IndexError, lambda m: m.zeros(3, 4).select(2, 0)),
    (RuntimeError, lambda m: m.select_scatter(m.zeros(3, 4), m.ones(4), 1, 0)),
    (RuntimeError, lambda m: m.slice_scatter(m.zeros(3, 4), m.ones(3, 3), 1, 0, 4, 2)),
    (RuntimeError, lambda m: m.diagonal_scatter(m.zeros(3, 4), m.ones(4))),
    (RuntimeError, lambda m: m.arange(7.0).unfold(0, 8, 2)),
    (RuntimeError, lambda m: m.arange(7.0).unfold(0, 3, 0)),
    (RuntimeError, lambda m: m.repeat_interleave(m.ones(2, 2), m.tensor([1, -2]), dim=0)),
    (RuntimeError, lambda m: m.repeat_interleave(m.ones(2, 2), m.tensor([1, 2, 3]), dim=0)),
    (RuntimeError, lambda m: m.repeat_interleave(m.ones(2, 2), m.tensor([1, 2]), dim=0, output_size=4)),
    (RuntimeError, lambda m: m.repeat_interleave(m.ones(2, 2), -1)),
    (RuntimeError, lambda m: m.kthvalue(m.ones(1, 3), 4)),
    (RuntimeError, lambda m: m.kthvalue(m.ones(1, 3), 0)),
    (RuntimeError, lambda m: m.ones(2, 3).sum_to_size(4, 3)),
    (RuntimeError, lambda m: m.aminmax(m.zeros(0))),
    (RuntimeError, lambda m: m.fliplr(m.ones(2))),
    (RuntimeError, lambda m: m.flipud(m.ones(()))),
    (RuntimeError, lambda m: m.hsplit(m.arange(6.0), 4)),
    (RuntimeError, lambda m: m.vsplit(m.arange(6.0), 2)),
    (RuntimeError, lambda m: m.dsplit(m.ones(2, 2), 2)),
    (RuntimeError, lambda m: m.ones(5).split_with_sizes([2, 2])),
    (RuntimeError, lambda m: m.zeros(2, 3, 4).fill_diagonal_(1)),
    (RuntimeError, lambda m: m.zeros(3).fill_diagonal_(1)),
    (RuntimeError, lambda m: m.ones(3, 2).index_reduce(0, m.tensor([0]), m.ones(1, 2), "sum")),
    (IndexError, lambda m: m.ones(3, 2).index_reduce(0, m.tensor([-1]), m.ones(1, 2), "amax")),
    (IndexError, lambda m: m.ones(3, 2).index_reduce(0, m.tensor([3]), m.ones(1, 2), "amax")),
    (RuntimeError, lambda m: m.ones(3, 2).index_reduce(0, m.tensor([1]), m.ones(1, 2, dtype=m.float64), "amax")),
    (RuntimeError, lambda m: m.ones(3, 2).index_reduce(0, m.tensor([1, 2]), m.ones(1, 2), "amax")),
    (RuntimeError, lambda m: m.tensor(2.0).index_reduce(0, m.tensor([0]), m.tensor([3.0]), "prod")),
]


@pytest.mark.parametrize("case", range(len(MISUSE)))
def test_misuse_raises_torchs_exception_type(case):
    cls, fn = MISUSE[case]
    for m in (torch, tracer):
        with pytest.raises(cls), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # index_reduce's beta warning
            fn(m)


def test_scatter_reduce_argument_on_tensor_src_is_deprecated():
    with pytest.warns(UserWarning, match="The reduce argument of torch.scatter with Tensor src is deprecated"):
        tracer.zeros(3).scatter(0, tracer.tensor([0, 0]), tracer.ones(2), reduce="add")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tracer.zeros(3).scatter(0, tracer.tensor([0, 0]), 1.0, reduce="add")  # a scalar value: no warning


def test_scatter_graph_does_not_depend_on_the_index_values():
    """The index is a graph input: the traced graph reads it, so other indices give torch's result."""
    import backends.numpy as bnp
    x, i = tracer.zeros(4, 3), tracer.tensor([[0, 1, 2], [3, 3, 0]])
    graph = tracer.trace(lambda a, b: a.scatter(0, b, 1.0).scatter_reduce(0, b, a + 2, "amax"), x, i)
    other = np.array([[2, 2, 2], [1, 0, 3]])
    (got,) = bnp.run(graph, x.numpy(), other)
    want = torch.zeros(4, 3).scatter(0, torch.tensor(other), 1.0).scatter_reduce(
        0, torch.tensor(other), torch.zeros(4, 3)[:2] + 2, "amax")
    np.testing.assert_array_equal(got, want.numpy())


def test_hooks_see_and_replace_gradients():
    def run(m):
        x = m.tensor([1.0, 2.0, 3.0], requires_grad=True)
        seen = []
        x.register_hook(lambda g: seen.append(g * 1) or g * 2)
        y = x * x
        handle = y.register_hook(lambda g: g + 1)
        (y * 3).sum().backward()
        first = x.grad * 1
        x.grad = None
        handle.remove()
        (x * x * 3).sum().backward()
        return m.cat([first, x.grad, seen[0], seen[1]])
    _same(*_both(run))


def test_hooks_in_order_with_retain_grad_and_autograd_grad():
    def run(m):
        w = m.tensor([1.0, -2.0], requires_grad=True)
        a = w * 2
        b = a.sin() * 3
        a.register_hook(lambda g: g * 10)
        b.register_hook(lambda g: g - 1)
        b.register_hook(lambda g: None)  # None keeps the gradient
        b.register_hook(lambda g: g * g)
        b.retain_grad()
        (b ** 2).sum().backward(retain_graph=True)
        retained = b.grad * 1  # torch's retain_grad also fires in autograd.grad (not here)
        (ga,) = m.autograd.grad((b * 2).sum(), w)
        return m.cat([w.grad, retained, ga])
    _same(*_both(run))


def test_hook_errors():
    for m in (tracer, torch):
        with pytest.raises(RuntimeError, match="cannot register a hook on a tensor that doesn't require gradient"):
            m.ones(2).register_hook(lambda g: g)


def test_create_graph_through_a_hook():
    def run(m):
        x = m.tensor([0.5, 1.5], requires_grad=True)
        y = x ** 3
        y.register_hook(lambda g: g * x)
        (g,) = m.autograd.grad(y.sum(), x, create_graph=True)
        g.sum().backward()
        return m.cat([g, x.grad])
    _same(*_both(run))


def test_repeated_positions():
    """Where torch leaves repeats undefined, its CPU loops let the last write win: so here."""
    def run(m):
        src = m.arange(1.0, 9.0).reshape(2, 4)
        return m.cat([
            m.zeros(1, 3).scatter(1, m.tensor([[0, 0, 2]]), 1.0).reshape(-1),
            m.zeros(3, 4).scatter(0, m.tensor([[0, 1, 2, 0], [0, 1, 2, 0]]), src).reshape(-1),
            m.zeros(5).scatter(0, m.tensor([1, 1, 1, 3, 3]), src.reshape(-1)[:5]),
            m.zeros(4, 2).index_copy(0, m.tensor([1, 1, 2]), src.reshape(4, 2)[:3]).reshape(-1),
            m.zeros(4).put(m.tensor([1, -3, 2, 2]), src[0]),
            m.zeros(4).index_put((m.tensor([1, 1]),), m.tensor([2.0, 5.0])),
            m.zeros(4).index_put_((m.tensor([1, 1]),), m.tensor(2.0), accumulate=True),
        ])
    _same(*_both(run))


@pytest.mark.parametrize("how", ["amax", "amin"])
@pytest.mark.parametrize("include_self", [True, False])
def test_large_amax_amin_take_the_sorted_path(monkeypatch, how, include_self):
    """Above EXPANSION_LIMIT compared pairs, amax/amin sort instead of expanding: torch's values
    (nan included) and, without ties, its gradients; the graph runs on onnxruntime too."""
    from backends import compare
    from tracer.ops import scatter as sc
    monkeypatch.setattr(sc, "EXPANSION_LIMIT", 0)
    rng = np.random.default_rng(3)
    x, s = rng.standard_normal((3, 5)), rng.standard_normal((3, 6))
    s[1, 2] = np.nan
    index = rng.integers(0, 5, (3, 6))
    w = rng.standard_normal((3, 5))

    def run(m):
        a, b = m.tensor(x, requires_grad=True), m.tensor(s[[0, 2]], requires_grad=True)
        out = a.scatter_reduce(1, m.tensor(index[[0, 2]]), b, how, include_self=include_self)
        (out * m.tensor(w)).sum().backward()
        nan = m.tensor(x).scatter_reduce(1, m.tensor(index), m.tensor(s), how, include_self=include_self)
        return m.cat([out.reshape(-1), a.grad.reshape(-1), b.grad.reshape(-1), nan.reshape(-1)])
    _same(*_both(run))
    graph = tracer.trace(lambda a, b, i: a.scatter_reduce(1, i, b, how, include_self=include_self),
                         tracer.tensor(x), tracer.tensor(s), tracer.tensor(index))
    assert compare(graph, x, s, index).ok


def test_view_of_a_base_that_changed_shape_in_place():
    """torch records it; here, while autograd records, it is a clear error that changes nothing
    (without autograd the shared memory is simply written, as torch)."""
    x = tracer.ones(2, 3, requires_grad=True) * 1
    v = x[0]
    x.t_()
    with pytest.raises(RuntimeError, match="whose base has since changed its shape in place"):
        v.mul_(2)
    assert x.tolist() == [[1.0, 1.0]] * 3

    def run(m):
        y = m.ones(2, 3)
        w = y[0]
        y.t_()
        w.mul_(2)
        return y
    _same(*_both(run))
