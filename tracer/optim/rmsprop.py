"""RMSprop (torch's single-tensor algorithm: centered, momentum, weight decay)."""
from __future__ import annotations

from tracer.core.errors import err
from tracer.ops.creation import tensor, zeros_like
from tracer.optim.optimizer import Optimizer, check_implementation


class RMSprop(Optimizer):
    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0, centered=False,
                 *, maximize=False, foreach=None, capturable=False, differentiable=False):
        if lr < 0.0:
            raise err(ValueError, f"Invalid learning rate: {lr}")
        if alpha < 0.0:
            raise err(ValueError, f"Invalid alpha value: {alpha}")
        check_implementation("RMSprop", foreach, capturable, differentiable)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize))

    def _init_state(self, group, p, state) -> None:
        state["step"] = tensor(0.0)
        state["square_avg"] = zeros_like(p)
        if group["momentum"] > 0:
            state["momentum_buffer"] = zeros_like(p)
        if group["centered"]:
            state["grad_avg"] = zeros_like(p)

    def _update(self, group, p, state) -> None:
        if not state:
            self._init_state(group, p, state)
        grad = self._gradient(group, p)
        alpha, eps = group["alpha"], group["eps"]
        state["step"].add_(1)
        square_avg = state["square_avg"]
        square_avg.mul_(alpha).addcmul_(grad, grad, value=1 - alpha)
        if group["centered"]:
            grad_avg = state["grad_avg"]
            grad_avg.lerp_(grad, 1 - alpha)
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt().add(eps)
        else:
            avg = square_avg.sqrt().add(eps)
        if group["momentum"] > 0:
            buf = state["momentum_buffer"]
            buf.mul_(group["momentum"]).addcdiv_(grad, avg)
            p.sub_(buf * self._lr(group))  # = add_(buf, alpha=-lr)
        else:
            p.sub_(grad * self._lr(group) / avg)  # = addcdiv_(grad, avg, value=-lr): (lr grad) / avg
