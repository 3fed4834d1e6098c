"""The reference for tracegrad's compiled step: the same MLP training step (forward, loss,
backward, SGD update, gradients as outputs) written by hand as an ONNX graph with the fewest
nodes, run on onnxruntime with the parameters in two pre-bound buffer sets used in turn.

It knows what tracegrad cannot assume: no target is ever ignored (so the cross-entropy mean
divides by the batch size) and the loss is followed by nothing else. The issue's speed targets
were set against such a graph; ``bench/train_step.py`` prints it beside the compiled step.
"""
from __future__ import annotations

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT


def _graph(sizes, batch, kind, lr):
    nodes, inits = [], []

    def const(name, value):
        inits.append(numpy_helper.from_array(np.asarray(value), name))
        return name

    def node(op, ins, out, **attrs):
        nodes.append(helper.make_node(op, ins, [out], **attrs))
        return out

    const("zero", np.float32(0))
    const("neg_lr", np.float32(-lr))
    const("inv_n", np.float32(1 / batch))
    const("axis0", np.array([0]))
    h, acts, outs = "x", ["x"], []
    layers = len(sizes) - 1
    for i in range(layers):
        z = node("Gemm", [h, f"w{i}", f"b{i}"], f"z{i}", transB=1)
        if i < layers - 1:
            h = node("Relu", [z], f"h{i}")
            acts.append(h)
    z = f"z{layers - 1}"
    if kind == "bce":  # mean(softplus(z) - z y); dL/dz = (sigmoid(z) - y) / n
        loss_terms = node("Sub", [node("Softplus", [z], "sp"), node("Mul", [z, "y"], "zy")], "terms")
        g = node("Mul", [node("Sub", [node("Sigmoid", [z], "p"), "y"], "p_y"), "inv_n"], "g_out")
    else:  # mean(-logp[y]); dL/dz = (softmax(z) - onehot(y)) / n
        const("classes", np.arange(sizes[-1]).reshape(1, -1))
        const("axis1", np.array([1]))
        logp = node("LogSoftmax", [z], "logp", axis=1)
        onehot = node("Cast", [node("Equal", [node("Unsqueeze", ["y", "axis1"], "y1"), "classes"], "hit")],
                      "onehot", to=F)
        loss_terms = node("Neg", [node("ReduceSum", [node("Mul", [onehot, logp], "picked"), "axis1"],
                                       "row", keepdims=0)], "terms")
        g = node("Mul", [node("Sub", [node("Exp", [logp], "p"), onehot], "p_y"), "inv_n"], "g_out")
    node("ReduceMean", [loss_terms], "loss", keepdims=0)
    for i in reversed(range(layers)):
        gw = node("Gemm", [g, acts[i]], f"grad_w{i}", transA=1)
        gb = node("ReduceSum", [g, "axis0"], f"grad_b{i}", keepdims=0)
        node("Add", [f"w{i}", node("Mul", [gw, "neg_lr"], f"step_w{i}")], f"new_w{i}")
        node("Add", [f"b{i}", node("Mul", [gb, "neg_lr"], f"step_b{i}")], f"new_b{i}")
        outs += [f"grad_w{i}", f"grad_b{i}"]
        if i:
            back = node("MatMul", [g, f"w{i}"], f"back{i}")
            g = node("Where", [node("Greater", [acts[i], "zero"], f"mask{i}"), back, "zero"], f"g{i - 1}")
    shapes = {}
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:])):
        shapes[f"w{i}"], shapes[f"b{i}"] = [b, a], [b]
    y_type = (F, [batch, 1]) if kind == "bce" else (TensorProto.INT64, [batch])
    inputs = [helper.make_tensor_value_info("x", F, [batch, sizes[0]]), helper.make_tensor_value_info("y", *y_type)]
    inputs += [helper.make_tensor_value_info(k, F, s) for k, s in shapes.items()]
    outputs = [helper.make_tensor_value_info("loss", F, [])]
    outputs += [helper.make_tensor_value_info(f"new_{k}", F, s) for k, s in shapes.items()]
    outputs += [helper.make_tensor_value_info(o, F, shapes[o[len("grad_"):]]) for o in outs]
    graph = helper.make_graph(nodes, "hand_step", inputs, outputs, initializer=inits)
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 18)]), shapes, outs


def hand_step(sizes, batch, kind, weights, lr=0.01):
    """``step(x, y) -> loss`` running the hand-built graph; ``weights`` as ``[w0, b0, w1, ...]``.
    Like tracegrad, it runs on one thread when the step has under ~1e6 multiply-adds."""
    model, shapes, grad_names = _graph(sizes, batch, kind, lr)
    options = ort.SessionOptions()
    if 3 * batch * sum(a * b for a, b in zip(sizes[:-1], sizes[1:])) < 1e6:
        options.intra_op_num_threads = 1
    session = ort.InferenceSession(model.SerializeToString(), options, providers=["CPUExecutionProvider"])
    names = list(shapes)
    sets = [[np.array(w, np.float32) for w in weights], [np.empty_like(w, np.float32) for w in weights]]
    grads = {g: np.empty(shapes[g[len("grad_"):]], np.float32) for g in grad_names}
    loss = np.empty((), np.float32)
    bindings = []
    for k in range(2):
        io = session.io_binding()
        for name, src, dst in zip(names, sets[k], sets[1 - k]):
            io.bind_cpu_input(name, src)
            io.bind_output(f"new_{name}", "cpu", 0, np.float32, list(dst.shape), dst.ctypes.data)
        for g, buf in grads.items():
            io.bind_output(g, "cpu", 0, np.float32, list(buf.shape), buf.ctypes.data)
        io.bind_output("loss", "cpu", 0, np.float32, [], loss.ctypes.data)
        bindings.append(io)
    phase = [0]
    bound = [[None, None], [None, None]]  # like tracegrad's runner: a batch still bound is not rebound

    def step(x, y):
        k = phase[0]
        io = bindings[k]
        if x is not bound[k][0]:
            io.bind_cpu_input("x", x)
            bound[k][0] = x
        if y is not bound[k][1]:
            io.bind_cpu_input("y", y)
            bound[k][1] = y
        session.run_with_iobinding(io)
        phase[0] = 1 - phase[0]
        return loss.copy()
    step.buffers = (sets, grads)  # onnxruntime writes into them: they must outlive the bindings
    return step
