"""set_printoptions as torch's: sci_mode forces scientific notation on or off (it was accepted
and ignored), profiles, precision; reprs compared with torch's."""
import pytest

import tracer

torch = pytest.importorskip("torch")

VALUES = [[1e-5, 1.5, 300.0], [1.0, 2.0, 3.0], [1.0, 2e9, 3.0], [0.123456, 0.5], [float("nan"), 1.0, -float("inf")],
          [0.0, 10.0, -3.0], [float("nan"), float("inf")], [[1.5, -0.25], [100.0, 0.0]], [0.0, 0.0], 2.5]
OPTIONS = [dict(sci_mode=None), dict(sci_mode=False), dict(sci_mode=True), dict(profile="short"),
           dict(precision=2, sci_mode=True), dict(profile="full", precision=6)]


@pytest.fixture(autouse=True)
def default_options():
    yield
    for m in (torch, tracer):
        m.set_printoptions(profile="default")


@pytest.mark.parametrize("options", OPTIONS, ids=[str(o) for o in OPTIONS])
@pytest.mark.parametrize("values", VALUES, ids=range(len(VALUES)))
def test_reprs_follow_the_print_options_as_torchs(options, values):
    for m in (torch, tracer):
        m.set_printoptions(**options)
    assert repr(tracer.tensor(values)) == repr(torch.tensor(values))


def test_an_unknown_profile_changes_nothing_as_in_torch():
    for m in (torch, tracer):
        m.set_printoptions(precision=2)
        m.set_printoptions(profile="tiny")
    assert repr(tracer.tensor([0.123456])) == repr(torch.tensor([0.123456])) == "tensor([0.12])"
