"""docs/support.md is generated from the code (docs/generate_support.py) and must be current."""
import importlib.util
from pathlib import Path

import pytest

import tracer

torch = pytest.importorskip("torch")
ROOT = Path(__file__).resolve().parent.parent


def _generator():
    spec = importlib.util.spec_from_file_location("generate_support", ROOT / "docs" / "generate_support.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_support_table_is_current():
    expected = _generator().render(torch, tracer)
    current = (ROOT / "docs" / "support.md").read_text(encoding="utf-8")
    assert current == expected, "docs/support.md is stale: run python docs/generate_support.py"


def test_support_table_reads_the_code():
    text = _generator().render(torch, tracer)
    optim = text[text.index("## optimizers"):].split("Not provided yet", 1)[0]
    assert "`optim.Adam`" in optim and "`optim.SparseAdam`" not in optim
    section = text[text.index("## nn modules"):]
    provided, missing = section.split("Not provided yet", 1)
    assert "`nn.Conv2d`" in provided and "`nn.Conv2d`" not in missing.split("##")[0]
    assert "`nn.LazyConv2d`" not in provided
