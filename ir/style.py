"""How a node looks in a picture: its label, fill colour and shape by role.

Shared by the Graphviz DOT text (``ir.dot``) and the built-in SVG drawing (``ir.svg``), so the
two pictures of one graph always agree. Labels are plain text lines; each picture format
escapes them its own way (``dot.quote``, ``svg.escape``), after ``clean``.
"""
from __future__ import annotations

import re

from ir.ops import source

FORWARD_FILL = "#dbe9f6"
BACKWARD_FILL = "#fde2c8"
INPUT_FILL = "#d9f2d9"
PARAM_FILL = "#fff2b3"
CONST_FILL = "#eeeeee"
OUTPUT_COLOR = "#b03a2e"
FORWARD_EDGE = "#666666"
BACKWARD_EDGE = "#c8742c"
CLUSTER_FILL = "#f4f4fa"
CLUSTER_STROKE = "#7a7a9a"

#: What each colour means, for the legend of both pictures: (label, fill, outline, corner radius).
LEGEND = (
    ("forward op", FORWARD_FILL, "#555555", 3),
    ("backward op", BACKWARD_FILL, "#555555", 3),
    ("input", INPUT_FILL, "#555555", 7),
    ("parameter / state", PARAM_FILL, "#555555", 7),
    ("constant", CONST_FILL, "#555555", 0),
    ("output", "#ffffff", OUTPUT_COLOR, 0),
)


# Control characters (C0 but newline, DEL, C1) and the XML noncharacters U+FFFE/U+FFFF: invalid
# in XML or SVG, and escape sequences on a terminal.
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f\ufffe\uffff]")
#: The longest line a node's label shows; a longer name is cut (a hostile file may hold megabytes).
MAX_LABEL = 60
#: The longest tooltip (source line, doc_string) a picture carries.
MAX_TOOLTIP = 300


def clean(text) -> str:
    """User-controlled text (names, source lines, doc_strings) made safe for any picture before
    format escaping: lone surrogates become '?', line ends become newlines, other control
    characters spaces."""
    text = str(text).encode("utf-8", "replace").decode("utf-8")
    return _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, an ellipsis marking the cut."""
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"


def one_line(text, limit: int = MAX_LABEL) -> str:
    """``clean`` text on one line (newlines become spaces), at most ``limit`` characters."""
    return shorten(clean(text).replace("\n", " "), limit)


def label_lines(node) -> list[str]:
    """The node's text as plain lines, cleaned and shortened but not escaped: each picture
    format escapes them its own way."""
    if node.op is source.input_:
        lines = [node.attrs.name, str(node.type)]
    elif node.op is source.constant:
        v = node.attrs.value
        text = f"{v.item():.4g}" if v.size == 1 else f"const {list(v.shape)}"
        lines = [text, node.type.dtype.name]
    else:
        lines = [node.op.name, str(node.type)]
    return [one_line(line) for line in lines]


def node_style(node) -> dict:
    """Fill colour and shape by role: data input, parameter/state, forward op, backward op."""
    if node.op is source.input_:
        fill = INPUT_FILL if node.attrs.kind == "input" else PARAM_FILL
        return {"fill": fill, "shape": "ellipse"}
    if node.op is source.constant:
        return {"fill": CONST_FILL, "shape": "note"}
    return {"fill": BACKWARD_FILL if node.phase == "backward" else FORWARD_FILL, "shape": "box"}
