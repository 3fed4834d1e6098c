"""Timing inside one process: ``median_us`` is what a bench child (bench/_rounds.py) times its
variant with. ``interleaved_us`` takes turns between variants in the same process, for quick
experiments only: the bench scripts compare variants in separate processes, since a
neighbour's spinning thread pools distort an in-process comparison."""
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


#: Seconds to wait before timing a variant: OpenBLAS's worker keeps spinning ~0.1 s after its
#: last matmul and halves onnxruntime's speed on this 2-core machine meanwhile (measured).
QUIET_S = 0.3


def interleaved_us(fns: dict, rounds: int = 7, block: int = 100, settle: int = 10) -> dict:
    """Per-call time of each ``fns[name]()`` in microseconds: the median, over ``rounds``
    rounds, of the mean of a block of ``block`` calls, the variants taking turns within each
    round. On a shared machine whose speed drifts (this 2-core VM moves by up to 40% between
    runs), taking turns exposes every variant to the same drift. Before each block the
    variant waits ``QUIET_S`` and runs ``settle`` untimed calls, so the thread pools of the
    previous variant (PyTorch's, OpenBLAS's, onnxruntime's spin after their work) have gone
    idle and this one's are awake."""
    samples = {name: [] for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            time.sleep(QUIET_S)
            for _ in range(settle):
                fn()
            t0 = time.perf_counter()
            for _ in range(block):
                fn()
            samples[name].append((time.perf_counter() - t0) / block)
    return {name: statistics.median(s) * 1e6 for name, s in samples.items()}
