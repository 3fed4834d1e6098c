"""Op-table rows: cumulative sums and products, sorting and top-k, triangular masks (tril/triu)."""
from __future__ import annotations

from op_rows import Bool, Int, R  # noqa: F401

ROWS = [
]
