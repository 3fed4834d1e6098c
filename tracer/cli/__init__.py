"""The ``tracegrad`` command: demo, export, compare, show, info, finetune, run.

Exit codes: 0 success, 1 the work failed (the user's function raised, backends disagree),
2 bad usage (missing file, unknown function, malformed shape). Errors are one line on stderr.
"""
from __future__ import annotations

import sys

from tracer.cli import commands, finetune, run
from tracer.cli.errors import UsageError, WorkError
from tracer.cli.parser import build_parser


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    try:
        return _handler(args.command)(args) or 0
    except UsageError as e:
        print(f"tracegrad {args.command}: error: {e}", file=sys.stderr)
        return 2
    except WorkError as e:
        print(f"tracegrad {args.command}: failed: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tracegrad: interrupted", file=sys.stderr)
        return 1
    except (RuntimeError, ValueError, TypeError, IndexError, OSError) as e:
        # Anything the user's code or data triggers past the checks above: one line, exit 1.
        print(f"tracegrad {args.command}: failed: {type(e).__name__}: {e}".splitlines()[0], file=sys.stderr)
        return 1


def _handler(command: str):
    """``run`` and ``finetune`` live in their own modules; the other subcommands in ``commands``."""
    own = {"run": run.cmd_run, "finetune": finetune.cmd_finetune}
    return own[command] if command in own else getattr(commands, f"cmd_{command}")
