"""Recurrent layers against torch: RNN (tanh, relu), LSTM (with proj_size), GRU and the three
cells with copied weights — outputs, final states and every gradient (parameters, input,
initial states) in float32 and float64 — reprs, state dict keys, init statistics, torch's
exceptions for misuse, a float64 finite-difference check of the LSTM gradient, and an LSTM
language-model-style step compiled on both backends trained step by step as torch."""
import warnings

import numpy as np
import onnxruntime as ort
import pytest

import ir
import tracer
from backends import onnx as bonnx
from backends.numpy import run as bnp_run

torch = pytest.importorskip("torch")

TOL = {"float32": dict(rtol=1e-5, atol=1e-6), "float64": dict(rtol=1e-11, atol=1e-13)}


def _twins(make, dtype):
    """Our module and torch's, torch's holding our (randomly initialised) weights."""
    tracer.manual_seed(0)
    ours, theirs = make(tracer.nn), make(torch.nn)
    if dtype == "float64":
        ours.double(), theirs.double()
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    return ours, theirs


def _leaf(m, a):
    return m.tensor(a, requires_grad=True)


def _flat(result):
    """The output and state tensors of a module call, in order."""
    if isinstance(result, tuple):
        return [t for r in result for t in _flat(r)]
    return [result]


def _check_against_torch(make, x_shape, state_shapes, dtype):
    """Forward and backward of ``make``'s module on the same input and states (None: omitted);
    every output, final state and gradient as torch's."""
    ours, theirs = _twins(make, dtype)
    rng = np.random.default_rng(1)
    x = rng.standard_normal(x_shape).astype(dtype)
    states = [rng.standard_normal(s).astype(dtype) for s in state_shapes or ()]
    results = []
    for m, module in ((tracer, ours), (torch, theirs)):
        leaves = [_leaf(m, x)] + [_leaf(m, s) for s in states]
        hx = None if state_shapes is None else (tuple(leaves[1:]) if len(states) == 2 else leaves[1])
        outs = _flat(module(leaves[0], hx) if state_shapes is not None else module(leaves[0]))
        weights = [np.random.default_rng(7 + i).standard_normal(tuple(o.shape)).astype(dtype)
                   for i, o in enumerate(outs)]
        sum((o * m.tensor(w)).sum() for o, w in zip(outs, weights)).backward()
        grads = [p.grad for _, p in module.named_parameters()] + [t.grad for t in leaves]
        results.append(([o.detach() for o in outs], grads))
    (ours_out, ours_grads), (theirs_out, theirs_grads) = results
    assert [tuple(o.shape) for o in ours_out] == [tuple(o.shape) for o in theirs_out]
    for k, (a, b) in enumerate(zip(ours_out, theirs_out)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), **TOL[dtype], err_msg=f"output {k}")
    names = [n for n, _ in theirs.named_parameters()] + ["input"] + [f"state {i}" for i in range(len(states))]
    for name, a, b in zip(names, ours_grads, theirs_grads):
        np.testing.assert_allclose(a.numpy(), b.numpy(), **TOL[dtype], err_msg=f"grad of {name}")


