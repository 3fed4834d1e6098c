"""``pixel_shuffle``/``pixel_unshuffle`` and their modules, as torch: a reshape, a permute and
a reshape (sub-pixel convolution's rearrangement), so gradients and exports are those ops'."""
from __future__ import annotations

from tracer.core.errors import err
from tracer.nn.module import Module


def _check(name: str, input, factor: int, what: str):
    if input.dim() < 3:
        raise err(RuntimeError, f"{name} expects input to have at least 3 dimensions, but got input with "
                  f"{input.dim()} dimension(s)")
    if factor <= 0:
        raise err(RuntimeError, f"{name} expects a positive {what}, but got {factor}")


def pixel_shuffle(input, upscale_factor: int):
    """(*, C r^2, H, W) -> (*, C, H r, W r)."""
    r = upscale_factor
    _check("pixel_shuffle", input, r, "upscale_factor")
    *batch, c, h, w = input.shape
    if c % (r * r):
        raise err(RuntimeError, f"pixel_shuffle expects its input's 'channel' dimension to be divisible by the square "
                  f"of upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    k = len(batch)
    x = input.reshape(*batch, c // (r * r), r, r, h, w)
    x = x.permute(*range(k), k, k + 3, k + 1, k + 4, k + 2)
    return x.reshape(*batch, c // (r * r), h * r, w * r)


def pixel_unshuffle(input, downscale_factor: int):
    """(*, C, H r, W r) -> (*, C r^2, H, W)."""
    r = downscale_factor
    _check("pixel_unshuffle", input, r, "downscale_factor")
    *batch, c, h, w = input.shape
    for size, what, dim in ((h, "height", -2), (w, "width", -1)):
        if size % r:
            raise err(RuntimeError, f"pixel_unshuffle expects {what} to be divisible by downscale_factor, but "
                      f"input.size({dim})={size} is not divisible by {r}")
    k = len(batch)
    x = input.reshape(*batch, c, h // r, r, w // r, r)
    x = x.permute(*range(k), k, k + 2, k + 4, k + 1, k + 3)
    return x.reshape(*batch, c * r * r, h // r, w // r)


class PixelShuffle(Module):
    def __init__(self, upscale_factor: int):
        super().__init__()
        self.upscale_factor = upscale_factor

    def forward(self, input):
        return pixel_shuffle(input, self.upscale_factor)

    def extra_repr(self) -> str:
        return f"upscale_factor={self.upscale_factor}"


class PixelUnshuffle(Module):
    def __init__(self, downscale_factor: int):
        super().__init__()
        self.downscale_factor = downscale_factor

    def forward(self, input):
        return pixel_unshuffle(input, self.downscale_factor)

    def extra_repr(self) -> str:
        return f"downscale_factor={self.downscale_factor}"
