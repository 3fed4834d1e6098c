"""RAdam (torch's single-tensor algorithm, decoupled_weight_decay included).

Whether the variance rectification applies (``rho_t > 5``) depends only on the step count:
eagerly a Python branch as in torch; inside a trace, where the step count is graph state,
a ``where`` that picks the same value either branch computes."""
from __future__ import annotations

from tracer.core import tracing
from tracer.ops.creation import tensor, zeros_like
from tracer.ops.elementwise import where
from tracer.optim.optimizer import Optimizer, check_adam_family, check_implementation, step_value


class RAdam(Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, decoupled_weight_decay=False,
                 *, foreach=None, maximize=False, capturable=False, differentiable=False):
        check_adam_family(lr, eps, betas, weight_decay)
        check_implementation("RAdam", foreach, capturable, differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize,
                                      foreach=foreach, capturable=capturable,
                                      decoupled_weight_decay=decoupled_weight_decay, differentiable=differentiable))

    def _init_state(self, group, p, state) -> None:
        state["step"] = tensor(0.0)
        state["exp_avg"] = zeros_like(p)
        state["exp_avg_sq"] = zeros_like(p)

    def _update(self, group, p, state) -> None:
        if not state:
            self._init_state(group, p, state)
        grad = -p._grad if group["maximize"] else p._grad
        lr, (beta1, beta2), eps, wd = self._lr(group), group["betas"], group["eps"], group["weight_decay"]
        step_t = state["step"]
        step_t.add_(1)
        step = step_value(step_t)
        if wd != 0:
            if group["decoupled_weight_decay"]:
                p.mul_(1 - lr * wd)
            else:
                grad = grad.add(p, alpha=wd)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        bias_corrected_exp_avg = exp_avg / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2

        def rect(rho):
            return ((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho)) ** 0.5

        def adaptive_lr():
            return (bias_correction2 ** 0.5) / exp_avg_sq.sqrt().add(eps)

        plain = bias_corrected_exp_avg * lr
        if tracing.current() is None:
            p.sub_(plain * adaptive_lr() * rect(rho_t) if rho_t > 5.0 else plain)  # = add_(..., alpha=-1.0)
        else:
            rectified = rho_t > 5.0
            safe_rho = where(rectified, rho_t, 6.0)  # no NaN from the branch not taken
            p.sub_(where(rectified, plain * adaptive_lr() * rect(safe_rho), plain))