# (module, input shape, initial state shapes or None) — T=4 steps, batch 3 unless unbatched
LAYERS = [
    (lambda nn: nn.RNN(5, 6), (4, 3, 5), None),
    (lambda nn: nn.RNN(5, 6, nonlinearity="relu"), (4, 3, 5), [(1, 3, 6)]),
    (lambda nn: nn.RNN(5, 6, 2, "relu", bidirectional=True), (4, 3, 5), [(4, 3, 6)]),
    (lambda nn: nn.RNN(5, 6, 2, bias=False, batch_first=True), (3, 4, 5), [(2, 3, 6)]),
    (lambda nn: nn.RNN(5, 6, 2, bidirectional=True), (4, 5), [(4, 6)]),
    (lambda nn: nn.RNN(5, 6), (1, 3, 5), [(1, 3, 6)]),
    (lambda nn: nn.LSTM(5, 6), (4, 3, 5), None),
    (lambda nn: nn.LSTM(5, 6), (4, 3, 5), [(1, 3, 6), (1, 3, 6)]),
    (lambda nn: nn.LSTM(5, 6, 2), (4, 3, 5), [(2, 3, 6), (2, 3, 6)]),
    (lambda nn: nn.LSTM(5, 6, 2, bidirectional=True), (4, 3, 5), [(4, 3, 6), (4, 3, 6)]),
    (lambda nn: nn.LSTM(5, 6, 2, bias=False, batch_first=True), (3, 4, 5), None),
    (lambda nn: nn.LSTM(5, 6, 2, batch_first=True, bidirectional=True), (4, 5), [(4, 6), (4, 6)]),
    (lambda nn: nn.LSTM(5, 6, 2, batch_first=True), (4, 5), None),
    (lambda nn: nn.LSTM(5, 6, proj_size=3), (4, 3, 5), [(1, 3, 3), (1, 3, 6)]),
    (lambda nn: nn.LSTM(5, 6, 2, proj_size=2, bidirectional=True), (4, 3, 5), None),
    (lambda nn: nn.LSTM(5, 6, 2, bias=False, proj_size=4, batch_first=True), (3, 4, 5), [(2, 3, 4), (2, 3, 6)]),
    (lambda nn: nn.LSTM(5, 6, 2), (1, 3, 5), None),
    (lambda nn: nn.GRU(5, 6), (4, 3, 5), None),
    (lambda nn: nn.GRU(5, 6, 2), (4, 3, 5), [(2, 3, 6)]),
    (lambda nn: nn.GRU(5, 6, 2, bidirectional=True, batch_first=True), (3, 4, 5), [(4, 3, 6)]),
    (lambda nn: nn.GRU(5, 6, bias=False), (4, 5), [(1, 6)]),
    (lambda nn: nn.GRU(5, 6, 2, bidirectional=True), (1, 2, 5), None),
    (lambda nn: nn.RNNCell(5, 6), (3, 5), None),
    (lambda nn: nn.RNNCell(5, 6, nonlinearity="relu"), (3, 5), [(3, 6)]),
    (lambda nn: nn.RNNCell(5, 6, bias=False), (5,), [(6,)]),
    (lambda nn: nn.LSTMCell(5, 6), (3, 5), None),
    (lambda nn: nn.LSTMCell(5, 6), (3, 5), [(3, 6), (3, 6)]),
    (lambda nn: nn.LSTMCell(5, 6, bias=False), (5,), [(6,), (6,)]),
    (lambda nn: nn.GRUCell(5, 6), (3, 5), [(3, 6)]),
    (lambda nn: nn.GRUCell(5, 6, bias=False), (5,), None),
]
LAYER_IDS = [f"{make(torch.nn)!r}-{x}-{'h0' if s else 'no-h0'}" for make, x, s in LAYERS]


@pytest.mark.filterwarnings("ignore:LSTM with projections is not supported with oneDNN")
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make, x_shape, state_shapes", LAYERS, ids=LAYER_IDS)
def test_outputs_states_and_gradients_match_torch(make, x_shape, state_shapes, dtype):
    _check_against_torch(make, x_shape, state_shapes, dtype)


REPRS = [lambda nn: nn.RNN(3, 4), lambda nn: nn.RNN(3, 4, 2, "relu", False, True, 0.5, True),
         lambda nn: nn.LSTM(3, 4, proj_size=2), lambda nn: nn.LSTM(3, 4, 3, dropout=0.25, bidirectional=True),
         lambda nn: nn.GRU(3, 4, batch_first=True, bias=False), lambda nn: nn.RNNCell(3, 4, nonlinearity="relu"),
         lambda nn: nn.RNNCell(3, 4, False), lambda nn: nn.LSTMCell(3, 4), lambda nn: nn.GRUCell(3, 4, bias=False),
         lambda nn: nn.LSTM(3, 4, 2, bias=False, proj_size=3, bidirectional=True)]


