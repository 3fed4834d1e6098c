"""``python -m tracer`` runs the ``tracegrad`` command; ``python -m tracer script.py [args...]``
is ``tracegrad run script.py [args...]`` (no subcommand ends in ``.py``)."""
import sys

from tracer.cli import main

_argv = sys.argv[1:]
if _argv and _argv[0].endswith(".py"):
    _argv = ["run", *_argv]
sys.exit(main(_argv))
