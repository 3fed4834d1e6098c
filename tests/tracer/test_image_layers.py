"""The image layers beyond the op table: padding, resampling, fold/unfold, pixel shuffle,
adaptive max pooling and channel dropout. Module reprs and state dicts as torch's, torch's
exception types and messages for misuse, channel dropout's masks, and a model using them all
trained compiled on onnxruntime step by step against eager."""
import warnings

import numpy as np
import pytest

import tracer

torch = pytest.importorskip("torch")

MODULES = [
    lambda nn: nn.ZeroPad2d(1), lambda nn: nn.ZeroPad2d((1, 2, 3, 4)), lambda nn: nn.ConstantPad1d((1, 2), 3),
    lambda nn: nn.ConstantPad3d(1, 0.5), lambda nn: nn.ReflectionPad2d(2), lambda nn: nn.ReplicationPad1d((0, 3)),
    lambda nn: nn.CircularPad2d(1), lambda nn: nn.Upsample(scale_factor=2),
    lambda nn: nn.Upsample(size=(3, 4), mode="bilinear", align_corners=True),
    lambda nn: nn.Upsample(scale_factor=(2, 3)), lambda nn: nn.UpsamplingBilinear2d(scale_factor=2),
    lambda nn: nn.UpsamplingNearest2d(size=5), lambda nn: nn.Unfold(2), lambda nn: nn.Unfold((2, 3), 2, 1, 2),
    lambda nn: nn.Fold((4, 5), (2, 3), stride=2), lambda nn: nn.PixelShuffle(2), lambda nn: nn.PixelUnshuffle(3),
    lambda nn: nn.AdaptiveMaxPool2d((2, None)), lambda nn: nn.AdaptiveMaxPool1d(3, True),
    lambda nn: nn.Dropout1d(), lambda nn: nn.Dropout2d(0.3, inplace=True), lambda nn: nn.Dropout3d(0.1),
    lambda nn: nn.GroupNorm(2, 4), lambda nn: nn.GroupNorm(1, 3, affine=False),
    lambda nn: nn.InstanceNorm1d(3), lambda nn: nn.InstanceNorm2d(4, affine=True, track_running_stats=True),
    lambda nn: nn.InstanceNorm3d(2, momentum=None, bias=False, affine=True),
]


@pytest.mark.parametrize("make", MODULES, ids=[repr(m(torch.nn)) for m in MODULES])
def test_modules_print_and_hold_state_as_torch(make):
    ours, theirs = make(tracer.nn), make(torch.nn)
    assert repr(ours) == repr(theirs)
    assert {k: tuple(v.shape) for k, v in ours.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    for k, v in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[k].numpy(), v.numpy(), err_msg=k)


