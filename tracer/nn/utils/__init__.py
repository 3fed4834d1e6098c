"""``tracer.nn.utils``, as ``torch.nn.utils``: ``rnn`` (padding and packing of sequences) and
gradient clipping (``clip_grad_norm_``, ``clip_grad_value_``, ``get_total_norm``)."""
from tracer.nn.utils import rnn  # noqa: F401
from tracer.nn.utils.clip_grad import (clip_grad_norm_, clip_grad_value_, clip_grads_with_norm_,  # noqa: F401
                                       get_total_norm)
