"""Binds the torch-style functions onto ``Tensor`` as methods and operators."""
from __future__ import annotations

from tracer.core import tensor_state
from tracer.ops import conversion as cv
from tracer.ops import creation as cr
from tracer.ops import elementwise as ew
from tracer.ops import indexing as ix
from tracer.ops import inplace as ip
from tracer.ops import linalg as la
from tracer.ops import reduce as rd
from tracer.ops import sequence as sq
from tracer.ops import shape as sh
from tracer.ops import sorting as so
from tracer.ops import trigonometry as tg
from tracer.ops import statistics as st
from tracer.ops import counting as cn
from tracer.ops import contraction as ct
from tracer.ops import diagonal as dg
from tracer.core.tensor import Tensor

_SAME_NAME = {
    ew: "add sub mul div true_divide floor_divide remainder fmod pow float_power maximum minimum neg negative "
        "abs absolute relu sign floor ceil exp log sqrt rsqrt sin cos tanh sigmoid erf reciprocal logical_not "
        "round trunc fix frac square log2 log10 log1p expm1 tan clamp clip clamp_min clamp_max eq ne lt le gt "
        "ge not_equal less less_equal greater greater_equal logical_and logical_or logical_xor isnan "
        "isinf isfinite nan_to_num lerp addcmul addcdiv masked_fill logaddexp isclose allclose equal",
    rd: "sum prod mean var std amax amin argmax argmin max min logsumexp softmax log_softmax all any "
        "count_nonzero norm bucketize",
    sh: "reshape view view_as reshape_as flatten unflatten squeeze unsqueeze permute transpose swapaxes "
        "swapdims t movedim expand expand_as broadcast_to repeat narrow split chunk unbind",
    ix: "index_select gather scatter_add index_add masked_select nonzero argwhere",
    la: "matmul mm bmm mv dot outer addmm",
    ip: "add_ sub_ mul_ div_ pow_ clamp_min_ clamp_max_ addcmul_ addcdiv_ lerp_ clamp_ zero_ fill_ copy_ "
        "neg_ exp_ sqrt_ relu_ sigmoid_ tanh_ abs_ masked_fill_ uniform_ normal_ bernoulli_ detach_",
    cr: "new_tensor new_zeros new_ones new_full new_empty",
    sq: "cumsum cumprod tril triu cumsum_ cumprod_ tril_ triu_ roll",
    so: "sort argsort msort topk",
    st: "median nanmedian mode quantile nanquantile nanmean nansum cummax cummin logcumsumexp cov corrcoef",
    cn: "bincount histc unique unique_consecutive",
    ct: "inner kron cross",
    dg: "diag diagonal diag_embed rot90 tensor_split take_along_dim diff",
    cv: "to clone detach contiguous cpu cuda double long byte half short char",
}

for _module, _names in _SAME_NAME.items():
    for _name in _names.split():
        setattr(Tensor, _name, getattr(_module, _name))

Tensor.where = lambda self, condition, other: ew.where(condition, self, other)  # x.where(c, y)
Tensor.float = cv.float_
Tensor.int = cv.int_
Tensor.bool = cv.bool__
Tensor.type = cv.type_
Tensor.clip_ = ip.clamp_
Tensor.flip = sq._flip_method
Tensor.trace = dg.trace_method  # the method only: tracer.trace is the jit's


def _reflected(fn):
    return lambda self, other: fn(other, self)


def _data_get(self):
    return self.detach()


def _data_set(self, value):
    """``t.data = v`` swaps the value without autograd (no version bump, as in torch)."""
    tensor_state.set_data(self, value._value)


Tensor.__add__ = ew.add
Tensor.__radd__ = _reflected(ew.add)
Tensor.sub = Tensor.__sub__ = ew.public_sub
Tensor.__rsub__ = _reflected(ew.public_sub)
Tensor.__mul__ = ew.mul
Tensor.__rmul__ = _reflected(ew.mul)
Tensor.__truediv__ = ew.div
Tensor.__rtruediv__ = _reflected(ew.div)
Tensor.__floordiv__ = ew.floor_divide
Tensor.__rfloordiv__ = _reflected(ew.floor_divide)
Tensor.__mod__ = ew.remainder
Tensor.__rmod__ = _reflected(ew.remainder)
Tensor.__pow__ = ew.pow
Tensor.__rpow__ = _reflected(ew.pow)
Tensor.__matmul__ = la.matmul
Tensor.__rmatmul__ = _reflected(la.matmul)
Tensor.__neg__ = ew.neg
Tensor.__pos__ = lambda self: self
Tensor.__abs__ = ew.abs
Tensor.__invert__ = ew.bitwise_not
Tensor.__and__ = ew.bitwise_and
Tensor.__or__ = ew.bitwise_or
Tensor.__xor__ = ew.bitwise_xor
Tensor.__rand__ = _reflected(ew.bitwise_and)
Tensor.__ror__ = _reflected(ew.bitwise_or)
Tensor.__rxor__ = _reflected(ew.bitwise_xor)
Tensor.__eq__ = ew.eq
Tensor.__ne__ = ew.ne
Tensor.__lt__ = ew.lt
Tensor.__le__ = ew.le
Tensor.__gt__ = ew.gt
Tensor.__ge__ = ew.ge
Tensor.__iadd__ = ip.add_
Tensor.__isub__ = ip.sub_
Tensor.__imul__ = ip.mul_
Tensor.__itruediv__ = ip.div_
Tensor.__getitem__ = ix.getitem
Tensor.__setitem__ = ix.setitem
Tensor.T = property(lambda self: sh.permute(self, list(reversed(range(self.dim())))))
Tensor.mT = property(sh.mT)
Tensor.data = property(_data_get, _data_set)
Tensor.__hash__ = object.__hash__  # identity, as torch (and fast: dict keys in optimizers)

# issue 13: scatter/index writes, slices written whole, aliases and in-place forms
from tracer.ops import aliases as al  # noqa: E402
from tracer.ops import index_writes as iw  # noqa: E402
from tracer.ops import scatter as sc  # noqa: E402
from tracer.ops import slicing as sl  # noqa: E402

_MORE = {
    sc: "scatter scatter_ scatter_reduce scatter_reduce_ scatter_add_",
    iw: "index_fill index_fill_ index_copy index_copy_ index_add_ index_put index_put_ masked_scatter "
        "masked_scatter_ put put_ take index_reduce index_reduce_",
    sl: "select select_scatter slice_scatter diagonal_scatter unfold repeat_interleave tile hsplit vsplit dsplit "
        "split_with_sizes unsafe_split_with_sizes fliplr flipud ravel sum_to_size t_ transpose_ swapaxes_ swapdims_ "
        "squeeze_ unsqueeze_",
    al: "subtract multiply divide moveaxis positive type_as is_signed is_same_size is_nonzero stride "
        "storage_offset is_contiguous kthvalue aminmax fill_diagonal_ unsafe_chunk unsafe_split",
    ew: "bitwise_and bitwise_or bitwise_xor bitwise_not",
    tg: " ".join(tg.__all__),
}
for _module, _names in _MORE.items():
    for _name in _names.split():
        setattr(Tensor, _name, getattr(_module, _name))
for _name, _fn in {**al.INPLACE, **tg.INPLACE}.items():
    setattr(Tensor, _name, _fn)
