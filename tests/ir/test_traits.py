"""Traits and dynamic-shape rules live on the op definitions, and the passes read them there:
propagate runs each op's own rule, folding skips nondeterministic ops, autodiff stops at
differentiable=False, reading a shape-only input keeps no value alive, export never merges
nodes of a random draw."""
import numpy as np
import pytest

import backends.onnx
import backends.onnx.dynamic
import ir
from backends.onnx.builder import OnnxBuilder
from ir import autodiff
from ir.dynamic import propagate
from ir.errors import DynamicShapeError
from ir.ops import dynamic as D
from ir.ops import elementwise as E
from ir.ops import indexing as I
from ir.ops import linalg as L
from ir.ops import random as RND
from ir.ops import reduce as R
from ir.ops import shape as S
from ir.ops import source
from ir.ops.base import REGISTRY, Op
from ir.passes import fold_constants


@pytest.fixture
def scratch_ops():
    """Ops defined in a test leave the global registry when it ends."""
    before = dict(REGISTRY)
    yield
    REGISTRY.clear()
    REGISTRY.update(before)


def _identity(types, attrs):
    return types[0]


def _graph(*shapes, dtype=ir.float32):
    g = ir.Graph("g")
    return g, [g.add_input(f"x{i}", shape, dtype) for i, shape in enumerate(shapes)]


def _dyn(g, node, marked):
    """The dynamic dims of ``node`` when the inputs ``marked`` ({name: dims}) are symbolic."""
    return propagate(g, marked)[node]


# -- the rules, op by op ----------------------------------------------------------------------
def test_inputs_carry_the_marked_dims_and_constants_none():
    g, (x,) = _graph((5, 3))
    c = g.add(source.constant, (), source.ConstAttrs(np.ones(3, np.float32)))
    dyn = propagate(g, {"x0": {0}})
    assert dyn[x] == {0} and dyn[c] == set()
    assert source.input_.dynamic is D.marked and source.constant.dynamic is D.static


def test_elementwise_ops_broadcast_dynamic_dims_right_aligned():
    g, (x, b) = _graph((5, 1), (3,))
    y = g.add(E.add, (x, b))  # float32[5, 3]
    assert _dyn(g, y, {"x0": {0}}) == {0}
    assert _dyn(g, y, {"x1": {0}}) == {1}


def test_broadcasting_against_a_fixed_size_is_explained():
    g, (x, other) = _graph((5, 3), (5, 3))
    g.add(E.mul, (x, other), source_="user.py:3")
    with pytest.raises(DynamicShapeError, match="mul at user.py:3: dim 0 is dynamic in one input but fixed"):
        propagate(g, {"x0": {0}})


def test_reshape_copies_a_kept_dim_and_infers_a_merged_one():
    g, (x,) = _graph((5, 3, 4))
    kept = g.add(S.reshape, (x,), S.ShapeAttrs((5, 12)))
    assert S.reshape_plan(kept, {0}) == ([0, 12], {0})
    merged = g.add(S.reshape, (x,), S.ShapeAttrs((15, 4)))
    assert S.reshape_plan(merged, {0}) == ([-1, 4], {0})
    with pytest.raises(DynamicShapeError, match="more than one dynamic dim"):
        S.reshape_plan(merged, {0, 1})


def test_reductions_drop_or_keep_the_reduced_dims():
    g, (x,) = _graph((5, 3, 4))
    summed = g.add(R.sum_, (x,), R.ReduceAttrs((1,)))
    kept = g.add(R.amax, (x,), R.ReduceAttrs((0,), keepdim=True))
    arg = g.add(R.argmax, (x,), R.ArgAttrs(0))
    count = g.add(R.numel, (x,), R.NumelAttrs((0,), ir.float32))
    dyn = propagate(g, {"x0": {0, 2}})
    assert dyn[summed] == {0, 1} and dyn[kept] == {2} and dyn[arg] == {1} and dyn[count] == set()


def test_shape_ops_follow_their_dims():
    g, (x, ref) = _graph((5, 1), (5, 3))
    perm = g.add(S.permute, (x,), S.PermuteAttrs((1, 0)))
    grown = g.add(S.expand, (x,), S.ShapeAttrs((2, 5, 1)))
    like = g.add(S.expand_like, (x, ref))
    full = g.add(S.slice_, (x,), S.SliceAttrs((0, 0), (5, 1), (1, 1)))
    dyn = propagate(g, {"x0": {0}, "x1": {0}})
    assert dyn[perm] == {1} and dyn[grown] == {1} and dyn[like] == {0} and dyn[full] == {0}


def test_slicing_or_concatenating_along_a_dynamic_dim_is_explained():
    g, (x,) = _graph((5, 3))
    g.add(S.slice_, (x,), S.SliceAttrs((1, 0), (5, 3), (1, 1)))
    with pytest.raises(DynamicShapeError, match="slicing along dynamic dim 0"):
        propagate(g, {"x0": {0}})
    g, (x,) = _graph((5, 3))
    g.add(S.concat, (x, x), S.AxisAttrs(0))
    with pytest.raises(DynamicShapeError, match="concatenating along a dynamic dim"):
        propagate(g, {"x0": {0}})


