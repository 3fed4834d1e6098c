"""The NumPy backend: one kernel per ir op, and the interpreter that runs graphs with them."""
from backends.numpy.interpreter import KernelError, evaluate, run, run_node  # noqa: F401
from backends.numpy.kernels import KERNELS, RANDOM_KERNELS  # noqa: F401
