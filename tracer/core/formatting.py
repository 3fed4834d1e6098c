"""torch's tensor printing: ``tensor([1., 2.], requires_grad=True)``, 4 decimals, scientific
notation for wide ranges, '...' summaries past 1000 elements, aligned columns."""
from __future__ import annotations

import math

import numpy as np

from ir import dtypes

PRECISION = 4
THRESHOLD = 1000
EDGEITEMS = 3
LINEWIDTH = 80
SCI_MODE = None  # set_printoptions(sci_mode=): True or False forces it, None lets the values decide


class _Formatter:
    """Chooses one format for all elements, as torch's ``_Formatter`` does."""

    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.width = 1
        flat = values.ravel()
        if not self.floating:
            self.width = max((len(self._int(v)) for v in flat), default=1)
            return
        finite = flat[np.isfinite(flat)].astype(np.float64)
        values = finite[finite != 0]
        if values.size == 0:  # torch: with no nonzero finite number, nothing is chosen (zeros print as "0.")
            return
        self.int_mode = bool(np.all(values == np.ceil(values)))
        big, small = np.abs(values).max(), np.abs(values).min()
        if self.int_mode:
            self.sci_mode = bool(big / small > 1000.0 or big > 1e8)
        else:
            self.sci_mode = bool(big / small > 1000.0 or big > 1e8 or small < 1e-4)
        if SCI_MODE is not None:  # as torch's _Formatter: the option overrides the choice
            self.sci_mode = bool(SCI_MODE)
        # the width comes from the nonzero finite values (signs included) only, as torch's:
        # nan and inf are not padded to
        self.width = max(len(self._float(v)) for v in values)

    @staticmethod
    def _int(v) -> str:
        return str(bool(v)) if isinstance(v, (bool, np.bool_)) else str(int(v))

    def _float(self, v) -> str:
        v = float(v)
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if self.sci_mode:
            return f"{v:.{PRECISION}e}"
        if self.int_mode:
            return f"{v:.0f}."
        return f"{v:.{PRECISION}f}"

    def format(self, v) -> str:
        text = self._float(v) if self.floating else self._int(v)
        return text.rjust(self.width)


def _body(values, fmt, indent, summarise) -> str:
    if values.ndim == 0:
        return fmt.format(values.item())
    if values.ndim == 1:
        items = [fmt.format(v) for v in values] if not summarise or len(values) <= 2 * EDGEITEMS else []
        if summarise and len(values) > 2 * EDGEITEMS:
            items = [fmt.format(v) for v in values[:EDGEITEMS]] + [" ..."] + \
                [fmt.format(v) for v in values[-EDGEITEMS:]]
        per_line = max(1, (LINEWIDTH - indent) // (fmt.width + 2))
        lines = [", ".join(items[i:i + per_line]) for i in range(0, len(items), per_line)]
        return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"
    rows = [_body(v, fmt, indent + 1, summarise) for v in values]
    if summarise and len(values) > 2 * EDGEITEMS:
        rows = rows[:EDGEITEMS] + ["..."] + rows[-EDGEITEMS:]
    sep = "," + "\n" * (values.ndim - 1) + " " * (indent + 1)
    return "[" + sep.join(rows) + "]"


def tensor_repr(t) -> str:
    values = t._value
    summarise = values.size > THRESHOLD
    prefix = "tensor("
    if values.size == 0:
        body = "[]"
    else:
        fmt = _Formatter(_edge_values(values) if summarise else values)
        body = _body(values, fmt, len(prefix), summarise)
    suffix = []
    if values.size == 0 and values.ndim != 1:
        suffix.append(f"size={tuple(values.shape)}")
    if t.dtype not in (dtypes.float32, dtypes.int64, dtypes.bool_):
        suffix.append(f"dtype={t.dtype!r}")
    if t.grad_fn is not None:
        suffix.append(f"grad_fn={t.grad_fn!r}")
    elif t.requires_grad:
        suffix.append("requires_grad=True")
    return prefix + body + "".join(", " + s for s in suffix) + ")"


def _edge_values(values):
    """The edge items only, so the format is chosen from what is printed."""
    idx = []
    for d in values.shape:
        idx.append(np.r_[0:EDGEITEMS, d - EDGEITEMS:d] if d > 2 * EDGEITEMS else np.arange(d))
    return values[np.ix_(*idx)]
