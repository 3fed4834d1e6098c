"""nn.Embedding and F.embedding against torch 2.13: reprs, init, padding_idx (zero row, no
gradient), max_norm's in-place renormalisation, from_pretrained, refusals and errors."""
from __future__ import annotations

import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("kw", [{}, {"padding_idx": 1}, {"padding_idx": -2, "max_norm": 1.5},
                                {"max_norm": 0.5, "norm_type": 1.0}, {"scale_grad_by_freq": True, "sparse": True}])
def test_repr_as_torch(kw):
    assert repr(tracer.nn.Embedding(7, 3, **kw)) == repr(torch.nn.Embedding(7, 3, **kw))


def test_init_is_standard_normal_with_the_padding_row_zeroed():
    tracer.manual_seed(0)
    w = tracer.nn.Embedding(2000, 8, padding_idx=3).weight.detach().numpy()
    assert np.all(w[3] == 0)
    rest = np.delete(w, 3, axis=0)
    assert abs(rest.mean()) < 0.02 and abs(rest.std() - 1) < 0.02


@pytest.mark.parametrize("kw", [{"padding_idx": 0}, {"max_norm": 1.0}, {"max_norm": 0.3, "norm_type": 3.0,
                                                                          "padding_idx": 2}])
def test_module_forward_backward_and_renorm_as_torch(kw):
    tracer.manual_seed(0)
    ours = tracer.nn.Embedding(6, 4, **kw)
    theirs = torch.nn.Embedding(6, 4, **kw)
    theirs.load_state_dict({"weight": torch.tensor(ours.weight.detach().numpy())})
    idx = np.array([[0, 2, 2, 5], [1, 0, 2, 3]])
    o, t = ours(tracer.tensor(idx)), theirs(torch.tensor(idx))
    np.testing.assert_allclose(o.detach().numpy(), t.detach().numpy(), rtol=1e-6)
    g = np.random.default_rng(0).standard_normal(tuple(t.shape)).astype(np.float32)
    (o * tracer.tensor(g)).sum().backward()
    (t * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(ours.weight.grad.numpy(), theirs.weight.grad.numpy(), rtol=1e-6, atol=1e-7)
    # max_norm rewrites the looked-up rows of the weight itself, as torch's embedding_renorm_
    np.testing.assert_allclose(ours.weight.detach().numpy(), theirs.weight.detach().numpy(), rtol=1e-6)


def test_from_pretrained_freezes_by_default_and_keeps_the_values():
    w = np.arange(6.0, dtype=np.float32).reshape(3, 2)
    frozen = tracer.nn.Embedding.from_pretrained(tracer.tensor(w))
    assert not frozen.weight.requires_grad
    assert repr(frozen) == repr(torch.nn.Embedding.from_pretrained(torch.tensor(w)))
    trainable = tracer.nn.Embedding.from_pretrained(tracer.tensor(w), freeze=False, padding_idx=1)
    assert trainable.weight.requires_grad and trainable.padding_idx == 1
    np.testing.assert_array_equal(trainable(tracer.tensor([2, 1])).detach().numpy(), w[[2, 1]])


@pytest.mark.parametrize("call, kind", [
    (lambda m, e: e(m.tensor([1.0, 2.0])), RuntimeError),            # float indices
    (lambda m, e: e(m.tensor([9])), IndexError),                      # out of range
    (lambda m, e: m.nn.Embedding(4, 2, padding_idx=4), AssertionError),
    (lambda m, e: m.nn.Embedding(4, 2, padding_idx=-5), AssertionError),
    (lambda m, e: m.nn.Embedding.from_pretrained(m.ones(3)), AssertionError),
])
def test_misuse_raises_torchs_exception_type(call, kind):
    for m in (torch, tracer):
        with pytest.raises(kind):
            call(m, m.nn.Embedding(4, 2))


def test_sparse_gradients_are_refused_not_ignored():
    with pytest.raises(NotImplementedError, match="sparse"):
        tracer.nn.Embedding(4, 2, sparse=True)(tracer.tensor([1, 2]))