@pytest.mark.parametrize("make", REPRS, ids=[repr(m(torch.nn)) for m in REPRS])
def test_reprs_parameter_names_order_and_shapes_are_torchs(make):
    ours, theirs = make(tracer.nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert [(n, tuple(p.shape)) for n, p in ours.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in theirs.named_parameters()]
    assert list(ours.state_dict()) == list(theirs.state_dict())
    if hasattr(theirs, "all_weights"):
        assert [[tuple(p.shape) for p in g] for g in ours.all_weights] == \
            [[tuple(p.shape) for p in g] for g in theirs.all_weights]
        assert ours._flat_weights_names == theirs._flat_weights_names


def test_init_is_uniform_within_one_over_sqrt_hidden():
    tracer.manual_seed(3)
    lstm = tracer.nn.LSTM(20, 64, 2, bidirectional=True)
    bound = 1 / 8
    for name, p in lstm.named_parameters():
        v = p.detach().numpy()
        assert v.dtype == np.float32 and np.abs(v).max() <= bound, name
        std = bound / np.sqrt(3)  # the std of U(-b, b)
        assert np.abs(v).max() > 0.95 * bound and abs(v.mean()) < 4 * std / np.sqrt(v.size), name
        assert v.std() == pytest.approx(std, rel=0.1), name
    cell = tracer.nn.GRUCell(4, 16, dtype=tracer.float64)
    assert all(p.dtype == tracer.float64 and np.abs(p.detach().numpy()).max() <= 0.25 for p in cell.parameters())


def test_flatten_parameters_is_a_no_op_and_weights_can_be_replaced():
    ours, theirs = _twins(lambda nn: nn.LSTM(3, 4), "float32")
    ours.flatten_parameters()
    ours.weight_hh_l0 = tracer.nn.Parameter(tracer.zeros(16, 4))
    theirs.weight_hh_l0 = torch.nn.Parameter(torch.zeros(16, 4))
    x = np.random.default_rng(0).standard_normal((5, 2, 3)).astype(np.float32)
    np.testing.assert_allclose(ours(tracer.tensor(x))[0].detach().numpy(),
                               theirs(torch.tensor(x))[0].detach().numpy(), rtol=1e-5, atol=1e-6)


def test_dropout_between_layers_in_training_only():
    """dropout=1 zeroes every layer's input but the first's (deterministic, so torch's numbers are
    the oracle); eval mode ignores dropout; one layer with dropout warns as torch."""
    for train in (True, False):
        ours, theirs = _twins(lambda nn: nn.GRU(3, 4, 3, dropout=1.0), "float64")
        ours.train(train), theirs.train(train)
        x = np.random.default_rng(0).standard_normal((5, 2, 3))
        for a, b in zip(_flat(ours(tracer.tensor(x))), _flat(theirs(torch.tensor(x)))):
            np.testing.assert_allclose(a.detach().numpy(), b.detach().numpy(), rtol=1e-12, atol=1e-14)
    for m in (torch, tracer):
        with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1") as seen:
            m.nn.LSTM(3, 4, dropout=0.5)
    assert seen[0].filename == __file__  # ours points at the caller (torch's at its own LSTM.__init__)


def test_dropout_between_layers_draws_a_mask():
    tracer.manual_seed(0)
    lstm = tracer.nn.LSTM(3, 4, 2, dropout=0.5)
    x = tracer.randn(6, 2, 3)
    tracer.manual_seed(1)
    a = lstm(x)[0].detach().numpy()
    tracer.manual_seed(2)
    b = lstm(x)[0].detach().numpy()
    lstm.eval()
    assert not np.allclose(a, b) and np.array_equal(lstm(x)[0].detach().numpy(), lstm(x)[0].detach().numpy())


X = (4, 3, 5)
MISUSE = [
    (lambda m: m.nn.LSTM(5, 6)(m.ones(4, 3, 7)), "input_size. Expected 5, got 7"),
    (lambda m: m.nn.RNN(5, 6)(m.ones(*X), m.zeros(2, 3, 6)), r"Expected hidden size \(1, 3, 6\), got \[2, 3, 6\]"),
    (lambda m: m.nn.GRU(5, 6, 2, bidirectional=True)(m.ones(*X), m.zeros(2, 3, 6)), r"hidden size \(4, 3, 6\)"),
    (lambda m: m.nn.LSTM(5, 6)(m.ones(*X), (m.zeros(1, 2, 6), m.zeros(1, 3, 6))), r"hidden\[0\] size \(1, 3, 6\)"),
    (lambda m: m.nn.LSTM(5, 6)(m.ones(*X), (m.zeros(1, 3, 6), m.zeros(1, 3, 5))), r"hidden\[1\] size \(1, 3, 6\)"),
    (lambda m: m.nn.LSTM(5, 6, proj_size=2)(m.ones(*X), (m.zeros(1, 3, 6), m.zeros(1, 3, 6))),
     r"hidden\[0\] size \(1, 3, 2\), got \[1, 3, 6\]"),
    (lambda m: m.nn.LSTM(5, 6)(m.ones(4, 5), (m.zeros(1, 1, 6), m.zeros(1, 1, 6))), "should also be 2-D"),
    (lambda m: m.nn.LSTM(5, 6)(m.ones(*X), (m.zeros(3, 6), m.zeros(3, 6))), "should also be 3-D"),
    (lambda m: m.nn.RNN(5, 6)(m.ones(*X), m.zeros(3, 6)), "hx should also be 3-D but got 2-D tensor"),
    (lambda m: m.nn.GRU(5, 6)(m.ones(4, 5), m.zeros(1, 1, 6)), "hx should also be 2-D but got 3-D tensor"),
    (lambda m: m.nn.RNN(5, 6)(m.ones(2, 4, 3, 5)), "Expected input to be 2D or 3D, got 4D tensor instead"),
    (lambda m: m.nn.LSTM(5, 6)(m.ones(5)), "LSTM: Expected input to be 2D or 3D, got 1D instead"),
    (lambda m: m.nn.GRU(5, 6)(m.ones(5)), "GRU: Expected input to be 2D or 3D"),
    (lambda m: m.nn.LSTM(5, 6)(m.ones(*X, dtype=m.float64)), "does not match weight dtype"),
    (lambda m: m.nn.LSTM(5, 6, dropout=1.5), r"dropout should be a number in range \[0, 1\]"),
    (lambda m: m.nn.GRU(5, 6, dropout=-0.1), "dropout should be a number"),
    (lambda m: m.nn.RNN(5, 6, dropout=True), "dropout should be a number"),
    (lambda m: m.nn.RNN(5, 6, nonlinearity="gelu"), "Unknown nonlinearity 'gelu'. Select from 'tanh' or 'relu'."),
    (lambda m: m.nn.RNN(5, 6, proj_size=2), "proj_size argument is only supported for LSTM"),
    (lambda m: m.nn.GRU(5, 6, proj_size=2), "proj_size argument is only supported for LSTM"),
    (lambda m: m.nn.LSTM(5, 6, proj_size=6), "proj_size has to be smaller than hidden_size"),
    (lambda m: m.nn.LSTM(5, 6, proj_size=-1), "proj_size should be a positive integer"),
    (lambda m: m.nn.LSTM(0, 6), "input_size must be greater than zero"),
    (lambda m: m.nn.LSTM(5, 6.0), "hidden_size should be of type int, got: float"),
    (lambda m: m.nn.LSTM(5, 6, 0), "num_layers must be greater than zero"),
    (lambda m: m.nn.LSTM(5, 6, bias=1), "bias should be of type bool, got: int"),
    (lambda m: m.nn.GRU(5, 6, batch_first=None), "batch_first should be of type bool, got: NoneType"),
    (lambda m: m.nn.LSTMCell(5, 6)(m.ones(3, 7)), "input has inconsistent input_size: got 7 expected 5"),
    (lambda m: m.nn.LSTMCell(5, 6)(m.ones(3, 5), (m.zeros(2, 6), m.zeros(3, 6))),
     "Input batch size 3 doesn't match hidden0 batch size 2"),
    (lambda m: m.nn.LSTMCell(5, 6)(m.ones(3, 5), (m.zeros(3, 6), m.zeros(3, 4))),
     "hidden1 has inconsistent hidden_size: got 4, expected 6"),
    (lambda m: m.nn.GRUCell(5, 6)(m.ones(3, 5), m.zeros(3, 2)), "hidden0 has inconsistent hidden_size"),
    (lambda m: m.nn.GRUCell(5, 6)(m.ones(2, 3, 5)), "GRUCell: Expected input to be 1D or 2D, got 3D instead"),
    (lambda m: m.nn.RNNCell(5, 6)(m.ones(3, 5), m.zeros(1, 3, 6)), "RNNCell: Expected hidden to be 1D or 2D"),
    (lambda m: m.nn.LSTMCell(5, 6)(m.ones(3, 5), (m.zeros(3, 6), m.zeros(1, 3, 6))),
     r"LSTMCell: Expected hx\[1\] to be 1D or 2D, got 3D instead"),
    (lambda m: m.nn.RNNCell(5, 6, nonlinearity="gelu")(m.ones(3, 5)), "Unknown nonlinearity: gelu"),
    (lambda m: m.nn.GRUCell(5, 6)(m.ones(3, 5, dtype=m.float64)), "have the same dtype"),
    (lambda m: m.nn.LSTMCell(5, 6)(m.ones(3, 5), (m.zeros(3, 6, dtype=m.float64),) * 2), "have the same dtype"),
    (lambda m: m.nn.RNNBase("FOO", 5, 6), "Unrecognized RNN mode: FOO"),
]


@pytest.mark.parametrize("call, words", MISUSE, ids=[str(i) for i in range(len(MISUSE))])
def test_misuse_raises_torchs_exception_and_message(call, words):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(Exception, match=words) as theirs:
            call(torch)
        with pytest.raises(type(theirs.value), match=words) as ours:
            call(tracer)
    assert type(ours.value) is type(theirs.value)
    assert "test_rnn.py" in str(ours.value)


def test_lstm_gradient_matches_finite_differences():
    """float64, the traced graph through ir.grad and the interpreter: <grad, v> against a
    central difference along a random direction v in the input, the states and every weight."""
    tracer.manual_seed(0)
    lstm = tracer.nn.LSTM(3, 4, 2, bidirectional=True, proj_size=2).double()
    names = [n for n, _ in lstm.named_parameters()]
    rng = np.random.default_rng(0)
    x, h0, c0 = rng.standard_normal((5, 2, 3)), rng.standard_normal((4, 2, 2)), rng.standard_normal((4, 2, 4))
    w_out = rng.standard_normal((5, 2, 4))

    def loss(x, h0, c0, *weights):
        for name, w in zip(names, weights):
            setattr(lstm, name, tracer.nn.Parameter(w))
        out, (h, c) = lstm(x, (h0, c0))
        return (out * tracer.tensor(w_out)).sum() + (h * h).sum() + c.tanh().sum()

    arrays = [x, h0, c0] + [p.detach().numpy().copy() for p in lstm.parameters()]
    graph = tracer.trace(loss, *[tracer.tensor(a) for a in arrays])
    combined = ir.grad(graph, wrt=list(graph.input_names))
    grads = bnp_run(combined, *arrays)[1:]
    v = [rng.standard_normal(a.shape) for a in arrays]

    def f(eps):
        return float(bnp_run(graph, *[a + eps * d for a, d in zip(arrays, v)])[0])

    eps = 1e-6
    numeric = (f(eps) - f(-eps)) / (2 * eps)
    analytic = sum(float(np.sum(g * d)) for g, d in zip(grads, v))
    assert analytic == pytest.approx(numeric, rel=1e-6, abs=1e-8)


def _language_model(m):
    nn = m.nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.LSTM(4, 8, 2)
            self.decoder = nn.Linear(8, 5)

        def forward(self, x, hidden):
            output, hidden = self.rnn(x, hidden)
            return nn.functional.log_softmax(self.decoder(output).view(-1, 5), dim=1), hidden
    return Model()


def _make_step(m, model, opt):
    def step(x, y, h, c):
        opt.zero_grad()
        out, (h, c) = model(x, (h, c))
        loss = m.nn.functional.nll_loss(out, y)
        loss.backward()
        opt.step()
        return loss, h.detach(), c.detach()  # truncated backpropagation through time
    return step


@pytest.mark.parametrize("backend", ["numpy", "onnxruntime"])
def test_compiled_lstm_trains_as_torch_step_by_step(backend):
    rng = np.random.default_rng(5)
    batches = [(rng.standard_normal((6, 3, 4)).astype(np.float32), rng.integers(0, 5, 18)) for _ in range(6)]
    tracer.manual_seed(0)
    ours, theirs = _language_model(tracer), _language_model(torch)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    step = tracer.compile(_make_step(tracer, ours, tracer.optim.SGD(ours.parameters(), lr=0.5, momentum=0.9)),
                          backend=backend)
    twin = _make_step(torch, theirs, torch.optim.SGD(theirs.parameters(), lr=0.5, momentum=0.9))
    h, c = tracer.zeros(2, 3, 8), tracer.zeros(2, 3, 8)
    th, tc = torch.zeros(2, 3, 8), torch.zeros(2, 3, 8)
    for k, (x, y) in enumerate(batches):
        loss, h, c = step(tracer.tensor(x), tracer.tensor(y), h, c)
        tloss, th, tc = twin(torch.tensor(x), torch.tensor(y), th, tc)
        assert loss.item() == pytest.approx(tloss.item(), rel=1e-5), f"step {k}"
        np.testing.assert_allclose(h.numpy(), th.numpy(), rtol=1e-4, atol=1e-5, err_msg=f"h after step {k}")
        np.testing.assert_allclose(c.numpy(), tc.numpy(), rtol=1e-4, atol=1e-5, err_msg=f"c after step {k}")
    assert step.trace_count == 2  # no grads and no momentum yet, then the steady state
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(dict(ours.named_parameters())[name].detach().numpy(), p.detach().numpy(),
                                   rtol=1e-4, atol=1e-5, err_msg=name)


def test_traced_lstm_exports_and_runs_on_onnxruntime_at_default_optimisation(tmp_path):
    """Forward and the gradient graph of a bidirectional projected LSTM as one ONNX file, run on
    a plain InferenceSession (onnxruntime's default optimisation level) equal to eager."""
    tracer.manual_seed(0)
    lstm = tracer.nn.LSTM(3, 6, 2, bidirectional=True, proj_size=4, batch_first=True)

    def f(x):
        out, (h, c) = lstm(x)
        return (out.tanh() * out).sum() + (h * c[..., :4]).sum()

    x = np.random.default_rng(0).standard_normal((2, 5, 3)).astype(np.float32)
    graph = ir.grad(tracer.trace(f, tracer.tensor(x)), of=0)
    bonnx.export(graph, tmp_path / "lstm.onnx")
    session = ort.InferenceSession(str(tmp_path / "lstm.onnx"))
    assert not any(n.op_type in ("LSTM", "GRU", "RNN") for n in bonnx.export(graph).graph.node)
    feeds = {i.name: x for i in session.get_inputs()}
    got = session.run(None, feeds)
    xt = tracer.tensor(x, requires_grad=True)
    expected = f(xt)
    expected.backward()
    np.testing.assert_allclose(got[0], expected.item(), rtol=1e-5)
    reference = {"grad.x": xt.grad.numpy()} | {f"grad.{n}": p.grad.numpy() for n, p in lstm.named_parameters()}
    outputs = {o.name: v for o, v in zip(session.get_outputs(), got)}
    assert set(outputs) == {"output"} | set(reference)
    for name, value in reference.items():
        np.testing.assert_allclose(outputs[name], value, rtol=1e-4, atol=1e-6, err_msg=name)


# -- nn.utils.rnn -------------------------------------------------------------------------
def _sequences(m, lengths, dtype="float64"):
    rng = np.random.default_rng(2)
    return [m.tensor(rng.standard_normal((n, 3, 2)).astype(dtype), requires_grad=True) for n in lengths]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence_and_its_gradient_are_torchs(batch_first, padding_side):
    results = []
    for m in (torch, tracer):
        seqs = _sequences(m, [3, 5, 1])
        padded = m.nn.utils.rnn.pad_sequence(seqs, batch_first, -1.5, padding_side)
        (padded * padded).sum().backward()
        results.append([padded.detach().numpy()] + [s.grad.numpy() for s in seqs])
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


PACK_MISUSE = [
    (lambda m: m.nn.utils.rnn.pad_sequence([]), "received an empty list of sequences"),
    (lambda m: m.nn.utils.rnn.pad_sequence([m.ones(2)], padding_side="up"), "Expected padding_side to be one of"),
    (lambda m: m.nn.utils.rnn.pad_sequence(3), "Expected iterable for input sequences"),
    (lambda m: m.nn.utils.rnn.pack_padded_sequence(m.ones(4, 3, 2), [2, 3, 1]), "must be sorted in decreasing"),
    (lambda m: m.nn.utils.rnn.pack_padded_sequence(m.ones(4, 3, 2), [2, 0, 1], enforce_sorted=False),
     "Length of all samples has to be greater than 0"),
    (lambda m: m.nn.utils.rnn.pad_packed_sequence(m.nn.utils.rnn.pack_padded_sequence(m.ones(4, 2, 1), [3, 2]),
                                                  total_length=2), "Expected total_length to be at least"),
    # torch's packed LSTM path skips its input check and fails in the matmul; ours names the size
    (lambda m: m.nn.LSTM(2, 3)(m.nn.utils.rnn.pack_padded_sequence(m.ones(4, 2, 1), [3, 2])),
     "input_size. Expected 2, got 1|cannot be multiplied"),
    (lambda m: m.nn.GRU(1, 3)(m.nn.utils.rnn.pack_padded_sequence(m.ones(4, 2, 1), [3, 2]), m.zeros(1, 3, 3)),
     r"Expected hidden size \(1, 2, 3\), got \[1, 3, 3\]"),
]


@pytest.mark.parametrize("call, words", PACK_MISUSE, ids=[str(i) for i in range(len(PACK_MISUSE))])
def test_packing_misuse_raises_torchs_exception_and_message(call, words):
    test_misuse_raises_torchs_exception_and_message(call, words)


PACKED = [
    (lambda nn: nn.LSTM(2, 4), True), (lambda nn: nn.LSTM(2, 4, 2, bidirectional=True), False),
    (lambda nn: nn.LSTM(2, 5, 2, proj_size=3, bidirectional=True), False), (lambda nn: nn.GRU(2, 4, 2), False),
    (lambda nn: nn.GRU(2, 4, bidirectional=True, bias=False), True), (lambda nn: nn.RNN(2, 4, 2, "relu"), False),
    (lambda nn: nn.LSTM(2, 4, batch_first=True), False),  # a packed input's layout is the same either way
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("given_state", [False, True])
@pytest.mark.parametrize("make, enforce_sorted", PACKED, ids=[f"{m(torch.nn)!r}-{s}" for m, s in PACKED])
def test_a_packed_sequence_runs_through_the_layer_as_torchs(make, enforce_sorted, given_state, dtype):
    """pack_padded_sequence -> layer -> pad_packed_sequence, batch_first, sorted or not: the
    packed output, the final states (in the caller's order) and every gradient as torch's."""
    lengths = [6, 4, 4, 1] if enforce_sorted else [2, 6, 1, 4]
    ours, theirs = _twins(make, dtype)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 6, 2)).astype(dtype)
    layers = theirs.num_layers * (1 + theirs.bidirectional)
    h0 = rng.standard_normal((layers, 4, getattr(theirs, "proj_size", 0) or theirs.hidden_size)).astype(dtype)
    c0 = rng.standard_normal((layers, 4, theirs.hidden_size)).astype(dtype)
    results = []
    for m, module in ((tracer, ours), (torch, theirs)):
        xt = _leaf(m, x)
        packed = m.nn.utils.rnn.pack_padded_sequence(xt, lengths, batch_first=True, enforce_sorted=enforce_sorted)
        states = [_leaf(m, h0), _leaf(m, c0)] if isinstance(module, m.nn.LSTM) else [_leaf(m, h0)]
        hx = None if not given_state else tuple(states) if len(states) == 2 else states[0]
        out, state = module(packed, hx)
        padded, out_lengths = m.nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=7)
        finals = _flat(state)
        loss = (padded * padded).sum() + sum((f * f.tanh()).sum() for f in finals)
        loss.backward()
        results.append([out.data.detach(), padded.detach(), out_lengths] + [f.detach() for f in finals]
                       + [xt.grad] + [p.grad for _, p in module.named_parameters()]
                       + ([t.grad for t in states] if given_state else []))
    assert len(results[0]) == len(results[1])
    for k, (a, b) in enumerate(zip(*results)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), **TOL[dtype], err_msg=f"result {k}")


