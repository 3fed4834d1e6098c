"""Adamax (torch's single-tensor algorithm: the infinity-norm variant of Adam)."""
from __future__ import annotations

from tracer.ops.creation import tensor, zeros_like
from tracer.ops.elementwise import maximum
from tracer.optim.optimizer import Optimizer, bias_correction, check_adam_family, check_implementation


class Adamax(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, foreach=None, *,
                 maximize=False, differentiable=False, capturable=False):
        check_adam_family(lr, eps, betas, weight_decay)
        check_implementation("Adamax", foreach, capturable, differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, capturable=capturable))

    def _init_state(self, group, p, state) -> None:
        state["step"] = tensor(0.0)
        state["exp_avg"] = zeros_like(p)
        state["exp_inf"] = zeros_like(p)

    def _update(self, group, p, state) -> None:
        if not state:
            self._init_state(group, p, state)
        grad = self._gradient(group, p)
        beta1, beta2 = group["betas"]
        step_t = state["step"]
        step_t.add_(1)
        exp_avg, exp_inf = state["exp_avg"], state["exp_inf"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_inf.copy_(maximum(exp_inf.mul_(beta2), grad.abs().add(group["eps"])))
        clr = self._lr(group) / bias_correction(beta1, step_t)
        p.sub_(exp_avg * clr / exp_inf)  # = addcdiv_(exp_avg, exp_inf, value=-clr)
