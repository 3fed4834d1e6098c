"""backends.onnx.load: export -> load round trips of traced real models (MLP and CNN training
steps, a CNN forward, an attention block), common inference ops built by hand, gradients of an
imported graph against torch, and the clear errors."""
from __future__ import annotations

import importlib.util
import io
import pathlib
import warnings
import zlib

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from onnx.reference import ReferenceEvaluator

import backends.numpy as bnp
import ir
import tracer as torch
from backends.onnx import ExportError, OnnxImportError, export, load, supported_op_types
from backends.onnx.lowerings import narrowed
from tracer import nn


def _feeds(graph, **data):
    feeds = {n.attrs.name: n.value for n in graph.inputs if n.value is not None}
    feeds.update({k: v.numpy() if hasattr(v, "numpy") else v for k, v in data.items()})
    return feeds


def _round_trip(graph, feeds, params_as="inputs", rtol=1e-6, atol=1e-6):
    """export(graph) -> load -> interpreter gives the outputs of the original graph."""
    model = export(graph, params_as=params_as)
    loaded = load(model)
    ir.lint(loaded)
    assert loaded.output_names == graph.output_names
    want = bnp.run(graph, {k: feeds[k] for k in graph.input_names})
    got = bnp.run(loaded, {k: feeds[k] for k in loaded.input_names})
    for name, a, b in zip(graph.output_names, want, got):
        assert a.dtype == b.dtype and a.shape == b.shape, name
        np.testing.assert_allclose(b, a, rtol=rtol, atol=atol, err_msg=name)
    return model, loaded


def _train_step(model, opt, loss_fn):
    def step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss
    return step


def _cnn():
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(8, 4, 3, stride=2), nn.Flatten(), nn.Linear(4 * 2 * 2, 5))


# -- (1) round trips of traced real models ----------------------------------------------------
def test_mlp_training_step_round_trips():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Linear(16, 5))
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    x, y = torch.randn(8, 20), torch.randint(0, 5, (8,))
    graph = torch.trace(_train_step(model, opt, nn.functional.cross_entropy), x, y, lift_all=True)
    feeds = _feeds(graph, x=x, y=y)
    _, loaded = _round_trip(graph, feeds)
    assert loaded.input_names == graph.input_names
    _round_trip(loaded, feeds)  # an imported graph exports and imports again


def test_cnn_forward_round_trips_with_params_as_constants():
    model = _cnn().eval()
    x = torch.randn(2, 3, 12, 12)
    graph = torch.trace(model, x)
    model_proto, loaded = _round_trip(graph, _feeds(graph, x=x), params_as="initializers", rtol=1e-5)
    assert {"Conv", "MaxPool"} <= {n.op_type for n in model_proto.graph.node}
    assert loaded.input_names == graph.input_names[:1]


def test_cnn_training_step_round_trips():
    model = _cnn()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    x, y = torch.randn(4, 3, 12, 12), torch.randint(0, 5, (4,))
    graph = torch.trace(_train_step(model, opt, nn.functional.cross_entropy), x, y, lift_all=True)
    _round_trip(graph, _feeds(graph, x=x, y=y), rtol=1e-5, atol=1e-5)


def test_attention_block_round_trips():
    torch.manual_seed(0)
    attn = nn.MultiheadAttention(16, 4, batch_first=True)
    norm = nn.LayerNorm(16)

    def block(x):
        out, _ = attn(x, x, x)
        return norm(x + out)
    x = torch.randn(2, 5, 16)
    graph = torch.trace(block, x)
    _round_trip(graph, _feeds(graph, x=x), params_as="initializers", rtol=1e-5)


def test_node_sources_names_and_phases_survive():
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    graph = ir.grad(torch.trace(lambda x: model(x).sum(), torch.randn(4, 3)), wrt=["weight", "bias"])
    proto = export(graph, params_as="inputs")
    loaded = load(proto)
    assert loaded.input_names == graph.input_names and loaded.output_names == graph.output_names
    sources = [n.source for n in loaded.nodes if n.op.name not in ("input", "constant")]
    assert all(s and "n_" in s for s in sources), sources
    assert any(n.phase == ir.BACKWARD for n in loaded.nodes)


# -- inference ops of real exported models, built by hand ------------------------------------
def _model(nodes, inputs, outputs, inits=(), opset=18):
    graph = helper.make_graph(nodes, "g", inputs, outputs, initializer=list(inits))
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])


