"""A dependency-free SVG drawing of a graph: nodes placed in layers by longest path from the
inputs (networkx topological generations), edges as straight lines. Used when Graphviz is
not installed, so pictures work on any machine.

Names and source lines may come from an untrusted file: every text goes through ``escape``."""
from __future__ import annotations

import html

import networkx as nx

from ir.style import MAX_TOOLTIP, OUTPUT_COLOR, clean, label_lines, node_style, shorten

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 150, 38, 24, 46, 20


def escape(text, limit: int) -> str:
    """``text`` as XML character data or attribute text: cleaned of characters XML forbids,
    shortened to ``limit``, with ``& < > " '`` escaped."""
    return html.escape(shorten(clean(text), limit), quote=True)


def _layers(graph) -> list[list[int]]:
    return [sorted(layer) for layer in nx.topological_generations(graph.nx)]


def draw(graph) -> str:
    layers = _layers(graph)
    width = max(len(layer) for layer in layers) * (BOX_W + GAP_X) + 2 * MARGIN if layers else 200
    height = len(layers) * (BOX_H + GAP_Y) + 2 * MARGIN
    pos = {}
    for row, layer in enumerate(layers):
        offset = (width - len(layer) * (BOX_W + GAP_X)) / 2
        for col, i in enumerate(layer):
            pos[i] = (offset + col * (BOX_W + GAP_X) + GAP_X / 2, MARGIN + row * (BOX_H + GAP_Y))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
             f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="10">',
             f'<title>{escape(graph.name, 200)}</title>']
    for i, n in enumerate(graph.nodes):
        x2, y2 = pos[i]
        for inp in n.inputs:
            x1, y1 = pos[graph.index(inp)]
            parts.append(f'<line x1="{x1 + BOX_W / 2:.1f}" y1="{y1 + BOX_H:.1f}" x2="{x2 + BOX_W / 2:.1f}" '
                         f'y2="{y2:.1f}" stroke="#777" stroke-width="0.8"/>')
    outputs = set(graph.outputs)
    for i, n in enumerate(graph.nodes):
        x, y = pos[i]
        st = node_style(n)
        stroke = OUTPUT_COLOR if n in outputs else "#555"
        rx = BOX_H / 2 if st["shape"] == "ellipse" else 6
        tip = escape(f"{n.op.name} {n.type} [{n.phase}]" + (f" at {n.source}" if n.source else ""), MAX_TOOLTIP)
        parts.append(f'<g><title>{tip}</title><rect x="{x:.1f}" y="{y:.1f}" width="{BOX_W}" height="{BOX_H}" '
                     f'rx="{rx:.0f}" fill="{st["fill"]}" stroke="{stroke}" stroke-width="{2 if n in outputs else 1}"/>')
        for k, text in enumerate(label_lines(n)):
            parts.append(f'<text x="{x + BOX_W / 2:.1f}" y="{y + 15 + 12 * k:.1f}" text-anchor="middle">'
                         f'{escape(text, 28)}</text>')
        parts.append("</g>")
    parts.append("</svg>")
    return "\n".join(parts)
