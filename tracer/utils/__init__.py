"""``tracer.utils``: data loading."""
from tracer.utils import data  # noqa: F401
