"""The ONNX-side passes (backends/onnx/passes), each on its own: the graph before and after
(op types), and the exported model's numbers equal to the interpreter's on onnxruntime at its
default optimisation level (which fuses nodes itself) and with optimisations off."""
import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import backends.numpy as bnp
import ir
import tracer as torch
from backends.onnx import export
from backends.onnx.passes import (FUSIONS, drop_unused, fuse, gemm_bias, matmul_transpose_to_gemm,
                                  summed_bce_with_logits, value_types, zero_select_as_product)
from backends.onnx.passes.select import MIN_ELEMENTS
from tracer import nn

F = TensorProto.FLOAT
LEVELS = [ort.GraphOptimizationLevel.ORT_ENABLE_ALL, ort.GraphOptimizationLevel.ORT_DISABLE_ALL]


def _model(nodes, inputs, outputs, initializers=()):
    """A hand-built model: ``inputs``/``outputs`` as {name: (elem type, shape)}."""
    graph = helper.make_graph(
        [helper.make_node(op, ins, outs, name=f"n{i}", **attrs) for i, (op, ins, outs, attrs) in enumerate(nodes)],
        "g", [helper.make_tensor_value_info(k, t, s) for k, (t, s) in inputs.items()],
        [helper.make_tensor_value_info(k, t, s) for k, (t, s) in outputs.items()],
        initializer=[numpy_helper.from_array(np.asarray(v), k) for k, v in dict(initializers).items()])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)])
    model.ir_version = 8
    return model


def _apply(model, one_pass):
    one_pass(model.graph, value_types(model))
    onnx.checker.check_model(model, full_check=True)
    return [n.op_type for n in model.graph.node]


def _ops(model):
    return [n.op_type for n in model.graph.node]


def _ort(model, feeds, level):
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def _agrees_with_interpreter(graph, arrays, model, level, rtol=1e-5, atol=1e-6):
    expected = bnp.run(graph, *arrays)
    got = _ort(model, dict(zip(graph.input_names, arrays)), level)
    for name, e, g in zip(graph.output_names, expected, got):
        assert g.shape == e.shape, name
        np.testing.assert_allclose(g, e, rtol=rtol, atol=atol, err_msg=name)


def _linear_graph(bias=True, batch=5):
    torch.manual_seed(0)
    layer = nn.Linear(3, 4, bias=bias)
    x = torch.randn(batch, 3)
    return torch.trace(layer, x), [x.numpy()]


# -- MatMul(x, Transpose(w)) -> Gemm(transB=1) ------------------------------------------------

def _matmul_of_transpose(x_shape=(5, 3), x_type=F, extra_output=False):
    outputs = {"y": (x_type, list(x_shape[:-1]) + [4])}
    if extra_output:
        outputs["wt"] = (x_type, [3, 4])
    return _model([("Transpose", ["w"], ["wt"], {"perm": [1, 0]}), ("MatMul", ["x", "wt"], ["y"], {})],
                  {"x": (x_type, list(x_shape)), "w": (x_type, [4, 3])}, outputs)


def test_matmul_of_a_transposed_matrix_becomes_gemm_reading_the_matrix():
    model = _matmul_of_transpose()
    assert _apply(model, matmul_transpose_to_gemm) == ["Gemm"]
    gemm = model.graph.node[0]
    assert list(gemm.input) == ["x", "w"] and helper.get_attribute_value(gemm.attribute[0]) == 1


@pytest.mark.parametrize("case", ["1-D x", "batched x", "int64", "transpose also an output"])
def test_matmul_stays_where_gemm_cannot_take_it_or_the_transpose_is_needed(case):
    model = {"1-D x": lambda: _matmul_of_transpose(x_shape=(3,)),
             "batched x": lambda: _matmul_of_transpose(x_shape=(2, 5, 3)),
             "int64": lambda: _matmul_of_transpose(x_type=TensorProto.INT64),
             "transpose also an output": lambda: _matmul_of_transpose(extra_output=True)}[case]()
    expected = ["Transpose", "Gemm"] if case == "transpose also an output" else ["Transpose", "MatMul"]
    assert _apply(model, matmul_transpose_to_gemm) == expected


