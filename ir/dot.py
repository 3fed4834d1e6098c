"""Pictures of a graph: Graphviz DOT text, and SVG/PNG rendered by Graphviz's ``dot`` when it
is installed, or SVG drawn by ``ir.svg`` (a layered layout of our own) when it is not.

Every name, source line and doc_string in a picture may come from an untrusted file, so all of
them go through ``quote``: a crafted name can neither end its string and add nodes or
attributes, nor make Graphviz fail or write invalid SVG.
"""
from __future__ import annotations

import shutil
import subprocess

from ir.style import MAX_TOOLTIP, OUTPUT_COLOR, clean, label_lines, node_style, one_line, shorten
from ir.svg import draw

#: Seconds Graphviz may take to lay out one picture.
GRAPHVIZ_TIMEOUT = 120


def quote(text, limit: int | None = None) -> str:
    """``text`` as a DOT double-quoted string, quotes included.

    Backslashes and quotes are escaped (so the string cannot end early, and Graphviz's ``\\N``
    style substitutions never apply), newlines become DOT's ``\\n`` line break, ``&`` becomes
    ``&amp;`` (Graphviz passes entity references such as ``&#0;`` through to SVG unchecked),
    and control characters are dropped by ``style.clean``."""
    text = clean(text)
    if limit is not None:
        text = shorten(text, limit)
    text = text.replace("&", "&amp;").replace("\\", "\\\\").replace('"', '\\"')
    return '"' + text.replace("\n", "\\n") + '"'


def to_dot(graph) -> str:
    """Graphviz DOT: a box per node (op and output type), forward and backward nodes in two
    colours, inputs/parameters/outputs distinct, the user's source line as each node's tooltip."""
    lines = [f"digraph {quote(graph.name, 200)} {{", '  rankdir=TB;',
             '  node [fontname="Helvetica", fontsize=10, style="rounded,filled"];',
             '  edge [color="#555555", arrowsize=0.6];']
    ids = {n: f"n{i}" for i, n in enumerate(graph.nodes)}
    outputs = set(graph.outputs)
    for n in graph.nodes:
        st = node_style(n)
        extra = f', color="{OUTPUT_COLOR}", penwidth=2' if n in outputs else ""
        lines.append(f'  {ids[n]} [label={quote(chr(10).join(label_lines(n)))}, shape={st["shape"]}, '
                     f'fillcolor="{st["fill"]}", tooltip={quote(n.source or "", MAX_TOOLTIP)}{extra}];')
    for n in graph.nodes:
        for inp in n.inputs:
            lines.append(f"  {ids[inp]} -> {ids[n]};")
    for k, (name, n) in enumerate(zip(graph.output_names, graph.outputs)):
        lines.append(f'  out{k} [label={quote(one_line(name))}, shape=plaintext, style=""];')
        lines.append(f'  {ids[n]} -> out{k} [color="{OUTPUT_COLOR}"];')
    lines.append("}")
    return "\n".join(lines)


def graphviz_available() -> bool:
    return shutil.which("dot") is not None


def run_graphviz(dot_text: str, fmt: str) -> bytes:
    """``dot_text`` rendered by Graphviz's ``dot`` as ``fmt``.

    Raises:
        RuntimeError: Graphviz failed or took longer than ``GRAPHVIZ_TIMEOUT`` seconds.
    """
    try:
        done = subprocess.run(["dot", f"-T{fmt}"], input=dot_text.encode("utf-8"), capture_output=True,
                              timeout=GRAPHVIZ_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"Graphviz took more than {GRAPHVIZ_TIMEOUT} s to lay out the graph; "
                           "write a .dot file instead") from None
    if done.returncode != 0:
        raise RuntimeError(f"Graphviz failed: {done.stderr.decode(errors='replace').strip()[:500]}")
    return done.stdout


def render(graph, fmt: str) -> bytes:
    """The picture as bytes in ``fmt`` ("svg", "png" or "dot").

    Raises:
        RuntimeError: PNG was asked for and Graphviz is not installed (SVG works without it),
            or Graphviz failed.
    """
    if fmt == "dot":
        return to_dot(graph).encode()
    if graphviz_available():
        return run_graphviz(to_dot(graph), fmt)
    if fmt == "svg":
        return draw(graph).encode()
    raise RuntimeError(f"rendering {fmt.upper()} needs Graphviz's 'dot' program, which is not installed "
                       "(Debian: apt-get install graphviz). SVG and DOT output work without it.")


def render_svg(graph) -> str:
    return render(graph, "svg").decode()
