"""The bench driver's logic with a fake child process: the rotated order of the rounds, the
JSON line a child prints among other output, medians, spreads and ratios. No timing is
asserted anywhere."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
_rounds = pytest.importorskip("_rounds")

#: A child that logs its variant, prints noise, then the n-th value of its variant's list.
FAKE_CHILD = """
import json, sys
variant, log, values = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with open(log, "a") as f:
    f.write(variant + "\\n")
seen = open(log).read().splitlines().count(variant)
print("a library's chatter")
print("{not json")
if variant == "broken":
    sys.exit("boom")
print(json.dumps({"case": "c", "variant": variant, "value": values[variant][seen - 1], "unit": "us/call"}))
"""


def test_schedule_rotates_the_order():
    assert _rounds.schedule(["a", "b", "c"], 4) == [["a", "b", "c"], ["b", "c", "a"], ["c", "a", "b"],
                                                    ["a", "b", "c"]]
    for order in _rounds.schedule(["a", "b", "c"], 3):
        assert sorted(order) == ["a", "b", "c"]
    assert [o[0] for o in _rounds.schedule(["a", "b", "c"], 3)] == ["a", "b", "c"]


def test_parse_child_takes_the_last_json_result_line():
    out = 'warning: x\n{"value": 1.0}\n{broken\n{"note": 3}\n{"case": "c", "value": 2.5}\ntrailing\n'
    assert _rounds.parse_child(out) == {"case": "c", "value": 2.5}
    with pytest.raises(ValueError, match="no JSON result line"):
        _rounds.parse_child("only text\n{\"no_value\": 1}\n")


def test_summarize_medians_spreads_and_ratios():
    case = _rounds.Case("c", ("numpy", "torch eager", "mine"))
    rows = _rounds.summarize(case, {"numpy": [1.0, 3.0, 2.0], "torch eager": [4.0, 8.0, 6.0, 5.0],
                                    "mine": [9.0, 3.0, 12.0]})
    by = {r["variant"]: r for r in rows}
    assert by["torch eager"]["median"] == 5.5 and (by["torch eager"]["min"], by["torch eager"]["max"]) == (4.0, 8.0)
    assert by["mine"]["vs_torch"] == pytest.approx(9 / 5.5) and by["mine"]["vs_numpy"] == pytest.approx(4.5)
    assert by["numpy"]["vs_torch"] == pytest.approx(2 / 5.5)
    line = _rounds.format_row(case, by["mine"])
    assert re.match(r"(.+?)\s{2,}(\S+) (\S+)", line).groups() == ("c | mine", "9.00", "us/call")
    assert "[3.00 .. 12.0] x3" in line and "1.64x torch eager" in line and "4.5x numpy" in line


def test_summarize_without_a_reference_gives_no_ratio():
    rows = _rounds.summarize(_rounds.Case("c", ("tracegrad",), unit="ms", once=True), {"tracegrad": [7.0]})
    assert rows[0]["vs_torch"] is None and rows[0]["vs_numpy"] is None
    assert "x torch" not in _rounds.format_row(_rounds.Case("c", ("tracegrad",)), rows[0])


def test_run_case_spawns_one_child_per_variant_and_round(tmp_path):
    log = tmp_path / "order.log"
    values = {"numpy": [1, 2, 3], "torch eager": [10, 30, 20], "mine": [40, 5, 30]}
    case = _rounds.Case("c", tuple(values), pairs=(("mine", "numpy"),))
    lines = []
    rows = _rounds.run_case(case, 3, lambda v, c: [sys.executable, "-c", FAKE_CHILD, v, str(log), json.dumps(values)],
                            out=lines.append)
    assert log.read_text().splitlines() == ["numpy", "torch eager", "mine", "torch eager", "mine", "numpy",
                                       "mine", "numpy", "torch eager"]
    by = {r["variant"]: r for r in rows}
    assert [by[v]["values"] for v in values] == [[1, 2, 3], [10, 30, 20], [40, 5, 30]]
    assert by["mine"]["median"] == 30 and by["mine"]["vs_torch"] == pytest.approx(1.5)
    assert by["mine"]["vs_numpy"] == pytest.approx(15)
    assert lines[-1].startswith("c | mine / numpy") and lines[-1].split()[5] == "15"


def test_a_failing_child_is_reported_and_left_out(tmp_path):
    values = {"torch eager": [1.0, 2.0], "broken": [0, 0]}
    lines = []
    rows = _rounds.run_case(_rounds.Case("c", tuple(values)), 2,
                            lambda v, c: [sys.executable, "-c", FAKE_CHILD, v, str(tmp_path / "log"), json.dumps(values)],
                            out=lines.append)
    assert [r["variant"] for r in rows] == ["torch eager"]
    assert sum("broken  failed (exit 1): boom" in line for line in lines) == 2


def test_max_rounds_caps_a_case(tmp_path):
    values = {"tracegrad": [3.0, 4.0, 5.0]}
    rows = _rounds.run_case(_rounds.Case("c", ("tracegrad",), max_rounds=1), 3,
                            lambda v, c: [sys.executable, "-c", FAKE_CHILD, v, str(tmp_path / "log"), json.dumps(values)],
                            out=lambda line: None)
    assert rows[0]["values"] == [3.0]


def test_a_child_measures_once_cases_and_divides_per_call(capsys):
    cases = [_rounds.Case("count", ("v",), unit="nodes", once=True),
             _rounds.Case("chain", ("v",), unit="ms/op", per_call=4, calls=5)]
    _rounds.main(cases, lambda variant, case, quick: 42, ["--variant", "v", "--case", "count"])
    assert json.loads(capsys.readouterr().out) == {"case": "count", "variant": "v", "value": 42.0, "unit": "nodes"}
    _rounds.main(cases, lambda variant, case, quick: (lambda: None), ["--variant", "v", "--case", "chain", "--quick"])
    record = _rounds.parse_child(capsys.readouterr().out)
    assert record["unit"] == "ms/op" and record["value"] >= 0


def test_threads_option_sets_one_count_for_every_library(monkeypatch):
    assert _rounds.thread_env(None) is None
    env = _rounds.thread_env(1)
    assert {env[k] for k in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", _rounds.THREADS_ENV)} == {"1"}
    monkeypatch.setenv(_rounds.THREADS_ENV, "3")
    assert _rounds.cores() == 3


BENCH = Path(__file__).resolve().parents[2] / "bench"
PROBE = """
import sys
sys.path.insert(0, sys.argv[1])
import {script} as bench
cases = {{c.name: c for c in getattr(bench, "BENCH", None) or bench.CASES}}
builder = getattr(bench, "build_variant", None) or bench.build
builder(sys.argv[2], cases[sys.argv[3]], True)
print(" ".join(m for m in ("torch", "tracer", "onnxruntime") if m in sys.modules))
"""


@pytest.mark.parametrize("script, variant, case, imported", [
    ("eager_overhead", "numpy", "small chain, no grad", ""),
    ("train_step", "numpy by hand", "xor 2-4-4-1 b200", ""),
    ("train_step", "onnx graph by hand", "xor 2-4-4-1 b200", "onnxruntime"),
    ("train_step", "torch eager", "xor 2-4-4-1 b200", "torch"),
    ("mlp_step", "tracegrad eager", "mlp b64 Adam step", "tracer onnxruntime"),
])
def test_a_child_imports_only_what_its_variant_needs(script, variant, case, imported):
    out = subprocess.run([sys.executable, "-c", PROBE.format(script=script), str(BENCH), variant, case],
                         capture_output=True, text=True, check=True).stdout
    assert out.strip() == imported
