"""A readable text listing of a graph (what ``print(graph)`` shows).

Names and source lines may come from a loaded file: each is printed on one line, without
control characters (``style.one_line``), so a crafted name cannot fake lines or send terminal
escapes."""
from __future__ import annotations

from dataclasses import fields

import numpy as np

from ir.dtypes import DType
from ir.ops import source
from ir.style import one_line

_LONGEST = 1000  # characters of one name or source line


def _attr_text(node) -> str:
    if node.op is source.constant:
        v = node.attrs.value
        return f"value={v.tolist()}" if v.size <= 4 else f"value=<{v.size} elements>"
    parts = []
    for f in fields(node.attrs):
        v = getattr(node.attrs, f.name)
        if isinstance(v, np.ndarray):
            v = f"<array {v.shape}>"
        parts.append(f"{f.name}={v.name if isinstance(v, DType) else repr(v)}")
    return ", ".join(parts)


def format_graph(graph) -> str:
    ids = {n: f"%{i}" for i, n in enumerate(graph.nodes)}
    params = ", ".join(f"{ids[n]} {one_line(n.attrs.name, _LONGEST)}: {n.type}" for n in graph.inputs)
    lines = [f"graph {one_line(graph.name, _LONGEST)}({params}) {{"]
    for n in graph.nodes:
        if n.op is source.input_:
            continue
        args = ", ".join(ids[i] for i in n.inputs)
        attrs = _attr_text(n)
        call = f"{n.op.name}({args}{', ' if args and attrs else ''}{attrs})"
        tag = "  [backward]" if n.phase == "backward" else ""
        where = f"  # {one_line(n.source, _LONGEST)}" if n.source else ""
        lines.append(f"  {ids[n]}: {n.type} = {call}{tag}{where}")
    outs = ", ".join(f"{one_line(name, _LONGEST)}={ids[n]}" for name, n in zip(graph.output_names, graph.outputs))
    lines.append(f"  return {outs}")
    lines.append("}")
    return "\n".join(lines)
