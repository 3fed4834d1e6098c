"""The core of the front end: ``Tensor``, dispatch (the one place tensors meet kernels), the
trace state, grad mode, type promotion, formatting, errors and source lines.

It imports ``ir`` and ``backends`` only; everything torch-facing is built on it.
"""