def _vi(name, shape, dtype=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, dtype, shape)


def _run_reference(model, feeds):
    return ReferenceEvaluator(model).run(None, feeds)


@pytest.mark.parametrize("op_type, attrs, x_shape, w_shape", [
    ("Conv", dict(pads=[1, 1, 1, 1], strides=[2, 2]), (1, 2, 7, 7), (4, 2, 3, 3)),
    ("Conv", dict(auto_pad="SAME_UPPER", group=2), (1, 4, 6, 6), (4, 2, 3, 3)),
    ("ConvTranspose", dict(strides=[2, 2], output_padding=[1, 1]), (1, 2, 4, 4), (2, 3, 3, 3)),
    ("ConvTranspose", dict(strides=[2, 2], output_shape=[9, 9]), (1, 2, 4, 4), (2, 3, 3, 3)),
])
def test_conv_family_matches_reference(op_type, attrs, x_shape, w_shape):
    rng = np.random.default_rng(0)
    w = rng.standard_normal(w_shape).astype(np.float32)
    node = helper.make_node(op_type, ["x", "w"], ["y"], name="conv", **attrs)
    model = _model([node], [_vi("x", x_shape)], [_vi("y", None)], [numpy_helper.from_array(w, "w")])
    x = rng.standard_normal(x_shape).astype(np.float32)
    (want,) = _run_reference(model, {"x": x})
    (got,) = bnp.run(load(model), x)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_shape_computation_chain_folds_to_a_static_reshape():
    """torch.onnx-style Shape -> Gather -> Concat -> Reshape (a flatten) imports as one reshape."""
    nodes = [helper.make_node("Shape", ["x"], ["s"]),
             helper.make_node("Gather", ["s", "zero"], ["n"], axis=0),
             helper.make_node("Unsqueeze", ["n", "zero1"], ["n1"]),
             helper.make_node("Concat", ["n1", "minus1"], ["target"], axis=0),
             helper.make_node("Reshape", ["x", "target"], ["y"])]
    inits = [numpy_helper.from_array(np.array(0, np.int64), "zero"),
             numpy_helper.from_array(np.array([0], np.int64), "zero1"),
             numpy_helper.from_array(np.array([-1], np.int64), "minus1")]
    graph = load(_model(nodes, [_vi("x", ["N", 3, 4])], [_vi("y", ["N", 12])], inits), dims={"N": 2})
    assert graph.outputs[0].shape == (2, 12) and graph.op_counts().get("reshape") == 1
    assert graph.dynamic_axes == {"x": {0: "N"}}


# -- (3) gradients of an imported graph --------------------------------------------------------
def _torch_grads(torch_, ref, x, y, loss_fn):
    loss = loss_fn(ref(torch_.tensor(x)), torch_.tensor(y))
    loss.backward()
    return loss.item(), {k: p.grad.numpy() for k, p in ref.named_parameters()}


