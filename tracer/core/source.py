"""Find the user's source line: the first stack frame outside tracegrad's own packages."""
from __future__ import annotations

import os
import sys

# tracer/core/source.py -> the folder holding the tracer, ir and backends packages
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_OWN = tuple(os.path.join(_ROOT, pkg) + os.sep for pkg in ("tracer", "ir", "backends"))


_SHORT: dict[str, str] = {}


def user_source() -> str | None:
    """``"file:line"`` of the innermost caller that is not tracegrad itself."""
    frame = sys._getframe(1)
    while frame is not None:
        name = frame.f_code.co_filename
        if not name.startswith(_OWN):
            short = _SHORT.get(name)
            if short is None:
                short = _SHORT[name] = _short(name)
            return f"{short}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def _short(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return path if rel.startswith("..") else rel
