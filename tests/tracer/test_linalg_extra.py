"""Misuse of einsum, tensordot, inner, kron, cross, cdist, cartesian_prod, block_diag, diag,
diagonal, diag_embed, tril/triu_indices, trace, rot90, tensor_split, take_along_dim and diff
raises torch's exception type with torch's message; a few results whose form is easy to get
wrong (tuples, the 0-block block_diag, the deprecated default cross dim) behave as torch's."""
import warnings

import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")

X = np.arange(12, dtype=np.float32).reshape(3, 4)

MISUSE = {
    # einsum's equation
    "einsum_no_operands": lambda m, x: m.einsum("ij"),
    "einsum_empty_list": lambda m, x: m.einsum("ij", []),
    "einsum_equation_not_str": lambda m, x: m.einsum(3, x),
    "einsum_operand_not_tensor": lambda m, x: m.einsum("ij,jk->ik", x, 3),
    "einsum_fewer_operands": lambda m, x: m.einsum("ij,jk->ik", x),
    "einsum_more_operands": lambda m, x: m.einsum("ij->ij", x, x),
    "einsum_too_many_subscripts": lambda m, x: m.einsum("ijk->i", x),
    "einsum_too_few_subscripts": lambda m, x: m.einsum("i->i", x),
    "einsum_ellipsis_too_many_subscripts": lambda m, x: m.einsum("...ijk->i", x),
    "einsum_invalid_subscript": lambda m, x: m.einsum("i1->i", x),
    "einsum_second_arrow": lambda m, x: m.einsum("ij->j->i", x),
    "einsum_lone_dot": lambda m, x: m.einsum("i.j->ij", x),
    "einsum_two_dots": lambda m, x: m.einsum("..ij->ij", x),
    "einsum_two_ellipses": lambda m, x: m.einsum("...i...->i", x),
    "einsum_output_two_ellipses": lambda m, x: m.einsum("...ij->......", x),
    "einsum_output_lone_dot": lambda m, x: m.einsum("ij->.i", x),
    "einsum_output_repeated": lambda m, x: m.einsum("ij->ii", x),
    "einsum_output_unknown": lambda m, x: m.einsum("ij->iz", x),
    # einsum's operands
    "einsum_diagonal_sizes_differ": lambda m, x: m.einsum("ii->i", x),
    "einsum_sizes_do_not_broadcast": lambda m, x: m.einsum("ij,jk->ik", x, x),
    "einsum_ellipsis_does_not_broadcast": lambda m, x: m.einsum("...ij,...jk", x.reshape(3, 2, 2),
                                                                 x.reshape(2, 3, 2)[:, :2]),
    "einsum_mixed_dtypes": lambda m, x: m.einsum("ij,kj->ik", x, x.double()),
    "einsum_int_and_float": lambda m, x: m.einsum("ij,kj->ik", x.long(), x),
    "einsum_bool_contraction": lambda m, x: m.einsum("ij,kj->ik", x > 3, x > 4),
    "einsum_sublist_out_of_range": lambda m, x: m.einsum(x, [0, 60]),
    # tensordot / inner
    "tensordot_negative_dims": lambda m, x: m.tensordot(x, x, -1),
    "tensordot_dims_too_large": lambda m, x: m.tensordot(x, x, 3),
    "tensordot_sizes_differ": lambda m, x: m.tensordot(x, x, ([0], [1])),
    "tensordot_lists_lengths_differ": lambda m, x: m.tensordot(x, x, ([1, 0], [0])),
    "tensordot_pair_of_ints": lambda m, x: m.tensordot(x, x, (1, 0)),
    "tensordot_float_dims": lambda m, x: m.tensordot(x, x, 1.5),
    "tensordot_mixed_dtypes": lambda m, x: m.tensordot(x, x.T.double(), 1),
    "inner_last_dims_differ": lambda m, x: m.inner(x, x[0, :3]),
    "inner_mixed_dtypes": lambda m, x: m.inner(x.long(), x),
    # cross / cdist
    "cross_dim_not_3": lambda m, x: m.cross(x, x, dim=1),
    "cross_negative_dim_not_3": lambda m, x: m.cross(x.T, x.T, dim=-2),
    "cross_no_dim_of_size_3": lambda m, x: m.cross(x[:2], x[:2]),
    "cross_rank_differs": lambda m, x: m.cross(x.reshape(1, 3, 4), x, dim=1),
    "cross_mixed_dtypes": lambda m, x: m.cross(x, x.double(), dim=0),
    "cross_dim_out_of_range": lambda m, x: m.cross(x, x, dim=2),
    "cdist_1d": lambda m, x: m.cdist(x[0], x),
    "cdist_1d_second": lambda m, x: m.cdist(x, x[0]),
    "cdist_columns_differ": lambda m, x: m.cdist(x, x[:, :3]),
    "cdist_int": lambda m, x: m.cdist(x.long(), x.long()),
    "cdist_negative_p": lambda m, x: m.cdist(x, x, p=-1),
    "cdist_mixed_dtypes": lambda m, x: m.cdist(x, x.double()),
    "cdist_bad_compute_mode": lambda m, x: m.cdist(x, x, compute_mode="fast"),
    "cdist_batch_does_not_broadcast": lambda m, x: m.cdist(x.reshape(3, 2, 2), x.reshape(2, 3, 2)[:, :2]),
    # cartesian_prod / block_diag
    "cartesian_prod_nothing": lambda m, x: m.cartesian_prod(),
    "cartesian_prod_2d": lambda m, x: m.cartesian_prod(x),
    "cartesian_prod_0d": lambda m, x: m.cartesian_prod(x.sum(), x[0]),
    "cartesian_prod_mixed_dtypes": lambda m, x: m.cartesian_prod(x[0], x[0].long()),
    "block_diag_3d": lambda m, x: m.block_diag(x, x.reshape(2, 3, 2)),
    # diagonals
    "diag_0d": lambda m, x: m.diag(x.sum()),
    "diag_3d": lambda m, x: m.diag(x.reshape(2, 3, 2)),
    "diagonal_same_dims": lambda m, x: m.diagonal(x, 0, 0, 0),
    "diagonal_same_dims_negative": lambda m, x: m.diagonal(x, 0, -2, 0),
    "diagonal_dim_out_of_range": lambda m, x: m.diagonal(x, dim1=2),
    "diagonal_1d": lambda m, x: m.diagonal(x[0]),
    "diag_embed_0d": lambda m, x: m.diag_embed(x.sum()),
    "diag_embed_same_dims": lambda m, x: m.diag_embed(x, 0, 1, 1),
    "diag_embed_dim_out_of_range": lambda m, x: m.diag_embed(x, 0, 1, 3),
    "trace_1d": lambda m, x: x[0].trace(),
    "trace_3d": lambda m, x: x.reshape(3, 2, 2).trace(),
    "trace_bool": lambda m, x: (x > 2).trace(),
    "tril_indices_negative_row": lambda m, x: m.tril_indices(-1, 3),
    "triu_indices_negative_col": lambda m, x: m.triu_indices(3, -2),
    "tril_indices_float_dtype": lambda m, x: m.tril_indices(3, 3, dtype=m.float32),
    "tril_indices_uint8_dtype": lambda m, x: m.tril_indices(3, 3, dtype=m.uint8),
    "triu_indices_bool_dtype": lambda m, x: m.triu_indices(3, 3, dtype=m.bool),
    "tril_indices_float_offset": lambda m, x: m.tril_indices(3, 3, 2.5),
    # rot90 / tensor_split / take_along_dim / diff
    "rot90_one_dim": lambda m, x: m.rot90(x, 1, [0]),
    "rot90_1d": lambda m, x: m.rot90(x[0]),
    "rot90_same_dims": lambda m, x: m.rot90(x, 1, [0, 0]),
    "rot90_same_dims_negative": lambda m, x: m.rot90(x, 1, (0, -2)),
    "rot90_dim_out_of_range": lambda m, x: m.rot90(x, 1, [0, 2]),
    "tensor_split_0d": lambda m, x: m.tensor_split(x.sum(), 2),
    "tensor_split_zero_sections": lambda m, x: m.tensor_split(x, 0),
    "tensor_split_negative_sections": lambda m, x: m.tensor_split(x, -1),
    "tensor_split_float_tensor": lambda m, x: m.tensor_split(x, m.tensor([1.0]), 1),
    "tensor_split_2d_tensor": lambda m, x: m.tensor_split(x, m.tensor([[1]]), 1),
    "tensor_split_dim_out_of_range": lambda m, x: m.tensor_split(x, 2, 2),
    "tensor_split_float_dim": lambda m, x: m.tensor_split(x, 2, 0.5),
    "tensor_split_bool_list": lambda m, x: m.tensor_split(x, [True]),
    "tensor_split_int32_tensor": lambda m, x: m.tensor_split(x, m.tensor([1, 2], dtype=m.int32)),
    "take_along_dim_int32_indices": lambda m, x: m.take_along_dim(x, m.tensor([[0]], dtype=m.int32), 1),
    "take_along_dim_rank_differs": lambda m, x: m.take_along_dim(x, m.tensor([0, 1]), 1),
    "take_along_dim_does_not_broadcast": lambda m, x: m.take_along_dim(x, m.zeros(2, 1, dtype=m.long), 1),
    "take_along_dim_0d_dim": lambda m, x: m.take_along_dim(x.sum(), m.tensor(0), 0),
    "diff_0d": lambda m, x: m.diff(x.sum()),
    "diff_negative_order": lambda m, x: m.diff(x, -1),
    "diff_dim_out_of_range": lambda m, x: m.diff(x, 1, 2),
    "diff_prepend_rank_differs": lambda m, x: m.diff(x, 1, 1, x[0]),
    "diff_prepend_number": lambda m, x: m.diff(x, 1, 1, 2.0),
    "diff_append_shape_differs": lambda m, x: m.diff(x, 1, 1, None, x[:2]),
    # torch's argument parser: ints are ints
    "rot90_float_k": lambda m, x: m.rot90(x, 1.5),
    "rot90_bool_k": lambda m, x: m.rot90(x, True),
    "rot90_float_dims": lambda m, x: m.rot90(x, 1, [0.0, 1]),
    "diff_float_n": lambda m, x: m.diff(x, 1.5),
    "diff_float_dim": lambda m, x: m.diff(x, 1, 0.5),
    "diagonal_float_offset": lambda m, x: m.diagonal(x, 0.5),
    "diagonal_float_dim1": lambda m, x: m.diagonal(x, 0, 0.0, 1),
    "diag_bool_diagonal": lambda m, x: m.diag(x, True),
    "diag_embed_float_offset": lambda m, x: m.diag_embed(x, 0.5),
    "cross_float_dim": lambda m, x: m.cross(x[:3], x[:3], 0.5),
    "take_along_dim_float_dim": lambda m, x: m.take_along_dim(x, m.tensor([[0]]), 0.5),
}


