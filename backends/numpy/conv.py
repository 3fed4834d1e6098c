"""NumPy kernels for ir/ops/conv.py at BLAS speed.

``conv`` is im2col: the padded input's windows copied once into a matrix (one strided slice per
kernel offset, or one window per output pixel when there are fewer pixels than offsets) and
multiplied by the weights in one batched GEMM. ``conv_transpose`` is the adjoint: one GEMM gives every input
pixel's contribution to each kernel offset, and col2im adds them into the output with one
strided slice per kernel offset (a loop over the kernel, never over pixels).
"""
from __future__ import annotations

import math

import numpy as np

from ir.ops import conv as C


def _pad(x, a, n):
    pads = [(0, 0), (0, 0)] + [(a.pads[i], a.pads[n + i]) for i in range(n)]
    return np.pad(x, pads) if any(a.pads) else x


def _out_size(xp, kernel, a, n):
    return tuple((xp.shape[2 + i] - a.dilation[i] * (kernel[i] - 1) - 1) // a.stride[i] + 1 for i in range(n))


def _conv(a, x, w, bias=None):
    """im2col in whichever loop is shorter: over kernel offsets (each copies one strided slice
    of every output pixel's input) for ordinary kernels, or over output pixels (each copies
    one window) for the huge-kernel, few-pixel convolutions that weight gradients are. Either
    way the copies are long runs and the product one batched GEMM."""
    n = C.spatial_rank(a)
    g = a.groups
    batch, cin, cout = x.shape[0], x.shape[1], w.shape[0]
    kernel, cg, og = tuple(w.shape[2:]), cin // g, cout // g
    xp = _pad(x, a, n)
    out_sp = _out_size(xp, kernel, a, n)
    pixels, taps = math.prod(out_sp), math.prod(kernel)
    xg = xp.reshape((batch, g, cg) + xp.shape[2:])
    wm = w.reshape(g, og, cg * taps)
    lead = (slice(None),) * 3
    if taps <= pixels:
        # cols[G, C/G, *k, N, *out]: rows a channel and kernel offset, columns every output pixel
        cols = np.empty((g, cg) + kernel + (batch,) + out_sp, dtype=x.dtype)
        for offset in np.ndindex(*kernel):
            seen = lead + tuple(slice(o * d, o * d + (size - 1) * s + 1, s)
                                for o, d, s, size in zip(offset, a.dilation, a.stride, out_sp))
            cols[(slice(None),) * 2 + offset] = xg[seen].transpose((1, 2, 0) + tuple(range(3, 3 + n)))
        out = np.matmul(wm, cols.reshape(g, cg * taps, batch * pixels))  # (G, C_out/G, N * out)
        out = out.reshape((cout, batch) + out_sp).swapaxes(0, 1)
    else:
        # cols[G, N, *out, C/G, *k]: rows an output pixel, columns its window
        cols = np.empty((g, batch) + out_sp + (cg,) + kernel, dtype=x.dtype)
        for pixel in np.ndindex(*out_sp):
            window = lead + tuple(slice(q * s, q * s + (k - 1) * d + 1, d)
                                  for q, d, s, k in zip(pixel, a.dilation, a.stride, kernel))
            cols[(slice(None),) * 2 + pixel] = xg[window].swapaxes(0, 1)
        out = np.matmul(cols.reshape(g, batch * pixels, cg * taps), wm.transpose(0, 2, 1))  # (G, N * out, C_out/G)
        out = out.reshape(g, batch, pixels, og).transpose(1, 0, 3, 2).reshape((batch, cout) + out_sp)
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