X4 = (2, 3, 4, 5)
MISUSE = [
    (lambda m: m.nn.functional.pad(m.ones(*X4), (1,)), "divisible by 2"),
    (lambda m: m.nn.functional.pad(m.ones(2, 3), (1, 1, 1, 1, 1, 1)), "two times the input dimension"),
    (lambda m: m.nn.functional.pad(m.ones(2, 3), (-2, -2)), ""),
    (lambda m: m.nn.functional.pad(m.ones(*X4), (1.5, 1)), "must be tuple of ints"),
    (lambda m: m.nn.functional.pad(m.ones(*X4), (1, 1), mode="foo"), "Unrecognised padding mode foo"),
    (lambda m: m.nn.functional.pad(m.ones(*X4), (1, 1), mode="reflect", value=2.0), "doesn't take in value"),
    (lambda m: m.nn.functional.pad(m.ones(1, 2, 3), (5, 1), mode="reflect"), "Padding size should be less than"),
    (lambda m: m.nn.functional.pad(m.ones(1, 2, 3), (4, 1), mode="circular"), "wrapping around more than once"),
    (lambda m: m.nn.functional.pad(m.ones(6), (1, 1), mode="replicate"), "not supported for 1D input"),
    (lambda m: m.nn.functional.pad(m.ones(2, 0, 3), (1, 1), mode="reflect"), "non-zero dimensions"),
    (lambda m: m.nn.functional.interpolate(m.ones(*X4), size=3, scale_factor=2), "only one of size or scale"),
    (lambda m: m.nn.functional.interpolate(m.ones(*X4)), "either size or scale_factor"),
    (lambda m: m.nn.functional.interpolate(m.ones(*X4), size=(2, 3, 4)), "same number of spatial dimensions"),
    (lambda m: m.nn.functional.interpolate(m.ones(*X4), scale_factor=2, align_corners=True), "align_corners option"),
    (lambda m: m.nn.functional.interpolate(m.ones(*X4), scale_factor=2, mode="linear"), "linear mode needs 3D"),
    (lambda m: m.nn.functional.interpolate(m.ones(*X4), size=3, recompute_scale_factor=True), "not meaningful"),
    (lambda m: m.nn.functional.interpolate(m.ones(2, 3, 4), scale_factor=2, mode="bilinear", antialias=True),
     "Anti-alias option is restricted"),
    (lambda m: m.nn.functional.interpolate(m.ones(*X4, dtype=m.int64), scale_factor=2, mode="bilinear"),
     "not implemented for 'Long'"),
    (lambda m: m.nn.functional.unfold(m.ones(1, 5, 2, 2), 3), "sliding blocks"),
    (lambda m: m.nn.functional.unfold(m.ones(1, 1, 5, 2, 2), 3), "Expected 3D or 4D"),
    (lambda m: m.nn.functional.unfold(m.ones(1, 2, 3, 3, dtype=m.int64), 2), "not implemented for 'Long'"),
    (lambda m: m.nn.functional.fold(m.ones(1, 8, 10), (4, 5), 2), "calculated number of sliding blocks 3 \\* 4"),
    (lambda m: m.nn.functional.fold(m.ones(1, 5, 12), (4, 5), 2), "divisible by the product of kernel_size"),
    (lambda m: m.nn.functional.pixel_shuffle(m.ones(2, 3), 2), "at least 3 dimensions"),
    (lambda m: m.nn.functional.pixel_shuffle(m.ones(1, 5, 2, 2), 2), "divisible by the square"),
    (lambda m: m.nn.functional.pixel_shuffle(m.ones(1, 4, 2, 2), 0), "positive upscale_factor"),
    (lambda m: m.nn.functional.pixel_unshuffle(m.ones(1, 1, 5, 4), 2), "height to be divisible"),
    (lambda m: m.nn.functional.adaptive_max_pool2d(m.ones(2, 3, 1, 2, 4), 2), "Expected 3D or 4D tensor"),
    (lambda m: m.nn.functional.adaptive_max_pool2d(m.ones(1, 2, 0, 4), 2), "non-zero size for non-batch"),
    (lambda m: m.nn.functional.adaptive_max_pool2d(m.ones(1, 1, 4, 4, dtype=m.int64), 2), "not implemented for 'Long'"),
    (lambda m: m.nn.functional.dropout1d(m.ones(2, 3, 4, 5)), "Expected 2D or 3D input"),
    (lambda m: m.nn.functional.dropout2d(m.ones(2, 3, 4, 5), p=1.5), "between 0 and 1"),
    (lambda m: m.nn.functional.group_norm(m.ones(2, 3, 4), 2), "divisible by num_groups"),
    (lambda m: m.nn.functional.group_norm(m.ones(1, 2), 2), "more than 1 value per channel"),
    (lambda m: m.nn.GroupNorm(2, 3), "divisible by num_groups"),
    (lambda m: m.nn.InstanceNorm2d(3)(m.ones(2, 3, 4)), ""),
    (lambda m: m.nn.InstanceNorm2d(3)(m.ones(2, 3)), "expected 3D or 4D input"),
    (lambda m: m.nn.InstanceNorm2d(3, affine=True)(m.ones(2, 4, 3, 3)), "match num_features"),
    (lambda m: m.nn.functional.instance_norm(m.ones(2, 3, 1)), "more than 1 spatial element"),
]


@pytest.mark.parametrize("call, words", MISUSE, ids=[str(i) for i in range(len(MISUSE))])
def test_misuse_raises_torchs_exception_and_message(call, words):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            call(torch)
        except Exception as e:  # noqa: BLE001 - torch's exception is the oracle
            theirs = e
        else:
            with pytest.warns(UserWarning, match="does not match num_features"):  # torch warns, does not raise
                call(tracer)
            return
        with pytest.raises(type(theirs), match=words) as ours:
            call(tracer)
    assert "test_image_layers.py" in str(ours.value)


def test_warnings_of_dropout2d_and_instance_norm_are_torchs():
    for m in (torch, tracer):
        with pytest.warns(UserWarning, match="Received a 3D input to dropout2d"):
            m.nn.functional.dropout2d(m.ones(2, 3, 4))
        with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
            m.nn.functional.dropout2d(m.ones(2, 3))


@pytest.mark.parametrize("fn, shape", [("dropout1d", (4, 6, 5)), ("dropout1d", (6, 5)), ("dropout2d", (4, 6, 3, 3)),
                                       ("dropout3d", (3, 4, 2, 2, 2)), ("dropout3d", (4, 2, 2, 2))])