@pytest.mark.parametrize("case", sorted(MISUSE))
def test_misuse_raises_torchs_error(case):
    fn = MISUSE[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception) as expected:
            fn(torch, torch.tensor(X))
        with pytest.raises(type(expected.value)) as got:
            fn(tracer, tracer.tensor(X))
    first_line = str(expected.value).splitlines()[0]
    assert first_line[:100] in str(got.value), (str(expected.value), str(got.value))


def test_tensor_split_returns_tuples_of_views():
    x = tracer.arange(7.0)
    pieces = tracer.tensor_split(x, [2, 5])
    assert isinstance(pieces, tuple) and [p.tolist() for p in pieces] == [[0.0, 1.0], [2.0, 3.0, 4.0], [5.0, 6.0]]
    pieces[1][0] = 10.0  # a view, as torch's
    assert x[2].item() == 10.0


@pytest.mark.parametrize("offset, dims", [(0, (0, 1)), (1, (0, 1)), (-1, (1, 0)), (1, (-1, -2))])
def test_diagonal_of_the_last_dims_is_a_view(offset, dims):
    def write(m):
        x = m.zeros(2, 3, 4, dtype=m.float64)
        x.diagonal(offset, *dims).add_(m.arange(1.0, 4.0, dtype=m.float64)[: x.diagonal(offset, *dims).shape[-1]])
        return x.numpy()
    np.testing.assert_array_equal(write(tracer), write(torch))


