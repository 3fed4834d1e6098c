"""ONNX import rules for the recurrent ops (RNN, GRU, LSTM), unrolled over the static sequence
length into ir matmuls and elementwise ops (their gradients follow). The ir has no recurrent
op, so this family has import rules only: tracegrad exports recurrent layers as these ops.

Every direction projects the whole input once (``X W^T + Wb``), then steps through time; a
constant ``sequence_lens`` masks the steps past each batch entry's length (forward only).
"""
from __future__ import annotations

import numpy as np

from backends.onnx.importing import unsupported
from backends.onnx.shape import slice_axis
from ir.ops import elementwise as E
from ir.ops import linalg as L
from ir.ops import shape as S

_ACTIVATIONS = {"Sigmoid": E.sigmoid, "Tanh": E.tanh, "Relu": E.relu}
_DEFAULTS = {"RNN": ["Tanh"], "GRU": ["Sigmoid", "Tanh"], "LSTM": ["Sigmoid", "Tanh", "Tanh"]}
_GATES = {"RNN": 1, "GRU": 3, "LSTM": 4}


class _Cell:
    """What every step of one direction needs: weights, biases, activations, clip."""

    def __init__(self, g, kind, d, hidden, acts):
        self.g, self.kind, self.hidden, self.acts = g, kind, hidden, acts
        gates = _GATES[kind]
        self.r = _direction_matrix(g, g.x(2), d, gates * hidden)  # (H, G H)
        bias = _direction_row(g, g.x(3), d) if g.has(3) else None
        self.x_bias = None if bias is None else slice_axis(g, bias, 0, 0, gates * hidden)
        self.h_bias = None if bias is None else slice_axis(g, bias, 0, gates * hidden, 2 * gates * hidden)
        self.peephole = _direction_row(g, g.x(7), d) if kind == "LSTM" and g.has(7) else None
        self.clip = g.attr("clip")
        self.linear_before_reset = g.attr("linear_before_reset", 0) if kind == "GRU" else 0

    def act(self, k, x):
        return self.g.add(self.acts[k], [x])

    def part(self, x, k):
        """Gate ``k``'s columns of a (batch, G H) value."""
        return slice_axis(self.g, x, 1, k * self.hidden, (k + 1) * self.hidden)

    def clipped(self, x):
        if self.clip is None:
            return x
        return self.g.add(E.clamp, [x], E.ClampAttrs(-self.clip, self.clip))

    def step(self, xw, h, c):
        """One time step from the projected input ``xw`` (batch, G H); returns (h, c)."""
        g = self.g
        if self.kind == "GRU":
            return self._gru(xw, h), None
        hr = g.add(L.matmul, [h, self.r])
        if self.h_bias is not None:
            hr = g.add(E.add, [hr, self.h_bias])
        total = g.add(E.add, [xw, hr])
        if self.kind == "RNN":
            return self.act(0, self.clipped(total)), None
        return self._lstm(total, c)

    def _lstm(self, total, c):
        g = self.g
        i, o, f, cand = (self.clipped(self.part(total, k)) for k in range(4))
        if self.peephole is not None:
            pi, po, pf = (slice_axis(g, self.peephole, 0, k * self.hidden, (k + 1) * self.hidden) for k in range(3))
            i = g.add(E.add, [i, g.add(E.mul, [pi, c])])
            f = g.add(E.add, [f, g.add(E.mul, [pf, c])])
        i, f, cand = self.act(0, i), self.act(0, f), self.act(1, cand)
        c = g.add(E.add, [g.add(E.mul, [f, c]), g.add(E.mul, [i, cand])])
        if self.peephole is not None:
            o = g.add(E.add, [o, g.add(E.mul, [po, c])])
        return g.add(E.mul, [self.act(0, o), self.act(2, c)]), c

    def _gru(self, xw, h):
        g = self.g
        hr = g.add(L.matmul, [h, self.r])
        if self.h_bias is not None:
            hr = g.add(E.add, [hr, self.h_bias])
        z = self.act(0, self.clipped(g.add(E.add, [self.part(xw, 0), self.part(hr, 0)])))
        r = self.act(0, self.clipped(g.add(E.add, [self.part(xw, 1), self.part(hr, 1)])))
        if self.linear_before_reset:
            recurrent = g.add(E.mul, [r, self.part(hr, 2)])
        else:
            rh = g.add(E.mul, [r, h])
            recurrent = g.add(L.matmul, [rh, self.part_of_r(2)])
            if self.h_bias is not None:
                recurrent = g.add(E.add, [recurrent, slice_axis(g, self.h_bias, 0, 2 * self.hidden, 3 * self.hidden)])
        cand = self.act(1, self.clipped(g.add(E.add, [self.part(xw, 2), recurrent])))
        one = g.scalar(1, h.dtype)
        return g.add(E.add, [g.add(E.mul, [g.add(E.sub, [one, z]), cand]), g.add(E.mul, [z, h])])

    def part_of_r(self, k):
        return slice_axis(self.g, self.r, 1, k * self.hidden, (k + 1) * self.hidden)


def _direction_matrix(g, w, d, rows):
    """W[d] (rows, cols) transposed to (cols, rows), for x @ W^T."""
    one = g.add(S.reshape, [slice_axis(g, w, 0, d, d + 1)], S.ShapeAttrs((rows, w.shape[2])))
    return g.add(S.permute, [one], S.PermuteAttrs((1, 0)))


