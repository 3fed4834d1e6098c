"""``tracegrad run script.py [args...]``: run a PyTorch script unchanged, with ``torch`` aliased
to tracer for the length of the run.

The script runs as ``python script.py args`` would run it: ``sys.argv`` is ``[script, *args]``
(the script's absolute path, as ``runpy`` gives it),
``__name__`` is ``"__main__"``, its folder is first on ``sys.path``. Its exceptions are its
own: the traceback starts at the script's frame and the exit code is 1; a ``SystemExit`` it
raises ends the command with that code.
"""
from __future__ import annotations

import os
import runpy
import sys
import types

from tracer import alias
from tracer.cli.errors import UsageError


def run_script(path: str, args: list[str]) -> None:
    """Run ``path`` as ``__main__`` with ``import torch`` meaning tracer; whatever the script
    raises propagates. Python's own ``runpy`` runs it (a fresh ``__main__``, ``__file__``, the
    coding cookie), so tracegrad never executes code itself; ``sys.argv``, ``sys.path`` and the
    import system are restored after. As with ``runpy``, ``sys.argv[0]`` is the script's
    absolute path."""
    full = os.path.abspath(path)
    saved_argv, saved_path = sys.argv, sys.path[:]
    sys.argv = [full, *args]
    sys.path.insert(0, os.path.dirname(full))
    try:
        with alias.alias_torch():
            runpy.run_path(full, run_name="__main__")
    finally:
        sys.argv, sys.path[:] = saved_argv, saved_path


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
