"""The process-wide switches torch keeps in its C++ context: float32 matmul precision,
deterministic algorithms and the intra-op thread count.

tracegrad stores them so scripts that set and read them behave as under torch, and so
``torch.backends.cuda.matmul.allow_tf32`` and ``set_float32_matmul_precision`` read one value.
None of them changes tracegrad's numbers: NumPy computes float32 matmuls in float32 and its
results do not depend on these switches.
"""
from __future__ import annotations

import os
import warnings

from tracer.core.errors import err

_PRECISIONS = ("highest", "high", "medium")


class _Flags:
    """The stored values (one instance, ``FLAGS``), with torch's defaults."""

    def __init__(self):
        self.matmul_precision = "highest"
        self.deterministic = False
        self.deterministic_warn_only = False
        self.num_threads = _default_threads()


def _default_threads() -> int:
    """The CPUs this process may run on (torch counts the same cores by default)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


FLAGS = _Flags()


def set_float32_matmul_precision(precision: str) -> None:
    """Store ``"highest"``, ``"high"`` or ``"medium"``, as torch; another string is ignored with
    torch's warning. tracegrad computes float32 matmuls in float32 whatever the setting.

    Raises:
        RuntimeError: when ``precision`` is not a string, as torch.
    """
    if not isinstance(precision, str):
        raise err(RuntimeError, f"set_float32_matmul_precision expects a str, but got {type(precision).__name__}")
    if precision not in _PRECISIONS:
        # torch's words, its missing space included, so logs read the same under both
        warnings.warn(f"{precision} is not one of 'highest', 'high', or 'medium'; the current"
                      "setFloat32MatmulPrecision call has no effect.", UserWarning, stacklevel=2)
        return
    FLAGS.matmul_precision = precision


def get_float32_matmul_precision() -> str:
    return FLAGS.matmul_precision


def use_deterministic_algorithms(mode: bool, *, warn_only: bool = False) -> None:
    """Store the switch. tracegrad's kernels give the same result on every run already, so it
    changes nothing.

    Raises:
        TypeError: when ``mode`` is not a bool, as torch.
    """
    if not isinstance(mode, bool):
        raise err(TypeError, f"_set_deterministic_algorithms(): argument 'mode' (position 1) must be bool, "
                  f"not {type(mode).__name__}")
    FLAGS.deterministic, FLAGS.deterministic_warn_only = mode, bool(warn_only)


def are_deterministic_algorithms_enabled() -> bool:
    return FLAGS.deterministic


def is_deterministic_algorithms_warn_only_enabled() -> bool:
    return FLAGS.deterministic_warn_only


def set_num_threads(n: int) -> None:
    """Store the count that ``get_num_threads`` returns. It does not change how many threads
    NumPy's BLAS uses (set ``OMP_NUM_THREADS`` before starting Python, or use threadpoolctl).

    Raises:
        RuntimeError: for a non-int or a count below 1, as torch.
    """
    if isinstance(n, bool) or not isinstance(n, int):
        raise err(RuntimeError, f"set_num_threads expects an int, but got {type(n).__name__}")
    if n < 1:
        raise err(RuntimeError, "set_num_threads expects a positive integer")
    FLAGS.num_threads = n


def get_num_threads() -> int:
    return FLAGS.num_threads
