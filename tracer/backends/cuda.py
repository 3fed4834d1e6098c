"""``torch.backends.cuda`` without CUDA: not built, and the matmul flags as settable values.

``matmul.allow_tf32`` is a view of the float32 matmul precision, as in torch: setting it True
makes the precision ``"high"``, False makes it ``"highest"``.
"""
from __future__ import annotations

from tracer.backends.flags import FLAGS


def is_built() -> bool:
    """False: tracegrad has no CUDA build."""
    return False


class _Matmul:
    """``torch.backends.cuda.matmul``: the flags a script sets before training."""

    def __init__(self):
        self.allow_fp16_reduced_precision_reduction = True
        self.allow_bf16_reduced_precision_reduction = True

    @property
    def allow_tf32(self) -> bool:
        return FLAGS.matmul_precision != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        FLAGS.matmul_precision = "high" if value else "highest"


matmul = _Matmul()
