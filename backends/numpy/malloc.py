"""Keep freed NumPy arrays' memory in the process, so the next step's arrays do not page-fault.

glibc's malloc serves blocks of 128 KiB and more with a fresh ``mmap`` and unmaps them when
freed (it raises that threshold only after such a block is freed, and returns heap memory
to the system whenever more than twice the threshold is free at the top). An eager training
step allocates every activation and gradient anew and frees them all at the end of
``backward()``, so each step touched fresh pages: the char GPT's eager step took ~320k minor
page faults per 40 steps and spent half its time in them (a 512 KiB multiply ran 20 us warm,
~280 us on fresh pages).

``tune()`` sets, from the start, the values glibc's own adjustment would reach for a 32 MiB
block: blocks below 32 MiB come from the heap, and up to 64 MiB of free heap is kept. The
process's peak memory is unchanged (the same arrays are alive at the peak); what changes is
that freed memory is reused rather than returned and faulted in again. Not glibc (macOS,
musl, Windows): nothing is done. ``TRACEGRAD_MALLOC=system`` leaves malloc as it was.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import sys

#: The environment variable that turns the tuning off (value ``system``).
ENV = "TRACEGRAD_MALLOC"

# mallopt parameter numbers from glibc's <malloc.h>.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3

#: glibc's largest dynamic mmap threshold on 64-bit (DEFAULT_MMAP_THRESHOLD_MAX), and the trim
#: threshold it pairs with it (twice that).
MMAP_THRESHOLD = 32 * 1024 * 1024
TRIM_THRESHOLD = 2 * MMAP_THRESHOLD


def _glibc():
    """The C library when it is glibc (it alone has ``mallopt`` with these meanings), else None."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.gnu_get_libc_version.restype = ctypes.c_char_p
        libc.gnu_get_libc_version()
    except (OSError, AttributeError):
        return None
    return libc


def tune() -> bool:
    """Set the thresholds above; True when they were set."""
    if os.environ.get(ENV, "").strip().lower() == "system":
        return False
    libc = _glibc()
    if libc is None:
        return False
    return bool(libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(libc.mallopt(_M_TRIM_THRESHOLD,
                                                                                          TRIM_THRESHOLD))
