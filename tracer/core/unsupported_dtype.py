"""A torch dtype tracegrad has no storage for (``torch.bfloat16``): it exists so code that only
names it (``torch.autocast("cpu", dtype=torch.bfloat16)``, a dtype table) runs, and making or
casting a tensor to it fails with one clear TypeError instead of an AttributeError."""
from __future__ import annotations

from tracer.core.errors import err


class UnsupportedDType:
    """``name`` and its repr work; every other use raises TypeError saying why."""

    def __init__(self, name: str, why: str):
        self.__dict__.update(name=name, _why=why)

    def refuse(self):
        """Raise the TypeError a tensor of this dtype gets."""
        raise err(TypeError, f"torch.{self.name} is not supported by tracegrad ({self._why})")

    def __getattr__(self, attr):
        self.refuse()

    def __setattr__(self, attr, value):
        raise AttributeError(f"torch.{self.name} is read-only")

    def __repr__(self) -> str:
        return f"tracer.{self.name}"


bfloat16 = UnsupportedDType("bfloat16", "NumPy has no bfloat16 type; use float16 or float32")
