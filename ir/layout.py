"""A layered (Sugiyama-style) layout of a DAG for ``ir.svg``, in pure Python.

1. Layers: longest path from the sources; then every node not computed from a *pinned* node
   (data inputs) moves down to just above its first user (parameters, constants, ``W.t()`` and
   optimizer-state arithmetic sit next to where they are used, not all in the top row).
2. An edge spanning several layers gets a virtual point in each layer it crosses, so it is drawn
   around the boxes of those layers, never through them.
3. Order within layers: a few barycenter sweeps down and up, keeping the order with the fewest
   crossings; nodes of one cluster stay next to each other within a layer.
4. x: each layer is placed by least squares towards the mean x of its neighbours, boxes kept
   apart (isotonic regression, pool-adjacent-violators); a few rounds down and up.

Everything is ordered by node number, never by hash or id, so one graph gives one layout.
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field

SWEEPS = 4
PLACEMENT_ROUNDS = 4


@dataclass
class Layout:
    """Positions: ``x[v]`` is a centre, ``layer[v]`` a row, for nodes ``0..n-1`` and the
    virtual points ``n..``; ``routes[(u, v)]`` lists the virtual points of edge ``u -> v``."""

    n: int
    layer: list = field(default_factory=list)
    x: list = field(default_factory=list)
    layers: list = field(default_factory=list)
    routes: dict = field(default_factory=dict)
    crossings: int = 0


def layout(n: int, edges, widths, gap: float, dummy_width: float, pinned=(), groups=None,
           terminals=()) -> Layout:
    """Lay out nodes ``0..n-1`` (numbered in a topological order) joined by ``edges``
    (``(u, v)`` pairs, ``u < v``, no duplicates). ``widths[v]`` is a box width; ``groups[v]``
    (optional) a cluster key kept contiguous within a layer; ``pinned`` nodes and what is computed
    from them keep their longest-path layer; each of ``terminals`` (sinks with one input, e.g.
    output labels) goes just below its input."""
    preds = [[] for _ in range(n)]
    succs = [[] for _ in range(n)]
    for u, v in edges:
        succs[u].append(v)
        preds[v].append(u)
    layer = [0] * n
    for v in range(n):
        if preds[v]:
            layer[v] = max(layer[u] for u in preds[v]) + 1
    pinned_set = set(pinned)
    anchored = [False] * n
    for v in range(n):
        anchored[v] = v in pinned_set or any(anchored[u] for u in preds[v])
    ends = set(terminals)
    for v in range(n - 1, -1, -1):
        below = [layer[w] for w in succs[v] if w not in ends]
        if not anchored[v] and below:
            layer[v] = max(layer[v], min(below) - 1)
    for v in sorted(ends):
        layer[v] = layer[preds[v][0]] + 1

    # virtual points
    lay = Layout(n)
    layer = list(layer)
    width = list(widths)
    group = list(groups) if groups is not None else [None] * n
    up = [list(p) for p in preds]      # adjacency including virtual points
    down = [list(s) for s in succs]
    for u, v in edges:
        if layer[v] - layer[u] > 1:
            chain = []
            prev = u
            down[u].remove(v)
            for row in range(layer[u] + 1, layer[v]):
                d = len(layer)
                layer.append(row)
                width.append(dummy_width)
                group.append(None)
                up.append([prev])
                down.append([])
                down[prev].append(d)
                chain.append(d)
                prev = d
            down[prev].append(v)
            up[v][up[v].index(u)] = prev
            lay.routes[(u, v)] = chain
    total = len(layer)
    rows = max(layer, default=-1) + 1
    layers = [[] for _ in range(rows)]
    for v in range(total):
        layers[layer[v]].append(v)
    for row in layers:
        row.sort(key=lambda v: (v if v < n else _first_real(v, up, n), v))

    pos = [0.0] * total

    def number():
        for row in layers:
            for k, v in enumerate(row):
                pos[v] = k

    number()
    if groups is not None:  # clusters contiguous from the start: every candidate order keeps them so
        for r in range(rows):
            layers[r] = _sorted_by_barycenter(layers[r], _NONE, pos, group)
        number()
    best = [list(r) for r in layers]
    best_cross = _crossings(layers, down, pos)
    for sweep in range(SWEEPS):
        order = range(1, rows) if sweep % 2 == 0 else range(rows - 2, -1, -1)
        for r in order:
            nbrs = up if sweep % 2 == 0 else down
            layers[r] = _sorted_by_barycenter(layers[r], nbrs, pos, group)
            for k, v in enumerate(layers[r]):
                pos[v] = k
        c = _crossings(layers, down, pos)
        if c < best_cross:
            best, best_cross = [list(r) for r in layers], c
    layers = best
    number()
    lay.crossings = best_cross

    # x placement
    x = [0.0] * total
    for row in layers:
        cur = 0.0
        for k, v in enumerate(row):
            if k:
                cur += (width[row[k - 1]] + width[v]) / 2 + gap
            x[v] = cur
    for rnd in range(PLACEMENT_ROUNDS):
        order = range(1, rows) if rnd % 2 == 0 else range(rows - 2, -1, -1)
        for r in order:
            row = layers[r]
            nbrs = up if rnd % 2 == 0 else down
            want = []
            for v in row:
                if nbrs[v]:
                    want.append(sum(x[u] for u in nbrs[v]) / len(nbrs[v]))
                else:
                    want.append(x[v])
            seps = [(width[row[k - 1]] + width[row[k]]) / 2 + gap for k in range(1, len(row))]
            for v, xv in zip(row, _pav(want, seps)):
                x[v] = xv
    lo = min((x[v] - width[v] / 2 for v in range(total)), default=0.0)
    lay.x = [xv - lo for xv in x]
    lay.layer = layer
    lay.layers = layers
    return lay


class _Empty:
    def __getitem__(self, v):
        return ()


_NONE = _Empty()


def _first_real(v, up, n):
    while v >= n:
        v = up[v][0]
    return v


def _sorted_by_barycenter(row, nbrs, pos, group):
    bary = {}
    for v in row:
        ns = nbrs[v]
        bary[v] = sum(pos[u] for u in ns) / len(ns) if ns else pos[v]
    if any(group[v] is not None for v in row):
        sums: dict = {}
        for v in row:
            if group[v] is not None:
                s = sums.setdefault(group[v], [0.0, 0])
                s[0] += bary[v]
                s[1] += 1
        key = {v: ((sums[group[v]][0] / sums[group[v]][1]) if group[v] is not None else bary[v],
                   0 if group[v] is None else 1, str(group[v]) if group[v] is not None else "", bary[v], v)
               for v in row}
        return sorted(row, key=key.__getitem__)
    return sorted(row, key=lambda v: (bary[v], pos[v]))


def _crossings(layers, down, pos) -> int:
    """Edge crossings between adjacent layers (inversions, counted with a Fenwick tree)."""
    total = 0
    for row in layers[:-1]:
        ends = sorted((pos[v], pos[w]) for v in row for w in down[v])
        lower = [w for _, w in ends]
        if not lower:
            continue
        ranks = sorted(set(lower))
        size = len(ranks)
        tree = [0] * (size + 1)
        seen = 0
        for w in lower:
            i = bisect_left(ranks, w) + 1
            # count earlier ends strictly to the right of w
            le, j = 0, i
            while j > 0:
                le += tree[j]
                j -= j & -j
            total += seen - le
            seen += 1
            while i <= size:
                tree[i] += 1
                i += i & -i
    return total


def _pav(want, seps):
    """Positions closest (least squares) to ``want`` with ``x[k] - x[k-1] >= seps[k-1]``."""
    off = [0.0]
    for s in seps:
        off.append(off[-1] + s)
    target = [w - o for w, o in zip(want, off)]
    blocks = []  # [mean, count]
    for t in target:
        blocks.append([t, 1])
        while len(blocks) > 1 and blocks[-2][0] > blocks[-1][0]:
            m2, c2 = blocks.pop()
            m1, c1 = blocks.pop()
            blocks.append([(m1 * c1 + m2 * c2) / (c1 + c2), c1 + c2])
    out = []
    for m, c in blocks:
        out.extend([m] * c)
    return [y + o for y, o in zip(out, off)]
