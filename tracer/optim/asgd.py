"""ASGD, averaged SGD (torch's single-tensor algorithm).

``eta`` and ``mu`` are 0-d state tensors (float32) that torch recomputes from the step count
in double precision each step; so do we (float64 graph values inside a trace). torch copies
the parameter into ``ax`` while ``mu == 1`` and averages after; a ``where`` chooses the same
value inside a trace."""
from __future__ import annotations

from tracer.core import tracing
from tracer.core.errors import err
from tracer.ops.creation import tensor, zeros_like
from tracer.ops.elementwise import where
from tracer.optim.optimizer import Optimizer, check_implementation, scalar_value, step_value


class ASGD(Optimizer):
    def __init__(self, params, lr=1e-2, lambd=1e-4, alpha=0.75, t0=1e6, weight_decay=0, foreach=None,
                 maximize=False, differentiable=False, capturable=False):
        if not 0.0 <= lr:
            raise err(ValueError, f"Invalid learning rate: {lr}")
        if not 0.0 <= weight_decay:
            raise err(ValueError, f"Invalid weight_decay value: {weight_decay}")
        check_implementation("ASGD", foreach, capturable, differentiable)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0, weight_decay=weight_decay,
                                      foreach=foreach, maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _init_state(self, group, p, state) -> None:
        state["step"] = tensor(0.0)
        state["eta"] = tensor(float(group["lr"]))
        state["mu"] = tensor(1.0)
        state["ax"] = zeros_like(p)

    def _update(self, group, p, state) -> None:
        if not state:
            self._init_state(group, p, state)
        grad = self._gradient(group, p)
        lr, lambd, alpha, t0 = self._lr(group), group["lambd"], group["alpha"], group["t0"]
        step_t, eta, mu, ax = state["step"], state["eta"], state["mu"], state["ax"]
        step_t.add_(1)
        eta_value = scalar_value(eta)
        p.mul_(1 - lambd * eta_value)  # decay term
        p.sub_(grad * eta_value)  # = add_(grad, alpha=-eta)
        if tracing.current() is None:
            if mu.item() != 1:
                ax.add_(p.sub(ax).mul_(mu))
            else:
                ax.copy_(p)
        else:
            ax.copy_(where(mu.eq(1), p, ax.add(p.sub(ax).mul_(mu))))
        step = step_value(step_t)
        eta.copy_(tensor(lr / ((1 + lambd * lr * step) ** alpha)) if tracing.current() is None
                  else lr / ((1 + lambd * lr * step) ** alpha))
        mu.copy_(tensor(1 / max(1, step - t0)) if tracing.current() is None else 1 / (step - t0).clamp(min=1))