def test_channel_dropout_zeroes_whole_channels_and_scales_the_rest(fn, shape):
    tracer.manual_seed(0)
    x = tracer.ones(*shape, requires_grad=True)
    y = getattr(tracer.nn.functional, fn)(x, 0.25)
    unbatched = len(shape) == {"dropout1d": 2, "dropout2d": 3, "dropout3d": 4}[fn]
    planes = y.detach().numpy().reshape((1 if unbatched else shape[0]) * shape[1 - unbatched], -1)
    assert set(np.unique(planes)) <= {0.0, np.float32(1 / 0.75)}
    assert all(len(set(row)) == 1 for row in planes)  # one draw per (sample, channel)
    assert 0 < (planes[:, 0] == 0).sum() < len(planes)
    (y * 2).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy() * 2)


def test_inplace_channel_dropout_writes_the_input_and_eval_is_the_identity():
    tracer.manual_seed(1)
    x = tracer.ones(3, 8, 2, 2)
    layer = tracer.nn.Dropout2d(0.5, inplace=True)
    y = layer(x)
    assert (x.numpy() == y.numpy()).all() and (x.numpy() == 0).any()
    layer.eval()
    z = tracer.ones(3, 8, 2, 2)
    assert layer(z) is z


def test_instance_norm_running_stats_move_as_torchs_over_several_batches():
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((3, 4, 5, 2)).astype(np.float32) * (i + 1) + i for i in range(5)]
    stats = []
    for m in (torch, tracer):
        norm = m.nn.InstanceNorm2d(4, track_running_stats=True, momentum=0.3)
        for b in batches:
            norm(m.tensor(b))
        norm.eval()
        stats.append([norm.running_mean.numpy(), norm.running_var.numpy(), norm(m.tensor(batches[0])).numpy()])
    for ours, theirs in zip(*reversed(stats)):
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-5)


def _net(m):
    """Every new layer in one small image model: padding, group/instance norm, pixel shuffle,
    bilinear downsampling, unfold, fold, adaptive max pooling."""
    nn = m.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.pad = nn.ReflectionPad2d(1)
            self.conv = nn.Conv2d(2, 8, 3)
            self.gn = nn.GroupNorm(2, 8)
            self.inorm = nn.InstanceNorm2d(8, affine=True)
            self.shuffle = nn.PixelShuffle(2)
            self.up = nn.Upsample(scale_factor=0.5, mode="bilinear")
            self.pool = nn.AdaptiveMaxPool2d((3, 2))
            self.fc = nn.Linear(12 + 128, 3)

        def forward(self, x):
            h = self.inorm(self.gn(self.conv(self.pad(x)))).relu()     # (N, 8, 6, 6)
            h = self.up(self.shuffle(h))                                 # (N, 2, 6, 6)
            cols = nn.functional.unfold(nn.functional.pad(h, (0, 1, 0, 1), value=0.5), 4, stride=2)  # (N, 32, 4)
            back = nn.functional.fold(cols, (6, 6), 4, stride=2)         # (N, 2, 6, 6), overlaps summed
            return self.fc(m.cat([self.pool(back).flatten(1), cols.flatten(1)], 1))
    return Net()


@pytest.mark.parametrize("backend", ["numpy", "onnxruntime"])
def test_a_model_of_the_new_layers_trains_compiled_as_torch(backend):
    rng = np.random.default_rng(4)
    xs = [rng.standard_normal((4, 2, 6, 6)).astype(np.float32) for _ in range(12)]
    ys = [rng.integers(0, 3, 4) for _ in range(12)]
    tracer.manual_seed(0)
    ours = _net(tracer)
    theirs = _net(torch)
    theirs.load_state_dict({k: torch.tensor(v.numpy()) for k, v in ours.state_dict().items()})
    opt_a = tracer.optim.SGD(ours.parameters(), lr=0.05, momentum=0.9)
    opt_b = torch.optim.SGD(theirs.parameters(), lr=0.05, momentum=0.9)

    def step(m, net, opt, x, y):
        opt.zero_grad()
        loss = m.nn.functional.cross_entropy(net(x), y)
        loss.backward()
        opt.step()
        return loss

    compiled = tracer.compile(lambda x, y: step(tracer, ours, opt_a, x, y), backend=backend)
    for x, y in zip(xs, ys):
        a = compiled(tracer.tensor(x), tracer.tensor(y)).item()
        b = step(torch, theirs, opt_b, torch.tensor(x), torch.tensor(y)).item()
        assert a == pytest.approx(b, rel=1e-4)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.detach().numpy(), q.detach().numpy(), rtol=1e-3, atol=1e-5, err_msg=name)
