"""tracer.save / tracer.load: exact round trips, safe loading of bad files."""

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
