"""NAdam (torch's single-tensor algorithm: momentum_decay, decoupled_weight_decay).

``mu_product`` is a float32 0-d tensor as in torch (``mu_product *= mu`` rounds to float32
each step); the momentum coefficients mu and mu_next are computed from the step count in
double precision as torch does in Python: floats eagerly, float64 graph values in a trace."""
from __future__ import annotations

from tracer.core import tracing
from tracer.core.errors import err
from tracer.ops.creation import tensor, zeros_like
from tracer.optim.optimizer import Optimizer, check_adam_family, check_implementation, scalar_value, step_value


class NAdam(Optimizer):
    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, momentum_decay=4e-3,
                 decoupled_weight_decay=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False):
        check_adam_family(lr, eps, betas, weight_decay)
        if not 0.0 <= momentum_decay:
            raise err(ValueError, f"Invalid momentum_decay value: {momentum_decay}")
        check_implementation("NAdam", foreach, capturable, differentiable)
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable))

    def _init_state(self, group, p, state) -> None:
        state["step"] = tensor(0.0)
        state["mu_product"] = tensor(1.0)
        state["exp_avg"] = zeros_like(p)
        state["exp_avg_sq"] = zeros_like(p)

    def _update(self, group, p, state) -> None:
        if not state:
            self._init_state(group, p, state)
        grad = -p._grad if group["maximize"] else p._grad
        lr, (beta1, beta2), wd = self._lr(group), group["betas"], group["weight_decay"]
        momentum_decay = group["momentum_decay"]
        step_t, mu_product = state["step"], state["mu_product"]
        step_t.add_(1)
        step = step_value(step_t)
        bias_correction2 = 1 - beta2 ** step
        if wd != 0:
            if group["decoupled_weight_decay"]:
                p.mul_(1 - lr * wd)
            else:
                grad = grad.add(p, alpha=wd)
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
        # float32 *= float: the factor is rounded to float32 first, in a trace as eagerly
        mu_product.mul_(mu if tracing.current() is None else mu.to(mu_product.dtype))
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        denom = exp_avg_sq.div(bias_correction2).sqrt()
        mu_product_value = scalar_value(mu_product)
        mu_product_next = mu_product_value * mu_next
        denom = denom.add(group["eps"])
        # = addcdiv_(grad, denom, value=-lr (1 - mu) / (1 - mu_product)), then the same for exp_avg
        p.add_(grad * (-lr * (1.0 - mu) / (1.0 - mu_product_value)) / denom)
        p.add_(exp_avg * ((-lr * mu_next) / (1.0 - mu_product_next)) / denom)
