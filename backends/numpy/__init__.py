"""The NumPy backend: one kernel per ir op, and the interpreter that runs graphs with them."""
import warnings

# Like torch, kernels return inf/nan for log(0), 0/0 and overflow without warnings.
warnings.filterwarnings("ignore", category=RuntimeWarning, module=r"backends\.numpy\.")

from backends.numpy import malloc
from backends.numpy.feeds import FeedError  # noqa: F401
from backends.numpy.interpreter import evaluate, run, run_node  # noqa: F401
from backends.numpy.kernels import KERNELS, RANDOM_KERNELS  # noqa: F401
from backends.numpy.policy import KernelError, KernelIndexError, check_result, kernel_error  # noqa: F401
from backends.numpy.program import Program  # noqa: F401

#: Whether glibc's malloc was set to keep freed arrays' memory (``backends/numpy/malloc.py``).
MALLOC_TUNED = malloc.tune()
