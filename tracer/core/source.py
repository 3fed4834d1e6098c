"""Find the user's source line: the first stack frame outside tracegrad's own packages."""
from __future__ import annotations

import os
import sys

# tracer/core/source.py -> the folder holding the tracer, ir and backends packages
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_OWN = tuple(os.path.join(_ROOT, pkg) + os.sep for pkg in ("tracer", "ir", "backends"))


#: Files inside the packages whose frames count as the user's (``tracegrad demo``'s model and
#: training code): their lines, not the console script's, are the ops' source lines.
_USER_CODE: set[str] = set()


def mark_user_code(path: str) -> None:
    """Let frames of the file at ``path`` be "user" frames though it lies inside tracegrad."""
    _USER_CODE.update((path, os.path.abspath(path)))
    _USER_FILE.clear()


#: filename -> its short form for a user's file, or None for tracegrad's own (asked once per file).
_USER_FILE: dict[str, str | None] = {}


def user_source() -> str | None:
    """``"file:line"`` of the innermost caller that is not tracegrad itself."""
    frame = sys._getframe(1)
    files = _USER_FILE
    while frame is not None:
        name = frame.f_code.co_filename
        try:
            short = files[name]
        except KeyError:
            short = files[name] = _short(name) if not name.startswith(_OWN) or name in _USER_CODE else None
        if short is not None:
            return f"{short}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def _short(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
