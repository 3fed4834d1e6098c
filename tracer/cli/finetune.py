"""``tracegrad finetune MODEL.onnx --data DATA.npz ...``: fine-tune an ONNX model from any
exporter on arrays, with the training step compiled on onnxruntime.

The model is imported with ``tracer.onnx.load`` (its float initializers become parameters; the
running statistics feeding a ``BatchNormalization`` stay fixed, as torch's buffers do), trained
on ``x``/``y`` from an ``.npz`` file (read with ``allow_pickle=False``), and written back as the
original ONNX model with its trained initializers: the same nodes, input/output names, opset
and symbolic dims, loadable by any ONNX runtime. ``--train-graph STEP.onnx`` also writes the
training step as a standard ONNX graph, with ``STEP.npz`` holding its state inputs (the trained
parameters, the optimizer state, the learning rate) so a plain onnxruntime loop can go on.
"""
from __future__ import annotations

import math
import os

import numpy as np
import onnx
from onnx import helper, numpy_helper

import tracer
import tracer.onnx
from backends.onnx.export import save_model
from ir.style import one_line
from tracer.cli.errors import UsageError, WorkError

LOSSES = ("ce", "mse")
OPTIMIZERS = ("adam", "sgd")


def cmd_finetune(args) -> int:
    _check_numbers(args)
    proto = _read_model(args.model)
    inits = {i.name for i in proto.graph.initializer}
    inputs = [v for v in proto.graph.input if v.name not in inits]
    if len(inputs) != 1:
        raise UsageError(f"{args.model} has {len(inputs)} inputs ({', '.join(v.name for v in inputs)}); "
                         "finetune trains a model with one input, fed from the array 'x'")
    x, y = _read_data(args.data)
    batch, dims = _check_x(x, inputs[0], args)
    try:
        module = tracer.onnx.load(args.model, dims=dims)
    except ValueError as e:  # OnnxImportError: an op, dtype or attribute the import does not cover
        raise WorkError(one_line(e, 500)) from None
    out_node = module.graph.outputs[0]
    y = _check_y(y, args.loss, tuple(out_node.shape), out_node.dtype.np, x.shape[0])

    frozen = _batchnorm_statistics(proto)
    params = []
    for name, p in module.named_parameters():
        if name in frozen:
            p.requires_grad_(False)
        else:
            params.append(p)
    if not params:
        raise WorkError(f"{args.model} has no float initializers to train")
    module.eval()
    opt = (tracer.optim.Adam(params, lr=args.lr) if args.optim == "adam"
           else tracer.optim.SGD(params, lr=args.lr))
    loss_fn = _loss(args.loss)

    def train_step(x, y):  # the step graph's batch inputs are named x and y
        opt.zero_grad()
        out = module(x)
        loss = loss_fn(out[0] if isinstance(out, tuple) else out, y)
        loss.backward()
        opt.step()
        return loss

    step = tracer.compile(train_step)
    batches = _batches(x.shape[0], batch, args.seed)
    every = max(1, args.steps // 10)
    print(f"fine-tuning {args.model}: {len(params)} parameter tensors "
          f"({sum(p.numel() for p in params)} values), {x.shape[0]} examples, batch {batch}, "
          f"{args.optim} lr {args.lr:g}, {args.loss} loss, {args.steps} steps on onnxruntime")
    loss = math.nan
    for i in range(args.steps):
        idx = next(batches)
        loss = float(step(tracer.tensor(x[idx]), tracer.tensor(y[idx])))
        if not math.isfinite(loss):
            raise WorkError(f"the loss is {loss} at step {i + 1}; try a smaller --lr")
        if (i + 1) % every == 0 or i == 0:
            print(f"step {i + 1:>6}  loss {loss:.6f}")
    print(f"final loss {loss:.6f}")

    trained = {name: p.detach().numpy() for name, p in module.named_parameters()}
    _write_trained(proto, trained, args.output)
    print(f"wrote {args.output} (inputs {inputs[0].name}; outputs "
          f"{', '.join(o.name for o in proto.graph.output)})")
    if args.train_graph:
        first = _first_batch(x.shape[0], batch, args.seed)
        example = (tracer.tensor(x[first]), tracer.tensor(y[first]))
        step.export(args.train_graph, example=example)
        feeds_path = os.path.splitext(args.train_graph)[0] + ".npz"
        np.savez(feeds_path, **step.feeds(example))
        print(f"wrote {args.train_graph} (the training step: inputs x, y and its state) and "
              f"{feeds_path} (the state inputs' arrays, to continue training)")
    return 0


def _check_numbers(args):
    if args.steps < 1:
        raise UsageError(f"--steps must be at least 1, got {args.steps}")
    if not (math.isfinite(args.lr) and args.lr > 0):
        raise UsageError(f"--lr must be a positive number, got {args.lr}")
    if args.batch is not None and args.batch < 1:
        raise UsageError(f"--batch must be at least 1, got {args.batch}")
    for path, what in ((args.model, "model"), (args.data, "data")):
        if not os.path.isfile(path):
            raise UsageError(f"no such {what} file: {path}")
    if os.path.abspath(args.output) == os.path.abspath(args.model):
        raise UsageError("-o must not be the input model itself")


def _read_model(path):
    try:
        model = onnx.load(path, load_external_data=False)
    except Exception as e:  # protobuf's DecodeError and the like
        raise WorkError(f"{path} is not a readable ONNX model ({type(e).__name__}: {one_line(e, 200)})") from None
    if not model.HasField("graph"):
        raise WorkError(f"{path} is not an ONNX model (it holds no graph)")
    return model


def _read_data(path):
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as e:
        raise UsageError(f"cannot read {path} as .npz: {one_line(e, 200)}") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise UsageError(f"{path} is a single array; --data needs an .npz with arrays 'x' and 'y' (np.savez)")
    with data:
        missing = [k for k in ("x", "y") if k not in data.files]
        if missing:
            raise UsageError(f"{path} has no array {missing[0]!r} (it has: {', '.join(data.files) or 'none'}); "
                             "save the inputs as 'x' and the targets as 'y'")
        try:
            x, y = data["x"], data["y"]
        except ValueError as e:  # object arrays need pickle: refused
            raise UsageError(f"cannot read {path}: {one_line(e, 200)}") from None
    if x.ndim == 0 or y.ndim == 0:
        raise UsageError(f"{path}: 'x' and 'y' must have a batch dimension, got shapes {x.shape} and {y.shape}")
    if x.shape[0] != y.shape[0]:
        raise UsageError(f"{path}: 'x' has {x.shape[0]} examples but 'y' has {y.shape[0]}")
    if x.shape[0] == 0:
        raise UsageError(f"{path}: 'x' holds no examples")
    return x, y


def _check_x(x, value_info, args):
    """The batch size and the ``dims`` for the model's symbolic dims, after checking ``x``
    against the model's input type."""
    name = value_info.name
    t = value_info.type.tensor_type
    want = helper.tensor_dtype_to_np_dtype(t.elem_type) if t.elem_type else None
    if want is not None and x.dtype != want:
        raise UsageError(f"'x' is {x.dtype} but the model's input {name!r} is {np.dtype(want)} "
                         f"(save x.astype(np.{np.dtype(want)}))")
    dims = list(t.shape.dim)
    if len(dims) != x.ndim:
        raise UsageError(f"'x' has shape {list(x.shape)} but the model's input {name!r} has rank {len(dims)} "
                         f"({_dims_text(dims)}); x holds examples along its first axis")
    sizes = {}
    for axis, d in enumerate(dims[1:], 1):
        if d.HasField("dim_value") and d.dim_value != x.shape[axis]:
            raise UsageError(f"'x' has shape {list(x.shape)} but the model's input {name!r} is "
                             f"[{_dims_text(dims)}] (axis {axis} differs)")
        if d.HasField("dim_param"):
            if sizes.setdefault(d.dim_param, x.shape[axis]) != x.shape[axis]:
                raise UsageError(f"'x' has shape {list(x.shape)}: the model's dim {d.dim_param!r} takes two sizes")
    first = dims[0]
    n = x.shape[0]
    if first.HasField("dim_value"):
        batch = first.dim_value
        if args.batch is not None and args.batch != batch:
            raise UsageError(f"--batch {args.batch}: the model's input {name!r} has a fixed batch size of {batch}")
    else:
        batch = args.batch or min(n, 32)
        if first.HasField("dim_param"):
            if sizes.get(first.dim_param, batch) != batch:
                raise UsageError(f"the model's dim {first.dim_param!r} is both the batch and another axis")
            sizes[first.dim_param] = batch
    if batch > n:
        raise UsageError(f"the batch size is {batch} but 'x' holds only {n} examples")
    unnamed = [a for a, d in enumerate(dims) if not d.HasField("dim_value") and not d.HasField("dim_param")]
    if unnamed[1:] or (unnamed and unnamed[0] != 0):
        raise UsageError(f"the model's input {name!r} has unnamed unknown dims ({_dims_text(dims)})")
    return batch, sizes


def _check_y(y, loss, out_shape, out_dtype, n):
    """``y`` in the dtype the loss needs, after checking it against the model's first output."""
    per_example = out_shape[1:]
    if loss == "ce":
        if len(out_shape) < 2:
            raise UsageError(f"--loss ce needs an output of class scores [batch, ..., classes]; "
                             f"the model's output has shape {list(out_shape)}")
        if y.dtype.kind not in "iu":
            raise UsageError(f"--loss ce needs integer class indices in 'y', got {y.dtype} (use --loss mse for "
                             "real-valued targets)")
        if tuple(y.shape[1:]) != per_example[:-1]:
            raise UsageError(f"'y' has shape {list(y.shape)}; --loss ce needs [{n}{''.join(f', {d}' for d in per_example[:-1])}] "
                             f"(one class index per row of the output {list(out_shape)}, classes last)")
        classes = out_shape[-1]
        if y.min() < 0 or y.max() >= classes:
            raise UsageError(f"'y' holds class indices from {y.min()} to {y.max()}; the model has {classes} classes")
        return y.astype(np.int64)
    if y.dtype.kind != "f":
        raise UsageError(f"--loss mse needs real-valued targets in 'y', got {y.dtype} (use --loss ce for class indices)")
    if tuple(y.shape[1:]) != per_example:
        raise UsageError(f"'y' has shape {list(y.shape)}; --loss mse needs one target per output, "
                         f"[{n}{''.join(f', {d}' for d in per_example)}]")
    return y.astype(out_dtype)


def _loss(kind):
    if kind == "ce":
        return lambda out, y: tracer.nn.functional.cross_entropy(out.reshape(-1, out.shape[-1]), y.reshape(-1))
    return tracer.nn.functional.mse_loss


def _batchnorm_statistics(proto) -> set[str]:
    """Initializers used as a BatchNormalization's running mean or variance: statistics, not weights."""
    return {name for node in proto.graph.node if node.op_type == "BatchNormalization"
            for name in node.input[3:5]}


def _batches(n, batch, seed):
    """Index arrays of ``batch`` examples: each epoch a new shuffle, its last partial batch dropped
    (so every step has the traced shape)."""
    rng = np.random.default_rng(seed)
    while True:
        order = rng.permutation(n)
        for start in range(0, n - batch + 1, batch):
            yield order[start:start + batch]


def _first_batch(n, batch, seed):
    return next(_batches(n, batch, seed))


def _write_trained(proto, trained, path):
    """The original model with each trained initializer's new value."""
    out = onnx.ModelProto()
    out.CopyFrom(proto)
    for i, init in enumerate(out.graph.initializer):
        if init.name in trained:
            value = trained[init.name].astype(helper.tensor_dtype_to_np_dtype(init.data_type))
            out.graph.initializer[i].CopyFrom(numpy_helper.from_array(value, init.name))
        elif init.data_location == onnx.TensorProto.EXTERNAL:
            raise WorkError(f"initializer {init.name!r} is stored as external data, which finetune does not copy")
    save_model(out, path)


def _dims_text(dims) -> str:
    return ", ".join(one_line(d.dim_param, 40) or (str(d.dim_value) if d.HasField("dim_value") else "?")
                     for d in dims)
