"""Op-table rows: activations, embeddings and RMS normalisation of the sequence-model issue."""
from __future__ import annotations

from op_rows import Bool, Int, R  # noqa: F401

ROWS = [
]