@pytest.mark.parametrize("kind", ["mlp", "cnn"])
def test_gradients_of_an_imported_graph_match_torch(kind):
    torch_ = pytest.importorskip("torch")
    torch.manual_seed(0)
    if kind == "mlp":
        ours = nn.Sequential(nn.Linear(6, 8), nn.Tanh(), nn.Linear(8, 3))
        ref = torch_.nn.Sequential(torch_.nn.Linear(6, 8), torch_.nn.Tanh(), torch_.nn.Linear(8, 3))
        x = np.random.default_rng(0).standard_normal((5, 6)).astype(np.float32)
    else:
        ours = nn.Sequential(nn.Conv2d(2, 3, 3), nn.ReLU(), nn.AvgPool2d(2), nn.Flatten(), nn.Linear(3 * 3 * 3, 3))
        ref = torch_.nn.Sequential(torch_.nn.Conv2d(2, 3, 3), torch_.nn.ReLU(), torch_.nn.AvgPool2d(2),
                                   torch_.nn.Flatten(), torch_.nn.Linear(3 * 3 * 3, 3))
        x = np.random.default_rng(0).standard_normal((4, 2, 8, 8)).astype(np.float32)
    ref.load_state_dict({k: torch_.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    proto = export(torch.trace(ours, torch.tensor(x)))  # parameters baked in as initializers
    forward = load(proto, params_as="inputs")
    params = [n.attrs.name for n in forward.inputs if n.attrs.kind == "param"]
    assert set(ours.state_dict()) <= set(params)  # export's own float constants are initializers too
    params = list(ours.state_dict())
    # the loss on top of the imported forward, then ir autodiff
    y = np.array([0, 2, 1, 0, 2][: x.shape[0]], dtype=np.int64)
    logits_proto = proto
    loss_model = _with_cross_entropy(logits_proto, y.shape)
    graph = load(loss_model, params_as="inputs")
    graph = ir.grad(graph, wrt=params)
    feeds = {n.attrs.name: n.value for n in graph.inputs if n.value is not None}
    feeds.update({graph.input_names[0]: x, "target": y})
    outs = dict(zip(graph.output_names, bnp.run(graph, feeds)))
    loss, grads = _torch_grads(torch_, ref, x, y, torch_.nn.functional.cross_entropy)
    assert outs["loss"] == pytest.approx(loss, rel=1e-5)
    for k, g in grads.items():
        np.testing.assert_allclose(outs[f"grad.{k}"], g, rtol=1e-4, atol=1e-5, err_msg=k)


def _with_cross_entropy(proto, target_shape):
    """``proto`` with its output fed to SoftmaxCrossEntropyLoss against a new ``target`` input."""
    model = onnx.ModelProto.FromString(proto.SerializeToString())
    out = model.graph.output[0].name
    model.graph.node.append(helper.make_node("SoftmaxCrossEntropyLoss", [out, "target"], ["loss"], name="ce"))
    model.graph.input.append(_vi("target", list(target_shape), TensorProto.INT64))
    del model.graph.output[:]
    model.graph.output.append(_vi("loss", []))
    return model


def test_gradient_of_imported_decompositions_matches_finite_differences():
    """Gelu, Mish, Selu, HardSwish, Softplus, LayerNormalization as ir compositions: their
    float64 gradients agree with central differences."""
    nodes = [helper.make_node("Gelu", ["x"], ["a"]), helper.make_node("Mish", ["a"], ["b"]),
             helper.make_node("Selu", ["b"], ["c"]), helper.make_node("HardSwish", ["c"], ["d"]),
             helper.make_node("Softplus", ["d"], ["e"]),
             helper.make_node("LayerNormalization", ["e", "scale"], ["f"], axis=-1),
             helper.make_node("ReduceSum", ["f"], ["y"], keepdims=0)]
    scale = np.linspace(0.5, 1.5, 4)
    model = _model(nodes, [_vi("x", [3, 4], TensorProto.DOUBLE)], [_vi("y", [], TensorProto.DOUBLE)],
                   [numpy_helper.from_array(scale, "scale")], opset=20)
    graph = ir.grad(load(model), wrt=["x"])
    x = np.random.default_rng(1).standard_normal((3, 4)) * 2
    x[x == 0] = 0.1
    _, dx = bnp.run(graph, x)
    forward = load(model)
    eps, numeric = 1e-6, np.zeros_like(x)
    weights = np.random.default_rng(2).standard_normal(x.shape)
    for i in np.ndindex(x.shape):
        step = np.zeros_like(x)
        step[i] = eps
        numeric[i] = (bnp.run(forward, x + step)[0] - bnp.run(forward, x - step)[0]) / (2 * eps)
    np.testing.assert_allclose((dx * weights).sum(), (numeric * weights).sum(), rtol=1e-6)
    np.testing.assert_allclose(dx, numeric, rtol=1e-5, atol=1e-7)


# -- (4) clear errors --------------------------------------------------------------------------
def _one_node(op_type, opset=18, **attrs):
    node = helper.make_node(op_type, ["x"], ["y"], name="the_node", **attrs)
    return _model([node], [_vi("x", [2, 3])], [_vi("y", None)], opset=opset)


def test_unknown_op_type_names_node_op_and_opset():
    with pytest.raises(OnnxImportError, match=r"'the_node' \(NonZero, opset 18\).*not supported"):
        load(_one_node("NonZero"))


def test_unsupported_attribute_is_named():
    with pytest.raises(OnnxImportError, match=r"'the_node' \(ArgMax.*select_last_index|'the_node'.*'bogus'"):
        load(_one_node("Relu", bogus=1))
    with pytest.raises(OnnxImportError, match=r"'the_node' \(Gelu, opset 20\).*approximate='fast'"):
        load(_one_node("Gelu", opset=20, approximate="fast"))


def test_opset_12_is_refused():
    with pytest.raises(OnnxImportError, match="opset 12 is not supported.*13 to"):
        load(_one_node("Relu", opset=12))


def test_bad_files_are_refused(tmp_path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"\xff\xfe not a protobuf \x00" * 10)
    with pytest.raises(OnnxImportError, match="not an ONNX model"):
        load(garbage)
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    with pytest.raises(OnnxImportError, match="not an ONNX model"):
        load(empty)
    big = tmp_path / "big.onnx"
    onnx.save(_one_node("Relu"), big)
    with pytest.raises(OnnxImportError, match="over max_bytes"):
        load(big, max_bytes=10)
    with pytest.raises(OSError):
        load(tmp_path / "missing.onnx")


def test_oversized_initializer_is_refused_before_allocating():
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1 << 20, 1 << 20], raw_data=b"")
    node = helper.make_node("Add", ["x", "w"], ["y"])
    model = _model([node], [_vi("x", [1])], [_vi("y", None)], [w])
    with pytest.raises(OnnxImportError, match="over max_bytes"):
        load(model)


