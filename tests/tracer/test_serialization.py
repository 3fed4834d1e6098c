"""tracer.save / tracer.load: exact round trips, safe loading of bad files."""

from collections import OrderedDict

import numpy as np
import pytest

import tracer
from tracer import nn


def test_state_dict_round_trip_is_exact(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    path = tmp_path / "model.npz"
    tracer.save(model.state_dict(), path)
    other = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    other.load_state_dict(tracer.load(path))
    for p, q in zip(model.parameters(), other.parameters()):
        np.testing.assert_array_equal(p.detach().numpy(), q.detach().numpy())


def test_nested_structures_and_dtypes(tmp_path):
    obj = {"epoch": 3, "lr": 0.5, "name": "run", "tensors": [tracer.arange(3), tracer.ones(2, dtype=tracer.float64)],
           "nested": {"flag": True, "t": (tracer.tensor([True, False]),)}, 7: None}
    tracer.save(obj, tmp_path / "obj.npz")
    back = tracer.load(tmp_path / "obj.npz")
    assert back["epoch"] == 3 and back["lr"] == 0.5 and back["name"] == "run" and back[7] is None
    assert back["tensors"][0].dtype == tracer.int64 and back["tensors"][1].dtype == tracer.float64
    assert back["nested"]["t"][0].tolist() == [True, False] and back["nested"]["flag"] is True


def test_loading_with_wrong_keys_or_shapes_gives_torchs_errors(tmp_path):
    tracer.save({"0.weight": tracer.zeros(5, 5)}, tmp_path / "bad.npz")
    with pytest.raises(RuntimeError, match="Missing key"):
        nn.Sequential(nn.Linear(3, 4)).load_state_dict(tracer.load(tmp_path / "bad.npz"))


@pytest.mark.parametrize("damage", ["truncate", "garbage", "foreign_npz", "pickled_object"])
def test_truncated_or_hostile_files_fail_cleanly(tmp_path, damage):
    path = tmp_path / "f.npz"
    tracer.save({"w": tracer.ones(100)}, path)
    data = path.read_bytes()
    if damage == "truncate":
        path.write_bytes(data[: len(data) // 2])
    elif damage == "garbage":
        path.write_bytes(b"\x00not a zip" * 50)
    elif damage == "foreign_npz":
        np.savez(path, w=np.ones(3))
    else:
        np.savez(path, __tracegrad_structure__=np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(tracer.LoadError):
        tracer.load(path)


def test_save_refuses_what_it_cannot_represent(tmp_path):
    with pytest.raises(TypeError, match="cannot save a object"):
        tracer.save({"x": object()}, tmp_path / "x.npz")


def test_tensors_refuse_pickle():
    import pickle
    with pytest.raises(TypeError, match="not picklable"):
        pickle.dumps(tracer.ones(2))


def test_save_writes_exactly_the_path_given_and_loads_it_back(tmp_path):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh())
    for name in ("model.pt", "weights.pth", "no_suffix", "ckpt.npz"):
        tracer.save(model.state_dict(), tmp_path / name)
        assert (tmp_path / name).is_file()
        back = tracer.load(str(tmp_path / name))
        assert all(tracer.equal(a, b) for a, b in zip(back.values(), model.state_dict().values()))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt.npz", "model.pt", "no_suffix", "weights.pth"]


def test_a_checkpoint_of_numpy_arrays_numbers_and_nested_containers_round_trips(tmp_path):
    opt = tracer.optim.Adam(nn.Linear(2, 2).parameters())
    obj = {"epoch": 3, "arr": np.arange(6, dtype=np.int32).reshape(2, 3), "flag": np.bool_(True),
           "nested": OrderedDict(a=[1.5, ("x", None)], b={"t": tracer.ones(2)}), "opt": opt.state_dict()}
    tracer.save(obj, tmp_path / "ckpt.pt")
    back = tracer.load(tmp_path / "ckpt.pt")
    assert isinstance(back["arr"], np.ndarray) and back["arr"].dtype == np.int32
    np.testing.assert_array_equal(back["arr"], obj["arr"])
    assert back["epoch"] == 3 and back["flag"] is True and isinstance(back["nested"], OrderedDict)
    assert back["nested"]["a"] == [1.5, ("x", None)] and back["nested"]["b"]["t"].tolist() == [1.0, 1.0]
    assert back["opt"]["param_groups"] == obj["opt"]["param_groups"]


def test_saving_a_whole_module_is_refused_and_writes_nothing(tmp_path):
    with pytest.raises(TypeError, match=r"whole Linear module .*state_dict\(\)"):
        tracer.save({"model": nn.Linear(2, 2)}, tmp_path / "m.pt")
    with pytest.raises(TypeError, match="dtype object"):
        tracer.save(np.array([object()]), tmp_path / "m.pt")
    assert not (tmp_path / "m.pt").exists()


def test_map_location_as_torch_on_a_cpu_only_machine(tmp_path):
    torch = pytest.importorskip("torch")
    tracer.save({"a": tracer.ones(2)}, tmp_path / "ours.pt")
    torch.save({"a": torch.ones(2)}, tmp_path / "theirs.pt")
    for where in ("cpu", tracer.device("cpu"), {"cpu": "cpu"}, lambda storage, loc: storage):
        twhere = torch.device("cpu") if isinstance(where, tracer.device) else where
        assert tracer.load(tmp_path / "ours.pt", map_location=where)["a"].tolist() == \
            torch.load(tmp_path / "theirs.pt", map_location=twhere)["a"].tolist()
    for where in ("cuda", "cuda:0", {"cpu": "cuda:1"}):
        with pytest.raises(RuntimeError) as theirs:
            torch.load(tmp_path / "theirs.pt", map_location=where)
        with pytest.raises(RuntimeError) as ours:
            tracer.load(tmp_path / "ours.pt", map_location=where)
        assert str(ours.value) == str(theirs.value)
    with pytest.raises(TypeError, match="map_location must be"):
        tracer.load(tmp_path / "ours.pt", map_location=3.5)


def test_load_state_dict_takes_real_torch_tensors_and_numpy_arrays():
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Linear(2, 3)
    ours = nn.Linear(2, 3)
    assert not ours.load_state_dict(theirs.state_dict()).missing_keys
    np.testing.assert_array_equal(ours.weight.detach().numpy(), theirs.weight.detach().numpy())
    ours.load_state_dict({"weight": np.ones((3, 2), np.float64), "bias": np.zeros(3, np.float32)})
    assert ours.weight.dtype == tracer.float32 and ours.weight.sum().item() == 6.0


def test_load_state_dict_refuses_what_torch_refuses_with_its_message():
    torch = pytest.importorskip("torch")
    bad = {"weight": [[1.0, 2.0]] * 3, "bias": torch.zeros(3)}
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.Linear(2, 3).load_state_dict(bad)
    ours = nn.Linear(2, 3)
    before = ours.weight.tolist()
    with pytest.raises(RuntimeError) as mine:
        ours.load_state_dict({"weight": bad["weight"], "bias": tracer.zeros(3)})
    assert str(theirs.value) in str(mine.value)
    assert ours.weight.tolist() == before
    with pytest.raises(RuntimeError) as theirs:
        torch.nn.Linear(2, 3).load_state_dict({"weight": torch.ones(2, 2), "bias": torch.zeros(3)})
    with pytest.raises(RuntimeError) as mine:
        ours.load_state_dict({"weight": tracer.ones(2, 2), "bias": tracer.zeros(3)})
    assert str(theirs.value) in str(mine.value).replace("tracer.Size", "torch.Size")


def test_load_state_dict_assign_takes_the_checkpoints_dtype_and_keeps_requires_grad():
    torch = pytest.importorskip("torch")
    for m, make in ((tracer, nn.Sequential), (torch, torch.nn.Sequential)):
        model = make(m.nn.Linear(2, 2), m.nn.BatchNorm1d(2))
        model[0].bias.requires_grad_(False)
        state = {k: v.double() if v.is_floating_point() else v for k, v in model.state_dict().items()}
        model.load_state_dict(state, assign=True)
        got = [(k, str(v.dtype).split(".")[-1], v.requires_grad) for k, v in model.state_dict(keep_vars=True).items()]
        if m is tracer:
            ours = got
    assert ours == got
    assert isinstance(model[0].weight, torch.nn.Parameter)
