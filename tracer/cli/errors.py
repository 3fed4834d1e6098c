"""The CLI's two failure kinds, each with its exit code."""
from __future__ import annotations


class UsageError(Exception):
    """Bad arguments: exit code 2."""


class WorkError(Exception):
    """The requested work failed: exit code 1."""
