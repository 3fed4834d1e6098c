"""Edge cases of tracer/ops that the differential fuzzer found (tests/fuzz/known.py): 0-d nonzero,
empty logsumexp and chunk, assignment through a None index, bool/integer/mixed-dtype operands
torch refuses, and var with no degrees of freedom left. Each runs the same function on tracer
and on torch, and compares values, dtypes, gradients and the exception type and message."""
from __future__ import annotations

import re
import warnings

import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")


def run(fn, m):
    """``fn(m)`` as numpy arrays (a tuple or list for several results), or the exception raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = fn(m)
        except Exception as e:  # noqa: BLE001 - the exception is the result under test
            return e
    if isinstance(out, (tuple, list)):
        return [_array(o) for o in out]
    return _array(out)


def _array(t):
    return np.asarray(t.detach().numpy()) if hasattr(t, "detach") else np.asarray(t)


def assert_same(fn):
    ours, theirs = run(fn, tracer), run(fn, torch)
    if isinstance(theirs, Exception):
        assert type(ours) is type(theirs), f"torch raised {theirs!r}, tracer gave {ours!r}"
        # torch's first sentence, without the kernel-name prefix some messages carry ("dot : ", "expand(...): ")
        core = re.sub(r"^\w+(\(.*?\))? ?: ", "", str(theirs).splitlines()[0]).split(". ")[0]
        assert core in str(ours), (theirs, ours)
        return
    assert not isinstance(ours, Exception), f"tracer raised {ours!r}, torch gave {theirs!r}"
    for a, b in zip(ours if isinstance(ours, list) else [ours], theirs if isinstance(theirs, list) else [theirs]):
        assert a.shape == b.shape and a.dtype == b.dtype, (a, b)
        np.testing.assert_allclose(a, b, rtol=1e-6, equal_nan=True)
    assert not isinstance(ours, list) or len(ours) == len(theirs)


def grad_of(fn, values, dtype="float32"):
    """``fn`` of a leaf tensor made from ``values``, then (result, leaf gradient) after sum().backward()."""
    def go(m):
        x = m.tensor(np.asarray(values, dtype=dtype), requires_grad=True)
        y = fn(m, x)
        y.sum().backward()
        return y, x.grad
    return go


NONZERO_0D = {
    "nonzero_true": lambda m: m.nonzero(m.tensor(0.5)),
    "nonzero_false": lambda m: m.nonzero(m.tensor(0.0)),
    "nonzero_bool": lambda m: m.tensor(True).nonzero(),
    "argwhere": lambda m: m.argwhere(m.tensor(3)),
    "as_tuple_true": lambda m: m.nonzero(m.tensor(0.5), as_tuple=True),
    "as_tuple_false": lambda m: m.nonzero(m.tensor(0), as_tuple=True),
    "where_condition_only": lambda m: m.where(m.tensor(1.0)),
    "nonzero_2d_unchanged": lambda m: m.nonzero(m.tensor([[0.0, 1.0], [2.0, 0.0]])),
}


@pytest.mark.parametrize("name", NONZERO_0D)
def test_nonzero_of_0d(name):
    assert_same(NONZERO_0D[name])


LOGSUMEXP_EMPTY = {
    "empty_dim": lambda m: m.logsumexp(m.zeros(2, 0), 1),
    "empty_dim_keepdim": lambda m: m.logsumexp(m.zeros(2, 0), 1, keepdim=True),
    "over_all_dims": lambda m: m.logsumexp(m.zeros(2, 0), (0, 1)),
    "nonempty_dim_of_empty": lambda m: m.logsumexp(m.zeros(2, 0), 0),
    "vector": lambda m: m.logsumexp(m.zeros(0), 0),
    "integer": lambda m: m.logsumexp(m.zeros(3, 0, dtype=m.int64), -1),
    "grad": grad_of(lambda m, x: m.logsumexp(x.reshape(2, 0), 1), np.zeros(0)),
    "grad_nonempty_unchanged": grad_of(lambda m, x: m.logsumexp(x, 0), [1.0, -np.inf, 3.0]),
}


@pytest.mark.parametrize("name", LOGSUMEXP_EMPTY)
def test_logsumexp_over_an_empty_dim(name):
    assert_same(LOGSUMEXP_EMPTY[name])


@pytest.mark.parametrize("shape,chunks,dim", [((0, 5), 3, 0), ((0, 5), 1, 0), ((5, 0), 4, 1), ((0,), 2, 0),
                                              ((5, 2), 3, 0), ((5, 0), 3, 0)])
def test_chunk_of_an_empty_dim_keeps_the_count(shape, chunks, dim):
    ours = tracer.zeros(shape).chunk(chunks, dim)
    theirs = torch.zeros(shape).chunk(chunks, dim)
    assert [tuple(c.shape) for c in ours] == [tuple(c.shape) for c in theirs]


def _setitem(shape, index, value):
    def go(m):
        x = m.arange(int(np.prod(shape))).reshape(shape)
        x[index(m) if callable(index) else index] = value(m)
        return x
    return go


SETITEM_NONE = {
    "none_row_into_vector": _setitem((3,), None, lambda m: m.tensor([[3, 2, 4]])),
    "none_vector_into_vector": _setitem((3,), None, lambda m: m.tensor([3, 2, 4])),
    "none_broadcast_row": _setitem((2, 3), None, lambda m: m.tensor([9, 8, 7])),
    "none_leading_ones": _setitem((2, 3), None, lambda m: m.full((1, 1, 2, 3), 5)),
    "last_none": _setitem((2, 3), (-1, None), lambda m: m.tensor([[9, 8, 7]])),
    "none_last": _setitem((2, 3), (None, -1), lambda m: m.tensor([9, 8, 7])),
    "none_slice_none": _setitem((2, 3), (None, slice(None), None), lambda m: m.full((2, 1, 3), 4)),
    "ellipsis_none": _setitem((2, 3), (Ellipsis, None), lambda m: m.full((2, 3, 1), 4)),
    "int_none_int": _setitem((2, 3), (0, None, 1), lambda m: m.tensor([[5]])),
    "none_of_0d": _setitem((), None, lambda m: m.tensor([[5]])),
    "leading_ones_without_none": _setitem((3,), slice(None), lambda m: m.tensor([[[3, 2, 4]]])),
    "tensor_index_leading_ones": _setitem((2, 3), lambda m: m.tensor([1]), lambda m: m.full((1, 1, 3), 6)),
    "too_big_for_none": _setitem((2, 3), (-1, None), lambda m: m.full((2, 3), 1)),
    "too_many_dims": _setitem((3,), slice(None), lambda m: m.full((2, 3), 1)),
}


@pytest.mark.parametrize("name", SETITEM_NONE)
def test_setitem_through_none(name):
    assert_same(SETITEM_NONE[name])


def test_setitem_through_none_gradients():
    def go(m):
        x = m.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], requires_grad=True)
        w = m.tensor([[7.0, 8.0, 9.0]], requires_grad=True)
        v = x * 2
        v[-1, None] = w * 3
        (v * v).sum().backward()
        return v, x.grad, w.grad
    assert_same(go)


@pytest.mark.parametrize("name,fn", [("argmax", lambda m: m.tensor([True, False]).argmax()),
                                     ("argmin", lambda m: m.argmin(m.tensor([True, False]), 0)),
                                     ("argmax_keepdim", lambda m: m.argmax(m.tensor([[True]]), 1, keepdim=True)),
                                     ("argmax_empty", lambda m: m.zeros(0, dtype=m.bool).argmax()),
                                     ("max_dim_still_fine", lambda m: m.tensor([False, True]).max(0)),
                                     ("argmax_int_still_fine", lambda m: m.tensor([1, 3, 2]).argmax())])
def test_arg_reductions_of_bool(name, fn):
    assert_same(fn)


EXTREMA = {
    "max_of_nothing": lambda m: m.zeros(0).max(),
    "min_of_nothing_with_grad": lambda m: m.zeros(0, 2, requires_grad=True).min(),
    "amax_of_nothing": lambda m: m.amax(m.zeros(0)),
    "amin_of_nothing_over_all_dims": lambda m: m.zeros(2, 0).amin(()),
    "amax_over_a_nonempty_dim_fine": lambda m: m.zeros(0, 3).amax(1),
    "max_over_nan_grad": grad_of(lambda m, x: x.max() * 2, [1.0, float("nan"), 2.0, float("nan")]),
    "min_over_nan_grad": grad_of(lambda m, x: x.min(), [[float("nan"), 0.0], [-1.0, -1.0]], "float64"),
    "max_ties_grad": grad_of(lambda m, x: x.max(), [3.0, 1.0, 3.0]),
    "amax_over_nan_grad_is_nan_as_torch": grad_of(lambda m, x: x.amax(), [1.0, float("nan"), 2.0]),
    "max_of_ints_no_grad": lambda m: m.tensor([[1, 5], [3, 2]]).max(),
}


@pytest.mark.parametrize("name", EXTREMA)
def test_whole_tensor_extrema(name):
    assert_same(EXTREMA[name])


B, F32, I64 = (lambda m: m.tensor([True, False])), (lambda m: m.tensor([1.0, 2.0])), (lambda m: m.tensor([1, 2]))
F64 = lambda m: m.tensor([1.0, 2.0], dtype=m.float64)  # noqa: E731


def ones(*shape, dtype="float32"):
    return lambda m: m.ones(*shape, dtype=getattr(m, dtype))


DTYPE_MISUSE = {
    "bool_minus_float": lambda m: B(m) - F32(m),
    "float_minus_bool": lambda m: F32(m) - B(m),
    "bool_minus_bool": lambda m: B(m) - B(m),
    "bool_minus_int": lambda m: B(m) - 1,
    "int_minus_bool": lambda m: 1 - B(m),
    "float_minus_python_bool": lambda m: F32(m) - True,
    "sub_alpha": lambda m: F32(m).sub(B(m), alpha=2),
    "sub_": lambda m: F32(m).sub_(B(m)),
    "rsub_bool_float": lambda m: m.rsub(B(m), F32(m)),
    "rsub_float_bool": lambda m: m.rsub(F32(m), B(m)),
    "rsub_python_bool": lambda m: B(m).__rsub__(True),
    "subtract": lambda m: m.subtract(B(m), F32(m)),
    "float_minus_int_fine": lambda m: F32(m) - I64(m),
    "mse_loss_of_bool_fine": lambda m: m.nn.functional.mse_loss(B(m), F32(m)),  # a composition, no torch.sub
    "abs_bool": lambda m: B(m).abs(),
    "absolute_bool": lambda m: m.absolute(B(m)),
    "abs_of_bool_in_place": lambda m: B(m).abs_(),
    "abs_uint8_fine": lambda m: m.tensor([1, 2], dtype=m.uint8).abs(),
    "neg_bool": lambda m: -B(m),
    "var_int": lambda m: I64(m).var(),
    "std_bool": lambda m: m.std(B(m), 0),
    "var_mean_int": lambda m: m.var_mean(I64(m)),
    "std_mean_int": lambda m: m.std_mean(I64(m)),
    "lerp_bool_end": lambda m: m.lerp(F32(m), B(m), 0.5),
    "lerp_bool_end_tensor_weight": lambda m: m.lerp(F32(m), B(m), m.tensor(0.5)),
    "addcdiv_ints": lambda m: m.addcdiv(I64(m), I64(m), I64(m)),
    "addcdiv_float_by_ints": lambda m: m.addcdiv(F32(m), I64(m), I64(m), value=0.5),
    "addcdiv_bools": lambda m: m.addcdiv(F32(m), B(m), B(m)),
    "addcdiv_in_place": lambda m: F32(m).addcdiv_(I64(m), I64(m)),
    "addcdiv_one_float_fine": lambda m: m.addcdiv(I64(m), F32(m), I64(m)),
    "mm": lambda m: m.mm(ones(2, 2)(m), ones(2, 2, dtype="float64")(m)),
    "matmul": lambda m: ones(2, 2, dtype="float64")(m) @ ones(2, 2)(m),
    "matmul_vectors": lambda m: m.matmul(F32(m), F64(m)),
    "matmul_matrix_vector": lambda m: ones(2, 2)(m) @ F64(m),
    "matmul_batch_vector": lambda m: ones(2, 2, 2)(m) @ F64(m),
    "matmul_vector_matrix": lambda m: F64(m) @ ones(2, 2)(m),
    "matmul_batch_matrix": lambda m: ones(3, 2, 2)(m) @ ones(2, 2, dtype="float64")(m),
    "matmul_matrix_batch": lambda m: ones(2, 2)(m) @ ones(3, 2, 2, dtype="float64")(m),
    "matmul_batches": lambda m: ones(3, 2, 2, dtype="float64")(m) @ ones(3, 2, 2)(m),
    "dot": lambda m: m.dot(F32(m), F64(m)),
    "dot_int_float": lambda m: m.dot(I64(m), F32(m)),
    "mv": lambda m: m.mv(ones(2, 2, dtype="float64")(m), F32(m)),
    "bmm": lambda m: m.bmm(ones(1, 2, 2)(m), ones(1, 2, 2, dtype="float64")(m)),
    "addmm_self": lambda m: m.addmm(ones(2, 2)(m), ones(2, 2, dtype="float64")(m), ones(2, 2, dtype="float64")(m)),
    "addmm_mat1": lambda m: m.addmm(ones(2, 2)(m), ones(2, 2, dtype="float64")(m), ones(2, 2)(m)),
    "floor_bool": lambda m: m.floor(B(m)),
    "ceil_bool": lambda m: B(m).ceil(),
    "round_bool": lambda m: m.round(B(m)),
    "round_decimals_bool": lambda m: m.round(B(m), decimals=1),
    "round_decimals_int": lambda m: m.round(I64(m), decimals=-1),
    "round_decimals_float_fine": lambda m: m.round(m.tensor([15.0, 1.25]), decimals=-1),
    "trunc_bool": lambda m: m.trunc(B(m)),
    "fix_bool": lambda m: B(m).fix(),
    "floor_in_place_bool": lambda m: B(m).floor_(),
    "frac_bool": lambda m: m.frac(B(m)),
    "frac_int": lambda m: I64(m).frac(),
    "floor_int_fine": lambda m: m.floor(I64(m)),
    "trunc_int_fine": lambda m: m.trunc(I64(m)),
    "matmul_bool_matrices": lambda m: ones(2, 2, dtype="bool")(m) @ ones(2, 2, dtype="bool")(m),
    "matmul_bool_vector_matrix": lambda m: B(m) @ ones(2, 3, dtype="bool")(m),
    "matmul_bool_batch_matrix": lambda m: ones(3, 2, 2, dtype="bool")(m) @ ones(2, 2, dtype="bool")(m),
    "matmul_bool_matrix_vector": lambda m: ones(3, 2, dtype="bool")(m) @ B(m),
    "matmul_bool_vectors": lambda m: m.matmul(B(m), B(m)),
    "matmul_bool_batches": lambda m: ones(3, 2, 2, dtype="bool")(m) @ ones(3, 2, 2, dtype="bool")(m),
    "mm_bool": lambda m: m.mm(ones(2, 2, dtype="bool")(m), ones(2, 2, dtype="bool")(m)),
    "mv_bool": lambda m: m.mv(ones(2, 2, dtype="bool")(m), B(m)),
    "dot_bool": lambda m: m.dot(B(m), B(m)),
    "bmm_bool": lambda m: m.bmm(ones(1, 2, 2, dtype="bool")(m), ones(1, 2, 2, dtype="bool")(m)),
    "linear_bool": lambda m: m.nn.functional.linear(ones(2, 2, dtype="bool")(m), ones(3, 2, dtype="bool")(m)),
    "matmul_int_fine": lambda m: ones(2, 2, dtype="int64")(m) @ ones(2, 2, dtype="int64")(m),
}


@pytest.mark.parametrize("name", DTYPE_MISUSE)
def test_dtype_misuse(name):
    assert_same(DTYPE_MISUSE[name])


def test_dtype_misuse_names_the_op_and_operands():
    with pytest.raises(RuntimeError, match=r"^bmm: expected scalar type Float but found Double \(the operands must "
                                           r"have the same dtype\) \(inputs: float32\[1, 2, 2\], float64\[1, 2, 2\]\)"):
        tracer.bmm(tracer.ones(1, 2, 2), tracer.ones(1, 2, 2, dtype=tracer.float64))


VAR_NO_DOF = {
    f"{op}_{name}_{dtype}": (op, fn, values, dtype)
    for op in ("var", "std") for dtype in ("float32", "float64")
    for name, fn, values in [
        ("correction_n", lambda m, x, op: getattr(m, op)(x, correction=2), [1.0, 3.0]),
        ("correction_above_n", lambda m, x, op: getattr(m, op)(x, correction=3), [1.0, 3.0]),
        ("one_element", lambda m, x, op: getattr(m, op)(x), [2.0]),
        ("all_equal", lambda m, x, op: getattr(m, op)(x, correction=2), [1.0, 1.0]),
        ("an_element_at_the_mean", lambda m, x, op: getattr(m, op)(x, correction=3), [1.0, 2.0, 3.0]),
        ("empty", lambda m, x, op: getattr(m, op)(x, correction=0), []),
        ("dim_correction_n", lambda m, x, op: getattr(m, op)(x.reshape(2, 2), 1, correction=2), [1.0, 3.0, 5.0, 5.0]),
        ("dim_correction_above_n", lambda m, x, op: getattr(m, op)(x.reshape(2, 2), 1, correction=3, keepdim=True),
         [1.0, 3.0, 5.0, 4.0]),
        ("with_inf", lambda m, x, op: getattr(m, op)(x, correction=2), [1.0, np.inf]),
        ("fractional_dof_unchanged", lambda m, x, op: getattr(m, op)(x, correction=1.5), [1.0, 3.0]),
    ]
}


@pytest.mark.parametrize("name", VAR_NO_DOF)
def test_var_without_degrees_of_freedom(name):
    op, fn, values, dtype = VAR_NO_DOF[name]
    assert_same(grad_of(lambda m, x: fn(m, x, op), values, dtype))


def test_var_mean_without_degrees_of_freedom():
    assert_same(grad_of(lambda m, x: m.var_mean(x, correction=2)[0], [1.0, 3.0]))


def test_var_without_degrees_of_freedom_compiles():
    """A compiled graph computes what eager does (the detached value plus the zero-valued carrier)."""
    compiled = tracer.compile(lambda x: x.var(correction=2))
    out = compiled(tracer.tensor([1.0, 5.0]))
    assert np.isinf(out.item())