def test_a_transpose_of_a_transpose_keeps_what_the_gemm_reads():
    """x @ (w.t()).t(): the outer Transpose goes, the inner one is what the Gemm reads."""
    model = _model([("Transpose", ["w"], ["wt"], {"perm": [1, 0]}), ("Transpose", ["wt"], ["w2"], {"perm": [1, 0]}),
                    ("MatMul", ["x", "wt"], ["y"], {}), ("MatMul", ["x2", "w2"], ["z"], {})],
                   {"x": (F, [5, 3]), "x2": (F, [5, 4]), "w": (F, [4, 3])}, {"y": (F, [5, 4]), "z": (F, [5, 3])})
    assert _apply(model, matmul_transpose_to_gemm) == ["Transpose", "Gemm", "Gemm"]


@pytest.mark.parametrize("level", LEVELS)
def test_exported_linear_without_bias_is_one_gemm_and_right(level):
    graph, arrays = _linear_graph(bias=False)
    assert _ops(export(graph, fuse=False)) == ["Transpose", "MatMul"]
    model = export(graph)
    assert _ops(model) == ["Gemm"]
    _agrees_with_interpreter(graph, arrays, model, level)


# -- Gemm + Add(bias) -> Gemm with C ----------------------------------------------------------

def _gemm_then_add(bias_shape, bias_first=False, product_output=False):
    add_inputs = ["b", "p"] if bias_first else ["p", "b"]
    outputs = {"y": (F, [1, 5, 4] if len(bias_shape) == 3 else [5, 4]), **({"p": (F, [5, 4])} if product_output else {})}
    return _model([("Gemm", ["x", "w"], ["p"], {"transB": 1}), ("Add", add_inputs, ["y"], {})],
                  {"x": (F, [5, 3]), "w": (F, [4, 3]), "b": (F, list(bias_shape))}, outputs)


@pytest.mark.parametrize("bias_shape,bias_first", [((4,), False), ((4,), True), ((5, 1), False), ((5, 4), False),
                                                   ((), False)])
def test_a_gemm_takes_the_bias_added_to_it(bias_shape, bias_first):
    model = _gemm_then_add(bias_shape, bias_first)
    assert _apply(model, gemm_bias) == ["Gemm"]
    assert list(model.graph.node[0].input) == ["x", "w", "b"] and model.graph.node[0].output[0] == "y"


@pytest.mark.parametrize("case", ["product read twice", "bias of rank 3"])
def test_the_add_stays_where_c_cannot_take_it(case):
    model = _gemm_then_add((4,), product_output=True) if case == "product read twice" else _gemm_then_add((1, 1, 4))
    assert _apply(model, gemm_bias) == ["Gemm", "Add"]


@pytest.mark.parametrize("level", LEVELS)
def test_exported_linear_layer_is_one_gemm_with_its_bias_and_right(level):
    graph, arrays = _linear_graph()
    assert _ops(export(graph, fuse=False)) == ["Transpose", "MatMul", "Add"]
    model = export(graph)
    assert _ops(model) == ["Gemm"] and len(model.graph.node[0].input) == 3
    _agrees_with_interpreter(graph, arrays, model, level)


@pytest.mark.parametrize("level", LEVELS)
def test_a_product_read_twice_keeps_its_add(level):
    torch.manual_seed(0)
    w, b = torch.randn(4, 3), torch.randn(4)
    graph = torch.trace(lambda x: ((x @ w.t()) + b, (x @ w.t()).relu()), torch.randn(5, 3))
    model = export(graph)
    assert _ops(model).count("Add") == 1 and "Transpose" not in _ops(model)
    _agrees_with_interpreter(graph, [torch.randn(5, 3).numpy()], model, level)


# -- BCE-with-logits whose losses are only summed -> Softplus(x) - x t -------------------------

def _bce_graph(reduction, dtype="float32", shape=(4, 3)):
    """Logits from -30 to 30: the largest per-element losses and the tiniest (e^-30)."""
    n = int(np.prod(shape))
    x = torch.tensor(np.linspace(-30, 30, n).reshape(shape).astype(dtype))
    t = torch.tensor((np.arange(n) % 2).reshape(shape).astype(dtype))
    f = nn.functional.binary_cross_entropy_with_logits
    return torch.trace(lambda x, t: f(x, t, reduction=reduction), x, t), [x.numpy(), t.numpy()]


LONG_FORM = ["Abs", "Neg", "Softplus", "Relu", "Mul", "Sub", "Add"]


def test_summed_bce_with_logits_takes_its_short_form():
    graph, _ = _bce_graph("sum")
    model = export(graph, fuse=False)
    assert _ops(model) == LONG_FORM + ["ReduceSum"]
    rewritten = ["Abs", "Neg", "Softplus", "Relu", "Mul", "Sub", "Softplus", "Sub", "ReduceSum"]  # Add -> 2 nodes
    assert _apply(model, summed_bce_with_logits) == rewritten
    drop_unused(model.graph)
    assert sorted(_ops(model)) == ["Mul", "ReduceSum", "Softplus", "Sub"]


