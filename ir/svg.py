"""A dependency-free SVG drawing of a graph, used when Graphviz is not installed, so pictures
work on any machine.

The layout is ``ir.layout``'s: layers by longest path, barycenter sweeps against crossings, and
long edges routed through a virtual point per layer, so no edge passes through a box. Every
edge ends in an arrowhead; inputs show their names, graph outputs are labelled terminal boxes;
forward and backward nodes (and edges into them) have their own colours, explained by a legend.
With ``clusters=True`` nodes are grouped by module path (``ir.view.module_clusters``) into
shaded, labelled regions. One graph gives the same bytes every time.

Names and source lines may come from an untrusted file: every text goes through ``escape``."""
from __future__ import annotations

import html

from ir import layout as layout_
from ir import view
from ir.ops import source
from ir.style import (BACKWARD_EDGE, CLUSTER_FILL, CLUSTER_STROKE, FORWARD_EDGE, LEGEND, MAX_TOOLTIP,
                      OUTPUT_COLOR, clean, label_lines, node_style, one_line, shorten)

BOX_W, BOX_H, GAP_X, GAP_Y, MARGIN = 150, 38, 24, 46, 20
DUMMY_W = 8
CONST_W = 70
LEGEND_H = 34
SVG_NS = "http://www.w3.org/2000/svg"


def escape(text, limit: int) -> str:
    """``text`` as XML character data or attribute text: cleaned of characters XML forbids,
    shortened to ``limit``, with ``& < > " '`` escaped."""
    return html.escape(shorten(clean(text), limit), quote=True)


def _f(v: float) -> str:
    return f"{v:.1f}"


def _box(x: float, y: float, w: float, h: float, r: float = 0) -> str:
    """A (rounded) rectangle as path data. Only nodes are ``<rect>`` elements: one per node."""
    if not r:
        return f"M{_f(x)},{_f(y)} h{_f(w)} v{_f(h)} h{_f(-w)} z"
    r = min(r, w / 2, h / 2)
    return (f"M{_f(x + r)},{_f(y)} h{_f(w - 2 * r)} a{_f(r)},{_f(r)} 0 0 1 {_f(r)},{_f(r)} v{_f(h - 2 * r)} "
            f"a{_f(r)},{_f(r)} 0 0 1 {_f(-r)},{_f(r)} h{_f(2 * r - w)} a{_f(r)},{_f(r)} 0 0 1 {_f(-r)},{_f(-r)} "
            f"v{_f(2 * r - h)} a{_f(r)},{_f(r)} 0 0 1 {_f(r)},{_f(-r)} z")


def _markers() -> str:
    out = ["<defs>"]
    for name, color in (("fwd", FORWARD_EDGE), ("bwd", BACKWARD_EDGE), ("out", OUTPUT_COLOR)):
        out.append(f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
                   f'markerHeight="7" markerUnits="userSpaceOnUse" orient="auto">'
                   f'<path d="M0,0 L10,5 L0,10 z" fill="{color}"/></marker>')
    out.append("</defs>")
    return "".join(out)


def _legend(y: float) -> tuple[list[str], float]:
    parts = ['<g class="legend">']
    x = MARGIN
    for label, fill, stroke, rx in LEGEND:
        parts.append(f'<path d="{_box(x, y, 22, 14, rx)}" fill="{fill}" stroke="{stroke}"/>')
        parts.append(f'<text x="{_f(x + 28)}" y="{_f(y + 11)}">{escape(label, 40)}</text>')
        x += 34 + 6.2 * len(label) + 14
    parts.append("</g>")
    return parts, x + MARGIN