def test_non_constant_static_input_dtype_and_symbolic_dim_errors():
    reshape = helper.make_node("Reshape", ["x", "shape"], ["y"], name="rs")
    model = _model([reshape], [_vi("x", [2, 3]), _vi("shape", [1], TensorProto.INT64)], [_vi("y", None)])
    with pytest.raises(OnnxImportError, match=r"'rs' \(Reshape, opset 18\): input 1 \('shape'\) must be a constant"):
        load(model)
    brain = _model([helper.make_node("Relu", ["x"], ["y"])], [_vi("x", [2], TensorProto.BFLOAT16)], [_vi("y", None)])
    with pytest.raises(OnnxImportError, match="dtype BFLOAT16 is not supported"):
        load(brain)
    symbolic = _model([helper.make_node("Relu", ["x"], ["y"])], [_vi("x", ["batch", 3])], [_vi("y", None)])
    with pytest.raises(OnnxImportError, match=r"dim 0 is symbolic \('batch'\).*dims="):
        load(symbolic)
    assert load(symbolic, dims={"batch": 7}).inputs[0].shape == (7, 3)
    with pytest.raises(OnnxImportError, match="params_as"):
        load(symbolic, params_as="initializers")


def test_import_error_is_a_value_error_and_ir_shape_errors_are_wrapped():
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")
    w = numpy_helper.from_array(np.zeros((4, 2), np.float32), "w")
    model = _model([node], [_vi("x", [2, 3])], [_vi("y", None)], [w])
    with pytest.raises(ValueError, match=r"'mm' \(MatMul, opset 18\): matmul: mat1 and mat2 shapes"):
        load(model)


