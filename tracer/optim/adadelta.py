"""Adadelta (torch's single-tensor algorithm: rho, eps, weight decay, maximize, lr scaling)."""
from __future__ import annotations

from tracer.core.errors import err
from tracer.ops.creation import tensor, zeros_like
from tracer.optim.optimizer import Optimizer, check_implementation


class Adadelta(Optimizer):
    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, foreach=None, *, capturable=False,
                 maximize=False, differentiable=False):
        if lr < 0.0:
            raise err(ValueError, f"Invalid learning rate: {lr}")
        if not 0.0 <= rho <= 1.0:
            raise err(ValueError, f"Invalid rho value: {rho}")
        if eps < 0.0:
            raise err(ValueError, f"Invalid epsilon value: {eps}")
        if weight_decay < 0.0:
            raise err(ValueError, f"Invalid weight_decay value: {weight_decay}")
        check_implementation("Adadelta", foreach, capturable, differentiable)
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def _init_state(self, group, p, state) -> None:
        state["step"] = tensor(0.0)
        state["square_avg"] = zeros_like(p)
        state["acc_delta"] = zeros_like(p)

    def _update(self, group, p, state) -> None:
        if not state:
            self._init_state(group, p, state)
        grad = self._gradient(group, p)
        rho, eps = group["rho"], group["eps"]
        state["step"].add_(1)
        square_avg, acc_delta = state["square_avg"], state["acc_delta"]
        square_avg.mul_(rho).addcmul_(grad, grad, value=1 - rho)
        std = square_avg.add(eps).sqrt()
        delta = acc_delta.add(eps).sqrt().div(std).mul(grad)
        acc_delta.mul_(rho).addcmul_(delta, delta, value=1 - rho)
        p.sub_(delta * self._lr(group))  # = add_(delta, alpha=-lr)