def test_diagonal_gradient_through_an_in_place_write():
    def grad(m):
        w = m.tensor(np.arange(9.0).reshape(3, 3), requires_grad=True)
        x = w * 1
        x.diagonal().mul_(3)
        x.sum().backward()
        return w.grad.numpy()
    np.testing.assert_array_equal(grad(tracer), grad(torch))


def test_block_diag_of_nothing_is_1_by_0():
    ours, theirs = tracer.block_diag(), torch.block_diag()
    assert tuple(ours.shape) == tuple(theirs.shape) == (1, 0) and str(ours.dtype) == "tracer.float32"


def test_cross_without_dim_warns_as_torch():
    a = np.arange(12.0).reshape(4, 3)
    with pytest.warns(UserWarning, match="without specifying the dim arg is deprecated"):
        ours = tracer.cross(tracer.tensor(a), tracer.tensor(a[::-1].copy()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = torch.cross(torch.tensor(a), torch.tensor(a[::-1].copy()))
    np.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_cartesian_prod_of_one_tensor_is_that_tensor():
    x = tracer.tensor([1.0, 2.0])
    assert tracer.cartesian_prod(x) is x


def test_einsum_grad_of_grad_matches_torch():
    a, b = np.arange(6.0).reshape(2, 3) / 7, np.arange(12.0).reshape(3, 4) / 5

    def second(m, ta, tb):
        out = m.einsum("ij,jk->ik", ta * ta, tb).sum()
        (ga,) = m.autograd.grad(out, ta, create_graph=True)
        return m.autograd.grad(ga.sum(), tb)[0]

    ours = second(tracer, tracer.tensor(a, requires_grad=True), tracer.tensor(b, requires_grad=True))
    theirs = second(torch, torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True))
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-12)


