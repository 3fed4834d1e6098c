"""NumPy kernels for ir/ops/conv.py at BLAS speed.

``conv`` is im2col: the padded input's windows are a strided view (``sliding_window_view``),
copied once into a (groups, N * out pixels, C_in/groups * kernel) matrix and multiplied by the
weights in one batched GEMM. ``conv_transpose`` is the adjoint: one GEMM gives every input
pixel's contribution to each kernel offset, and col2im adds them into the output with one
strided slice per kernel offset (a loop over the kernel, never over pixels).
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ir.ops import conv as C


def _pad(x, a, n):
    pads = [(0, 0), (0, 0)] + [(a.pads[i], a.pads[n + i]) for i in range(n)]
    return np.pad(x, pads) if any(a.pads) else x


def _windows(xp, kernel, a, n):
    """(N, C, *out, *kernel): each output pixel's dilated window, as a view of ``xp``."""
    reach = tuple(a.dilation[i] * (kernel[i] - 1) + 1 for i in range(n))
    spatial = tuple(range(2, 2 + n))
    view = sliding_window_view(xp, reach, axis=spatial)
    steps = (slice(None),) * 2 + tuple(slice(None, None, s) for s in a.stride) \
        + tuple(slice(None, None, d) for d in a.dilation)
    return view[steps]


def _conv(a, x, w, bias=None):
    n = C.spatial_rank(a)
    g = a.groups
    batch, cin, cout = x.shape[0], x.shape[1], w.shape[0]
    kernel = w.shape[2:]
    win = _windows(_pad(x, a, n), kernel, a, n)
    out_sp = win.shape[2:2 + n]
    # (N, G, C/G, *out, *k) -> (G, N, *out, C/G, *k): rows are output pixels, columns a window
    win = win.reshape((batch, g, cin // g) + win.shape[2:])
    order = (1, 0) + tuple(range(3, 3 + n)) + (2,) + tuple(range(3 + n, 3 + 2 * n))
    cols = win.transpose(order).reshape(g, batch * math.prod(out_sp), (cin // g) * math.prod(kernel))
    wm = w.reshape(g, cout // g, -1).transpose(0, 2, 1)
    out = np.matmul(cols, wm)  # (G, N * out, C_out/G)
    out = out.reshape((g, batch) + out_sp + (cout // g,))
    out = out.transpose((1, 0, 2 + n) + tuple(range(2, 2 + n))).reshape((batch, cout) + out_sp)
    if bias is not None:
        out = out + bias.reshape((cout,) + (1,) * n)
    return np.ascontiguousarray(out)


def _conv_transpose(a, x, w, bias=None):
    n = C.spatial_rank(a)
    g = a.groups
    batch, cin = x.shape[0], x.shape[1]
    cout_g = w.shape[1]
    kernel, in_sp = w.shape[2:], x.shape[2:]
    extra = a.output_padding or (0,) * n
    # cols[G, C_out/G * k, N * in] = W_g^T x_g: what each input pixel adds at each kernel offset
    wm = w.reshape((g, cin // g, cout_g * math.prod(kernel))).transpose(0, 2, 1)
    xm = x.reshape((batch, g, cin // g, math.prod(in_sp))).transpose(1, 2, 0, 3).reshape(g, cin // g, -1)
    cols = np.matmul(wm, xm).reshape((g, cout_g) + tuple(kernel) + (batch,) + tuple(in_sp))
    # the output before cropping the pads: (in - 1) * stride + dilation * (k - 1) + 1 + extra
    full = tuple((in_sp[i] - 1) * a.stride[i] + a.dilation[i] * (kernel[i] - 1) + 1 + extra[i] for i in range(n))
    out = np.zeros((g, cout_g, batch) + full, dtype=x.dtype)
    for offset in np.ndindex(*kernel):
        where = tuple(slice(o * d, o * d + (size - 1) * s + 1, s)
                      for o, d, s, size in zip(offset, a.dilation, a.stride, in_sp))
        out[(slice(None),) * 3 + where] += cols[(slice(None),) * 2 + offset]
    crop = tuple(slice(a.pads[i], full[i] - a.pads[n + i]) for i in range(n))
    out = out[(slice(None),) * 3 + crop]
    out = out.transpose((2, 0, 1) + tuple(range(3, 3 + n))).reshape((batch, g * cout_g) + out.shape[3:])
    if bias is not None:
        out = out + bias.reshape((g * cout_g,) + (1,) * n)
    return np.ascontiguousarray(out)


KERNELS = {
    C.conv: _conv,
    C.conv_transpose: _conv_transpose,
}