def draw(graph, nodes=None, clusters: bool = False) -> str:
    """The SVG text of ``graph``: of ``nodes`` only if given (e.g. ``ir.view.select(graph,
    "backward")``; edges among them are kept), grouped by module when ``clusters``."""
    shown = list(graph.nodes) if nodes is None else [n for n in graph.nodes if n in set(nodes)]
    index = {n: k for k, n in enumerate(shown)}
    edges, edge_set = [], set()
    for n in shown:
        for inp in n.inputs:
            if inp in index and (index[inp], index[n]) not in edge_set:
                edge_set.add((index[inp], index[n]))
                edges.append((index[inp], index[n]))
    terminals = [(name, n) for name, n in zip(graph.output_names, graph.outputs) if n in index]
    count = len(shown) + len(terminals)
    for k, (_, n) in enumerate(terminals):
        edges.append((index[n], len(shown) + k))
    cluster_of = view.module_clusters(graph, shown) if clusters else {}
    groups = None
    if clusters:
        groups = [cluster_of.get(n) for n in shown] + [None] * len(terminals)
    pinned = [k for k, n in enumerate(shown)
              if n.op is source.input_ and n.attrs.kind in ("input", "grad_output")]
    widths = [CONST_W if n.op is source.constant else BOX_W for n in shown] + [BOX_W] * len(terminals)
    lay = layout_.layout(count, sorted(edges), widths, GAP_X, DUMMY_W, pinned, groups,
                         terminals=range(len(shown), count))

    legend_parts, legend_w = _legend(MARGIN)
    top = MARGIN + LEGEND_H + (14 if clusters else 0)
    row_h = BOX_H + GAP_Y

    def cx(v):
        return MARGIN + lay.x[v]

    def ty(v):
        return top + lay.layer[v] * row_h

    span = max((lay.x[v] + (widths[v] if v < count else DUMMY_W) / 2 for v in range(len(lay.x))), default=0)
    width = max(span + 2 * MARGIN, legend_w, 200)
    height = top + len(lay.layers) * row_h - GAP_Y + MARGIN
    parts = [f'<svg xmlns="{SVG_NS}" width="{width:.0f}" height="{height:.0f}" '
             f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" font-size="10">',
             f'<title>{escape(graph.name, 200)}</title>', _markers(),
             f'<path d="{_box(0, 0, width, height)}" fill="white"/>']
    parts += legend_parts
    if clusters:
        parts += _cluster_rects(lay, groups, count, cx, ty, widths)

    parts.append('<g class="edges" fill="none" stroke-width="1">')
    for u, v in sorted(edges):
        pts = [(cx(u), ty(u) + BOX_H)]
        for d in lay.routes.get((u, v), ()):
            pts += [(cx(d), ty(d)), (cx(d), ty(d) + BOX_H)]
        pts.append((cx(v), ty(v)))
        if v >= len(shown):
            kind, color = "out", OUTPUT_COLOR
        elif shown[v].phase == "backward":
            kind, color = "bwd", BACKWARD_EDGE
        else:
            kind, color = "fwd", FORWARD_EDGE
        d = "M" + " L".join(f"{_f(px)},{_f(py)}" for px, py in pts)
        parts.append(f'<path class="edge" data-from="{u}" data-to="{v}" d="{d}" stroke="{color}" '
                     f'marker-end="url(#arrow-{kind})"/>')
    parts.append("</g>")

    outputs = set(graph.outputs)
    for k, n in enumerate(shown):
        w = widths[k]
        x, y = cx(k) - w / 2, ty(k)
        st = node_style(n)
        stroke = OUTPUT_COLOR if n in outputs else "#555"
        rx = BOX_H / 2 if st["shape"] == "ellipse" else 6
        where = f" at {n.source}" if n.source else ""
        group = f" in {cluster_of[n]}" if n in cluster_of else ""
        tip = escape(f"{n.op.name} {n.type} [{n.phase}]{group}{where}", MAX_TOOLTIP)
        parts.append(f'<g><title>{tip}</title><rect class="node" data-id="{k}" x="{_f(x)}" y="{_f(y)}" '
                     f'width="{w}" height="{BOX_H}" rx="{rx:.0f}" fill="{st["fill"]}" stroke="{stroke}" '
                     f'stroke-width="{2 if n in outputs else 1}"/>')
        for j, text in enumerate(label_lines(n)):
            weight = ' font-weight="bold"' if j == 0 and n.op is source.input_ else ""
            parts.append(f'<text x="{_f(x + w / 2)}" y="{_f(y + 15 + 12 * j)}" text-anchor="middle"{weight}>'
                         f'{escape(text, 28 if w == BOX_W else 11)}</text>')
        parts.append("</g>")
    for k, (name, n) in enumerate(terminals):
        v = len(shown) + k
        x, y = cx(v) - BOX_W / 2, ty(v)
        parts.append(f'<g><title>output {escape(one_line(name), MAX_TOOLTIP)}</title>'
                     f'<path class="output" data-id="{v}" d="{_box(x, y, BOX_W, BOX_H)}" fill="white" '
                     f'stroke="{OUTPUT_COLOR}" stroke-width="2"/>'
                     f'<text class="output-name" x="{_f(x + BOX_W / 2)}" y="{_f(y + BOX_H / 2 + 4)}" '
                     f'text-anchor="middle" fill="{OUTPUT_COLOR}" font-weight="bold">{escape(one_line(name), 28)}</text></g>')
    parts.append("</svg>")
    return "\n".join(parts)


def _cluster_rects(lay, groups, count, cx, ty, widths) -> list[str]:
    """One shaded rectangle per cluster and run of layers: a cluster's boxes in consecutive
    layers share a rectangle while it covers no other cluster's or unclustered box."""
    per_layer: dict = {}
    for r, row in enumerate(lay.layers):
        for v in row:
            if v < count and groups[v] is not None:
                per_layer.setdefault(groups[v], {}).setdefault(r, []).append(v)
    rows_real = [[v for v in row if v < count] for row in lay.layers]
    out = ['<g class="clusters">']
    for name in sorted(per_layer):
        rects = []
        for r in sorted(per_layer[name]):
            members = per_layer[name][r]
            lo = min(cx(v) - widths[v] / 2 for v in members)
            hi = max(cx(v) + widths[v] / 2 for v in members)
            if rects and rects[-1][3] == r - 1:
                x0, x1, r0, _ = rects[-1]
                nx0, nx1 = min(x0, lo), max(x1, hi)
                clash = any(groups[v] != name and nx0 - GAP_X / 2 < cx(v) + widths[v] / 2
                            and cx(v) - widths[v] / 2 < nx1 + GAP_X / 2
                            for rr in range(r0, r + 1) for v in rows_real[rr])
                if not clash:
                    rects[-1] = [nx0, nx1, r0, r]
                    continue
            rects.append([lo, hi, r, r])
        for k, (x0, x1, r0, r1) in enumerate(rects):
            y0 = ty(lay.layers[r0][0]) - 14
            y1 = ty(lay.layers[r1][0]) + BOX_H + 6
            out.append(f'<path class="cluster" d="{_box(x0 - 8, y0, x1 - x0 + 16, y1 - y0, 8)}" '
                       f'fill="{CLUSTER_FILL}" stroke="{CLUSTER_STROKE}" stroke-dasharray="4,3"/>')
            out.append(f'<text class="cluster-name" x="{_f(x0 - 4)}" y="{_f(y0 + 10)}" fill="{CLUSTER_STROKE}" '
                       f'font-size="9">{escape(one_line(name), 40)}</text>')
    out.append("</g>")
    return out
