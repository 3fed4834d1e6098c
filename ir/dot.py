"""Pictures of a graph: Graphviz DOT text, and SVG/PNG rendered by Graphviz's ``dot`` when it
is installed, or SVG drawn by ``ir.svg`` (a layered layout of our own) when it is not."""
from __future__ import annotations

import html
import shutil
import subprocess

from ir.style import OUTPUT_COLOR, label, node_style
from ir.svg import draw


def to_dot(graph) -> str:
    """Graphviz DOT: a box per node (op and output type), forward and backward nodes in two
    colours, inputs/parameters/outputs distinct, the user's source line as each node's tooltip."""
    lines = [f'digraph "{graph.name}" {{', '  rankdir=TB;',
             '  node [fontname="Helvetica", fontsize=10, style="rounded,filled"];',
             '  edge [color="#555555", arrowsize=0.6];']
    ids = {n: f"n{i}" for i, n in enumerate(graph.nodes)}
    outputs = {o: name for name, o in zip(graph.output_names, graph.outputs)}
    for n in graph.nodes:
        st = node_style(n)
        extra = f', color="{OUTPUT_COLOR}", penwidth=2' if n in outputs else ""
        tip = html.escape(n.source or "", quote=True)
        lines.append(f'  {ids[n]} [label="{label(n)}", shape={st["shape"]}, fillcolor="{st["fill"]}", '
                     f'tooltip="{tip}"{extra}];')
    for n in graph.nodes:
        for inp in n.inputs:
            lines.append(f"  {ids[inp]} -> {ids[n]};")
    for n, name in outputs.items():
        lines.append(f'  out_{ids[n]}_{abs(hash(name)) % 10 ** 6} [label="{name}", shape=plaintext, style=""];')
        lines.append(f'  {ids[n]} -> out_{ids[n]}_{abs(hash(name)) % 10 ** 6} [color="{OUTPUT_COLOR}"];')
    lines.append("}")
    return "\n".join(lines)


def graphviz_available() -> bool:
    return shutil.which("dot") is not None


def render(graph, fmt: str) -> bytes:
    """The picture as bytes in ``fmt`` ("svg", "png" or "dot").

    Raises:
        RuntimeError: PNG was asked for and Graphviz is not installed (SVG works without it).
    """
    if fmt == "dot":
        return to_dot(graph).encode()
    if graphviz_available():
        done = subprocess.run(["dot", f"-T{fmt}"], input=to_dot(graph).encode(), capture_output=True, timeout=120)
        if done.returncode == 0:
            return done.stdout
        raise RuntimeError(f"Graphviz failed: {done.stderr.decode(errors='replace').strip()}")
    if fmt == "svg":
        return draw(graph).encode()
    raise RuntimeError(f"rendering {fmt.upper()} needs Graphviz's 'dot' program, which is not installed "
                       "(Debian: apt-get install graphviz). SVG and DOT output work without it.")


def render_svg(graph) -> str:
    return render(graph, "svg").decode()