# -- docs ----------------------------------------------------------------------------------------
def test_docs_list_of_imported_ops_is_current():
    path = pathlib.Path(__file__).resolve().parents[2] / "docs" / "generate_onnx_imports.py"
    spec = importlib.util.spec_from_file_location("generate_onnx_imports", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.is_current(), "docs/onnx.md is stale: run python docs/generate_onnx_imports.py"


# -- every op of the op table: export -> load -> interpreter equals the original ----------------
def _op_table_graphs():
    """(name, graph, feeds) for each op-table row exportable to ONNX, forward and, for rows with
    gradients, forward+backward (``ir.grad``)."""
    from op_table import ROWS, Bool, Int, make_inputs  # tests/ is on sys.path (conftest)
    for row in ROWS:
        if not row.onnx:
            continue
        for dtype in row.dtypes:
            rng = np.random.default_rng(zlib.crc32(f"{row.name}/{dtype}".encode()))
            arrays = make_inputs(row, dtype, rng)
            graph = torch.trace(lambda *xs: row.fn(torch, *xs), *[torch.tensor(a) for a in arrays])
            feeds = dict(zip(graph.input_names, arrays))
            yield f"{row.name}/{dtype}", graph, feeds
            floats = [graph.input_names[i] for i, s in enumerate(row.inputs) if not isinstance(s, (Int, Bool))]
            if row.grad and floats:
                seeded = graph.outputs[0].shape != ()
                combined = ir.grad(graph, wrt=floats, grad_output=seeded)
                if seeded:
                    out = graph.outputs[0]
                    feeds = dict(feeds, grad_output=rng.standard_normal(out.shape).astype(out.dtype.np))
                yield f"{row.name}/{dtype}/grad", combined, feeds


def test_every_op_table_graph_round_trips():
    """Covers every ONNX op type tracegrad's lowerings emit: each exported op-table graph (and its
    gradient graph) loads, and the interpreter gives the original graph's outputs."""
    failures, emitted, count = {}, set(), 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, graph, feeds in _op_table_graphs():
            try:
                model = export(graph, params_as="inputs", check=False)
            except ExportError:
                continue  # rows that need a newer opset or refuse ONNX say so in test_op_table.py
            emitted |= {n.op_type for n in model.graph.node}
            count += 1
            try:
                loaded = load(model)
                want = bnp.run(graph, {k: feeds[k] for k in graph.input_names})
                got = bnp.run(loaded, {k: feeds[k] for k in loaded.input_names})
                # export computes some float64 nodes in float32 (``narrowed``: float64 Conv, Erf)
                narrow = any(narrowed(n) for n in graph.nodes)
                for a, b in zip(want, got):
                    assert (a.dtype, a.shape) == (b.dtype, b.shape)
                    tight = a.dtype == np.float64 and not narrow
                    np.testing.assert_allclose(b, a, rtol=1e-9 if tight else 1e-5, atol=1e-9 if tight else 1e-5)
            except Exception as err:  # collected so one run names every failing graph
                failures[name] = f"{type(err).__name__}: {err}"
    assert count > 1000 and not failures, f"{sorted(failures)}\n" + "\n".join(
        f"{k}: {v[:400]}" for k, v in list(failures.items())[:5])
    assert emitted <= set(supported_op_types()), emitted - set(supported_op_types())


def test_readme_import_example(tmp_path):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3), nn.Softmax(dim=-1))
    export(torch.trace(model, torch.randn(2, 4)), tmp_path / "model.onnx", dynamic_axes={"input": {0: "batch"}})
    graph = load(tmp_path / "model.onnx", dims={"batch": 8})
    x = np.random.default_rng(0).standard_normal((8, 4)).astype(np.float32)
    (y,) = bnp.run(graph, x)
    assert y.shape == (8, 3) and graph.input_names == ["input"]
    train = load(tmp_path / "model.onnx", params_as="inputs", dims={"batch": 8})
    assert {n.attrs.name for n in train.inputs if n.attrs.kind == "param"} >= {"0.weight", "0.bias"}


def test_values_built_at_import_are_size_checked():
    shape = numpy_helper.from_array(np.array([1 << 20, 1 << 20], np.int64), "shape")
    model = _model([helper.make_node("ConstantOfShape", ["shape"], ["y"], name="big")], [], [_vi("y", None)], [shape])
    with pytest.raises(OnnxImportError, match=r"'big' \(ConstantOfShape.*bytes"):
        load(model)
    expand = _model([helper.make_node("Expand", ["x", "shape"], ["y"], name="wide")], [_vi("x", [1])],
                    [_vi("y", None)], [shape])
    with pytest.raises(OnnxImportError, match=r"'wide' \(Expand.*bytes"):
        load(expand)
    lying = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1000], float_data=[1.0])
    model = _model([helper.make_node("Add", ["x", "w"], ["y"])], [_vi("x", [1000])], [_vi("y", None)], [lying])
    with pytest.raises(OnnxImportError, match="holds 1 values, but shape"):
        load(model)