@pytest.mark.parametrize("reduction,dtype", [("none", "float32"), ("sum", "float64")])
def test_bce_with_logits_keeps_its_exact_form_where_a_loss_is_seen_or_not_float32(reduction, dtype):
    graph, _ = _bce_graph(reduction, dtype)
    model = export(graph, fuse=False)
    before = _ops(model)
    assert _apply(model, summed_bce_with_logits) == before and "Abs" in before


def test_a_loss_that_is_also_an_output_keeps_its_exact_form():
    x, t = torch.randn(4, 3), torch.rand(4, 3)
    graph = torch.trace(lambda x, t: (lambda l: (l.sum(), l))(
        nn.functional.binary_cross_entropy_with_logits(x, t, reduction="none")), x, t)
    assert "Abs" in _ops(export(graph))


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_exported_bce_with_logits_and_its_gradient_are_right(reduction, level):
    graph, arrays = _bce_graph(reduction)
    model = export(graph)
    assert ("Abs" in _ops(model)) == (reduction == "none")
    _agrees_with_interpreter(graph, arrays, model, level)


@pytest.mark.parametrize("level", LEVELS)
def test_a_dynamic_batch_mean_reads_only_the_shape_and_stays_short(level):
    """A mean over a dynamic batch counts with Shape(losses): a shape read, no value seen."""
    x = torch.randn(4, 1, requires_grad=True)
    graph = torch.trace(lambda x, t: nn.functional.binary_cross_entropy_with_logits(x, t), x, torch.rand(4, 1))
    model = export(graph, dynamic_axes={"x": [0], "t": [0]})
    assert "Shape" in _ops(model) and "Abs" not in _ops(model)
    for batch in (1, 7):
        arrays = [np.random.default_rng(batch).standard_normal((batch, 1)).astype(np.float32),
                  np.random.default_rng(batch + 1).random((batch, 1)).astype(np.float32)]
        (got,) = _ort(model, dict(zip(graph.input_names, arrays)), level)
        ref_graph = torch.trace(lambda x, t: nn.functional.binary_cross_entropy_with_logits(x, t),
                                *map(torch.tensor, arrays))
        np.testing.assert_allclose(got, bnp.run(ref_graph, *arrays)[0], rtol=1e-5, atol=1e-7)


# -- unused nodes and initializers -----------------------------------------------------------

def test_unused_nodes_and_initializers_are_dropped_but_inputs_stay():
    model = _model([("Exp", ["x"], ["e"], {}), ("Add", ["x", "one"], ["y"], {}), ("Mul", ["e", "two"], ["z"], {})],
                   {"x": (F, [2]), "unused": (F, [2])}, {"y": (F, [2])},
                   {"one": np.float32(1), "two": np.float32(2)})
    drop_unused(model.graph)
    assert _ops(model) == ["Add"]
    assert [i.name for i in model.graph.initializer] == ["one"]
    assert [i.name for i in model.graph.input] == ["x", "unused"]


# -- zero_select_as_product -------------------------------------------------------------------

