"""The differential fuzzer in CI: a fixed slice of programs must agree on every check, and each
recorded defect's reproduction must still show it (a strict xfail, so a fix is noticed and its
entry removed from ``known.py``).

``TRACEGRAD_FUZZ_N`` sets the slice's size (default 1000 programs, about 20 s);
``TRACEGRAD_FUZZ_SEED`` its seed. ``python -m tests.fuzz --n 5000`` is the long campaign.
"""
import os
import warnings

import pytest

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

from tests.fuzz.campaign import explain, run  # noqa: E402  (after the skips: the oracle imports torch)
from tests.fuzz.known import KNOWN_DEFECTS  # noqa: E402
from tests.fuzz.oracle import check  # noqa: E402

N = int(os.environ.get("TRACEGRAD_FUZZ_N", "1000"))
SEED = int(os.environ.get("TRACEGRAD_FUZZ_SEED", "0"))
SHOWN = 3  # failing programs printed (shrunk) in the failure message


def test_fixed_slice_agrees_with_torch_interpreter_and_onnxruntime():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        summary = run(SEED, N)
        shown = [explain(o) for o in summary.failing[:SHOWN]]
    errors = [f"fuzzer error in program {i}:\n{tb}" for i, tb in summary.harness_errors[:SHOWN]]
    assert summary.programs + len(summary.harness_errors) == N
    assert not summary.failing and not summary.harness_errors, "\n\n".join(shown + errors + [summary.text()])
    # the slice exercises what it claims to: every check ran on most programs
    for check_name in ("eager", "trace", "grad", "ir_grad", "ort.all.forward", "ort.none.forward", "ort.all.grad"):
        assert summary.passed[check_name] > N // 4, f"{check_name} ran on only {summary.passed[check_name]} programs"


@pytest.mark.parametrize("defect", [pytest.param(d, id=d.name, marks=pytest.mark.xfail(
    strict=True, reason=f"known defect {d.name}: {d.reason[:120]}")) for d in KNOWN_DEFECTS if d.repro])
def test_known_defect_is_fixed(defect):
    """Fails (xfail) while the reproduction shows the defect; passes (an XPASS, which fails the
    run) once it is fixed: then delete the entry from known.py."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outcome = check(defect.repro)
    shown = [m for m, d in outcome.known if d is defect]
    assert not shown and outcome.ok, outcome.report()
