"""Rprop (torch's single-tensor algorithm: etas, step_sizes, maximize).

torch assigns through boolean masks (``sign[sign.gt(0)] = etaplus``); the same values are
chosen here with ``where``, which traces."""
from __future__ import annotations

from tracer.core.errors import err
from tracer.ops.creation import full_like, tensor, zeros_like
from tracer.ops.elementwise import where
from tracer.optim.optimizer import Optimizer, check_implementation


class Rprop(Optimizer):
    def __init__(self, params, lr=1e-2, etas=(0.5, 1.2), step_sizes=(1e-6, 50), *, capturable=False, foreach=None,
                 maximize=False, differentiable=False):
        if not 0.0 <= lr:
            raise err(ValueError, f"Invalid learning rate: {lr}")
        if not 0.0 < etas[0] < 1.0 < etas[1]:
            raise err(ValueError, f"Invalid eta values: {etas[0]}, {etas[1]}")
        check_implementation("Rprop", foreach, capturable, differentiable)
        super().__init__(params, dict(lr=lr, etas=etas, step_sizes=step_sizes, foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _init_state(self, group, p, state) -> None:
        state["step"] = tensor(0.0)
        state["prev"] = zeros_like(p)
        state["step_size"] = full_like(p, group["lr"])

    def _update(self, group, p, state) -> None:
        if not state:
            self._init_state(group, p, state)
        grad = -p._grad if group["maximize"] else p._grad
        etaminus, etaplus = group["etas"]
        step_size_min, step_size_max = group["step_sizes"]
        prev, step_size = state["prev"], state["step_size"]
        state["step"].add_(1)
        sign = grad.mul(prev).sign()
        sign = where(sign.gt(0), etaplus, where(sign.lt(0), etaminus, where(sign.eq(0), 1.0, sign))).to(sign.dtype)
        step_size.mul_(sign).clamp_(step_size_min, step_size_max)
        grad = where(sign.eq(etaminus), 0.0, grad).to(grad.dtype)
        p.addcmul_(grad.sign(), step_size, value=-1)
        prev.copy_(grad)
