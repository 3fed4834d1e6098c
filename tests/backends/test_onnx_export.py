"""ONNX export: checker, shape inference, names, metadata, opsets, dynamic axes, training graphs."""
import numpy as np
import onnx
import onnxruntime as ort
import pytest

import backends.numpy as bnp
import ir
import tracer as torch
from backends import ort as ort_backend
from backends.onnx import DynamicShapeError, ExportError, export, newest_opset
from backends.onnx.export import to_model
from tracer import nn


def mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 16), nn.ReLU(), nn.Linear(16, 10))


def mlp_loss_graph(model, batch=64):
    x = torch.randn(batch, 784)
    y = torch.randint(0, 10, (batch,))
    graph = torch.trace(lambda x, y: nn.functional.cross_entropy(model(x), y), x, y)
    params = [n for n in graph.input_names if n not in ("x", "y")]
    return ir.grad(graph, wrt=params), x, y


def _session(model):
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def test_textbook_loss_with_gradients_runs_on_onnxruntime():
    w = torch.tensor(1.0, requires_grad=True)
    b = torch.tensor(0.5, requires_grad=True)
    g = ir.grad(torch.trace(lambda x, y: (y - (w * x + b)).pow(2).sum(), torch.tensor([1.4]), torch.tensor([2.1])),
                wrt=["w", "b"])
    model = export(g, params_as="inputs")
    feeds = {"x": np.array([1.4], np.float32), "y": np.array([2.1], np.float32),
             "w": np.array(1.0, np.float32), "b": np.array(0.5, np.float32)}
    loss, dw, db = _session(model).run(None, feeds)
    assert float(dw) == pytest.approx(-0.56, abs=1e-6) and float(db) == pytest.approx(-0.4, abs=1e-6)


def test_mlp_training_graph_matches_torch(tmp_path):
    torch_ = pytest.importorskip("torch")
    model = mlp()
    graph, x, y = mlp_loss_graph(model)
    path = tmp_path / "mlp_train.onnx"
    export(graph, path, params_as="inputs")
    loaded = onnx.load(path)
    onnx.checker.check_model(loaded, full_check=True)
    feeds = {n.attrs.name: (n.value if n.value is not None else None) for n in graph.inputs}
    feeds.update(x=x.numpy(), y=y.numpy())
    outs = dict(zip(graph.output_names, _session(loaded).run(None, feeds)))
    assert set(outs) == {"output"} | {f"grad.{k}" for k in model.state_dict()}
    ref = torch_.nn.Sequential(torch_.nn.Linear(784, 32), torch_.nn.ReLU(), torch_.nn.Linear(32, 16),
                               torch_.nn.ReLU(), torch_.nn.Linear(16, 10))
    ref.load_state_dict({k: torch_.tensor(v.numpy()) for k, v in model.state_dict().items()})
    loss = torch_.nn.functional.cross_entropy(ref(torch_.tensor(x.numpy())), torch_.tensor(y.numpy()))
    loss.backward()
    assert float(outs["output"]) == pytest.approx(loss.item(), rel=1e-5)
    for name, p in ref.named_parameters():
        np.testing.assert_allclose(outs[f"grad.{name}"], p.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_dynamic_batch_axis_runs_at_several_batch_sizes():
    model = mlp()
    graph = torch.trace(model, torch.randn(64, 784))
    onnx_model = export(graph, dynamic_axes={"input": {0: "batch"}})
    dims = onnx_model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch"
    session = _session(onnx_model)
    for batch in (1, 64, 1000):
        x = np.random.default_rng(batch).standard_normal((batch, 784)).astype(np.float32)
        (out,) = session.run(None, {"input": x})
        expected = model(torch.tensor(x)).detach().numpy()
        np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_dynamic_batch_training_graph():
    graph, _, _ = mlp_loss_graph(mlp())
    session = _session(export(graph, dynamic_axes={"x": [0], "y": [0]}))
    for batch in (1, 64, 1000):
        x = np.random.default_rng(batch).standard_normal((batch, 784)).astype(np.float32)
        y = np.random.default_rng(batch).integers(0, 10, batch)
        got = session.run(None, {"x": x, "y": y})
        ref_graph, _, _ = mlp_loss_graph(mlp(), batch)
        expected = bnp.run(ref_graph, x, y)
        for a, b in zip(got, expected):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_dynamic_axis_that_cannot_be_honoured_is_explained():
    g = torch.trace(lambda x: x.reshape(2, -1).sum(0), torch.ones(4, 3))
    with pytest.raises(DynamicShapeError, match="(?s)reshape at tests/backends/test_onnx_export.py:\\d+"):
        export(g, dynamic_axes={"x": {0: "batch"}})


def test_shape_inference_agrees_with_ir_shapes_and_doc_strings_carry_sources():
    graph, _, _ = mlp_loss_graph(mlp())
    model = export(graph, params_as="inputs")
    inferred = onnx.shape_inference.infer_shapes(model, strict_mode=True)
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in inferred.graph.output}
    for name, node in zip(graph.output_names, graph.outputs):
        assert shapes[name] == list(node.shape)
    docs = [n.doc_string for n in model.graph.node if n.doc_string]
    assert any(d.startswith("forward ") and " at tests/backends/test_onnx_export.py:" in d for d in docs)
    assert any(d.startswith("backward") for d in docs)
    props = {p.key: p.value for p in model.metadata_props}
    assert model.producer_name == "tracegrad" and int(props["tracegrad.backward_nodes"]) > 0


