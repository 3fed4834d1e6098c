"""``tracegrad run`` and the ``torch`` alias end to end: scripts written for PyTorch (under
``tests/e2e/scripts/``) run unchanged through tracegrad and print the numbers real torch prints
from the same NumPy-made weights; what tracegrad lacks fails clearly; the alias is gone after."""
import importlib.util
import os
import pathlib
import re
import subprocess
import sys

import numpy as np
import pytest

import tracer
from tracer import alias
from tracer.cli.run import run_script

ROOT = pathlib.Path(__file__).resolve().parents[2]
SCRIPTS = pathlib.Path(__file__).resolve().parent / "scripts"
NUMBER = re.compile(r"^-?\d+\.\d+(e[-+]\d+)?$")


def run(*argv, cwd=SCRIPTS):
    """A subprocess with the project importable, as a user's shell has it after installing."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run([sys.executable, *argv], capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def assert_same_output(ours: str, theirs: str):
    """Line by line and word by word; decimals to float32 tolerance, the rest exactly."""
    a, b = ours.splitlines(), theirs.splitlines()
    assert len(a) == len(b), f"{len(a)} lines vs {len(b)}:\n{ours}\n---\n{theirs}"
    for line_a, line_b in zip(a, b):
        words_a, words_b = line_a.split(), line_b.split()
        assert len(words_a) == len(words_b), f"{line_a!r} vs {line_b!r}"
        for x, y in zip(words_a, words_b):
            if NUMBER.match(x) and NUMBER.match(y):
                np.testing.assert_allclose(float(x), float(y), rtol=2e-5, atol=2e-6, err_msg=f"{line_a} vs {line_b}")
            else:
                assert x == y, f"{line_a!r} vs {line_b!r}"


SCRIPT_RUNS = [("train_classifier.py",), ("train_classifier.py", "--epochs", "5", "--lr", "0.02"),
               ("manual_regression.py",), ("manual_regression.py", "25"), ("probe_devices.py",), ("amp_training.py",),
               ("makemore_mlp.py",), ("d2l_trainer.py",), ("dataset_loader.py",), ("dropout_modes.py",),
               ("lr_sweep.py",), ("nn_tutorial.py",), ("autograd_grad.py",), ("everyday_api.py",), ("clip_grad.py",),
               ("save_load.py",), ("lbfgs.py",), ("more_schedulers.py",), ("custom_function.py",),
               ("export_onnx.py",)]


@pytest.mark.parametrize("argv", SCRIPT_RUNS, ids=" ".join)
def test_scripts_print_what_torch_prints(argv):
    pytest.importorskip("torch")
    ours = run("-m", "tracer", "run", *argv)
    theirs = run(*argv)
    assert theirs.returncode == 0, theirs.stderr
    assert ours.returncode == 0, ours.stderr
    assert_same_output(ours.stdout, theirs.stdout)
    assert "AutocastWarning" not in ours.stderr  # autocast and GradScaler were asked for disabled


def test_a_missing_torch_attribute_names_the_torch_piece(tmp_path):
    path = _script(tmp_path, "import torch\n\nJ = torch.autograd.functional.jacobian\n")
    done = run("-m", "tracer", "run", str(path), cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1] == ("AttributeError: module 'torch.autograd' has no attribute "
                                                    "'functional': torch.autograd.functional is not supported by "
                                                    "tracegrad")


def test_python_dash_m_tracer_runs_a_script():
    """``python -m tracer script.py args`` is ``tracegrad run script.py args``."""
    done = run("-m", "tracer", "manual_regression.py", "12")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[0] == "argv ['12'] name __main__"


def test_script_arguments_are_the_scripts_even_when_they_look_like_options():
    done = run("-m", "tracer", "run", "train_classifier.py", "--help")
    assert done.returncode == 0 and "--epochs" in done.stdout


def test_the_subcommands_still_answer():
    done = run("-m", "tracer", "info", "--help")
    assert done.returncode == 0 and "model" in done.stdout
    assert "run" in run("-m", "tracer", "--help").stdout


def test_a_missing_torch_module_fails_clearly():
    done = run("-m", "tracer", "run", "uses_distributed.py")
    assert done.returncode == 1
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("ModuleNotFoundError: No module named 'torch.distributed'")
    assert "torch.distributed is not supported by tracegrad" in last
    assert "tracer/alias.py" not in done.stderr and 'uses_distributed.py", line 3' in done.stderr


def _script(tmp_path, text, name="user.py"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_a_scripts_exception_is_its_own(tmp_path):
    path = _script(tmp_path, "import torch\n\ndef f():\n    raise ValueError('deliberately broken')\n\nf()\n")
    done = run("-m", "tracer", "run", str(path), cwd=tmp_path)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert lines[0] == "Traceback (most recent call last):" and str(path) in lines[1]
    assert lines[-1] == "ValueError: deliberately broken"
    assert "tracer" not in done.stderr.replace(str(path), "")  # no frame of tracegrad's own


def test_a_syntax_error_shows_as_python_shows_it(tmp_path):
    path = _script(tmp_path, "x = (\n")
    done = run("-m", "tracer", "run", str(path), cwd=tmp_path)
    python = run(str(path), cwd=tmp_path)
    assert done.returncode == python.returncode == 1
    assert done.stderr == python.stderr


@pytest.mark.parametrize("code,expected", [("sys.exit(3)", 3), ("sys.exit(0)", 0), ("raise SystemExit('bye')", 1),
                                           ("pass", 0)])
def test_system_exit_is_honoured(tmp_path, code, expected):
    path = _script(tmp_path, f"import sys\nimport torch\n{code}\n")
    done = run("-m", "tracer", "run", str(path), cwd=tmp_path)
    assert done.returncode == expected
    assert done.stderr == ("bye\n" if "bye" in code else "")


def test_a_missing_script_is_a_usage_error(tmp_path):
    done = run("-m", "tracer", "run", "nothere.py", cwd=tmp_path)
    assert done.returncode == 2 and "no such file: nothere.py" in done.stderr


# -- in process: the hook is installed for the run only ---------------------------------------

def _torch_entries():
    return {name: mod for name, mod in sys.modules.items() if alias.is_torch_name(name)}


def test_the_alias_is_gone_after_a_run(tmp_path, capsys):
    real = pytest.importorskip("torch")
    before = _torch_entries()
    path = _script(tmp_path, "import sys\nimport torch\nimport torch.nn as nn\n"
                   "from torch.utils.data.dataloader import DataLoader\nimport torch.backends.cudnn\n"
                   "print(torch.__name__, nn.__name__, DataLoader.__module__, sys.argv)\n")
    run_script(str(path), ["a", "b"])
    assert capsys.readouterr().out == f"tracer tracer.nn tracer.utils.data ['{path}', 'a', 'b']\n"
    import torch
    assert torch is real and _torch_entries() == before
    assert not any(isinstance(f, alias._TorchFinder) for f in sys.meta_path)
    assert not hasattr(tracer.utils.data, "__path__") and not hasattr(tracer.utils.data, "dataloader")
    assert not any("__getattr__" in vars(m) for name, m in sys.modules.items() if name.startswith("tracer"))
    assert str(tmp_path) not in sys.path and sys.argv[1:2] != ["a"]


def test_the_alias_is_gone_after_a_failing_run(tmp_path):
    before, path_before = _torch_entries(), sys.path[:]
    path = _script(tmp_path, "import torch.nn\nraise KeyError('x')\n")
    with pytest.raises(KeyError):
        run_script(str(path), [])
    assert _torch_entries() == before and sys.path == path_before


def test_alias_torch_for_notebooks():
    real = pytest.importorskip("torch")
    with tracer.alias_torch() as handle:
        import torch
        import torch.nn.functional as F
        from torch.optim.lr_scheduler import StepLR
        assert torch is tracer and F is tracer.nn.functional and StepLR is tracer.optim.lr_scheduler.StepLR
        assert handle.active and torch.__spec__.name == "tracer"  # tracer's module is left as it was
    import torch
    assert torch is real and not handle.active
    handle.undo()  # a second undo does nothing


def test_aliases_nest_and_undo_innermost_first():
    real = pytest.importorskip("torch")
    outer = tracer.alias_torch()
    inner = tracer.alias_torch()
    try:
        with pytest.raises(RuntimeError, match="undo the torch alias installed last first"):
            outer.undo()
        import torch
        assert torch is tracer
    finally:
        inner.undo()
        outer.undo()
    import torch
    assert torch is real


@pytest.mark.parametrize("name", ["torch._C", "torch.distributed", "torch.cuda.nccl", "torch.utils.data.distributed"])
def test_what_tracer_lacks_raises_module_not_found(name):
    with tracer.alias_torch():
        with pytest.raises(ModuleNotFoundError, match=f"{re.escape(name)} is not supported by tracegrad") as e:
            __import__(name)
    assert e.value.name == name


@pytest.mark.parametrize("torch_name", sorted(alias.MOVED))
def test_every_moved_name_is_a_torch_module_and_a_tracer_module(torch_name):
    """The table of torch modules tracer keeps under another name names real modules on both sides."""
    pytest.importorskip("torch")
    assert importlib.util.find_spec(torch_name) is not None
    with tracer.alias_torch():
        assert importlib.import_module(torch_name) is importlib.import_module(alias.MOVED[torch_name])
