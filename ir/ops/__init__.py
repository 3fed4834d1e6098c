"""All ir op definitions, by family. ``ir.ops.REGISTRY`` maps names to ops for loading."""
from ir.ops import elementwise, indexing, linalg, random, reduce, shape, source  # noqa: F401
from ir.ops import conv, custom, pool  # noqa: F401
from ir.ops.base import NO_ATTRS, REGISTRY, NoAttrs, Op  # noqa: F401


def all_ops() -> list[Op]:
    """Every defined op, in definition order."""
    return list(REGISTRY.values())