def test_parameters_are_initializers_by_default_and_named_after_the_module_path():
    model = export(torch.trace(mlp(), torch.randn(2, 784)))
    assert [i.name for i in model.graph.input] == ["input"]
    assert {i.name for i in model.graph.initializer} >= {"0.weight", "0.bias", "4.bias"}


@pytest.mark.parametrize("opset", sorted({17, 18, newest_opset()}))
def test_every_supported_opset_passes_the_full_checker(opset):
    graph, x, y = mlp_loss_graph(mlp(), batch=4)
    model = export(graph, opset=opset, params_as="inputs")
    assert model.opset_import[0].version == opset
    onnx.checker.check_model(model, full_check=True)


def test_opset_out_of_range_is_a_clear_error():
    g = torch.trace(lambda x: x + 1, torch.ones(2))
    with pytest.raises(ExportError, match="opset 16 is not supported"):
        export(g, opset=16)
    with pytest.raises(ExportError, match=f"opset {newest_opset() + 1} is not supported"):
        export(g, opset=newest_opset() + 1)


def test_op_without_lowering_names_the_op(monkeypatch):
    from backends.onnx.lowerings import LOWERINGS
    from ir.ops import elementwise as E
    g = torch.trace(lambda x: torch.exp(x), torch.ones(2))
    monkeypatch.delitem(LOWERINGS, E.exp)
    with pytest.raises(ExportError, match="(?s)exp at tests/backends/test_onnx_export.py:\\d+: no ONNX lowering"):
        export(g)


def test_ir_version_is_the_lowest_that_carries_the_opset():
    model = to_model(torch.trace(lambda x: x + 1, torch.ones(2)), opset=17)
    assert model.ir_version == 8


def test_large_models_use_external_data(tmp_path, monkeypatch):
    import sys
    monkeypatch.setattr(sys.modules["backends.onnx.export"], "EXTERNAL_DATA_THRESHOLD", 1000)
    w = torch.randn(100, 100, requires_grad=True)
    export(torch.trace(lambda x: x @ w, torch.ones(3, 100)), tmp_path / "big.onnx")
    assert (tmp_path / "big.onnx.data").exists()
    session = ort.InferenceSession(str(tmp_path / "big.onnx"), providers=["CPUExecutionProvider"])
    (out,) = session.run(None, {"x": np.ones((3, 100), np.float32)})
    np.testing.assert_allclose(out, (torch.ones(3, 100) @ w).detach().numpy(), rtol=1e-5)


def test_exported_graph_has_no_unused_nodes():
    def f(x):
        torch.exp(x)  # computed and dropped
        return x * 2
    model = export(torch.trace(f, torch.ones(2)))
    assert "Exp" not in {n.op_type for n in model.graph.node}


