"""How a node looks in a picture: its label, fill colour and shape by role.

Shared by the Graphviz DOT text (``ir.dot``) and the built-in SVG drawing (``ir.svg``), so the
two pictures of one graph always agree.
"""
from __future__ import annotations

from ir.ops import source

FORWARD_FILL = "#dbe9f6"
BACKWARD_FILL = "#fde2c8"
INPUT_FILL = "#d9f2d9"
PARAM_FILL = "#fff2b3"
CONST_FILL = "#eeeeee"
OUTPUT_COLOR = "#b03a2e"


def label(node) -> str:
    """The node's text, lines separated by a literal ``\\n`` (DOT's line break)."""
    if node.op is source.input_:
        return f"{node.attrs.name}\\n{node.type}"
    if node.op is source.constant:
        v = node.attrs.value
        text = f"{v.item():.4g}" if v.size == 1 else f"const {list(v.shape)}"
        return f"{text}\\n{node.type.dtype.name}"
    return f"{node.op.name}\\n{node.type}"


def node_style(node) -> dict:
    """Fill colour and shape by role: data input, parameter/state, forward op, backward op."""
    if node.op is source.input_:
        fill = INPUT_FILL if node.attrs.kind == "input" else PARAM_FILL
        return {"fill": fill, "shape": "ellipse"}
    if node.op is source.constant:
        return {"fill": CONST_FILL, "shape": "note"}
    return {"fill": BACKWARD_FILL if node.phase == "backward" else FORWARD_FILL, "shape": "box"}
