"""Pictures of a graph: Graphviz DOT text, and SVG/PNG rendered by Graphviz's ``dot`` when it
is installed, or SVG drawn by ``ir.svg`` (a layered layout of our own) when it is not.

Every name, source line and doc_string in a picture may come from an untrusted file, so all of
them go through ``quote``: a crafted name can neither end its string and add nodes or
attributes, nor make Graphviz fail or write invalid SVG.
"""
from __future__ import annotations

import shutil
import subprocess

from ir.style import (BACKWARD_EDGE, CLUSTER_STROKE, FORWARD_EDGE, LEGEND, MAX_TOOLTIP, OUTPUT_COLOR, clean,
                      label_lines, node_style, one_line, shorten)
from ir.svg import draw
from ir.view import module_clusters

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


def _legend() -> str:
    """The graph's label: a one-row table explaining the colours (``ir.svg``'s legend), at the top.
    A graph attribute, not a node: the picture keeps exactly one shape per node and output."""
    cells = "".join(f'<TD BGCOLOR="{fill}"{"" if stroke == "#555555" else f" COLOR={chr(34)}{stroke}{chr(34)}"} '
                    f'BORDER="1" WIDTH="16"> </TD><TD>{label}</TD>' for label, fill, stroke, _ in LEGEND)
    return f'labelloc=t; labeljust=l; fontname="Helvetica"; fontsize=9; label=<<TABLE BORDER="0">' \
           f'<TR>{cells}</TR></TABLE>>;'


def to_dot(graph, nodes=None, clusters: bool = False) -> str:
    """Graphviz DOT: a box per node (op and output type), forward and backward nodes in two
    colours, inputs/parameters/outputs distinct, the user's source line as each node's tooltip,
    a legend. ``nodes`` (e.g. ``ir.view.select(graph, "forward")``) limits the picture to those
    nodes and the edges among them; ``clusters`` groups nodes into one ``subgraph cluster_...``
    per module path, nested like the modules (``ir.view.module_clusters``)."""
    shown = list(graph.nodes) if nodes is None else [n for n in graph.nodes if n in set(nodes)]
    lines = [f"digraph {quote(graph.name, 200)} {{", f'  rankdir=TB; {_legend()}',
             '  node [fontname="Helvetica", fontsize=10, style="rounded,filled"];',
             f'  edge [color="{FORWARD_EDGE}", arrowsize=0.6];']
    ids = {n: f"n{i}" for i, n in enumerate(shown)}
    outputs = set(graph.outputs)
    body = {}
    for n in shown:
        st = node_style(n)
        extra = f', color="{OUTPUT_COLOR}", penwidth=2' if n in outputs else ""
        body[n] = (f'{ids[n]} [label={quote(chr(10).join(label_lines(n)))}, shape={st["shape"]}, '
                   f'fillcolor="{st["fill"]}", tooltip={quote(n.source or "", MAX_TOOLTIP)}{extra}];')
    cluster_of = module_clusters(graph, shown) if clusters else {}
    lines += [f"  {body[n]}" for n in shown if n not in cluster_of]
    if cluster_of:
        lines += _clusters(shown, cluster_of, body)
    for n in shown:
        for inp in n.inputs:
            if inp in ids:
                color = f' [color="{BACKWARD_EDGE}"]' if n.phase == "backward" else ""
                lines.append(f"  {ids[inp]} -> {ids[n]}{color};")
    for k, (name, n) in enumerate(zip(graph.output_names, graph.outputs)):
        if n not in ids:
            continue
        lines.append(f'  out{k} [label={quote(one_line(name))}, shape=box, style="", color="{OUTPUT_COLOR}", '
                     f'fontcolor="{OUTPUT_COLOR}", penwidth=2];')
        lines.append(f'  {ids[n]} -> out{k} [color="{OUTPUT_COLOR}"];')
    lines.append("}")
    return "\n".join(lines)


def _clusters(shown, cluster_of, body) -> list[str]:
    """Nested ``subgraph cluster_k`` blocks, one per module path: ``a.b`` inside ``a``; the
    backward and update parts of a module (``a.b \u00b7 backward``) form trees of their own."""
    trees: dict = {}
    for n in shown:
        if n in cluster_of:
            path, _, tag = cluster_of[n].partition(" \u00b7 ")
            t = trees.setdefault(tag, {})
            for key in path.split("."):
                t = t.setdefault(key, {})
            t.setdefault(None, []).append(n)
    out, counter = [], [0]

    def emit(t, prefix, tag, depth):
        for key in sorted(k for k in t if k is not None):
            path = f"{prefix}.{key}" if prefix else key
            counter[0] += 1
            pad = "  " * depth
            label = f"{path} \u00b7 {tag}" if tag else path
            out.append(f'{pad}subgraph cluster_{counter[0]} {{ label={quote(one_line(label))}; style="rounded,dashed"; '
                       f'color="{CLUSTER_STROKE}"; fontname="Helvetica"; fontsize=9; fontcolor="{CLUSTER_STROKE}";')
            out.extend(f"{pad}  {body[n]}" for n in t[key].get(None, ()))
            emit(t[key], path, tag, depth + 1)
            out.append(f"{pad}}}")

    for tag in sorted(trees):
        emit(trees[tag], "", tag, 1)
    return out


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


def render(graph, fmt: str, nodes=None, clusters: bool = False) -> bytes:
    """The picture as bytes in ``fmt`` ("svg", "png" or "dot"); ``nodes`` and ``clusters`` as
    in ``to_dot``.

    Raises:
        RuntimeError: PNG was asked for and Graphviz is not installed (SVG works without it),
            or Graphviz failed.
    """
    if fmt == "dot":
        return to_dot(graph, nodes, clusters).encode()
    if graphviz_available():
        return run_graphviz(to_dot(graph, nodes, clusters), fmt)
    if fmt == "svg":
        return draw(graph, nodes, clusters).encode()
    raise RuntimeError(f"rendering {fmt.upper()} needs Graphviz's 'dot' program, which is not installed "
                       "(Debian: apt-get install graphviz). SVG and DOT output work without it.")


def render_svg(graph) -> str:
    return render(graph, "svg").decode()
