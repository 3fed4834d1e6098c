"""A minimal progress bar on stderr (the demo must not need tqdm)."""
from __future__ import annotations

import sys
import time


class Progress:
    def __init__(self, total: int, label: str, stream=None, width: int = 30):
        self.total, self.label, self.width = total, label, width
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()
        self.done = 0

    def update(self, n: int = 1, note: str = "") -> None:
        self.done += n
        live = getattr(self.stream, "isatty", lambda: False)()
        if self.done == self.total or (live and self.done % max(1, self.total // 50) == 0):
            frac = self.done / self.total
            bar = "#" * int(frac * self.width)
            elapsed = time.perf_counter() - self.start
            self.stream.write(f"{chr(13) if live else ''}{self.label:<28} [{bar:<{self.width}}] {self.done}/{self.total} "
                              f"{elapsed:5.1f}s {note}")
            self.stream.flush()

    def close(self) -> None:
        self.stream.write("\n")
        self.stream.flush()
