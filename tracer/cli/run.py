"""``tracegrad run script.py [args...]``: run a PyTorch script unchanged, with ``torch`` aliased
to tracer for the length of the run.

The script runs as ``python script.py args`` would run it: ``sys.argv`` is ``[script, *args]``,
``__name__`` is ``"__main__"``, its folder is first on ``sys.path``. Its exceptions are its
own: the traceback starts at the script's frame and the exit code is 1; a ``SystemExit`` it
raises ends the command with that code.
"""
from __future__ import annotations

import builtins
import importlib.machinery
import os
import sys
import types

from tracer import alias
from tracer.cli.errors import UsageError


def run_script(path: str, args: list[str]) -> None:
    """Run ``path`` as ``__main__`` with ``import torch`` meaning tracer; whatever the script
    raises propagates. ``sys.argv``, ``sys.path``, ``__main__`` and the import system are
    restored after."""
    full = os.path.abspath(path)
    with open(full, "rb") as f:
        code = compile(f.read(), full, "exec", dont_inherit=True)  # bytes: the coding cookie is honoured
    main = _main_module(full)
    saved_argv, saved_path, saved_main = sys.argv, sys.path[:], sys.modules.get("__main__")
    sys.argv = [path, *args]
    sys.path.insert(0, os.path.dirname(full))
    sys.modules["__main__"] = main
    try:
        with alias.alias_torch():
            exec(code, vars(main))  # noqa: S102  (the user's own script, run as python runs it)
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path
        if saved_main is None:
            sys.modules.pop("__main__", None)
        else:
            sys.modules["__main__"] = saved_main


def _main_module(full: str) -> types.ModuleType:
    """A fresh ``__main__`` with what python gives a script (runpy would rewrite sys.argv[0])."""
    main = types.ModuleType("__main__")
    main.__file__ = full
    main.__cached__ = None
    main.__loader__ = importlib.machinery.SourceFileLoader("__main__", full)
    main.__builtins__ = builtins
    return main


def cmd_run(args) -> int:
    """The ``run`` subcommand: 0 when the script finishes, 1 (and its traceback) when it raises."""
    if not os.path.isfile(args.script):
        raise UsageError(f"no such file: {args.script}")
    try:
        run_script(args.script, args.args)
    except Exception as e:  # the script's own failure: shown as Python shows it
        e = e.with_traceback(_from_script(e.__traceback__, args.script))
        sys.excepthook(type(e), e, e.__traceback__)
        return 1
    return 0


def _from_script(tb, path: str):
    """The traceback from the script's first frame on, without tracegrad's, runpy-like and
    import-alias frames (as Python hides its import machinery's); None when no frame is the
    script's (a SyntaxError), so Python prints only the error."""
    target = os.path.abspath(path)
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) != target:
        tb = tb.tb_next
    kept = []
    while tb is not None:
        if tb.tb_frame.f_code.co_filename != alias.__file__:
            kept.append(tb)
        tb = tb.tb_next
    chain = None
    for entry in reversed(kept):
        chain = types.TracebackType(chain, entry.tb_frame, entry.tb_lasti, entry.tb_lineno)
    return chain