def test_pack_sequence_and_unpack_sequence_round_trip_as_torch():
    for enforce_sorted in (True, False):
        lengths = [5, 3, 1] if enforce_sorted else [3, 5, 1]
        ours = tracer.nn.utils.rnn.pack_sequence(_sequences(tracer, lengths), enforce_sorted)
        theirs = torch.nn.utils.rnn.pack_sequence(_sequences(torch, lengths), enforce_sorted)
        for a, b in zip(ours, theirs):
            if b is None:
                assert a is None
            else:
                np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        for a, b in zip(tracer.nn.utils.rnn.unpack_sequence(ours), torch.nn.utils.rnn.unpack_sequence(theirs)):
            np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())


def _packed_step(m, lstm, opt):
    def step(x, lengths):
        opt.zero_grad()
        out, (h, c) = lstm(m.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False))
        padded, _ = m.nn.utils.rnn.pad_packed_sequence(out, batch_first=True)
        loss = (padded * padded).mean() + (h * c).mean()
        loss.backward()
        opt.step()
        return loss
    return step


@pytest.mark.parametrize("backend", ["numpy", "onnxruntime"])
def test_compiled_lstm_on_packed_sequences_trains_as_torch(backend):
    """Python-list lengths are part of the compiled signature (a new layout is a new trace); a
    lengths tensor inside a compiled function is refused, since the graph would replay it."""
    tracer.manual_seed(0)
    ours, theirs = _twins(lambda nn: nn.LSTM(2, 4, 2, bidirectional=True), "float32")
    step = tracer.compile(_packed_step(tracer, ours, tracer.optim.SGD(ours.parameters(), lr=0.3)), backend=backend)
    twin = _packed_step(torch, theirs, torch.optim.SGD(theirs.parameters(), lr=0.3))
    rng = np.random.default_rng(0)
    for k, lengths in enumerate([[3, 6, 1], [3, 6, 1], [6, 6, 2], [3, 6, 1]]):
        x = rng.standard_normal((3, 6, 2)).astype(np.float32)
        loss, expected = step(tracer.tensor(x), lengths), twin(torch.tensor(x), lengths)
        assert loss.item() == pytest.approx(expected.item(), rel=1e-5), f"step {k}"
    with pytest.raises(tracer.TraceValueError, match="tolist"):
        step(tracer.tensor(x), tracer.tensor([3, 6, 1]))
    for name, p in theirs.named_parameters():
        np.testing.assert_allclose(dict(ours.named_parameters())[name].detach().numpy(), p.detach().numpy(),
                                   rtol=1e-4, atol=1e-6, err_msg=name)