def test_matmul_rows_follow_x_and_a_contracted_dim_leaves_no_trace():
    g, (x, w) = _graph((5, 3), (3, 4))
    y = g.add(L.matmul, (x, w))
    assert _dyn(g, y, {"x0": {0}}) == {0}
    assert _dyn(g, y, {"x0": {1}, "x1": {0}}) == set()
    assert _dyn(g, y, {"x1": {1}}) == {1}


def test_indexing_ops_follow_data_and_indices():
    g = ir.Graph("g")
    x = g.add_input("x", (5, 3), ir.float32)
    idx = g.add_input("idx", (7,), ir.int64)
    taken = g.add(I.take, (x, idx), S.AxisAttrs(1))
    gathered = g.add(I.gather_elements, (x, g.add(S.reshape, (idx,), S.ShapeAttrs((7, 1)))), S.AxisAttrs(0))
    dyn = propagate(g, {"x": {0}, "idx": {0}})
    assert dyn[taken] == {0, 1} and dyn[gathered] == {0}


def test_nll_losses_follow_the_targets_unless_reduced():
    g = ir.Graph("g")
    logp = g.add_input("logp", (5, 3), ir.float32)
    target = g.add_input("target", (5,), ir.int64)
    each = g.add(I.nll_loss, (logp, target), I.NllAttrs())
    mean = g.add(I.nll_loss, (logp, target), I.NllAttrs(reduction="mean"))
    dyn = propagate(g, {"logp": {0}, "target": {0}})
    assert dyn[each] == {0} and dyn[mean] == set()


# -- the walk runs each definition's own rule -------------------------------------------------
def test_propagate_calls_the_rule_on_the_definition(scratch_ops):
    seen = []

    def rule(node, dyn):
        seen.append(node)
        return {0}

    odd = Op("test_odd_rule", _identity, dynamic=rule)
    g, (x,) = _graph((5, 3))
    y = g.add(odd, (x,))
    assert propagate(g, {})[y] == {0} and seen == [y]


def test_an_op_without_a_dynamic_rule_cannot_be_defined(scratch_ops):
    with pytest.raises(TypeError, match="test_no_rule: no dynamic-shape rule"):
        Op("test_no_rule", _identity)
    assert "test_no_rule" not in ir.ops.REGISTRY


def test_dynamic_shape_error_is_one_class_wherever_it_is_imported():
    assert backends.onnx.DynamicShapeError is DynamicShapeError
    assert backends.onnx.dynamic.DynamicShapeError is DynamicShapeError
    assert issubclass(DynamicShapeError, ir.IRError)


# -- the passes read the traits ---------------------------------------------------------------
def _const(g, value):
    return g.add(source.constant, (), source.ConstAttrs(np.asarray(value, np.float32)))


def test_folding_skips_any_nondeterministic_op(scratch_ops):
    noisy = Op("test_noisy", _identity, dynamic=D.like_input(0), nondeterministic=True,
               differentiable=False)
    g, (x,) = _graph((2,))
    c = _const(g, [1.0, 2.0])
    drawn, doubled = g.add(noisy, (c,)), g.add(E.add, (c, c))
    g.set_outputs([g.add(E.add, (x, drawn)), g.add(E.add, (x, doubled))])
    folded = fold_constants(g, lambda node, arrays: arrays[0] * 2)
    assert folded.op_counts().get("test_noisy") == 1
    assert folded.op_counts()["add"] == 2  # the two outputs; c + c became a constant


def test_autodiff_stops_at_an_op_marked_not_differentiable(scratch_ops):
    stop = Op("test_stop", _identity, dynamic=D.like_input(0), differentiable=False)
    g, (x,) = _graph((3,))
    through = g.add(E.mul, (x, g.add(stop, (x,))))
    g.set_outputs([g.add(R.sum_, (through,), R.ReduceAttrs((0,)))])
    grads = ir.append_gradients(g, g.outputs[0], [x])
    assert grads[x] is not None  # through mul's first input only: no rule was asked of test_stop


def test_shape_only_pairs_are_derived_from_the_trait():
    expected = {(op, pos) for op in ir.ops.all_ops() for pos in op.shape_only_inputs}
    assert autodiff.SHAPE_ONLY == expected
    assert (S.expand_like, 1) in autodiff.SHAPE_ONLY and (R.numel, 0) in autodiff.SHAPE_ONLY


def test_not_differentiable_ops_are_sources_predicates_indices_counts_bits_detach_and_draws():
    names = {op.name for op in ir.ops.all_ops() if not op.differentiable}
    assert names == {"input", "constant", "random_uniform", "random_normal", "detach", "logical_not",
                     "eq", "ne", "lt", "le", "gt", "ge", "logical_and", "logical_or", "logical_xor",
                     "argmax", "argmin", "numel", "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not",
                     "max_pool_indices", "topk_indices"}
    assert {op for op in ir.ops.all_ops() if op.nondeterministic} == {RND.random_uniform, RND.random_normal}


def test_export_never_merges_the_nodes_of_a_random_draw():
    g, (x,) = _graph((2,))
    draw = g.add(RND.random_uniform, (), RND.RandomAttrs((2,), ir.float32))
    b = OnnxBuilder(18)
    b.current = draw
    assert b.op("Add", ["a", "b"]) != b.op("Add", ["a", "b"])
    b.current = g.add(E.neg, (x,))
    assert b.op("Add", ["a", "b"]) == b.op("Add", ["a", "b"])