def test_model_exported_by_torch_onnx_imports_and_matches_torch():
    """A CNN + transformer encoder + nearest upsampling exported by torch.onnx (its TorchScript
    exporter: Shape/Gather/Concat shape arithmetic, Resize, Erf-GELU, LayerNormalization, a
    dynamic batch dim) loads and runs on the interpreter as torch computes it."""
    torch_ = pytest.importorskip("torch")
    torch_.manual_seed(0)
    nn_ = torch_.nn

    class Net(nn_.Module):
        def __init__(self):
            super().__init__()
            self.features = nn_.Sequential(
                nn_.Conv2d(3, 8, 3, padding=1), nn_.BatchNorm2d(8), nn_.ReLU(), nn_.MaxPool2d(2),
                nn_.Conv2d(8, 8, 3, padding=1, groups=2), nn_.Hardswish(), nn_.AdaptiveAvgPool2d(1), nn_.Flatten(),
                nn_.Linear(8, 16), nn_.GELU(), nn_.LayerNorm(16))
            self.encoder = nn_.TransformerEncoderLayer(16, 4, 32, batch_first=True, dropout=0.0)

        def forward(self, x):
            h = self.encoder(self.features(x).unsqueeze(1).expand(-1, 3, -1))
            return nn_.functional.interpolate(h.unsqueeze(1), scale_factor=2.0, mode="nearest").softmax(-1)

    net = Net().eval()
    x = torch_.randn(2, 3, 16, 16)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch_.onnx.export(net, (x,), buffer, dynamo=False, opset_version=18, input_names=["x"],
                               output_names=["y"], dynamic_axes={"x": {0: "batch"}})
        except Exception as err:  # the TorchScript exporter is optional in newer torch builds
            pytest.skip(f"torch.onnx.export unavailable: {err}")
    graph = load(buffer.getvalue(), dims={"batch": 2})
    assert graph.input_names == ["x"] and graph.output_names == ["y"]
    assert graph.dynamic_axes == {"x": {0: "batch"}}
    (y,) = bnp.run(graph, x.numpy())
    np.testing.assert_allclose(y, net(x).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_malformed_graphs_are_refused_clearly(tmp_path):
    relu = helper.make_node("Relu", ["x"], ["y"], name="r")
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(_model([relu], [_vi("x", [2])], [_vi("y", None)]).SerializeToString()[:-7])
    with pytest.raises(OnnxImportError, match="truncated.onnx: not an ONNX model"):
        load(truncated)
    undefined = _model([helper.make_node("Relu", ["nowhere"], ["y"])], [_vi("x", [2])], [_vi("y", None)])
    with pytest.raises(OnnxImportError, match="'nowhere' is used before any node produces it"):
        load(undefined)
    cycle = _model([helper.make_node("Add", ["x", "b"], ["a"]), helper.make_node("Relu", ["a"], ["b"])],
                   [_vi("x", [2])], [_vi("b", None)])
    with pytest.raises(OnnxImportError, match="'b' is used before"):
        load(cycle)
    twice = _model([relu, helper.make_node("Neg", ["x"], ["y"], name="again")], [_vi("x", [2])], [_vi("y", None)])
    with pytest.raises(OnnxImportError, match=r"'again' \(Neg.*'y' is already defined"):
        load(twice)
    wrong_output = _model([relu], [_vi("x", [2])], [_vi("y", [3])])
    with pytest.raises(OnnxImportError, match=r"graph output 'y': declared shape \[3\]"):
        load(wrong_output)


def test_rules_follow_the_opset_where_an_op_changed():
    """ReduceMax takes axes as an attribute up to opset 17 and as an input from 18: each opset
    gets its own rule, and the other form is refused by name."""
    x = np.arange(6, dtype=np.float32).reshape(2, 3)
    old = _model([helper.make_node("ReduceMax", ["x"], ["y"], axes=[1], keepdims=0)], [_vi("x", [2, 3])],
                 [_vi("y", [2])], opset=17)
    new = _model([helper.make_node("ReduceMax", ["x", "axes"], ["y"], keepdims=0)], [_vi("x", [2, 3])],
                 [_vi("y", [2])], [numpy_helper.from_array(np.array([1], np.int64), "axes")], opset=18)
    for model in (old, new):
        np.testing.assert_array_equal(bnp.run(load(model), x)[0], [2, 5])
    stale = _model([helper.make_node("ReduceMax", ["x"], ["y"], axes=[1], keepdims=0, name="rm")],
                   [_vi("x", [2, 3])], [_vi("y", None)], opset=18)
    with pytest.raises(OnnxImportError, match=r"'rm' \(ReduceMax, opset 18\).*'axes' not supported"):
        load(stale)


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_recurrent_layers_exported_by_torch_onnx_match_torch(kind):
    torch_ = pytest.importorskip("torch")
    torch_.manual_seed(0)
    layer = getattr(torch_.nn, kind)(4, 6, num_layers=2, batch_first=True, bidirectional=True).eval()
    x = torch_.randn(3, 5, 4)
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            torch_.onnx.export(layer, (x,), buffer, dynamo=False, opset_version=18, input_names=["x"])
        except Exception as err:  # the TorchScript exporter is optional in newer torch builds
            pytest.skip(f"torch.onnx.export unavailable: {err}")
    proto = onnx.load_from_string(buffer.getvalue())
    assert kind in {n.op_type for n in proto.graph.node}
    graph = load(proto)
    got = bnp.run(graph, x.numpy())
    want = layer(x)
    np.testing.assert_allclose(got[0], want[0].detach().numpy(), rtol=1e-5, atol=1e-6)
