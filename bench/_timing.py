"""Shared timing helper for the bench scripts: median of repeated runs after a warm-up."""
from __future__ import annotations

import statistics
import time


def median_us(fn, repeats: int, warmup: int = 3, budget_s: float = 3.0) -> float:
    """Median wall time of ``fn()`` in microseconds (fewer repeats if the budget runs out)."""
    for _ in range(warmup):
        fn()
    times = []
    start = time.perf_counter()
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if time.perf_counter() - start > budget_s and len(times) >= 5:
            break
    return statistics.median(times) * 1e6
