"""Compile guards are recomputed when the state they guard changes, told by its owners."""
import copy

import pytest

import tracer
from tracer import nn
from tracer.core.watch import Guard, watchers_of


def _watching(owner) -> Guard:
    guard = Guard()
    guard.stale = False
    owner._watchers.add(guard)
    return guard


def test_module_mutations_mark_guards_stale():
    model = nn.Sequential(nn.Linear(2, 3), nn.ReLU())
    for change in (lambda m: m.train(False), lambda m: setattr(m[0], "weight", nn.Parameter(tracer.ones(3, 2))),
                   lambda m: m[0].register_buffer("running", tracer.zeros(3)), lambda m: delattr(m[0], "bias")):
        guard = _watching(model[0])
        change(model)
        assert guard.stale


def test_reading_and_training_do_not_mark_stale():
    model = nn.Linear(2, 1)
    opt = tracer.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)

    def step():
        opt.zero_grad()
        model(tracer.ones(4, 2)).sum().backward()
        opt.step()
    step()  # the first step creates the optimizer's per-parameter state
    guards = _watching(model), _watching(opt)
    step()
    assert not any(g.stale for g in guards)


def test_optimizer_groups_and_state_mark_stale():
    model = nn.Linear(2, 1)
    opt = tracer.optim.Adam(model.parameters(), lr=0.1)
    guard = _watching(opt)
    opt.param_groups[0]["betas"] = (0.8, 0.9)
    assert guard.stale
    guard.stale = False
    model(tracer.ones(4, 2)).sum().backward()
    opt.step()  # the first step creates per-parameter state
    assert guard.stale


def test_tensor_metadata_marks_its_watchers():
    p = nn.Parameter(tracer.ones(2))
    guard = Guard()
    guard.stale = False
    watchers_of(p).add(guard)
    p.requires_grad_(False)
    assert guard.stale
    guard.stale = False
    p.data = tracer.ones(2, dtype=tracer.float64)
    assert guard.stale


def test_a_deep_copy_is_watched_on_its_own():
    model = nn.Linear(2, 1)
    twin = copy.deepcopy(model)
    mine, theirs = _watching(model), _watching(twin)
    twin.weight = nn.Parameter(tracer.ones(1, 2))
    assert theirs.stale and not mine.stale
    theirs.stale = False
    twin._parameters["bias"] = None  # the copied dict tells the copy's watchers
    assert theirs.stale and not mine.stale


def test_watched_containers_are_not_picklable():
    import pickle
    with pytest.raises(TypeError):
        pickle.dumps(nn.Linear(2, 1)._parameters)