D = TensorProto.DOUBLE
BIG = (4, MIN_ELEMENTS // 4)


def _select_model(x_first=True, zero=0.0, shape=BIG, cond_shape=None, elem=F):
    dtype = np.float32 if elem == F else np.float64
    ins = ["c", "x", "zero"] if x_first else ["c", "zero", "x"]
    return _model([("Where", ins, ["y"], {})],
                  {"c": (TensorProto.BOOL, list(cond_shape or shape)), "x": (elem, list(shape))},
                  {"y": (elem, list(shape))}, {"zero": np.asarray(zero, dtype)})


def _select_feeds(shape=BIG, cond_shape=None, dtype=np.float32, specials=False):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    c = rng.random(cond_shape or shape) < 0.5
    if specials:  # inf and NaN both where they are kept and where they are masked out
        x.flat[:8] = [np.inf, -np.inf, np.nan, np.inf, -np.inf, np.nan, 1.0, -1.0]
        c.flat[:8] = [False, False, False, True, True, True, False, True]
    return {"c": c, "x": x}


@pytest.mark.parametrize("x_first", [True, False])
def test_a_large_zero_select_becomes_a_product_guarded_by_an_if(x_first):
    model = _select_model(x_first)
    ops = _apply(model, zero_select_as_product)
    assert "Where" not in ops and ops[-1] == "If" and "Mul" in ops and ("Not" in ops) != x_first


@pytest.mark.parametrize("case", ["small", "negative zero", "nonzero", "broadcast x"])
def test_a_zero_select_stays_where_the_product_is_not_exact_or_not_worth_it(case):
    model = {"small": lambda: _select_model(shape=(3, 5)),
             "negative zero": lambda: _select_model(zero=-0.0),
             "nonzero": lambda: _select_model(zero=1.0),
             "broadcast x": lambda: _model([("Where", ["c", "x", "zero"], ["y"], {})],
                                           {"c": (TensorProto.BOOL, list(BIG)), "x": (F, [1, BIG[1]])},
                                           {"y": (F, list(BIG))}, {"zero": np.float32(0)})}[case]()
    assert _apply(model, zero_select_as_product) == ["Where"]


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("x_first", [True, False])
@pytest.mark.parametrize("specials", [False, True])
@pytest.mark.parametrize("elem", [F, D])
def test_the_guarded_product_gives_the_selects_numbers_with_inf_and_nan_anywhere(level, x_first, specials, elem):
    dtype = np.float32 if elem == F else np.float64
    feeds = _select_feeds(dtype=dtype, specials=specials)
    model = _select_model(x_first, elem=elem)
    want = _ort(model, feeds, level)[0]
    _apply(model, zero_select_as_product)
    got = _ort(model, feeds, level)[0]
    assert got.dtype == dtype
    np.testing.assert_array_equal(got, want)  # NaN where the select has NaN; 0 (of either sign) where it has 0
    assert np.array_equal(np.where(feeds["c"] if x_first else ~feeds["c"], feeds["x"], 0), got, equal_nan=True)


@pytest.mark.parametrize("level", LEVELS)
def test_a_broadcast_condition_is_kept_by_the_product(level):
    feeds = _select_feeds(cond_shape=(4, 1))
    model = _select_model(cond_shape=(4, 1))
    want = _ort(model, feeds, level)[0]
    assert _apply(model, zero_select_as_product)[-1] == "If"
    np.testing.assert_array_equal(_ort(model, feeds, level)[0], want)


@pytest.mark.parametrize("level", LEVELS)
def test_a_relu_gradient_exports_as_a_product_and_matches_the_interpreter(level):
    torch.manual_seed(0)
    x = torch.randn(*BIG, requires_grad=True)
    graph = torch.trace(lambda x: (torch.relu(x) * 3).sum(), x)
    combined = ir.grad(graph, wrt=["x"])
    model = export(combined, params_as="inputs")
    assert "If" in _ops(model) and "Where" not in _ops(model)
    _agrees_with_interpreter(combined, [x.detach().numpy()], model, level, rtol=0, atol=0)


# -- the passes together, as export runs them ------------------------------------------------

def test_fusions_run_in_order_so_a_linear_layer_ends_as_one_gemm():
    assert FUSIONS.index(matmul_transpose_to_gemm) < FUSIONS.index(gemm_bias)
    graph, _ = _linear_graph()
    model = export(graph, fuse=False)
    fuse(model)
    assert _ops(model) == ["Gemm"] and [i.name for i in model.graph.initializer] == ["weight", "bias"]


def test_value_types_cover_values_inferred_and_weights_typed_by_their_header():
    torch.manual_seed(0)
    graph = torch.trace(nn.Linear(100, 4), torch.randn(2, 100))  # a weight too large to copy for inference
    model = export(graph, fuse=False)
    types = value_types(model)
    assert types["input"].shape == (2, 100) and types["weight"].shape == (4, 100)
    assert types[model.graph.node[1].output[0]].shape == (2, 4) and types["bias"].elem_type == F


@pytest.mark.parametrize("level", LEVELS)
def test_mlp_training_graph_is_right_after_every_pass(level):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 5), nn.ReLU(), nn.Linear(5, 1))
    x, t = torch.randn(8, 6), torch.rand(8, 1)
    graph = torch.trace(lambda x, t: nn.functional.binary_cross_entropy_with_logits(model(x), t), x, t)
    combined = ir.grad(graph, wrt=[n for n in graph.input_names if n not in ("x", "t")])
    onnx_model = export(combined, params_as="inputs")
    ops = _ops(onnx_model)
    assert ops.count("Gemm") >= 2 and "Abs" not in ops
    arrays = [n.value if n.value is not None else None for n in combined.inputs]
    arrays[:2] = [x.numpy(), t.numpy()]
    _agrees_with_interpreter(combined, arrays, onnx_model, level, rtol=1e-4, atol=1e-6)
