"""Misuse of sort/topk/cumsum/cumprod/tril/triu/flip/roll raises torch's exception type with torch's
message; tie order, NaN placement and the return types behave as torch's."""
import numpy as np
import pytest
import torch

import tracer

X = np.arange(12, dtype=np.float32).reshape(3, 4)

MISUSE = {
    "topk_k_too_large": lambda m, x: m.topk(x, 5),
    "topk_k_negative": lambda m, x: m.topk(x, -1),
    "topk_dim_out_of_range": lambda m, x: m.topk(x, 2, dim=2),
    "topk_float_k": lambda m, x: m.topk(x, 2.0),
    "topk_0d_k2": lambda m, x: m.topk(x.sum(), 2),
    "sort_dim_out_of_range": lambda m, x: m.sort(x, dim=3),
    "argsort_dim_out_of_range": lambda m, x: m.argsort(x, dim=-3),
    "cumsum_dim_out_of_range": lambda m, x: m.cumsum(x, 2),
    "cumsum_0d_dim": lambda m, x: m.cumsum(x.sum(), 1),
    "cumprod_dim_out_of_range": lambda m, x: x.cumprod(-3),
    "tril_1d": lambda m, x: m.tril(x[0]),
    "triu_0d": lambda m, x: m.triu(x.sum()),
    "tril_inplace_leaf": lambda m, x: x.requires_grad_().tril_(),
    "flip_repeated_dim": lambda m, x: m.flip(x, (0, -2)),
    "flip_dim_out_of_range": lambda m, x: m.flip(x, (2,)),
    "flip_int_dims": lambda m, x: m.flip(x, 1),
    "roll_misaligned": lambda m, x: m.roll(x, (1, 2), 0),
    "roll_no_shifts": lambda m, x: m.roll(x, [], []),
    "roll_dim_out_of_range": lambda m, x: m.roll(x, 1, 5),
    "roll_0d_with_dim": lambda m, x: m.roll(x.sum(), 1, 0),
    "roll_float_shift": lambda m, x: m.roll(x, 1.5, 0),
}


@pytest.mark.parametrize("case", sorted(MISUSE))
def test_misuse_raises_torchs_error(case):
    fn = MISUSE[case]
    with pytest.raises(Exception) as expected:
        fn(torch, torch.tensor(X))
    with pytest.raises(type(expected.value)) as got:
        fn(tracer, tracer.tensor(X))
    first_line = str(expected.value).splitlines()[0]
    assert first_line.split(": ", 1)[-1][:40] in str(got.value), (str(expected.value), str(got.value))


def test_sort_returns_named_tuple():
    values, indices = tracer.sort(tracer.tensor([3.0, 1.0, 2.0]))
    result = tracer.sort(tracer.tensor([3.0, 1.0, 2.0]))
    assert result.values.tolist() == values.tolist() == [1.0, 2.0, 3.0]
    assert result.indices.tolist() == indices.tolist() == [1, 2, 0]
    assert result[0] is result.values and len(result) == 2
    top = tracer.tensor([3.0, 1.0, 2.0]).topk(2)
    assert top.values.tolist() == [3.0, 2.0] and top.indices.tolist() == [0, 2]


@pytest.mark.parametrize("descending", [False, True])
def test_stable_ties_and_nan_as_torch(descending):
    data = [1.0, float("nan"), 0.0, 1.0, float("nan"), 0.0, 1.0]
    for stable in (False, True):  # tracegrad is always stable, one valid order for stable=False
        got = tracer.sort(tracer.tensor(data), descending=descending, stable=stable)
        want = torch.sort(torch.tensor(data), descending=descending, stable=True)
        assert got.indices.tolist() == want.indices.tolist()
        np.testing.assert_array_equal(got.values.numpy(), want.values.numpy())


def test_cumprod_gradient_with_zeros_matches_torch():
    data = np.array([[2.0, 0.0, 3.0, 0.0, 5.0], [0.0, 1.5, -2.0, 4.0, 0.5]])
    a = tracer.tensor(data, requires_grad=True)
    b = torch.tensor(data, requires_grad=True)
    g = np.random.default_rng(0).standard_normal(data.shape)
    (tracer.cumprod(a, 1) * tracer.tensor(g)).sum().backward()
    (torch.cumprod(b, 1) * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), rtol=1e-12)


def test_cumsum_inplace_keeps_dtype_and_writes_through():
    x = tracer.tensor([[1, 2], [3, 4]])
    y = x.cumsum_(0)
    assert y is x and x.dtype == tracer.int64 and x.tolist() == [[1, 2], [4, 6]]
