"""Adam and AdamW (torch's single-tensor algorithm, ``amsgrad`` included).

The step count is a float32 tensor (torch's ``state["step"]``), and the bias corrections are
computed from it in double precision as torch computes them in Python: a Python float eagerly,
float64 graph ops in a trace (the step count is graph state, so a traced step stays exact)."""
from __future__ import annotations

from tracer.core.errors import err
from tracer.ops.creation import tensor, zeros_like
from tracer.ops.elementwise import maximum
from tracer.optim import array_updates
from tracer.optim.optimizer import Optimizer, bias_correction, check_implementation


def matches_state(p, state) -> bool:
    """Adam's state tensors fit ``p`` and its step count is a 0-d float, as ``_init_state`` makes them."""
    moments = [state["exp_avg"], state["exp_avg_sq"]] + ([state["max_exp_avg_sq"]] if "max_exp_avg_sq" in state else [])
    step = state["step"]
    return array_updates.matches(p, *moments) and step._type.shape == () and step._type.dtype.is_floating_point


class Adam(Optimizer):
    FED = ("lr", "beta1")

    _decoupled = False

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 *, maximize=False, foreach=None, capturable=False, differentiable=False, fused=None):
        if lr < 0.0:
            raise err(ValueError, f"Invalid learning rate: {lr}")
        if eps < 0.0:
            raise err(ValueError, f"Invalid epsilon value: {eps}")
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise err(ValueError, f"Invalid beta parameter at index {i}: {b}")
        if weight_decay < 0.0:
            raise err(ValueError, f"Invalid weight_decay value: {weight_decay}")
        check_implementation(type(self).__name__, foreach, capturable, differentiable, fused)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize, foreach=foreach))

    def _init_state(self, group, p, state) -> None:
        state["step"] = tensor(0.0)
        state["exp_avg"] = zeros_like(p)
        state["exp_avg_sq"] = zeros_like(p)
        if group["amsgrad"]:
            state["max_exp_avg_sq"] = zeros_like(p)

    def _update(self, group, p, state) -> None:
        if not state:
            self._init_state(group, p, state)
        lr, (beta1, beta2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if (group.get("foreach") is not False and array_updates.usable(p, lr, beta1, beta2, eps, wd)
                and matches_state(p, state)):
            array_updates.adam(p, state, lr, beta1, beta2, eps, wd, group["amsgrad"], group["maximize"], self._decoupled)
            return
        grad = -p._grad if group["maximize"] else p._grad
        lr, (_, beta2), eps, wd = self._lr(group), group["betas"], group["eps"], group["weight_decay"]
        beta1 = self._fed(group, "beta1")  # a float64 input while compiled: OneCycleLR cycles it
        step = state["step"]
        step.add_(1)
        if wd and self._decoupled:
            p.mul_(1 - lr * wd)
        elif wd:
            grad = grad.add(p, alpha=wd)
        exp_avg, exp_avg_sq = state["exp_avg"], state["exp_avg_sq"]
        exp_avg.lerp_(grad, 1 - beta1)
        exp_avg_sq.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        step_size = lr / bias_correction(beta1, step)
        bias_correction2_sqrt = bias_correction(beta2, step) ** 0.5
        second = exp_avg_sq
        if group["amsgrad"]:
            state["max_exp_avg_sq"].copy_(maximum(state["max_exp_avg_sq"], exp_avg_sq))
            second = state["max_exp_avg_sq"]
        denom = (second.sqrt() / bias_correction2_sqrt).add(eps)
        p.sub_(exp_avg * step_size / denom)  # = addcdiv_(exp_avg, denom, value=-step_size), in its order


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.01), as torch.optim.AdamW."""

    _decoupled = True

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, **kw):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, **kw)
