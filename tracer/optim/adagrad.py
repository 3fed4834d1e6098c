"""Adagrad (torch's single-tensor algorithm: lr_decay, weight decay, initial accumulator, maximize).

As in torch, the state (``step`` and ``sum``) is created for every parameter by the
constructor, not lazily by the first step."""
from __future__ import annotations

from tracer.core.errors import err
from tracer.core.watch import WatchedDict
from tracer.ops.creation import full_like, tensor
from tracer.optim.optimizer import Optimizer, check_implementation, step_value


class Adagrad(Optimizer):
    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None):
        if not 0.0 <= lr:
            raise err(ValueError, f"Invalid learning rate: {lr}")
        if not 0.0 <= lr_decay:
            raise err(ValueError, f"Invalid lr_decay value: {lr_decay}")
        if not 0.0 <= weight_decay:
            raise err(ValueError, f"Invalid weight_decay value: {weight_decay}")
        if not 0.0 <= initial_accumulator_value:
            raise err(ValueError, f"Invalid initial_accumulator_value value: {initial_accumulator_value}")
        if not 0.0 <= eps:
            raise err(ValueError, f"Invalid epsilon value: {eps}")
        if fused and differentiable:
            raise err(RuntimeError, "`fused` does not support `differentiable`")
        check_implementation("Adagrad", foreach, False, differentiable, fused)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable, fused=fused))
        for group in self.param_groups:
            for p in group["params"]:
                self.state[p] = self._new_state(group, p)

    def _new_state(self, group, p):
        state = WatchedDict(self._watchers)
        self._init_state(group, p, state)
        return state

    def _init_state(self, group, p, state) -> None:
        state["step"] = tensor(0.0)
        state["sum"] = full_like(p, group["initial_accumulator_value"])

    def _update(self, group, p, state) -> None:
        if not state:
            self._init_state(group, p, state)
        grad = self._gradient(group, p)
        step_t = state["step"]
        step_t.add_(1)
        clr = self._lr(group) / (1 + (step_value(step_t) - 1) * group["lr_decay"])
        state_sum = state["sum"]
        state_sum.addcmul_(grad, grad, value=1)
        std = state_sum.sqrt().add(group["eps"])
        p.sub_(grad * clr / std)  # = addcdiv_(grad, std, value=-clr): (clr grad) / std
