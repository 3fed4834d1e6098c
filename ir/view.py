"""What a picture shows: the nodes of one phase, and each node's module cluster.

Nodes do not record the module that created them, but parameter and optimizer-state inputs are
named by module path (``fc1.weight``, ``layers.0.attn.q.bias``, ``opt.fc1.weight.exp_avg``).
``module_clusters`` derives a node's module from them:

- a parameter ``a.b.weight`` belongs to module ``a.b``; an optimizer state input belongs to the
  module of the parameter its name contains (``opt.fc1.weight.exp_avg`` -> ``fc1``); a parameter
  at the root (``weight``, or ``param`` for one reached through a helper function) to none;
- an op whose inputs are only parameters and constants (``W.t()``) belongs to their module;
- an op that uses such a value directly (``x @ W.t()``, ``+ bias``, ``W - lr * g``) is a *seed* of it;
- any other op belongs to the longest common module path of the nearest seeds before and after
  it in the same part (so ``x @ W.t()`` between ``W.t()`` and ``+ b`` is in ``fc1``, a ReLU between
  ``fc1`` and ``fc2`` in no cluster, a residual add between ``blocks.0.attn`` and
  ``blocks.0.mlp`` in ``blocks.0``);
- the parts are kept apart: forward, backward, and the update (forward-phase nodes after a
  backward node, and state arithmetic only the update uses: optimizer steps, step counters), so
  a cluster does not span the whole height of a training graph.

Clusters are named ``module`` (forward), ``module · backward`` and ``module · update``.
"""
from __future__ import annotations

from ir.node import BACKWARD
from ir.ops import source

PHASES = ("all", "forward", "backward")


def select(graph, phase: str = "all") -> list:
    """The nodes a ``phase`` picture shows, in graph order: every node for ``"all"``; otherwise
    the ops of that phase plus the inputs and constants that feed them."""
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
    if phase == "all":
        return list(graph.nodes)
    kept = {n for n in graph.nodes if n.phase == phase and not _is_source(n)}
    feeding = {i for n in kept for i in n.inputs if _is_source(i)}
    return [n for n in graph.nodes if n in kept or n in feeding]


def _is_source(node) -> bool:
    return node.op is source.input_ or node.op is source.constant


def _common(paths) -> str:
    """The longest common dotted prefix of module paths ("" if none)."""
    paths = list(paths)
    if not paths:
        return ""
    split = [p.split(".") for p in paths]
    out = []
    for parts in zip(*split):
        if any(p != parts[0] for p in parts):
            break
        out.append(parts[0])
    return ".".join(out)


def _input_module(node, params: set) -> str | None:
    a = node.attrs
    if a.kind == "param":
        return a.name.rpartition(".")[0] or None
    if a.kind == "state":
        parts = a.name.split(".")
        best = None
        for i in range(len(parts)):  # the longest parameter name inside the state's name
            for j in range(len(parts), i, -1):
                if best is not None and j - i <= best[0]:
                    break
                name = ".".join(parts[i:j])
                if name in params:
                    best = (j - i, name)
                    break
        return best[1].rpartition(".")[0] or None if best else None
    return None


def parts(graph) -> dict:
    """Each node's part: ``"forward"``, ``"backward"`` or ``"update"``: a forward-phase op
    computed from a backward node (an optimizer step), or from state inputs and used only by
    the update (step counters, bias corrections). An input or constant takes the part of its
    users when they all have the same one (optimizer state: the update)."""
    part, stateful = {}, set()
    for n in graph.nodes:
        if n.phase == BACKWARD:
            part[n] = "backward"
        elif not _is_source(n) and any(part[i] == "backward" or part[i] == "update" for i in n.inputs):
            part[n] = "update"
        else:
            part[n] = "forward"
        if (n.op is source.input_ and n.attrs.kind == "state") or any(i in stateful for i in n.inputs):
            stateful.add(n)
    users: dict = {n: [] for n in graph.nodes}
    for n in graph.nodes:
        for i in n.inputs:
            users[i].append(n)
    outputs = set(graph.outputs)
    for n in reversed(graph.nodes):
        if (n in stateful and part[n] == "forward" and not _is_source(n) and (users[n] or n in outputs)
                and all(part[u] == "update" for u in users[n])):
            part[n] = "update"
        elif _is_source(n) and users[n] and n not in outputs and len({part[u] for u in users[n]}) == 1:
            part[n] = part[users[n][0]]  # e.g. optimizer state: only the update reads it
    return part


def module_clusters(graph, nodes=None) -> dict:
    """``{node: cluster name}`` for the nodes (of ``nodes``, default all) that belong to a
    module; see the module docstring for the rule. Sources (inputs, constants) join the cluster
    of their module only if it is a parameter or state; data inputs and constants join none."""
    params = {n.attrs.name for n in graph.inputs if n.attrs.kind == "param"}
    part = parts(graph)
    pure: dict = {}   # node -> module path of a value computed from parameters alone
    own: dict = {}    # seed node -> its module path
    for n in graph.nodes:
        if n.op is source.input_:
            m = _input_module(n, params)
            if m:
                pure[n] = m
            continue
        if n.op is source.constant:
            continue
        from_params = [pure[i] for i in n.inputs if i in pure]
        if from_params and all(i in pure or i.op is source.constant for i in n.inputs):
            m = _common(from_params)
            if m:
                pure[n] = m
                own[n] = m
            continue
        if from_params:
            m = _common(from_params)
            if m:
                own[n] = m
    users: dict = {n: [] for n in graph.nodes}
    for n in graph.nodes:
        for i in n.inputs:
            users[i].append(n)
    before: dict = {}
    for n in graph.nodes:
        if n in own:
            before[n] = frozenset((own[n],))
            continue
        s = set()
        for i in n.inputs:
            if part[i] == part[n]:
                s |= before.get(i, frozenset())
            elif i in own:
                s.add(own[i])
        before[n] = frozenset(s)
    after: dict = {}
    for n in reversed(graph.nodes):
        if n in own:
            after[n] = frozenset((own[n],))
            continue
        s = set()
        for u in users[n]:
            if part[u] == part[n]:
                s |= after[u]
            elif u in own:
                s.add(own[u])
        after[n] = frozenset(s)
    shown = set(graph.nodes if nodes is None else nodes)
    out = {}
    for n in graph.nodes:
        if n not in shown or n.op is source.constant:
            continue
        if n.op is source.input_:
            m = pure.get(n)
        elif n in own:
            m = own[n]
        elif before[n] and after[n]:
            m = _common(before[n] | after[n]) or None
        else:
            m = None
        if m:
            out[n] = m if part[n] == "forward" else f"{m} \u00b7 {part[n]}"
    return out