def _direction_row(g, b, d):
    return g.add(S.reshape, [slice_axis(g, b, 0, d, d + 1)], S.ShapeAttrs((b.shape[1],)))


def _initial(g, i, d, batch, hidden, dtype):
    if g.has(i):
        return g.add(S.reshape, [slice_axis(g, g.x(i), 0, d, d + 1)], S.ShapeAttrs((batch, hidden)))
    return g.add(S.expand, [g.scalar(0, dtype)], S.ShapeAttrs((batch, hidden)))


def _activations(g, kind, dirs):
    names = g.attr("activations") or _DEFAULTS[kind] * dirs
    if g.attr("activation_alpha") or g.attr("activation_beta"):
        g.fail("activation_alpha/activation_beta are not supported (activations with parameters)")
    per = len(_DEFAULTS[kind])
    if len(names) != per * dirs:
        g.fail(f"needs {per * dirs} activations, got {names}")
    for name in names:
        if name not in _ACTIVATIONS:
            unsupported(g, "activations", names, ", ".join(_ACTIVATIONS))
    return [[_ACTIVATIONS[n] for n in names[d * per:(d + 1) * per]] for d in range(dirs)]


def _lengths(g, seq, batch, reverse):
    """The constant per-batch lengths (None when every entry runs the whole sequence)."""
    lengths = g.ints(4)
    if lengths is None or all(n == seq for n in lengths):
        return None
    if reverse:
        g.fail("sequence_lens shorter than the sequence with a reverse direction is not supported")
    if len(lengths) != batch or any(not 0 <= n <= seq for n in lengths):
        g.fail(f"sequence_lens {lengths} must give each of the {batch} batch entries a length in [0, {seq}]")
    return np.asarray(lengths)


def _run_direction(g, kind, d, xs, hidden, acts, reverse):
    """(per-step outputs in time order, final h, final c) of one direction."""
    seq, batch = xs.shape[0], xs.shape[1]
    dtype = xs.dtype
    cell = _Cell(g, kind, d, hidden, acts)
    w = _direction_matrix(g, g.x(1), d, _GATES[kind] * hidden)
    xw = g.add(L.matmul, [xs, w])  # (seq, batch, G H)
    if cell.x_bias is not None:
        xw = g.add(E.add, [xw, cell.x_bias])
    h = _initial(g, 5, d, batch, hidden, dtype)
    c = _initial(g, 6, d, batch, hidden, dtype) if kind == "LSTM" else None
    lengths = _lengths(g, seq, batch, reverse)
    zero = g.scalar(0, dtype)
    outs = [None] * seq
    for t in (reversed(range(seq)) if reverse else range(seq)):
        step = g.add(S.reshape, [slice_axis(g, xw, 0, t, t + 1)], S.ShapeAttrs((batch, xw.shape[2])))
        new_h, new_c = cell.step(step, h, c)
        if lengths is None:
            h, c, outs[t] = new_h, new_c, new_h
            continue
        active = g.constant((t < lengths).reshape(batch, 1))
        h = g.add(E.where, [active, new_h, h])
        c = None if c is None else g.add(E.where, [active, new_c, c])
        outs[t] = g.add(E.where, [active, new_h, zero])
    return outs, h, c


def _stack(g, values, shape, axis):
    parts = [g.add(S.reshape, [v], S.ShapeAttrs(shape)) for v in values]
    return parts[0] if len(parts) == 1 else g.add(S.concat, parts, S.AxisAttrs(axis))


def _imp_recurrent(kind):
    def rule(g):
        x = g.x(0)
        layout = g.attr("layout", 0)
        if layout:
            x = g.add(S.permute, [x], S.PermuteAttrs((1, 0, 2)))
        direction = g.attr("direction", "forward")
        if direction not in ("forward", "reverse", "bidirectional"):
            unsupported(g, "direction", direction, "'forward', 'reverse', 'bidirectional'")
        if kind == "LSTM" and g.attr("input_forget", 0):
            g.fail("input_forget=1 (coupled input and forget gates) is not supported")
        dirs = 2 if direction == "bidirectional" else 1
        hidden = g.attr("hidden_size", g.x(2).shape[2])
        acts = _activations(g, kind, dirs)
        seq, batch = x.shape[0], x.shape[1]
        ys, hs, cs = [], [], []
        for d in range(dirs):
            reverse = direction == "reverse" or d == 1
            outs, h, c = _run_direction(g, kind, d, x, hidden, acts[d], reverse)
            ys.append(_stack(g, outs, (1, 1, batch, hidden), 0))
            hs.append(h)
            cs.append(c)
        y = ys[0] if dirs == 1 else g.add(S.concat, ys, S.AxisAttrs(1))  # (seq, dirs, batch, H)
        y_h = _stack(g, hs, (1, batch, hidden), 0)
        y_c = _stack(g, cs, (1, batch, hidden), 0) if kind == "LSTM" else None
        if layout:
            y = g.add(S.permute, [y], S.PermuteAttrs((2, 0, 1, 3)))
            y_h = g.add(S.permute, [y_h], S.PermuteAttrs((1, 0, 2)))
            y_c = None if y_c is None else g.add(S.permute, [y_c], S.PermuteAttrs((1, 0, 2)))
        return [y, y_h, y_c]
    rule.__doc__ = f"ONNX {kind}, unrolled over the sequence."
    return rule


IMPORTS = {
    "RNN": _imp_recurrent("RNN"),
    "GRU": _imp_recurrent("GRU"),
    "LSTM": _imp_recurrent("LSTM"),
}