def test_integer_floor_division_keeps_torch_semantics_on_onnxruntime():
    g = torch.trace(lambda a, b: (a // b, a % b), torch.tensor([7, -7, 7, -7]), torch.tensor([2, 2, -2, -2]))
    out = _session(export(g)).run(None, {"a": np.array([7, -7, 7, -7]), "b": np.array([2, 2, -2, -2])})
    np.testing.assert_array_equal(out[0], [3, -4, -4, 3])
    np.testing.assert_array_equal(out[1], [1, 1, -1, -1])


def test_a_dtype_onnx_cannot_express_names_the_op():
    g = torch.trace(lambda a: a.sum(0, dtype=torch.uint8), torch.tensor(np.array([1, 2, 3], np.uint8)))
    with pytest.raises(ExportError, match="(?s)sum at tests/backends/test_onnx_export.py:\\d+.*uint8"):
        export(g)


def test_cross_entropy_training_graph_builds_its_one_hot_once():
    """NLL lowers to a one-hot select (not NegativeLogLikelihoodLoss, which onnxruntime expands
    into ~14 nodes), and the loss and its gradient share the one-hot."""
    graph, _, _ = mlp_loss_graph(mlp())
    model = export(graph, params_as="inputs")
    ops = [n.op_type for n in model.graph.node]
    assert "NegativeLogLikelihoodLoss" not in ops
    one_hots = [n for n in model.graph.node if n.op_type == "Equal" and "y" in {i for m in model.graph.node
                if m.output[0] in n.input for i in m.input}]
    assert len(one_hots) == 1


def test_identical_nodes_are_emitted_once_but_random_draws_are_not():
    from backends.onnx.builder import OnnxBuilder
    b = OnnxBuilder(18)
    assert b.op("Relu", ["x"]) == b.op("Relu", ["x"])
    assert b.op("Transpose", ["x"], perm=[1, 0]) != b.op("Transpose", ["x"], perm=[0, 1])
    assert b.op("RandomUniform", [], shape=[2]) != b.op("RandomUniform", [], shape=[2])
    assert [n.op_type for n in b.nodes] == ["Relu", "Transpose", "Transpose", "RandomUniform", "RandomUniform"]


def test_two_dropouts_of_one_input_stay_two_draws_on_onnxruntime():
    x = torch.ones(1000)
    graph = torch.trace(lambda x: torch.stack([nn.functional.dropout(x, 0.5), nn.functional.dropout(x, 0.5)]), x)
    a, b = _session(export(graph)).run(None, {"x": np.ones(1000, np.float32)})[0]
    assert (a != b).any()


def test_bce_with_logits_is_short_only_where_single_losses_are_unseen():
    """A mean of the losses lowers to softplus(x) - x t; per-element losses keep torch's exact
    form, whose tiny values (a confident right answer) the short one would round to 0."""
    x = torch.tensor([[30.0], [-3.0], [0.5], [12.0]])
    t = torch.tensor([[1.0], [0.0], [1.0], [1.0]])
    f = nn.functional.binary_cross_entropy_with_logits
    for reduction, short in (("mean", True), ("sum", True), ("none", False)):
        graph = torch.trace(lambda x, t: f(x, t, reduction=reduction), x, t)
        model = export(graph)
        assert ("Abs" not in [n.op_type for n in model.graph.node]) == short
        got = _session(model).run(None, {"x": x.numpy(), "t": t.numpy()})[0]
        np.testing.assert_allclose(got, f(x, t, reduction=reduction).numpy(), rtol=1e-6, atol=1e-7)
    none = _session(export(torch.trace(lambda x, t: f(x, t, reduction="none"), x, t))).run(
        None, {"x": x.numpy(), "t": t.numpy()})[0]
    assert none[0, 0] > 0  # e^-30, kept


LEVELS = [ort.GraphOptimizationLevel.ORT_ENABLE_ALL, ort.GraphOptimizationLevel.ORT_DISABLE_ALL]


def _session_at(model, level):
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    return ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


def _right_at(graph, arrays, level):
    got = _session_at(export(graph), level).run(None, dict(zip(graph.input_names, arrays)))
    for e, g in zip(bnp.run(graph, *arrays), got):
        assert g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("shapes,fn", [
    (((3, 4), (3,)), lambda a, v: a.t() @ v),
    (((2, 3, 4), (3,)), lambda a, v: a.transpose(1, 2) @ v),
    (((3, 4), (4,)), lambda a, v: a @ v),
    (((3, 4), (4,)), lambda a, v: v @ a.t()),
], ids=["transposed @ vector", "batch transposed @ vector", "matrix @ vector", "vector @ transposed"])
def test_matrix_times_vector_is_right_at_every_optimisation_level(shapes, fn, level):
    """onnxruntime fuses MatMul(Transpose(a), v) into a FusedMatMul(transA=1) that is wrong for
    a 1-D v; the vector is multiplied as a one-column matrix instead."""
    torch.manual_seed(0)
    arrays = [torch.randn(*s).numpy() for s in shapes]
    graph = torch.trace(fn, *map(torch.tensor, arrays))
    _right_at(graph, arrays, level)
    np.testing.assert_allclose(ort_backend.run(graph, *arrays)[0], bnp.run(graph, *arrays)[0], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("shape", [(), (3,)])
def test_tanh_gelu_of_a_0d_value_runs_at_every_optimisation_level(shape, level):
    """onnxruntime's FastGelu fusion matches tanh-approximated GELU (then Add) whatever the rank,
    and FastGelu rejects a 0-d input; a 0-d tanh goes through a 1-element vector."""
    x, y = np.full(shape, 0.7, np.float32), np.full(shape, 0.2, np.float32)
    graph = torch.trace(lambda x, y: nn.functional.gelu(x, approximate="tanh") + y, torch.tensor(x), torch.tensor(y))
    _right_at(graph, [x, y], level)


def test_constant_subgraphs_are_folded_through_their_own_lowerings():
    """Folding runs the constant nodes' ONNX lowerings on onnx's reference evaluator (the ONNX
    backend imports no other backend), with torch's meaning: -7 // 2 is -4."""
    g = torch.trace(lambda x: x + (torch.tensor([7, -7]) // 2).float().exp(), torch.ones(2))
    model = export(g)
    assert [n.op_type for n in model.graph.node] == ["Add"]
    folded = onnx.numpy_helper.to_array(model.graph.initializer[0])
    np.testing.assert_allclose(folded, np.exp([3.0, -4.0]).astype(np.float32), rtol=1e-6)
    np.testing.assert_allclose(_session(model).run(None, {"x": np.ones(2, np.float32)})[0], 1 + folded)


def _write_0d(x, y):
    v = x * 2
    v[...] = y
    return v * 3


def _write_empty_slice(x, y):
    v = x * 2
    v[3:] = y.sum()
    v[0:-4:3] = y
    return v


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("fn,shapes", [(_write_0d, ((), ())), (_write_empty_slice, ((3,), ()))],
                         ids=["0-d", "empty slice"])
def test_writes_into_0d_values_and_empty_slices_run_at_every_optimisation_level(fn, shapes, level):
    """onnxruntime's ScatterND rejects a 0-d tensor: writing a whole 0-d value is the update itself
    (an empty slice of a 1-D value is an empty index grid, which ScatterND takes)."""
    arrays = [np.full(s, 0.5 + k, np.float32) for k, s in enumerate(shapes)]
    graph = torch.trace(fn, *map(torch.tensor, arrays))
    assert any(n.op.name == "slice_update" for n in graph.nodes)
    _right_at(graph, arrays, level)
    np.testing.assert_array_equal(ort_backend.run(graph, *arrays)[0], bnp.run(graph, *arrays)[0])


_F = np.float32
_SPECIAL = np.array([np.inf, -np.inf, np.nan, -1.5, 1.5, 0.0, -0.0, 3e38], _F)
_BOOLS = (np.array([True, False, True, False]), np.array([True, True, False, False]))
_DIVIDENDS = np.array([-1.4, 1.3, 0.5, -0.5, np.inf, 3.0, -3.0, 0.0, -0.0, 7.5, 1.0, -7.0], _F)
_DIVISORS = np.array([-np.inf, -np.inf, np.inf, np.inf, 1.0, 0.0, 2.0, -2.0, 3.0, -2.5, 0.1, 0.7], _F)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("fn,arrays", [
    (lambda x: x.clamp_min(0.0) + x.clamp(max=0.5), [_SPECIAL]),
    (lambda x: x.log1p(), [_SPECIAL]),
    (lambda x: torch.sigmoid(x), [np.array([-30.0, -40.0, -800.0, 800.0, 1.0, np.nan])]),
    (lambda x, y: x % y, [_DIVIDENDS, _DIVISORS]),
    (lambda x, y: x // y, [_DIVIDENDS, _DIVISORS]),
    (lambda x: torch.stack([x.argmax(0), x.argmin(0)]), [np.array([[1, np.nan, 2], [np.nan, -1, 3], [0, 5, -4]], _F)]),
    (lambda x: x.argmax(), [np.array([1.0, 7.0, np.nan, np.nan], _F)]),
    (lambda x: torch.logical_not(x), [np.array([0.0, np.nan, -0.0, 2.0], _F)]),
    (lambda x: torch.logical_not(x), [np.array([0, 3, -1])]),
    (lambda a, b: torch.stack([a + b, a * b, torch.maximum(a, b), torch.minimum(a, b)]), list(_BOOLS)),
    (lambda a, b: torch.stack([a < b, a <= b, a > b, a >= b]), list(_BOOLS)),
    (lambda a, b: torch.stack([a.amax(0), a.amin(0), b.max(), b.min()]), list(_BOOLS)),
    (lambda x: torch.stack([x.amax(1), x.amin(1), x.max(1).values, x.min(-1).values]),
     [np.array([[-1e4, 0.5, np.nan], [np.nan, 1.0, 2.0], [1.0, np.inf, -np.inf], [0.0, np.nan, np.nan]], _F)]),
    (lambda x: torch.stack([x.max(), x.min()]), [np.array([[3.0, 1.0], [np.nan, 2.0]], _F)]),
    (lambda a: torch.stack([a.min(0).indices, a.max(1).indices]), [np.array([[False, True], [True, True]])]),
    (lambda x, y: torch.stack([x ** 0.5, x ** -1.5, x ** 3.0, x ** y]),
     [np.array([-np.inf, -np.inf, -4.0, 4.0], _F), np.array([0.5, 2.0, 0.5, -0.5], _F)]),
    (lambda x, y: torch.fmod(x, y), [_DIVIDENDS, _DIVISORS]),
    (lambda x, y: x ** y, [np.array([2, -1, 1, 0, 3, -1, 0, 5]), np.array([-1, -3, -2, -1, 2, -2, 0, 1])]),
    (lambda x: torch.stack([torch.softmax(x, 1), torch.log_softmax(x, 1), torch.log_softmax(x, 0)]),
     [np.array([[1, np.inf, 2], [np.nan, 1, 2], [-np.inf, -np.inf, -np.inf], [1, 2, 3], [-np.inf, 0, 1]], _F)]),
], ids=["one-sided clamp of infinities", "log1p of inf and 3e38", "float64 sigmoid tail", "float remainder",
        "float floor division", "argmax/argmin with NaN", "argmax of first NaN", "logical_not of floats",
        "logical_not of ints", "bool arithmetic", "bool comparisons", "bool extrema", "extrema of rows with NaN",
        "extremum of all with NaN", "arg-extrema of bools", "pow of -inf", "fmod", "integer negative powers", "softmax of NaN and infinities"])
def test_lowerings_keep_the_interpreters_edge_values_at_every_optimisation_level(fn, arrays, level):
    """Found by the differential fuzzer (tests/fuzz): onnxruntime's Clip turns a missing bound
    into the float max, Kahan's log1p divided inf by inf, float64 Sigmoid loses its tail,
    x - floor(x / y) y is NaN for an infinite y, floor(x / y) differs from torch's floor
    division for infinite x, ArgMax/ArgMin and ReduceMax/ReduceMin skip a NaN that is not first
    in its slice, NumPy gives -inf ** 0.5 as NaN where C and onnxruntime give inf (torch: NaN for a
    Python 0.5, a square root, inf for a tensor exponent), Softmax/LogSoftmax of a slice holding
    NaN, +inf or only -inf are finite (torch: NaN), Not is bool-only, and Add/Mul/Max/Min/Less/
    ReduceMax/ArgMin have no bool kernels (the checker rejects them)."""
    graph = torch.trace(fn, *map(torch.tensor, arrays))
    session = _session_at(export(graph), level)
    got = session.run(None, {i.name: a for i, a in zip(session.get_inputs(), arrays)})
    for g, e in zip(got, bnp.run(graph, *arrays)):
        assert g.dtype == e.dtype and g.shape == e.shape
        np.testing.assert_allclose(g, e, rtol=1e-6, atol=0)


def _undefined_softmax_rows(n, dtype, rng):
    """Rows whose softmax torch makes NaN throughout (a NaN, a +inf, only -inf, only NaN at
    several positions) and defined rows with -inf entries or large spreads."""
    rows = []
    for pos in sorted({0, n // 2, n - 1}):
        for special in (np.nan, np.inf, -np.inf):
            r = rng.standard_normal(n).astype(dtype)
            r[pos] = special
            rows.append(r)
    rows += [np.full(n, -np.inf, dtype), np.full(n, np.nan, dtype), rng.standard_normal(n).astype(dtype) * 30]
    return np.stack(rows)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 3, 17, 64, 1000])
def test_softmax_family_is_nan_over_undefined_slices_on_onnxruntime(n, dtype, level):
    """Lowerings skip the NaN guard where onnxruntime's kernel already gives torch's NaN (float32
    Softmax and LogSoftmax, float64 Softmax) and keep it for float64 LogSoftmax, at every axis
    length (vectorised and scalar paths) and optimisation level."""
    x = _undefined_softmax_rows(n, dtype, np.random.default_rng(n))
    graph = torch.trace(lambda t: torch.stack([torch.softmax(t, 1), torch.log_softmax(t, 1)]), torch.tensor(x))
    session = _session_at(export(graph), level)
    got = session.run(None, {session.get_inputs()[0].name: x})[0]
    want = bnp.run(graph, x)[0]
    assert np.array_equal(np.isnan(got), np.isnan(want))
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(got, want, **tol)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("batch", [None, 3])
def test_max_pool_gradient_takes_each_planes_offset_off_the_flat_argmax(batch, level):
    """A static batch subtracts each (n, c) plane's first index from MaxPool's flat argmax (no
    Mod), a dynamic one takes the remainder; neither normalises the scatter's indices (they are
    never negative), and both give the interpreter's numbers, overlapping windows included."""
    torch.manual_seed(0)
    x = torch.randn(3, 2, 9, 9, requires_grad=True)
    graph = torch.trace(lambda x: (nn.functional.max_pool2d(torch.relu(x), 3, stride=2) * 2).sum(), x)
    combined = ir.grad(graph, wrt=["x"])
    model = export(combined, params_as="inputs", dynamic_axes=None if batch is None else {"x": {0: "batch"}})
    ops = [n.op_type for n in model.graph.node]
    assert ("Mod" in ops) == (batch is not None) and "Less" not in ops and ops.count("ScatterElements") == 1
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    got = session.run(None, {"x": x.detach().numpy()})
    for g, e in zip(got, bnp.run(combined, x.detach().numpy())):
        np.testing.assert_array_equal(g, e)


def _pool_session(fn, x, level, dynamic):
    graph = torch.trace(fn, x)
    combined = ir.grad(graph, wrt=["x"])
    model = export(combined, params_as="inputs", dynamic_axes={"x": {0: "batch"}} if dynamic else None)
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    return combined, model, ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("dynamic", [False, True])
@pytest.mark.parametrize("dims,size", [(1, 9), (2, 9), (2, 8), (3, 5)], ids=["1d odd", "2d odd", "2d even", "3d odd"])
def test_tiling_max_pool_windows_take_an_argmax_with_max_pools_ties(dims, size, dynamic, level):
    """Windows that tile the input (stride = kernel, no padding) lower to an ArgMax over them, not
    MaxPool's Indices: the same first maximum on ties (values drawn from a few integers) as the
    interpreter, -inf windows included, at a static or dynamic batch and a size the windows
    do not divide."""
    pool = {1: nn.functional.max_pool1d, 2: nn.functional.max_pool2d, 3: nn.functional.max_pool3d}[dims]
    rng = np.random.default_rng(0)
    values = rng.integers(-2, 3, (3, 2) + (size,) * dims).astype(np.float32)
    values.reshape(-1)[:8] = -np.inf
    x = torch.tensor(values, requires_grad=True)
    combined, model, session = _pool_session(lambda x: (pool(x, 2, return_indices=True)[1].float() + pool(x, 2) * 2).sum(),
                                             x, level, dynamic)
    ops = [n.op_type for n in model.graph.node]
    assert "ArgMax" in ops and "Mod" not in ops
    assert all(len(n.output) == 1 for n in model.graph.node if n.op_type == "MaxPool")  # values only, no Indices
    for g, e in zip(session.run(None, {"x": values}), bnp.run(combined, values)):
        np.testing.assert_array_equal(g, e)


@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("kernel,stride", [(2, 2), (3, 2)], ids=["tiling", "overlapping"])
def test_a_forward_max_pool_exports_as_one_maxpool_reading_no_indices(kernel, stride, level):
    torch.manual_seed(0)
    x = torch.randn(2, 3, 9, 9)
    graph = torch.trace(lambda x: nn.functional.max_pool2d(x, kernel, stride=stride, ceil_mode=True) * 2, x)
    model = export(graph)
    ops = [n.op_type for n in model.graph.node]
    assert ops.count("MaxPool") == 1 and not {"ArgMax", "GatherElements", "Sub", "Mod"} & set(ops)
    options = ort.SessionOptions()
    options.graph_optimization_level = level
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    np.testing.assert_array_equal(session.run(None, {"x": x.numpy()})[0], bnp.run(graph, x.numpy())[0])