def test_trace_of_a_tensor_is_the_matrix_trace_and_refuses_extra_arguments():
    m = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert tracer.trace(tracer.tensor(m)).item() == torch.trace(torch.tensor(m)).item() == 6.0
    with pytest.raises(TypeError, match="pass the function first"):
        tracer.trace(tracer.ones(2, 2), tracer.ones(2))


def test_meshgrid_warns_and_refuses_as_torch():
    for m in (tracer, torch):
        with pytest.warns(UserWarning, match="required to pass the indexing argument"):
            grids = m.meshgrid(m.tensor([1, 2, 3]), m.tensor([4, 5]))
        assert [tuple(g.shape) for g in grids] == [(3, 2), (3, 2)]
        with pytest.raises(RuntimeError, match='indexing must be one of "xy" or "ij", but received: zz'):
            m.meshgrid(m.ones(2), indexing="zz")
        with pytest.raises(RuntimeError, match="meshgrid expects a non-empty TensorList"):
            m.meshgrid(indexing="ij")
        with pytest.raises(RuntimeError, match="meshgrid expects all tensors to have the same dtype"):
            m.meshgrid(m.ones(2), m.ones(2, dtype=m.float64), indexing="ij")
        with pytest.raises(RuntimeError, match="Expected 0D or 1D tensor in the tensor list"):
            m.meshgrid(m.ones(2, 2), indexing="ij")
